"""FE driver benchmark: unit cube of linear hexahedra, compressible neo-Hooke, 30 % stretch.

Problem: cube [0,1]^3 with n^3 hexahedra (2x2x2 Gauss points), symmetry on x = 0, y = 0, z = 0,
the face x = 1 moved by 0.3 in x and held in y and z; W = mu/2 (I1-3) - mu ln J +
lmbda/2 (ln J)^2 with mu = 1, lmbda = 10; 5 load steps.

For constitutive.fem: time per Newton iteration split into material evaluation
(``material.pk1_tangent`` on all points), assembly (F, forces, element matrices, CSR scatter) and
linear solve (AMG setups included), for the default linear solver (``"auto"``: AMG-preconditioned
CG from 15 000 DOFs on) and for PARDISO; the wall time of the whole solve (tangent predictor,
everything) per Newton iteration beside it. The same problem is solved by felupe (same mesh,
element, quadrature and energy; PARDISO when pypardiso is installed, else scipy). Every run is
a separate process, so its peak resident memory is its own.

Usage: python benchmarks/fem.py [--sizes 10 20 30 40] [--solvers auto pardiso] [--felupe-max 30]
       [--no-felupe] [--move 0.5] [--output results/fem.json]
Writes benchmarks/results/fem.json and .md (targets evaluated in the same run) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import RESULTS, format_table, machine_info, progress, write_json  # noqa: E402

MU, LMBDA, MOVE, STEPS = 1.0, 10.0, 0.3, 5
#: targets of the issue: s/iteration at n = 30 <= 0.15 x felupe's; growth from n = 20 to 40
TARGET_RATIO, TARGET_EXPONENT = 0.15, 1.15


def build(n: int, move: float):
    import materials
    from constitutive.fem import Problem, box

    prob = Problem(box(n), materials.get("neo-hooke", mu=MU, lmbda=LMBDA))
    prob.fix("xmin", 0)
    prob.fix("ymin", 1)
    prob.fix("zmin", 2)
    prob.displace("xmax", [move, 0.0, 0.0])
    return prob


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_ours(n: int, linear_solver: str, move: float, u_out: str | None) -> dict:
    import torch

    from constitutive.fem.newton import solve

    torch.set_default_dtype(torch.float64)
    t0 = time.perf_counter()
    prob = build(n, move)
    prob.setup()
    t_setup = time.perf_counter() - t0
    prob.linearize(np.zeros(prob.ndof), 0.0)  # warm-up (first-call costs of the material path)
    t0 = time.perf_counter()
    res = solve(prob, steps=STEPS, linear_solver=linear_solver)
    wall = time.perf_counter() - t0
    tm = res.timings
    ev, it = tm["evaluations"], tm["iterations"]
    krylov = tm.get("krylov_iterations")
    row = {
        "code": "constitutive.fem", "n": n, "cells": prob.mesh.ncells, "dofs": int(prob.ndof),
        "free_dofs": int(len(prob.free)), "requested_solver": linear_solver,
        "linear_solver": res.linear_solver, "iterations": it,
        "iterations_per_step": [s.iterations for s in res.steps], "wall_s": wall, "setup_s": t_setup,
        "material_s": tm["material"] / ev, "assembly_s": tm["assembly"] / ev, "solve_s": tm["solve"] / it,
        "predictor_s": tm["predictor"], "wall_per_iteration_s": wall / it,
        "krylov_iterations_mean": float(np.mean(krylov)) if krylov else None,
        "amg_setups": tm.get("solver_setups"), "direct_solves": tm.get("solver_direct_solves"),
        "u_max": float(np.abs(res.u).max()), "reaction": float(res.reaction("xmax")[-1]),
    }
    row["per_iteration_s"] = row["material_s"] + row["assembly_s"] + row["solve_s"]
    if u_out:
        np.save(u_out, res.u)
    row["peak_rss_mb"] = peak_rss_mb()
    return row


def run_felupe(n: int, move: float, u_ref: str | None) -> dict | None:
    try:
        import felupe as fem
    except ImportError:
        return None
    from constitutive.fem import box
    from constitutive.fem.linsolve import available

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
    step = fem.Step(items=[solid], ramp={bcs["move"]: fem.math.linsteps([0, move], num=STEPS)},
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
    row = {"code": f"felupe {fem.__version__}", "n": n, "cells": mesh.ncells, "dofs": int(3 * mesh.npoints),
           "linear_solver": name, "iterations": it, "wall_s": wall,
           "solve_s": stats["solve"] / it, "per_iteration_s": wall / it, "wall_per_iteration_s": wall / it,
           "u_max": float(np.abs(u).max())}
    row["material_assembly_s"] = row["per_iteration_s"] - row["solve_s"]
    if u_ref and Path(u_ref).exists():
        row["max_diff_u"] = float(np.abs(u - np.load(u_ref)).max())
    row["peak_rss_mb"] = peak_rss_mb()
    return row


def child(args: list[str], timeout: float) -> dict | None:
    """Run one case in a fresh process (its own peak memory); its last stdout line is JSON."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", *args]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        progress(f"  {' '.join(args)}: timed out after {timeout:.0f} s")
        return None
    if r.returncode != 0:
        progress(f"  {' '.join(args)}: failed\n{r.stderr[-2000:]}")
        return None
    out = r.stdout.strip().splitlines()[-1]
    return None if out == "null" else json.loads(out)


def evaluate_targets(rows: list[dict]) -> dict:
    """Ratios to felupe (same n, same run), growth exponent of the cost per iteration from
    n = 20 to n = 40, Newton iterations against PARDISO's."""
    ours = {r["n"]: r for r in rows if r["code"] == "constitutive.fem" and r["requested_solver"] == "auto"}
    direct = {r["n"]: r for r in rows if r["code"] == "constitutive.fem" and r["requested_solver"] == "pardiso"}
    felupe = {r["n"]: r for r in rows if r["code"].startswith("felupe")}
    out = {"ratio_to_felupe": {}, "newton_iterations": {}}
    for n, r in ours.items():
        if n in felupe:
            f = felupe[n]["per_iteration_s"]
            out["ratio_to_felupe"][n] = {"per_iteration": r["per_iteration_s"] / f,
                                         "wall_per_iteration": r["wall_per_iteration_s"] / f}
        if n in direct:
            out["newton_iterations"][n] = {"auto": r["iterations"], "pardiso": direct[n]["iterations"]}
    if 20 in ours and 40 in ours:
        a, b = ours[20], ours[40]
        ld = math.log(b["dofs"] / a["dofs"])
        out["growth_exponent_20_40"] = {
            "per_iteration": math.log(b["per_iteration_s"] / a["per_iteration_s"]) / ld,
            "wall_per_iteration": math.log(b["wall_per_iteration_s"] / a["wall_per_iteration_s"]) / ld}
    r30 = out["ratio_to_felupe"].get(30)
    g = out.get("growth_exponent_20_40")
    out["met"] = {
        "ratio_n30": None if r30 is None else r30["per_iteration"] <= TARGET_RATIO,
        "ratio_n30_wall": None if r30 is None else r30["wall_per_iteration"] <= TARGET_RATIO,
        "growth_20_40": None if g is None else g["per_iteration"] <= TARGET_EXPONENT,
        "newton_iterations_not_grown": all(v["auto"] <= v["pardiso"] for v in out["newton_iterations"].values())
        if out["newton_iterations"] else None}
    return out


COLUMNS = [("code", "code", ""), ("n", "n", "{}^3"), ("dofs", "DOFs", "{}"),
           ("solver", "solver", ""), ("iterations", "iter", "{}"),
           ("material_s", "material", "{:.3f}"), ("assembly_s", "assembly", "{:.3f}"),
           ("material_assembly_s", "mat+asm", "{:.3f}"), ("solve_s", "solve", "{:.3f}"),
           ("per_iteration_s", "s/iter", "{:.3f}"), ("wall_per_iteration_s", "wall/iter", "{:.3f}"),
           ("krylov_iterations_mean", "CG it.", "{:.1f}"), ("amg_setups", "setups", "{}"),
           ("peak_rss_mb", "peak MB", "{:.0f}"), ("wall_s", "wall", "{:.1f}"), ("max_diff_u", "|u-u_ours|", "{:.1e}")]


def markdown(data: dict) -> str:
    info = data["machine"]
    lines = [f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, torch {info['torch']}; load "
             f"average at start {[round(x, 2) for x in info['load_average']]}, at end "
             f"{[round(x, 2) for x in data['load_average_end']]}.", "",
             "| " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in data["rows"]:
        cells = []
        for key, _, fmt in COLUMNS:
            v = r.get(key)
            cells.append("-" if v is None else (fmt.format(v) if fmt else str(v)))
        lines.append("| " + " | ".join(cells) + " |")
    t = data["targets"]
    lines += ["", "| target (same run) | result | met |", "|---|---|---|"]
    r30 = t["ratio_to_felupe"].get(30)
    if r30:
        lines.append(f"| s/iteration at 30^3 <= {TARGET_RATIO} x felupe | {r30['per_iteration']:.3f} x "
                     f"(all-in wall/iteration: {r30['wall_per_iteration']:.3f} x) | "
                     f"{'yes' if t['met']['ratio_n30'] else 'no'} |")
    g = t.get("growth_exponent_20_40")
    if g:
        lines.append(f"| cost per iteration 20^3 -> 40^3 grows <= DOFs^{TARGET_EXPONENT} | DOFs^"
                     f"{g['per_iteration']:.2f} (wall/iteration: DOFs^{g['wall_per_iteration']:.2f}) | "
                     f"{'yes' if t['met']['growth_20_40'] else 'no'} |")
    if t["newton_iterations"]:
        its = ", ".join(f"{n}^3: {v['auto']} vs {v['pardiso']}" for n, v in sorted(t["newton_iterations"].items()))
        lines.append(f"| Newton iterations do not grow (auto vs PARDISO) | {its} | "
                     f"{'yes' if t['met']['newton_iterations_not_grown'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30, 40])
    ap.add_argument("--solvers", nargs="+", default=None,
                    help="linear solvers to time (default: auto everywhere, pardiso up to 30^3, "
                         "cg and superlu at 10^3)")
    ap.add_argument("--felupe-max", type=int, default=30, help="largest n solved by felupe")
    ap.add_argument("--no-felupe", action="store_true")
    ap.add_argument("--move", type=float, default=MOVE,
                    help="x-displacement of the face x = 1 (default 0.3: 30 %% stretch)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per case")
    ap.add_argument("--output", default=str(RESULTS / "fem.json"))
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        kind, n, move = args.child[0], int(args.child[1]), float(args.child[2])
        if kind == "ours":
            row = run_ours(n, args.child[3], move, args.child[4] if len(args.child) > 4 else None)
        else:
            row = run_felupe(n, move, args.child[3] if len(args.child) > 3 else None)
        print(json.dumps(row))
        return 0
    import torch

    from constitutive.fem.linsolve import available

    info = machine_info(torch.get_num_threads())
    progress(f"machine: {info['cpu']}, load average {info['load_average']}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            solvers = args.solvers or (["auto"] + (["pardiso"] if available("pardiso") and n <= 30 else [])
                                       + (["cg", "superlu"] if n <= 10 else []))
            u_ref = str(Path(tmp) / f"u{n}.npy")
            for s in solvers:
                progress(f"constitutive.fem n={n} solver={s} ...")
                row = child(["ours", str(n), str(args.move), s] + ([u_ref] if s == "auto" else []), args.timeout)
                if row is not None:
                    rows.append(row)
                    progress(f"  {row['linear_solver']}: {row['iterations']} iterations, "
                             f"{row['per_iteration_s']:.3f} s/iteration, wall {row['wall_s']:.1f} s, "
                             f"{row['peak_rss_mb']:.0f} MB")
            if not args.no_felupe and n <= args.felupe_max:
                progress(f"felupe n={n} ...")
                row = child(["felupe", str(n), str(args.move), u_ref], args.timeout)
                if row is not None:
                    rows.append(row)
                    progress(f"  {row['iterations']} iterations, {row['per_iteration_s']:.3f} s/iteration, "
                             f"{row['peak_rss_mb']:.0f} MB")
    for r in rows:
        if "material_s" in r:
            r["material_assembly_s"] = r["material_s"] + r["assembly_s"]
        req = r.get("requested_solver")
        r["solver"] = r["linear_solver"] if req in (None, r["linear_solver"]) else f"{req}: {r['linear_solver']}"
    data = {"benchmark": "fem", "problem": __doc__.split("\n\n")[1], "move": args.move,
            "machine": info, "rows": rows, "targets": evaluate_targets(rows),
            "load_average_end": list(__import__("os").getloadavg())}
    data["table"] = format_table(rows, COLUMNS)
    print(data["table"])
    md = markdown(data)
    print("\n" + md)
    write_json(Path(args.output), data)
    Path(args.output).with_suffix(".md").write_text(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
