"""A block stretched and twisted in DOLFINx, with a compiled `constitutive` material.

The unit cube [0,1]^3 (N^3 hexahedra) is clamped at z = 0; the face z = 1 is stretched to
``1 + stretch`` and turned by ``twist`` degrees about the axis x = y = 1/2, both ramped
linearly over the load steps. Printed per step: Newton iterations, the axial force and the
torque on the top face (reactions: sums of the assembled internal forces on its nodes).

1. Compile the material (main venv, with torch; once):

       constitutive compile neo-hooke-decoupled --name NH --output build/nh --option volumetric=simo-taylor

2. Run (DOLFINx venv, no torch):

       VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
       $VENV/bin/python examples/dolfinx_twisted_block.py build/nh/NH.json --param mu=1 --param K=10
       $VENV/bin/mpiexec -n 2 $VENV/bin/python examples/dolfinx_twisted_block.py build/nh/NH.json \\
           -n 12 --twist 90 --output out/twist.xdmf

Any compiled material works: pass its parameters by name with ``--param NAME=VALUE``
(list parameters as comma-separated values).
"""

from __future__ import annotations

import argparse
import sys
import time

from constitutive.interfaces.dolfinx import PK1Operator, require_dolfinx

dolfinx, ufl, _, _ = require_dolfinx()  # imports dolfinx_solver first, one-line hint if missing

# isort: split
import numpy as np  # noqa: E402
from dolfinx import fem, io, mesh  # noqa: E402
from mpi4py import MPI  # noqa: E402


def parse_params(items) -> dict:
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--param: expected NAME=VALUE, got {item!r}")
        vals = [float(x) for x in value.split(",")]
        out[name.strip()] = vals[0] if len(vals) == 1 else vals
    return out


def top_motion(stretch: float, twist_deg: float, t: float):
    """u(X) on z = 1 at load factor t: rotation by t*twist about (1/2, 1/2) and lift t*stretch."""
    a = np.radians(twist_deg) * t

    def u(x):
        dx, dy = x[0] - 0.5, x[1] - 0.5
        return np.vstack([np.cos(a) * dx - np.sin(a) * dy - dx, np.sin(a) * dx + np.cos(a) * dy - dy,
                          np.full(x.shape[1], stretch * t)])

    return u


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("material", help="NAME.json of the compiled library")
    p.add_argument("--param", action="append", help="material parameter NAME=VALUE (repeat)")
    p.add_argument("-n", "--elements", type=int, default=8, help="hexahedra per edge (8)")
    p.add_argument("--stretch", type=float, default=0.2, help="axial displacement of the top (0.2)")
    p.add_argument("--twist", type=float, default=60.0, help="rotation of the top in degrees (60)")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--output", help="write the displacement of every step to this .xdmf file")
    args = p.parse_args(argv)
    params = parse_params(args.param) or {"mu": 1.0, "K": 10.0}
    comm = MPI.COMM_WORLD
    n = args.elements
    msh = mesh.create_box(comm, [np.zeros(3), np.ones(3)], [n, n, n], mesh.CellType.hexahedron,
                          ghost_mode=mesh.GhostMode.shared_facet)
    V = fem.functionspace(msh, ("Lagrange", 1, (3,)))
    u, v = fem.Function(V, name="displacement"), ufl.TestFunction(V)
    bottom = fem.locate_dofs_geometrical(V, lambda x: np.isclose(x[2], 0.0))
    top = fem.locate_dofs_geometrical(V, lambda x: np.isclose(x[2], 1.0))
    u_top = fem.Function(V)
    bcs = [fem.dirichletbc(np.zeros(3), bottom, V), fem.dirichletbc(u_top, top)]

    op = PK1Operator(u, args.material, quadrature_degree=2, **params)
    R = ufl.inner(op.P, ufl.grad(v)) * op.dx
    opts = {"snes_type": "newtonls", "snes_linesearch_type": "basic", "snes_rtol": 1e-10, "snes_atol": 1e-12,
            "snes_stol": 0.0, "snes_max_it": 30, "snes_error_if_not_converged": True, "ksp_type": "preonly",
            "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
    problem = op.nonlinear_problem(R, bcs, petsc_options=opts, petsc_options_prefix="twist_")
    internal = problem.F  # the compiled residual form (P replaced by its coefficient): internal forces

    n_owned = V.dofmap.index_map.size_local
    top_owned = top[top < n_owned]
    X_top = V.tabulate_dof_coordinates()[top_owned]
    out = io.XDMFFile(comm, args.output, "w") if args.output else None
    if out is not None:
        out.write_mesh(msh)
    if comm.rank == 0:
        print(f"twisted block {n}^3 hexahedra, {comm.size} rank(s), {op.material.name} {params}; top: "
              f"stretch {args.stretch}, twist {args.twist} deg")
    t0 = time.perf_counter()
    its = []
    for step in range(1, args.steps + 1):
        t = step / args.steps
        u_top.interpolate(top_motion(args.stretch, args.twist, t))
        problem.solve()
        its.append(problem.solver.getIterationNumber())
        op.update()  # P at the converged u, then the internal forces f = int P : grad(v)
        f = fem.assemble_vector(internal)
        f.scatter_reverse(dolfinx.la.InsertMode.add)
        f_top = f.array.reshape(-1, 3)[top_owned]
        force = comm.allreduce(float(f_top[:, 2].sum()))
        x = X_top[:, :2] - 0.5 + (u.x.array.reshape(-1, 3)[top_owned, :2])
        torque = comm.allreduce(float((x[:, 0] * f_top[:, 1] - x[:, 1] * f_top[:, 0]).sum()))
        if comm.rank == 0:
            print(f"step {step:2d}  Newton iterations {its[-1]}  axial force {force:.6f}  "
                  f"torque {torque:.6f}", flush=True)
        if out is not None:
            out.write_function(u, t)
    if out is not None:
        out.close()
    if comm.rank == 0:
        print(f"{sum(its)} Newton iterations in {time.perf_counter() - t0:.2f} s; material evaluated "
              f"{op.evaluations} times (owned cells only)" + (f"; wrote {args.output}" if out else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
