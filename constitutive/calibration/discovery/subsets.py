"""Sparse selection on the linear screening problem ``min ||A w - y||^2, w >= 0``.

* :func:`best_subsets`: exact best-subset search. For every support of ``k`` columns of distinct
  term types the unconstrained least-squares solution is computed from the Gram matrix (all
  supports at once, batched ``k x k`` solves); a support is admissible if every weight is
  positive (otherwise the non-negative optimum lies on a smaller support, which is enumerated
  too) and if it contains a term with initial stiffness (``G > 0``). Exact while the number of
  supports stays below ``MAX_SUPPORTS``; beyond, a beam search extends the ``BEAM`` best supports
  of size ``k - 1`` by one column (Miller 2002, Subset Selection in Regression, ch. 3).
* :func:`lp_path`: the regularisation path of ``1/2 ||A w - y||^2 + lambda sum_j |w_j|^p``,
  ``w >= 0`` (columns scaled to unit norm): ``p = 1`` is the non-negative lasso, ``p < 1`` is
  solved by iteratively reweighted L1 (Candes, Wakin & Boyd 2008), each weighted problem
  ``1/2 w'Gw - (c - lambda_j)'w`` an NNLS problem on the Cholesky factor of ``G``. Each path
  point is debiased (NNLS on its active set), as in McCulloch et al. (2024), IJNME 125:e7481.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

MAX_SUPPORTS = 400_000
BEAM = 300
#: a weight below this fraction of the largest (scaled) weight counts as zero
ZERO = 1e-9


@dataclass
class Subset:
    """A support (column indices), its non-negative weights (unscaled columns) and RSS."""

    cols: tuple[int, ...]
    w: np.ndarray
    rss: float


def _normalise(A: np.ndarray):
    s = np.linalg.norm(A, axis=0)
    s = np.where(s > 0, s, 1.0)
    return A / s, s


def _supports(groups: np.ndarray, k: int) -> np.ndarray | None:
    """All supports of k columns with distinct groups, (M, k), or None if too many."""
    by_group: dict[int, list[int]] = {}
    for j, g in enumerate(groups):
        by_group.setdefault(int(g), []).append(j)
    keys = sorted(by_group)
    count = sum(math.prod(len(by_group[g]) for g in gs) for gs in itertools.combinations(keys, k))
    if count > MAX_SUPPORTS:
        return None
    rows = [p for gs in itertools.combinations(keys, k)
            for p in itertools.product(*(by_group[g] for g in gs))]
    return np.array(rows, dtype=np.int64).reshape(-1, k)


def _beam(groups: np.ndarray, prev: list[Subset]) -> np.ndarray:
    rows = set()
    for s in prev[:BEAM]:
        used = {int(groups[j]) for j in s.cols}
        for j in range(groups.size):
            if int(groups[j]) not in used:
                rows.add(tuple(sorted(s.cols + (j,))))
    return np.array(sorted(rows), dtype=np.int64).reshape(len(rows), -1)


def _solve_batched(G, c, yy, idx):
    Gs = G[idx[:, :, None], idx[:, None, :]]
    k = idx.shape[1]
    Gs = Gs + 1e-13 * np.eye(k)[None]
    cs = c[idx]
    try:
        w = np.linalg.solve(Gs, cs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        w = np.stack([np.linalg.lstsq(g, b, rcond=None)[0] for g, b in zip(Gs, cs, strict=True)])
    return w, yy - (cs * w).sum(-1)


def best_subsets(A: np.ndarray, y: np.ndarray, groups, stiff, max_terms: int, keep: int = 4) -> dict:
    """Best supports of each size ``k = 1 .. max_terms``.

    Parameters
    ----------
    A, y : (N, T) columns and (N,) data of ``r = A w - y``
    groups : (T,) term type of each column (a support holds each type at most once)
    stiff : (T,) bool, columns with initial stiffness (a support needs at least one)
    keep : supports kept per size, the best of each distinct set of term types

    Returns
    -------
    dict ``k -> list[Subset]`` sorted by RSS (weights refer to the unscaled columns).
    """
    groups, stiff = np.asarray(groups), np.asarray(stiff, dtype=bool)
    An, s = _normalise(A)
    G, c, yy = An.T @ An, An.T @ y, float(y @ y)
    out, prev = {}, []
    for k in range(1, int(max_terms) + 1):
        idx = _supports(groups, k)
        if idx is None:
            idx = _beam(groups, prev)
        if idx.size == 0:
            break
        idx = idx[stiff[idx].any(1)]
        w, rss = _solve_batched(G, c, yy, idx)
        ok = (w > ZERO * np.abs(w).max(1, keepdims=True)).all(1) & np.isfinite(rss)
        order = np.argsort(np.where(ok, rss, np.inf))
        found, seen = [], set()
        for i in order:
            if not ok[i]:
                break
            types = tuple(sorted(int(groups[j]) for j in idx[i]))
            if types in seen:
                continue
            seen.add(types)
            cols = tuple(int(j) for j in idx[i])
            wi, rn = nnls(An[:, list(cols)], y)
            if (wi <= 0).any():
                continue
            found.append(Subset(cols, wi / s[list(cols)], float(rn * rn)))
            if len(found) >= max(keep, BEAM if k < max_terms else keep):
                break
        found.sort(key=lambda t: t.rss)
        prev = found
        out[k] = found[:keep]
    return out


def _weighted_nnls(R: np.ndarray, Rt_inv_c: np.ndarray, lam: np.ndarray, Rt_inv: np.ndarray) -> np.ndarray:
    """``argmin_{w >= 0} 1/2 w'Gw - (c - lam)'w`` with ``G = R'R`` (Cholesky)."""
    w, _ = nnls(R, Rt_inv_c - Rt_inv @ lam)
    return w


def lp_path(A: np.ndarray, y: np.ndarray, p: float = 0.5, n_lambda: int = 40, reweights: int = 12,
            eps: float = 1e-6) -> list[Subset]:
    """Debiased solutions along the Lp path, from the empty model to the least-squares fit.

    Returns one :class:`Subset` per penalty ``lambda`` (geometric grid from
    ``max(A'y)`` down to ``1e-6`` of it), duplicates of the same active set removed.
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"p: expected 0 < p <= 1, got {p}")
    An, s = _normalise(A)
    G = An.T @ An + 1e-10 * np.eye(An.shape[1])
    c = An.T @ y
    R = np.linalg.cholesky(G).T
    Rt_inv = np.linalg.inv(R.T)
    Rt_inv_c = Rt_inv @ c
    lam_max = max(float(c.max()), 1e-300)
    w = np.zeros(An.shape[1])
    out, seen = [], set()
    for lam in np.geomspace(lam_max, 1e-6 * lam_max, n_lambda):
        for _ in range(reweights if p < 1 else 1):
            scale = np.ones_like(w) if p == 1 else p * (np.abs(w) + eps) ** (p - 1.0)
            w_new = _weighted_nnls(R, Rt_inv_c, lam * scale, Rt_inv)
            done = np.abs(w_new - w).max() <= 1e-10 * max(1.0, np.abs(w_new).max())
            w = w_new
            if done:
                break
        act = tuple(int(j) for j in np.flatnonzero(w > ZERO * max(np.abs(w).max(), 1e-300)))
        if not act or act in seen:
            continue
        seen.add(act)
        wa, rn = nnls(An[:, list(act)], y)
        keep = wa > 0
        cols = tuple(j for j, kk in zip(act, keep, strict=True) if kk)
        out.append(Subset(cols, wa[keep] / s[list(cols)], float(rn * rn)))
    return out
