"""Stage 3 of the fast path, the IR: a scalar expression DAG with hash-consing (shared
subexpressions) and constant folding.

A traced derivative graph is re-played on one material point with :class:`Sym` scalars in NumPy
object arrays (see :mod:`.stage2_scalarize`). Every arithmetic operation goes through a
:class:`Builder`, which returns an existing node for a repeated expression and folds the many
zeros and ones that autograd's scatter/gather backward produces (``0 * x``, ``x + 0``, ``1 * x``).
The result is a small straight-line program per point that the code generators turn into one
loop (C) or one sequence of elementwise tensor operations (torch).

Node kinds (``Builder.nodes[i] = (op, *args)``):

* ``("const", value)``, ``("x", k)`` (k-th input component), ``("p", k)`` (k-th parameter scalar);
* unary ``(fn, a)`` with ``fn`` in :data:`UNARY`; binary ``("add"|"sub"|"mul"|"div"|"pow"|
  "atan2"|"max"|"min", a, b)``; ``("powc", a, c)`` (constant exponent);
* comparisons ``("gt"|"ge"|"lt"|"le"|"eq"|"ne", a, b)`` giving 0/1, ``("where", c, a, b)``,
  ``("and"|"or", a, b)``, ``("not", a)``.
"""

from __future__ import annotations

import math

#: unary functions: name -> Python implementation (constant folding)
UNARY = {
    "neg": lambda a: -a,
    "log": math.log,
    "exp": math.exp,
    "sqrt": math.sqrt,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "log1p": math.log1p,
    "expm1": math.expm1,
    "abs": abs,
    "erf": math.erf,
    "sign": lambda a: float((a > 0) - (a < 0)),
}

_CMP = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}

#: operations whose value is 0 or 1
BOOL_OPS = frozenset((*_CMP, "and", "or"))

_BIN = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "atan2": math.atan2,
    "max": max,
    "min": min,
    "and": lambda a, b: float(bool(a) and bool(b)),
    "or": lambda a, b: float(bool(a) or bool(b)),
}


def _fold(f, *args) -> float | None:
    """Constant folding; ``None`` where Python raises or leaves the reals (``1/0``, ``log 0``,
    ``(-1)**0.5``): such a node is kept and evaluated in IEEE arithmetic by the kernel."""
    try:
        v = f(*args)
    except (ArithmeticError, ValueError):
        return None
    return float(v) if isinstance(v, (int, float, bool)) else None


class Builder:
    """Owner of the expression DAG; all :class:`Sym` objects refer to one builder."""

    def __init__(self):
        self.nodes: list[tuple] = []
        self._index: dict[tuple, int] = {}

    # -- node creation -------------------------------------------------------------------
    def _node(self, key: tuple) -> Sym:
        i = self._index.get(key)
        if i is None:
            i = len(self.nodes)
            self.nodes.append(key)
            self._index[key] = i
        return Sym(self, i)

    def const(self, v: float) -> Sym:
        v = float(v)
        if v == 0.0:
            v = 0.0  # one zero (drop the sign of -0.0: it never matters after folding)
        return self._node(("const", v))

    def input(self, kind: str, k: int) -> Sym:
        return self._node((kind, int(k)))

    def value(self, s: Sym) -> float | None:
        """Constant value of ``s`` or ``None``."""
        n = self.nodes[s.i]
        return n[1] if n[0] == "const" else None

    def lift(self, a) -> Sym:
        if isinstance(a, Sym):
            return a
        if isinstance(a, (bool, int, float)):
            return self.const(float(a))
        raise TypeError(f"cannot use {type(a).__name__} in a traced expression")

    # -- operations ----------------------------------------------------------------------
    def unary(self, fn: str, a) -> Sym:
        a = self.lift(a)
        va = self.value(a)
        if va is not None and (v := _fold(UNARY[fn], va)) is not None:
            return self.const(v)
        if fn == "neg" and self.nodes[a.i][0] == "neg":
            return Sym(self, self.nodes[a.i][1])
        return self._node((fn, a.i))

    def binary(self, op: str, a, b) -> Sym:
        a, b = self.lift(a), self.lift(b)
        va, vb = self.value(a), self.value(b)
        if va is not None and vb is not None and (v := _fold(_CMP.get(op) or _BIN[op], va, vb)) is not None:
            return self.const(v)
        if op == "add":
            if va == 0.0:
                return b
            if vb == 0.0:
                return a
        elif op == "sub":
            if vb == 0.0:
                return a
            if va == 0.0:
                return self.unary("neg", b)
            if a.i == b.i:
                return self.const(0.0)
        elif op == "mul":
            if va == 0.0 or vb == 0.0:
                return self.const(0.0)
            if va == 1.0:
                return b
            if vb == 1.0:
                return a
            if va == -1.0:
                return self.unary("neg", b)
            if vb == -1.0:
                return self.unary("neg", a)
        elif op == "div":
            if va == 0.0:
                return self.const(0.0)
            if vb == 1.0:
                return a
            if vb == -1.0:
                return self.unary("neg", a)
        elif op == "pow" and vb is not None:
            return self.powc(a, vb)
        elif op in ("and", "or") and (va is not None or vb is not None):
            v, other = (va, b) if va is not None else (vb, a)
            if bool(v) == (op == "or"):  # x or 1 = 1, x and 0 = 0
                return self.const(float(op == "or"))
            return other if self.nodes[other.i][0] in BOOL_OPS else self.binary("ne", other, 0.0)
        if op in ("add", "mul", "max", "min", "eq", "ne", "and", "or") and a.i > b.i:
            a, b = b, a
        return self._node((op, a.i, b.i))

    def powc(self, a, c: float) -> Sym:
        a = self.lift(a)
        c = float(c)
        va = self.value(a)
        if va is not None and (v := _fold(pow, va, c)) is not None:
            return self.const(v)
        if c == 1.0:
            return a
        if c == 0.0:
            return self.const(1.0)
        return self._node(("powc", a.i, c))

    def where(self, c, a, b) -> Sym:
        c, a, b = self.lift(c), self.lift(a), self.lift(b)
        vc = self.value(c)
        if vc is not None:
            return a if vc else b
        if a.i == b.i:
            return a
        return self._node(("where", c.i, a.i, b.i))


class Sym:
    """A scalar node of a :class:`Builder`; supports Python arithmetic (used by NumPy)."""

    __slots__ = ("b", "i")

    def __init__(self, builder: Builder, i: int):
        self.b = builder
        self.i = i

    def __repr__(self) -> str:
        return f"Sym({self.i}: {self.b.nodes[self.i]})"

    def __add__(self, o):
        return self.b.binary("add", self, o)

    def __radd__(self, o):
        return self.b.binary("add", o, self)

    def __sub__(self, o):
        return self.b.binary("sub", self, o)

    def __rsub__(self, o):
        return self.b.binary("sub", o, self)

    def __mul__(self, o):
        return self.b.binary("mul", self, o)

    def __rmul__(self, o):
        return self.b.binary("mul", o, self)

    def __truediv__(self, o):
        return self.b.binary("div", self, o)

    def __rtruediv__(self, o):
        return self.b.binary("div", o, self)

    def __pow__(self, o):
        return self.b.binary("pow", self, o)

    def __rpow__(self, o):
        return self.b.binary("pow", o, self)

    def __neg__(self):
        return self.b.unary("neg", self)

    def __pos__(self):
        return self

    def __bool__(self):
        v = self.b.value(self)
        if v is None:
            raise TypeError("data-dependent Python control flow on a traced value")
        return bool(v)


def topo_order(builder: Builder, roots: list[int]) -> list[int]:
    """Node ids reachable from ``roots`` in a valid evaluation order (children first)."""
    seen: set[int] = set()
    order: list[int] = []
    for r in roots:
        if r in seen:
            continue
        stack = [(r, False)]
        while stack:
            i, done = stack.pop()
            if done:
                order.append(i)
                continue
            if i in seen:
                continue
            seen.add(i)
            stack.append((i, True))
            for c in children(builder.nodes[i]):
                if c not in seen:
                    stack.append((c, False))
    return order


def children(node: tuple) -> tuple[int, ...]:
    """Child node ids of a node tuple."""
    op = node[0]
    if op in ("const", "x", "p"):
        return ()
    if op == "powc":
        return (node[1],)
    return tuple(node[1:])


# ------------------------------------------------------------------ rewriting (code generation)
#: powers whose sign follows that of the base: even (True) or odd (False) integer exponents
_POWC_PARITY = {2.0: True, -2.0: True, 3.0: False, -1.0: False}


def rewrite(builder: Builder, roots: list[int], assume: dict[int, bool] | None = None
            ) -> tuple[Builder, list[int]]:
    """The DAG reachable from ``roots`` rebuilt into a new :class:`Builder` for code generation.

    * ``assume``: ``{node id: bool}`` of 0/1 nodes (branch conditions) taken as constants; every
      ``where`` they decide keeps only its taken side, and ``and``/``or`` fold. The result is the
      program for the points where the assumptions hold: the same operations on the same values
      as the full program there, without the branches not taken (see
      :func:`constitutive.fast.stage4_codegen_c.generate_source`).
    * Negations are carried as signs and absorbed (``a + (-b) -> a - b``, ``(-a) (-b) -> a b``,
      ``-(-a) -> a``): exact in IEEE arithmetic. Autograd's backward passes produce hundreds of
      them (Ogden-3: 250 of 2700 operations).
    * Division becomes multiplication by a shared reciprocal (``a / b -> a * (1/b)``, one
      division per distinct denominator): at most one rounding of difference per operation,
      while a division costs several multiplications' time (Ogden-3: 218 divisions by 18
      distinct denominators in the tangent).

    Returns the new builder and the new ids of ``roots``.
    """
    nodes, assume = builder.nodes, assume or {}
    nb = Builder()
    val: dict[int, tuple[Sym, bool]] = {}  # old id -> (new node, negated)

    def plain(i: int) -> Sym:
        sym, neg = val[i]
        return nb.unary("neg", sym) if neg else sym

    for i in topo_order(builder, roots):
        nd = nodes[i]
        op = nd[0]
        if i in assume:
            val[i] = (nb.const(1.0 if assume[i] else 0.0), False)
        elif op == "const":
            v = nd[1]
            val[i] = (nb.const(-v), True) if v < 0.0 else (nb.const(v), False)
        elif op in ("x", "p"):
            val[i] = (nb.input(op, nd[1]), False)
        else:
            val[i] = _lower(nb, op, nd, val, plain)
    return nb, [plain(r).i for r in roots]


def _lower(nb: Builder, op: str, nd: tuple, val, plain) -> tuple[Sym, bool]:
    """One node of :func:`rewrite`: its new node and sign, from the already rewritten children."""
    if op == "neg":
        sym, neg = val[nd[1]]
        return sym, not neg
    if op in ("add", "sub"):
        (a, na), (b, nb_) = val[nd[1]], val[nd[2]]
        nb_ = nb_ != (op == "sub")
        if na == nb_:
            return nb.binary("add", a, b), na
        return (nb.binary("sub", a, b) if nb_ else nb.binary("sub", b, a)), False
    if op == "mul":
        (a, na), (b, nb_) = val[nd[1]], val[nd[2]]
        return nb.binary("mul", a, b), na != nb_
    if op == "div":
        (a, na), (b, nb_) = val[nd[1]], val[nd[2]]
        return nb.binary("mul", a, _reciprocal(nb, b)), na != nb_
    if op == "powc":
        a, na = val[nd[1]]
        c = nd[2]
        if c == -1.0:
            return _reciprocal(nb, a), na
        if c == -2.0:
            r = _reciprocal(nb, a)
            return nb.binary("mul", r, r), False
        if na and c in _POWC_PARITY:
            return nb.powc(a, c), not _POWC_PARITY[c]
        return nb.powc(plain(nd[1]), c), False
    if op == "abs":
        return nb.unary("abs", val[nd[1]][0]), False
    if op == "where":
        (a, na), (b, nb_) = val[nd[2]], val[nd[3]]
        if na == nb_:
            return nb.where(plain(nd[1]), a, b), na
        return nb.where(plain(nd[1]), plain(nd[2]), plain(nd[3])), False
    if op in UNARY:
        return nb.unary(op, plain(nd[1])), False
    return nb.binary(op, plain(nd[1]), plain(nd[2])), False


def _reciprocal(nb: Builder, b: Sym) -> Sym:
    v = nb.value(b)
    if v is not None and v != 0.0:
        return nb.const(1.0 / v)
    return nb.binary("div", 1.0, b)
