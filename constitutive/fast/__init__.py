"""Compiled fast path for stress and tangent: the user's energy, traced once, fused into one loop.

How it works
------------
1. The engine's own derivative computation (energy, one reverse pass for the stress, six for
   the Mandel tangent columns; for the FE path also ``P = F S`` and ``A = dP/dF``) runs once
   on a batch of one point under a dispatch mode (:mod:`.stage1_trace`) that replays every ATen
   operation on symbolic scalars (:mod:`.stage2_scalarize`).
2. The 3x3 bookkeeping disappears, repeated subexpressions are shared and autograd's zeros
   folded, leaving a straight-line program of a few hundred scalar operations per point
   (:mod:`.stage3_ir`).
3. The program is emitted as one C loop over blocks of points, vectorised with SIMD math
   (:mod:`.stage4_codegen_c`), compiled once and cached on disk (:mod:`.stage5_compile`,
   :mod:`constitutive.native`); or, on CUDA and where no C compiler exists, as elementwise
   torch code (:mod:`.stage4_codegen_torch`, ``torch.compile`` on CUDA).
4. :mod:`.kernels` keeps the built kernels, runs them (threads on CPU) and raises the domain
   errors (:func:`constitutive.domain.require`) that their condition flags report.

No derivative is written by hand, parameters are kernel inputs (one kernel per model, options
and parameter shapes), inputs stream through the kernel with no intermediate arrays, and
results equal the eager path to rounding (tested to 1e-12).

When it is used
---------------
``Hyperelastic.stress_tangent_mandel`` and ``Hyperelastic.pk1_tangent`` route here
automatically when all hold: ``create_graph=False``; neither input nor any parameter requires
grad; float64; at least :data:`MIN_POINTS` points (or ``fast=True``); the fast path is enabled
(environment variable ``CONSTITUTIVE_FAST=0`` or :func:`set_enabled` / :func:`disabled` turn it
off); the material traced and compiled. Otherwise the eager path runs, with the same results.
"""

from __future__ import annotations

import contextlib
import os

import torch

from .kernels import FastPathUnavailable, clear_cache, info, kernel_for, run_kernel

__all__ = [
    "FastPathUnavailable", "MIN_POINTS", "clear_cache", "disabled", "enabled", "info",
    "kernel_for", "pk1_tangent", "run_kernel", "set_enabled", "should_use", "stress_tangent_mandel",
    "try_fast",
]

#: smallest batch routed to the fast path automatically (``$CONSTITUTIVE_FAST_MIN_POINTS``)
MIN_POINTS = int(os.environ.get("CONSTITUTIVE_FAST_MIN_POINTS", "2048"))

_ENABLED = [True]


def enabled() -> bool:
    """True unless disabled by ``CONSTITUTIVE_FAST=0`` (or off/false/no) or :func:`set_enabled`."""
    env = os.environ.get("CONSTITUTIVE_FAST", "1").strip().lower()
    return _ENABLED[0] and env not in ("0", "off", "false", "no")


def set_enabled(flag: bool) -> None:
    """Switch the automatic fast path on or off for this process."""
    _ENABLED[0] = bool(flag)


@contextlib.contextmanager
def disabled():
    """Context manager: eager path only inside the block."""
    old = _ENABLED[0]
    _ENABLED[0] = False
    try:
        yield
    finally:
        _ENABLED[0] = old


def _plain(t: torch.Tensor) -> bool:
    """A real tensor (not fake, functional, batched by vmap, ...) that can be read directly."""
    if type(t) is not torch.Tensor:
        return False
    try:
        from torch._C._functorch import is_batchedtensor, is_gradtrackingtensor

        if is_batchedtensor(t) or is_gradtrackingtensor(t):
            return False
    except ImportError:  # pragma: no cover - older torch
        pass
    return not torch.compiler.is_compiling()


def should_use(material, x: torch.Tensor, n_per_point: int, create_graph: bool, fast) -> bool:
    """Whether a call may take the fast path (see the module docstring for the rules)."""
    if fast is False or create_graph:
        return False
    if fast is None and not enabled():
        return False
    if x.dtype != torch.float64 or x.requires_grad or not _plain(x):
        return False
    if any(getattr(material, n).requires_grad for n in material.parameters):
        return False
    if fast is None and x.numel() < MIN_POINTS * n_per_point:
        return False
    return True


def stress_tangent_mandel(material, e, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mandel stress (...,6) and tangent (...,6,6) of ``material`` at ``e`` (...,6), fast path.

    ``e`` is validated like the eager path (same errors). ``out``: optional preallocated
    ``(s, D)`` (contiguous, float64, same device). Raises :class:`FastPathUnavailable` when
    the material cannot be compiled.
    """
    return run_kernel(material, "mandel", e, out, validated=False)


def pk1_tangent(material, F, out=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``P`` (...,3,3) and ``A = dP/dF`` (...,3,3,3,3) of ``material`` at ``F``, fast path.

    ``F`` is validated like the eager path (finite, ``det F > 0``); ``out = (P, A)`` optional.
    """
    return run_kernel(material, "pk1", F, out, validated=False)


def try_fast(material, kind: str, x, fast, out=None):
    """Dispatch helper of the engine: the fast result, or ``None`` where the eager path must run.

    Non-tensor input (lists, NumPy) is converted and validated by the material first.
    """
    if fast is False:
        return None
    per_point = 6 if kind == "mandel" else 9
    validated = False
    if not isinstance(x, torch.Tensor) or x.dtype != material.dtype or x.device != material.device:
        x = material.as_strain_mandel(x) if kind == "mandel" else material.as_deformation_gradient(x)
        validated = True
    if not should_use(material, x, per_point, False, fast):
        return None
    try:
        return run_kernel(material, kind, x, out, validated=validated)
    except FastPathUnavailable:
        return None
