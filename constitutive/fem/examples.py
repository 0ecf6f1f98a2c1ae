"""Standard problems in a few lines each (used by examples/, the docs and the demo).

Each function returns a dict of plain data (and the :class:`~constitutive.fem.newton.Result`
under ``"result"``); with ``output_dir`` it also writes the VTU time series (+ .pvd), the
reaction-force CSV/JSON and a PNG plot.
"""

from __future__ import annotations

import numpy as np

from .generate import box, cook_membrane_mesh
from .problem import Problem


def uniaxial_block(material, stretch: float = 1.5, n: int = 4, steps: int = 5, output_dir=None,
                   size=(1.0, 1.0, 1.0), cell_type: str = "hexahedron",
                   formulation: str = "displacement", verbose: bool = False, **solve_kwargs) -> dict:
    """Uniaxial tension/compression of a block with symmetry conditions on three faces.

    Faces x = 0, y = 0, z = 0 slide on symmetry planes; face x = Lx moves by ``(stretch - 1) Lx``.
    The deformation is homogeneous, so ``nominal_stress = force / (Ly Lz)`` is the material-point
    ``P11`` under ``P22 = P33 = 0``.

    Returns
    -------
    dict with ``stretch``, ``displacement``, ``force``, ``nominal_stress`` (arrays over the load
    steps, starting at 0), ``files`` and ``result``.
    """
    if not stretch > 0:
        raise ValueError(f"stretch: must be > 0, got {stretch}")
    Lx, Ly, Lz = np.broadcast_to(np.asarray(size, dtype=float), (3,))
    prob = Problem(box(n, (Lx, Ly, Lz), cell_type=cell_type), material, formulation)
    prob.fix("xmin", 0)
    prob.fix("ymin", 1)
    prob.fix("zmin", 2)
    prob.displace("xmax", (stretch - 1.0) * Lx, components=0)
    res = prob.solve(steps=steps, output_dir=output_dir, name="uniaxial_block",
                     plot=("xmax", 0), verbose=verbose, **solve_kwargs)
    d, f = res.displacement("xmax", 0), res.reaction("xmax", 0)
    return {"stretch": 1.0 + d / Lx, "displacement": d, "force": f, "nominal_stress": f / (Ly * Lz),
            "files": res.files, "result": res}


def cook_membrane_problem(material, load: float = 0.05, n: int = 8, thickness: float = 1.0, steps: int = 5,
                  formulation: str = "fbar", output_dir=None, verbose: bool = False,
                  plane_strain: bool = True, **solve_kwargs) -> dict:
    """Cook's tapered plate clamped at x = 0 with a dead shear traction ``load`` (per unit
    reference area, y direction) on the end x = 48 (classical dimensions, mm).

    Returns the vertical displacement of the top corner (48, 60) over the steps.
    """
    mesh = cook_membrane_mesh((n, n, 1), thickness=thickness)
    prob = Problem(mesh, material, formulation)
    prob.fix("clamped")
    if plane_strain:
        prob.fix(lambda X: np.ones(len(X), dtype=bool), components=2, name="plane_strain")
    prob.traction("loaded", [0.0, load, 0.0], name="shear")
    res = prob.solve(steps=steps, output_dir=output_dir, name="cook_membrane", plot=("clamped", 1),
                     verbose=verbose, **solve_kwargs)
    corner = np.flatnonzero(np.isclose(mesh.points[:, 0], 48.0) & np.isclose(mesh.points[:, 1], 60.0))
    return {"load": res.load_factors * load, "tip_displacement": float(res.u[corner, 1].mean()),
            "reaction": res.reaction("clamped", 1), "files": res.files, "result": res}


def pressurized_block(material, pressure: float = 0.3, n: int = 4, steps: int = 5,
                      formulation: str = "fbar", output_dir=None, verbose: bool = False,
                      **solve_kwargs) -> dict:
    """Nearly incompressible block indented by a follower pressure on the half x < 0.5 of its top
    face; bottom fixed, symmetry on x = 0 and y = 0 (quarter model of a unit cube).

    Returns the vertical displacement of the loaded corner and the bottom reaction force.
    """
    mesh = box(n, 1.0)
    prob = Problem(mesh, material, formulation)
    prob.fix("zmin")
    prob.fix("xmin", 0)
    prob.fix("ymin", 1)
    X = mesh.points
    prob.pressure(lambda P: np.isclose(P[:, 2], 1.0) & (P[:, 0] <= 0.5 + 1e-12), pressure, name="p")
    res = prob.solve(steps=steps, output_dir=output_dir, name="pressurized_block", plot=("zmin", 2),
                     verbose=verbose, **solve_kwargs)
    corner = np.flatnonzero(np.isclose(X[:, 0], 0) & np.isclose(X[:, 1], 0) & np.isclose(X[:, 2], 1))
    return {"pressure": res.load_factors * pressure, "corner_displacement": float(res.u[corner, 2][0]),
            "reaction": res.reaction("zmin", 2), "files": res.files, "result": res}
