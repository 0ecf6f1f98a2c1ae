"""F-bar (mean-dilatation) formulation for near incompressibility on linear hexahedra.

The volumetric part of ``F`` at every quadrature point is replaced by the element's mean
dilatation ``Jbar = v / V`` (current over reference element volume):

    Fbar = alpha F,   alpha = (Jbar / J)^(1/3),   theta = ln Jbar = ln(sum_q J_q dV_q / V),

and the element energy ``Pi_e = sum_q W(Fbar_q) dV_q`` is differentiated exactly. With
``M = F^-T``, ``pf = Pbar : F``, generalised strains ``(F_q, theta)`` and
``L = dFbar/d(F, theta) = [alpha (I - F (x) M / 3), alpha F / 3]``:

* residual  ``f = sum_q dV alpha (Pbar - pf M / 3) : grad N + s b``, with
  ``s = dPi/dtheta = sum_q dV alpha pf / 3`` and ``b = dtheta/du = sum_q dV J M grad N / v``;
* tangent   ``K = sum_q dV gradN : [H_FF + s J / v (M (x) M - T)] : gradN
  + c (x) b + b (x) c + (h - s) b (x) b``, where ``H`` is the Hessian of ``W(Fbar(F, theta))``,
  ``c = sum_q dV H_Ftheta gradN``, ``h = sum_q dV H_thetatheta`` and
  ``T_iJkL = F^-1_Jk F^-1_Li`` (second derivative of ln det F).

A homogeneous deformation gives ``Fbar = F`` and an exactly vanishing residual on any mesh
(patch test); the tangent is symmetric and consistent (tests check central differences).
Equivalent to the Q1/P0 mixed element for hyperelasticity. References: Simo, Taylor & Pister
(1985), CMAME 51, 177-208; de Souza Neto et al. (1996), IJSS 33, 3277-3296.
"""

from __future__ import annotations

import torch


def mean_dilatation(F: torch.Tensor, dV: torch.Tensor):
    """``Fbar`` (ne, nq, 3, 3), ``alpha`` (ne, nq), ``J`` (ne, nq), ``v`` (ne) from F (ne, nq, 3, 3)."""
    J = torch.linalg.det(F)
    v = (J * dV).sum(dim=1)
    alpha = ((v / dV.sum(dim=1))[:, None] / J) ** (1.0 / 3.0)
    return alpha[..., None, None] * F, alpha, J, v


def _common(F, Pbar, alpha):
    M = torch.linalg.inv(F).transpose(-1, -2)
    pf = (Pbar * F).sum((-1, -2))
    return M, pf, alpha


def residual(F, Pbar, alpha, J, v, dN, dV):
    """Element forces (ne, nen, 3)."""
    M, pf, a = _common(F, Pbar, alpha)
    Q = a[..., None, None] * (Pbar - pf[..., None, None] / 3.0 * M)
    s = (dV * a * pf).sum(dim=1) / 3.0
    b = torch.einsum("eq,eqij,eqaj->eai", dV * J / v[:, None], M, dN)
    return torch.einsum("eqij,eqaj->eai", Q * dV[..., None, None], dN) + s[:, None, None] * b


def tangent_parts(F, Pbar, Abar, alpha, J, v, dN, dV):
    """Effective point tangent ``A_eff`` (ne, nq, 3, 3, 3, 3) for :func:`element_stiffness` and
    the rank-two element correction (ne, nen, 3, 3, nen) in the ``(a, i, k, b)`` layout."""
    M, pf, a = _common(F, Pbar, alpha)
    ne, nq = F.shape[:2]
    eye = torch.eye(3, dtype=F.dtype, device=F.device)
    I4 = (eye[:, None, :, None] * eye[None, :, None, :]).reshape(9, 9)
    Fv, Mv, Pv = F.reshape(ne, nq, 9), M.reshape(ne, nq, 9), Pbar.reshape(ne, nq, 9)
    A9 = Abar.reshape(ne, nq, 9, 9)
    LF = a[..., None, None] * (I4 - Fv[..., :, None] * Mv[..., None, :] / 3.0)  # (e,q,9,9)
    Lt = a[..., None] * Fv / 3.0
    ALF = A9 @ LF
    ALt = (A9 @ Lt[..., None])[..., 0]
    T = torch.einsum("eqjk,eqli->eqijkl", torch.linalg.inv(F), torch.linalg.inv(F)).reshape(ne, nq, 9, 9)
    MM = Mv[..., :, None] * Mv[..., None, :]
    an, pn = a[..., None, None], pf[..., None, None]
    H_FF = (LF.transpose(-1, -2) @ ALF - an / 3.0 * (Pv[..., :, None] * Mv[..., None, :]
                                                   + Mv[..., :, None] * Pv[..., None, :])
            + pn * an / 9.0 * MM + pn * an / 3.0 * T)
    H_Ft = (LF.transpose(-1, -2) @ ALt[..., None])[..., 0] + a[..., None] / 3.0 * Pv \
        - (pf * a)[..., None] / 9.0 * Mv
    H_tt = (Lt * ALt).sum(-1) + pf * a / 9.0
    s = (dV * a * pf).sum(dim=1) / 3.0
    w = (s[:, None] * J / v[:, None])[..., None, None]
    A_eff = (H_FF + w * (MM - T)).reshape(ne, nq, 3, 3, 3, 3)
    b = torch.einsum("eq,eqij,eqaj->eai", dV * J / v[:, None], M, dN)
    c = torch.einsum("eq,eqij,eqaj->eai", dV, H_Ft.reshape(ne, nq, 3, 3), dN)
    gamma = (dV * H_tt).sum(dim=1) - s
    R = (torch.einsum("eai,ebk->eaikb", c, b) + torch.einsum("eai,ebk->eaikb", b, c)
         + gamma[:, None, None, None, None] * torch.einsum("eai,ebk->eaikb", b, b))
    return A_eff, R
