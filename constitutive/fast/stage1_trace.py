"""Stage 1 of the fast path: trace the engine's derivative computation into a per-point scalar
program (stages: trace -> :mod:`.stage2_scalarize` -> :mod:`.stage3_ir` -> code generation).

The traced functions call the *same* eager engine code
(``Hyperelastic.stress_tangent_mandel_unchecked``:
one reverse pass for the stress, six for the tangent columns) and the same kinematics
(``P = F S``, ``A = dP/dF``), so the fast path computes the eager formulas, only fused.
Tracing runs the eager code once on a batch of one point under a dispatch mode that replays
every ATen operation on symbolic scalars (like ``make_fx``, but without building an FX graph:
~10x cheaper for the large graphs of principal-stretch models). Data-dependent Python control
flow or an unsupported operation raises, and the caller keeps the eager path. Domain
conditions stated with :func:`constitutive.domain.require` become extra per-point outputs
(``Program.conditions``): 1 where the point is inside the model's domain, 0 outside.

Parameters are graph inputs (not constants): one program serves all parameter values of a
model with the same options and parameter shapes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

from constitutive import kinematics as kin
from constitutive import mandel
from constitutive.domain import tracing_conditions

from .stage2_scalarize import Scalarizer, Unsupported, _sym_array
from .stage3_ir import Builder

aten = torch.ops.aten

#: per-point input and output shapes of the two kernels
KINDS = {
    "mandel": ((6,), ((6,), (6, 6))),
    "pk1": ((3, 3), ((3, 3), (3, 3, 3, 3))),
}


@dataclass
class Program:
    """A straight-line scalar program for one point.

    ``builder.nodes`` holds the DAG; ``outputs[k]`` is an integer array of node ids with the
    per-point shape of output ``k``; ``n_in`` input scalars ``("x", j)`` and ``n_par`` parameter
    scalars ``("p", j)`` (parameters flattened in declaration order).
    """

    builder: Builder
    n_in: int
    n_par: int
    outputs: list[np.ndarray]
    kind: str
    #: messages of the domain conditions; their 0/1 flags are the last output (shape (k,))
    conditions: list[str]


def parameter_tensors(material) -> list[torch.Tensor]:
    """The material's parameters in declaration order (detached)."""
    return [getattr(material, n).detach() for n in material.parameters]


def _with_params(material, params):
    m = copy.copy(material)
    for name, p in zip(material.parameters, params, strict=True):
        setattr(m, name, p)
    return m


def _mandel_fn(e: torch.Tensor, m) -> tuple[torch.Tensor, torch.Tensor]:
    return m.stress_tangent_mandel_unchecked(e, False)


def _pk1_fn(F: torch.Tensor, m) -> tuple[torch.Tensor, torch.Tensor]:
    s, D = m.stress_tangent_mandel_unchecked(kin.strain_mandel_from_F(F), False)
    S, CC = mandel.from_mandel(s), mandel.from_mandel4(D)
    return kin.pk1_from_pk2(F, S), kin.dPdF_from_material_tangent(F, S, CC)


class _Replay(TorchDispatchMode):
    """Runs every ATen op for real (one point, cheap) and replays it on symbolic arrays.

    Tensors are identified by object identity (all are kept alive during the trace); a tensor
    never produced under the mode (a constant made outside it) enters as constants. Reading a
    value into Python (``.item()``, ``bool``) means data-dependent control flow: refused.
    """

    def __init__(self, scalarizer: Scalarizer):
        super().__init__()
        self.sc = scalarizer
        self.sym: dict[int, tuple[torch.Tensor, object]] = {}

    def bind(self, t: torch.Tensor, value) -> None:
        self.sym[id(t)] = (t, value)

    def value(self, a):
        if isinstance(a, torch.Tensor):
            hit = self.sym.get(id(a))
            if hit is not None and hit[0] is a:
                return hit[1]
            const = getattr(a, "constant", None)  # a constant made under FakeTensorMode
            if const is not None:
                return _sym_array(self.sc.b, const)
            if type(a) is not torch.Tensor:
                raise Unsupported(f"untracked {type(a).__name__} in the traced computation")
            return _sym_array(self.sc.b, a)
        return a

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _REFUSED:
            raise Unsupported("data-dependent Python control flow (a traced value read into Python)")
        out = func(*args, **kwargs)
        name = func._schema.name.split("::")[-1]
        inplace = name.endswith("_") and not name.startswith("_")
        target = func
        if inplace:
            if args and isinstance(args[0], torch.Tensor) and args[0]._is_view():
                raise Unsupported(f"in-place operation {func} on a view")
            packet = getattr(aten, name[:-1], None)
            target = getattr(packet, func._overloadname, None) if packet is not None else None
        handler = self.sc.handlers.get(target)
        if handler is None:
            raise Unsupported(f"operation {func} is not supported by the fast path")
        sargs = tree_map(self.value, args)
        skw = {k: self.value(v) for k, v in kwargs.items() if k not in _IGNORED_KW}
        try:
            res = handler(*sargs, **skw)
        except Unsupported:
            raise
        except Exception as exc:
            raise Unsupported(f"operation {func} failed on symbolic values: {exc}") from exc
        if inplace:
            self.bind(args[0], np.broadcast_to(res, tuple(args[0].shape)).copy())
        elif isinstance(out, torch.Tensor):
            self.bind(out, res)
        elif isinstance(out, (tuple, list)):
            for o, r in zip(out, res, strict=False):
                if isinstance(o, torch.Tensor):
                    self.bind(o, r)
        return out


_REFUSED = {aten._local_scalar_dense.default, aten.is_nonzero.default, aten.equal.default}
_IGNORED_KW = ("dtype", "layout", "device", "pin_memory", "memory_format", "non_blocking",
               "requires_grad")


def trace_program(material, kind: str) -> Program:
    """Trace ``material`` for ``kind`` in ``KINDS`` and return its scalar :class:`Program`."""
    in_shape, out_shapes = KINDS[kind]
    if kind == "mandel":
        x0, fn = torch.zeros((1, *in_shape), dtype=material.dtype), _mandel_fn
    else:
        x0, fn = torch.eye(3, dtype=material.dtype)[None], _pk1_fn
    return trace_function(material, fn, x0, out_shapes, kind)


def trace_function(material, fn, x0: torch.Tensor, out_shapes, kind: str = "custom") -> Program:
    """Trace ``fn(x, m)`` at the one-point input ``x0`` (shape ``(1, *in_shape)``) into a
    :class:`Program` with outputs of per-point shapes ``out_shapes``.

    ``m`` is a copy of ``material`` whose parameters are the program's parameter inputs; ``fn``
    returns a tuple of tensors of shapes ``(1, *out_shape)``, computed with torch operations
    (autograd included) on ``x`` and ``m``. The replay runs on real one-point tensors. Reading a
    traced value into Python (data-dependent control flow) raises :class:`Unsupported`: state
    domain checks with :func:`constitutive.domain.require` instead, which compiles.
    """
    in_shape = tuple(x0.shape[1:])
    params = [p.detach().to("cpu").clone() for p in parameter_tensors(material)]
    b = Builder()
    mode = _Replay(Scalarizer(b))
    n_in = int(np.prod(in_shape))
    x = np.empty((1, *in_shape), dtype=object)
    for j in range(n_in):
        x.reshape(-1)[j] = b.input("x", j)
    mode.bind(x0, x)
    k = 0
    for p in params:
        arr = np.empty(tuple(p.shape), dtype=object)
        for j in range(arr.size):
            arr.reshape(-1)[j] = b.input("p", k)
            k += 1
        mode.bind(p, arr)
    conditions: list[tuple[object, str]] = []

    def record(ok, message: str) -> None:
        conditions.append((mode.value(torch.as_tensor(ok)), message))

    try:
        with tracing_conditions(record), mode:
            res = fn(x0, _with_params(material, params))
    except Unsupported:
        raise
    except Exception as exc:  # anything else the energy does that cannot be replayed
        raise Unsupported(f"tracing failed: {type(exc).__name__}: {exc}") from exc
    outs = [mode.value(r) for r in res]
    if len(outs) != len(out_shapes):
        raise Unsupported(f"traced function returned {len(outs)} outputs, expected {len(out_shapes)}")
    ids = []
    for o, shape in zip(outs, out_shapes, strict=True):
        o = np.asarray(o, dtype=object).reshape(shape)
        arr = np.empty(shape, dtype=np.int64)
        for idx, sv in np.ndenumerate(o):
            arr[idx] = b.lift(sv).i
        ids.append(arr)
    merged: dict[str, list] = {}  # one flag per message (the energy may be evaluated twice)
    for ok, message in conditions:
        merged.setdefault(message, []).extend(np.asarray(ok, dtype=object).reshape(-1))
    if merged:
        flags = np.array([_all_of(b, np.asarray(v, dtype=object)).i for v in merged.values()], dtype=np.int64)
        ids.append(flags)
    return Program(builder=b, n_in=n_in, n_par=k, outputs=ids, kind=kind, conditions=list(merged))


def _all_of(b: Builder, values: np.ndarray):
    """One 0/1 node: the logical and of ``values`` (symbolic or constant booleans)."""
    acc = b.const(1.0)
    for v in values:
        acc = b.binary("and", acc, b.lift(float(v) if isinstance(v, (bool, np.bool_, int, float)) else v))
    return acc
