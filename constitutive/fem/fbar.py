"""Variational F-bar formulation for near incompressibility (linear hexahedra).

The modified deformation gradient replaces the volumetric part of ``F`` at each quadrature
point by that at the element centre,

    Fbar = alpha F,   alpha = (J0 / J)^(1/3),   J = det F,  J0 = det F0,

and the stored energy ``Pi = sum_q W(Fbar) dV`` is differentiated exactly with respect to the
generalised strain ``z = (F, F0)`` (18 components per point): residual ``dPi/dz = L^T Pbar`` and
tangent

    H = L^T Abar L + alpha/3 (p g + g p) + (Pbar:F) [alpha/9 g g + alpha/3 (T(F) - T(F0))],

with ``L = dFbar/dz``, ``g = (-F^-T, F0^-T)``, ``p = (Pbar, 0)`` and
``T(F)_{iJ,kL} = F^-1_{Jk} F^-1_{Li}`` (second derivative of ln det). The tangent is
symmetric and consistent (tests check it against central differences of the residual).
Because ``det Fbar = J0``, there is a single volumetric constraint per element, which removes
volumetric locking. References: de Souza Neto et al. (1996), IJSS 33, 3277-3296; Elguedj et
al. (2008) for the variational (energy-based) variant.
"""

from __future__ import annotations

import torch


def fbar(F: torch.Tensor, F0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``Fbar`` (..., 3, 3) and ``alpha`` (...) from F and the centre value F0 (broadcastable)."""
    alpha = (torch.linalg.det(F0) / torch.linalg.det(F)) ** (1.0 / 3.0)
    return alpha[..., None, None] * F, alpha


def generalized_stress(F: torch.Tensor, F0: torch.Tensor, Pbar: torch.Tensor, alpha: torch.Tensor):
    """``dW/dz`` (..., 3, 6): columns 0-2 pair with grad N at the point, 3-5 with grad N at the
    element centre."""
    M = torch.linalg.inv(F).transpose(-1, -2)
    M0 = torch.linalg.inv(F0).transpose(-1, -2).expand_as(M)
    pf = (Pbar * F).sum((-1, -2))[..., None, None]
    a = alpha[..., None, None]
    return torch.cat([a * (Pbar - pf / 3.0 * M), a * pf / 3.0 * M0], dim=-1)


def generalized_tangent(F: torch.Tensor, F0: torch.Tensor, Pbar: torch.Tensor,
                        Abar: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """Hessian ``d2W/dz dz`` (..., 3, 6, 3, 6) of ``W(Fbar(F, F0))``."""
    batch = F.shape[:-2]
    Finv = torch.linalg.inv(F)
    F0inv = torch.linalg.inv(F0).expand_as(Finv)
    M, M0 = Finv.transpose(-1, -2), F0inv.transpose(-1, -2)
    a = alpha[..., None, None]
    eye = torch.eye(3, dtype=F.dtype, device=F.device)
    # L[..., i, J, k, L'] = dFbar_iJ / dz_kL'
    LF = a[..., None, None] * (eye[:, None, :, None] * eye[None, :, None, :]
                               - F[..., :, :, None, None] * M[..., None, None, :, :] / 3.0)
    LF0 = a[..., None, None] * F[..., :, :, None, None] * M0[..., None, None, :, :] / 3.0
    Lm = torch.cat([LF, LF0], dim=-1).reshape(*batch, 9, 18)
    H = Lm.transpose(-1, -2) @ Abar.reshape(*batch, 9, 9) @ Lm
    g = torch.cat([-M, M0], dim=-1).reshape(*batch, 18)
    p = torch.cat([Pbar, torch.zeros_like(Pbar)], dim=-1).reshape(*batch, 18)
    pf = (Pbar * F).sum((-1, -2))[..., None, None]
    al = alpha[..., None, None]
    H = H + al / 3.0 * (p[..., :, None] * g[..., None, :] + g[..., :, None] * p[..., None, :])
    H = H + pf * al / 9.0 * g[..., :, None] * g[..., None, :]
    T = torch.zeros(*batch, 3, 6, 3, 6, dtype=F.dtype, device=F.device)
    T[..., :, :3, :, :3] = torch.einsum("...jk,...li->...ijkl", Finv, Finv)
    T[..., :, 3:, :, 3:] = -torch.einsum("...jk,...li->...ijkl", F0inv, F0inv)
    H = H + pf * al / 3.0 * T.reshape(*batch, 18, 18)
    return H.reshape(*batch, 3, 6, 3, 6)
