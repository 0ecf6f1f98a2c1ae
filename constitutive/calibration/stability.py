"""Drucker-type stability check of a fitted isotropic model in principal-stretch space.

Drucker's condition ``d(sigma) : d(eps) > 0`` with the Cauchy stress and logarithmic strain
(as used by Abaqus for hyperelastic fits) is checked on principal deformations
``F = diag(exp eps)``:

* compressible: the symmetric part of ``D_ij = d sigma_i / d eps_j`` (3x3) is positive definite;
* incompressible: ``eps_3 = -eps_1 - eps_2`` and the pressure is arbitrary, so the 2x2 matrix
  ``D_ij = d (sigma_i - sigma_3) / d eps_j`` (i, j = 1, 2) must be positive definite.

Derivatives by autograd through the stress (exact). Reference: Abaqus Analysis User's Guide,
sec. "Hyperelastic behavior of rubberlike materials" (material stability); Drucker (1959).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from constitutive.tensors import det

from . import driver, loadpaths

ROUNDOFF = 1e-12


def drucker_eigenvalues(material, principal_stretches) -> np.ndarray:
    """Smallest eigenvalue of the symmetric Drucker matrix at principal stretches (N,3) -> (N,).

    For incompressible models only the first two stretches are used (``l3 = 1/(l1 l2)``).
    Points where the model cannot be evaluated (it raises ``ValueError``, e.g. beyond a
    locking stretch) or gives non-finite stress get ``-inf``. An eigenvalue smaller in magnitude
    than ``ROUNDOFF`` times the largest is not resolved in float64 (e.g. one-term Ogden with
    ``|alpha| ~ 20``) and is reported as 0 (neutral, not a violation).
    """
    lam = np.asarray(principal_stretches, dtype=np.float64)
    try:
        return _drucker(material, lam)
    except ValueError:
        if lam.shape[0] == 1:
            return np.array([-np.inf])
        half = lam.shape[0] // 2
        return np.concatenate([drucker_eigenvalues(material, lam[:half]),
                               drucker_eigenvalues(material, lam[half:])])


def _drucker(material, principal_stretches) -> np.ndarray:
    lam = torch.as_tensor(np.asarray(principal_stretches, dtype=np.float64), dtype=material.dtype,
                          device=material.device)
    incomp = bool(getattr(material, "incompressible", False))
    with torch.enable_grad():
        eps = lam.log()[:, : 2 if incomp else 3].clone().requires_grad_(True)
        full = torch.cat([eps, -eps.sum(-1, keepdim=True)], -1) if incomp else eps
        F = torch.diag_embed(full.exp())
        S = material.pk2(F, create_graph=True)
        sig = F @ S @ F.transpose(-1, -2) / det(F)[:, None, None]
        s = torch.diagonal(sig, dim1=-2, dim2=-1)
        s = s[:, :2] - s[:, 2:3] if incomp else s
        rows = []
        for i in range(s.shape[1]):
            (g,) = torch.autograd.grad(s[:, i].sum(), eps, retain_graph=True)
            rows.append(g)
        D = torch.stack(rows, 1).detach()
    Dsym = 0.5 * (D + D.transpose(-1, -2))
    ok = torch.isfinite(Dsym).all(-1).all(-1)
    eye = torch.eye(Dsym.shape[-1], dtype=Dsym.dtype, device=Dsym.device)
    evs = torch.linalg.eigvalsh(torch.where(ok[:, None, None], Dsym, eye))
    ev, top = evs[:, 0], evs[:, -1].abs()
    ev = torch.where(ev.abs() <= ROUNDOFF * top, torch.zeros_like(ev), ev)  # below float64 resolution
    ev = torch.where(ok, ev, torch.full_like(ev, -math.inf))
    return ev.cpu().numpy()


def _principal_from_F(F: np.ndarray) -> np.ndarray:
    C = np.einsum("nki,nkj->nij", F, F)
    lam = np.sqrt(np.linalg.eigvalsh(C))[:, ::-1]
    return lam


def _mode_stretches(mode: str, lam: np.ndarray) -> np.ndarray:
    one = np.ones_like(lam)
    if mode == "uniaxial":
        return np.stack([lam, lam**-0.5, lam**-0.5], -1)
    if mode == "equibiaxial":
        return np.stack([lam, lam, lam**-2], -1)
    return np.stack([lam, one, 1 / lam], -1)


def check_stability(material, experiments, solutions=None, stretch_range=None, n: int = 60) -> dict:
    """Drucker stability along the fitted paths and over a wider stretch range.

    Parameters
    ----------
    material : fitted model
    experiments : the fitted experiments (their solved ``F`` are used where ``solutions``,
        a list of (n,3,3) arrays, is given; else the incompressible principal stretches)
    stretch_range : (lo, hi) of the wider check in uniaxial, equibiaxial and pure-shear
        tension and compression (traction-free lateral faces: for compressible models the
        driver's lateral stretches); default ``(1/l_w, l_w)`` with
        ``l_w = max(1.25 l_max, l_max + 0.5)`` and ``l_max`` the largest stretch in the data.

    Returns
    -------
    dict with ``stable_on_data``, ``stable_in_range``, ``range``, ``first_unstable``
    (mode -> stretch nearest 1 where the condition fails), ``undefined_from`` (mode -> stretch
    nearest 1 where the model cannot be evaluated, e.g. beyond a locking stretch; reported, not
    counted as a Drucker violation) and ``min_eigenvalue``.
    """
    lmax = max(e.max_stretch() for e in experiments)
    lo, hi = stretch_range or (1 / max(1.25 * lmax, lmax + 0.5), max(1.25 * lmax, lmax + 0.5))
    lam_data = []
    for k, e in enumerate(experiments):
        if solutions is not None:
            lam_data.append(_principal_from_F(np.asarray(solutions[k])))
        elif e.mode in ("uniaxial", "equibiaxial", "pure_shear"):
            lam_data.append(_mode_stretches(e.mode, e.stretch))
    on_data = drucker_eigenvalues(material, np.concatenate(lam_data)) if lam_data else np.ones(1)
    first, undefined, mins = {}, {}, [float(on_data.min())]
    grid = np.unique(np.concatenate([np.geomspace(lo, 1.0, n), np.geomspace(1.0, hi, n)]))
    grid = grid[np.abs(grid - 1.0) > 1e-12]
    for mode in ("uniaxial", "equibiaxial", "pure_shear"):
        ev = drucker_eigenvalues(material, _path_stretches(material, mode, grid))
        fin = np.isfinite(ev)
        if fin.any():
            mins.append(float(ev[fin].min()))
        for store, bad in ((first, grid[fin & (ev < 0)]), (undefined, grid[~fin])):
            if bad.size:
                store[mode] = float(bad[np.argmin(np.abs(np.log(bad)))])
    return {
        "stable_on_data": bool((on_data >= 0).all()),
        "stable_in_range": not first,
        "range": [float(lo), float(hi)],
        "first_unstable": first,
        "undefined_from": undefined,
        "min_eigenvalue": float(min(mins)),
    }


def _path_stretches(material, mode: str, grid: np.ndarray) -> np.ndarray:
    """Principal stretches reached along a traction-free test path (driver solution; the
    isochoric kinematics where the driver cannot solve, e.g. beyond a locking stretch)."""
    lam = _mode_stretches(mode, grid)
    if getattr(material, "incompressible", False):
        return lam
    try:
        res = driver.solve(material, loadpaths.load_path(mode, grid, dtype=material.dtype))
    except ValueError:
        return lam
    diag = torch.diagonal(res.F, dim1=-2, dim2=-1).detach().cpu().numpy()
    ok = res.converged.cpu().numpy() & (diag > 0).all(-1)
    lam[ok] = diag[ok]
    return lam


def solved_F(problem, x) -> list[np.ndarray]:
    """Solved deformation gradients of every experiment of a problem at ``x``."""
    mat, _ = problem.space.material(x)
    return [driver.solve(mat, p).F.detach().cpu().numpy() for p in problem.paths]
