"""Lagrange finite elements on reference cells: shape functions and their derivatives.

Node ordering follows VTK (and meshio): ``hexahedron`` (8 nodes, [-1, 1]^3), ``tetra``
(4 nodes, unit tetrahedron), ``tetra10`` (vertices, then mid-edge nodes on edges 01, 12, 02,
03, 13, 23); boundary faces ``quad`` (4), ``triangle`` (3) and ``triangle6`` (vertices, then
edges 01, 12, 20). ``faces`` lists each face's local nodes ordered so that the normal
``dX/dxi1 x dX/dxi2`` points out of a positively oriented element.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import quadrature


@dataclass(frozen=True)
class Element:
    """A reference element.

    Attributes
    ----------
    name : meshio cell type
    dim : reference dimension (3 for solids, 2 for faces)
    nodes : (nen, dim) reference node coordinates
    degree : polynomial degree
    faces : local node lists of the boundary faces (solids only)
    face_type : meshio cell type of those faces
    """

    name: str
    dim: int
    nodes: np.ndarray
    degree: int
    shape: object = field(repr=False)  # xi (nq, dim) -> (N (nq, nen), dN (nq, nen, dim))
    faces: tuple = ()
    face_type: str = ""

    @property
    def nen(self) -> int:
        """Number of nodes per element."""
        return len(self.nodes)

    def shape_functions(self, xi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Shape functions ``N`` (nq, nen) and reference gradients ``dN/dxi`` (nq, nen, dim)."""
        xi = np.atleast_2d(np.asarray(xi, dtype=float))
        if xi.shape[-1] != self.dim:
            raise ValueError(f"xi: expected (..., {self.dim}) points, got {xi.shape}")
        return self.shape(xi)

    def default_rule(self) -> quadrature.Rule:
        """Gauss rule exact for the stiffness of an affine element (full integration)."""
        if self.name in ("hexahedron",):
            return quadrature.hexahedron(3)
        if self.name == "quad":
            return quadrature.quadrilateral(3)
        if self.name == "tetra":
            return quadrature.tetrahedron(1)
        if self.name == "tetra10":
            return quadrature.tetrahedron(2)
        if self.name == "triangle":
            return quadrature.triangle(2)
        if self.name == "triangle6":
            return quadrature.triangle(4)
        raise ValueError(f"no default rule for {self.name!r}")

    def center(self) -> np.ndarray:
        """Reference centroid (1, dim)."""
        return self.nodes.mean(axis=0, keepdims=True)


def _hex8(xi):
    s = HEX8_NODES
    t = 1.0 + xi[:, None, :] * s[None, :, :]  # (nq, 8, 3)
    N = 0.125 * t.prod(axis=-1)
    dN = np.empty(t.shape)
    dN[..., 0] = 0.125 * s[:, 0] * t[..., 1] * t[..., 2]
    dN[..., 1] = 0.125 * s[:, 1] * t[..., 0] * t[..., 2]
    dN[..., 2] = 0.125 * s[:, 2] * t[..., 0] * t[..., 1]
    return N, dN


def _quad4(xi):
    s = QUAD4_NODES
    t = 1.0 + xi[:, None, :] * s[None, :, :]
    N = 0.25 * t.prod(axis=-1)
    dN = np.empty(t.shape)
    dN[..., 0] = 0.25 * s[:, 0] * t[..., 1]
    dN[..., 1] = 0.25 * s[:, 1] * t[..., 0]
    return N, dN


def _simplex_linear(xi):
    nq, dim = xi.shape
    N = np.concatenate([1.0 - xi.sum(axis=1, keepdims=True), xi], axis=1)
    dN = np.concatenate([-np.ones((1, dim)), np.eye(dim)], axis=0)
    return N, np.broadcast_to(dN, (nq, dim + 1, dim)).copy()


def _simplex_quadratic(edges):
    def shape(xi):
        L, dL = _simplex_linear(xi)  # (nq, nv), (nq, nv, dim)
        a, b = np.array(edges).T
        N = np.concatenate([L * (2.0 * L - 1.0), 4.0 * L[:, a] * L[:, b]], axis=1)
        dNv = (4.0 * L - 1.0)[..., None] * dL
        dNe = 4.0 * (L[:, a, None] * dL[:, b] + L[:, b, None] * dL[:, a])
        return N, np.concatenate([dNv, dNe], axis=1)

    return shape


HEX8_NODES = np.array([[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1],
                       [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]], dtype=float)
QUAD4_NODES = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)
TET4_NODES = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=float)
TET10_EDGES = ((0, 1), (1, 2), (0, 2), (0, 3), (1, 3), (2, 3))
TRI6_EDGES = ((0, 1), (1, 2), (2, 0))
TET10_NODES = np.vstack([TET4_NODES, [0.5 * (TET4_NODES[a] + TET4_NODES[b]) for a, b in TET10_EDGES]])
TRI3_NODES = np.array([[0, 0], [1, 0], [0, 1]], dtype=float)
TRI6_NODES = np.vstack([TRI3_NODES, [0.5 * (TRI3_NODES[a] + TRI3_NODES[b]) for a, b in TRI6_EDGES]])

HEX8 = Element(
    "hexahedron", 3, HEX8_NODES, 1, _hex8,
    faces=((0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (2, 3, 7, 6), (0, 4, 7, 3), (1, 2, 6, 5)),
    face_type="quad",
)
TET4 = Element("tetra", 3, TET4_NODES, 1, _simplex_linear,
               faces=((0, 2, 1), (0, 1, 3), (1, 2, 3), (0, 3, 2)), face_type="triangle")
TET10 = Element(
    "tetra10", 3, TET10_NODES, 2, _simplex_quadratic(TET10_EDGES),
    faces=((0, 2, 1, 6, 5, 4), (0, 1, 3, 4, 8, 7), (1, 2, 3, 5, 9, 8), (0, 3, 2, 7, 9, 6)),
    face_type="triangle6",
)
QUAD4 = Element("quad", 2, QUAD4_NODES, 1, _quad4)
TRI3 = Element("triangle", 2, TRI3_NODES, 1, _simplex_linear)
TRI6 = Element("triangle6", 2, TRI6_NODES, 2, _simplex_quadratic(TRI6_EDGES))

ELEMENTS = {e.name: e for e in (HEX8, TET4, TET10, QUAD4, TRI3, TRI6)}
ALIASES = {"hex": "hexahedron", "hex8": "hexahedron", "tet": "tetra", "tet4": "tetra",
           "tet10": "tetra10", "quad4": "quad", "tri": "triangle", "tri3": "triangle",
           "tri6": "triangle6"}


def get_element(name: str) -> Element:
    """Element by meshio cell type or alias (``hex8``, ``tet4``, ``tet10``)."""
    if not isinstance(name, str):
        raise TypeError(f"cell_type: expected a string, got {type(name).__name__}")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in ELEMENTS:
        raise ValueError(f"cell_type: unsupported element {name!r}; supported: {sorted(ELEMENTS)}")
    return ELEMENTS[key]
