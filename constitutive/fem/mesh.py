"""Meshes: nodes, one block of solid cells, named node sets; boundary faces; meshio I/O.

A :class:`Mesh` holds reference coordinates ``points`` (n, 3), connectivity ``cells``
(ne, nen) of a single element type (``hexahedron``, ``tetra`` or ``tetra10``, VTK node order)
and named node sets. Generators live in :mod:`constitutive.fem.generate`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from constitutive.files import atomic_write
from constitutive.optional import require

from .elements import Element, get_element
from .geometry import reference_gradients

Predicate = Callable[[np.ndarray], np.ndarray]


@dataclass
class Mesh:
    """Reference configuration of a solid mesh.

    Parameters
    ----------
    points : (n, 3) float node coordinates
    cells : (ne, nen) int connectivity
    cell_type : ``"hexahedron"``, ``"tetra"`` or ``"tetra10"`` (aliases hex8, tet4, tet10)
    point_sets : name -> node indices
    """

    points: np.ndarray
    cells: np.ndarray
    cell_type: str
    point_sets: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self):
        self.points = np.ascontiguousarray(self.points, dtype=float)
        if self.points.ndim != 2 or self.points.shape[1] != 3:
            raise ValueError(f"points: expected shape (n, 3), got {self.points.shape}")
        self.element: Element = get_element(self.cell_type)
        self.cell_type = self.element.name
        if self.element.dim != 3:
            raise ValueError(f"cell_type: {self.cell_type!r} is not a solid element")
        self.cells = np.ascontiguousarray(self.cells, dtype=np.int64)
        if self.cells.ndim != 2 or self.cells.shape[1] != self.element.nen:
            raise ValueError(
                f"cells: expected shape (ne, {self.element.nen}) for {self.cell_type}, "
                f"got {self.cells.shape}"
            )
        if self.cells.size and (self.cells.min() < 0 or self.cells.max() >= len(self.points)):
            raise ValueError("cells: node index out of range")
        self.point_sets = {k: np.asarray(v, dtype=np.int64) for k, v in self.point_sets.items()}

    @property
    def npoints(self) -> int:
        """Number of nodes."""
        return len(self.points)

    @property
    def ncells(self) -> int:
        """Number of cells."""
        return len(self.cells)

    def nodes(self, where: str | Predicate | np.ndarray) -> np.ndarray:
        """Node indices of a named set, of a predicate on coordinates, or given directly.

        A predicate receives the (n, 3) coordinates and returns a boolean mask, e.g.
        ``lambda X: np.isclose(X[:, 0], 0.0)``.
        """
        if isinstance(where, str):
            if where not in self.point_sets:
                raise ValueError(f"unknown node set {where!r}; known: {sorted(self.point_sets)}")
            return self.point_sets[where]
        if callable(where):
            mask = np.asarray(where(self.points))
            if mask.shape != (self.npoints,) or mask.dtype != bool:
                raise ValueError(f"predicate must return a boolean mask of shape ({self.npoints},)")
            if not mask.any():
                raise ValueError("predicate selects no node")
            return np.flatnonzero(mask)
        idx = np.asarray(where, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.npoints):
            raise ValueError("node indices out of range")
        return idx

    def boundary_faces(self) -> tuple[np.ndarray, np.ndarray]:
        """Faces on the boundary, outward oriented: (faces (nf, nfn), owning cell (nf,))."""
        local = np.asarray(self.element.faces)
        faces = self.cells[:, local]  # (ne, 4 or 6 faces, nfn)
        nf = local.shape[0]
        flat = faces.reshape(-1, local.shape[1])
        nv = 4 if self.element.face_type == "quad" else 3
        key = np.sort(flat[:, :nv], axis=1)
        _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
        on_boundary = counts[inv.reshape(-1)] == 1
        owner = np.repeat(np.arange(self.ncells), nf)
        return flat[on_boundary], owner[on_boundary]

    def faces(self, where: str | Predicate) -> np.ndarray:
        """Boundary faces whose nodes all lie in a node set (named or by predicate)."""
        nodes = self.nodes(where)
        mask = np.zeros(self.npoints, dtype=bool)
        mask[nodes] = True
        faces, _ = self.boundary_faces()
        sel = faces[mask[faces].all(axis=1)]
        if len(sel) == 0:
            raise ValueError(f"no boundary face lies entirely in {where!r}")
        return sel

    def volume(self) -> float:
        """Reference volume by quadrature."""
        points, weights = self.element.default_rule()
        _, dN_dxi = self.element.shape_functions(points)
        return float(reference_gradients(self.points[self.cells], dN_dxi, weights)[1].sum())

    def transformed(self, fn: Callable[[np.ndarray], np.ndarray]) -> Mesh:
        """New mesh with points mapped by ``fn`` ((n, 3) -> (n, 3)); sets kept."""
        pts = np.asarray(fn(self.points.copy()), dtype=float)
        if pts.shape != self.points.shape:
            raise ValueError(f"fn: must return shape {self.points.shape}, got {pts.shape}")
        return Mesh(pts, self.cells.copy(), self.cell_type, dict(self.point_sets))

    # ------------------------------------------------------------------ meshio I/O
    def to_meshio(self, point_data=None, cell_data=None):
        """The mesh (with point and cell data) as a ``meshio.Mesh``."""
        meshio = require("meshio")

        cd = {k: [np.asarray(v)] for k, v in (cell_data or {}).items()}
        return meshio.Mesh(self.points, [(self.cell_type, self.cells)],
                           point_data=point_data or {}, cell_data=cd)

    def write(self, path: str | os.PathLike, point_data=None, cell_data=None) -> None:
        """Write with meshio (format from the suffix: .vtu, .msh, .xdmf, ...), atomically."""
        path = os.fspath(path)
        fmt = _format_of(path)
        # XDMF inline (XML data): one self-contained file that can be renamed atomically (the
        # default HDF5 sidecar would keep the temporary file's name)
        extra = {"data_format": "XML"} if fmt == "xdmf" else {}
        mesh = self.to_meshio(point_data, cell_data)
        atomic_write(path, lambda tmp: mesh.write(tmp, file_format=fmt, **extra))

    @classmethod
    def from_meshio(cls, m, cell_type: str | None = None) -> Mesh:
        """Mesh from a meshio object: the solid block (``cell_type`` or the first solid one);
        unused nodes are dropped; Gmsh physical groups become node sets."""
        solids = [b for b in m.cells if b.type in ("hexahedron", "tetra", "tetra10")]
        if cell_type is not None:
            solids = [b for b in solids if b.type == get_element(cell_type).name]
        if not solids:
            raise ValueError("mesh: no hexahedron/tetra/tetra10 cells found")
        ctype = solids[0].type
        cells = np.vstack([b.data for b in solids if b.type == ctype])
        pts = np.asarray(m.points, dtype=float)
        if pts.shape[1] == 2:
            pts = np.column_stack([pts, np.zeros(len(pts))])
        used = np.unique(cells)
        remap = -np.ones(len(pts), dtype=np.int64)
        remap[used] = np.arange(len(used))
        sets = {}
        for name, data in (getattr(m, "cell_sets", None) or {}).items():
            nodes = [np.unique(b.data[idx]) for b, idx in zip(m.cells, data, strict=False) if len(idx)]
            if nodes:
                nodes = remap[np.unique(np.concatenate(nodes))]
                sets[name] = nodes[nodes >= 0]
        for name, data in (getattr(m, "point_sets", None) or {}).items():
            nodes = remap[np.asarray(data)]
            sets[name] = nodes[nodes >= 0]
        return cls(pts[used], remap[cells], ctype, sets)

    @classmethod
    def read(cls, path: str | os.PathLike, cell_type: str | None = None) -> Mesh:
        """Read any meshio format (Gmsh .msh, .vtu, .xdmf, ...)."""
        meshio = require("meshio")

        if not os.path.exists(path):
            raise FileNotFoundError(f"mesh file not found: {path}")
        return cls.from_meshio(meshio.read(path), cell_type)


def _format_of(path: str) -> str:
    """meshio file format from the suffix (``.msh`` is written as Gmsh)."""
    meshio = require("meshio")

    name = path.lower()
    for ext, formats in sorted(meshio.extension_to_filetypes.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(ext):
            return "gmsh" if ext == ".msh" else formats[0]
    raise ValueError(f"path: cannot tell the mesh format of {path!r}; expected a suffix meshio "
                     f"writes, e.g. .vtu, .msh, .xdmf, .vtk, .inp")
