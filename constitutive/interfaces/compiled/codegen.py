"""Portable C99 for traced scalar programs: one straight-line function per program.

The fast path's kernels (:mod:`constitutive.fast.stage4_codegen_c`) are tuned for this machine
(SIMD blocks, libmvec, streaming stores). A material library that ships to other machines and
other FE codes needs the opposite: plain C99 with ``<math.h>`` only, one point per call, no
intrinsics, no globals. This module writes that form from the same IR, so both are generated
from the same traced derivative computation (no derivative is written by hand).
"""

from __future__ import annotations

from constitutive.fast.stage1_trace import Program
from constitutive.fast.stage3_ir import topo_order
from constitutive.fast.stage4_codegen_c import c_expression, c_literal


def point_function(prog: Program, fname: str) -> str:
    """C source of ``static void fname(const double *x, const double *p, double *o0, ...)``.

    ``x`` holds the ``prog.n_in`` inputs of one point, ``p`` the ``prog.n_par`` parameter
    scalars (declaration order, flattened), ``o<k>`` output ``k`` (C order of its per-point
    shape). The body is one assignment per IR node in dependency order.
    """
    nodes = prog.builder.nodes
    roots = [int(i) for o in prog.outputs for i in o.reshape(-1)]
    order = topo_order(prog.builder, roots)

    def name(i: int) -> str:
        nd = nodes[i]
        return c_literal(nd[1]) if nd[0] == "const" else f"v{i}"

    body = []
    for i in order:
        nd = nodes[i]
        if nd[0] == "const":
            continue
        if nd[0] == "x":
            rhs = f"x[{nd[1]}]"
        elif nd[0] == "p":
            rhs = f"p[{nd[1]}]"
        else:
            rhs = c_expression(nd, name)
        body.append(f"    const double v{i} = {rhs};")
    for k, o in enumerate(prog.outputs):
        for j, nid in enumerate(o.reshape(-1)):
            body.append(f"    o{k}[{j}] = {name(int(nid))};")
    args = ", ".join(f"double *restrict o{k}" for k in range(len(prog.outputs)))
    return "\n".join([
        f"static void {fname}(const double *restrict x, const double *restrict p, {args})",
        "{", "    (void)x; (void)p;", *body, "}", "",
    ])
