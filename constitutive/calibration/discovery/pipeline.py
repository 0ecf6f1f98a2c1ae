"""``discover(experiments, ...)``: sparse model discovery with exact-Jacobian least squares.

Stages (each reported to ``progress``):

1. kinematic range of the training data (invariants reached), the library's screening
   candidates (:mod:`.library`);
2. the linear design matrix of all candidates, from the exact fitting Jacobian (:mod:`.features`);
3. exact best-subset search over supports of up to ``max_terms`` term types (:mod:`.subsets`);
4. nonlinear refit of the ``refine_top`` best supports of each size, weights and inner exponents
   together, and of the nested simplifications of nearly degenerate terms (:mod:`.refine`);
   the best of each size (parsimony rule of :mod:`.select`) forms the *path*;
5. choice of the number of terms by an information criterion or cross-validation
   (:mod:`.select`); ``R^2`` (unclamped) of every path model on every experiment, training and
   test; Drucker stability of the chosen model on the data range
   (:func:`~constitutive.calibration.stability.check_stability`);
6. for comparison, the Lp regularisation path on the screening problem (:func:`.subsets.lp_path`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import time

import numpy as np
import torch

from materials.discovered import format_terms

from .. import driver
from ..experiments import Experiment, load_experiments, normalise_mode
from ..fit_problem import experiment_path
from ..fitting import goodness_of_fit
from ..stability import check_stability
from .features import build_material, design_matrix
from .library import Candidate, get_library, groups, invariant_ranges, stiff
from .refine import refine, simplifications, without_zero_weights
from .result import DiscoveryResult, PathEntry
from .select import choose, choose_within, cv_score, information_criteria
from .subsets import best_subsets, lp_path

#: runner-up supports are refitted only if their screening RSS is within this factor of the best
REFINE_RATIO = 1.5
#: further supports tried when every refit of a size lost a term (its weight went to zero)
EXTRA = 3


def split_experiments(experiments: list[Experiment], train) -> tuple[list, list]:
    """Training and test experiments; ``train``: names, modes (``UT``, ``ET``, ...) or name patterns
    (``cortex_*``), as a list or a comma-separated string; ``None`` trains on all."""
    if train is None or train == "" or train == []:
        return list(experiments), []
    tokens = [t.strip() for t in (train.split(",") if isinstance(train, str) else train) if t.strip()]
    chosen = set()
    for tok in tokens:
        try:
            mode = normalise_mode(tok)
        except ValueError:
            mode = None
        hit = {e.name for e in experiments if e.name == tok or e.mode == mode or fnmatch.fnmatch(e.name, tok)}
        if not hit:
            raise ValueError(f"train: {tok!r} matches no experiment; have {[e.name for e in experiments]}")
        chosen |= hit
    return [e for e in experiments if e.name in chosen], [e for e in experiments if e.name not in chosen]


def data_ranges(experiments, incompressible: bool = True, fibre=None, K: float | None = None) -> dict:
    """Largest invariants (``I1``, ``I2``, ``I4``, ``J5`` minus their reference values) the
    experiments reach, from the kinematics the driver solves for a neo-Hooke-like solid."""
    mat = build_material([Candidate(("I1", "lin"), 1.0)], [0.5], incompressible, fibre, K)
    F = [driver.solve(mat, experiment_path(e)).F.detach().cpu().numpy() for e in experiments]
    return invariant_ranges(np.concatenate(F), fibre)


def _r2(design, w_full, k) -> float:
    rows = design.rows[k]
    pred, data = (design.A[rows] @ w_full) / design.scale[rows], design.y[rows] / design.scale[rows]
    d = data.reshape(-1)
    ss = float(((d - d.mean()) ** 2).sum())
    return 1.0 - float(((pred - data) ** 2).sum()) / ss if ss > 0 else math.nan


def r2_by_experiment(material, experiments, units) -> dict:
    """Unclamped ``R^2`` per experiment; ``nan`` where the model cannot be evaluated (a ``log``
    term locked before the experiment's largest stretch, or the driver failing)."""
    out = {}
    for e in experiments:
        try:
            out[e.name] = float(goodness_of_fit(material, [e], units)[0].r2)
        except (ValueError, FloatingPointError, RuntimeError):
            out[e.name] = math.nan
    return out


def _entry(fit, k, experiments, units, criterion, cv_args) -> PathEntry:
    crit = information_criteria(fit.rss, fit.n_data, fit.n_params)
    held = {}
    if criterion == "cv":
        crit["cv"], held = cv_score(fit, **cv_args)
    se = {lab: float(s) for lab, s in zip(fit.labels, fit.std_errors, strict=True)}
    return PathEntry(k, [format_terms([c.term]) for c in fit.cands], [c.label for c in fit.cands],
                     [float(v) for v in fit.w], [float(v) for v in fit.b], se, float(fit.cost), fit.n_params,
                     crit, r2_by_experiment(fit.material, experiments, units), held)


@contextlib.contextmanager
def serial_torch():
    """Run torch on one thread inside the block: discovery evaluates small batches (tens of
    points), where intra-op threads only cost synchronisation (100x slower per small solve on a
    busy machine)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def discover(experiments, *, library_name="rubber", max_terms: int = 3, train=None,
             criterion: str = "bic", residual: str = "r2", fibre=None, incompressible: bool = True,
             K: float | None = None, units: str | None = None, refine_top: int = 3, lp: float | None = 0.5,
             stability: bool = True, ogden_pair: bool = False, progress=None) -> DiscoveryResult:
    """Discover a sparse energy from homogeneous experiments.

    Parameters
    ----------
    experiments : list of :class:`~constitutive.calibration.experiments.Experiment` or an HDF5 path
    library_name : ``"rubber"``, ``"tissue"``, ``"cann"`` or a :class:`~.library.Library`
    max_terms : largest number of terms on the path
    train : experiments to train on (names, modes or patterns; default all); the others are test
        experiments, predicted and scored (unclamped ``R^2``) but never fitted
    criterion : ``"bic"``, ``"aicc"`` or ``"cv"`` (leave one training experiment out)
    residual : ``"r2"`` (each experiment weighted by ``1/SS_tot``) or ``"relative"``
    fibre : fibre direction (3,), adds the ``I4``/``J5`` terms to the library
    incompressible : fit ``discovered-incompressible`` (pressure solved); else ``discovered``
        with bulk modulus ``K`` held fixed
    refine_top : supports refitted per size at most (runner-ups only if their screening RSS is
        within ``REFINE_RATIO`` of the best; up to ``EXTRA`` more while no refit of that size kept
        all its terms); lp : ``p`` of the reported Lp path (None: skip)
    ogden_pair : allow two Ogden terms (one ``alpha > 0``, one ``alpha < 0``; :func:`.library.groups`)

    Returns
    -------
    DiscoveryResult
    """
    with serial_torch():
        return _discover(experiments, library_name, max_terms, train, criterion, residual, fibre,
                         incompressible, K, units, refine_top, lp, stability, ogden_pair, progress)


def _discover(experiments, library_name, max_terms, train, criterion, residual, fibre, incompressible, K,
              units, refine_top, lp, stability, ogden_pair, progress) -> DiscoveryResult:
    t0 = time.perf_counter()
    say = progress or (lambda msg: None)
    if isinstance(experiments, (str, bytes)) or hasattr(experiments, "__fspath__"):
        experiments = load_experiments(experiments)
    if int(max_terms) < 1:
        raise ValueError(f"max_terms: must be >= 1, got {max_terms}")
    if criterion not in ("bic", "aicc", "cv"):
        raise ValueError(f"criterion: expected 'bic', 'aicc' or 'cv', got {criterion!r}")
    tr, te = split_experiments(list(experiments), train)
    if criterion == "cv" and len(tr) < 2:
        raise ValueError("criterion 'cv' needs at least two training experiments")
    units = units or tr[0].units
    lib = get_library(library_name, fibre)
    x_max = data_ranges(tr, incompressible, lib.fibre, K)
    cands = lib.candidates(x_max)
    say(f"library {lib.name}: {len(lib.terms)} term types, {len(cands)} screening candidates; data reach "
        + ", ".join(f"{k} = {v:.3g}" for k, v in x_max.items()))
    design = design_matrix(cands, tr, residual, incompressible, lib.fibre, K, units)
    A, y = design.A, design.y
    say(f"design matrix {A.shape} from the exact Jacobian ({'linear' if design.linear else 'linearised'}, "
        f"check {design.linear_error:.1e})")
    subs = best_subsets(A, y, groups(cands, ogden_pair), [stiff(c.term) for c in cands], max_terms,
                        keep=refine_top + EXTRA)
    say("best subsets: " + "; ".join(f"k={k}: " + " + ".join(cands[j].label for j in s[0].cols)
                                     for k, s in subs.items() if s))
    opts = dict(residual=residual, x_max=x_max, incompressible=incompressible, fibre=lib.fibre, K=K,
                units=units)
    cv_args = dict(experiments=tr, incompressible=incompressible, fibre=lib.fibre, K=K, units=units)
    pool, failures = {}, []

    def add(cs, w0):
        key = tuple(sorted(format_terms([c.term]) for c in cs))
        if key in pool:
            return
        try:
            f = refine(cs, w0, tr, **opts)
        except (ValueError, FloatingPointError, RuntimeError) as exc:
            pool[key] = None
            failures.append(f"{[c.label for c in cs]}: {exc}")
            return
        pool[key] = f
        reduced = without_zero_weights(f)
        if reduced is not None:
            pool[key] = None
            add(*reduced)
            return
        for cs2, w2 in simplifications(f, x_max):
            add(cs2, w2)

    for k in sorted(subs):
        for i, s in enumerate(subs[k]):
            sized = any(f is not None and f.n_active == k for f in pool.values())
            runner_up = i >= refine_top or s.rss > REFINE_RATIO * subs[k][0].rss
            if i >= refine_top + EXTRA or (runner_up and sized):
                break
            add([cands[j] for j in s.cols], s.w)
    rank = "aicc" if criterion == "aicc" else "bic"  # within a size: the fits differ in inner exponents
    path, fits = [], []
    for k in range(1, int(max_terms) + 1):
        done = [f for f in pool.values() if f is not None and f.n_active == k]
        if not done:
            continue
        ics = [information_criteria(f.rss, f.n_data, f.n_params)[rank] for f in done]
        best = done[choose_within(ics, [f.n_params for f in done])]
        fits.append(best)
        path.append(_entry(best, k, tr + te, units, criterion, cv_args))
        say(f"k={k}: {' + '.join(path[-1].labels)}, cost {best.cost:.4g}, " + ", ".join(
            f"R2 {n} {v:.4f}" for n, v in path[-1].r2.items()))
    if not path:
        raise ValueError(f"discovery: no support could be refitted: {failures}")
    sel = choose([p.criteria[criterion] for p in path], [p.k for p in path], criterion)
    mat = fits[sel].material
    stab = check_stability(mat, tr) if stability else None
    lp_entries = []
    if lp is not None:
        for s in lp_path(A, y, p=lp):
            w_full = np.zeros(len(cands))
            w_full[list(s.cols)] = s.w
            r2 = {e.name: _r2(design, w_full, i) for i, e in enumerate(tr)}
            if te and len({cands[j].term for j in s.cols}) == len(s.cols):
                try:
                    r2.update(r2_by_experiment(build_material([cands[j] for j in s.cols], s.w, incompressible,
                                                              lib.fibre, K), te, units))
                except ValueError:  # no initial stiffness: not a material
                    pass
            lp_entries.append({"n_terms": len(s.cols), "terms": [cands[j].label for j in s.cols],
                               "w": [float(v) for v in s.w], "r2": r2})
    say(f"selected k={path[sel].k} by {criterion}: {' + '.join(path[sel].labels)}")
    return DiscoveryResult(
        method="best-subset", library=lib.name, criterion=criterion, residual=residual, units=units,
        train=[e.name for e in tr], test=[e.name for e in te], path=path, selected=sel, material=mat,
        stability=stab, lp_path=lp_entries, linear=design.linear, linear_error=design.linear_error,
        n_candidates=len(cands), wall_time=time.perf_counter() - t0,
        extra={"x_max": x_max, "lp_p": lp, "failures": failures})
