"""Nonlinear refit of one support: weights and inner exponents by trust-region least squares.

The screening fixes each inner exponent ``b`` at a grid value; here ``w`` and ``b`` are free
together, ``w_i >= 0`` and ``b_i`` inside the term's convex range (``b >= 0``; Ogden
``1 <= |alpha| <= 30`` on the side of its start; ``log``: ``b x_max < 1`` so that the locking
point lies beyond the data). ``scipy.optimize.least_squares`` (``trf``, ``x_scale="jac"``) uses
the exact Jacobian of :class:`~constitutive.calibration.fit_problem.FitProblem` (autograd and the
implicit-function theorem through the material-point driver).

Simplification (:func:`simplifications`): a refitted term whose inner exponent is small on the
data (``b x_max < 0.3``, ``b x_max^2 < 0.3`` for ``exp2``) is close to its ``b -> 0`` limit
(``exp``, ``log`` -> ``lin``; ``exp2`` -> ``sq``), an Ogden term with ``|alpha -+ 2| < 0.2`` to
``I1:lin``/``I2:lin`` (``alpha = 2`` is ``(I1 - 3)/2``). The nested model with the limit term
(merged into that term if the support holds it already) is refitted too, and the information
criterion decides between them.

Statistics at the optimum (Bates & Watts 1988, ch. 2): ``s^2 = 2 cost / (N - P)``, covariance
``s^2 (J'J)^+`` (pseudo-inverse on the column-scaled ``J``, singular values below ``1e-10`` of
the largest dropped), standard errors its root diagonal.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares

from materials.discovered import INNER, inner_bounds

from ..params import ParameterSpace
from .features import build_material, problem
from .library import ALPHA_MAX, Candidate


@dataclass
class Fit:
    """A refitted support: terms, weights, inner exponents, cost and standard errors."""

    cands: list[Candidate]
    w: np.ndarray
    b: np.ndarray
    material: object = field(repr=False)
    cost: float = math.nan
    n_data: int = 0
    n_params: int = 0
    labels: list = field(default_factory=list)
    x: np.ndarray | None = None
    std_errors: np.ndarray | None = None
    success: bool = True
    nfev: int = 0

    @property
    def rss(self) -> float:
        """Residual sum of squares ``2 cost``."""
        return 2.0 * self.cost

    @property
    def n_active(self) -> int:
        """Number of terms with a weight above ``1e-12`` of the largest."""
        return int((self.w > 1e-12 * max(float(np.abs(self.w).max()), 1e-300)).sum())

    def se(self, label: str) -> float:
        """Standard error of a free parameter (``w[0]``, ``b[2]``); ``nan`` if not free."""
        if self.std_errors is None or label not in self.labels:
            return math.nan
        return float(self.std_errors[self.labels.index(label)])


def _b_bounds(c: Candidate, x_max: dict) -> tuple[float, float]:
    for lo, hi in inner_bounds(c.term):
        if lo <= c.b <= hi:
            break
    if c.term[1] == "ogden":
        lo, hi = max(lo, -ALPHA_MAX), min(hi, ALPHA_MAX)
    if c.term[1] == "log":
        hi = (1.0 - 1e-6) / max(float(x_max.get(c.term[0], 1.0)), 1e-12)
    return lo, hi


def _statistics(J: np.ndarray, cost: float) -> np.ndarray:
    N, P = J.shape
    norms = np.linalg.norm(J, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    U, s, Vt = np.linalg.svd(J / norms, full_matrices=False)
    keep = s > 1e-10 * s[0] if s.size and s[0] > 0 else np.zeros_like(s, dtype=bool)
    inv = np.where(keep, 1.0 / np.where(keep, s, 1.0) ** 2, 0.0)
    cov = 2.0 * cost / max(N - P, 1) * (Vt.T * inv) @ Vt / np.outer(norms, norms)
    return np.sqrt(np.clip(np.diag(cov), 0.0, None))


def refine(cands: list[Candidate], w0, experiments, *, residual: str = "r2", x_max: dict | None = None,
           incompressible: bool = True, fibre=None, K: float | None = None, units: str | None = None,
           max_nfev: int = 60, tol: float = 1e-8) -> Fit:
    """Fit ``w`` and the inner exponents of the terms ``cands`` (start ``w0`` and ``c.b``)."""
    x_max = x_max or {}
    w0 = np.maximum(np.asarray(w0, dtype=float), 1e-12 * max(float(np.max(w0)), 1e-12))
    mat = build_material(cands, w0, incompressible, fibre, K)
    free = [f"w[{i}]" for i in range(len(cands))]
    free += [f"b[{i}]" for i, c in enumerate(cands) if c.term[1] in INNER]
    space = ParameterSpace(mat, free=free)
    entries = []
    for e in space.entries:
        if e.name == "b":
            lo, hi = _b_bounds(cands[e.index], x_max)
            e = dataclasses.replace(e, lower=lo, upper=hi)
        entries.append(e)
    space.entries = entries
    prob = problem(space, experiments, residual, units)
    x0 = space.clip(space.x0())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = least_squares(prob.residuals, x0, jac=prob.residual_jacobian, bounds=space.bounds(), method="trf",
                          x_scale="jac", ftol=tol, xtol=tol, gtol=tol, max_nfev=max_nfev)
    prob.residuals(r.x)
    if prob.penalized:
        raise FloatingPointError(f"refit of {[c.label for c in cands]} ended outside the model's domain: "
                                 f"{prob.last_error}")
    values = space.full_values(r.x)
    w, b = np.array(values["w"]), np.array(values["b"])
    fitted, _ = space.material(r.x)
    se = _statistics(prob.residual_jacobian(r.x), float(r.cost))
    new = [Candidate(c.term, float(bi)) for c, bi in zip(cands, b, strict=True)]
    return Fit(new, w, b, fitted, float(r.cost), prob.n_residuals, space.size, space.labels, r.x, se,
               bool(r.success), int(r.nfev))


SIMPLIFY = 0.3
_LIMIT = {"exp": "lin", "log": "lin", "exp2": "sq"}


def simplifications(fit: Fit, x_max: dict) -> list[tuple[list[Candidate], np.ndarray]]:
    """Nested supports (candidates and start weights) of a fit's nearly degenerate terms."""
    out, types = [], [c.term for c in fit.cands]
    for i, c in enumerate(fit.cands):
        inv, fun = c.term
        if fun in _LIMIT:
            xm = float(x_max.get(inv, 0.0))
            if c.b * (xm * xm if fun == "exp2" else xm) >= SIMPLIFY:
                continue
            limit, factor = (inv, _LIMIT[fun]), 1.0
        elif fun == "ogden" and min(abs(c.b - 2.0), abs(c.b + 2.0)) < 0.2:
            limit, factor = ("I1" if c.b > 0 else "I2", "lin"), 0.5
        else:
            continue
        w = np.array(fit.w, dtype=float)
        cands = list(fit.cands)
        if limit in types:
            w[types.index(limit)] += factor * w[i]
            keep = [j for j in range(len(cands)) if j != i]
            out.append(([cands[j] for j in keep], w[keep]))
        else:
            cands[i] = Candidate(limit, 1.0)
            w[i] *= factor
            out.append((cands, w))
    return out


def without_zero_weights(fit: Fit) -> tuple[list[Candidate], np.ndarray] | None:
    """The support without the terms whose weight went to zero (None if all are active)."""
    keep = fit.w > 1e-12 * max(float(np.abs(fit.w).max()), 1e-300)
    if keep.all() or not keep.any():
        return None
    return [c for c, k in zip(fit.cands, keep, strict=True) if k], fit.w[keep]
