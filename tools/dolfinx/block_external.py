"""Stretched-block benchmark: cost per Newton iteration, UFL vs external (NumPy) material.

Unit cube, N^3 Q1 hexahedra, 2x2x2 Gauss, neo-Hooke of cook_common (mu, kappa);
u = 0 on x = 0, u_x = stretch * step/steps on x = 1 (u_y, u_z free there).

    VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
    $VENV/bin/python tools/dolfinx/block_external.py -n 16
    $VENV/bin/mpiexec -n 2 $VENV/bin/python tools/dolfinx/block_external.py -n 32 --solver gamg --cells owned

Prints, per variant, Newton iterations, wall time per iteration, and the time in the
external callable (max over ranks) as a fraction of the Newton loop.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cook_common as cc  # noqa: E402  (imports dolfinx_solver before dolfinx)

# isort: split

import numpy as np  # noqa: E402
import ufl  # noqa: E402
from dolfinx import fem, la, mesh  # noqa: E402
from dolfinx.fem.petsc import NonlinearProblem  # noqa: E402
from mpi4py import MPI  # noqa: E402
from petsc4py import PETSc  # noqa: E402

# isort: split
import cook_external as ce  # noqa: E402
import cook_ufl  # noqa: E402


def rigid_body_modes(V):
    imap, bs = V.dofmap.index_map, V.dofmap.index_map_bs
    n = imap.size_local + imap.num_ghosts
    basis = [la.vector(imap, bs=bs, dtype=PETSc.ScalarType) for _ in range(6)]
    x = V.tabulate_dof_coordinates()[:n]
    b = [v.array.reshape(-1, 3) for v in basis]
    for i in range(3):
        b[i][:, i] = 1.0
    b[3][:, 0], b[3][:, 1] = -x[:, 1], x[:, 0]
    b[4][:, 0], b[4][:, 2] = x[:, 2], -x[:, 0]
    b[5][:, 2], b[5][:, 1] = x[:, 1], -x[:, 2]
    la.orthonormalize(basis)
    return PETSc.NullSpace().create(vectors=[la.petsc.create_vector_wrap(v) for v in basis])


def solver_options(kind, rtol, atol):
    opts = cc.snes_options(rtol, atol)
    if kind == "gamg":
        opts.update(
            {
                "ksp_type": "cg",
                "pc_type": "gamg",
                "ksp_rtol": 1e-10,
                "ksp_atol": 1e-14,
                "ksp_max_it": 1000,
                "mg_levels_ksp_type": "chebyshev",
                "mg_levels_pc_type": "jacobi",
                "pc_gamg_coarse_eq_limit": 1000,
            }
        )
        opts.pop("pc_factor_mat_solver_type")
    return opts


def run(args, variant):
    comm = MPI.COMM_WORLD
    msh = mesh.create_box(comm, [np.zeros(3), np.ones(3)], [args.n] * 3, mesh.CellType.hexahedron)
    V = fem.functionspace(msh, ("Lagrange", 1, (3,)))
    u, v, du = fem.Function(V), ufl.TestFunction(V), ufl.TrialFunction(V)
    fdim = 2
    left = mesh.locate_entities_boundary(msh, fdim, lambda x: np.isclose(x[0], 0.0))
    right = mesh.locate_entities_boundary(msh, fdim, lambda x: np.isclose(x[0], 1.0))
    stretch = fem.Constant(msh, PETSc.ScalarType(0.0))
    bcs = [
        fem.dirichletbc(np.zeros(3, dtype=PETSc.ScalarType), fem.locate_dofs_topological(V, fdim, left), V),
        fem.dirichletbc(stretch, fem.locate_dofs_topological(V.sub(0), fdim, right), V.sub(0)),
    ]
    dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": cc.QUAD_DEGREE})
    F = ufl.Identity(3) + ufl.grad(u)
    timers = cc.Timers()
    opts = solver_options(args.solver, args.rtol, args.atol)
    ext = None
    if variant == "ufl":
        Fv = ufl.variable(F)
        R = ufl.inner(ufl.diff(cook_ufl.neo_hooke_energy(Fv), Fv), ufl.grad(v)) * dx
        problem = NonlinearProblem(
            R, u, bcs=bcs, J=ufl.derivative(R, u, du), petsc_options_prefix="blk_ufl_", petsc_options=opts
        )
    else:
        problem, ext = ce.build_external_problem(
            u,
            v,
            du,
            dx,
            F,
            None,
            bcs,
            msh,
            args.rtol,
            args.atol,
            cells=variant,
            timers=timers,
            prefix=f"blk_{variant}_",
            petsc_options=opts,
        )
    if args.solver == "gamg":
        problem.A.setNearNullSpace(rigid_body_modes(V))
    cc.instrument(problem, timers)
    snes = problem.solver
    its = []
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        stretch.value = args.stretch * step / args.steps
        problem.solve()
        assert snes.getConvergedReason() > 0
        its.append(snes.getIterationNumber())
    wall = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
    nit = sum(its)
    tmat = comm.allreduce(ext.material.seconds if ext else 0.0, op=MPI.MAX)
    tops = comm.allreduce(timers.get("operands", 0.0), op=MPI.MAX)
    tres = comm.allreduce(timers.get("residual", 0.0), op=MPI.MAX)
    tjac = comm.allreduce(timers.get("jacobian", 0.0), op=MPI.MAX)
    umax = comm.allreduce(float(np.abs(u.x.array).max()), op=MPI.MAX)
    ux_mid = u.x.array.copy()
    if comm.rank == 0:
        ncell = args.n**3
        print(
            f"{variant:>6s} N={args.n}^3 ({ncell} cells, {3 * (args.n + 1) ** 3} dofs) ranks={comm.size} "
            f"solver={args.solver}: its {its}, {wall / nit * 1e3:8.1f} ms/it "
            f"[residual {tres / nit * 1e3:.1f}, jacobian {tjac / nit * 1e3:.1f}, rest(KSP etc.) "
            f"{(wall - tres - tjac) / nit * 1e3:.1f}; operands {tops / nit * 1e3:.1f}, "
            f"external callable {tmat / nit * 1e3:.1f} ms/it = {100 * tmat / wall:.1f}%]  max|u|={umax:.6f}",
            flush=True,
        )
    return its, ux_mid


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=16)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--stretch", type=float, default=0.5)
    p.add_argument("--solver", choices=["lu", "gamg"], default="lu")
    p.add_argument("--rtol", type=float, default=1e-10)
    p.add_argument("--atol", type=float, default=1e-10)
    p.add_argument("--variants", default="ufl,all,owned")
    args = p.parse_args(argv)
    results = {}
    for variant in args.variants.split(","):
        results[variant] = run(args, variant)
    if "ufl" in results:
        comm = MPI.COMM_WORLD
        for k, (its, uu) in results.items():
            if k == "ufl":
                continue
            d = comm.allreduce(float(np.abs(uu - results["ufl"][1]).max()), op=MPI.MAX)
            if comm.rank == 0:
                same = "same" if its == results["ufl"][0] else "DIFFER"
                print(f"  {k}: max |u - u_ufl| = {d:.2e}, iterations {same}")


if __name__ == "__main__":
    main()
