"""Cook's membrane in DOLFINx with a compiled `constitutive` material (plane strain).

The setup of the deal.II code-gallery "Quasi_static_Finite_strain_Compressible_Elasticity"
(its 3d plane-strain default): the trapezoid (0,0), (48,44), (48,60), (0,44) mm as N x N x 1
hexahedra, clamped at x = 0, u_z = 0 on every node, a dead shear traction of 1/16 N/mm^2 (1 N on
the 16 mm end, per mm of thickness) on the x = 48 face in 10 equal steps; neo-Hooke
W = mu/2 (J^{-2/3} tr C - 3) + K/4 (J^2 - 1 - 2 ln J), mu = 0.4225 MPa, nu = 0.3
(K = 2 mu (1 + nu) / (3 (1 - 2 nu)) = 0.9154167 MPa); Q1 elements, 2x2x2 Gauss points.
deal.II tabulates u_y(48,52) = 13.86 (N = 8), 14.49 (N = 16), 14.67 (N = 32) mm.

1. Compile the material (main venv, with torch; once):

       constitutive compile neo-hooke-decoupled --name NH --output build/nh --option volumetric=simo-taylor

2. Run (DOLFINx venv, no torch; see docs/dolfinx.md):

       VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
       $VENV/bin/python examples/dolfinx_cook_membrane.py build/nh/NH.json -n 16 --output out/cook.xdmf
       $VENV/bin/mpiexec -n 2 $VENV/bin/python examples/dolfinx_cook_membrane.py build/nh/NH.json
       $VENV/bin/python examples/dolfinx_cook_membrane.py --ufl     # the energy in UFL instead

Newton: dolfinx.fem.petsc.NonlinearProblem (PETSc SNES, full steps, LU by MUMPS), converged
when ||R|| <= max(atol, rtol ||R_0||). The functions below are reused by tests/dolfinx.
"""

from __future__ import annotations

import argparse
import sys
import time

from constitutive.interfaces.dolfinx import PK1Operator, require_dolfinx

dolfinx, ufl, basix, _ = require_dolfinx()  # imports dolfinx_solver first, one-line hint if missing

# isort: split
import numpy as np  # noqa: E402
from dolfinx import fem, io, mesh  # noqa: E402
from mpi4py import MPI  # noqa: E402

MU = 0.4225  # MPa
NU = 0.3
K = 2.0 * MU * (1.0 + NU) / (3.0 * (1.0 - 2.0 * NU))  # 0.91541666... MPa
TRACTION = 1.0 / 16.0  # N/mm^2
CORNERS = ((0.0, 0.0), (48.0, 44.0), (48.0, 60.0), (0.0, 44.0))
TIPS = {"u_y(48,52)": (48.0, 52.0), "u_y(48,60)": (48.0, 60.0)}
VTK_TO_DOLFINX_HEX = [0, 1, 3, 2, 4, 5, 7, 6]  # DOLFINx numbers hexahedron vertices lexicographically


def cook_grid(n: int, thickness: float = 1.0):
    """Points (npoints, 3) and VTK-ordered hexahedra (n*n, 8) of the mapped grid; the same
    arrays as ``constitutive.fem.cook_membrane_mesh((n, n, 1))`` (bilinear map of the unit square)."""
    s1 = np.linspace(0.0, 1.0, n + 1)
    Z, T, S = np.meshgrid(np.linspace(0.0, 1.0, 2), s1, s1, indexing="ij")
    s, t, z = S.ravel(), T.ravel(), Z.ravel()
    N = [(1 - s) * (1 - t), s * (1 - t), s * t, (1 - s) * t]
    X = sum(Na * c[0] for Na, c in zip(N, CORNERS, strict=True))
    Y = sum(Na * c[1] for Na, c in zip(N, CORNERS, strict=True))
    k, j, i = np.meshgrid(np.arange(1), np.arange(n), np.arange(n), indexing="ij")
    i, j, k = i.ravel(), j.ravel(), k.ravel()

    def nid(a, b, c):
        return a + (n + 1) * (b + (n + 1) * c)

    cells = np.column_stack([nid(i, j, k), nid(i + 1, j, k), nid(i + 1, j + 1, k), nid(i, j + 1, k),
                             nid(i, j, k + 1), nid(i + 1, j, k + 1), nid(i + 1, j + 1, k + 1),
                             nid(i, j + 1, k + 1)])
    return np.column_stack([X, Y, thickness * z]), cells


def cook_mesh(comm, n: int = 16, points=None, cells=None, ghost_mode=mesh.GhostMode.shared_facet):
    """DOLFINx mesh from ``points`` (np, 3) and VTK-ordered hexahedra ``cells`` (ne, 8), given on
    rank 0 (default: :func:`cook_grid`); partitioned over ``comm`` with ``ghost_mode``."""
    if points is None:
        points, cells = cook_grid(n)
    if comm.rank != 0:
        points, cells = np.empty((0, 3)), np.empty((0, 8), dtype=np.int64)
    cells = np.asarray(cells, dtype=np.int64)[:, VTK_TO_DOLFINX_HEX]
    domain = ufl.Mesh(basix.ufl.element("Lagrange", "hexahedron", 1, shape=(3,)))
    part = mesh.create_cell_partitioner(ghost_mode, 2)
    return mesh.create_mesh(comm, cells, domain, np.asarray(points, dtype=np.float64), partitioner=part)


def ufl_energy(F, mu=MU, bulk=K):
    """The same energy in UFL: mu/2 (J^{-2/3} tr C - 3) + K/4 (J^2 - 1 - 2 ln J)."""
    J = ufl.det(F)
    iso = 0.5 * mu * (J ** (-2.0 / 3.0) * ufl.tr(F.T * F) - 3.0)
    return iso + 0.25 * bulk * (J**2 - 1.0 - 2.0 * ufl.ln(J))


def snes_options(rtol=1e-11, atol=1e-12):
    return {"snes_type": "newtonls", "snes_linesearch_type": "basic", "snes_rtol": rtol, "snes_atol": atol,
            "snes_stol": 0.0, "snes_max_it": 30, "snes_error_if_not_converged": True, "ksp_type": "preonly",
            "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}


class Cook:
    """Space, boundary conditions, load and Newton problem on ``msh``.

    ``material``: a CompiledMaterial or ``NAME.json`` (with ``params``), evaluated through
    :class:`PK1Operator` on ``cells``; ``None``: :func:`ufl_energy` (P = dW/dF by ``ufl.diff``).
    """

    def __init__(self, msh, material=None, params=None, cells="owned", rtol=1e-11, atol=1e-12, degree=2):
        self.msh, self.comm = msh, msh.comm
        V = self.V = fem.functionspace(msh, ("Lagrange", 1, (3,)))
        self.u = fem.Function(V, name="displacement")
        v = ufl.TestFunction(V)
        fdim = 2
        left = mesh.locate_entities_boundary(msh, fdim, lambda x: np.isclose(x[0], 0.0))
        right = mesh.locate_entities_boundary(msh, fdim, lambda x: np.isclose(x[0], 48.0))
        tags = mesh.meshtags(msh, fdim, right, np.full_like(right, 1))
        V2, _ = V.sub(2).collapse()
        all_z = fem.locate_dofs_geometrical((V.sub(2), V2), lambda x: np.full(x.shape[1], True))
        self.bcs = [fem.dirichletbc(np.zeros(3), fem.locate_dofs_topological(V, fdim, left), V),
                    fem.dirichletbc(fem.Function(V2), all_z, V.sub(2))]  # plane strain: u_z = 0
        self.traction = fem.Constant(msh, np.zeros(3))
        ds = ufl.Measure("ds", domain=msh, subdomain_data=tags, metadata={"quadrature_degree": degree})
        work = ufl.inner(self.traction, v) * ds(1)
        if material is None:
            self.op = None
            Fv = ufl.variable(ufl.Identity(3) + ufl.grad(self.u))
            dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": degree})
            R = ufl.inner(ufl.diff(ufl_energy(Fv), Fv), ufl.grad(v)) * dx - work
            self.problem = dolfinx.fem.petsc.NonlinearProblem(
                R, self.u, bcs=self.bcs, J=ufl.derivative(R, self.u), petsc_options_prefix="cook_ufl_",
                petsc_options=snes_options(rtol, atol))
        else:
            self.op = PK1Operator(self.u, material, quadrature_degree=degree, cells=cells, **(params or {}))
            R = ufl.inner(self.op.P, ufl.grad(v)) * self.op.dx - work
            self.problem = self.op.nonlinear_problem(R, self.bcs, petsc_options=snes_options(rtol, atol),
                                                     petsc_options_prefix="cook_ext_")

    def tip(self, xy) -> float:
        """u_y at the nodes with in-plane coordinates ``xy`` (mean over the thickness)."""
        X, U = self.owned_nodes()
        hit = np.isclose(X[:, 0], xy[0]) & np.isclose(X[:, 1], xy[1])
        s = self.comm.allreduce(float(U[hit, 1].sum()))
        c = self.comm.allreduce(int(hit.sum()))
        return s / c if c else float("nan")

    def owned_nodes(self):
        """Coordinates (n, 3) and displacements (n, 3) of the nodes this rank owns."""
        n = self.V.dofmap.index_map.size_local
        return self.V.tabulate_dof_coordinates()[:n], self.u.x.array[: 3 * n].reshape(-1, 3)

    def gathered(self):
        """(X, U) of every node, sorted by coordinates, on every rank."""
        X, U = self.owned_nodes()
        X, U = np.concatenate(self.comm.allgather(X)), np.concatenate(self.comm.allgather(U))
        key = np.round(X, 9)
        order = np.lexsort((key[:, 2], key[:, 1], key[:, 0]))
        return X[order], U[order]

    def solve(self, steps: int = 10, load: float = TRACTION, verbose: bool = False) -> dict:
        """Ramp the traction in ``steps`` equal steps; iterations and tip values per step."""
        snes, out = self.problem.solver, {"iterations": [], "tips": [], "seconds": 0.0}
        self.u.x.array[:] = 0.0
        t0 = time.perf_counter()
        for step in range(1, steps + 1):
            self.traction.value[:] = (0.0, load * step / steps, 0.0)
            self.problem.solve()
            if snes.getConvergedReason() <= 0:
                raise RuntimeError(f"step {step}: SNES did not converge ({snes.getConvergedReason()})")
            out["iterations"].append(snes.getIterationNumber())
            out["tips"].append({k: self.tip(p) for k, p in TIPS.items()})
            if verbose and self.comm.rank == 0:
                tips = "  ".join(f"{k} = {v:.6f}" for k, v in out["tips"][-1].items())
                print(f"step {step:2d}  Newton iterations {out['iterations'][-1]}  {tips}", flush=True)
        out["seconds"] = time.perf_counter() - t0
        return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("material", nargs="?", help="NAME.json of the compiled library (omit with --ufl)")
    p.add_argument("-n", "--elements", type=int, default=16, help="elements per in-plane edge (16)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--mu", type=float, default=MU)
    p.add_argument("--K", type=float, default=K)
    p.add_argument("--ufl", action="store_true", help="use the energy written in UFL instead")
    p.add_argument("--output", help="write the displacement to .xdmf (XDMF) or .bp (VTX, ADIOS2)")
    args = p.parse_args(argv)
    if not args.ufl and args.material is None:
        p.error("give the NAME.json of a compiled material (see the docstring), or --ufl")
    comm = MPI.COMM_WORLD
    msh = cook_mesh(comm, args.elements)
    material = None if args.ufl else args.material
    cook = Cook(msh, material, params=None if args.ufl else {"mu": args.mu, "K": args.K})
    if comm.rank == 0:
        what = "energy in UFL" if args.ufl else f"compiled {material}"
        print(f"Cook's membrane N = {args.elements}, {comm.size} rank(s), {what}")
    res = cook.solve(args.steps, verbose=True)
    if comm.rank == 0:
        tip = res["tips"][-1]["u_y(48,52)"]
        print(f"u_y(48,52) = {tip:.6f} mm (deal.II, Q1: 13.86 for N=8, 14.49 for N=16); "
              f"{sum(res['iterations'])} Newton iterations in {res['seconds']:.2f} s")
    if args.output:
        if args.output.endswith(".bp"):
            with io.VTXWriter(comm, args.output, [cook.u], engine="BP4") as f:
                f.write(1.0)
        else:
            with io.XDMFFile(comm, args.output, "w") as f:
                f.write_mesh(msh)
                f.write_function(cook.u, 1.0)
        if comm.rank == 0:
            print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
