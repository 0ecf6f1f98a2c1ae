"""Isochoric (distortional) kinematics of the decoupled form, from the Green-Lagrange strain.

``C = I + 2E``, ``J = sqrt(det C)``, ``Cb = J^{-2/3} C`` (``det Cb = 1``),
``I1b = tr Cb = J^{-2/3} I1``, ``I2b = J^{-4/3} I2``, ``I4b(a) = a . Cb a = J^{-2/3} a . C a``.

Quantities are computed on first use and cached for one energy evaluation; all are closed-form
3x3 algebra (twice differentiable, batched). Reference: Flory (1961), Trans. Faraday Soc.
57:829; Holzapfel (2000), Nonlinear Solid Mechanics, sec. 6.4.
"""

from __future__ import annotations

from functools import cached_property

import torch

from constitutive.tensors import identity_like, invariants


class IsochoricKinematics:
    """Lazy container: ``k = IsochoricKinematics(E)``; then ``k.I1b``, ``k.I2b``, ``k.J``, ..."""

    def __init__(self, E: torch.Tensor):
        self.E = E

    @cached_property
    def C(self) -> torch.Tensor:
        """Right Cauchy-Green tensor (...,3,3)."""
        return identity_like(self.E) + 2.0 * self.E

    @cached_property
    def _inv(self):
        return invariants(self.C)

    @property
    def I1(self) -> torch.Tensor:
        """``I1 = tr C``."""
        return self._inv[0]

    @property
    def I2(self) -> torch.Tensor:
        """``I2 = (I1^2 - tr C^2) / 2``."""
        return self._inv[1]

    @property
    def I3(self) -> torch.Tensor:
        """``det C = J^2``."""
        return self._inv[2]

    @cached_property
    def J(self) -> torch.Tensor:
        return torch.sqrt(self.I3)

    @cached_property
    def Jm23(self) -> torch.Tensor:
        """``J^{-2/3} = I3^{-1/3}``."""
        return self.I3 ** (-1.0 / 3.0)

    @cached_property
    def I1b(self) -> torch.Tensor:
        return self.I1 * self.Jm23

    @cached_property
    def I2b(self) -> torch.Tensor:
        return self.I2 * self.Jm23 * self.Jm23

    @cached_property
    def Cb(self) -> torch.Tensor:
        """Isochoric right Cauchy-Green tensor ``J^{-2/3} C`` (...,3,3)."""
        return self.Jm23[..., None, None] * self.C

    def I4(self, a: torch.Tensor) -> torch.Tensor:
        """``a . C a`` for a unit vector ``a`` (3,), computed as ``1 + 2 a . E a`` so that it is
        exactly 1 at ``E = 0`` (no rounding of ``|a|^2`` can switch a fibre on)."""
        return 1.0 + 2.0 * torch.einsum("...ij,i,j->...", self.E, a, a)

    def I4b(self, a: torch.Tensor) -> torch.Tensor:
        """``a . Cb a = J^{-2/3} a . C a``."""
        return self.Jm23 * self.I4(a)
