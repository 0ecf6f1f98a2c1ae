"""Stage 2 of the fast path: symbolic versions of ATen operations on one material point.

The derivative computation (energy, one reverse pass, six more) runs once on a batch of one
point. Each tensor it produces is small (at most 3x3x3x3 entries per point), so it is mirrored
here as a NumPy object array of :class:`~.stage3_ir.Sym` scalars: reshapes, selections, scatters,
stacks, matrix products and reductions become plain array bookkeeping, and only the arithmetic
is recorded, de-duplicated and constant-folded by the :class:`~.stage3_ir.Builder`. What comes out
is a straight-line scalar program for one point, valid for every point.

An operation outside the supported set raises :class:`Unsupported`; the caller then keeps the
eager path for that material.
"""

from __future__ import annotations

import numpy as np
import torch

from .stage3_ir import Builder, Sym

aten = torch.ops.aten


class Unsupported(RuntimeError):
    """The traced graph uses an operation the scalarizer does not know."""


def _sym_array(builder: Builder, t: torch.Tensor) -> np.ndarray:
    """Constant tensor -> object array of constant nodes (integer/bool tensors stay numeric)."""
    a = t.detach().cpu().numpy()
    if t.is_floating_point():
        out = np.empty(a.shape, dtype=object)
        for idx, v in np.ndenumerate(a):
            out[idx] = builder.const(float(v))
        return out
    return a


def _obj(builder: Builder, x) -> np.ndarray | Sym:
    if isinstance(x, np.ndarray):
        if x.dtype != object:
            return _sym_array(builder, torch.from_numpy(x.astype(np.float64)))
        return x
    if isinstance(x, (int, float, bool)):
        return builder.const(float(x))
    return x


def _full(builder: Builder, shape, value) -> np.ndarray:
    out = np.empty(tuple(int(s) for s in shape), dtype=object)
    out.fill(builder.const(float(value)))
    return out


def _item(v):
    """A 0-d array as its element: assigned into an object array, the array itself would
    become the element (a parameter entry ``w[i]`` and its gradient are 0-d)."""
    return v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v


def _norm_dim(d: int, ndim: int) -> int:
    return d + ndim if d < 0 else d


def _vec(builder: Builder, fn):
    """Vectorised elementwise application over object arrays (with broadcasting)."""
    u = np.frompyfunc(fn, 1, 1)

    def apply(x):
        r = u(_obj(builder, x))
        return r if isinstance(r, np.ndarray) else np.asarray(r, dtype=object)

    return apply


def _vec2(builder: Builder, fn):
    u = np.frompyfunc(fn, 2, 1)

    def apply(a, b):
        r = u(_obj(builder, a), _obj(builder, b))
        return r if isinstance(r, np.ndarray) else np.asarray(r, dtype=object)

    return apply


class Scalarizer:
    """Evaluate FX nodes of ATen ops on object arrays of :class:`Sym`."""

    def __init__(self, builder: Builder):
        self.b = builder
        b = builder
        un = {name: _vec(b, lambda a, n=name: b.unary(n, a)) for name in
              ("neg", "log", "exp", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
               "cosh", "tanh", "log1p", "expm1", "abs", "erf", "sign")}
        bi = {name: _vec2(b, lambda x, y, n=name: b.binary(n, x, y)) for name in
              ("add", "sub", "mul", "div", "pow", "atan2", "max", "min", "gt", "ge", "lt", "le",
               "eq", "ne", "and", "or")}
        self.un, self.bi = un, bi
        where = np.frompyfunc(b.where, 3, 1)
        self.where = lambda c, x, y: np.asarray(where(_obj(b, c), _obj(b, x), _obj(b, y)), dtype=object)
        self.handlers = self._handlers()

    # ------------------------------------------------------------------ op table
    def _handlers(self):
        b, un, bi = self.b, self.un, self.bi

        def alpha_op(name):
            def f(x, y, alpha=1):
                return bi[name](x, bi["mul"](y, alpha) if alpha != 1 else y)
            return f

        def unary_alias(name):
            return lambda x, *a, **k: un[name](x)

        def cmp(name):
            return lambda x, y: bi[name](x, y)

        def sum_(x, dims=None, keepdim=False, dtype=None):
            if dims is None or len(dims) == 0:
                dims = tuple(range(x.ndim))
            dims = tuple(_norm_dim(d, x.ndim) for d in dims)
            if x.ndim == 0:
                return x
            r = np.add.reduce(x, axis=dims, keepdims=keepdim)
            return np.asarray(r, dtype=object)

        def expand(x, sizes, implicit=False):
            x = _obj(b, x)
            x = np.asarray(x, dtype=object)
            lead = len(sizes) - x.ndim
            shape = [int(s) if s != -1 else x.shape[i - lead] for i, s in enumerate(sizes)]
            return np.broadcast_to(x, shape).copy()

        def select_backward(g, sizes, dim, index):
            out = _full(b, sizes, 0.0)
            idx = [slice(None)] * len(sizes)
            idx[_norm_dim(dim, len(sizes))] = index
            out[tuple(idx)] = _item(g)
            return out

        def slice_(x, dim=0, start=None, end=None, step=1):
            idx = [slice(None)] * x.ndim
            idx[_norm_dim(dim, x.ndim)] = slice(start, end, step)
            return x[tuple(idx)].copy()

        def slice_backward(g, sizes, dim, start, end, step):
            out = _full(b, sizes, 0.0)
            idx = [slice(None)] * len(sizes)
            idx[_norm_dim(dim, len(sizes))] = slice(start, end, step)
            out[tuple(idx)] = _item(g)
            return out

        def index(x, indices):
            idx = tuple(slice(None) if i is None else np.asarray(i) for i in indices)
            return np.asarray(x[idx], dtype=object).copy()

        def index_put(x, indices, values, accumulate=False):
            out = np.asarray(_obj(b, x), dtype=object).copy()
            idx = tuple(slice(None) if i is None else np.asarray(i) for i in indices)
            values = _item(_obj(b, values))
            if accumulate:
                vals = np.broadcast_to(values, out[idx].shape)
                np.add.at(out, idx, vals)
            else:
                out[idx] = values
            return out

        def select_scatter(x, src, dim, index):
            out = x.copy()
            idx = [slice(None)] * x.ndim
            idx[_norm_dim(dim, x.ndim)] = index
            out[tuple(idx)] = _item(src)
            return out

        def slice_scatter(x, src, dim=0, start=None, end=None, step=1):
            out = x.copy()
            idx = [slice(None)] * x.ndim
            idx[_norm_dim(dim, x.ndim)] = slice(start, end, step)
            out[tuple(idx)] = _item(src)
            return out

        def squeeze(x, dims=None):
            if dims is None:
                return x.reshape([s for s in x.shape if s != 1])
            if isinstance(dims, int):
                dims = (dims,)
            dims = {_norm_dim(d, x.ndim) for d in dims}
            return x.reshape([s for i, s in enumerate(x.shape) if not (i in dims and s == 1)])

        def clamp(x, lo=None, hi=None):
            if lo is not None:
                x = bi["max"](x, lo)
            if hi is not None:
                x = bi["min"](x, hi)
            return x

        def full_like(x, value, **kw):
            return _full(b, np.shape(x), value)

        def new_full(x, size, value, **kw):
            return _full(b, size, value)

        def ident(x, *a, **k):
            return x

        def eye(n, m=None, **kw):
            m = n if m is None else m
            out = _full(b, (n, m), 0.0)
            for i in range(min(n, m)):
                out[i, i] = b.const(1.0)
            return out

        def matmul(x, y):
            return np.asarray(np.matmul(x, y), dtype=object)

        def split_with_sizes(x, sizes, dim=0):
            dim = _norm_dim(dim, x.ndim)
            cuts = np.cumsum(sizes)[:-1]
            return [p.copy() for p in np.split(x, cuts, axis=dim)]

        def split(x, size, dim=0):
            n = x.shape[_norm_dim(dim, x.ndim)]
            return split_with_sizes(x, [min(size, n - s) for s in range(0, n, size)], dim)

        def unbind(x, dim=0):
            return [p.copy() for p in np.moveaxis(x, _norm_dim(dim, x.ndim), 0)]

        def diagonal(x, offset=0, dim1=0, dim2=1):
            return np.diagonal(x, offset, _norm_dim(dim1, x.ndim), _norm_dim(dim2, x.ndim)).copy()

        def masked_fill(x, mask, value):
            return self.where(mask, value, x)

        h = {
            aten.add.Tensor: alpha_op("add"), aten.add.Scalar: alpha_op("add"),
            aten.sub.Tensor: alpha_op("sub"), aten.sub.Scalar: alpha_op("sub"),
            aten.rsub.Scalar: lambda x, y, alpha=1: bi["sub"](y, bi["mul"](x, alpha)),
            aten.rsub.Tensor: lambda x, y, alpha=1: bi["sub"](y, bi["mul"](x, alpha)),
            aten.mul.Tensor: bi["mul"], aten.mul.Scalar: bi["mul"],
            aten.div.Tensor: bi["div"], aten.div.Scalar: bi["div"],
            aten.pow.Tensor_Scalar: bi["pow"], aten.pow.Tensor_Tensor: bi["pow"],
            aten.pow.Scalar: bi["pow"],
            aten.atan2.default: bi["atan2"],
            aten.maximum.default: bi["max"], aten.minimum.default: bi["min"],
            aten.reciprocal.default: lambda x: bi["div"](1.0, x),
            aten.rsqrt.default: lambda x: bi["div"](1.0, un["sqrt"](x)),
            aten.square.default: lambda x: bi["mul"](x, x),
            aten.where.self: self.where, aten.where.ScalarSelf: self.where,
            aten.where.ScalarOther: self.where, aten.where.Scalar: self.where,
            aten.masked_fill.Scalar: masked_fill, aten.masked_fill.Tensor: masked_fill,
            aten.logical_and.default: bi["and"], aten.logical_or.default: bi["or"],
            aten.logical_not.default: _vec(b, lambda a: b.binary("eq", a, 0.0)),
            aten.clamp.default: clamp, aten.clamp_min.default: lambda x, lo: clamp(x, lo),
            aten.clamp_max.default: lambda x, hi: clamp(x, None, hi),
            aten.sum.default: sum_, aten.sum.dim_IntList: sum_,
            aten.expand.default: expand,
            aten.select.int: lambda x, d, i: np.array(np.take(x, i, axis=_norm_dim(d, x.ndim)),
                                                      dtype=x.dtype),
            aten.select_backward.default: select_backward,
            aten.slice.Tensor: slice_, aten.slice_backward.default: slice_backward,
            aten.select_scatter.default: select_scatter, aten.slice_scatter.default: slice_scatter,
            aten.index.Tensor: index,
            aten.index_put.default: index_put, aten.index_put_.default: index_put,
            aten._index_put_impl_.default: lambda x, i, v, acc=False, unsafe=False: index_put(x, i, v, acc),
            aten.view.default: lambda x, s: x.reshape([int(v) for v in s]),
            aten._unsafe_view.default: lambda x, s: x.reshape([int(v) for v in s]),
            aten.reshape.default: lambda x, s: x.reshape([int(v) for v in s]),
            aten.permute.default: lambda x, d: np.transpose(x, [_norm_dim(i, x.ndim) for i in d]).copy(),
            aten.transpose.int: lambda x, d0, d1: np.swapaxes(x, d0, d1).copy(),
            aten.t.default: lambda x: x.T.copy(),
            aten.unsqueeze.default: lambda x, d: np.expand_dims(x, _norm_dim(d, x.ndim + 1)),
            aten.squeeze.dim: squeeze, aten.squeeze.dims: squeeze, aten.squeeze.default: squeeze,
            aten.stack.default: lambda xs, dim=0: np.stack([_obj(b, x) for x in xs], axis=dim),
            aten.cat.default: lambda xs, dim=0: np.concatenate(
                [x for x in xs if x.size or x.ndim > 1], axis=dim),
            aten.mm.default: matmul, aten.bmm.default: matmul, aten.matmul.default: matmul,
            aten.dot.default: lambda x, y: np.asarray(np.dot(x, y), dtype=object),
            aten.mv.default: matmul,
            aten.split_with_sizes.default: split_with_sizes, aten.split.Tensor: split,
            aten.unbind.int: unbind, aten.diagonal.default: diagonal,
            aten.ones_like.default: lambda x, **k: full_like(x, 1.0),
            aten.zeros_like.default: lambda x, **k: full_like(x, 0.0),
            aten.full_like.default: full_like,
            aten.new_zeros.default: lambda x, s, **k: _full(b, s, 0.0),
            aten.new_ones.default: lambda x, s, **k: _full(b, s, 1.0),
            aten.new_full.default: new_full,
            aten.zeros.default: lambda s, **k: _full(b, s, 0.0),
            aten.ones.default: lambda s, **k: _full(b, s, 1.0),
            aten.full.default: lambda s, v, **k: _full(b, s, v),
            aten.scalar_tensor.default: lambda v, **k: _full(b, (), v),
            aten.eye.default: eye, aten.eye.m: eye,
            aten.detach.default: ident, aten.alias.default: ident, aten.clone.default: ident,
            aten.lift_fresh_copy.default: ident, aten.lift_fresh.default: ident,
            aten._to_copy.default: ident, aten.contiguous.default: ident,
            aten.copy.default: lambda x, src, *a: np.broadcast_to(_obj(b, src), x.shape).copy(),
        }
        for name in un:
            op = getattr(aten, name, None)
            if op is not None:
                h[op.default] = unary_alias(name)
        for name in ("gt", "ge", "lt", "le", "eq", "ne"):
            op = getattr(aten, name)
            h[op.Tensor] = cmp(name)
            h[op.Scalar] = cmp(name)
        return h
