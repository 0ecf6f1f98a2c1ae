"""Closed-form algebra on batches of 3x3 tensors, shape ``(..., 3, 3)``.

Every function is written with explicit component arithmetic so that it is fast on millions of
small matrices (no LU factorisation) and twice differentiable by autograd, forward and reverse.
``torch.linalg.det`` is avoided on purpose: its derivatives under ``vmap(jacfwd(grad))`` were
measured wrong in torch 2.13 (see DESIGN.md, "Known pitfalls").

Reference: Holzapfel (2000), Nonlinear Solid Mechanics, Wiley, ch. 1 and 6.
"""

from __future__ import annotations

import torch


def trace(A: torch.Tensor) -> torch.Tensor:
    """``tr A = A11 + A22 + A33``; (...,3,3) -> (...)."""
    return A[..., 0, 0] + A[..., 1, 1] + A[..., 2, 2]


def sym(A: torch.Tensor) -> torch.Tensor:
    """Symmetric part ``(A + A^T) / 2``."""
    return 0.5 * (A + A.transpose(-1, -2))


def skew(A: torch.Tensor) -> torch.Tensor:
    """Skew part ``(A - A^T) / 2``."""
    return 0.5 * (A - A.transpose(-1, -2))


def identity_like(A: torch.Tensor) -> torch.Tensor:
    """3x3 identity with the dtype and device of ``A``, broadcastable against it."""
    return torch.eye(3, dtype=A.dtype, device=A.device)


def dev(A: torch.Tensor) -> torch.Tensor:
    """Deviator ``A - (tr A / 3) I``."""
    return A - (trace(A) / 3.0)[..., None, None] * identity_like(A)


def det(A: torch.Tensor) -> torch.Tensor:
    """Determinant by the rule of Sarrus (closed form); (...,3,3) -> (...)."""
    a = A
    return (
        a[..., 0, 0] * (a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1])
        - a[..., 0, 1] * (a[..., 1, 0] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 0])
        + a[..., 0, 2] * (a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0])
    )


def cofactor(A: torch.Tensor) -> torch.Tensor:
    """Cofactor matrix ``cof A = det(A) A^{-T}`` (closed form, also for singular A)."""
    a = A
    c00 = a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1]
    c01 = a[..., 1, 2] * a[..., 2, 0] - a[..., 1, 0] * a[..., 2, 2]
    c02 = a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0]
    c10 = a[..., 0, 2] * a[..., 2, 1] - a[..., 0, 1] * a[..., 2, 2]
    c11 = a[..., 0, 0] * a[..., 2, 2] - a[..., 0, 2] * a[..., 2, 0]
    c12 = a[..., 0, 1] * a[..., 2, 0] - a[..., 0, 0] * a[..., 2, 1]
    c20 = a[..., 0, 1] * a[..., 1, 2] - a[..., 0, 2] * a[..., 1, 1]
    c21 = a[..., 0, 2] * a[..., 1, 0] - a[..., 0, 0] * a[..., 1, 2]
    c22 = a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]
    rows = [torch.stack(r, -1) for r in ((c00, c01, c02), (c10, c11, c12), (c20, c21, c22))]
    return torch.stack(rows, -2)


def inv(A: torch.Tensor) -> torch.Tensor:
    """Inverse ``A^{-1} = (cof A)^T / det A`` (closed form)."""
    return cofactor(A).transpose(-1, -2) / det(A)[..., None, None]


def invariants(A: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Principal invariants ``I1 = tr A``, ``I2 = (I1^2 - tr A^2) / 2``, ``I3 = det A``."""
    I1 = trace(A)
    trA2 = (A * A.transpose(-1, -2)).sum((-1, -2))
    return I1, 0.5 * (I1 * I1 - trA2), det(A)


def isochoric_invariants(C: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Isochoric invariants of a right Cauchy-Green tensor ``C`` and ``J = sqrt(det C)``.

    ``I1b = J^{-2/3} I1``, ``I2b = J^{-4/3} I2`` (invariants of ``Cb = J^{-2/3} C``).
    """
    I1, I2, I3 = invariants(C)
    J = torch.sqrt(I3)
    Jm23 = I3 ** (-1.0 / 3.0)
    return I1 * Jm23, I2 * Jm23 * Jm23, J


def ddot(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Double contraction ``A : B = A_ij B_ij``; (...,3,3),(...,3,3) -> (...)."""
    return (A * B).sum((-1, -2))


def matmul(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Batched matrix product ``A B``."""
    return A @ B


def dyad(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Dyadic product ``(A x B)_ijkl = A_ij B_kl``."""
    return A[..., :, :, None, None] * B[..., None, None, :, :]


def sym_eigvalsh(A: torch.Tensor) -> torch.Tensor:
    """Eigenvalues (ascending) of symmetric 3x3 tensors, (...,3). Values only, no gradients
    through repeated roots: use it for diagnostics, not inside energies of principal stretches."""
    return torch.linalg.eigvalsh(sym(A))
