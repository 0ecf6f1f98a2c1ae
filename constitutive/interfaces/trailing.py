"""Material evaluation on tensors with trailing point axes, ``F[i, J, *points]`` (NumPy)."""

from __future__ import annotations

import numpy as np
import torch

from constitutive import kinematics as kin
from constitutive.hyperelastic import Hyperelastic


def _batch_first(F: np.ndarray, name: str = "F") -> torch.Tensor:
    F = np.asarray(F)
    if F.ndim < 2 or F.shape[:2] != (3, 3):
        raise ValueError(f"{name}: expected shape (3, 3, ...) with trailing point axes, got {F.shape}")
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(F, (0, 1), (-2, -1)), dtype=np.float64))


def _trailing(t: torch.Tensor, ntensor: int) -> np.ndarray:
    a = t.detach().cpu().numpy()
    nb = a.ndim - ntensor
    return np.ascontiguousarray(np.moveaxis(a, tuple(range(nb, a.ndim)), tuple(range(ntensor))))


def energy_trailing(material: Hyperelastic, F: np.ndarray) -> np.ndarray:
    """Strain energy ``W`` per unit reference volume; F (3, 3, ...) -> (...)."""
    Fb = material.as_deformation_gradient(_batch_first(F))
    return material.energy_mandel(kin.strain_mandel_from_F(Fb)).detach().cpu().numpy()


def pk1_trailing(material: Hyperelastic, F: np.ndarray) -> np.ndarray:
    """First Piola-Kirchhoff stress ``P_iJ = dW/dF_iJ``; F (3, 3, ...) -> P (3, 3, ...)."""
    return _trailing(material.pk1(_batch_first(F)), 2)


def pk1_tangent_trailing(material: Hyperelastic, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P`` (3, 3, ...) and ``A[i, J, k, L, ...] = dP_iJ / dF_kL`` (3, 3, 3, 3, ...)."""
    P, A = material.pk1_tangent(_batch_first(F))
    return _trailing(P, 2), _trailing(A, 4)
