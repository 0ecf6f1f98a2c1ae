"""FE driver benchmark: unit cube of linear hexahedra, compressible neo-Hooke, 30 % stretch.

Problem: cube [0,1]^3 with n^3 hexahedra (2x2x2 Gauss points), symmetry on x = 0, y = 0, z = 0,
the face x = 1 moved by 0.3 in x and held in y and z; W = mu/2 (I1-3) - mu ln J +
lmbda/2 (ln J)^2 with mu = 1, lmbda = 10; 5 load steps.

For constitutive.fem: time per Newton iteration split into material evaluation
(``material.pk1_tangent`` on all points), assembly (F, forces, element matrices, CSR scatter) and
linear solve, for each available linear solver; plus a best-of timing of material + assembly at
the final state. The same problem is solved by felupe (same mesh, element, quadrature and
energy; its linear solver is PARDISO too when pypardiso is installed, else scipy).

Usage: python benchmarks/fem.py [--sizes 10 20 30] [--solvers pardiso cg] [--no-felupe] [--move 0.5]
Writes benchmarks/results/fem.json and prints a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import RESULTS, format_table, machine_info, progress, write_json  # noqa: E402

import materials  # noqa: E402
from constitutive.fem import Problem, box  # noqa: E402
from constitutive.fem.linsolve import available  # noqa: E402
from constitutive.fem.newton import solve  # noqa: E402

MU, LMBDA, MOVE, STEPS = 1.0, 10.0, 0.3, 5


def build(n: int) -> Problem:
    prob = Problem(box(n), materials.get("neo-hooke", mu=MU, lmbda=LMBDA))
    prob.fix("xmin", 0)
    prob.fix("ymin", 1)
    prob.fix("zmin", 2)
    prob.displace("xmax", [MOVE, 0.0, 0.0])
    return prob


def run_ours(n: int, linear_solver: str) -> dict:
    t0 = time.perf_counter()
    prob = build(n)
    prob.setup()
    t_setup = time.perf_counter() - t0
    prob.linearize(np.zeros(prob.ndof), 0.0)  # warm-up (first-call costs of the material path)
    t0 = time.perf_counter()
    res = solve(prob, steps=STEPS, linear_solver=linear_solver)
    wall = time.perf_counter() - t0
    tm = res.timings
    ev, it = tm["evaluations"], tm["iterations"]
    row = {
        "code": "constitutive.fem", "n": n, "cells": prob.mesh.ncells, "dofs": int(prob.ndof),
        "linear_solver": res.linear_solver, "iterations": it, "wall_s": wall, "setup_s": t_setup,
        "material_s": tm["material"] / ev, "assembly_s": tm["assembly"] / ev, "solve_s": tm["solve"] / it,
        "predictor_s": tm["predictor"],
        "u_max": float(np.abs(res.u).max()), "reaction": float(res.reaction("xmax")[-1]),
    }
    row["per_iteration_s"] = row["material_s"] + row["assembly_s"] + row["solve_s"]
    # material + assembly at the final state, best of repeats (same code path as the solver)
    u = res.u.reshape(-1)
    best = {"material": np.inf, "assembly": np.inf}
    for _ in range(3):
        tmk = prob.linearize(u, 1.0).timings
        best = {k: min(v, tmk[k]) for k, v in best.items()}
    row["best_material_s"], row["best_assembly_s"] = best["material"], best["assembly"]
    row["best_material_assembly_s"] = best["material"] + best["assembly"]
    return row


def run_felupe(n: int, u_ref=None) -> dict | None:
    try:
        import felupe as fem
    except ImportError:
        return None
    mesh = box(n)
    fmesh = fem.Mesh(mesh.points.copy(), mesh.cells.copy(), "hexahedron")
    region = fem.RegionHexahedron(fmesh)
    field = fem.FieldContainer([fem.Field(region, dim=3)])
    X = mesh.points
    bcs = {"x0": fem.Boundary(field[0], mask=np.isclose(X[:, 0], 0), skip=(0, 1, 1)),
           "y0": fem.Boundary(field[0], mask=np.isclose(X[:, 1], 0), skip=(1, 0, 1)),
           "z0": fem.Boundary(field[0], mask=np.isclose(X[:, 2], 0), skip=(1, 1, 0)),
           "fix": fem.Boundary(field[0], mask=np.isclose(X[:, 0], 1), skip=(1, 0, 0)),
           "move": fem.Boundary(field[0], mask=np.isclose(X[:, 0], 1), skip=(0, 1, 1))}
    solid = fem.SolidBody(fem.NeoHookeCompressible(mu=MU, lmbda=LMBDA), field)
    step = fem.Step(items=[solid], ramp={bcs["move"]: fem.math.linsteps([0, MOVE], num=STEPS)},
                    boundaries=bcs)
    stats = {"solve": 0.0, "calls": 0}
    if available("pardiso"):
        import pypardiso

        base, name = pypardiso.spsolve, "pardiso"
    else:
        import scipy.sparse.linalg as spla

        base, name = spla.spsolve, "superlu"

    def timed_solver(A, b):
        t = time.perf_counter()
        x = base(A, b)
        stats["solve"] += time.perf_counter() - t
        stats["calls"] += 1
        return x

    t0 = time.perf_counter()
    fem.Job(steps=[step]).evaluate(verbose=0, solver=timed_solver, tol=1e-8)
    wall = time.perf_counter() - t0
    it = stats["calls"]
    u = field[0].values
    row = {"code": "felupe", "n": n, "cells": mesh.ncells, "dofs": int(3 * mesh.npoints),
           "linear_solver": name, "iterations": it, "wall_s": wall,
           "solve_s": stats["solve"] / it, "per_iteration_s": wall / it,
           "u_max": float(np.abs(u).max())}
    row["material_assembly_s"] = row["per_iteration_s"] - row["solve_s"]
    if u_ref is not None:
        row["max_diff_u"] = float(np.abs(u - u_ref).max())
    return row


def main(argv=None) -> int:
    global MOVE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30])
    ap.add_argument("--solvers", nargs="+", default=None,
                    help="linear solvers to time (default: the best direct solver; also cg "
                         "and superlu for sizes <= 10, too slow beyond on 2 cores)")
    ap.add_argument("--no-felupe", action="store_true")
    ap.add_argument("--move", type=float, default=MOVE,
                    help="x-displacement of the face x = 1 (default 0.3: 30 %% stretch)")
    ap.add_argument("--output", default=str(RESULTS / "fem.json"))
    args = ap.parse_args(argv)
    MOVE = args.move
    torch.set_default_dtype(torch.float64)
    rows = []
    for n in args.sizes:
        # the best available direct solver only (CHOLMOD, when installed, is timed on request:
        # Debian's SuiteSparse build took 10-86 s per factorisation at 20^3 on 2 cores)
        direct = [s for s in ("pardiso", "cholmod") if available(s)][:1] or ["superlu"]
        solvers = args.solvers or (direct + (["cg", "superlu"] if n <= 10 else []))
        u_ref = None
        for s in solvers:
            progress(f"constitutive.fem n={n} solver={s} ...")
            row = run_ours(n, s)
            rows.append(row)
            progress(f"  {row['iterations']} iterations, {row['per_iteration_s']:.3f} s/iteration")
        if not args.no_felupe:
            progress(f"felupe n={n} ...")
            prob = build(n)
            u_ref = solve(prob, steps=STEPS, rtol=1e-10).u
            row = run_felupe(n, u_ref)
            if row is not None:
                rows.append(row)
                progress(f"  {row['iterations']} iterations, {row['per_iteration_s']:.3f} s/iteration")
    cols = [("code", "code", ""), ("n", "n", "{}^3"), ("dofs", "DOFs", "{}"),
            ("linear_solver", "solver", ""), ("iterations", "iter", "{}"),
            ("material_s", "material", "{:.3f}"), ("assembly_s", "assembly", "{:.3f}"),
            ("material_assembly_s", "mat+asm", "{:.3f}"), ("solve_s", "solve", "{:.3f}"),
            ("per_iteration_s", "s/iter", "{:.3f}"), ("best_material_assembly_s", "best mat+asm", "{:.3f}"),
            ("wall_s", "wall", "{:.1f}"), ("max_diff_u", "|u-u_ours|", "{:.1e}")]
    for r in rows:
        if "material_s" in r:
            r["material_assembly_s"] = r["material_s"] + r["assembly_s"]
    table = format_table(rows, cols)
    print(table)
    write_json(Path(args.output), {"benchmark": "fem", "problem": __doc__.split("\n\n")[1],
                                   "move": MOVE,
                                   "machine": machine_info(torch.get_num_threads()), "rows": rows,
                                   "table": table})
    return 0


if __name__ == "__main__":
    sys.exit(main())
