"""Term libraries for model discovery and the grid of inner exponents they are screened on.

A library is a set of *term types* (``("I1", "exp")``, ``("L", "ogden")``, ...; the term
functions live in :mod:`materials.discovered`). A discovered model holds each type at most once
(:func:`groups`). For screening, every type with an inner exponent is expanded into a few
*candidates* whose ``b`` is set from the range the data reach (``x_max`` of the invariant, so
that the term is neither linear nor astronomically stiff on the data)::

    exp:   b x_max   in (1, 1.5, 2, 3, 4, 6)      exp2:  b x_max^2 on the same grid
    log:   b x_max   in (0.4, 0.6, 0.75, 0.9)     (the locking point 1/b stays beyond the data)

Smaller exponents are left to the refit: near ``b = 0`` a term is its linear limit, which the
library holds as a term of its own.
    ogden: alpha from the library's list         (rubber: +-1, 1.5, 3, 4, 6; tissue: down to -24)

The screening solves a linear least-squares problem per support (:mod:`.subsets`); the winners
are refined with ``b`` free inside the term's convex range (:mod:`.refine`).

Libraries (``library=``):

* ``rubber``: CANN's rubber set (Linka & Kuhl 2023) -- ``I1``, ``I2`` with ``lin``, ``sq``,
  ``exp``, ``exp2``, ``log`` -- plus one Ogden term;
* ``tissue``: the same invariant terms, an Ogden term with exponents down to ``-24`` (brain
  tissue: Budday et al. 2017), and, with a fibre direction, ``I4``/``J5`` ``sq``/``exp2``
  (tension only);
* ``cann``: CANN's published eight-term rubber network (``I1``, ``I2`` with ``lin``, ``exp``,
  ``sq``, ``exp2``), for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from materials.discovered import INNER, fibre_arguments, format_terms, shear_factor

Term = tuple[str, str]

_ISO = tuple((inv, f) for inv in ("I1", "I2") for f in ("lin", "sq", "exp", "exp2", "log"))
_FIBRE = tuple((inv, f) for inv in ("I4", "J5") for f in ("sq", "exp2"))
_OGDEN: Term = ("L", "ogden")
#: dimensionless grid b * x_max (exp, log) or b * x_max^2 (exp2)
GRID = {"exp": (1.0, 1.5, 2.0, 3.0, 4.0, 6.0), "exp2": (1.0, 1.5, 2.0, 3.0, 4.0, 6.0),
        "log": (0.4, 0.6, 0.75, 0.9)}
#: Ogden exponents are bounded, |alpha| <= ALPHA_MAX (principal sums accurate to |alpha| <= 30)
ALPHA_MAX = 30.0


@dataclass(frozen=True)
class Candidate:
    """One screening column: a term type and a fixed inner exponent ``b``."""

    term: Term
    b: float

    @property
    def label(self) -> str:
        """Term token with its inner exponent, e.g. ``I1:exp(b=0.03)``."""
        name = format_terms([self.term])
        return name if self.term[1] not in INNER else f"{name}(b={self.b:.4g})"


@dataclass(frozen=True)
class Library:
    """Term types of a library, the Ogden exponents screened, an optional fibre direction."""

    name: str
    terms: tuple[Term, ...]
    alphas: tuple[float, ...] = ()
    fibre: tuple[float, float, float] | None = None

    def candidates(self, x_max: dict) -> list[Candidate]:
        """Screening columns for data reaching ``x_max[inv]`` (invariant -> largest value)."""
        out = []
        for t in self.terms:
            if t[1] == "ogden":
                out += [Candidate(t, float(a)) for a in self.alphas]
            elif t[1] in GRID:
                xm = max(float(x_max.get(t[0], 0.0)), 1e-12)
                scale = xm * xm if t[1] == "exp2" else xm
                out += [Candidate(t, float(g / scale)) for g in GRID[t[1]]]
            else:
                out.append(Candidate(t, 1.0))
        return out


def get_library(name, fibre=None) -> Library:
    """The library ``name`` (``rubber``, ``tissue``, ``cann``, or a :class:`Library` of one's own);
    ``fibre`` adds the I4/J5 terms."""
    if isinstance(name, Library):
        lib = name
        if fibre is not None or lib.fibre is not None:
            a = np.asarray(fibre if fibre is not None else lib.fibre, dtype=float).reshape(-1)
            lib = Library(lib.name, lib.terms, lib.alphas, tuple(float(v) for v in a / np.linalg.norm(a)))
        return lib
    key = str(name).strip().lower()
    if key == "rubber":
        lib = Library("rubber", _ISO + (_OGDEN,), (-6.0, -4.0, -3.0, -1.0, 1.0, 1.5, 3.0, 4.0, 6.0))
    elif key == "tissue":
        lib = Library("tissue", _ISO + (_OGDEN,), (-24.0, -16.0, -8.0, -4.0, -1.0, 1.0, 4.0, 8.0))
    elif key == "cann":
        lib = Library("cann", tuple((inv, f) for inv in ("I1", "I2") for f in ("lin", "exp", "sq", "exp2")))
    else:
        raise ValueError(f"library: expected 'rubber', 'tissue' or 'cann', got {name!r}")
    if fibre is not None:
        a = np.asarray(fibre, dtype=float).reshape(-1)
        if a.size != 3 or not np.linalg.norm(a) > 0:
            raise ValueError(f"fibre: expected a nonzero 3-vector, got {fibre!r}")
        unit = tuple(float(v) for v in a / np.linalg.norm(a))
        lib = Library(lib.name, lib.terms + _FIBRE, lib.alphas, unit)
    return lib


def invariant_ranges(F: np.ndarray, fibre=None) -> dict:
    """Largest ``Ib1 - 3``, ``Ib2 - 3`` (and ``I4 - 1``, ``J5 - 1``) over deformations F (n,3,3)."""
    import torch

    F = np.asarray(F, dtype=np.float64).reshape(-1, 3, 3)
    C = np.einsum("nki,nkj->nij", F, F)
    J23 = np.linalg.det(C) ** (-1.0 / 3.0)
    I1 = np.trace(C, axis1=1, axis2=2)
    I2 = 0.5 * (I1 * I1 - np.einsum("nij,nji->n", C, C))
    out = {"I1": float((I1 * J23 - 3).max()), "I2": float((I2 * J23 * J23 - 3).max())}
    if fibre is not None:
        E = torch.as_tensor(0.5 * (C - np.eye(3)))
        x4, x5 = fibre_arguments(E, torch.as_tensor(np.asarray(fibre, dtype=np.float64)))
        out.update(I4=float(x4.max()), J5=float(x5.max()))
    return out


def groups(cands: list[Candidate], split_ogden: bool = False) -> list[int]:
    """Group of each candidate: its term type (a support holds one term per group).

    ``split_ogden`` puts Ogden terms with ``alpha > 0`` and ``alpha < 0`` in two groups (two Ogden
    terms per model, as in Ogden's rubber model). Not the default: trained on equibiaxial
    Treloar data alone, BIC then picks two Ogden terms (alpha = -2.8, 1.7) that predict uniaxial
    tension with R^2 = 0.18 (docs/discovery.md).
    """
    keys = [c.term + (("+" if c.b > 0 else "-"),) if c.term[1] == "ogden" and split_ogden else c.term
            for c in cands]
    order = list(dict.fromkeys(keys))
    return [order.index(k) for k in keys]


def stiff(term: Term) -> bool:
    """Whether the term has an initial shear stiffness (a support needs one: ``G > 0``)."""
    return shear_factor(term) > 0.0
