"""Material-point driver: homogeneous deformation under mixed deformation/stress control.

Some components of ``F`` are prescribed, the nominal-stress (1st Piola-Kirchhoff) components
conjugate to the others are prescribed (usually zero, traction-free faces), and the free
components of ``F`` are solved by Newton's method with the engine's tangent ``A = dP/dF``,
all points of a load path at once (batched).

Incompressible models (``material.incompressible``) give ``W_iso``; the driver adds the pressure
term, ``S = S_iso - p J C^-1`` i.e. ``P = P_iso - p cof F`` with ``cof F = J F^-T``, and
solves for ``p`` together with the free stretches under the constraint ``det F = 1``. If no
component of ``F`` is free (simple shear, general ``F``), ``F`` must be isochoric and ``p``
follows from the traction condition on one component (``pressure_component``, default 33).

Unknowns per point ``z = [F_free..., p]``; residual ``R = [P_free - P_target, det F - 1]``.
Newton Jacobian ``dR/dz`` from ``A_iJkL = dP_iJ/dF_kL`` plus, for the pressure term,
``d(cof F)_iJ / dF_kL = (cof_iJ cof_kL - cof_iL cof_kJ) / J`` and ``d det F / dF = cof F``.

Reference: Holzapfel (2000), Nonlinear Solid Mechanics, sec. 6.3 (incompressible materials)
and sec. 7.5 (homogeneous deformations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from constitutive.tensors import cofactor, det

from .loadpaths import MEASURED, LoadPath, load_path


@dataclass
class DriverResult:
    """Solution along a load path: ``F``, nominal stress ``P``, pressure, convergence."""

    F: torch.Tensor
    P: torch.Tensor
    pressure: torch.Tensor | None
    z: torch.Tensor
    converged: torch.Tensor
    iterations: int
    residual: torch.Tensor = field(repr=False, default=None)
    K: torch.Tensor | None = field(repr=False, default=None)

    @property
    def cauchy(self) -> torch.Tensor:
        """Cauchy stress ``sigma = P F^T / det F``."""
        return self.P @ self.F.transpose(-1, -2) / det(self.F)[..., None, None]

    @property
    def stretches(self) -> torch.Tensor:
        """Diagonal of ``F`` (principal stretches for the diagonal modes), (n,3)."""
        return torch.diagonal(self.F, dim1=-2, dim2=-1)


# ------------------------------------------------------------------------------ residual
def n_unknowns(path: LoadPath, incompressible: bool) -> int:
    """Number of unknowns per point: free F components (+1 pressure if incompressible)."""
    return len(path.free) + int(incompressible)


def initial_unknowns(path: LoadPath, incompressible: bool) -> torch.Tensor:
    """Initial guess ``z0`` (n, q): current free F entries and zero pressure."""
    cols = [path.F[:, i, j] for i, j in path.free]
    if incompressible:
        cols.append(torch.zeros_like(path.F[:, 0, 0]))
    return torch.stack(cols, -1) if cols else path.F.new_zeros(path.F.shape[0], 0)


def assemble_F(path: LoadPath, z: torch.Tensor) -> torch.Tensor:
    """``F`` with the free components taken from ``z`` (differentiable in ``z``)."""
    if not path.free:
        return path.F
    mask = torch.ones(3, 3, dtype=path.F.dtype, device=path.F.device)
    F = path.F
    for i, j in path.free:
        mask[i, j] = 0.0
    F = F * mask
    for k, (i, j) in enumerate(path.free):
        unit = torch.zeros(3, 3, dtype=F.dtype, device=F.device)
        unit[i, j] = 1.0
        F = F + z[:, k, None, None] * unit
    return F


def _target(path: LoadPath, comps, like: torch.Tensor) -> torch.Tensor:
    if path.target is None:
        return like.new_zeros(like.shape[0], len(comps))
    t = torch.as_tensor(path.target, dtype=like.dtype, device=like.device).reshape(like.shape[0], -1)
    if t.shape[1] != len(comps):
        raise ValueError(f"target: expected {len(comps)} column(s), got {t.shape[1]}")
    return t


def stress_of(material, path: LoadPath, z: torch.Tensor, create_graph: bool = False):
    """Total nominal stress ``P`` (n,3,3), ``F`` and the residual ``R`` (n,q) at unknowns ``z``.

    With ``create_graph`` everything stays differentiable with respect to ``z`` and the
    material parameters (used for the exact fitting Jacobian).
    """
    incomp = bool(getattr(material, "incompressible", False))
    F = assemble_F(path, z)
    P = material.pk1(F, create_graph=create_graph)
    if incomp:
        P = P - z[:, -1, None, None] * cofactor(F)
    comps = path.stress_controlled(incomp)
    cols = [P[:, i, j] for i, j in comps]
    R = torch.stack(cols, -1) - _target(path, comps, P) if cols else P.new_zeros(P.shape[0], 0)
    if path.controlled is not None and path.free:
        strain = torch.stack([z[:, k] - path.F[:, i, j] for k, (i, j) in enumerate(path.free)], -1)
        R = torch.where(path.controlled, R, strain)
    if incomp and path.free:
        R = torch.cat([R, (det(F) - 1.0)[:, None]], -1)
    return P, F, R


def newton_matrix(material, path: LoadPath, z: torch.Tensor) -> torch.Tensor:
    """``dR/dz`` (n,q,q) from the engine tangent ``dP/dF`` and the pressure terms."""
    incomp = bool(getattr(material, "incompressible", False))
    F = assemble_F(path, z)
    _, A = material.pk1_tangent(F)
    cof = cofactor(F)
    comps = path.stress_controlled(incomp)
    n, q = z.shape
    K = z.new_zeros(n, q, q)
    if incomp:
        p = z[:, -1]
        J = det(F)
        dcof = (torch.einsum("nij,nkl->nijkl", cof, cof) - torch.einsum("nil,nkj->nijkl", cof, cof))
        A = A - (p / J)[:, None, None, None, None] * dcof
    for a, (i, j) in enumerate(comps):
        for b, (k, l) in enumerate(path.free):
            K[:, a, b] = A[:, i, j, k, l]
        if incomp:
            K[:, a, -1] = -cof[:, i, j]
    if incomp and path.free:
        for b, (k, l) in enumerate(path.free):
            K[:, -1, b] = cof[:, k, l]
    if path.controlled is not None and path.free:
        m = len(path.free)
        unit = torch.zeros(q, q, dtype=K.dtype, device=K.device)
        unit[:m, :m] = torch.eye(m, dtype=K.dtype, device=K.device)
        K[:, :m] = torch.where(path.controlled[..., None], K[:, :m], unit[:m])
    return K


def solve(material, path: LoadPath, rtol: float = 1e-11, max_iter: int = 40,
          z0: torch.Tensor | None = None, K0: torch.Tensor | None = None) -> DriverResult:
    """Solve the mixed-control problem at every point of ``path`` (batched Newton).

    Steps are damped so that free diagonal stretches stay positive (at most halved per step).
    A point converges when ``|R| <= rtol * scale`` (scale: the largest stress component at that
    point, or the batch) or the Newton step is below ``rtol`` relative to ``z``.

    ``z0``/``K0`` warm-start from a previous solution and its Newton matrix (as returned in
    ``result.z``/``result.K``, e.g. during fitting): ``K0`` is used as a chord matrix while the
    residual of every point falls at least fourfold per iteration, otherwise the engine's
    tangent is evaluated afresh.
    """
    incomp = bool(getattr(material, "incompressible", False))
    dtype = getattr(material, "dtype", torch.float64)
    device = getattr(material, "device", path.F.device)
    path.F = path.F.to(dtype=dtype, device=device)
    if path.target is not None:
        path.target = torch.as_tensor(path.target, dtype=dtype).to(device)
    if path.controlled is not None:
        path.controlled = path.controlled.to(device)
    z = initial_unknowns(path, incomp) if z0 is None else z0.clone()
    n, q = z.shape
    if incomp and not path.free:
        Jd = det(path.F)
        if bool(((Jd - 1).abs() > 1e-8).any()):
            raise ValueError("F: an incompressible model needs det F = 1 where no component is free")
    converged = torch.zeros(n, dtype=torch.bool, device=z.device)
    it = 0
    K = K0 if (K0 is not None and tuple(K0.shape) == (n, q, q)) else None
    prev = None
    diag_cols = [k for k, (i, j) in enumerate(path.free) if i == j]
    for it in range(max_iter + 1):
        P, F, R = stress_of(material, path, z)
        if q == 0:
            converged[:] = True
            break
        scale = P.abs().amax((-1, -2))
        scale = torch.maximum(scale, 1e-6 * scale.max().clamp_min(1e-300))
        res = R.abs().amax(-1)
        if incomp and path.free:
            res = torch.maximum(R[:, :-1].abs().amax(-1) / scale, R[:, -1].abs()) if q > 1 else R[:, -1].abs()
        else:
            res = res / scale
        converged = converged | (res <= rtol)
        if bool(converged.all()) or it == max_iter:
            break
        active = ~converged
        slow = prev is not None and bool((res[active] > 0.25 * prev[active]).any())
        fresh = K is None or K0 is None or slow
        if fresh:
            K = newton_matrix(material, path, z)
        prev = res
        dz = -torch.linalg.solve(K, R[..., None])[..., 0]
        alpha = torch.ones(n, dtype=z.dtype, device=z.device)
        for k in diag_cols:
            shrink = dz[:, k] < -0.5 * z[:, k]
            alpha = torch.where(shrink, torch.minimum(alpha, -0.5 * z[:, k] / dz[:, k]), alpha)
        step = alpha[:, None] * dz
        small = (step.abs() <= rtol * (1 + z.abs())).all(-1) & (alpha == 1) & fresh
        z = torch.where(converged[:, None], z, z + step)
        converged = converged | small
    return DriverResult(F=F, P=P, pressure=z[:, -1] if incomp else None, z=z,
                        converged=converged, iterations=it, residual=R, K=K)


def measured(result_P: torch.Tensor, F: torch.Tensor, mode: str, stress_measure: str) -> torch.Tensor:
    """The measured stress component(s) of a mode: (n,) or (n,2) or (n,3,3).

    ``stress_measure``: ``nominal`` (= ``pk1``), ``cauchy``, or for mode ``biaxial``
    ``cauchy_difference`` (``sigma11 - sigma22``, (n,)).
    """
    if stress_measure not in ("nominal", "pk1", "cauchy", "cauchy_difference"):
        raise ValueError(f"stress_measure: expected 'nominal', 'cauchy' or 'cauchy_difference', "
                         f"got {stress_measure!r}")
    S = result_P if stress_measure in ("nominal", "pk1") else result_P @ F.transpose(-1, -2) / det(F)[
        ..., None, None]
    if stress_measure == "cauchy_difference":
        if mode != "biaxial":
            raise ValueError(f"stress_measure 'cauchy_difference' needs mode 'biaxial', got {mode!r}")
        return S[:, 0, 0] - S[:, 1, 1]
    if mode == "general":
        return S
    comps = MEASURED[mode]
    cols = torch.stack([S[:, i, j] for i, j in comps], -1)
    return cols[:, 0] if len(comps) == 1 else cols


def predict(material, mode: str, control, stress_measure: str = "nominal", **kw) -> torch.Tensor:
    """Predicted measured stress of ``mode`` along ``control`` (stretch, shear or F).

    Example: ``predict(mat, "uniaxial", [1.1, 1.5, 2.0])`` gives the nominal stress P11 (n,).
    """
    res = solve(material, load_path(mode, control, dtype=getattr(material, "dtype", torch.float64), **kw))
    if not bool(res.converged.all()):
        bad = int((~res.converged).sum())
        raise ValueError(f"driver: Newton did not converge at {bad} point(s) of the {mode} path")
    return measured(res.P, res.F, mode, stress_measure)
