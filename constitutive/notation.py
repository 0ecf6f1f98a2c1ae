"""Vector and matrix notations of symmetric second- and fourth-order tensors (NumPy, at the edges).

Each notation lists the six index pairs in its order, the factor on shear components of strain
vectors and of stress vectors, and an ordering label written into exported files:

==========  ====================  ============  ============
notation    ordering              strain shear  stress shear
==========  ====================  ============  ============
``mandel``  11,22,33,23,13,12     sqrt(2)       sqrt(2)
``voigt``   11,22,33,23,13,12     2 (eng.)      1
``abaqus``  11,22,33,12,13,23     2 (eng.)      1
``tensor``  full (...,3,3[,3,3])  1             1
==========  ====================  ============  ============

A tangent matrix ``T`` maps strain vectors to stress vectors:
``T[I, J] = f_s(I) m(J) / f_e(J) C[ij kl]`` with the pair ``ij`` of row ``I``, ``kl`` of column
``J``, shear factors ``f_s``/``f_e`` on stress/strain and multiplicity ``m = 2`` for shear
columns (1 otherwise): Mandel ``D = w w C`` (orthonormal basis), Voigt stiffness ``C[ij kl]``.
The torch counterparts used inside the engine are in :mod:`constitutive.mandel`.

Reference: Mandel (1965); Helnwein (2001), Comput. Methods Appl. Mech. Eng. 190:2753.
"""

from __future__ import annotations

import math

import numpy as np

SQRT2 = math.sqrt(2.0)
_STD = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
_ABQ = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
#: notation -> (index pairs, strain shear factor, stress shear factor, ordering label)
NOTATIONS = {
    "mandel": (_STD, SQRT2, SQRT2, "11,22,33,23,13,12"),
    "voigt": (_STD, 2.0, 1.0, "11,22,33,23,13,12"),
    "abaqus": (_ABQ, 2.0, 1.0, "11,22,33,12,13,23"),
    "tensor": (None, 1.0, 1.0, "full tensor: stress[n, i, j], tangent[n, i, j, k, l] (C order)"),
}
#: tangent kind -> (default stress measure, strain measure, definition)


def check_notation(notation: str) -> None:
    """Raise ``ValueError`` unless ``notation`` is one of :data:`NOTATIONS`."""
    if notation not in NOTATIONS:
        raise ValueError(f"notation: expected one of {list(NOTATIONS)}, got {notation!r}")


def _factors(notation: str):
    pairs, fe, fs, _ = NOTATIONS[notation]
    shear = np.array([i != j for i, j in pairs])
    f_strain = np.where(shear, fe, 1.0)
    f_stress = np.where(shear, fs, 1.0)
    mult = np.where(shear, 2.0, 1.0)
    return pairs, f_stress, mult / f_strain


def stress_to_vector(A: np.ndarray, notation: str) -> np.ndarray:
    """(..., 3, 3) symmetric stress -> (..., 6) vector of ``notation`` (uses the symmetric part)."""
    check_notation(notation)
    if notation == "tensor":
        return np.asarray(A)
    pairs, f_s, _ = _factors(notation)
    As = 0.5 * (A + np.swapaxes(A, -1, -2))
    return np.stack([As[..., i, j] for i, j in pairs], -1) * f_s


def vector_to_stress(v: np.ndarray, notation: str) -> np.ndarray:
    """(..., 6) stress vector of ``notation`` -> (..., 3, 3) symmetric tensor."""
    check_notation(notation)
    if notation == "tensor":
        return np.asarray(v)
    pairs, f_s, _ = _factors(notation)
    out = np.zeros((*v.shape[:-1], 3, 3))
    for I, (i, j) in enumerate(pairs):
        out[..., i, j] = out[..., j, i] = v[..., I] / f_s[I]
    return out


def tangent_to_matrix(C: np.ndarray, notation: str) -> np.ndarray:
    """(..., 3, 3, 3, 3) tangent with minor symmetries -> (..., 6, 6) matrix of ``notation``."""
    check_notation(notation)
    if notation == "tensor":
        return np.asarray(C)
    pairs, f_s, g = _factors(notation)
    Cs = 0.25 * (C + np.swapaxes(C, -4, -3) + np.swapaxes(C, -2, -1)
                 + np.swapaxes(np.swapaxes(C, -4, -3), -2, -1))
    out = np.empty((*C.shape[:-4], 6, 6))
    for I, (i, j) in enumerate(pairs):
        for J, (k, l) in enumerate(pairs):
            out[..., I, J] = f_s[I] * g[J] * Cs[..., i, j, k, l]
    return out


def matrix_to_tangent(T: np.ndarray, notation: str) -> np.ndarray:
    """(..., 6, 6) matrix of ``notation`` -> (..., 3, 3, 3, 3) tensor with minor symmetries."""
    check_notation(notation)
    if notation == "tensor":
        return np.asarray(T)
    pairs, f_s, g = _factors(notation)
    out = np.zeros((*T.shape[:-2], 3, 3, 3, 3))
    for I, (i, j) in enumerate(pairs):
        for J, (k, l) in enumerate(pairs):
            val = T[..., I, J] / (f_s[I] * g[J])
            for a, b in ((i, j), (j, i)):
                for c, d in ((k, l), (l, k)):
                    out[..., a, b, c, d] = val
    return out
