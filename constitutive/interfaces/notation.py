"""Vector and matrix notations of symmetric second- and fourth-order tensors: the one table.

The engine speaks Mandel vectors and full tensors only; every other convention lives here and
is used at the edges (export, Abaqus UMAT, cards, peers). Each notation lists the six index
pairs in its order, the factor on shear components of strain vectors and of stress vectors,
and an ordering label written into exported files:

==========  ====================  ============  ============
notation    ordering              strain shear  stress shear
==========  ====================  ============  ============
``mandel``  11,22,33,23,13,12     sqrt(2)       sqrt(2)
``voigt``   11,22,33,23,13,12     2 (eng.)      1
``abaqus``  11,22,33,12,13,23     2 (eng.)      1
``tensor``  full (...,3,3[,3,3])  1             1
==========  ====================  ============  ============

A matrix mapping vectors of quantity ``a`` (strain for a stiffness, stress for a compliance)
to vectors of quantity ``b`` holds ``T[I, J] = f_b(I) m(J) / f_a(J) X[ij kl]`` with the pair ``ij``
of row ``I``, ``kl`` of column ``J``, shear factors ``f`` and multiplicity ``m = 2`` for shear
columns (1 otherwise): the Mandel stiffness is ``D = w w C`` (orthonormal basis), the Voigt
stiffness holds plain components ``C[ij kl]``, the Voigt compliance ``f_I f_J S[ij kl]`` with
``f = 2`` on shear.

Every function takes NumPy arrays or torch tensors (batch dimensions first) and returns the
same kind, vectorised (no Python loop over points).

Reference: Mandel (1965), Mécanique des milieux continus; Mehrabadi & Cowin (1990), Q. J. Mech.
Appl. Math. 43:15; Helnwein (2001), Comput. Methods Appl. Mech. Eng. 190:2753.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

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
QUANTITIES = ("stress", "strain")


def check_notation(notation: str) -> None:
    """Raise ``ValueError`` unless ``notation`` is one of :data:`NOTATIONS`."""
    if notation not in NOTATIONS:
        raise ValueError(f"notation: expected one of {list(NOTATIONS)}, got {notation!r}")


@functools.cache
def _table(notation: str):
    """rows, cols, full->vector index (9,), shear factors of strain and stress, multiplicity."""
    check_notation(notation)
    pairs, fe, fs, _ = NOTATIONS[notation]
    rows = np.array([i for i, _ in pairs])
    cols = np.array([j for _, j in pairs])
    full = np.empty((3, 3), dtype=np.int64)
    for k, (i, j) in enumerate(pairs):
        full[i, j] = full[j, i] = k
    shear = rows != cols
    factor = {"strain": np.where(shear, fe, 1.0), "stress": np.where(shear, fs, 1.0)}
    return rows, cols, full.reshape(-1), factor, np.where(shear, 2.0, 1.0)


def _factor(quantity: str) -> None:
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity: expected one of {list(QUANTITIES)}, got {quantity!r}")


def _like(a, values: np.ndarray):
    """``values`` as the array type of ``a`` (same dtype and device for tensors)."""
    if isinstance(a, torch.Tensor):
        dtype = a.dtype if a.is_floating_point() else torch.float64
        if values.dtype.kind == "i":
            return torch.as_tensor(values, device=a.device)
        return torch.as_tensor(values, dtype=dtype, device=a.device)
    return values


def _check_trailing(a, shape: tuple[int, ...], name: str) -> None:
    if not hasattr(a, "shape"):
        raise TypeError(f"{name}: expected an array or tensor, got {type(a).__name__}")
    if len(a.shape) < len(shape) or tuple(a.shape[len(a.shape) - len(shape):]) != shape:
        raise ValueError(f"{name}: expected trailing shape {shape}, got shape {tuple(a.shape)}")


def _sym2(A):
    return 0.5 * (A + A.swapaxes(-1, -2))


def _sym4(C):
    Ct = C.swapaxes(-4, -3)
    return 0.25 * (C + Ct + C.swapaxes(-2, -1) + Ct.swapaxes(-2, -1))


# ----------------------------------------------------------------------------- order 2
def tensor_to_vector(A, notation: str, quantity: str = "stress"):
    """(..., 3, 3) symmetric tensor -> (..., 6) vector of ``notation`` (symmetric part used).

    ``quantity`` selects the shear factor: ``"stress"`` or ``"strain"`` (engineering shear
    ``2 E12`` in Voigt and Abaqus notation).
    """
    _factor(quantity)
    check_notation(notation)
    _check_trailing(A, (3, 3), "A")
    if notation == "tensor":
        return A
    rows, cols, _, f, _ = _table(notation)
    As = _sym2(A)
    return As[..., _like(A, rows), _like(A, cols)] * _like(A, f[quantity])


def vector_to_tensor(v, notation: str, quantity: str = "stress"):
    """(..., 6) vector of ``notation`` -> (..., 3, 3) symmetric tensor."""
    _factor(quantity)
    check_notation(notation)
    if notation == "tensor":
        return v
    _check_trailing(v, (6,), "v")
    _, _, full, f, _ = _table(notation)
    out = (v / _like(v, f[quantity]))[..., _like(v, full)]
    return out.reshape(*v.shape[:-1], 3, 3)


def stress_to_vector(A, notation: str):
    """(..., 3, 3) symmetric stress -> (..., 6) stress vector of ``notation``."""
    return tensor_to_vector(A, notation, "stress")


def vector_to_stress(v, notation: str):
    """(..., 6) stress vector of ``notation`` -> (..., 3, 3) symmetric tensor."""
    return vector_to_tensor(v, notation, "stress")


def strain_to_vector(E, notation: str):
    """(..., 3, 3) symmetric strain -> (..., 6) strain vector of ``notation``."""
    return tensor_to_vector(E, notation, "strain")


def vector_to_strain(v, notation: str):
    """(..., 6) strain vector of ``notation`` -> (..., 3, 3) symmetric tensor."""
    return vector_to_tensor(v, notation, "strain")


# ----------------------------------------------------------------------------- order 4
def _weights(notation: str, maps_to: str):
    _, _, _, f, m = _table(notation)
    src = "strain" if maps_to == "stress" else "stress"
    return f[maps_to][:, None] * (m / f[src])[None, :]


def tensor4_to_matrix(C, notation: str, maps_to: str = "stress"):
    """(..., 3, 3, 3, 3) tensor with minor symmetries -> (..., 6, 6) matrix of ``notation``.

    ``maps_to="stress"``: a stiffness (strain vector -> stress vector); ``"strain"``: a
    compliance (stress vector -> strain vector). The tensor is averaged over its minor
    symmetries first.
    """
    _factor(maps_to)
    check_notation(notation)
    _check_trailing(C, (3, 3, 3, 3), "C")
    if notation == "tensor":
        return C
    rows, cols, _, _, _ = _table(notation)
    r, c = _like(C, rows), _like(C, cols)
    Cs = _sym4(C)
    return Cs[..., r[:, None], c[:, None], r[None, :], c[None, :]] * _like(C, _weights(notation, maps_to))


def matrix_to_tensor4(T, notation: str, maps_to: str = "stress"):
    """(..., 6, 6) matrix of ``notation`` -> (..., 3, 3, 3, 3) tensor with minor symmetries."""
    _factor(maps_to)
    check_notation(notation)
    if notation == "tensor":
        return T
    _check_trailing(T, (6, 6), "T")
    _, _, full, _, _ = _table(notation)
    i = _like(T, full)
    out = (T / _like(T, _weights(notation, maps_to)))[..., i[:, None], i[None, :]]
    return out.reshape(*T.shape[:-2], 3, 3, 3, 3)


def tangent_to_matrix(C, notation: str):
    """Stiffness (tangent) tensor (..., 3, 3, 3, 3) -> (..., 6, 6) matrix of ``notation``."""
    return tensor4_to_matrix(C, notation, "stress")


def matrix_to_tangent(T, notation: str):
    """(..., 6, 6) stiffness matrix of ``notation`` -> (..., 3, 3, 3, 3) tangent tensor."""
    return matrix_to_tensor4(T, notation, "stress")


def compliance_to_matrix(S, notation: str):
    """Compliance tensor (..., 3, 3, 3, 3) -> (..., 6, 6) matrix (stress -> strain vectors)."""
    return tensor4_to_matrix(S, notation, "strain")


def matrix_to_compliance(M, notation: str):
    """(..., 6, 6) compliance matrix of ``notation`` -> (..., 3, 3, 3, 3) tensor."""
    return matrix_to_tensor4(M, notation, "strain")


# ----------------------------------------------------------------------------- between notations
def convert_vector(v, source: str, target: str, quantity: str = "stress"):
    """A (..., 6) vector of ``quantity`` from notation ``source`` to ``target``."""
    return tensor_to_vector(vector_to_tensor(v, source, quantity), target, quantity)


def convert_matrix(T, source: str, target: str, maps_to: str = "stress"):
    """A (..., 6, 6) stiffness (``maps_to="stress"``) or compliance matrix between notations."""
    return tensor4_to_matrix(matrix_to_tensor4(T, source, maps_to), target, maps_to)
