"""Vectorised total-Lagrangian assembly (no Python loop over elements).

With reference gradients ``dN[e, q, a, J] = dN_a/dX_J`` and volume weights ``dV[e, q]``:

* deformation gradient  ``F[e,q,i,J] = delta_iJ + sum_a u[e,a,i] dN[e,q,a,J]``,
* internal force        ``f[e,a,i]   = sum_q P[e,q,i,J] dN[e,q,a,J] dV[e,q]``,
* stiffness             ``K[e,a,i,k,b] = sum_q dN[e,q,a,J] A[e,q,i,J,k,L] dN[e,q,b,L] dV[e,q]``,

with ``A = dP/dF``. Element matrices are summed into a CSR matrix whose pattern is computed
once (:class:`SparsityPattern`); every later assembly is a single weighted ``bincount`` into
the stored nonzeros. Reference: Bonet & Wood (2008), ch. 9 (TL formulation).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from .ckernel import available as ckernel_available
from .ckernel import element_stiffness_c

#: meshes with fewer elements keep the torch products (nothing to gain from compiling)
C_KERNEL_MIN_ELEMENTS = 64


def deformation_gradient(u_e: torch.Tensor, dN: torch.Tensor, node_major: bool = False) -> torch.Tensor:
    """``F = I + grad u`` (ne, nq, 3, 3) from element displacements u_e (ne, nen, 3).

    ``dN`` is (ne, nq, nen, 3); with ``node_major`` it is the same data laid out
    (ne, nen, nq, 3), and the product is one batched matrix product per element,
    ``u_e^T (3, nen) @ dN (nen, nq*3)`` (several times faster than the einsum).
    """
    if node_major:
        ne, nen, nq, _ = dN.shape
        H = torch.bmm(u_e.transpose(1, 2), dN.reshape(ne, nen, nq * 3)).reshape(ne, 3, nq, 3)
        H = H.transpose(1, 2)
    else:
        H = torch.einsum("eai,eqaj->eqij", u_e, dN)
    return H + torch.eye(3, dtype=H.dtype, device=H.device)


def element_forces(P: torch.Tensor, dN: torch.Tensor, dV: torch.Tensor) -> torch.Tensor:
    """Element internal forces (ne, nen, 3) from P (ne, nq, 3, 3)."""
    return torch.einsum("eqij,eqaj->eai", P * dV[..., None, None], dN)


def element_stiffness(A: torch.Tensor, dNa: torch.Tensor, dV: torch.Tensor,
                      dNb: torch.Tensor | None = None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Element matrices ``K[e, a, i, k, b] = sum_q dNa_aJ A_iJkL dNb_bL dV`` (ne, nen, 3, 3, nen).

    ``dNa`` (ne, nq, nen, g) and ``A`` (ne, nq, 3, g, 3, g): g = 3 for the displacement
    formulation, g = 6 for F-bar (gradients at the point and at the element centre). The
    layout ``(a, i, k, b)`` is the one produced by two batched matrix products without a copy
    of the large intermediate; :func:`element_matrix` gives the usual (ne, 3 nen, 3 nen) matrix.
    For float64 CPU tensors (and ``dNb`` not given) the compiled kernel of :mod:`.ckernel`
    computes the same sums about five times faster, into ``out`` (contiguous float64,
    (ne, nen, 3, 3, nen)) when given; the torch path ignores ``out``.
    """
    if dNb is None and _use_c_kernel(A, dNa):
        try:
            return element_stiffness_c(A, dNa, dV, out=out)
        except RuntimeError:  # no working compiler: the torch products below
            pass
    dNb = dNa if dNb is None else dNb
    ne, nq, nen, g = dNa.shape
    # U[(e,q), (J,i,k), b] = sum_L A[e,q,i,J,k,L] dNb[e,q,b,L]
    Ap = A.permute(0, 1, 3, 2, 4, 5).reshape(ne * nq, 9 * g, g)
    U = torch.bmm(Ap, dNb.reshape(ne * nq, nen, g).transpose(1, 2)).reshape(ne, nq * g, 9 * nen)
    # K[e, a, (i,k,b)] = sum_{q,J} dNa[e,q,a,J] dV[e,q] U[e,(q,J),(i,k,b)]
    G = (dNa * dV[..., None, None]).permute(0, 2, 1, 3).reshape(ne, nen, nq * g)
    return torch.bmm(G, U).reshape(ne, nen, 3, 3, nen)


def _use_c_kernel(A: torch.Tensor, dN: torch.Tensor) -> bool:
    """The compiled kernel serves float64 CPU tensors outside autograd (see :mod:`.ckernel`)."""
    plain = all(t.dtype == torch.float64 and t.device.type == "cpu" and not t.requires_grad
                for t in (A, dN))
    return plain and dN.shape[0] >= C_KERNEL_MIN_ELEMENTS and ckernel_available()


def element_matrix(K: torch.Tensor) -> torch.Tensor:
    """(ne, nen, 3, 3, nen) layout ``(a, i, k, b)`` -> (ne, 3 nen, 3 nen) with rows (a, i)."""
    ne, nen = K.shape[:2]
    return K.permute(0, 1, 2, 4, 3).reshape(ne, 3 * nen, 3 * nen)


def element_dofs(cells: np.ndarray) -> np.ndarray:
    """Global DOF numbers (ne, nen*3), node-major (3 a + i)."""
    return (3 * cells[:, :, None] + np.arange(3)).reshape(len(cells), -1)


def scatter_vector(fe: np.ndarray, dofs: np.ndarray, ndof: int) -> np.ndarray:
    """Sum element vectors (ne, nen*3) into a global vector."""
    return np.bincount(dofs.ravel(), weights=fe.ravel(), minlength=ndof)


class SparsityPattern:
    """CSR pattern of the stiffness restricted to ``free`` DOFs, computed once.

    ``assemble(Ke)`` returns the CSR matrix of the free-free block summed from element matrices
    Ke in the layout of :func:`element_stiffness` with one ``index_add`` (entries touching fixed
    DOFs go to a discarded slot).
    """

    def __init__(self, dofs: np.ndarray, ndof: int, free: np.ndarray | None = None):
        ne, m = dofs.shape
        nen = m // 3
        if free is None:
            free = np.arange(ndof)
        index = -np.ones(ndof, dtype=np.int64)
        index[free] = np.arange(len(free))
        self.nfree = len(free)
        loc = index[dofs].reshape(ne, nen, 3)  # -1 for fixed
        # element-matrix layout (e, a, i, k, b): row dof (a, i), column dof (b, k)
        rows = np.broadcast_to(loc[:, :, :, None, None], (ne, nen, 3, 3, nen)).ravel()
        cols = np.broadcast_to(loc.transpose(0, 2, 1)[:, None, None, :, :], (ne, nen, 3, 3, nen)).ravel()
        keep = (rows >= 0) & (cols >= 0)
        key = rows[keep] * self.nfree + cols[keep]
        uniq, inv = np.unique(key, return_inverse=True)
        self.nnz = len(uniq)
        self.keys = uniq  # sorted row * nfree + col
        self.map = np.full(ne * m * m, self.nnz, dtype=np.int64)
        self.map[keep] = inv.reshape(-1)
        r = uniq // self.nfree
        self.indices = (uniq % self.nfree).astype(np.int32)
        self.indptr = np.zeros(self.nfree + 1, dtype=np.int32)
        np.cumsum(np.bincount(r, minlength=self.nfree), out=self.indptr[1:])
        self._map_t = torch.from_numpy(self.map)

    def assemble_data(self, Ke: torch.Tensor) -> np.ndarray:
        """Nonzero values (nnz,) in CSR order from element matrices (ne, nen, 3, 3, nen)."""
        out = torch.zeros(self.nnz + 1, dtype=Ke.dtype)
        out.index_add_(0, self._map_t, Ke.reshape(-1))
        return out[:-1].numpy()

    def assemble(self, Ke: torch.Tensor) -> sp.csr_matrix:
        """CSR matrix of the free block from element matrices (pattern computed once)."""
        data = self.assemble_data(Ke)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.nfree, self.nfree))
