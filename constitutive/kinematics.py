"""Kinematics, stress measures and tangent push-forwards (pure functions on batches).

Conventions (Holzapfel 2000, Nonlinear Solid Mechanics, ch. 2, 6):

* ``C = F^T F``, ``E = (C - I) / 2``, ``b = F F^T``, ``J = det F``;
* ``S = dW/dE`` (2nd Piola-Kirchhoff), ``P = F S`` (1st Piola-Kirchhoff, ``P_iJ``),
  ``tau = F S F^T`` (Kirchhoff), ``sigma = tau / J`` (Cauchy);
* material tangent ``CC_IJKL = d2W / dE_IJ dE_KL``;
* ``A_iJkL = dP_iJ / dF_kL = delta_ik S_JL + F_iI F_kK CC_IJKL`` (note ``CC_IJLK`` = ``CC_IJKL``);
* spatial tangent ``c_ijkl = J^-1 F_iI F_jJ F_kK F_lL CC_IJKL`` (Truesdell rate of tau over J);

Edge conventions (the Jaumann-rate tangent of Abaqus, Voigt orderings) are in
:mod:`constitutive.interfaces`.
"""

from __future__ import annotations

import torch

from . import mandel
from .tensors import det, identity_like


def right_cauchy_green(F: torch.Tensor) -> torch.Tensor:
    """``C = F^T F``; (...,3,3)."""
    return F.transpose(-1, -2) @ F


def left_cauchy_green(F: torch.Tensor) -> torch.Tensor:
    """``b = F F^T``; (...,3,3)."""
    return F @ F.transpose(-1, -2)


def green_lagrange(F: torch.Tensor) -> torch.Tensor:
    """``E = (F^T F - I) / 2``; (...,3,3)."""
    return 0.5 * (right_cauchy_green(F) - identity_like(F))


def strain_mandel_from_F(F: torch.Tensor) -> torch.Tensor:
    """Mandel vector of the Green-Lagrange strain, (...,6)."""
    return mandel.to_mandel(green_lagrange(F))


def pk1_from_pk2(F: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
    """``P = F S``."""
    return F @ S


def kirchhoff_from_pk2(F: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
    """``tau = F S F^T``."""
    return F @ S @ F.transpose(-1, -2)


def cauchy_from_pk2(F: torch.Tensor, S: torch.Tensor) -> torch.Tensor:
    """``sigma = F S F^T / det F``."""
    return kirchhoff_from_pk2(F, S) / det(F)[..., None, None]


def dPdF_from_material_tangent(F: torch.Tensor, S: torch.Tensor, CC: torch.Tensor) -> torch.Tensor:
    """``A_iJkL = dP_iJ/dF_kL = delta_ik S_JL + F_iI F_kN CC_IJLN``; (...,3,3,3,3).

    Derivation: ``dS_IJ/dF_kL = CC_IJMN dE_MN/dF_kL = CC_IJLN F_kN`` by the minor symmetry.
    """
    I = identity_like(F)
    geo = I[:, None, :, None] * S[..., None, :, None, :]
    FC = torch.einsum("...iI,...IJLN->...iJLN", F, CC)
    mat = torch.einsum("...iJLN,...kN->...iJkL", FC, F)
    return geo + mat


def push_forward4(F: torch.Tensor, CC: torch.Tensor) -> torch.Tensor:
    """``F_iI F_jJ F_kK F_lL CC_IJKL`` (no 1/J); (...,3,3,3,3)."""
    out = torch.einsum("...iI,...IJKL->...iJKL", F, CC)
    out = torch.einsum("...jJ,...iJKL->...ijKL", F, out)
    out = torch.einsum("...kK,...ijKL->...ijkL", F, out)
    return torch.einsum("...lL,...ijkL->...ijkl", F, out)


def spatial_tangent(F: torch.Tensor, CC: torch.Tensor) -> torch.Tensor:
    """Spatial elasticity tensor ``c = J^-1 (F F F F) : CC``; (...,3,3,3,3)."""
    return push_forward4(F, CC) / det(F)[..., None, None, None, None]
