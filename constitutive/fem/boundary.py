"""Boundary conditions and loads, all scaled by the load factor ``t`` in [0, 1].

* :class:`Dirichlet` - prescribed displacement components on a node set;
* :class:`Traction` - dead surface traction per unit reference area, ``f_a = int N_a t dA0``;
* :class:`Pressure` - follower pressure ``p`` on the current surface,
  ``f_a = -p int N_a (x,1 x x,2) dxi``, with its load stiffness
  ``K_ab = p int N_a (N_b,2 [x,1]x - N_b,1 [x,2]x) dxi`` (nonsymmetric in general);
* :class:`BodyForce` - force per unit reference volume, ``f_a = int N_a b dV0``.

Reference: Bonet & Wood (2008), sec. 8.4 (follower pressure and its linearisation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .elements import get_element


def _components(components) -> np.ndarray:
    comps = np.atleast_1d(np.asarray(components, dtype=np.int64))
    if comps.ndim != 1 or len(comps) == 0 or comps.min() < 0 or comps.max() > 2 or \
            len(set(comps.tolist())) != len(comps):
        raise ValueError(f"components: expected distinct values in 0, 1, 2, got {components!r}")
    return comps


@dataclass
class Dirichlet:
    """Prescribed displacement ``u_i(X, t)`` for components ``components`` of ``nodes``.

    ``value`` is the displacement at t = 1 (a scalar, or one value per component),
    linearly ramped, or a callable ``value(X (n, 3), t) -> (n, 3)`` displacement.
    """

    nodes: np.ndarray
    components: np.ndarray
    value: float | np.ndarray | Callable = 0.0
    name: str = ""

    def __post_init__(self):
        self.components = _components(self.components)
        if not callable(self.value):
            v = np.asarray(self.value, dtype=float)
            if v.ndim == 0:
                v = np.full(len(self.components), float(v))
            if v.shape == (3,) and len(self.components) != 3:
                v = v[self.components]
            if v.shape != (len(self.components),):
                raise ValueError(
                    f"value: expected a scalar or {len(self.components)} values, got shape {v.shape}")
            self.value = v

    def dofs(self) -> np.ndarray:
        """Global DOF indices of this condition."""
        return (3 * self.nodes[:, None] + self.components[None, :]).ravel()

    def values(self, X: np.ndarray, t: float) -> np.ndarray:
        """Prescribed values for :meth:`dofs` at load factor t."""
        if callable(self.value):
            u = np.asarray(self.value(X[self.nodes], t), dtype=float)
            if u.shape != (len(self.nodes), 3):
                raise ValueError(f"value(X, t) must return shape ({len(self.nodes)}, 3), got {u.shape}")
            return u[:, self.components].ravel()
        return (t * np.broadcast_to(self.value, (len(self.nodes), len(self.components)))).ravel()


class SurfaceLoad:
    """Quadrature data on a set of boundary faces (reference configuration)."""

    def __init__(self, faces: np.ndarray, face_type: str, name: str = ""):
        self.faces = np.asarray(faces, dtype=np.int64)
        self.element = get_element(face_type)
        pts, self.w = self.element.default_rule()
        self.N, self.dN = self.element.shape_functions(pts)  # (nq, nfn), (nq, nfn, 2)
        self.name = name

    def dofs(self) -> np.ndarray:
        """Global DOF indices of the loaded faces' nodes, per face."""
        return (3 * self.faces[:, :, None] + np.arange(3)).reshape(len(self.faces), -1)

    def tangents(self, x: np.ndarray):
        """Surface tangents x,1 and x,2 (nf, nq, 3) of face coordinates x (n, 3)."""
        xf = x[self.faces]
        return np.einsum("fai,qa->fqi", xf, self.dN[..., 0]), np.einsum("fai,qa->fqi", xf, self.dN[..., 1])

    def area(self, x: np.ndarray) -> float:
        """Area of the faces at coordinates x (n, 3)."""
        t1, t2 = self.tangents(x)
        return float((np.linalg.norm(np.cross(t1, t2), axis=-1) * self.w).sum())


class Traction(SurfaceLoad):
    """Dead traction: ``traction`` (3,) per unit reference area at t = 1, or a callable
    ``traction(X (nf, nq, 3), t) -> (nf, nq, 3)``."""

    def __init__(self, faces, face_type, traction, name=""):
        super().__init__(faces, face_type, name)
        if not callable(traction):
            traction = np.asarray(traction, dtype=float)
            if traction.shape != (3,):
                raise ValueError(f"traction: expected 3 components, got shape {traction.shape}")
        self.traction = traction

    def force(self, X: np.ndarray, t: float) -> np.ndarray:
        """Element force vectors (nf, nfn*3)."""
        t1, t2 = self.tangents(X)
        dA = np.linalg.norm(np.cross(t1, t2), axis=-1) * self.w  # (nf, nq)
        if callable(self.traction):
            Xq = np.einsum("fai,qa->fqi", X[self.faces], self.N)
            tq = np.asarray(self.traction(Xq, t), dtype=float)
        else:
            tq = t * np.broadcast_to(self.traction, dA.shape + (3,))
        return np.einsum("qa,fqi,fq->fai", self.N, tq, dA).reshape(len(self.faces), -1)


class Pressure(SurfaceLoad):
    """Follower pressure ``pressure`` at t = 1 on the current surface (positive pushes
    against the outward normal)."""

    def __init__(self, faces, face_type, pressure: float, name=""):
        super().__init__(faces, face_type, name)
        self.pressure = float(pressure)

    def force(self, x: np.ndarray, t: float) -> np.ndarray:
        """Nodal forces of the follower pressure on the current faces ``x`` at load factor ``t``."""
        t1, t2 = self.tangents(x)
        n = np.cross(t1, t2) * self.w[:, None]
        return (-t * self.pressure * np.einsum("qa,fqi->fai", self.N, n)).reshape(len(self.faces), -1)

    def stiffness(self, x: np.ndarray, t: float) -> np.ndarray:
        """``-d f / d x`` per face (nf, nfn*3, nfn*3)."""
        t1, t2 = self.tangents(x)
        S1, S2 = _skew(t1), _skew(t2)  # (nf, nq, 3, 3)
        p = t * self.pressure
        K = p * (np.einsum("q,qa,qb,fqik->faibk", self.w, self.N, self.dN[..., 1], S1)
                 - np.einsum("q,qa,qb,fqik->faibk", self.w, self.N, self.dN[..., 0], S2))
        m = self.faces.shape[1] * 3
        return K.reshape(len(self.faces), m, m)


def _skew(a: np.ndarray) -> np.ndarray:
    """Matrix ``[a]x`` with ``[a]x v = a x v``; a (..., 3) -> (..., 3, 3)."""
    z = np.zeros(a.shape[:-1])
    return np.stack([np.stack([z, -a[..., 2], a[..., 1]], -1),
                     np.stack([a[..., 2], z, -a[..., 0]], -1),
                     np.stack([-a[..., 1], a[..., 0], z], -1)], -2)


@dataclass
class BodyForce:
    """Force per unit reference volume (3,) at t = 1."""

    b: np.ndarray

    def __post_init__(self):
        self.b = np.asarray(self.b, dtype=float)
        if self.b.shape != (3,):
            raise ValueError(f"body force: expected 3 components, got shape {self.b.shape}")
