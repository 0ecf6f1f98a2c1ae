"""Compiled custom per-point programs: any torch function of one point's input and the material.

The engine's two kernels (``mandel``: ``e -> (s, D)``; ``pk1``: ``F -> (P, dP/dF)``) are fixed
programs; the edges of the library need others (the exported quantities in a file's notation,
the residual Jacobian of a fit). :class:`ProgramKernel` traces ``fn(x, m)`` once with the fast
path's tracer (:func:`~constitutive.fast.stage1_trace.trace_function`), compiles it with the C
backend and runs it on the shared thread pool, writing straight into caller-owned arrays.
Points outside the model's domain raise the same
:class:`~constitutive.domain.DomainError` as the eager path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np
import torch

from constitutive.native import run_split

from .kernels import (
    MIN_POINTS_PER_THREAD,
    FastPathUnavailable,
    _params_flat,
    _raise_domain,
    _state_key,
    backend_for,
)
from .stage1_trace import trace_function
from .stage2_scalarize import Unsupported

_CACHE: dict[tuple, ProgramKernel] = {}
_FAILED: dict[tuple, str] = {}
_LOCK = threading.Lock()


class ProgramKernel:
    """``fn(x, m) -> outputs`` of one model compiled to C (parameters are inputs).

    Parameters
    ----------
    material : Hyperelastic
        Model whose class, options and parameter shapes the kernel is built for; any parameter
        values of that model can be passed at call time.
    fn : callable ``fn(x, m)``
        Torch code on a one-point input ``x`` (shape ``(1, *in_shape)``) and a copy ``m`` of
        the material; returns a tuple of tensors of shapes ``(1, *out_shape)``.
    in_shape, out_shapes : per-point input shape and output shapes.
    tag : a name for the program (kernel listings, cache key).
    """

    def __init__(self, material, fn: Callable, in_shape: tuple[int, ...],
                 out_shapes: Sequence[tuple[int, ...]], tag: str):
        from .stage5_compile import CKernel

        x0 = torch.eye(3, dtype=torch.float64)[None] if tuple(in_shape) == (3, 3) else \
            torch.zeros((1, *in_shape), dtype=torch.float64)
        prog = trace_function(material, fn, x0, [tuple(s) for s in out_shapes], tag)
        self.in_shape = tuple(in_shape)
        self.out_shapes = [tuple(s) for s in out_shapes]
        self.conditions = list(prog.conditions)
        self.operations = len(prog.builder.nodes)
        self._k = CKernel(prog)

    @classmethod
    def get(cls, material, fn: Callable, in_shape, out_shapes, tag: str) -> ProgramKernel:
        """The kernel for ``(model, tag)``, built once per process (``tag`` must identify ``fn``);
        :class:`~constitutive.fast.FastPathUnavailable` where it cannot be built (then and later)."""
        if material.device.type != "cpu" or backend_for(material.device) != "c":
            raise FastPathUnavailable("custom programs need the C backend (CPU and a C compiler)")
        key = (_state_key(material), tag)
        with _LOCK:
            if key in _FAILED:
                raise FastPathUnavailable(_FAILED[key])
            if key not in _CACHE:
                try:
                    _CACHE[key] = cls(material, fn, in_shape, out_shapes, tag)
                except (Unsupported, RuntimeError, OSError) as exc:
                    _FAILED[key] = f"{type(material).__name__} ({tag}): {exc}"
                    raise FastPathUnavailable(_FAILED[key]) from exc
            return _CACHE[key]

    def __call__(self, material, x: np.ndarray, outs: Sequence[np.ndarray],
                 threads: int | None = None) -> None:
        """Evaluate at ``x`` (n, *in_shape) into ``outs`` (each (n, *out_shape)), all C-contiguous
        float64 NumPy arrays. ``x`` must already be validated (finite, in the input's domain)."""
        n = int(x.shape[0])
        for o, s in zip(outs, self.out_shapes, strict=True):
            if o.dtype != np.float64 or not o.flags.c_contiguous or o.shape != (n, *s):
                raise ValueError(f"outs: expected C-contiguous float64 arrays of shape {(n, *s)}, got "
                                 f"{o.dtype} {o.shape}")
        if x.dtype != np.float64 or not x.flags.c_contiguous or x.shape[1:] != self.in_shape:
            raise ValueError(f"x: expected a C-contiguous float64 array (n, {self.in_shape}), "
                             f"got {x.dtype} {x.shape}")
        if n == 0:
            return
        flags = np.empty((n, len(self.conditions))) if self.conditions else None
        arrays = list(outs) + ([flags] if flags is not None else [])
        sizes = self._k.out_sizes
        p = _params_flat(material, torch.device("cpu"))
        n_in = self._k.n_in

        def run(i: int, j: int) -> None:
            ptrs = [a.ctypes.data + i * s * 8 for a, s in zip(arrays, sizes, strict=True)]
            self._k(j - i, x.ctypes.data + i * n_in * 8, p.data_ptr(), ptrs)

        threads = max(1, torch.get_num_threads() if threads is None else int(threads))
        run_split(run, n, min(threads, max(1, n // MIN_POINTS_PER_THREAD)), align=64)
        if flags is not None:
            _raise_domain(self.conditions, torch.from_numpy(flags), (n,))
