"""Least-squares fit of a *given* set of terms (no selection), e.g. CANN's full eight-term network.

The inner exponents start from the best combination of the library grid (:mod:`.library`,
batched linear least squares over all combinations, :func:`.subsets.best_subsets` with one
support size), then weights and exponents are refitted together (:func:`.refine.refine`).
Weights may end at zero: a plain least-squares fit is not sparse by design, but the
non-negativity bounds can switch terms off.
"""

from __future__ import annotations

import time

import numpy as np

from materials.discovered import format_terms, parse_terms

from ..experiments import load_experiments
from .features import design_matrix
from .library import Library, get_library
from .pipeline import data_ranges, r2_by_experiment, serial_torch, split_experiments
from .refine import refine
from .result import DiscoveryResult, PathEntry
from .select import information_criteria
from .subsets import best_subsets


def fit_terms(experiments, terms, *, train=None, residual: str = "r2", units: str | None = None,
              max_nfev: int = 200) -> DiscoveryResult:
    """Fit all terms of ``terms`` (a spec ``"I1:lin+I1:exp+..."`` or ``"cann"`` for CANN's eight
    terms) to the training experiments; the result has one path entry."""
    if isinstance(experiments, (str, bytes)) or hasattr(experiments, "__fspath__"):
        experiments = load_experiments(experiments)
    with serial_torch():
        t0 = time.perf_counter()
        tr, te = split_experiments(list(experiments), train)
        units = units or tr[0].units
        types = get_library("cann").terms if terms == "cann" else parse_terms(terms)
        lib = Library("fixed", tuple(types), (-4.0, -1.0, 1.0, 1.5, 3.0, 6.0))
        x_max = data_ranges(tr)
        cands = lib.candidates(x_max)
        d = design_matrix(cands, tr, residual, units=units)
        subs = best_subsets(d.A, d.y, [lib.terms.index(c.term) for c in cands], [True] * len(cands),
                            len(types), keep=1)
        start = subs.get(len(types))
        first = [next(j for j, c in enumerate(cands) if c.term == t) for t in types]
        cols = list(start[0].cols) if start else first
        w0 = start[0].w if start else np.full(len(types), 1e-3)
        fit = refine([cands[j] for j in cols], w0, tr, residual=residual, x_max=x_max, units=units,
                     max_nfev=max_nfev)
        crit = information_criteria(fit.rss, fit.n_data, fit.n_params)
        se = {lab: float(s) for lab, s in zip(fit.labels, fit.std_errors, strict=True)}
        r2 = r2_by_experiment(fit.material, tr + te, units)
        names = [format_terms([c.term]) for c in fit.cands]
        entry = PathEntry(fit.n_active, names, [c.label for c in fit.cands], [float(v) for v in fit.w],
                          [float(v) for v in fit.b], se, fit.cost, fit.n_params, crit, r2)
        return DiscoveryResult(
            method="fixed-terms", library=format_terms(types), criterion="bic", residual=residual,
            units=units,
            train=[e.name for e in tr], test=[e.name for e in te], path=[entry], selected=0,
            material=fit.material, n_candidates=len(cands), wall_time=time.perf_counter() - t0,
            extra={"x_max": x_max, "active_terms": fit.n_active})
