"""Stage 4 of the fast path: C source for a scalar :class:`~.stage1_trace.Program` (compiled by
:mod:`.stage5_compile`).

The program becomes one loop over blocks of points. Every input is read once, every output
written once, no intermediate array exists, so throughput is bound by arithmetic, not memory,
and the peak memory is that of the outputs. The loop is vectorised (``#pragma omp simd``)
with the SIMD variants of ``log``/``exp``/``pow``/... from glibc's libmvec where available;
the libmvec functions are accurate to a few ulp, far inside the 1e-12 agreement with the eager
path.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from constitutive.files import write_text_atomic
from constitutive.native import cache_dir

from . import stage3_ir
from .stage1_trace import Program
from .stage3_ir import children, plan_branches, topo_order

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
#: leaf programs up to this size are compiled with -O3 even where the file is built with -O1
#: (stage 5 does so for large traced programs; their leaves are smaller: Ogden-3's largest,
#: 5200 operations, runs 20 % faster with -O3 for 30 % more compile time)
O3_MAX_OPS = 6000


def c_literal(v: float) -> str:
    """A C double literal that round-trips exactly (hexadecimal where not an integer)."""
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
    return f"pow({a}, {c_literal(c)})"


def c_expression(node: tuple, name) -> str:
    """C expression of an IR node (``name(i)`` gives the C name of node ``i``); portable C99."""
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


def _stage_function(fn, stage_nodes, imports, nodes, name, outs_here, tmp_slot, invariant_needed):
    """One ``#pragma omp simd`` loop over a block: loads, arithmetic, spills and output stores."""
    head = [f"    const double v{i} = {_expr_or_load(nodes[i], i, name)};" for i in invariant_needed]
    body = [f"        const double v{i} = tmp[{tmp_slot[i]}][b];" for i in imports]
    for i in stage_nodes:
        nd = nodes[i]
        rhs = f"xs[{nd[1]}][b]" if nd[0] == "x" else c_expression(nd, name)
        body.append(f"        const double v{i} = {rhs};")
        if i in tmp_slot:
            body.append(f"        tmp[{tmp_slot[i]}][b] = v{i};")
    body += [f"        os[{j}][b] = {name(nid)};" for j, nid in outs_here]
    return [
        f"__attribute__((noinline)) static void {fn}(const double *restrict p, "
        "const double xs[restrict][BP], double tmp[restrict][BP], double os[restrict][BP])",
        "{", *head, "    #pragma omp simd", "    for (int b = 0; b < B; ++b) {", *body, "    }", "}",
    ]


def _expr_or_load(nd, i, name) -> str:
    return f"p[{nd[1]}]" if nd[0] == "p" else c_expression(nd, name)


def _namer(nodes):
    def name(i: int) -> str:
        nd = nodes[i]
        return c_literal(nd[1]) if nd[0] == "const" else f"v{i}"

    return name


def _varying(nodes, order) -> set[int]:
    varying: set[int] = set()
    for i in order:
        nd = nodes[i]
        if nd[0] == "x" or any(c in varying for c in children(nd)):
            varying.add(i)
    return varying


def _program_functions(builder, flat_out: list[int], prefix: str):
    """The staged SIMD functions computing ``flat_out`` (node ids of ``builder``) into ``os``.

    Returns (C lines, names of the stage functions in call order, number of spill rows).
    """
    nodes = builder.nodes
    order = topo_order(builder, flat_out)
    varying = _varying(nodes, order)
    vorder = [i for i in order if i in varying]
    nstages = max(1, -(-len(vorder) // STAGE_OPS))
    stage_of = {i: min(pos * nstages // max(len(vorder), 1), nstages - 1) for pos, i in enumerate(vorder)}
    name = _namer(nodes)
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
    lines, names = [], []
    for st in range(nstages):
        closure = _closure(inv_needed[st], nodes)
        inv = [i for i in invariant_order if i in closure]
        names.append(f"{prefix}stage{st}")
        lines += _stage_function(names[-1], [i for i in vorder if stage_of[i] == st], imports[st], nodes,
                                 name, outs_at[st], tmp_slot, inv)
    return lines, names, len(tmp_slot)


def generate_source(prog: Program, fname: str = "kernel", simd_math: bool = True) -> str:
    """C source of the program (:func:`build_source`), cached on disk by the program's content
    and the code generator's own source: planning and generating Ogden-3's kernels takes
    1-2 s, which a second process then skips (a missing or unwritable cache only costs time)."""
    key = _source_key(prog, fname, simd_math)
    path = cache_dir() / f"src-{key}.c"
    try:
        return path.read_text()
    except OSError:
        pass
    src = build_source(prog, fname, simd_math)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, src)
    except OSError:
        pass
    return src


def output_roots(prog: Program) -> list[int]:
    """Node ids of the outputs, flattened in order. In a ``"pk1"`` program the tangent
    ``A = dP/dF`` is a second derivative of the energy, ``A_iJkL = A_kLiJ``: the lower half
    is taken from the upper (the same values to rounding; neo-Hooke's kernel gets 15 % fewer
    operations, Ogden-3's 7 %). Mandel tangents are symmetric in the IR already."""
    outs = [o.copy() for o in prog.outputs]
    if prog.kind == "pk1" and len(outs) > 1 and outs[1].size == 81:
        A = outs[1].reshape(9, 9)
        lower = np.tril_indices(9, -1)
        A[lower] = A.T[lower]
    return [int(i) for o in outs for i in o.reshape(-1)]


def _source_key(prog: Program, fname: str, simd_math: bool) -> str:
    """SHA-256 of the program (nodes renumbered in evaluation order, outputs) and of this
    module's and the IR module's source (a change of the generator invalidates the cache)."""
    roots = output_roots(prog)
    nodes, order = prog.builder.nodes, topo_order(prog.builder, roots)
    pos = {i: k for k, i in enumerate(order)}
    h = hashlib.sha256()
    for path in (__file__, stage3_ir.__file__):
        h.update(Path(path).read_bytes())
    h.update(repr((fname, simd_math, prog.n_in, prog.n_par, [o.shape for o in prog.outputs])).encode())
    for i in order:
        nd = nodes[i]
        if nd[0] in ("const", "x", "p"):
            h.update(repr(nd).encode())
        elif nd[0] == "powc":
            h.update(repr((nd[0], pos[nd[1]], nd[2])).encode())
        else:
            h.update(repr((nd[0], *(pos[c] for c in nd[1:]))).encode())
    h.update(repr([pos[r] for r in roots]).encode())
    return h.hexdigest()[:32]


def build_source(prog: Program, fname: str = "kernel", simd_math: bool = True) -> str:
    """C source of ``void kernel(int64_t n, const double *x, const double *p, double *o0, ...)``.

    Points are processed in blocks of ``BLOCK``: inputs are transposed into a structure of
    arrays, one or more SIMD loops ("stages", at most ``STAGE_OPS`` operations each: gcc 12
    stopped vectorising loops of ~10^4 statements) compute the outputs, which are transposed
    back. Values crossing stages go through per-block arrays. Parameter-only expressions are
    hoisted out of the loops. Every program goes through :func:`~.stage3_ir.rewrite`.

    A program whose ``where`` branches differ much in cost (:func:`~.stage3_ir.plan_branches`)
    becomes several leaf programs, each with only the operations of its branches, which also
    evaluate the branch conditions at their points. A block runs the leaf that the previous
    block ended with; points whose conditions call for another leaf get it (run on the block,
    each such point keeping that leaf's outputs). Each point thus gets exactly the operations
    the full program performs for it, and a block of points on one branch pays for that branch
    only.
    """
    roots = output_roots(prog)
    plan = plan_branches(prog.builder, roots)
    funcs, calls, ntmp = [], [], 1
    for k, (_, nb, nr) in enumerate(plan.leaves):
        lines, names, nt = _program_functions(nb, nr, f"leaf{k}_" if len(plan.leaves) > 1 else "")
        if len(topo_order(nb, nr)) <= O3_MAX_OPS:  # whatever -O the whole file gets (stage 5)
            lines = ["#if defined(__GNUC__) && !defined(__clang__)", "#pragma GCC push_options",
                     '#pragma GCC optimize ("O3")', "#endif", *lines,
                     "#if defined(__GNUC__) && !defined(__clang__)", "#pragma GCC pop_options", "#endif"]
        funcs += lines
        calls.append(names)
        ntmp = max(ntmp, nt)
    copy_out, stream_out, nout = [], [], 0
    for k, o in enumerate(prog.outputs):
        size = o.size
        copy_out.append(f"            for (int j = 0; j < {size}; ++j) "
                        f"o{k}[(i0 + b) * {size} + j] = os[{nout} + j][b];")
        stream_out.append(f"            put(o{k} + i0 * {size}, {size}, {nout}, os, buf);")
        nout += size
    ncond = len(plan.conditions)
    if len(plan.leaves) == 1:
        compute = [f"        {f}(p, xs, tmp, os);" for f in calls[0]]
        locals_ = []
    else:
        funcs += _leaf_dispatch(calls)
        table = [plan.leaf_of(tuple(bool(key >> k & 1) for k in range(ncond))) for key in range(1 << ncond)]
        key = " | ".join(f"((os[{nout + k}][b] != 0.0) << {k})" for k in range(ncond))
        compute = [
            "        run_leaf(hot, p, xs, tmp, os);",
            "        int other = 0;",
            "        for (int b = 0; b < m; ++b) {",
            f"            leaf[b] = table[{key}];",
            "            other |= leaf[b] != hot;",
            "        }",
            "        if (other) {",
            "            for (int l = 0; l < NLEAF; ++l) {",
            "                int any = 0;",
            "                for (int b = 0; b < m; ++b) any |= l != hot && leaf[b] == l;",
            "                if (!any) continue;",
            "                run_leaf(l, p, xs, tmp, os2);",
            "                for (int b = 0; b < m; ++b)",
            f"                    if (leaf[b] == l) for (int j = 0; j < {nout}; ++j) os[j][b] = os2[j][b];",
            "            }",
            "            hot = leaf[m - 1];",
            "        }",
        ]
        locals_ = [f"    double os2[{nout + ncond}][BP] __attribute__((aligned(64)));", "    int leaf[B];",
                   f"    static const int table[{len(table)}] = {{{', '.join(map(str, table))}}};"]
        smallest = min(range(len(plan.leaves)), key=lambda k: len(topo_order(*plan.leaves[k][1:])))
        locals_.append(f"    int hot = {smallest};  /* the leaf of the previous block */")
    decl = [f'__attribute__((simd("notinbranch"))) double {f}({", ".join(["double"] * _NARGS.get(f, 1))});'
            for f in _SIMD_FUNCS] if simd_math else []
    args = ", ".join(f"double *restrict o{k}" for k in range(len(prog.outputs)))
    nin = prog.n_in
    # Each SIMD loop sits in its own non-inlined function: inlined into the blocking loop,
    # gcc 12 refused to vectorise it ("latch block not empty").
    return "\n".join([
        "/* generated by constitutive.fast: stress and tangent of one material, per point */",
        "#include <math.h>", "#include <stdint.h>", "#include <string.h>",
        "#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)", *decl, "#endif",
        f"#define B {BLOCK}", f"#define BP {BLOCK + PAD}", f"#define NLEAF {len(plan.leaves)}", *funcs,
        _STREAM_HELPER.replace("NOUT", str(nout + ncond)),
        f"void {fname}(int64_t n, const double *restrict x, const double *restrict p, {args})",
        "{",
        f"    double xs[{nin}][BP] __attribute__((aligned(64)));",
        f"    double os[{nout + ncond}][BP] __attribute__((aligned(64)));",
        f"    double tmp[{ntmp}][BP] __attribute__((aligned(64)));",
        *locals_,
        f"    double buf[{max(o.size for o in prog.outputs)} * B] __attribute__((aligned(64)));",
        "    const int aligned = " + " && ".join(
            f"(((uintptr_t)o{k} & (STREAM_ALIGN - 1)) == 0)" for k in range(len(prog.outputs))) + ";",
        "    for (int64_t i0 = 0; i0 < n; i0 += B) {",
        "        const int m = (n - i0 < B) ? (int)(n - i0) : B;",
        "        if (m < B) memset(xs, 0, sizeof(xs));",
        "        for (int b = 0; b < m; ++b)",
        f"            for (int j = 0; j < {nin}; ++j) xs[j][b] = x[(i0 + b) * {nin} + j];",
        *compute,
        "        if (m == B && aligned) {", *stream_out, "        } else {",
        "          for (int b = 0; b < m; ++b) {", *copy_out, "          }",
        "        }",
        "    }", "    STREAM_FENCE();", "}", "",
    ])


def _leaf_dispatch(calls: list[list[str]]) -> list[str]:
    lines = ["static void run_leaf(int l, const double *restrict p, const double xs[restrict][BP], "
             "double tmp[restrict][BP], double os[restrict][BP])", "{", "    switch (l) {"]
    for k, names in enumerate(calls):
        lines.append(f"    case {k}: " + " ".join(f"{f}(p, xs, tmp, os);" for f in names) + " break;")
    return lines + ["    }", "}"]


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
