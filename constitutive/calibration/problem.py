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

import numpy as np
import torch

from .. import driver
from ..experiments import Experiment

RELATIVE_FLOOR = 0.02


def experiment_path(exp: Experiment, dtype=torch.float64) -> driver.LoadPath:
    """Driver load path of an experiment."""
    if exp.mode == "general":
        free = tuple((int(c[0]) - 1, int(c[1]) - 1) for c in exp.free)
        pc = (int(exp.pressure_component[0]) - 1, int(exp.pressure_component[1]) - 1)
        return driver.general(exp.F, free=free, pressure_component=pc, dtype=dtype)
    return driver.load_path(exp.mode, exp.control(), dtype=dtype)


def _grad(out, x, retain_graph=True):
    if not out.requires_grad:
        return torch.zeros_like(x)
    (g,) = torch.autograd.grad(out, x, retain_graph=retain_graph, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


class Problem:
    """Least-squares problem: experiments, units, weights and residual type."""

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
        self.data, self.factor = [], []
        for e in experiments:
            d = e.stress_in(self.units).reshape(e.n, -1)
            w = e.weights() * float(weights.get(e.name, 1.0))
            s = np.ones_like(d)
            if residual == "relative":
                s = np.maximum(np.abs(d), RELATIVE_FLOOR * np.abs(d).max())
            self.data.append(d)
            self.factor.append(np.sqrt(w)[:, None] / s)
        self._z = [None] * len(experiments)
        self.n_solves = 0

    @property
    def n_residuals(self) -> int:
        return sum(d.size for d in self.data)

    def _solve(self, mat, k: int) -> driver.DriverResult:
        path = self.paths[k]
        res = driver.solve(mat, path, z0=self._z[k])
        if not bool(res.converged.all()) and self._z[k] is not None:
            res = driver.solve(mat, path)
        self.n_solves += 1
        if not bool(res.converged.all()):
            bad = int((~res.converged).sum())
            raise FloatingPointError(f"driver did not converge at {bad} point(s) of "
                                     f"{self.experiments[k].name!r}")
        self._z[k] = res.z.detach()
        return res

    def predictions(self, x: np.ndarray) -> list[np.ndarray]:
        """Model predictions (n_e, k_e) of every experiment at parameters ``x``."""
        mat, _ = self.space.material(x)
        out = []
        for k, e in enumerate(self.experiments):
            res = self._solve(mat, k)
            y = driver.measured(res.P, res.F, e.mode, e.stress_measure)
            out.append(y.detach().cpu().numpy().reshape(e.n, -1))
        return out

    def residuals(self, x: np.ndarray) -> np.ndarray:
        preds = self.predictions(x)
        return np.concatenate([((p - d) * f).ravel() for p, d, f in zip(preds, self.data, self.factor)])

    def jacobian(self, x: np.ndarray) -> np.ndarray:
        """Exact ``dr/dx`` (N, P) by autograd and the implicit function theorem."""
        mat0, _ = self.space.material(x)
        mat, leaves = self.space.material(x, requires_grad=True)
        blocks = []
        for k, e in enumerate(self.experiments):
            res = self._solve(mat0, k)
            dy = self._experiment_jacobian(mat, leaves, self.paths[k], e, res.z)
            blocks.append((dy * torch.as_tensor(self.factor[k])[..., None]).reshape(-1, len(leaves)))
        return torch.cat(blocks, 0).detach().cpu().numpy()

    @staticmethod
    def _experiment_jacobian(mat, leaves, path, e: Experiment, z0: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            z = z0.detach().clone().requires_grad_(True)
            P, F, R = driver.stress_of(mat, path, z, create_graph=True)
            y = driver.measured(P, F, e.mode, e.stress_measure).reshape(e.n, -1)
            q, m = z.shape[1], y.shape[1]
            out = torch.cat([R, y], -1)
            u = torch.zeros_like(out, requires_grad=True)
            g = torch.autograd.grad(out, leaves, grad_outputs=u, create_graph=True, allow_unused=True)
            cols = [torch.zeros_like(out) if gk is None else _grad(gk, u) for gk in g]
            dtheta = torch.stack(cols, -1)  # (n, q+m, P)
            if q == 0:
                return dtheta[:, q:]
            Rz = torch.stack([_grad(R[:, j].sum(), z) for j in range(q)], 1)  # (n,q,q)
            yz = torch.stack([_grad(y[:, j].sum(), z) for j in range(m)], 1)  # (n,m,q)
        dz = -torch.linalg.solve(Rz.detach(), dtheta[:, :q].detach())
        return dtheta[:, q:].detach() + yz.detach() @ dz
