"""Boundary-value problems set up identically in CalculiX and in our FE driver.

Used by ``test_calculix.py``: the same mesh (C3D8 = our 8-node hexahedron, 2x2x2 Gauss
points in both), the same boundary conditions and loads, the same equal increments.

* ``block``: a cube of n^3 bricks whose boundary nodes follow an inhomogeneous stretch
  (first half of the step) and then a rigid rotation by 90 degrees about the axis (1,1,1)
  (second half); interior nodes are free.
* ``cook``: Cook's tapered membrane (48 x 44/16 mm) as one layer of bricks in plane strain
  (u_z = 0 on every node), clamped at x = 0, a dead shear force on the face x = 48 given as
  the consistent nodal forces of a uniform traction (the same vector in both codes).

Moduli are in Pa-like units (mu ~ 1e6) so that CalculiX's absolute floors (a largest residual
force below 1e-6 ends the iterations, nonlingeo.c:3329) are far below the forces.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from constitutive.fem import Problem, box, cook_membrane_mesh

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "calculix"))
import ccx  # noqa: E402

AXIS = np.ones(3) / np.sqrt(3.0)
#: our Newton tolerance (relative residual); CalculiX runs with ccx.TIGHT_CONTROLS
FE_RTOL = 1e-11


def rotation(theta: float, axis=AXIS) -> np.ndarray:
    """Rodrigues: rotation by ``theta`` about the unit vector ``axis``."""
    n = np.asarray(axis, dtype=float)
    K = np.array([[0.0, -n[2], n[1]], [n[2], 0.0, -n[0]], [-n[1], n[0], 0.0]])
    return np.eye(3) + np.sin(theta) * K + (1.0 - np.cos(theta)) * K @ K


def block_placement(X: np.ndarray, t: float, stretch: float = 1.0) -> np.ndarray:
    """Current positions (n, 3) of points X (n, 3) at step time t in [0, 1]."""
    s = stretch * min(2.0 * t, 1.0)
    x, y, z = X.T
    y2 = np.column_stack([x + 0.4 * s * x + 0.2 * s * y * y, y - 0.1 * s * y + 0.15 * s * x * z,
                          z + 0.1 * s * z + 0.1 * s * x * y])
    R = rotation(0.5 * np.pi * max(0.0, 2.0 * t - 1.0))
    return y2 @ R.T


@dataclass
class Case:
    """One boundary-value problem: our Problem and the matching CalculiX deck builder."""

    name: str
    mesh: object
    increments: int
    fixed: list
    prescribed: list
    cloads: list

    def deck(self, material_cards: str, material_name: str, **kw) -> str:
        return ccx.solid_deck(self.mesh.points, self.mesh.cells, material_cards, material_name,
                              fixed=self.fixed, prescribed=self.prescribed, cloads=self.cloads,
                              increments=self.increments, heading=self.name, **kw)


def _boundary_nodes(mesh) -> np.ndarray:
    sets = [mesh.point_sets[k] for k in ("xmin", "xmax", "ymin", "ymax", "zmin", "zmax")]
    return np.unique(np.concatenate(sets))


def block_case(n: int = 3, increments: int = 10, stretch: float = 1.0) -> Case:
    mesh = box(n)
    nodes = _boundary_nodes(mesh)
    X = mesh.points[nodes]
    t = np.linspace(0.0, 1.0, increments + 1)
    u = np.stack([block_placement(X, tk, stretch) - X for tk in t])
    return Case(f"block{n}", mesh, increments, [], [(nodes, u)], [])


def block_problem(case: Case, material, stretch: float = 1.0, until: float = 1.0) -> Problem:
    """Our FE problem of `block_case`; ``until`` < 1 solves the path up to that time only."""
    prob = Problem(case.mesh, material, formulation="displacement")
    nodes = _boundary_nodes(case.mesh)

    def value(X, t):
        return block_placement(X, until * t, stretch) - X

    prob.displace(nodes, value, components=(0, 1, 2), name="boundary")
    return prob


def cook_case(n: int = 8, increments: int = 5, force: float = 1e6) -> tuple[Case, np.ndarray]:
    """Cook's membrane case and the nodal force vector (npoints, 3) at the end of the step."""
    mesh = cook_membrane_mesh((n, n, 1))
    f = cook_forces(mesh, force)
    loaded = np.flatnonzero(np.any(f != 0.0, axis=1))
    case = Case(f"cook{n}", mesh, increments,
                [(mesh.point_sets["clamped"], (0, 1, 2)), (np.arange(mesh.npoints), (2,))], [],
                [(loaded, f[loaded])])
    return case, f


def cook_forces(mesh, force: float) -> np.ndarray:
    """Consistent nodal forces of a uniform shear traction with resultant ``force`` (y)."""
    from constitutive.fem.boundary import Traction

    faces = mesh.faces("loaded")
    load = Traction(faces, mesh.element.face_type, np.array([0.0, 1.0, 0.0]))
    area = load.area(mesh.points)
    load.traction = np.array([0.0, force / area, 0.0])
    f = np.zeros((mesh.npoints, 3))
    np.add.at(f, faces, load.force(mesh.points, 1.0).reshape(len(faces), -1, 3))
    return f


def cook_problem(case: Case, material, force: float) -> Problem:
    prob = Problem(case.mesh, material, formulation="displacement")
    prob.fix("clamped", (0, 1, 2))
    prob.fix(np.arange(case.mesh.npoints), (2,), name="plane")
    prob.traction("loaded", np.array([0.0, force / cook_area(case.mesh), 0.0]))
    return prob


def cook_area(mesh) -> float:
    from constitutive.fem.boundary import Traction

    return Traction(mesh.faces("loaded"), mesh.element.face_type, np.zeros(3)).area(mesh.points)


def solve_fe(prob: Problem, increments: int) -> np.ndarray:
    """Our FE solution at the end of the step (npoints, 3)."""
    res = prob.solve(steps=increments, rtol=FE_RTOL, atol=0.0, etol=0.0, max_iter=30)
    return res.u
