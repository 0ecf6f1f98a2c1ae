"""Choosing the number of terms: information criteria and cross-validation across experiments.

With ``N`` residuals, ``P`` free parameters (weights and inner exponents) and the residual sum of
squares ``RSS`` of the refitted model (Gaussian errors of constant variance after scaling;
Burnham & Anderson 2002, Model Selection and Multimodel Inference, sec. 2.2 and 6.4):

* ``BIC = N ln(RSS / N) + P ln N`` (Schwarz 1978);
* ``AICc = N ln(RSS / N) + 2P + 2P(P + 1) / (N - P - 1)`` (Hurvich & Tsai 1989).

Parsimony rule: among the models whose criterion is within ``PARSIMONY = 2`` of the smallest
(no substantial evidence against them; Burnham & Anderson 2002, sec. 2.6) the one with the
fewest terms is chosen.

Within one number of terms the candidates differ in their inner exponents; there the rule
prefers the fewest parameters among those within ``PARSIMONY`` of the best
(:func:`choose_within`).

Cross-validation (``criterion="cv"``, two or more training experiments): each training
experiment is left out in turn, the weights are refitted (non-negative least squares, inner
exponents held at their values of the full fit) on the others, and the held-out ``R^2`` is
recorded; the score is the mean of ``1 - R^2`` over the folds (unclamped; large when a model
fails to extrapolate to a loading mode it has not seen). The model with the smallest score wins,
with the same parsimony rule applied to scores within ``CV_TOL`` of the best.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import nnls

from .features import design_matrix

PARSIMONY = 2.0
CV_TOL = 1e-3
CRITERIA = ("bic", "aicc", "cv")


def information_criteria(rss: float, n: int, p: int) -> dict:
    """``{"bic": ..., "aicc": ...}`` of a least-squares fit (formulas in the module docstring)."""
    rss = max(float(rss), 1e-300)
    base = n * math.log(rss / n)
    aicc = base + 2 * p + (2 * p * (p + 1) / (n - p - 1) if n - p - 1 > 0 else math.inf)
    return {"bic": base + p * math.log(n), "aicc": aicc}


def cv_score(fit, experiments, incompressible: bool = True, fibre=None, K: float | None = None,
             units: str | None = None) -> tuple[float, dict]:
    """Leave-one-experiment-out score of a refitted support and the held-out ``R^2`` per experiment."""
    if len(experiments) < 2:
        return math.nan, {}
    d = design_matrix(fit.cands, experiments, "r2", incompressible, fibre, K, units)
    held = {}
    for k, e in enumerate(experiments):
        train = np.ones(d.y.size, dtype=bool)
        train[d.rows[k]] = False
        w, _ = nnls(d.A[train], d.y[train])
        res = d.A[d.rows[k]] @ w - d.y[d.rows[k]]
        held[e.name] = 1.0 - float(res @ res)  # rows scaled by 1/sqrt(SS_tot): this is R^2
    return float(np.mean([1.0 - v for v in held.values()])), held


def choose(scores: list[float], n_terms: list[int], criterion: str) -> int:
    """Index of the chosen model: smallest score, then the fewest terms within the tolerance."""
    if criterion not in CRITERIA:
        raise ValueError(f"criterion: expected one of {CRITERIA}, got {criterion!r}")
    s = np.array(scores, dtype=float)
    if not np.isfinite(s).any():
        raise ValueError(f"criterion {criterion!r}: no model has a finite score")
    tol = CV_TOL if criterion == "cv" else PARSIMONY
    best = np.nanmin(s)
    near = [i for i in range(len(s)) if np.isfinite(s[i]) and s[i] <= best + tol]
    return min(near, key=lambda i: (n_terms[i], s[i]))


def choose_within(scores: list[float], n_params: list[int]) -> int:
    """Among models of one size: the fewest parameters within ``PARSIMONY`` of the best score."""
    s = np.array(scores, dtype=float)
    best = np.nanmin(s)
    near = [i for i in range(len(s)) if np.isfinite(s[i]) and s[i] <= best + PARSIMONY]
    return min(near, key=lambda i: (n_params[i], s[i]))
