"""The neural baseline: an input-convex neural network energy fitted with the same pipeline.

The material is ``icnn-incompressible`` (:mod:`materials.discovered`): ``W = psi(x) - psi(0)``,
``x = (Ib1 - 3, Ib2 - 3)``, softplus activations, weights ``softplus(theta) > 0``; polyconvex
for ``J = 1`` by construction, zero energy and stress at the reference. Its raw parameters
``theta`` are fitted in float64 to the same residuals as the sparse models
(:mod:`.features`; exact Jacobian through the driver) by

* ``method="trf"`` (default): ``scipy.optimize.least_squares``, trust-region Gauss-Newton, with
  the Tikhonov rows ``sqrt(ridge) (theta - theta0)`` appended (the data leave many directions of
  a 40-parameter network undetermined, especially for one loading mode);
* ``method="lbfgs"``: L-BFGS-B on ``1/2 |r|^2 + ridge/2 |theta - theta0|^2`` with the exact
  gradient ``J' r``.

Starts (``n_starts``, ``seed``): ``theta0`` draws the first-layer weights at ``1/x_max`` of each
invariant (times a uniform factor in [0.2, 1]), biases from N(0, 1), hidden weights near
``1/width``, and the linear skip so that the initial shear modulus equals that of a neo-Hooke
fit; the best final cost wins. References: Amos et al. (2017); Klein et al. (2022), JMPS
159:104703; Linden et al. (2023), JMPS 179:105363 (neural hyperelasticity, a review).
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
from scipy.optimize import least_squares, minimize

import materials
from materials.discovered import icnn_layout

from ..experiments import load_experiments
from ..params import ParameterSpace
from ..stability import check_stability
from .features import problem
from .library import Candidate
from .pipeline import data_ranges, r2_by_experiment, serial_torch, split_experiments
from .refine import refine
from .result import DiscoveryResult, PathEntry
from .select import information_criteria


def _inv_softplus(s):
    s = np.asarray(s, dtype=float)
    return np.where(s > 30, s, np.log(np.expm1(np.maximum(s, 1e-300))))


def initial_theta(layers: str, x_max: dict, G: float, rng: np.random.Generator) -> np.ndarray:
    """A random start (module docstring)."""
    scale = np.array([1.0 / max(x_max["I1"], 1e-12), 1.0 / max(x_max["I2"], 1e-12)])
    parts = []
    for name, shape in icnn_layout(layers):
        if name.startswith("A"):
            parts.append(_inv_softplus(scale[None, :] * rng.uniform(0.2, 1.0, shape)).ravel())
        elif name.startswith("B"):
            parts.append(_inv_softplus(rng.uniform(0.2, 1.0, shape) / shape[1]).ravel())
        elif name.startswith("c"):
            parts.append(rng.standard_normal(shape).ravel())
        elif name == "v":
            parts.append(_inv_softplus(np.full(shape, 0.1 * G / shape[0])))
        else:  # u: linear skip, G = 2 (u1 + u2) + network part
            parts.append(_inv_softplus(np.full(shape, 0.2 * G)))
    return np.concatenate(parts)


def fit_icnn(experiments, *, layers: str = "4,4", train=None, residual: str = "r2", method: str = "trf",
             n_starts: int = 4, seed: int = 0, ridge: float = 1e-8, max_nfev: int = 400,
             units: str | None = None, stability: bool = True, progress=None) -> DiscoveryResult:
    """Fit an ICNN energy (``icnn-incompressible``) to the training experiments; returns a
    :class:`~constitutive.calibration.discovery.result.DiscoveryResult` with one path entry."""
    if method not in ("trf", "lbfgs"):
        raise ValueError(f"method: expected 'trf' or 'lbfgs', got {method!r}")
    if isinstance(experiments, (str, bytes)) or hasattr(experiments, "__fspath__"):
        experiments = load_experiments(experiments)
    with serial_torch():
        return _fit(list(experiments), layers, train, residual, method, int(n_starts), seed, float(ridge),
                    int(max_nfev), units, stability, progress or (lambda m: None))


def _fit(experiments, layers, train, residual, method, n_starts, seed, ridge, max_nfev, units, stability,
         say):
    t0 = time.perf_counter()
    tr, te = split_experiments(experiments, train)
    units = units or tr[0].units
    x_max = data_ranges(tr, True, None, None)
    G = 2.0 * float(refine([Candidate(("I1", "lin"), 1.0)], [0.1], tr, residual=residual, units=units).w[0])
    rng = np.random.default_rng(seed)
    n = sum(math.prod(s) for _, s in icnn_layout(layers))
    theta0 = initial_theta(layers, x_max, G, rng)
    base = materials.get("icnn-incompressible", layers=layers, theta=[float(v) for v in theta0])
    space = ParameterSpace(base)
    prob = problem(space, tr, residual, units, compiled=None)
    sq = math.sqrt(ridge)
    best, runs = None, []
    for k in range(n_starts):
        th0 = initial_theta(layers, x_max, G, rng) if k else space.x0()
        try:
            x, cost, nfev = _solve(prob, th0, sq, ridge, method, max_nfev)
        except (ValueError, FloatingPointError, RuntimeError) as exc:
            runs.append({"start": k, "error": str(exc)})
            continue
        runs.append({"start": k, "cost": cost, "nfev": nfev})
        say(f"ICNN start {k + 1}/{n_starts}: cost {cost:.4g} ({nfev} evaluations)")
        if best is None or cost < best[1]:
            best = (x, cost)
    if best is None:
        raise ValueError(f"fit_icnn: every start failed: {runs}")
    mat, _ = space.material(best[0])
    data_cost = 0.5 * float(np.sum(prob.residuals(best[0]) ** 2))
    crit = information_criteria(2.0 * data_cost, prob.n_residuals, n)
    r2 = r2_by_experiment(mat, tr + te, units)
    entry = PathEntry(n, [f"icnn({layers})"], [f"icnn({layers}), {n} parameters"],
                      [float(v) for v in best[0]], [], {}, data_cost, n, crit, r2)
    stab = check_stability(mat, tr) if stability else None
    return DiscoveryResult(
        method=f"icnn-{method}", library=f"icnn({layers})", criterion="bic", residual=residual, units=units,
        train=[e.name for e in tr], test=[e.name for e in te], path=[entry], selected=0, material=mat,
        stability=stab, n_candidates=n, wall_time=time.perf_counter() - t0,
        extra={"runs": runs, "ridge": ridge, "x_max": x_max})


def _solve(prob, th0, sq, ridge, method, max_nfev):
    eye = np.eye(th0.size)

    def fun(x):
        return np.concatenate([prob.residuals(x), sq * (x - th0)])

    def jac(x):
        return np.vstack([prob.residual_jacobian(x), sq * eye])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "trf":
            r = least_squares(fun, th0, jac=jac, method="trf", x_scale="jac", ftol=1e-12, xtol=1e-12,
                              gtol=1e-12, max_nfev=max_nfev)
            x, nfev = r.x, int(r.nfev)
        else:
            def f_and_g(x):
                rr = fun(x)
                return 0.5 * float(rr @ rr), jac(x).T @ rr

            r = minimize(f_and_g, th0, jac=True, method="L-BFGS-B",
                         options={"maxiter": max_nfev, "ftol": 1e-15, "gtol": 1e-12})
            x, nfev = r.x, int(r.nfev)
    rr = prob.residuals(x)
    if prob.penalized:
        raise FloatingPointError(f"ICNN fit ended at an inadmissible point: {prob.last_error}")
    return x, 0.5 * float(rr @ rr), nfev
