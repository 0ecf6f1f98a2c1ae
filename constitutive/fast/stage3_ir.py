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
        """The constant node of value ``v`` (one per value)."""
        v = float(v)
        if v == 0.0:
            v = 0.0  # one zero (drop the sign of -0.0: it never matters after folding)
        return self._node(("const", v))

    def input(self, kind: str, k: int) -> Sym:
        """Input node ``("x", k)`` (point input) or ``("p", k)`` (parameter)."""
        return self._node((kind, int(k)))

    def value(self, s: Sym) -> float | None:
        """Constant value of ``s`` or ``None``."""
        n = self.nodes[s.i]
        return n[1] if n[0] == "const" else None

    def lift(self, a) -> Sym:
        """``a`` as a node (Python numbers become constants)."""
        if isinstance(a, Sym):
            return a
        if isinstance(a, (bool, int, float)):
            return self.const(float(a))
        raise TypeError(f"cannot use {type(a).__name__} in a traced expression")

    # -- operations ----------------------------------------------------------------------
    def unary(self, fn: str, a) -> Sym:
        """``fn(a)`` for ``fn`` in :data:`UNARY` (folded if ``a`` is constant)."""
        a = self.lift(a)
        va = self.value(a)
        if va is not None and (v := _fold(UNARY[fn], va)) is not None:
            return self.const(v)
        if fn == "neg" and self.nodes[a.i][0] == "neg":
            return Sym(self, self.nodes[a.i][1])
        return self._node((fn, a.i))

    def binary(self, op: str, a, b) -> Sym:
        """``a op b`` (arithmetic, comparison or logic), folded and shared where possible."""
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
        """``a ** c`` with a constant exponent."""
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
        """``a`` where ``c != 0``, else ``b`` (folded for a constant ``c``)."""
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


def rewrite(builder: Builder, roots: list[int], assume: dict[int, bool] | None = None,
            probes: tuple[int, ...] = (), probe_assume: dict[int, dict[int, bool]] | None = None
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

    * ``probes``: comparison nodes whose value in the full program is wanted as well (appended
      to the returned roots), whatever the leaf assumes: the leaf program then tells which leaf
      a point needs. ``probe_assume[c]``: assumptions under which probe ``c`` is computed
      instead (those of its ancestors in the decision tree: its value matters only where they
      hold).

    Returns the new builder and the new ids of ``roots`` (then ``probes``).
    """
    nb = Builder()
    assume, probe_assume = assume or {}, probe_assume or {}
    plain = _rebuild(builder, nb, roots, assume)
    # the probes as the full program computes them (a condition evaluated under this leaf's
    # assumptions would see another branch's dummies); the nodes that do not depend on an
    # assumption are shared with the leaf by hash-consing
    checks = []
    for c in probes:
        pa = probe_assume.get(c, {})
        checks.append((plain if pa == assume else _rebuild(builder, nb, [c], pa))(c).i)
    return nb, [plain(r).i for r in roots] + checks


def _rebuild(builder: Builder, nb: Builder, roots: list[int], assume: dict[int, bool]):
    """Rebuild ``roots`` into ``nb`` (see :func:`rewrite`); returns ``plain(old id) -> Sym``."""
    nodes = builder.nodes
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
    return plain


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


# ------------------------------------------------------------------ branch specialisation
#: programs smaller than this are never split by branch
SPLIT_MIN_OPS = 1500
#: a condition splits a program only if its two sides keep on average at most this fraction of
#: its operations (and each side fewer than all)
SPLIT_MAX_FRACTION = 0.8
#: at most this many distinct conditions per program (2^k keys)
SPLIT_MAX_CONDITIONS = 3


class BranchPlan:
    """Programs specialised by branch: ``conditions`` (node ids of the full program, each 0/1 per
    point), ``leaves[k] = (assume, builder, roots)`` and ``leaf_of(bits)``: the leaf for the
    values of the conditions (a tuple of bools). The roots of a leaf are those of the program
    followed by the values of the conditions at the point (whatever the leaf assumes). One leaf
    and no condition: no split."""

    def __init__(self, conditions, leaves, tree):
        self.conditions, self.leaves, self._tree = conditions, leaves, tree

    def leaf_of(self, bits: tuple[bool, ...]) -> int:
        """Index of the leaf taken when the conditions have the values ``bits``."""
        node = self._tree
        while not isinstance(node, int):
            c, if_true, if_false = node
            node = if_true if bits[self.conditions.index(c)] else if_false
        return node


def plan_branches(builder: Builder, roots: list[int]) -> BranchPlan:
    """Decide by which per-point conditions a program is split into leaf programs.

    A candidate is a comparison that depends on the input and decides a ``where`` (through
    ``and``/``or``). The program is split on the candidate that shrinks it most when taken as
    true and as false (the two sides on average at most ``SPLIT_MAX_FRACTION`` of it, each
    smaller than it: a block whose points disagree runs both); the sides are split again the
    same way (up to ``SPLIT_MAX_CONDITIONS`` conditions in all). Sizes are estimated by
    :class:`_Sizes`; each leaf is the program :func:`rewrite` gives under its assumptions, and
    leaves with the same program are merged. Coincidence-safe principal-stretch models
    (:mod:`constitutive.principal`) are the case in point: a point takes one of three branches,
    and the branch of generic points is a fifth of the whole program.
    """
    order = topo_order(builder, roots)
    sizes = _Sizes(builder, order, roots)
    used: list[int] = []
    leaves: list[tuple] = []
    seen: dict[tuple, int] = {}

    def split(assume: dict[int, bool], candidates: list[int]):
        size = sizes(assume)
        effective = []
        if size >= SPLIT_MIN_OPS:
            for c in candidates:
                if (c not in used and len(used) >= SPLIT_MAX_CONDITIONS) or not sizes.is_live(assume, c):
                    continue
                st, sf = sizes({**assume, c: True}), sizes({**assume, c: False})
                if max(st, sf) < size and st + sf <= 2.0 * SPLIT_MAX_FRACTION * size:
                    effective.append((st + sf, c))
        if not effective:
            nb, nr = rewrite(builder, roots, assume)
            key = _canonical(nb, nr)
            if key not in seen:
                seen[key] = len(leaves)
                leaves.append(assume)
            return seen[key]
        c = min(effective)[1]
        if c not in used:
            used.append(c)
        rest = [d for d in candidates if d != c]
        return (c, split({**assume, c: True}, rest), split({**assume, c: False}, rest))

    tree = split({}, _branch_candidates(builder, order))
    if len(leaves) == 1:
        used = []
    ancestors: dict[int, dict[int, bool]] = {}

    def walk(node, path: dict[int, bool]) -> None:
        if isinstance(node, int):
            return
        c, if_true, if_false = node
        ancestors[c] = dict(path) if c not in ancestors else {
            k: v for k, v in ancestors[c].items() if path.get(k) == v}
        walk(if_true, {**path, c: True})
        walk(if_false, {**path, c: False})

    walk(tree, {})
    programs = [rewrite(builder, roots, assume, tuple(used), ancestors) for assume in leaves]
    return BranchPlan(used, [(a, nb, nr) for a, (nb, nr) in zip(leaves, programs, strict=True)], tree)


def _canonical(builder: Builder, roots: list[int]) -> tuple:
    """A hashable form of the program (nodes renumbered in evaluation order)."""
    order = topo_order(builder, roots)
    pos = {i: k for k, i in enumerate(order)}
    out = []
    for i in order:
        nd = builder.nodes[i]
        if nd[0] in ("const", "x", "p"):
            out.append(nd)
        elif nd[0] == "powc":
            out.append((nd[0], pos[nd[1]], nd[2]))
        else:
            out.append((nd[0], *(pos[c] for c in nd[1:])))
    return tuple(out), tuple(pos[r] for r in roots)


class _Sizes:
    """``sizes(assume)``: operations left of a program when the 0/1 nodes in ``assume`` are
    constants: ``where`` keeps its taken side, and zeros propagate through ``*``, ``/``, ``+``,
    ``-`` and ``where`` as :class:`Builder` folds them (an estimate of the size of
    :func:`rewrite`'s result, one pass each way; memoised)."""

    _FOLD = frozenset(("where", "mul", "div", "add", "sub", "and", "or", "neg"))

    def __init__(self, builder: Builder, order: list[int], roots: list[int]):
        pos = {i: k for k, i in enumerate(order)}
        nodes = builder.nodes
        self.ops = [nodes[i][0] for i in order]
        self.kids = [tuple(pos[c] for c in children(nodes[i])) for i in order]
        self.consts = [nodes[i][1] if nodes[i][0] == "const" else None for i in order]
        self.fold = [k for k, op in enumerate(self.ops) if op in self._FOLD]
        self.roots = [pos[r] for r in roots]
        self.pos = pos
        self.memo: dict[frozenset, int] = {}
        self.live: dict[frozenset, bytearray] = {}

    def __call__(self, assume: dict[int, bool]) -> int:
        key = frozenset(assume.items())
        if key not in self.memo:
            self.memo[key] = self._count(assume)
        return self.memo[key]

    def _count(self, assume: dict[int, bool]) -> int:
        ops, kids = self.ops, self.kids
        known = list(self.consts)
        for i, v in assume.items():
            known[self.pos[i]] = 1.0 if v else 0.0
        for k in self.fold:
            if known[k] is not None:
                continue
            op, ch = ops[k], kids[k]
            if op == "where":
                c = known[ch[0]]
                if c is not None:
                    known[k] = known[ch[1] if c else ch[2]]
            elif op == "mul":
                if known[ch[0]] == 0.0 or known[ch[1]] == 0.0:
                    known[k] = 0.0
            elif op in ("div", "neg"):
                if known[ch[0]] == 0.0:
                    known[k] = 0.0
            elif op in ("and", "or"):
                a, b = known[ch[0]], known[ch[1]]
                absorbing = op == "or"
                if (a is not None and bool(a) == absorbing) or (b is not None and bool(b) == absorbing):
                    known[k] = float(absorbing)
                elif a is not None and b is not None:
                    known[k] = float(not absorbing)
            else:  # add, sub
                a, b = known[ch[0]], known[ch[1]]
                if a is not None and b is not None:
                    known[k] = a + b if op == "add" else a - b
        live = bytearray(len(ops))
        for r in self.roots:
            live[r] = 1
        count = 0
        for k in range(len(ops) - 1, -1, -1):
            if not live[k]:
                continue
            if known[k] is not None:
                live[k] = 0
                continue
            count += 1
            ch = kids[k]
            if ops[k] == "where" and known[ch[0]] is not None:
                live[ch[1] if known[ch[0]] else ch[2]] = 1
            else:
                for c in ch:
                    live[c] = 1
        self.live[frozenset(assume.items())] = live
        return count

    def is_live(self, assume: dict[int, bool], i: int) -> bool:
        """Whether node ``i`` is still computed under ``assume`` (after a call with it)."""
        return bool(self.live[frozenset(assume.items())][self.pos[i]])


def _branch_candidates(builder: Builder, order: list[int]) -> list[int]:
    """Input-dependent comparisons that decide a ``where`` (directly or through and/or/not)."""
    nodes = builder.nodes
    varying: set[int] = set()
    for i in order:
        if nodes[i][0] == "x" or any(c in varying for c in children(nodes[i])):
            varying.add(i)
    out, seen = [], set()
    stack = [nodes[i][1] for i in order if nodes[i][0] == "where"]
    while stack:
        i = stack.pop()
        if i in seen or i not in varying:
            continue
        seen.add(i)
        op = nodes[i][0]
        if op in ("and", "or"):
            stack += [nodes[i][1], nodes[i][2]]
        elif op in _CMP:
            a, b = nodes[i][1], nodes[i][2]
            if nodes[a][0] == "const":
                a, b = b, a
            if op in ("eq", "ne") and nodes[b][0] == "const" and nodes[a][0] in BOOL_OPS:
                stack.append(a)  # logical not / truth test of a condition
            else:
                out.append(i)
    return sorted(out)
