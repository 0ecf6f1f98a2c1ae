"""Shared pieces of the DOLFINx Cook-membrane scripts (cook_ufl.py, cook_external.py).

Problem (deal.II code-gallery "Quasi_static_Finite_strain_Compressible_Elasticity", the
3d/plane-strain variant that is the default there since 2021):

* reference geometry: the trapezoid with corners (0,0), (48,44), (48,60), (0,44) mm,
  extruded to a thickness ``t`` (one hexahedron through the thickness);
  the N x N in-plane grid is the image of a uniform grid of the unit square under the
  bilinear map of the four corners (identical to deal.II's ``grid_y_transform``);
* u = 0 on the left edge x = 0; u_z = 0 on every node (plane strain);
* dead traction (0, 1/16 N/mm^2, 0) on the right edge x = 48 (total force 1 N per mm of
  thickness, in the reference configuration), ramped linearly in ``nsteps`` steps;
* compressible neo-Hooke: W = mu/2 (J^{-2/3} tr C - 3) + kappa/4 (J^2 - 1 - 2 ln J),
  mu = 0.4225 MPa, nu = 0.3 -> kappa = 2 mu (1 + nu) / (3 (1 - 2 nu)) = 0.9154166... MPa;
* Q1 hexahedra, 2x2x2 Gauss quadrature.

Units: mm, N, MPa.  deal.II works in m and Pa (grid scale 1e-3, traction
1 N / (16 mm * 1 mm)); the ratios traction / mu are identical, so displacements in mm are
the same.  With u_z = 0 everywhere and a traction per unit reference area the in-plane
solution does not depend on the thickness.

Import this module only from inside the DOLFINx venv (tools/dolfinx/setup.sh).
"""

from __future__ import annotations

import time

import dolfinx_solver  # noqa: F401  (must come before dolfinx: sets up the bundled libraries)

# isort: split

import numpy as np
import ufl
from dolfinx import fem, mesh
from mpi4py import MPI
from petsc4py import PETSc

MU = 0.4225  # MPa (shear modulus)
NU = 0.3
KAPPA = 2.0 * MU * (1.0 + NU) / (3.0 * (1.0 - 2.0 * NU))  # 0.91541666... MPa
TRACTION = 1.0 / 16.0  # N/mm^2 (1 N on the 16 mm end, per mm of thickness)
QUAD_DEGREE = 2  # 2x2x2 Gauss on hexahedra
LEFT, RIGHT = 1, 2

# Points whose y-displacement is reported: the top right corner asked for, and the
# mid-point of the loaded edge, which the current deal.II README tabulates (Miehe 1994).
TIP_POINTS = {"corner (48,60)": (48.0, 60.0), "mid-edge (48,52)": (48.0, 52.0)}

# Q1 tip y-displacement (mm) at (48,52), from the deal.II code-gallery README
# (Quasi_static_Finite_strain_Compressible_Elasticity/README.md, since commit 7f3b249, 2021).
DEALII_Q1_MIDEDGE = {2: 8.638, 4: 12.07, 8: 13.86, 16: 14.49, 32: 14.67, 64: 14.72}
# The table that README had before 2021 (point (48,60)); it was produced by a version whose
# +-z faces were never tagged, i.e. u_z was NOT constrained (not plane strain).
DEALII_Q1_CORNER_PRE2021 = {1: 5.15, 2: 8.72, 4: 12.02, 8: 13.61, 16: 14.13, 32: 14.28, 64: 14.32}


def cook_mesh(comm, n: int, thickness: float = 1.0, ghost_mode=mesh.GhostMode.shared_facet):
    """N x N x 1 hexahedral Cook membrane (mm)."""
    msh = mesh.create_box(
        comm,
        [np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, thickness])],
        [n, n, 1],
        mesh.CellType.hexahedron,
        ghost_mode=ghost_mode,
    )
    x = msh.geometry.x
    xi, eta = x[:, 0].copy(), x[:, 1].copy()
    # bilinear map of (0,0), (48,44), (48,60), (0,44); same as deal.II's grid_y_transform
    x[:, 0] = 48.0 * xi
    x[:, 1] = 44.0 * xi + 44.0 * eta - 28.0 * xi * eta
    return msh


def facet_tags(msh):
    fdim = msh.topology.dim - 1
    left = mesh.locate_entities_boundary(msh, fdim, lambda x: np.isclose(x[0], 0.0))
    right = mesh.locate_entities_boundary(msh, fdim, lambda x: np.isclose(x[0], 48.0))
    facets = np.concatenate([left, right]).astype(np.int32)
    values = np.concatenate([np.full_like(left, LEFT), np.full_like(right, RIGHT)]).astype(np.int32)
    order = np.argsort(facets)
    return mesh.meshtags(msh, fdim, facets[order], values[order])


class CookSetup:
    """Mesh, space, boundary conditions, measures and the dead-load traction."""

    def __init__(
        self,
        comm,
        n: int,
        thickness: float = 1.0,
        ghost_mode=mesh.GhostMode.shared_facet,
        uz_free: bool = False,
    ):
        self.comm = comm
        self.n = n
        self.thickness = thickness
        self.msh = cook_mesh(comm, n, thickness, ghost_mode)
        msh = self.msh
        self.V = fem.functionspace(msh, ("Lagrange", 1, (3,)))
        self.u = fem.Function(self.V, name="displacement")
        self.v = ufl.TestFunction(self.V)
        self.du = ufl.TrialFunction(self.V)
        self.tags = facet_tags(msh)
        fdim = msh.topology.dim - 1
        left_dofs = fem.locate_dofs_topological(self.V, fdim, self.tags.find(LEFT))
        zero3 = np.zeros(3, dtype=PETSc.ScalarType)
        self.bcs = [fem.dirichletbc(zero3, left_dofs, self.V)]
        if not uz_free:
            # plane strain: u_z = 0 on every node (one element through the thickness)
            V2, _ = self.V.sub(2).collapse()
            all_z = fem.locate_dofs_geometrical((self.V.sub(2), V2), lambda x: np.full(x.shape[1], True))
            uz0 = fem.Function(V2)
            self.bcs.append(fem.dirichletbc(uz0, all_z, self.V.sub(2)))
        self.dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": QUAD_DEGREE})
        self.ds = ufl.Measure(
            "ds", domain=msh, subdomain_data=self.tags, metadata={"quadrature_degree": QUAD_DEGREE}
        )
        self.traction = fem.Constant(msh, np.zeros(3, dtype=PETSc.ScalarType))
        self.F = ufl.Identity(3) + ufl.grad(self.u)  # deformation gradient, F_iJ = d_iJ + du_i/dX_J

    def external_work(self):
        return ufl.inner(self.traction, self.v) * self.ds(RIGHT)

    def set_load(self, fraction: float):
        self.traction.value[:] = (0.0, TRACTION * fraction, 0.0)

    # --- post-processing -------------------------------------------------------------
    def owned_nodes(self):
        """Coordinates (n,3) and displacement (n,3) of the nodes this rank owns."""
        nloc = self.V.dofmap.index_map.size_local
        coords = self.V.tabulate_dof_coordinates()[:nloc]
        vals = self.u.x.array[: 3 * nloc].reshape(-1, 3)
        return coords, vals

    def gathered_solution(self):
        """(coords, u) of all nodes on rank 0, sorted by coordinates (None elsewhere)."""
        coords, vals = self.owned_nodes()
        allc = self.comm.gather(coords, root=0)
        allv = self.comm.gather(vals, root=0)
        if self.comm.rank != 0:
            return None, None
        c = np.concatenate(allc)
        v = np.concatenate(allv)
        key = np.round(c, 9)
        order = np.lexsort((key[:, 2], key[:, 1], key[:, 0]))
        return c[order], v[order]

    def point_uy(self, xy):
        """y-displacement at the node(s) with in-plane coordinates xy (mean over thickness)."""
        coords, vals = self.owned_nodes()
        hit = np.isclose(coords[:, 0], xy[0]) & np.isclose(coords[:, 1], xy[1])
        s = self.comm.allreduce(float(vals[hit, 1].sum()), op=MPI.SUM)
        c = self.comm.allreduce(int(hit.sum()), op=MPI.SUM)
        if c == 0:
            return float("nan")  # not a node of this mesh (e.g. (48,52) for odd N)
        return s / c


def snes_options(rtol: float, atol: float, max_it: int = 30) -> dict:
    return {
        "snes_type": "newtonls",
        "snes_linesearch_type": "basic",  # full Newton steps
        "snes_rtol": rtol,
        "snes_atol": atol,
        "snes_stol": 0.0,  # converge on the residual only
        "snes_max_it": max_it,
        "snes_error_if_not_converged": True,
        "ksp_type": "preonly",
        "pc_type": "lu",
        "pc_factor_mat_solver_type": "mumps",
        "ksp_error_if_not_converged": True,
    }


class Timers(dict):
    def add(self, key, dt):
        self[key] = self.get(key, 0.0) + dt

    def wrap(self, key, fn):
        def wrapped(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(key, time.perf_counter() - t0)

        return wrapped


def instrument(problem, timers: Timers):
    """Wrap the SNES residual and Jacobian callbacks of a NonlinearProblem with timers."""
    snes = problem.solver
    (fvec, (ffun, fargs, fkargs)) = snes.getFunction()
    snes.setFunction(timers.wrap("residual", ffun), fvec, args=fargs, kargs=fkargs)
    (A, P, (jfun, jargs, jkargs)) = snes.getJacobian()
    snes.setJacobian(timers.wrap("jacobian", jfun), A, P, args=jargs, kargs=jkargs)


def run_load_steps(
    setup: CookSetup, problem, nsteps: int, verbose: bool = True, timers: Timers | None = None
):
    """Solve in ``nsteps`` equal load increments; returns a dict of results."""
    comm = setup.comm
    snes = problem.solver
    snes.setConvergenceHistory(length=200, reset=True)
    setup.u.x.array[:] = 0.0
    its, tips, hist = [], [], []
    t_start = time.perf_counter()
    for step in range(1, nsteps + 1):
        setup.set_load(step / nsteps)
        problem.solve()
        reason = snes.getConvergedReason()
        if reason <= 0:
            raise RuntimeError(f"SNES did not converge in step {step} (reason {reason})")
        n_it = snes.getIterationNumber()
        rnorms = list(snes.getConvergenceHistory()[0])
        its.append(n_it)
        hist.append(rnorms)
        tip = {name: setup.point_uy(p) for name, p in TIP_POINTS.items()}
        tips.append(tip)
        if verbose and comm.rank == 0:
            norms = " ".join(f"{r:.2e}" for r in rnorms)
            print(
                f"step {step:2d}  load {step / nsteps:.2f}  newton its {n_it}  "
                f"u_y(48,60) = {tip['corner (48,60)']:.10f}  |R|: {norms}",
                flush=True,
            )
    wall = time.perf_counter() - t_start
    return {
        "iterations": its,
        "tips": tips,
        "residual_history": hist,
        "wall": wall,
        "timers": dict(timers) if timers is not None else {},
    }


def report(setup: CookSetup, res: dict, label: str):
    comm = setup.comm
    if comm.rank != 0:
        return
    n = setup.n
    tip = res["tips"][-1]
    print(
        f"[{label}] N={n} ranks={comm.size} newton iterations per step: {res['iterations']} "
        f"(total {sum(res['iterations'])})"
    )
    for name, val in tip.items():
        print(f"[{label}] final u_y at {name}: {val:.12f} mm")
    if n in DEALII_Q1_MIDEDGE:
        print(f"[{label}] deal.II code-gallery Q1 (README since 2021) at (48,52): {DEALII_Q1_MIDEDGE[n]} mm")
    if n in DEALII_Q1_CORNER_PRE2021:
        print(
            f"[{label}] deal.II README before 2021 (u_z free, point (48,60)): "
            f"{DEALII_Q1_CORNER_PRE2021[n]} mm"
        )
    print(f"[{label}] wall time of the load loop: {res['wall']:.3f} s")


def save_npz(path, setup: CookSetup, res: dict, **extra):
    coords, u = setup.gathered_solution()
    if setup.comm.rank != 0:
        return
    tips_corner = np.array([t["corner (48,60)"] for t in res["tips"]])
    tips_mid = np.array([t["mid-edge (48,52)"] for t in res["tips"]])
    np.savez(
        path,
        coords=coords,
        u=u,
        iterations=np.array(res["iterations"]),
        tip_corner=tips_corner,
        tip_mid=tips_mid,
        n=setup.n,
        ranks=setup.comm.size,
        **extra,
    )


def write_output(path, setup: CookSetup, fmt: str = "xdmf"):
    from dolfinx import io

    if fmt == "xdmf":
        with io.XDMFFile(setup.comm, path, "w") as f:
            f.write_mesh(setup.msh)
            f.write_function(setup.u)
    elif fmt == "vtx":
        with io.VTXWriter(setup.comm, path, [setup.u], engine="BP4") as f:
            f.write(0.0)
    else:
        raise ValueError(fmt)
