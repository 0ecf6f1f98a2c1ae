"""Invariants of the right Cauchy-Green tensor written as functions of the Green-Lagrange strain.

Helpers for writing energies in a few lines: every function takes ``E`` (...,3,3) and returns
(...) tensors, closed form and twice differentiable. ``C = I + 2E``.

Reference: Holzapfel (2000), Nonlinear Solid Mechanics, sec. 6.4-6.5.
"""

from __future__ import annotations

import torch

from .tensors import det, identity_like, invariants, trace


def right_cauchy_green_from_E(E: torch.Tensor) -> torch.Tensor:
    """``C = I + 2E``."""
    return identity_like(E) + 2.0 * E


def I1(E: torch.Tensor) -> torch.Tensor:
    """``I1 = tr C = 3 + 2 tr E``."""
    return 3.0 + 2.0 * trace(E)


def I2(E: torch.Tensor) -> torch.Tensor:
    """``I2 = (I1^2 - tr C^2) / 2``."""
    return invariants(right_cauchy_green_from_E(E))[1]


def I3(E: torch.Tensor) -> torch.Tensor:
    """``I3 = det C = J^2``."""
    return det(right_cauchy_green_from_E(E))


def volume_ratio(E: torch.Tensor) -> torch.Tensor:
    """``J = det F = sqrt(det C)``, the volume ratio."""
    return torch.sqrt(I3(E))


def log_volume_ratio(E: torch.Tensor) -> torch.Tensor:
    """``ln J = ln(det C) / 2``."""
    return 0.5 * torch.log(I3(E))


def isochoric_I1(E: torch.Tensor) -> torch.Tensor:
    """``I1b = J^{-2/3} I1``."""
    return I1(E) * I3(E) ** (-1.0 / 3.0)


def isochoric_I2(E: torch.Tensor) -> torch.Tensor:
    """``I2b = J^{-4/3} I2``."""
    return I2(E) * I3(E) ** (-2.0 / 3.0)
