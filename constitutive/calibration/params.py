"""The free-parameter vector of a fit: packing, labels, bounds and material construction.

Every declared parameter of the model (list parameters element by element, labelled
``mu[0]``, ``mu[1]``, ...) is either free (an entry of the optimisation vector ``x``) or fixed
at its start value. Bounds come from the model's declared parameter bounds; open bounds are
moved inwards by a relative ``1e-10`` so that every iterate is an admissible material.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Entry:
    """One scalar parameter: model parameter ``name``, element ``index`` (None: scalar)."""

    name: str
    index: int | None
    lower: float
    upper: float
    #: an ordered relaxation time in log form (state-model fits, ``fit_history``)
    ordered: bool = False

    @property
    def label(self) -> str:
        """Label of the entry: ``name`` or ``name[i]`` for list elements."""
        return self.name if self.index is None else f"{self.name}[{self.index}]"


def _inward(b: float, upper: bool, open_: bool) -> float:
    if not math.isfinite(b) or not open_:
        return b
    d = 1e-10 * max(1.0, abs(b))
    return b - d if upper else b + d


def select_entries(material, free=None, fixed=None) -> tuple[dict, list[Entry]]:
    """The start values (``name -> float | array``) and the free :class:`Entry` list of a fit
    of ``material``: every scalar of every declared parameter, bounds from the declaration (open
    ones moved inwards), restricted to ``free`` (names or labels; default all) minus ``fixed``."""
    values = {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) if isinstance(v, list)
              else float(v) for k, v in material.parameter_values().items()}
    entries = []
    for name, spec in material.parameters.items():
        lo, hi = spec.bounds_for_fit()
        lo, hi = _inward(lo, False, spec.open_bounds), _inward(hi, True, spec.open_bounds)
        v = values[name]
        if isinstance(v, np.ndarray):
            entries += [Entry(name, i, lo, hi) for i in range(v.size)]
        else:
            entries.append(Entry(name, None, lo, hi))
    labels = {e.label for e in entries} | {e.name for e in entries}
    for what, sel in (("free", free), ("fixed", fixed)):
        unknown = sorted(set(sel or ()) - labels)
        if unknown:
            raise ValueError(f"{what}: unknown parameter(s) {unknown}; the model has "
                             f"{[e.label for e in entries]}")
    chosen = [e for e in entries if free is None or e.name in free or e.label in free]
    chosen = [e for e in chosen if not (fixed and (e.name in fixed or e.label in fixed))]
    if not chosen:
        raise ValueError("free: no free parameter left to fit")
    return values, chosen


class ParameterSpace:
    """Free parameters of ``material`` (a start material holding the start/fixed values).

    Parameters
    ----------
    material : Hyperelastic instance (its parameter values are the start/fixed values)
    free : names or labels (``"mu"``, ``"mu[1]"``) of the free parameters; default all.
    fixed : names or labels held fixed (applied after ``free``).
    """

    def __init__(self, material, free=None, fixed=None):
        self.base = material
        self.values, self.entries = select_entries(material, free, fixed)

    @property
    def labels(self) -> list[str]:
        """Labels of the free entries, in the order of the vector ``x``."""
        return [e.label for e in self.entries]

    @property
    def size(self) -> int:
        """Number of free entries."""
        return len(self.entries)

    def flat_columns(self) -> list[int]:
        """Position of each free entry in the flattened vector of all model parameters
        (declaration order, list parameters element by element: the fast path's parameter
        inputs)."""
        offset, start = 0, {}
        for name in self.base.parameters:
            start[name] = offset
            offset += int(getattr(self.base, name).numel())
        return [start[e.name] + (e.index or 0) for e in self.entries]

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lower, upper)`` arrays of the free entries, for scipy's least_squares."""
        return (np.array([e.lower for e in self.entries]), np.array([e.upper for e in self.entries]))

    def x0(self) -> np.ndarray:
        """Start vector, clipped strictly inside the bounds."""
        x = np.array([self._get(self.values, e) for e in self.entries])
        return self.clip(x)

    def clip(self, x: np.ndarray) -> np.ndarray:
        """``x`` moved inside the bounds (strictly, for open bounds)."""
        lo, hi = self.bounds()
        span = np.where(np.isfinite(hi - lo), hi - lo, np.inf)
        eps = np.minimum(1e-9 * np.maximum(1.0, np.abs(x)), 1e-6 * span)
        return np.minimum(np.maximum(x, lo + eps), hi - eps)

    @staticmethod
    def _get(values, e: Entry) -> float:
        v = values[e.name]
        return float(v if e.index is None else v[e.index])

    def full_values(self, x: np.ndarray) -> dict:
        """Plain values of all model parameters (free from ``x``, the rest fixed)."""
        vals = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.values.items()}
        for e, xi in zip(self.entries, x, strict=False):
            if e.index is None:
                vals[e.name] = float(xi)
            else:
                vals[e.name][e.index] = float(xi)
        return {k: ([float(t) for t in v] if isinstance(v, np.ndarray) else v) for k, v in vals.items()}

    def material(self, x: np.ndarray, requires_grad: bool = False):
        """Material at ``x``; with ``requires_grad`` also the list of scalar leaf tensors."""
        if not requires_grad:
            return self.base.replace(**self.full_values(x)), []
        dtype, device = self.base.dtype, self.base.device
        leaves = [torch.tensor(float(xi), dtype=dtype, device=device, requires_grad=True) for xi in x]
        by = {(e.name, e.index): leaf for e, leaf in zip(self.entries, leaves, strict=False)}
        params = {}
        for name, v in self.values.items():
            if isinstance(v, np.ndarray):
                elems = [by.get((name, i), torch.tensor(float(v[i]), dtype=dtype, device=device))
                         for i in range(v.size)]
                params[name] = torch.stack(elems)
            else:
                params[name] = by.get((name, None), torch.tensor(float(v), dtype=dtype, device=device))
        with warnings.catch_warnings():  # models' validate() may call float() on a leaf
            warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
            return self.base.replace(**params), leaves
