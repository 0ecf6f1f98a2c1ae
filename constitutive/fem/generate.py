"""Meshes generated in code: structured boxes of hexahedra or tetrahedra, quadratic
tetrahedra, mapped geometries (Cook's tapered plate) and random interior distortion.

Boxes carry the node sets ``xmin, xmax, ymin, ymax, zmin, zmax`` (aliases ``left, right,
front, back, bottom, top``).
"""

from __future__ import annotations

import numpy as np

from .elements import TET10_EDGES
from .mesh import Mesh

# Kuhn (Freudenthal) split of the unit cube into 6 tetrahedra sharing the diagonal 0-6; the
# same diagonal in every cube makes the split conforming on a structured grid.
_KUHN = ((0, 1, 2, 6), (0, 2, 3, 6), (0, 3, 7, 6), (0, 7, 4, 6), (0, 4, 5, 6), (0, 5, 1, 6))
_ALIASES = {"left": "xmin", "right": "xmax", "front": "ymin", "back": "ymax",
            "bottom": "zmin", "top": "zmax"}


def _as3(v, name, kind):
    a = np.broadcast_to(np.asarray(v, dtype=kind), (3,)).copy()
    return a


def box(n=4, size=1.0, origin=0.0, cell_type: str = "hexahedron") -> Mesh:
    """Structured box ``origin + [0, size]`` with ``n`` cells per direction.

    Parameters
    ----------
    n : int or (nx, ny, nz) cells per direction
    size : float or (Lx, Ly, Lz)
    origin : float or (3,)
    cell_type : ``hexahedron``, ``tetra`` (6 per cube) or ``tetra10``
    """
    nx, ny, nz = (int(k) for k in _as3(n, "n", np.int64))
    if min(nx, ny, nz) < 1:
        raise ValueError(f"n: cells per direction must be >= 1, got {(nx, ny, nz)}")
    L = _as3(size, "size", float)
    if np.any(L <= 0):
        raise ValueError(f"size: must be positive, got {L}")
    o = _as3(origin, "origin", float)
    xs = [np.linspace(o[d], o[d] + L[d], k + 1) for d, k in enumerate((nx, ny, nz))]
    Z, Y, X = np.meshgrid(xs[2], xs[1], xs[0], indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel(), Z.ravel()])

    def nid(i, j, k):
        return i + (nx + 1) * (j + (ny + 1) * k)

    k, j, i = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    i, j, k = i.ravel(), j.ravel(), k.ravel()
    hexes = np.column_stack([
        nid(i, j, k), nid(i + 1, j, k), nid(i + 1, j + 1, k), nid(i, j + 1, k),
        nid(i, j, k + 1), nid(i + 1, j, k + 1), nid(i + 1, j + 1, k + 1), nid(i, j + 1, k + 1),
    ])
    sets = {}
    for d, ax in enumerate("xyz"):
        sets[f"{ax}min"] = np.flatnonzero(np.isclose(pts[:, d], o[d]))
        sets[f"{ax}max"] = np.flatnonzero(np.isclose(pts[:, d], o[d] + L[d]))
    for alias, name in _ALIASES.items():
        sets[alias] = sets[name]
    mesh = Mesh(pts, hexes, "hexahedron", sets)
    ct = cell_type.lower()
    if ct in ("hexahedron", "hex", "hex8"):
        return mesh
    tets = hex_to_tets(mesh)
    if ct in ("tetra", "tet", "tet4"):
        return tets
    if ct in ("tetra10", "tet10"):
        return to_quadratic(tets)
    raise ValueError(f"cell_type: expected hexahedron, tetra or tetra10, got {cell_type!r}")


def hex_to_tets(mesh: Mesh) -> Mesh:
    """Split every hexahedron into 6 tetrahedra (Kuhn split, conforming on structured grids)."""
    if mesh.cell_type != "hexahedron":
        raise ValueError("mesh: hex_to_tets needs a hexahedral mesh")
    tets = mesh.cells[:, np.asarray(_KUHN)].reshape(-1, 4)
    tets = _orient_positive(mesh.points, tets)
    return Mesh(mesh.points.copy(), tets, "tetra", dict(mesh.point_sets))


def _orient_positive(points, tets):
    x = points[tets]
    vol = np.einsum("ei,ei->e", np.cross(x[:, 1] - x[:, 0], x[:, 2] - x[:, 0]), x[:, 3] - x[:, 0])
    tets = tets.copy()
    neg = vol < 0
    tets[neg, 1], tets[neg, 2] = tets[neg, 2], tets[neg, 1].copy()
    return tets


def to_quadratic(mesh: Mesh) -> Mesh:
    """Linear tetrahedra -> 10-node tetrahedra with straight edges (mid-edge nodes added once
    per edge); node sets are extended with mid-edge nodes whose two end nodes are in the set."""
    if mesh.cell_type != "tetra":
        raise ValueError("mesh: to_quadratic needs a linear tetrahedral mesh")
    edges = mesh.cells[:, np.asarray(TET10_EDGES)]  # (ne, 6, 2)
    key = np.sort(edges.reshape(-1, 2), axis=1)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    mid = mesh.npoints + inv.reshape(-1, 6)
    pts = np.vstack([mesh.points, 0.5 * (mesh.points[uniq[:, 0]] + mesh.points[uniq[:, 1]])])
    sets = {}
    for name, nodes in mesh.point_sets.items():
        inset = np.zeros(mesh.npoints, dtype=bool)
        inset[nodes] = True
        extra = mesh.npoints + np.flatnonzero(inset[uniq].all(axis=1))
        sets[name] = np.concatenate([nodes, extra])
    return Mesh(pts, np.hstack([mesh.cells, mid]), "tetra10", sets)


def distort(mesh: Mesh, amplitude: float = 0.2, seed: int = 0) -> Mesh:
    """Move interior vertex nodes randomly by up to ``amplitude`` times the smallest edge length.

    Boundary nodes stay; mid-edge nodes of quadratic tetrahedra are re-centred so that edges
    remain straight (the isoparametric map stays affine per tetrahedron).
    """
    if not 0.0 <= amplitude < 0.5:
        raise ValueError(f"amplitude: expected 0 <= amplitude < 0.5, got {amplitude}")
    faces, _ = mesh.boundary_faces()
    on_boundary = np.zeros(mesh.npoints, dtype=bool)
    on_boundary[faces] = True
    nv = 4 if mesh.cell_type == "tetra10" else mesh.element.nen
    corner = mesh.cells[:, :nv]
    e = mesh.points[corner[:, 1]] - mesh.points[corner[:, 0]]
    h = np.linalg.norm(e, axis=1).min()
    rng = np.random.default_rng(seed)
    pts = mesh.points.copy()
    vertices = np.unique(corner)
    move = vertices[~on_boundary[vertices]]
    pts[move] += amplitude * h * rng.uniform(-1.0, 1.0, (len(move), 3))
    if mesh.cell_type == "tetra10":
        for m, (a, b) in enumerate(TET10_EDGES):
            pts[mesh.cells[:, 4 + m]] = 0.5 * (pts[mesh.cells[:, a]] + pts[mesh.cells[:, b]])
    return Mesh(pts, mesh.cells.copy(), mesh.cell_type, dict(mesh.point_sets))


def cook_membrane_mesh(n=(8, 8, 1), thickness: float = 1.0, cell_type: str = "hexahedron",
                  corners=((0.0, 0.0), (48.0, 44.0), (48.0, 60.0), (0.0, 44.0))) -> Mesh:
    """Cook's tapered plate: the unit square mapped bilinearly onto the quadrilateral with
    ``corners`` (clamped edge x = 0, loaded edge x = 48 in the classical dimensions, mm),
    extruded by ``thickness`` in z. Node sets ``clamped`` and ``loaded`` are added.

    Reference: Cook (1974); Simo & Armero (1992), IJNME 33, fig. 6.
    """
    base = box(n, 1.0, 0.0, "hexahedron")
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = corners
    s, t, z = base.points.T
    N = [(1 - s) * (1 - t), s * (1 - t), s * t, (1 - s) * t]
    X = N[0] * x0 + N[1] * x1 + N[2] * x2 + N[3] * x3
    Y = N[0] * y0 + N[1] * y1 + N[2] * y2 + N[3] * y3
    sets = dict(base.point_sets)
    sets["clamped"], sets["loaded"] = base.point_sets["xmin"], base.point_sets["xmax"]
    mesh = Mesh(np.column_stack([X, Y, thickness * z]), base.cells, "hexahedron", sets)
    ct = cell_type.lower()
    if ct in ("hexahedron", "hex", "hex8"):
        return mesh
    tets = hex_to_tets(mesh)
    return to_quadratic(tets) if ct in ("tetra10", "tet10") else tets
