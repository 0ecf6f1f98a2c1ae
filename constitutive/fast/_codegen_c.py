"""C code generation for a scalar :class:`~._trace.Program`, compiled once and cached on disk.

The program becomes one loop over points. Every input is read once, every output written once,
no intermediate array exists, so throughput is bound by arithmetic, not memory, and the peak
memory is that of the outputs. The loop is vectorised (``#pragma omp simd``) with the SIMD
variants of ``log``/``exp``/``pow``/... from glibc's libmvec where available; the libmvec
functions are accurate to a few ulp, far inside the 1e-12 agreement with the eager path.

Compiled libraries live in ``$CONSTITUTIVE_CACHE_DIR`` (default ``~/.cache/constitutive/fast``)
under the SHA-256 of source, compiler and CPU flags, so a second process loads them directly.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ._expr import children, topo_order
from ._trace import Program

_UNARY_C = {
    "neg": "(-{0})", "log": "log({0})", "exp": "exp({0})", "sqrt": "sqrt({0})",
    "sin": "sin({0})", "cos": "cos({0})", "tan": "tan({0})", "asin": "asin({0})",
    "acos": "acos({0})", "atan": "atan({0})", "sinh": "sinh({0})", "cosh": "cosh({0})",
    "tanh": "tanh({0})", "log1p": "log1p({0})", "expm1": "expm1({0})", "abs": "fabs({0})",
    "erf": "erf({0})", "sign": "(double)(({0} > 0.0) - ({0} < 0.0))",
}
_BIN_C = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "pow": "pow({0}, {1})", "atan2": "atan2({0}, {1})",
    "max": "(({0} > {1} || {0} != {0}) ? {0} : {1})",
    "min": "(({0} < {1} || {0} != {0}) ? {0} : {1})",
    "gt": "(double)({0} > {1})", "ge": "(double)({0} >= {1})", "lt": "(double)({0} < {1})",
    "le": "(double)({0} <= {1})", "eq": "(double)({0} == {1})", "ne": "(double)({0} != {1})",
    "and": "(double)(({0} != 0.0) && ({1} != 0.0))", "or": "(double)(({0} != 0.0) || ({1} != 0.0))",
}
#: libmvec SIMD variants declared for the vectoriser (x86-64 glibc)
_SIMD_FUNCS = ("log", "exp", "pow", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
               "cosh", "tanh", "log1p", "expm1", "erf", "atan2")
_NARGS = {"pow": 2, "atan2": 2}

#: points per SIMD block; rows padded by 8 doubles against cache-set aliasing in the transposes
BLOCK = 16
PAD = 8
#: most operations per SIMD loop (larger loops are split into stages)
STAGE_OPS = 1500
#: programs with more operations are compiled with -O1 (gcc -O3 time grows fast with size;
#: measured on Ogden-3, 13k operations: same throughput, a third of the compile time)
LARGE_OPS = 6000

FLAGS = ["-march=native", "-fPIC", "-shared", "-fno-math-errno", "-fno-trapping-math",
         "-fopenmp-simd"]


def _literal(v: float) -> str:
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "(-INFINITY)"
    return f"{v.hex()} /* {v!r} */" if v != int(v) or abs(v) > 2**52 else f"{v!r}"


def _powc(a: str, c: float) -> str:
    if c == 2.0:
        return f"({a} * {a})"
    if c == 3.0:
        return f"({a} * {a} * {a})"
    if c == -1.0:
        return f"(1.0 / {a})"
    if c == -2.0:
        return f"(1.0 / ({a} * {a}))"
    if c == 0.5:
        return f"sqrt({a})"
    if c == -0.5:
        return f"(1.0 / sqrt({a}))"
    return f"pow({a}, {_literal(c)})"


def _expr(node: tuple, name) -> str:
    op = node[0]
    if op == "powc":
        return _powc(name(node[1]), node[2])
    if op == "where":
        return f"(({name(node[1])} != 0.0) ? {name(node[2])} : {name(node[3])})"
    if op in _UNARY_C:
        return _UNARY_C[op].format(name(node[1]))
    if op in _BIN_C:
        return _BIN_C[op].format(name(node[1]), name(node[2]))
    raise ValueError(f"no C form for node {node}")


def _stage_function(k, stage_nodes, imports, nodes, name, outs_here, tmp_slot, invariant_needed):
    """One ``#pragma omp simd`` loop over a block: loads, arithmetic, spills and output stores."""
    head = [f"    const double v{i} = {_expr_or_load(nodes[i], i, name)};" for i in invariant_needed]
    body = [f"        const double v{i} = tmp[{tmp_slot[i]}][b];" for i in imports]
    for i in stage_nodes:
        nd = nodes[i]
        rhs = f"xs[{nd[1]}][b]" if nd[0] == "x" else _expr(nd, name)
        body.append(f"        const double v{i} = {rhs};")
        if i in tmp_slot:
            body.append(f"        tmp[{tmp_slot[i]}][b] = v{i};")
    body += [f"        os[{j}][b] = {name(nid)};" for j, nid in outs_here]
    return [
        f"__attribute__((noinline)) static void stage{k}(const double *restrict p, "
        "const double xs[restrict][BP], double tmp[restrict][BP], double os[restrict][BP])",
        "{", *head, "    #pragma omp simd", "    for (int b = 0; b < B; ++b) {", *body, "    }", "}",
    ]


def _expr_or_load(nd, i, name) -> str:
    return f"p[{nd[1]}]" if nd[0] == "p" else _expr(nd, name)


def generate_source(prog: Program, fname: str = "kernel") -> str:
    """C source of ``void kernel(int64_t n, const double *x, const double *p, double *o0, ...)``.

    Points are processed in blocks of ``BLOCK``: inputs are transposed into a structure of
    arrays, one or more SIMD loops ("stages", at most ``STAGE_OPS`` operations each: gcc 12
    stopped vectorising loops of ~10^4 statements) compute the outputs, which are transposed
    back. Values crossing stages go through per-block arrays. Parameter-only expressions are
    hoisted out of the loops.
    """
    nodes = prog.builder.nodes
    roots = [int(i) for o in prog.outputs for i in o.reshape(-1)]
    order = topo_order(prog.builder, roots)
    varying: set[int] = set()
    for i in order:
        nd = nodes[i]
        if nd[0] == "x" or any(c in varying for c in children(nd)):
            varying.add(i)
    vorder = [i for i in order if i in varying]
    nstages = max(1, -(-len(vorder) // STAGE_OPS))
    stage_of = {i: min(pos * nstages // max(len(vorder), 1), nstages - 1) for pos, i in enumerate(vorder)}

    def name(i: int) -> str:
        nd = nodes[i]
        return _literal(nd[1]) if nd[0] == "const" else f"v{i}"

    flat_out = [int(i) for o in prog.outputs for i in o.reshape(-1)]
    outs_at: list[list[tuple[int, int]]] = [[] for _ in range(nstages)]
    for j, nid in enumerate(flat_out):
        outs_at[stage_of.get(nid, nstages - 1)].append((j, nid))
    # uses per stage -> imports (varying values from earlier stages) and invariants needed
    tmp_slot: dict[int, int] = {}
    imports: list[list[int]] = [[] for _ in range(nstages)]
    inv_needed: list[set[int]] = [set() for _ in range(nstages)]
    users: list[set[int]] = [set() for _ in range(nstages)]
    for i in vorder:
        users[stage_of[i]].update(children(nodes[i]))
    for st in range(nstages):
        users[st].update(nid for _, nid in outs_at[st])
        for c in sorted(users[st]):
            if c in varying and stage_of[c] < st:
                tmp_slot.setdefault(c, len(tmp_slot))
                imports[st].append(c)
            elif c not in varying and nodes[c][0] != "const":
                inv_needed[st].add(c)
    invariant_order = [i for i in order if i not in varying and nodes[i][0] != "const"]
    funcs = []
    for st in range(nstages):
        closure = _closure(inv_needed[st], nodes)
        inv = [i for i in invariant_order if i in closure]
        funcs += _stage_function(st, [i for i in vorder if stage_of[i] == st], imports[st], nodes,
                                 name, outs_at[st], tmp_slot, inv)
    copy_out, stream_out, nout = [], [], 0
    for k, o in enumerate(prog.outputs):
        size = o.size
        copy_out.append(f"            for (int j = 0; j < {size}; ++j) "
                        f"o{k}[(i0 + b) * {size} + j] = os[{nout} + j][b];")
        stream_out.append(f"            put(o{k} + i0 * {size}, {size}, {nout}, os, buf);")
        nout += size
    decl = [f'__attribute__((simd("notinbranch"))) double {f}({", ".join(["double"] * _NARGS.get(f, 1))});'
            for f in _SIMD_FUNCS]
    args = ", ".join(f"double *restrict o{k}" for k in range(len(prog.outputs)))
    nin, ntmp = prog.n_in, max(1, len(tmp_slot))
    # Each SIMD loop sits in its own non-inlined function: inlined into the blocking loop,
    # gcc 12 refused to vectorise it ("latch block not empty").
    return "\n".join([
        "/* generated by constitutive.fast: stress and tangent of one material, per point */",
        "#include <math.h>", "#include <stdint.h>", "#include <string.h>",
        "#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)", *decl, "#endif",
        f"#define B {BLOCK}", f"#define BP {BLOCK + PAD}", *funcs, _STREAM_HELPER.replace("NOUT", str(nout)),
        f"void {fname}(int64_t n, const double *restrict x, const double *restrict p, {args})",
        "{",
        f"    double xs[{nin}][BP] __attribute__((aligned(64)));",
        f"    double os[{nout}][BP] __attribute__((aligned(64)));",
        f"    double tmp[{ntmp}][BP] __attribute__((aligned(64)));",
        f"    double buf[{max(o.size for o in prog.outputs)} * B] __attribute__((aligned(64)));",
        "    const int aligned = " + " && ".join(
            f"(((uintptr_t)o{k} & (STREAM_ALIGN - 1)) == 0)" for k in range(len(prog.outputs))) + ";",
        "    for (int64_t i0 = 0; i0 < n; i0 += B) {",
        "        const int m = (n - i0 < B) ? (int)(n - i0) : B;",
        "        if (m < B) memset(xs, 0, sizeof(xs));",
        "        for (int b = 0; b < m; ++b)",
        f"            for (int j = 0; j < {nin}; ++j) xs[j][b] = x[(i0 + b) * {nin} + j];",
        *[f"        stage{st}(p, xs, tmp, os);" for st in range(nstages)],
        "        if (m == B && aligned) {", *stream_out, "        } else {",
        "          for (int b = 0; b < m; ++b) {", *copy_out, "          }",
        "        }",
        "    }", "    STREAM_FENCE();", "}", "",
    ])


# Full blocks of outputs are written with non-temporal (streaming) stores: the block's outputs
# are one contiguous run, and streaming avoids reading every output line before writing it
# (write-allocate), which otherwise costs as much as the writes themselves.
_STREAM_HELPER = """#include <immintrin.h>
#if defined(__AVX512F__)
#define STREAM_ALIGN 64
#define STREAM_FENCE() _mm_sfence()
static inline void stream_run(double *dst, const double *src, int len)
{ for (int q = 0; q < len; q += 8) _mm512_stream_pd(dst + q, _mm512_load_pd(src + q)); }
#elif defined(__AVX__)
#define STREAM_ALIGN 32
#define STREAM_FENCE() _mm_sfence()
static inline void stream_run(double *dst, const double *src, int len)
{ for (int q = 0; q < len; q += 4) _mm256_stream_pd(dst + q, _mm256_load_pd(src + q)); }
#else
#define STREAM_ALIGN 8
#define STREAM_FENCE() ((void)0)
static inline void stream_run(double *dst, const double *src, int len)
{ memcpy(dst, src, sizeof(double) * (size_t)len); }
#endif
/* transpose one block of one output (size values per point) into buf, then stream it out */
static inline void put(double *dst, int size, int off, double os[NOUT][BP], double *buf)
{
    for (int b = 0; b < B; ++b)
        for (int j = 0; j < size; ++j) buf[b * size + j] = os[off + j][b];
    stream_run(dst, buf, size * B);
}"""


def _closure(ids: set[int], nodes) -> set[int]:
    out, stack = set(), list(ids)
    while stack:
        i = stack.pop()
        if i in out or nodes[i][0] == "const":
            continue
        out.add(i)
        stack.extend(children(nodes[i]))
    return out


@functools.lru_cache(maxsize=1)
def compiler() -> str | None:
    """Path of the C compiler (``$CC`` or ``cc``/``gcc``), ``None`` if there is none."""
    for c in (os.environ.get("CC"), "cc", "gcc"):
        if c and shutil.which(c):
            return shutil.which(c)
    return None


@functools.lru_cache(maxsize=1)
def _machine_tag() -> str:
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
    """Compile ``src`` to a shared library (cached by content hash); returns its path."""
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler found (set $CC)")
    flags = [opt, *FLAGS]
    libs = ["-lm"]
    key = hashlib.sha256("\n".join([src, " ".join(flags), _machine_tag()]).encode()).hexdigest()[:32]
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


class CKernel:
    """A compiled program: ``kernel(x, p, outs)`` on contiguous float64 CPU arrays."""

    def __init__(self, prog: Program):
        self.n_in = prog.n_in
        self.out_sizes = [int(o.size) for o in prog.outputs]
        self.source = generate_source(prog)
        n_ops = len(prog.builder.nodes)
        self.path = compile_source(self.source, "-O3" if n_ops <= LARGE_OPS else "-O1")
        self._lib = ctypes.CDLL(str(self.path))
        fn = self._lib.kernel
        fn.restype = None
        fn.argtypes = [ctypes.c_int64] + [ctypes.c_void_p] * (2 + len(self.out_sizes))
        self._fn = fn

    def __call__(self, n: int, x_ptr: int, p_ptr: int, out_ptrs: list[int]) -> None:
        self._fn(n, x_ptr, p_ptr, *out_ptrs)



CHECK_SOURCE = """/* generated by constitutive.fast: input checks (non-finite entries, det F <= 0) */
#include <math.h>
#include <stdint.h>
int64_t count_nonfinite(int64_t n, const double *restrict x)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) bad += !isfinite(x[i]);
    return bad;
}
int64_t count_bad_F(int64_t n, const double *restrict a)
{
    int64_t bad = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double *f = a + 9 * i;
        const double d = f[0] * (f[4] * f[8] - f[5] * f[7]) - f[1] * (f[3] * f[8] - f[5] * f[6])
                       + f[2] * (f[3] * f[7] - f[4] * f[6]);
        bad += !(d > 0.0);
    }
    return bad;
}
"""


@functools.lru_cache(maxsize=1)
def checker():
    """ctypes functions ``count_nonfinite(n, x)`` and ``count_bad_F(n, F)`` (compiled once)."""
    lib = ctypes.CDLL(str(compile_source(CHECK_SOURCE)))
    for f in (lib.count_nonfinite, lib.count_bad_F):
        f.restype = ctypes.c_int64
        f.argtypes = [ctypes.c_int64, ctypes.c_void_p]
    return lib
