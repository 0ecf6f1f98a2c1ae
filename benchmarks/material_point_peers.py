"""Peers of the material-point benchmark (hand-written NumPy, felupe, tensortrax, matadi, JAX).

Each peer has ``models`` (registry names it implements), ``setup(mat, x) -> fn`` taking the
engine's batch-first input (``e`` (N,6) or ``F`` (N,3,3), converted to the peer's native layout
outside the timed call) and ``convert(result) -> [stress, tangent]`` in the engine's layout,
used once to check agreement. All are neo-Hookean, ``W = mu/2 (I1 - 3) - mu ln J +
lmbda/2 (ln J)^2``, with the material's own parameters.
"""

from __future__ import annotations

import math

import numpy as np

SQ2 = math.sqrt(2.0)
_PAIRS = np.array([(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)])
_W = np.array([1.0, 1.0, 1.0, SQ2, SQ2, SQ2])


class Peer:
    def __init__(self, label, models, setup, convert=None):
        self.label, self.models, self.setup = label, models, setup
        self.convert = convert or (lambda r: [np.asarray(t) for t in r])


def _params(mat):
    return float(mat.mu), float(mat.lmbda)


# ----------------------------------------------------------------------------- NumPy
def numpy_neo_hooke_mandel(e: np.ndarray, mu: float, lmbda: float):
    """Closed form: ``S = mu (I - C^-1) + lmbda lnJ C^-1``,
    ``CC = lmbda C^-1 x C^-1 + (mu - lmbda lnJ) (C^-1_IK C^-1_JL + C^-1_IL C^-1_JK)``
    (Holzapfel 2000, eq. 6.150), returned in Mandel form (N,6), (N,6,6)."""
    c = np.empty((e.shape[0], 3, 3))
    i, j = _PAIRS[:, 0], _PAIRS[:, 1]
    E = e / _W
    c[:, i, j] = 2.0 * E
    c[:, j, i] = 2.0 * E
    c[:, [0, 1, 2], [0, 1, 2]] += 1.0
    cof = np.empty_like(c)
    cof[:, 0, 0] = c[:, 1, 1] * c[:, 2, 2] - c[:, 1, 2] * c[:, 2, 1]
    cof[:, 1, 1] = c[:, 0, 0] * c[:, 2, 2] - c[:, 0, 2] * c[:, 2, 0]
    cof[:, 2, 2] = c[:, 0, 0] * c[:, 1, 1] - c[:, 0, 1] * c[:, 1, 0]
    cof[:, 0, 1] = cof[:, 1, 0] = c[:, 0, 2] * c[:, 2, 1] - c[:, 0, 1] * c[:, 2, 2]
    cof[:, 0, 2] = cof[:, 2, 0] = c[:, 0, 1] * c[:, 1, 2] - c[:, 0, 2] * c[:, 1, 1]
    cof[:, 1, 2] = cof[:, 2, 1] = c[:, 0, 2] * c[:, 1, 0] - c[:, 0, 0] * c[:, 1, 2]
    det = c[:, 0, 0] * cof[:, 0, 0] + c[:, 0, 1] * cof[:, 1, 0] + c[:, 0, 2] * cof[:, 2, 0]
    ci = cof / det[:, None, None]
    lnJ = 0.5 * np.log(det)
    cim = ci[:, i, j] * _W
    s = mu * (np.array([1.0, 1, 1, 0, 0, 0]) - cim) + (lmbda * lnJ)[:, None] * cim
    a = ci[:, i[:, None], i[None, :]] * ci[:, j[:, None], j[None, :]]
    b = ci[:, i[:, None], j[None, :]] * ci[:, j[:, None], i[None, :]]
    D = lmbda * cim[:, :, None] * cim[:, None, :]
    D += (mu - lmbda * lnJ)[:, None, None] * (a + b) * (_W[:, None] * _W[None, :])
    return s, D


def _numpy_setup(mat, e):
    en = e.numpy()
    mu, lm = _params(mat)
    return lambda: numpy_neo_hooke_mandel(en, mu, lm)


# ----------------------------------------------------------------------------- JAX
def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax, jax.numpy


def _jax_mandel_setup(mat, e):
    jax, jnp = _jax()
    mu, lm = _params(mat)

    def w(v):
        E = jnp.array([[v[0], v[5] / SQ2, v[4] / SQ2], [v[5] / SQ2, v[1], v[3] / SQ2],
                       [v[4] / SQ2, v[3] / SQ2, v[2]]])
        C = jnp.eye(3) + 2.0 * E
        det = (C[0, 0] * (C[1, 1] * C[2, 2] - C[1, 2] * C[2, 1]) - C[0, 1] * (C[1, 0] * C[2, 2] - C[1, 2] * C[2, 0])
               + C[0, 2] * (C[1, 0] * C[2, 1] - C[1, 1] * C[2, 0]))
        lnJ = 0.5 * jnp.log(det)
        return 0.5 * mu * (jnp.trace(C) - 3.0) - mu * lnJ + 0.5 * lm * lnJ**2

    f = jax.jit(jax.vmap(lambda v: (jax.grad(w)(v), jax.hessian(w)(v))))
    x = jnp.asarray(e.numpy())
    return lambda: [a.block_until_ready() for a in f(x)]


def _jax_fe_setup(mat, F):
    jax, jnp = _jax()
    mu, lm = _params(mat)

    def w(f):
        det = (f[0, 0] * (f[1, 1] * f[2, 2] - f[1, 2] * f[2, 1]) - f[0, 1] * (f[1, 0] * f[2, 2] - f[1, 2] * f[2, 0])
               + f[0, 2] * (f[1, 0] * f[2, 1] - f[1, 1] * f[2, 0]))
        lnJ = jnp.log(det)
        return 0.5 * mu * (jnp.sum(f * f) - 3.0) - mu * lnJ + 0.5 * lm * lnJ**2

    g = jax.jit(jax.vmap(lambda f: (jax.grad(w)(f), jax.hessian(w)(f))))
    x = jnp.asarray(F.numpy())
    return lambda: [a.block_until_ready() for a in g(x)]


# ----------------------------------------------------------------------------- felupe & co
def _native_F(F):
    """(N,3,3) -> felupe layout (3,3,1,N) (quadrature points x cells), contiguous."""
    return np.ascontiguousarray(F.numpy().transpose(1, 2, 0)[:, :, None, :])


def _from_native(res):
    P, A = res[0], res[1]
    P = np.asarray(P).reshape(3, 3, -1)
    A = np.asarray(A).reshape(3, 3, 3, 3, -1)
    return [np.moveaxis(P, -1, 0), np.moveaxis(A, -1, 0)]


def _felupe_nh(parallel):
    def setup(mat, F):
        import felupe

        mu, lm = _params(mat)
        umat = felupe.NeoHookeCompressible(mu=mu, lmbda=lm, parallel=parallel)
        x = [_native_F(F), None]
        return lambda: (umat.gradient(x)[0], umat.hessian(x)[0])

    return setup


def _tm_energy(C, mu, lmbda):
    import tensortrax.math as tm

    lnJ = tm.log(tm.linalg.det(C)) / 2
    return mu / 2 * (tm.trace(C) - 3) - mu * lnJ + lmbda / 2 * lnJ**2


def _felupe_ad(mat, F):
    import felupe

    mu, lm = _params(mat)
    umat = felupe.Hyperelastic(_tm_energy, parallel=True, mu=mu, lmbda=lm)
    x = [_native_F(F), None]
    return lambda: (umat.gradient(x)[0], umat.hessian(x)[0])


def _tensortrax(mat, F):
    import tensortrax as tr
    import tensortrax.math as tm

    mu, lm = _params(mat)

    def fun(Fx):
        return _tm_energy(tm.dot(tm.transpose(Fx), Fx), mu, lm)

    h = tr.hessian(fun, ntrax=2, parallel=True, full_output=True)
    x = _native_F(F)

    def run():
        hess, grad, _ = h(x)
        return grad, hess

    return run


def _matadi(mat, F):
    from matadi import MaterialHyperelastic
    from matadi.math import det, log, trace, transpose

    mu, lm = _params(mat)

    def fun(Fx, mu, lmbda):
        lnJ = log(det(Fx))
        return mu / 2 * (trace(transpose(Fx) @ Fx) - 3) - mu * lnJ + lmbda / 2 * lnJ**2

    m = MaterialHyperelastic(fun, mu=mu, lmbda=lm)
    x = [_native_F(F)]
    return lambda: (m.gradient(x, threads=2)[0], m.hessian(x, threads=2)[0])


NH = ("neo-hooke",)
MANDEL_PEERS = [
    Peer("numpy closed form", NH, _numpy_setup),
    Peer("jax jit(vmap(hessian))", NH, _jax_mandel_setup),
]
FE_PEERS = [
    Peer("felupe NeoHookeCompressible (threads)", NH, _felupe_nh(True), _from_native),
    Peer("felupe NeoHookeCompressible (1 thread)", NH, _felupe_nh(False), _from_native),
    Peer("felupe Hyperelastic (tensortrax AD)", NH, _felupe_ad, _from_native),
    Peer("tensortrax hessian", NH, _tensortrax, _from_native),
    Peer("matadi", NH, _matadi, _from_native),
    Peer("jax jit(vmap(hessian))", NH, _jax_fe_setup),
]
