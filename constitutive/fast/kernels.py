"""Kernel cache and execution of the fast path (threads on CPU, chunks on other devices).

The stages that build a kernel are in the modules ``stage1_trace`` ... ``stage5_compile``
(see README.md in this folder); this module keeps the built kernels, validates inputs, runs the
kernels and raises the domain errors their condition flags report."""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import sys
import threading
import time
import warnings

import torch

from constitutive.domain import DomainError, domain_message
from constitutive.native import compiler, run_split
from constitutive.validation import TINY_C_EIGENVALUE

from .stage1_trace import KINDS, parameter_tensors, trace_program
from .stage2_scalarize import Unsupported

#: points per chunk of the torch backend (bounds its temporaries: ~1e3 live columns of 2^16)
TORCH_CHUNK = 1 << 16
#: points per chunk on CUDA (the uncompiled torch code keeps ~10^2 columns of a chunk alive)
CUDA_CHUNK = 1 << 20
#: largest program that is ``torch.compile``-d on CUDA by default
GPU_COMPILE_MAX_OPS = 3000
#: outputs at least this large get the huge-page hint (``CONSTITUTIVE_FAST_HUGEPAGES=0``: never)
HUGEPAGE_MIN_BYTES = 1 << 23
#: below this many points per thread the CPU kernel runs in the calling thread only
MIN_POINTS_PER_THREAD = 8192

_KERNELS: dict[tuple, object] = {}
_FAILED: dict[tuple, str] = {}
_INFO: dict[tuple, dict] = {}
_LOCK = threading.Lock()


class FastPathUnavailable(RuntimeError):
    """The material cannot be traced or compiled; the eager path must be used."""


def backend_for(device: torch.device) -> str:
    """``"c"`` on CPU with a C compiler (unless ``CONSTITUTIVE_FAST_BACKEND=torch``), else ``"torch"``."""
    forced = os.environ.get("CONSTITUTIVE_FAST_BACKEND", "").strip().lower()
    if forced in ("c", "torch"):
        return forced if device.type == "cpu" or forced == "torch" else "torch"
    return "c" if device.type == "cpu" and compiler() is not None else "torch"


def _state_key(material) -> tuple:
    """Everything besides parameter values that may change the traced program."""
    extra = []
    for k, v in sorted(vars(material).items()):
        if k in material.parameters or k in ("dtype", "device"):
            continue
        if isinstance(v, torch.Tensor):
            h = hashlib.sha256(v.detach().cpu().contiguous().numpy().tobytes()).hexdigest()
            extra.append((k, tuple(v.shape), str(v.dtype), h))
        elif isinstance(v, (str, int, float, bool, type(None), tuple)):
            extra.append((k, v))
        else:
            extra.append((k, type(v).__qualname__, repr(v)))
    shapes = tuple(tuple(getattr(material, n).shape) for n in material.parameters)
    return (type(material), shapes, tuple(extra), material.dtype)


def kernel_for(material, kind: str, device: torch.device):
    """The compiled kernel of ``material`` for ``kind`` on ``device`` (built once, cached)."""
    backend = backend_for(device)
    key = (_state_key(material), kind, backend, device.type)
    k = _KERNELS.get(key)
    if k is not None:
        return k
    if key in _FAILED:
        raise FastPathUnavailable(_FAILED[key])
    with _LOCK:
        k = _KERNELS.get(key)
        if k is not None:
            return k
        t0 = time.perf_counter()
        try:
            prog = trace_program(material, kind)
            t1 = time.perf_counter()
            if backend == "c":
                from .stage5_compile import CKernel

                k = CKernel(prog)
            else:
                from .stage4_codegen_torch import TorchKernel

                k = TorchKernel(prog, compile=device.type == "cuda" and _gpu_compile(prog))
        except (Unsupported, RuntimeError, OSError) as exc:
            msg = f"{type(material).__name__} ({kind}): {exc}"
            _FAILED[key] = msg
            warnings.warn(f"constitutive.fast: using the eager path for {msg}", RuntimeWarning,
                          stacklevel=3)
            raise FastPathUnavailable(msg) from exc
        t2 = time.perf_counter()
        _INFO[key] = {"material": type(material).__name__, "kind": kind, "backend": backend,
                      "trace_s": t1 - t0, "compile_s": t2 - t1,
                      "ops": len(prog.builder.nodes), "source": getattr(k, "path", None)}
        k.conditions = list(prog.conditions)
        _KERNELS[key] = k
        return k


def _gpu_compile(prog) -> bool:
    """``torch.compile`` the CUDA kernel? (``CONSTITUTIVE_FAST_GPU_COMPILE`` = 1/0 forces it;
    by default only programs of at most ``GPU_COMPILE_MAX_OPS`` operations, whose inductor
    compilation stays short; larger ones run as chunked elementwise torch code)."""
    env = os.environ.get("CONSTITUTIVE_FAST_GPU_COMPILE", "").strip().lower()
    if env in ("0", "1", "true", "false", "on", "off"):
        return env in ("1", "true", "on")
    return len(prog.builder.nodes) <= GPU_COMPILE_MAX_OPS


def info() -> list[dict]:
    """One dict per kernel built in this process (backend, trace and compile seconds, ...)."""
    return list(_INFO.values())


def clear_cache() -> None:
    """Forget the kernels of this process (the on-disk compiled libraries stay)."""
    with _LOCK:
        _KERNELS.clear()
        _FAILED.clear()
        _INFO.clear()


def _params_flat(material, device) -> torch.Tensor:
    ps = [p.reshape(-1) for p in parameter_tensors(material)]
    if not ps:
        return torch.zeros(1, dtype=material.dtype, device=device)
    return torch.cat(ps).to(device=device, dtype=material.dtype).contiguous()


@functools.lru_cache(maxsize=1)
def _madvise():
    if not sys.platform.startswith("linux") or os.environ.get("CONSTITUTIVE_FAST_HUGEPAGES") == "0":
        return None
    try:
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def _empty(shape, like: torch.Tensor) -> torch.Tensor:
    """``torch.empty``; large CPU outputs get a transparent-huge-page hint (Linux, best effort).

    Fresh outputs are written once by the kernel; their first-touch page faults cost more than
    the kernel itself at 10^6 points (measured 2-3x fewer fault seconds with 2 MiB pages).
    """
    t = torch.empty(shape, dtype=like.dtype, device=like.device)
    nbytes = t.numel() * t.element_size()
    if t.device.type == "cpu" and nbytes >= HUGEPAGE_MIN_BYTES and _madvise() is not None:
        h = 1 << 21
        a = t.data_ptr()
        lo, hi = (a + h - 1) & ~(h - 1), (a + nbytes) & ~(h - 1)
        if hi > lo:
            _madvise()(lo, hi - lo, 14)  # MADV_HUGEPAGE; failure is harmless
    return t


def _check_out(out, shapes, like: torch.Tensor, name: str) -> list[torch.Tensor]:
    if out is None:
        return [_empty(s, like) for s in shapes]
    if not isinstance(out, (tuple, list)) or len(out) != len(shapes):
        raise TypeError(f"{name}: expected a tuple of {len(shapes)} tensors")
    res = []
    for o, s in zip(out, shapes, strict=True):
        if not isinstance(o, torch.Tensor):
            raise TypeError(f"{name}: expected tensors, got {type(o).__name__}")
        if tuple(o.shape) != tuple(s) or o.dtype != like.dtype or o.device != like.device:
            raise ValueError(
                f"{name}: expected a {like.dtype} tensor of shape {tuple(s)} on {like.device}, got "
                f"{o.dtype} {tuple(o.shape)} on {o.device}")
        if not o.is_contiguous():
            raise ValueError(f"{name}: output tensors must be contiguous")
        res.append(o)
    return res


def validate_input(material, kind: str, x: torch.Tensor, name: str | None = None) -> torch.Tensor:
    """The material's own input checks (clear errors); a C pass first where it can decide.

    ``name`` is the argument named in error messages (default: the validator's, ``e`` / ``F``).
    The eager validators build several temporaries per point; for large valid CPU batches one
    compiled pass counting non-finite entries (and ``det F <= 0``) replaces them, and only
    when it finds a problem do the validators run, to raise their usual error.
    """
    check = material.as_strain_mandel if kind == "mandel" else material.as_deformation_gradient

    def full(t):  # the material's own checks and messages (``name``: the argument they name)
        return check(t) if name is None else check(t, name)

    in_shape = KINDS[kind][0]
    ok_layout = (x.dtype == material.dtype == torch.float64 and x.device.type == "cpu"
                 and x.device == material.device and x.ndim >= len(in_shape)
                 and tuple(x.shape[x.ndim - len(in_shape):]) == in_shape)
    if not ok_layout or backend_for(x.device) != "c":
        return full(x)
    from .stage5_compile import checker

    xc = x.detach().contiguous()
    lib = checker()
    bad = lib.count_nonfinite(xc.numel(), xc.data_ptr())
    if kind == "pk1" and not bad:
        bad = lib.count_bad_F(xc.numel() // 9, xc.data_ptr())
    if kind == "mandel" and not bad and not material.small_strain:
        bad = lib.count_bad_strain(xc.numel() // 6, xc.data_ptr())
    if kind == "pk1" and not bad:  # the full validation warns about accuracy lost at tiny stretches
        bad = lib.count_tiny_stretch(xc.numel() // 9, xc.data_ptr(), TINY_C_EIGENVALUE)
    return full(x) if bad else xc


def run_kernel(material, kind: str, x, out=None, validated: bool = True) -> tuple[torch.Tensor, ...]:
    """Run the ``kind`` kernel of ``material`` on ``x`` (..., *in_shape); returns the outputs.

    ``validated=False`` runs the input checks first (see :func:`validate_input`). A point outside
    the model's domain (:func:`constitutive.domain.require`) raises the eager path's
    :class:`~constitutive.domain.DomainError`, with the same count and first index.
    """
    in_shape, out_shapes = KINDS[kind]
    if not validated:
        x = validate_input(material, kind, x)
    batch = tuple(x.shape[: x.ndim - len(in_shape)])
    outs = _check_out(out, [batch + s for s in out_shapes], x, "out")
    k = kernel_for(material, kind, x.device)
    n = 1
    for s in batch:
        n *= int(s)
    if n == 0:
        return tuple(outs)
    xf = x.detach().reshape(n, k.n_in).contiguous()
    flat = [o.view(n, size) for o, size in zip(outs, k.out_sizes, strict=False)]
    if k.conditions:
        flat.append(torch.empty((n, len(k.conditions)), dtype=x.dtype, device=x.device))
    p = _params_flat(material, x.device)
    if hasattr(k, "path"):  # C kernel
        _run_c(k, n, xf, p, flat)
    else:
        chunk = CUDA_CHUNK if x.device.type == "cuda" else TORCH_CHUNK
        with torch.no_grad():
            for i in range(0, n, chunk):
                j = min(n, i + chunk)
                k(xf[i:j], p, [f[i:j] for f in flat])
    if k.conditions:
        _raise_domain(k.conditions, flat[-1], batch)
    return tuple(outs)


def _raise_domain(messages: list[str], flags: torch.Tensor, batch: tuple[int, ...]) -> None:
    """Raise the first violated condition as :class:`DomainError` (count, first batch index)."""
    bad = flags == 0
    if not bool(bad.any()):
        return
    for c, message in enumerate(messages):
        col = bad[:, c]
        if bool(col.any()):
            first = int(torch.nonzero(col)[0])
            index = tuple(int(i) for i in torch.unravel_index(torch.tensor(first), batch)) if batch else ()
            raise DomainError(domain_message(message, int(col.sum()), index))


def _run_c(k, n: int, xf: torch.Tensor, p: torch.Tensor, flat: list[torch.Tensor]) -> None:
    threads = max(1, torch.get_num_threads())
    threads = min(threads, max(1, n // MIN_POINTS_PER_THREAD))
    xs, ps = xf.data_ptr(), p.data_ptr()
    isz = xf.element_size()

    def run(i: int, j: int) -> None:
        outs = [f.data_ptr() + i * s * isz for f, s in zip(flat, k.out_sizes, strict=True)]
        k(j - i, xs + i * k.n_in * isz, ps, outs)

    # split at multiples of 64 points: every thread's output start stays 64-byte aligned
    run_split(run, n, threads, align=64)
