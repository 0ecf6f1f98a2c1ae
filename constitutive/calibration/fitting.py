"""``fit(model, experiments, ...)``: bounded nonlinear least squares with an exact Jacobian.

``scipy.optimize.least_squares`` (trust-region reflective, bounds from the model's declared
parameter bounds) minimises ``1/2 sum r_i^2`` (residuals in :mod:`.problem`). The Jacobian is
exact (autograd + implicit function theorem) unless ``jacobian="2-point"``/``"3-point"``.

Statistics at the optimum (Bates & Watts 1988, Nonlinear Regression Analysis, ch. 2):
``s^2 = 2 cost / (N - P)``, covariance ``s^2 (J^T J)^-1``, standard errors its root diagonal,
correlation ``cov_ij / (se_i se_j)``. Identifiability: singular values of ``J`` with columns
scaled to unit norm; the problem is flagged rank-deficient when their ratio is below
``rank_rtol`` (then the affected standard errors are ``inf`` and a warning is issued).
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import torch
from scipy.optimize import least_squares

from .experiments import Experiment, load_experiments
from .fit_problem import FitProblem
from .params import ParameterSpace
from .result import ExperimentFit, FitResult
from .stability import check_stability, solved_F

#: volumetric parameters of compressible models, held at their start value by default
VOLUMETRIC = ("K", "lmbda", "kappa")


class FitWarning(UserWarning):
    """A fit that is rank-deficient, did not converge, or whose model is unstable."""


def _material(model, start, experiments, terms, units):
    if isinstance(model, str):
        import materials

        from .starts import start_values

        return materials.get(model, **start_values(model, experiments, terms, start, units))
    if terms is not None:
        raise ValueError("terms: only with a model given by name")
    if start:
        return model.replace(**start)
    return model


def _starts(space: ParameterSpace, n: int, seed: int) -> list[np.ndarray]:
    """``n`` start vectors: the given start, then random perturbations inside the bounds."""
    rng = np.random.default_rng(seed)
    x0 = space.x0()
    lo, hi = space.bounds()
    out = [x0]
    tries = 0
    while len(out) < n and tries < 100 * n:
        tries += 1
        x = x0.copy()
        for i in range(x.size):
            base = x0[i] if x0[i] != 0 else 1.0
            if np.isfinite(lo[i]) and np.isfinite(hi[i]) and hi[i] - lo[i] < 1e3:
                x[i] = rng.uniform(lo[i], hi[i])
            else:
                x[i] = base * math.exp(rng.uniform(-math.log(4), math.log(4)))
                if not np.isfinite(lo[i]) and rng.random() < 0.25:
                    x[i] = -x[i]
        x = space.clip(x)
        try:  # keep only admissible materials (the model's validate())
            space.material(x)
        except (ValueError, TypeError):
            continue
        out.append(x)
    return out


def _statistics(J: np.ndarray, cost: float, labels: list[str], rank_rtol: float):
    N, P = J.shape
    norms = np.linalg.norm(J, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    Js = J / norms
    U, s, Vt = np.linalg.svd(Js, full_matrices=False)
    ratio = s / s[0] if s[0] > 0 else np.zeros_like(s)
    null = Vt[ratio < rank_rtol]
    rank = int((ratio >= rank_rtol).sum())
    dof = max(N - P, 1)
    s2 = 2.0 * cost / dof
    inv_s = np.where(ratio >= rank_rtol, 1.0 / np.where(s > 0, s, 1.0) ** 2, 0.0)
    cov_s = (Vt.T * inv_s) @ Vt
    cov = s2 * cov_s / np.outer(norms, norms)
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    affected = (np.abs(null) > 1e-6).any(0) if null.size else np.zeros(P, bool)
    se = np.where(affected, np.inf, se)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov_s / np.sqrt(np.outer(np.diag(cov_s), np.diag(cov_s)))
    corr = np.where(np.isfinite(corr), corr, np.nan)
    np.fill_diagonal(corr, 1.0)
    cond = float(s[0] / s[-1]) if s[-1] > 0 else math.inf
    return se, corr, rank, cond, affected


def _experiment_fits(problem: FitProblem, x: np.ndarray) -> list[ExperimentFit]:
    preds = problem.predictions(x)
    out = []
    for e, p, d in zip(problem.experiments, preds, problem.data, strict=False):
        res = p - d
        ss_tot = float(((d - d.mean(0)) ** 2).sum())
        r2 = 1.0 - float((res**2).sum()) / ss_tot if ss_tot > 0 else math.nan
        big = np.abs(d) > 0.02 * np.abs(d).max()
        rel = np.abs(res[big]) / np.abs(d[big]) if big.any() else np.array([math.nan])
        out.append(ExperimentFit(e.name, e.mode, float(r2), float(rel.mean()), float(rel.max()),
                                 float(np.sqrt((res**2).mean())), d, p))
    return out


def _check_experiments(experiments) -> list[Experiment]:
    """A non-empty list of experiments with information in them (clear errors otherwise)."""
    if isinstance(experiments, Experiment):
        experiments = [experiments]
    try:
        experiments = list(experiments)
    except TypeError:
        raise TypeError(f"experiments: expected Experiment objects or an HDF5 path, got "
                        f"{type(experiments).__name__}") from None
    if not experiments:
        raise ValueError("experiments: the list is empty; nothing to fit")
    bad = [type(e).__name__ for e in experiments if not isinstance(e, Experiment)]
    if bad:
        raise TypeError(f"experiments: expected Experiment objects or an HDF5 path, got {bad}")
    if all(float(np.abs(e.stress).max(initial=0.0)) == 0.0 for e in experiments):
        raise ValueError("experiments: every measured stress is zero; the data carry no information about "
                         "the material parameters")
    return experiments


def goodness_of_fit(material, experiments, units: str | None = None) -> list[ExperimentFit]:
    """R^2 and relative errors of a given material on experiments (validation, no fitting)."""
    if isinstance(experiments, (str, bytes)) or hasattr(experiments, "__fspath__"):
        experiments = load_experiments(experiments)
    experiments = _check_experiments(experiments)
    space = ParameterSpace(material)
    problem = FitProblem(space, experiments, units=units)
    return _experiment_fits(problem, space.x0())


def fit(model, experiments, *, start: dict | None = None, free=None, fixed=None,
        weights: dict | None = None, residual: str = "relative", units: str | None = None,
        n_starts: int = 1, seed: int = 0, jacobian: str = "autograd", max_nfev: int | None = 200,
        tol: float = 1e-12, rank_rtol: float = 1e-7, stability: bool = True,
        stability_range=None, progress=None, warn: bool = True,
        fix_volumetric: bool | None = None, terms: int | None = None) -> FitResult:
    """Fit material parameters to homogeneous experiments.

    Parameters
    ----------
    model : registered model name or a material instance (holds start and fixed values)
    experiments : list of :class:`~constitutive.calibration.experiments.Experiment` or an HDF5 path
    start : start values by parameter name. For a model given by name, parameters not given
        start from the model defaults scaled to the initial shear modulus of the data (see
        :func:`~constitutive.calibration.starts.start_values`)
    terms : number of terms of a series model given by name (Ogden: ``mu``/``alpha`` lists)
    free, fixed : parameter names/labels to fit or to hold (default: all free)
    weights : per-experiment weights by name (multiply the file's weights)
    residual : ``"relative"`` (default; each point divided by its measured stress, floored at
        2 % of the experiment's largest) or ``"absolute"``
    units : stress unit of the fit (default: that of the first experiment)
    n_starts, seed : multi-start (random admissible starts: the given start, then each
        parameter scaled by a log-uniform factor in [1/4, 4], sign flipped with probability
        1/4 where unbounded below, or uniform within finite bounds; best cost kept)
    max_nfev : residual evaluations per start
    jacobian : ``"autograd"`` (exact) or scipy's ``"2-point"``/``"3-point"`` differences
    stability : run the Drucker stability check (warning if it fails)
    fix_volumetric : hold the volumetric parameter (``K``, ``lmbda``, ``kappa``) of a
        compressible model at its start value; default: yes unless it is named in ``free``
        (homogeneous tests of nearly incompressible solids hardly determine it)
    progress : callable ``progress(k, n, cost, best)`` called after each start

    Returns
    -------
    FitResult
    """
    if isinstance(experiments, (str, bytes)) or hasattr(experiments, "__fspath__"):
        experiments = load_experiments(experiments)
    experiments = _check_experiments(experiments)
    if jacobian not in ("autograd", "2-point", "3-point"):
        raise ValueError(f"jacobian: expected 'autograd', '2-point' or '3-point', got {jacobian!r}")
    if int(n_starts) < 1:
        raise ValueError(f"n_starts: must be >= 1, got {n_starts}")
    t0 = time.perf_counter()
    material = _material(model, start, experiments, terms, units)
    if fix_volumetric is None:
        fix_volumetric = not set(free or ()) & set(VOLUMETRIC)
    if fix_volumetric and not getattr(material, "incompressible", False):
        fixed = list(fixed or ()) + [v for v in VOLUMETRIC if v in material.parameters]
    space = ParameterSpace(material, free=free, fixed=fixed)
    problem = FitProblem(space, experiments, units=units, residual=residual, weights=weights)
    jac = problem.residual_jacobian if jacobian == "autograd" else jacobian
    best, runs, nfev, njev = None, [], 0, 0
    starts = _starts(space, int(n_starts), seed)
    for k, x0 in enumerate(starts):
        try:
            problem.residuals(x0)
            if problem.penalized:
                raise ValueError(f"start values {space.full_values(x0)} are inadmissible for these "
                                 f"data: {problem.last_error}")
            try:
                r = least_squares(problem.residuals, x0, jac=jac, bounds=space.bounds(), method="trf",
                                  x_scale="jac", ftol=tol, xtol=tol, gtol=tol, max_nfev=max_nfev)
            except (np.linalg.LinAlgError, torch.linalg.LinAlgError) as exc:
                raise FloatingPointError(f"the optimiser diverged (singular linear algebra: {exc}); "
                                         "try other start values or fix parameters") from exc
            problem.residuals(r.x)
            if problem.penalized:
                raise FloatingPointError("model inadmissible or driver failing at the end point")
        except (ValueError, FloatingPointError, RuntimeError) as exc:
            if len(starts) == 1:
                raise
            runs.append({"start": k, "error": str(exc)})
            continue
        nfev += r.nfev
        njev += r.njev or 0
        runs.append({"start": k, "cost": float(r.cost), "nfev": int(r.nfev), "status": int(r.status)})
        if best is None or r.cost < best.cost:
            best = r
        if progress is not None:
            progress(k + 1, len(starts), float(r.cost), float(best.cost))
    if best is None:
        raise ValueError(f"fit: every start failed: {[r.get('error') for r in runs]}")
    x = best.x
    J = problem.residual_jacobian(x)
    se, corr, rank, cond, affected = _statistics(J, float(best.cost), space.labels, rank_rtol)
    fitted, _ = space.material(x)
    stab = None
    if stability:
        stab = check_stability(fitted, experiments, solved_F(problem, x), stability_range)
    result = FitResult(
        model=fitted.name or type(fitted).__name__, parameters=space.full_values(x),
        labels=space.labels, x=x, std_errors=se, correlation=corr, cost=float(best.cost),
        success=bool(best.success), status=int(best.status), message=str(best.message),
        nfev=nfev, njev=njev, n_starts=len(starts), runs=runs, rank=rank, n_free=space.size,
        condition_number=cond, rank_deficient=bool(rank < space.size),
        unidentifiable=[lab for lab, a in zip(space.labels, affected, strict=False) if a],
        experiments=_experiment_fits(problem, x), units=problem.units, residual=residual,
        jacobian=jacobian,
        active_bounds=[lab for lab, a in zip(space.labels, best.active_mask, strict=False) if a],
        stability=stab, wall_time=time.perf_counter() - t0, material=fitted,
        experiment_data=list(experiments), options=fitted.option_values(),
    )
    if warn:
        for msg in result.warnings():
            warnings.warn(msg, FitWarning, stacklevel=2)
    return result
