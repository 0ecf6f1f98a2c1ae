"""C compiler detection and the on-disk build cache shared by the fast path, the FE element
kernel and the compiled material libraries.

Compiled libraries live in ``$CONSTITUTIVE_CACHE_DIR`` (default ``~/.cache/constitutive/fast``)
under the SHA-256 of source, flags, compiler and CPU flags, so a second process loads them
directly (milliseconds) instead of compiling again.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: flags of kernels built for this machine (cached per CPU); portable libraries use their own
FLAGS = ["-march=native", "-fPIC", "-shared", "-fno-math-errno", "-fno-trapping-math",
         "-fopenmp-simd"]


@functools.lru_cache(maxsize=1)
def compiler() -> str | None:
    """Path of the C compiler (``$CC`` or ``cc``/``gcc``), ``None`` if there is none."""
    for c in (os.environ.get("CC"), "cc", "gcc"):
        if c and shutil.which(c):
            return shutil.which(c)
    return None


@functools.lru_cache(maxsize=1)
def machine_tag() -> str:
    """Platform, CPU model and flags and compiler version: part of every cache key."""
    tag = [sys.platform, os.uname().machine if hasattr(os, "uname") else ""]
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "model name")):
                    tag.append(line.strip())
                if line.startswith("flags"):
                    break
    except OSError:
        pass
    cc = compiler()
    if cc:
        try:
            tag.append(subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30).stdout)
        except (OSError, subprocess.SubprocessError):
            pass
    return "\n".join(tag)


def cache_dir() -> Path:
    """Directory of compiled kernels (``$CONSTITUTIVE_CACHE_DIR`` or ``~/.cache/constitutive/fast``)."""
    d = os.environ.get("CONSTITUTIVE_CACHE_DIR")
    if d:
        return Path(d)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "constitutive" / "fast"


def compile_source(src: str, opt: str = "-O3") -> Path:
    """Compile C source ``src`` to a shared library for this machine; returns its path.

    The library is cached under :func:`cache_dir` by the SHA-256 of source, flags, compiler and
    CPU, so a second process loads it without compiling. ``RuntimeError`` when there is no
    compiler or the compilation fails (with the compiler's message).
    """
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (set $CC)")
    flags = [opt, *FLAGS]
    libs = ["-lm"]
    key = hashlib.sha256("\n".join([src, " ".join(flags), machine_tag()]).encode()).hexdigest()[:32]
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    lib = d / f"k_{key}.so"
    if lib.exists():
        return lib
    with tempfile.TemporaryDirectory(dir=d) as tmp:
        c = Path(tmp) / "kernel.c"
        c.write_text(src)
        out = Path(tmp) / "kernel.so"
        for extra in (["-lmvec"], []):  # libmvec gives vectorised log/exp/pow; optional
            r = subprocess.run([cc, *flags, str(c), "-o", str(out), *extra, *libs],
                               capture_output=True, text=True, timeout=600)
            if r.returncode == 0:
                break
        else:
            raise RuntimeError(f"C compilation failed: {r.stderr[-2000:]}")
        os.replace(out, lib)  # atomic: a concurrent process sees a complete library or none
        (d / f"k_{key}.c").write_text(src)
    return lib
