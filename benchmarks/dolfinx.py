"""DOLFINx benchmark: a compiled material through PK1Operator (owned cells) vs the energy in UFL.

Problem: unit cube, N^3 Q1 hexahedra, 2x2x2 Gauss points; u = 0 on x = 0, u_x = 0.5 t on x = 1
(u_y, u_z free there), 2 load steps; neo-Hooke W = mu/2 (J^{-2/3} tr C - 3) + K/4 (J^2 - 1 - 2 ln J)
with mu = 0.4225, K = 0.9154 (the Cook material). Newton: PETSc SNES, full steps, CG + GAMG
(``--solver gamg``, default; rigid-body near null space) or LU by MUMPS (``--solver lu``).

Measured, per size and rank count (times are the maximum over ranks). Both variants live in
one process on one mesh, and their load histories alternate (``--repeat`` each, the fastest
kept), so that a busy machine slows both alike:

* ms per Newton iteration, split into the residual callback (for the compiled material it
  includes ``update()``: F at the owned points and the library call), the Jacobian assembly
  and the rest (linear solve, SNES);
* material throughput at the final state (interleaved, best of repeats): million owned
  quadrature points per second for P and dP/dF, (a) the compiled library alone, (b)
  ``update()`` (F by a fem.Expression, then the library, owned cells), (c) the package's
  all-cells path (owned + ghost cells, with copies), (d) the same P and dP/dF written in UFL and
  evaluated by a compiled fem.Expression (FFCx code), the UFL counterpart of (b).

Run in the DOLFINx venv, after compiling the material (docs/dolfinx.md):

    VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
    $VENV/bin/python benchmarks/dolfinx.py build/nh/NH.json [--sizes 16 32] [--ranks 1 2]

Writes benchmarks/results/dolfinx.json and prints a table with the ratios compiled / UFL.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# run as a script, this file's folder comes first on sys.path, where "dolfinx" would be this file
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
MU, K = 0.4225, 2.0 * 0.4225 * 1.3 / (3.0 * 0.4)
STRETCH, STEPS = 0.5, 2


def best_time(fn, repeats=5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def solver_options(kind: str) -> dict:
    opts = {"snes_type": "newtonls", "snes_linesearch_type": "basic", "snes_rtol": 1e-10, "snes_atol": 1e-10,
            "snes_stol": 0.0, "snes_max_it": 30, "snes_error_if_not_converged": True}
    if kind == "lu":
        return {**opts, "ksp_type": "preonly", "pc_type": "lu", "pc_factor_mat_solver_type": "mumps"}
    return {**opts, "ksp_type": "cg", "pc_type": "gamg", "ksp_rtol": 1e-10, "ksp_atol": 1e-14,
            "ksp_max_it": 1000, "mg_levels_ksp_type": "chebyshev", "mg_levels_pc_type": "jacobi",
            "pc_gamg_coarse_eq_limit": 1000}


def _near_null_space(V, la, PETSc):
    imap = V.dofmap.index_map
    nloc = imap.size_local + imap.num_ghosts
    basis = [la.vector(imap, bs=3) for _ in range(6)]
    X = V.tabulate_dof_coordinates()[:nloc]
    b = [w.array.reshape(-1, 3) for w in basis]
    for i in range(3):
        b[i][:, i] = 1.0
    b[3][:, 0], b[3][:, 1] = -X[:, 1], X[:, 0]
    b[4][:, 0], b[4][:, 2] = X[:, 2], -X[:, 0]
    b[5][:, 2], b[5][:, 1] = X[:, 1], -X[:, 2]
    la.orthonormalize(basis)
    return PETSc.NullSpace().create(vectors=[la.petsc.create_vector_wrap(w) for w in basis])


def worker(material: str, n: int, solver: str, repeat: int = 3) -> dict:
    """Both variants on one mesh in one process, their load histories interleaved (the load of
    a shared machine then affects both alike); the fastest history of each is kept."""
    from constitutive.interfaces.dolfinx import PK1Operator, require_dolfinx

    dolfinx, ufl, basix, _ = require_dolfinx()
    import numpy as np
    from dolfinx import fem, la, mesh
    from mpi4py import MPI
    from petsc4py import PETSc

    comm = MPI.COMM_WORLD
    msh = mesh.create_box(comm, [np.zeros(3), np.ones(3)], [n] * 3, mesh.CellType.hexahedron,
                          ghost_mode=mesh.GhostMode.shared_facet)
    V = fem.functionspace(msh, ("Lagrange", 1, (3,)))
    v = ufl.TestFunction(V)
    left = mesh.locate_entities_boundary(msh, 2, lambda x: np.isclose(x[0], 0.0))
    right = mesh.locate_entities_boundary(msh, 2, lambda x: np.isclose(x[0], 1.0))
    stretch = fem.Constant(msh, 0.0)
    bcs = [fem.dirichletbc(np.zeros(3), fem.locate_dofs_topological(V, 2, left), V),
           fem.dirichletbc(stretch, fem.locate_dofs_topological(V.sub(0), 2, right), V.sub(0))]
    nullsp = _near_null_space(V, la, PETSc) if solver == "gamg" else None

    def energy_stress(u):
        Fv = ufl.variable(ufl.Identity(3) + ufl.grad(u))
        J = ufl.det(Fv)
        W = 0.5 * MU * (J ** (-2.0 / 3.0) * ufl.tr(Fv.T * Fv) - 3.0) + 0.25 * K * (J**2 - 1.0 - 2.0 * ufl.ln(J))
        return Fv, ufl.diff(W, Fv)

    cases = {}
    for variant in ("ufl", "compiled"):
        u = fem.Function(V)
        timers = {"residual": 0.0, "jacobian": 0.0, "update": 0.0}
        op = None
        if variant == "ufl":
            dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": 2})
            R = ufl.inner(energy_stress(u)[1], ufl.grad(v)) * dx
            problem = dolfinx.fem.petsc.NonlinearProblem(R, u, bcs=bcs, J=ufl.derivative(R, u),
                                                         petsc_options_prefix="bk_ufl_",
                                                         petsc_options=solver_options(solver))
        else:
            op = PK1Operator(u, material, quadrature_degree=2, mu=MU, K=K)
            plain = op.update

            def timed_update(plain=plain, timers=timers):
                t = time.perf_counter()
                plain()
                timers["update"] += time.perf_counter() - t

            op.update = timed_update  # what the residual callback calls
            problem = op.nonlinear_problem(ufl.inner(op.P, ufl.grad(v)) * op.dx, bcs,
                                           petsc_options=solver_options(solver), petsc_options_prefix="bk_ext_")
            op.plain_update = plain
        if nullsp is not None:
            problem.A.setNearNullSpace(nullsp)
        snes = problem.solver
        fvec, (ffun, fargs, fkargs) = snes.getFunction()
        Amat, Pmat, (jfun, jargs, jkargs) = snes.getJacobian()

        def wrap(key, fn, timers=timers):
            def wrapped(*a, **k):
                t = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    timers[key] += time.perf_counter() - t
            return wrapped

        snes.setFunction(wrap("residual", ffun), fvec, args=fargs, kargs=fkargs)
        snes.setJacobian(wrap("jacobian", jfun), Amat, Pmat, args=jargs, kargs=jkargs)
        cases[variant] = {"u": u, "problem": problem, "timers": timers, "op": op, "best": None}

    def history(case):
        u, problem, timers = case["u"], case["problem"], case["timers"]
        u.x.array[:] = 0.0
        for k in timers:
            timers[k] = 0.0
        its = []
        comm.barrier()
        t0 = time.perf_counter()
        for step in range(1, STEPS + 1):
            stretch.value = STRETCH * step / STEPS
            problem.solve()
            its.append(problem.solver.getIterationNumber())
        loop = comm.allreduce(time.perf_counter() - t0, op=MPI.MAX)
        if case["best"] is None or loop < case["best"][0]:
            case["best"] = (loop, {k: comm.allreduce(t, op=MPI.MAX) for k, t in timers.items()}, its)

    for r in range(repeat):
        for variant in (("ufl", "compiled") if r % 2 == 0 else ("compiled", "ufl")):
            history(cases[variant])

    # material throughput at the final state, interleaved best of repeats
    imap = msh.topology.index_map(3)
    n_owned, n_ghost = imap.size_local, imap.num_ghosts
    nq = 8
    owned = np.arange(n_owned, dtype=np.int32)
    op = cases["compiled"]["op"]
    Fq = fem.Expression(op.F, op.Q.element.interpolation_points).eval(msh, owned).reshape(-1, 3, 3)
    Pb, Ab = np.empty_like(Fq), np.empty(Fq.shape[:1] + (3, 3, 3, 3))
    op_all = PK1Operator(cases["compiled"]["u"], op.material, cells="all")  # the package's path
    op_all.forms(ufl.inner(op_all.P, ufl.grad(v)) * op_all.dx)
    Fv, P_ufl = energy_stress(cases["ufl"]["u"])
    dP_ufl = ufl.diff(P_ufl, Fv)
    comps = [P_ufl[i, j] for i in range(3) for j in range(3)]
    comps += [dP_ufl[i, j, k, m] for i in range(3) for j in range(3) for k in range(3) for m in range(3)]
    Qe = basix.ufl.quadrature_element(msh.basix_cell(), value_shape=(3, 3), degree=2, scheme="default")
    ePA = fem.Expression(ufl.as_vector(comps), fem.functionspace(msh, Qe).element.interpolation_points)
    out = np.empty((n_owned, nq, 90))
    fns = {"library": lambda: op.material.pk1_tangent(Fq, out=(Pb, Ab)), "update": op.plain_update,
           "update_all_cells": op_all.update, "ufl_expression": lambda: ePA.eval(msh, owned, values=out)}
    best = {k: float("inf") for k in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(5 * repeat):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t)
    tput = {k: comm.allreduce(t, op=MPI.MAX) for k, t in best.items()}

    res = {"n": n, "ranks": comm.size, "solver": solver, "cells": n**3, "dofs": 3 * (n + 1) ** 3,
           "points": n**3 * nq, "ghost_cells": comm.allreduce(n_ghost),
           "mpoints_per_s": {k: n**3 * nq / t / 1e6 for k, t in tput.items()},
           "umax_difference": comm.allreduce(float(np.abs(cases["ufl"]["u"].x.array
                                                          - cases["compiled"]["u"].x.array).max()), op=MPI.MAX)}
    for variant, case in cases.items():
        loop, tm, its = case["best"]
        nit = sum(its)
        res[variant] = {"iterations": its, "ms_per_iteration": 1e3 * loop / nit,
                        "residual_ms": 1e3 * tm["residual"] / nit, "jacobian_ms": 1e3 * tm["jacobian"] / nit,
                        "update_ms": 1e3 * tm["update"] / nit,
                        "rest_ms": 1e3 * (loop - tm["residual"] - tm["jacobian"]) / nit}
    return res


def run_worker(args) -> int:
    from mpi4py import MPI

    res = worker(args.material, args.n, args.solver, args.repeat)
    if MPI.COMM_WORLD.rank == 0:
        print("RESULT " + json.dumps(res), flush=True)
    return 0


def machine() -> dict:
    from importlib.metadata import version

    from constitutive.interfaces.dolfinx import require_dolfinx

    try:
        cc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        cc = None
    cpu = platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    return {"host": platform.node(), "cpu": cpu, "logical_cpus": os.cpu_count(), "cc": cc,
            "python": sys.version.split()[0], "dolfinx": require_dolfinx()[0].__version__,
            "dolfinx_external_operator": version("dolfinx-external-operator"),
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("material", help="NAME.json of the compiled neo-hooke-decoupled (simo-taylor) library")
    p.add_argument("--sizes", type=int, nargs="+", default=[16, 32])
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--solver", choices=["gamg", "lu"], default="gamg")
    p.add_argument("--repeat", type=int, default=3, help="load histories per case; the fastest is kept (3)")
    p.add_argument("--output", default=str(HERE / "results" / "dolfinx.json"))
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return run_worker(args)
    from constitutive.interfaces.dolfinx import require_dolfinx

    require_dolfinx()
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_common", HERE / "common.py")
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)  # format_table and write_json are torch-free
    format_table, write_json = common.format_table, common.write_json

    mpiexec = Path(sys.executable).with_name("mpiexec")
    rows, load = [], {"before": list(os.getloadavg())}
    for n in args.sizes:
        for ranks in args.ranks:
            cmd = ([str(mpiexec), "-n", str(ranks)] if ranks > 1 else []) + [
                sys.executable, __file__, args.material, "--worker", "--n", str(n), "--solver", args.solver,
                "--repeat", str(args.repeat)]
            print(f"[dolfinx bench] N={n}^3 ranks={ranks} ...", file=sys.stderr, flush=True)
            r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if r.returncode != 0:
                sys.stderr.write(r.stdout[-3000:] + r.stderr[-3000:])
                return 1
            row = json.loads(next(ln for ln in r.stdout.splitlines() if ln.startswith("RESULT "))[7:])
            u, c, tp = row["ufl"], row["compiled"], row["mpoints_per_s"]
            row.update({"same_iterations": u["iterations"] == c["iterations"],
                        "ratio_iteration": c["ms_per_iteration"] / u["ms_per_iteration"],
                        "ratio_residual_jacobian": (c["residual_ms"] + c["jacobian_ms"])
                        / (u["residual_ms"] + u["jacobian_ms"]),
                        "ratio_throughput": tp["update"] / tp["ufl_expression"]})
            rows.append(row)
    load["after"] = list(os.getloadavg())
    data = {"benchmark": "dolfinx block: compiled material (PK1Operator, owned cells) vs energy in UFL",
            "problem": {"mesh": "unit cube N^3 Q1 hexahedra, 2x2x2 Gauss", "stretch": STRETCH, "steps": STEPS,
                        "mu": MU, "K": K, "solver": args.solver, "repeat": args.repeat},
            "machine": machine(), "load_average": load, "rows": rows}
    write_json(Path(args.output), data)
    table = [{"case": f"{r['n']}^3 x{r['ranks']}", "its": sum(r["ufl"]["iterations"]),
              "u_it": r["ufl"]["ms_per_iteration"], "c_it": r["compiled"]["ms_per_iteration"],
              "ratio": r["ratio_iteration"],
              "u_rj": r["ufl"]["residual_ms"] + r["ufl"]["jacobian_ms"],
              "c_rj": r["compiled"]["residual_ms"] + r["compiled"]["jacobian_ms"],
              "c_up": r["compiled"]["update_ms"], "rrj": r["ratio_residual_jacobian"],
              "lib": r["mpoints_per_s"]["library"], "upd": r["mpoints_per_s"]["update"],
              "all": r["mpoints_per_s"]["update_all_cells"], "uex": r["mpoints_per_s"]["ufl_expression"],
              "rt": r["ratio_throughput"]} for r in rows]
    cols = [("case", "case", ""), ("its", "Newton its", "{}"), ("u_it", "UFL ms/it", "{:.1f}"),
            ("c_it", "compiled ms/it", "{:.1f}"), ("ratio", "ratio", "{:.2f}"),
            ("u_rj", "UFL R+J ms", "{:.1f}"), ("c_rj", "compiled R+J ms", "{:.1f}"),
            ("c_up", "of which update", "{:.1f}"), ("rrj", "ratio", "{:.2f}"),
            ("lib", "library Mpt/s", "{:.2f}"), ("upd", "update Mpt/s", "{:.2f}"),
            ("all", "all-cells update Mpt/s", "{:.2f}"), ("uex", "UFL Expression Mpt/s", "{:.2f}"),
            ("rt", "update/UFL", "{:.2f}")]
    print(format_table(table, cols))
    print(f"load average before {load['before']}, after {load['after']}; wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
