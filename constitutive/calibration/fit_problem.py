"""Residuals of a fit and their exact Jacobian with respect to the material parameters.

For each experiment the driver solves the mixed-control problem ``R(z, theta) = 0`` for the
unknowns ``z`` (free stretches, pressure) at every point; the prediction is ``y(z, theta)``
(measured stress components). The residual Jacobian is exact:

* ``dR/dz``, ``dy/dz`` (per point, block-diagonal): reverse passes of ``sum_points R_j``;
* ``dR/dtheta``, ``dy/dtheta``: the stress is itself a derivative of ``W`` (built with
  ``create_graph=True``); its Jacobian with respect to the few parameter leaves is taken column
  by column with the double-vector-Jacobian trick: ``g(u) = (dout/dtheta)^T u`` by one reverse
  pass with ``create_graph``, then ``d g_k / d u`` is column ``k``;
* implicit function theorem: ``dz/dtheta = -(dR/dz)^-1 dR/dtheta`` and
  ``dy/dtheta = dy/dtheta|_z + dy/dz dz/dtheta``.

Residual of point ``i``: ``r_i = sqrt(w_i) (y_i - d_i) / s_i`` with ``s_i = 1`` (absolute) or
``s_i = max(|d_i|, floor * max|d|)`` per experiment (relative).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from constitutive.tensors import det

from . import driver, loadpaths
from .experiments import Experiment

RELATIVE_FLOOR = 0.02


def experiment_path(exp: Experiment, dtype=torch.float64) -> loadpaths.LoadPath:
    """Driver load path of an experiment."""
    if exp.mode == "general":
        free = tuple((int(c[0]) - 1, int(c[1]) - 1) for c in exp.free)
        pc = (int(exp.pressure_component[0]) - 1, int(exp.pressure_component[1]) - 1)
        return loadpaths.general(exp.F, free=free, pressure_component=pc, dtype=dtype)
    return loadpaths.load_path(exp.mode, exp.control(), dtype=dtype)


def _grad(out, x, retain_graph=True):
    if not out.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(out, x, retain_graph=retain_graph, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


_DIFF, _ZERO = 18, 19  # output columns: sigma11 - sigma22, and the zero used for padding


def _selection(experiments: list[Experiment]) -> tuple[torch.Tensor, list[int]]:
    """Per point, indices into ``[P.flat (9), sigma.flat (9), sigma11 - sigma22, 0]`` of its
    measured components."""
    rows, ks = [], []
    for e in experiments:
        if e.stress_measure == "cauchy_difference":
            comps = [_DIFF]
        else:
            off = 9 if e.stress_measure == "cauchy" else 0
            comps = [off + 3 * i + j for i, j in loadpaths.MEASURED[e.mode]]
        ks.append(len(comps))
        rows += [comps] * e.n
    kmax = max(ks)
    idx = [r + [_ZERO] * (kmax - len(r)) for r in rows]
    return torch.tensor(idx, dtype=torch.long), ks


class _Group:
    """Experiments solved as one batch: a (concatenated) load path and the output selection."""

    def __init__(self, members: list[int], experiments: list[Experiment], dtype):
        self.members = members
        exps = [experiments[k] for k in members]
        paths = [experiment_path(e, dtype) for e in exps]
        self.path = paths[0] if len(paths) == 1 else loadpaths.concat(paths)
        self.idx, self.ks = _selection(exps)
        self.rows = np.cumsum([0] + [e.n for e in exps])
        self.cauchy = any(e.stress_measure in ("cauchy", "cauchy_difference") for e in exps)
        self.z = self.K = None

    def outputs(self, P: torch.Tensor, F: torch.Tensor) -> torch.Tensor:
        """Measured components of every point (N, kmax), zero-padded."""
        n = P.shape[0]
        sigma = (P @ F.transpose(-1, -2) / det(F)[:, None, None]).reshape(n, 9) if self.cauchy \
            else P.new_zeros(n, 9)
        cols = [P.reshape(n, 9), sigma, (sigma[:, 0] - sigma[:, 4])[:, None], P.new_zeros(n, 1)]
        return torch.gather(torch.cat(cols, -1), 1, self.idx.to(P.device))

    def split(self, y):
        """Per-member blocks (n_e, k_e) of a (N, kmax, ...) array."""
        return [y[self.rows[i]:self.rows[i + 1], : self.ks[i]] for i in range(len(self.members))]


class FitProblem:
    """Least-squares problem: experiments, units, weights and residual type.

    Experiments whose load paths have free components are solved together as one batch
    (:func:`constitutive.calibration.loadpaths.concat`); the others (fully prescribed ``F``) one by one.
    """

    def __init__(self, space, experiments: list[Experiment], units: str | None = None,
                 residual: str = "relative", weights: dict | None = None):
        if residual not in ("relative", "absolute"):
            raise ValueError(f"residual: expected 'relative' or 'absolute', got {residual!r}")
        if not experiments:
            raise ValueError("experiments: at least one experiment is needed")
        self.space, self.experiments, self.residual = space, list(experiments), residual
        self.units = units or experiments[0].units
        weights = weights or {}
        unknown = sorted(set(weights) - {e.name for e in experiments})
        if unknown:
            raise ValueError(f"weights: unknown experiment(s) {unknown}")
        dtype = space.base.dtype
        self.paths = [experiment_path(e, dtype) for e in experiments]
        batched = [k for k, p in enumerate(self.paths) if p.free]
        single = [[k] for k, p in enumerate(self.paths) if not p.free]
        self.groups = [_Group(m, self.experiments, dtype) for m in ([batched] if batched else []) + single]
        self.data, self.factor = [], []
        for e in experiments:
            d = e.stress_in(self.units).reshape(e.n, -1)
            w = e.weights() * float(weights.get(e.name, 1.0))
            s = np.ones_like(d)
            if residual == "relative":
                s = np.maximum(np.abs(d), RELATIVE_FLOOR * np.abs(d).max())
                s[s == 0] = 1.0  # an experiment of zero stresses: absolute residual
            self.data.append(d)
            self.factor.append(np.sqrt(w)[:, None] / s)
        self.n_solves = 0
        self._penalty = 1e6

    @property
    def n_residuals(self) -> int:
        """Number of residuals (measured components over all points)."""
        return sum(d.size for d in self.data)

    def _solve(self, mat, g: _Group) -> driver.DriverResult:
        res = driver.solve(mat, g.path, z0=g.z, K0=g.K)
        if not bool(res.converged.all()) and g.z is not None:
            res = driver.solve(mat, g.path)
        self.n_solves += 1
        if not bool(res.converged.all()):
            bad = int((~res.converged).sum())
            names = [self.experiments[k].name for k in g.members]
            raise FloatingPointError(f"driver did not converge at {bad} point(s) of {names}")
        g.z, g.K = res.z.detach(), res.K
        return res

    def predictions(self, x: np.ndarray) -> list[np.ndarray]:
        """Model predictions (n_e, k_e) of every experiment at parameters ``x``."""
        mat, _ = self.space.material(x)
        out = [None] * len(self.experiments)
        for g in self.groups:
            res = self._solve(mat, g)
            y = g.outputs(res.P, res.F).detach().cpu().numpy()
            for k, block in zip(g.members, g.split(y), strict=False):
                out[k] = block
        return out

    def residuals(self, x: np.ndarray) -> np.ndarray:
        """Residual vector; parameters the model rejects (``validate``) or where the driver
        fails give a large constant residual, so the optimiser rejects the step."""
        self.penalized = True
        try:
            preds = self.predictions(x)
        except (ValueError, FloatingPointError) as exc:
            self.last_error = str(exc)
            return np.full(self.n_residuals, self._penalty)
        parts = zip(preds, self.data, self.factor, strict=True)
        r = np.concatenate([((p - d) * f).ravel() for p, d, f in parts])
        if not np.isfinite(r).all():
            self.last_error = "non-finite model stress"
            return np.full(self.n_residuals, self._penalty)
        self.penalized = False
        self._penalty = max(getattr(self, "_penalty", 0.0), 1e3 * max(1.0, float(np.abs(r).max())))
        return r

    def residual_jacobian(self, x: np.ndarray) -> np.ndarray:
        """Exact ``dr/dx`` (N, P) by autograd and the implicit function theorem."""
        mat0, _ = self.space.material(x)
        mat, leaves = self.space.material(x, requires_grad=True)
        blocks = [None] * len(self.experiments)
        for g in self.groups:
            res = self._solve(mat0, g)
            dy = self._group_jacobian(mat, leaves, g, res.z)
            for k, block in zip(g.members, g.split(dy), strict=False):
                f = torch.as_tensor(self.factor[k], dtype=block.dtype, device=block.device)
                blocks[k] = (block * f[..., None]).reshape(-1, len(leaves))
        return torch.cat(blocks, 0).detach().cpu().numpy()

    @staticmethod
    def _group_jacobian(mat, leaves, g: _Group, z0: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            z = z0.detach().clone().requires_grad_(True)
            P, F, R = driver.stress_of(mat, g.path, z, create_graph=True)
            y = g.outputs(P, F)
            q = z.shape[1]
            out = torch.cat([R, y], -1)
            u = torch.zeros_like(out, requires_grad=True)
            gr = torch.autograd.grad(out, leaves, grad_outputs=u, create_graph=True, allow_unused=True)
            gr = [out.new_zeros(()) if gk is None else gk for gk in gr]
            dtheta = _batched_vjp(torch.stack(gr), u).permute(1, 2, 0)  # (n, q+m, P)
            if q == 0:
                return dtheta[:, q:]
            k = out.shape[1]
            seeds = torch.eye(k, dtype=out.dtype, device=out.device)[:, None, :].expand(k, out.shape[0], k)
            oz = _batched_vjp(out, z, seeds).permute(1, 0, 2)  # (n, q+m, q): d out_j / d z
        Rz, yz = oz[:, :q], oz[:, q:]
        dz = -torch.linalg.solve(Rz, dtheta[:, :q])
        return dtheta[:, q:] + yz @ dz


def _batched_vjp(out: torch.Tensor, x: torch.Tensor, seeds: torch.Tensor | None = None) -> torch.Tensor:
    """Vector-Jacobian products of ``out`` for each seed (default: the unit vectors of a 1-D
    ``out``), stacked on dim 0; one vmapped reverse pass, a loop if vmap cannot."""
    if seeds is None:
        seeds = torch.eye(out.shape[0], dtype=out.dtype, device=out.device)
    if not out.requires_grad:
        return torch.zeros((seeds.shape[0], *x.shape), dtype=x.dtype, device=x.device)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (g,) = torch.autograd.grad(out, x, grad_outputs=seeds, is_grads_batched=True,
                                       retain_graph=True, allow_unused=True)
    except RuntimeError:
        rows = [torch.autograd.grad(out, x, grad_outputs=s, retain_graph=True, allow_unused=True)[0]
                for s in seeds]
        rows = [torch.zeros_like(x) if r is None else r for r in rows]
        return torch.stack(rows).detach()
    return x.new_zeros((seeds.shape[0], *x.shape)) if g is None else g.detach()
