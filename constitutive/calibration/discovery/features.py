"""Residuals of discovery fits and the linear design matrix of a term dictionary.

Residuals (``residual=``):

* ``"r2"`` (default): absolute residuals, experiment ``e`` weighted by ``1 / SS_tot,e``
  (``SS_tot,e = sum_i (d_i - mean d)^2``), so that the cost ``1/2 sum r^2`` equals
  ``1/2 sum_e (1 - R^2_e)``: each experiment counts alike, whatever its stress level;
* ``"relative"``: :class:`~constitutive.calibration.fit_problem.FitProblem`'s relative residual
  (constant relative measurement error; the statistically right choice for multiplicative
  noise).

Design matrix. The stress of ``W = sum_j w_j h_j`` is linear in the weights ``w`` at fixed
kinematics. For incompressible isotropic solids in the standard tests the kinematics do not depend
on the material (uniaxial ``F = diag(l, l^-1/2, l^-1/2)``, ...) and only the pressure, itself
linear in ``w``, is solved; then the scaled predictions are exactly ``r(w) = A w - y`` with
``A = dr/dw``, the exact Jacobian of the fitting problem (autograd and the implicit-function
theorem, :mod:`constitutive.calibration.fit_problem`) at any admissible ``w``. The matrix is
checked: ``r(w1) = A w1 - y`` at a second point ``w1``. Where it fails (compressible or
anisotropic models, whose lateral stretches depend on ``w``) the linear screening is a
linearisation only and the nonlinear refit decides.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np

import materials
from materials.discovered import format_terms

from ..fit_problem import FitProblem
from ..params import ParameterSpace
from .library import Candidate

#: relative tolerance of the linearity check
LINEAR_RTOL = 1e-7


def model_name(incompressible: bool) -> str:
    """Registered name of the discovered material (incompressible or decoupled compressible)."""
    return "discovered-incompressible" if incompressible else "discovered"


def build_material(cands: list[Candidate], w, incompressible: bool = True, fibre=None, K: float | None = None,
                   b=None):
    """The discovered material of candidate terms with weights ``w`` (and ``b``, default the
    candidates' inner exponents)."""
    kw = {"terms": format_terms([c.term for c in cands]), "w": [float(v) for v in w],
          "b": [float(c.b) for c in cands] if b is None else [float(v) for v in b]}
    if fibre is not None:
        kw["a"] = list(fibre)
    if not incompressible:
        kw["K"] = 100.0 if K is None else float(K)
    return materials.get(model_name(incompressible), **kw)


def experiment_weights(experiments, residual: str, units: str | None = None) -> dict:
    """Per-experiment weights of the residual type (``1/SS_tot`` for ``"r2"``, in ``units``)."""
    if residual == "relative":
        return {}
    if residual != "r2":
        raise ValueError(f"residual: expected 'r2' or 'relative', got {residual!r}")
    out, units = {}, units or experiments[0].units
    for e in experiments:
        d = e.stress_in(units).reshape(e.n, -1)
        ss = float(((d - d.mean(0)) ** 2).sum())
        out[e.name] = 1.0 / ss if ss > 0 else 1.0
    return out


def problem(space: ParameterSpace, experiments, residual: str, units: str | None = None,
            compiled: bool | None = False) -> FitProblem:
    """The :class:`FitProblem` of a residual type (``"r2"`` or ``"relative"``).

    ``compiled=False`` (default) keeps the eager autograd evaluation: a discovery run refits many
    term sets a few times each, where compiling a kernel per term set would cost more than it
    saves; ``None`` leaves the choice to :class:`FitProblem` (the ICNN: one model, many steps).
    """
    kind = "relative" if residual == "relative" else "absolute"
    kw = {"compiled": compiled} if "compiled" in inspect.signature(FitProblem).parameters else {}
    return FitProblem(space, experiments, units=units, residual=kind,
                      weights=experiment_weights(experiments, residual, units), **kw)


@dataclass
class Design:
    """Scaled linear problem ``r = A w - y`` of a dictionary (rows: all residuals)."""

    A: np.ndarray
    y: np.ndarray
    rows: list[slice]
    linear: bool
    linear_error: float
    scale: np.ndarray  # row factor: scaled = factor * (prediction - data)


def design_matrix(cands: list[Candidate], experiments, residual: str = "r2", incompressible: bool = True,
                  fibre=None, K: float | None = None, units: str | None = None) -> Design:
    """Columns ``A[:, j] = dr/dw_j`` of every candidate (exact Jacobian), the scaled data ``y``."""
    n = len(cands)
    w0 = np.full(n, 1.0 / n)
    mat = build_material(cands, w0, incompressible, fibre, K)
    space = ParameterSpace(mat, free=[f"w[{j}]" for j in range(n)])
    prob = problem(space, experiments, residual, units)
    x0 = space.x0()
    r0 = prob.residuals(x0)
    if prob.penalized:
        raise ValueError(f"discovery dictionary cannot be evaluated on these data: {prob.last_error}")
    A = prob.residual_jacobian(x0)
    y = A @ x0 - r0
    x1 = x0 * np.linspace(0.5, 2.0, n)
    r1 = prob.residuals(x1)
    err = float(np.abs(r1 - (A @ x1 - y)).max() / max(np.abs(y).max(), 1e-300))
    sizes = [d.size for d in prob.data]
    edges = np.cumsum([0] + sizes)
    rows = [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    scale = np.concatenate([np.broadcast_to(f, d.shape).ravel() for f, d in zip(prob.factor, prob.data,
                                                                                strict=True)])
    return Design(A, y, rows, bool(err < LINEAR_RTOL), err, scale)
