"""Stage 4 of the fast path (other devices): torch code for a scalar :class:`~.stage1_trace.Program`.

The same straight-line program as the C kernel, written as elementwise operations on the
columns of a structure-of-arrays chunk (``(n,)`` tensors). Used on CUDA (optionally through
``torch.compile``, which fuses it into one kernel) and on CPUs without a C compiler, where it
runs chunk by chunk so that intermediates stay bounded. Temporaries are deleted after their
last use.
"""

from __future__ import annotations

import math

import torch

from .stage1_trace import Program
from .stage3_ir import children, topo_order

_UNARY = {
    "neg": "(-{0})", "log": "torch.log({0})", "exp": "torch.exp({0})", "sqrt": "torch.sqrt({0})",
    "sin": "torch.sin({0})", "cos": "torch.cos({0})", "tan": "torch.tan({0})",
    "asin": "torch.asin({0})", "acos": "torch.acos({0})", "atan": "torch.atan({0})",
    "sinh": "torch.sinh({0})", "cosh": "torch.cosh({0})", "tanh": "torch.tanh({0})",
    "log1p": "torch.log1p({0})", "expm1": "torch.expm1({0})", "abs": "torch.abs({0})",
    "erf": "torch.erf({0})", "sign": "torch.sign({0})",
}
_BIN = {
    "add": "({0} + {1})", "sub": "({0} - {1})", "mul": "({0} * {1})", "div": "({0} / {1})",
    "pow": "torch.pow(_t({0}, r), {1})", "atan2": "torch.atan2(_t({0}, r), _t({1}, r))",
    "max": "torch.maximum(_t({0}, r), _t({1}, r))", "min": "torch.minimum(_t({0}, r), _t({1}, r))",
    "gt": "({0} > {1})", "ge": "({0} >= {1})", "lt": "({0} < {1})", "le": "({0} <= {1})",
    "eq": "({0} == {1})", "ne": "({0} != {1})",
    "and": "((_t({0}, r) != 0) & (_t({1}, r) != 0))", "or": "((_t({0}, r) != 0) | (_t({1}, r) != 0))",
}
_BOOL = {"gt", "ge", "lt", "le", "eq", "ne", "and", "or"}


def _t(a, ref: torch.Tensor) -> torch.Tensor:
    """``a`` as a tensor like ``ref`` (Python numbers become 0-d tensors)."""
    return a if isinstance(a, torch.Tensor) else torch.tensor(a, dtype=ref.dtype, device=ref.device)


def generate_source(prog: Program, fname: str = "kernel") -> str:
    """Python source of ``kernel(x, p, *outs)`` with ``x`` (n, n_in), outputs (n, size_k)."""
    nodes = prog.builder.nodes
    roots = [int(i) for o in prog.outputs for i in o.reshape(-1)]
    order = topo_order(prog.builder, roots)
    last_use: dict[int, int] = {}
    for pos, i in enumerate(order):
        for c in children(nodes[i]):
            last_use[c] = pos
    for r in roots:
        last_use[r] = len(order)

    def name(i: int) -> str:
        nd = nodes[i]
        if nd[0] == "const":
            v = nd[1]
            return f"float({v!r})" if math.isfinite(v) else f"float('{v}')"
        return f"v{i}"

    lines = [f"def {fname}(x, p, {', '.join(f'o{k}' for k in range(len(prog.outputs)))}):",
             "    r = x"]
    for pos, i in enumerate(order):
        nd = nodes[i]
        op = nd[0]
        if op == "const":
            continue
        if op == "x":
            expr = f"x[:, {nd[1]}]"
        elif op == "p":
            expr = f"p[{nd[1]}]"
        elif op == "powc":
            expr = f"torch.pow({name(nd[1])}, {nd[2]!r})"
        elif op == "where":
            expr = f"torch.where(_t({name(nd[1])}, r) != 0, _t({name(nd[2])}, r), _t({name(nd[3])}, r))"
        elif op in _UNARY:
            expr = _UNARY[op].format(name(nd[1]))
        else:
            expr = _BIN[op].format(name(nd[1]), name(nd[2]))
            if op in _BOOL:
                expr = f"({expr}).to(r.dtype)"
        lines.append(f"    v{i} = {expr}")
        dead = [c for c in set(children(nd)) if last_use.get(c) == pos and nodes[c][0] != "const"]
        if dead:
            lines.append("    del " + ", ".join(f"v{c}" for c in sorted(dead)))
    for k, o in enumerate(prog.outputs):
        for j, nid in enumerate(o.reshape(-1)):
            lines.append(f"    o{k}[:, {j}] = {name(int(nid))}")
    lines.append("")
    return "\n".join(lines)


class TorchKernel:
    """Compiled-from-source Python kernel on SoA columns; optional ``torch.compile``."""

    def __init__(self, prog: Program, compile: bool = False):
        self.n_in = prog.n_in
        self.out_sizes = [int(o.size) for o in prog.outputs]
        self.source = generate_source(prog)
        scope = {"torch": torch, "_t": _t}
        exec(compile_src(self.source), scope)
        self._fn = scope["kernel"]
        self._compiled = None
        if compile:
            self._compiled = torch.compile(self._fn, dynamic=True, fullgraph=True)

    def __call__(self, x: torch.Tensor, p: torch.Tensor, outs: list[torch.Tensor]) -> None:
        if self._compiled is not None:
            try:
                self._compiled(x, p, *outs)
                return
            except Exception:  # compilation unavailable (no triton, no compiler): stay eager
                self._compiled = None
        self._fn(x, p, *outs)


def compile_src(src: str):
    """Python code object of generated kernel source."""
    return compile(src, "<constitutive.fast generated>", "exec")
