"""Compiled element-stiffness kernel: ``K[e,a,i,k,b] = sum_q dN_aJ A_iJkL dN_bL dV`` in one C loop.

torch evaluates the element matrices as batched products of tiny matrices (64 000 products of
27x3 by 3x8 for 8 000 hexahedra), which run at 1-2 GFLOP/s. The same contraction written as one
loop over elements, with the element matrix kept in cache and the innermost loops running over
the element's nodes (``b``) and tangent columns (``k, L``), vectorises with SIMD and needs no
intermediate arrays. Per quadrature point

    T[a, i, (k, L)] = dV sum_J dN[a, J] A[i, J, (k, L)]          (nen * 3 * g * 3g)
    K[a, i, k, b]  += sum_L T[a, i, (k, L)] dN[b, L]             (nen * 9 * g * nen)

with ``g`` gradient components per node (3; 6 for F-bar's point and centre gradients). The
source is specialised for ``(nen, nq, g)``, compiled once with the fast path's compiler
settings and cached on disk (:mod:`constitutive.native`); elements are split across
``torch.get_num_threads()`` threads. Without a C compiler, or with ``CONSTITUTIVE_FAST=0``,
:func:`constitutive.fem.assembly.element_stiffness` keeps its torch implementation (the
results agree to rounding, ``tests/test_fem_basics.py``).
"""

from __future__ import annotations

import ctypes
import functools

import torch

from constitutive import fast
from constitutive.native import compile_source, compiler, run_split

#: elements per thread below which one thread is used
MIN_ELEMENTS_PER_THREAD = 256

_SOURCE = r"""
#include <stdint.h>
#include <string.h>
#define NEN {nen}
#define NQ {nq}
#define G {g}
#define KL (3 * G)

void stiffness(int64_t ne, const double *restrict A, const double *restrict dN,
               const double *restrict dV, double *restrict K)
{{
    for (int64_t e = 0; e < ne; ++e) {{
        double Ke[NEN * 3][3][NEN];
        memset(Ke, 0, sizeof Ke);
        for (int q = 0; q < NQ; ++q) {{
            const double *Aq = A + (e * NQ + q) * (3 * G * KL);
            const double *dNq = dN + (e * NQ + q) * (NEN * G);
            const double w = dV[e * NQ + q];
            double dNt[G][NEN];
            for (int b = 0; b < NEN; ++b)
                for (int L = 0; L < G; ++L) dNt[L][b] = dNq[b * G + L];
            double T[NEN * 3][KL];
            for (int a = 0; a < NEN; ++a)
                for (int i = 0; i < 3; ++i) {{
                    double *t = T[a * 3 + i];
                    #pragma omp simd
                    for (int c = 0; c < KL; ++c) t[c] = 0.0;
                    for (int J = 0; J < G; ++J) {{
                        const double d = w * dNq[a * G + J];
                        const double *Ar = Aq + (i * G + J) * KL;
                        #pragma omp simd
                        for (int c = 0; c < KL; ++c) t[c] += d * Ar[c];
                    }}
                }}
            for (int r = 0; r < NEN * 3; ++r)
                for (int k = 0; k < 3; ++k)
                    for (int L = 0; L < G; ++L) {{
                        const double t = T[r][k * G + L];
                        #pragma omp simd
                        for (int b = 0; b < NEN; ++b) Ke[r][k][b] += t * dNt[L][b];
                    }}
        }}
        memcpy(K + e * (NEN * 9 * NEN), Ke, sizeof Ke);
    }}
}}
"""


@functools.lru_cache(maxsize=16)
def _kernel(nen: int, nq: int, g: int):
    """The compiled kernel for ``(nen, nq, g)``, or the ``RuntimeError`` that prevented it
    (cached too, so a failing compiler is not run again at every assembly)."""
    try:
        lib = ctypes.CDLL(str(compile_source(_SOURCE.format(nen=nen, nq=nq, g=g))))
    except (RuntimeError, OSError) as exc:
        return RuntimeError(f"element kernel ({nen}, {nq}, {g}) unavailable: {exc}")
    fn = lib.stiffness
    fn.restype = None
    fn.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * 4
    return fn


def available() -> bool:
    """True when the kernel may be used: a C compiler exists and the fast path is enabled."""
    return fast.enabled() and compiler() is not None


def element_stiffness_c(A: torch.Tensor, dN: torch.Tensor, dV: torch.Tensor,
                        out: torch.Tensor | None = None) -> torch.Tensor:
    """Element matrices (ne, nen, 3, 3, nen), layout ``(a, i, k, b)``, by the compiled kernel.

    ``A`` (ne, nq, 3, g, 3, g), ``dN`` (ne, nq, nen, g), ``dV`` (ne, nq); float64 CPU tensors.
    ``out``: optional contiguous float64 (ne, nen, 3, 3, nen) array written in place.
    Raises ``RuntimeError`` if the kernel cannot be compiled.
    """
    ne, nq, nen, g = dN.shape
    fn = _kernel(nen, nq, g)
    if isinstance(fn, RuntimeError):
        raise fn
    A, dN, dV = (t.detach().contiguous() for t in (A, dN, dV))
    shape = (ne, nen, 3, 3, nen)
    if out is None:
        K = torch.empty(shape, dtype=torch.float64)
    elif tuple(out.shape) != shape or out.dtype != torch.float64 or not out.is_contiguous():
        raise ValueError(f"out: expected a contiguous float64 tensor of shape {shape}, got "
                         f"{out.dtype} {tuple(out.shape)}")
    else:
        K = out
    threads = max(1, min(torch.get_num_threads(), ne // MIN_ELEMENTS_PER_THREAD))
    sz = 8
    sA, sN, sV, sK = 9 * g * g * nq, nen * g * nq, nq, 9 * nen * nen

    def run(i: int, j: int) -> None:
        fn(j - i, A.data_ptr() + i * sA * sz, dN.data_ptr() + i * sN * sz,
           dV.data_ptr() + i * sV * sz, K.data_ptr() + i * sK * sz)

    run_split(run, ne, threads)
    return K
