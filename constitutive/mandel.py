"""Mandel notation for symmetric second- and fourth-order tensors (the engine's only notation).

Mandel vector of a symmetric 3x3 tensor ``A`` (order 11, 22, 33, 23, 13, 12)::

    a = [A11, A22, A33, sqrt2*A23, sqrt2*A13, sqrt2*A12]

The Mandel basis is orthonormal, so ``a . b == A : B`` and the 6x6 Mandel matrix of a
fourth-order tensor with minor symmetries, ``D[I, J] = w_I w_J C[i j k l]`` (``w = 1`` on normal,
``sqrt2`` on shear components), has the eigenvalues of the tensor and inverts to the Mandel matrix
of its inverse on symmetric tensors.

Voigt notation and the Abaqus ordering are exchange formats used only at the edges:
:mod:`constitutive.interfaces.notation`.

Reference: Mehrabadi & Cowin (1990), Eigentensors of linear anisotropic elastic materials,
Q. J. Mech. Appl. Math. 43:15-41.
"""

from __future__ import annotations

import math

import torch

SQRT2 = math.sqrt(2.0)

#: (i, j) index pairs of the Mandel / standard Voigt order 11, 22, 33, 23, 13, 12.
MANDEL_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))
_ROWS = [p[0] for p in MANDEL_PAIRS]
_COLS = [p[1] for p in MANDEL_PAIRS]
# full (i, j) -> Mandel index, for both triangles
_FULL_TO_MANDEL = [[0, 5, 4], [5, 1, 3], [4, 3, 2]]


def _weights(x: torch.Tensor) -> torch.Tensor:
    return torch.tensor([1.0, 1.0, 1.0, SQRT2, SQRT2, SQRT2], dtype=x.dtype, device=x.device)


def _check_trailing(x: torch.Tensor, shape: tuple[int, ...], name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape[x.ndim - len(shape):]) != shape or x.ndim < len(shape):
        raise ValueError(
            f"{name}: expected trailing shape {shape}, got shape {tuple(x.shape)}"
        )


# ----------------------------------------------------------------------------- order 2
def to_mandel(A: torch.Tensor) -> torch.Tensor:
    """Mandel vector of the symmetric part of ``A``.

    ``a = [A11, A22, A33, sqrt2 A23, sqrt2 A13, sqrt2 A12]`` with ``Aij`` the symmetric part.

    Parameters
    ----------
    A : (..., 3, 3) tensor

    Returns
    -------
    (..., 6) tensor
    """
    _check_trailing(A, (3, 3), "A")
    As = 0.5 * (A + A.transpose(-1, -2))
    return As[..., _ROWS, _COLS] * _weights(A)


def from_mandel(a: torch.Tensor) -> torch.Tensor:
    """Symmetric 3x3 tensor of a Mandel vector (inverse of :func:`to_mandel`).

    Parameters
    ----------
    a : (..., 6) tensor

    Returns
    -------
    (..., 3, 3) symmetric tensor
    """
    _check_trailing(a, (6,), "a")
    v = a / _weights(a)
    idx = torch.tensor(_FULL_TO_MANDEL, device=a.device).reshape(-1)
    return v[..., idx].reshape(*a.shape[:-1], 3, 3)


# ----------------------------------------------------------------------------- order 4
def to_mandel4(C: torch.Tensor) -> torch.Tensor:
    """6x6 Mandel matrix of a fourth-order tensor, ``D[I, J] = w_I w_J C[i j k l]``.

    The tensor is first averaged over its minor symmetries, so a tensor without them (e.g.
    ``dP/dF``) is projected onto symmetric-to-symmetric maps.

    Parameters
    ----------
    C : (..., 3, 3, 3, 3) tensor

    Returns
    -------
    (..., 6, 6) tensor
    """
    _check_trailing(C, (3, 3, 3, 3), "C")
    Cs = 0.25 * (C + C.transpose(-3, -4) + C.transpose(-1, -2) + C.transpose(-3, -4).transpose(-1, -2))
    r = torch.tensor(_ROWS, device=C.device)
    c = torch.tensor(_COLS, device=C.device)
    D = Cs[..., r[:, None], c[:, None], r[None, :], c[None, :]]
    w = _weights(C)
    return D * w[:, None] * w[None, :]


def from_mandel4(D: torch.Tensor) -> torch.Tensor:
    """Fourth-order tensor (with minor symmetries) of a 6x6 Mandel matrix.

    Parameters
    ----------
    D : (..., 6, 6) tensor

    Returns
    -------
    (..., 3, 3, 3, 3) tensor
    """
    _check_trailing(D, (6, 6), "D")
    w = _weights(D)
    V = D / (w[:, None] * w[None, :])
    idx = torch.tensor(_FULL_TO_MANDEL, device=D.device).reshape(-1)
    return V[..., idx[:, None], idx[None, :]].reshape(*D.shape[:-2], 3, 3, 3, 3)


# ----------------------------------------------------------------------------- identities
def identity2(dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Second-order identity ``I`` as a 3x3 tensor."""
    return torch.eye(3, dtype=dtype, device=device)


def identity2_mandel(dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Mandel vector of the second-order identity, ``[1, 1, 1, 0, 0, 0]``."""
    return torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0], dtype=dtype, device=device)


def identity4_sym(dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Symmetric fourth-order identity ``Is_ijkl = (d_ik d_jl + d_il d_jk) / 2``, (3,3,3,3)."""
    d = torch.eye(3, dtype=dtype, device=device)
    return 0.5 * (torch.einsum("ik,jl->ijkl", d, d) + torch.einsum("il,jk->ijkl", d, d))


def identity4_sym_mandel(dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Mandel matrix of the symmetric identity: the 6x6 identity."""
    return torch.eye(6, dtype=dtype, device=device)


def projector_volumetric(dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Volumetric projector ``P_vol = (I x I) / 3`` as a (3,3,3,3) tensor."""
    d = torch.eye(3, dtype=dtype, device=device)
    return torch.einsum("ij,kl->ijkl", d, d) / 3.0


def projector_deviatoric(dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Deviatoric projector ``P_dev = Is - (I x I) / 3`` as a (3,3,3,3) tensor."""
    return identity4_sym(dtype, device) - projector_volumetric(dtype, device)


def projector_volumetric_mandel(dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Mandel matrix of the volumetric projector (6x6)."""
    i = identity2_mandel(dtype, device)
    return torch.outer(i, i) / 3.0


def projector_deviatoric_mandel(dtype: torch.dtype = torch.float64, device=None) -> torch.Tensor:
    """Mandel matrix of the deviatoric projector (6x6)."""
    return torch.eye(6, dtype=dtype, device=device) - projector_volumetric_mandel(dtype, device)


def isotropic_stiffness_mandel(
    shear_modulus, bulk_modulus, dtype: torch.dtype = torch.float64, device=None
) -> torch.Tensor:
    """Isotropic linear-elastic stiffness ``3K P_vol + 2G P_dev`` as a 6x6 Mandel matrix."""
    return 3.0 * bulk_modulus * projector_volumetric_mandel(dtype, device) + (
        2.0 * shear_modulus * projector_deviatoric_mandel(dtype, device)
    )
