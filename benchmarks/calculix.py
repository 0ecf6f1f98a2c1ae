"""CalculiX benchmark: our compiled UMAT against CalculiX's built-in ``*HYPERELASTIC, NEO HOOKE``.

Problem: unit cube of n^3 C3D8 bricks (default n = 20: 8000 elements, 9261 nodes, 64000
integration points), symmetry on x = 0, y = 0, z = 0, the face x = 1 moved by 0.5 (50 %
uniaxial stretch, lateral faces free), ``*STATIC, DIRECT`` with 5 equal increments, NLGEOM,
CalculiX's default ``*CONTROLS``. Material: W = C10 (I1b - 3) + (J - 1)^2 / D1 with
C10 = 0.5e6, D1 = 2e-7 (mu = 1e6, K = 1e7): the built-in NEO HOOKE and the same energy compiled
by ``constitutive compile neo-hooke-decoupled`` (CalculiX convention) and loaded as
``@ABAQUSNL_NH_NH``. Both runs use the same ccx binary (tools/calculix/build.sh), the same
deck apart from the material cards, and ``OMP_NUM_THREADS`` = ``--threads`` (default 1).
Wall time is that of the ccx process and CPU time its user + system time (best of
``--repeats``; on a loaded machine the CPU time is the steadier measure), iterations from the
.sta file. The UMAT's own cost per call is measured by a C loop calling it.

Two runs: the built-in material and the UMAT as ``constitutive compile`` writes it (it answers
CalculiX's linear first iteration of a step at DFGRD0, as the built-in models do). A run that
stops (e.g. "solution seems to diverge") is recorded with its status and time, not retried.

Note: CalculiX 2.20's ``umat_abaqusnl.f:158`` writes one line to stdout per integration point
and call (``umat_abaqusnl <element> <point>``); that output (to ``<job>.log``) is part of the
UMAT's time.

Usage: python benchmarks/calculix.py [--n 20] [--increments 5] [--threads 1] [--repeats 1]
Writes benchmarks/results/calculix.json and prints a table.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools" / "calculix"))

import ccx  # noqa: E402
from common import RESULTS, format_table, machine_info, progress, write_json  # noqa: E402

from constitutive.fem import box  # noqa: E402
from constitutive.interfaces.compiled import compile_material  # noqa: E402

C10, D1, STRETCH = 0.5e6, 2e-7, 0.5


def deck(n: int, increments: int, material: str, name: str) -> str:
    mesh = box(n)
    S = mesh.point_sets
    xmax = S["xmax"]
    u = np.zeros((2, len(xmax), 3))
    u[1, :, 0] = STRETCH
    return ccx.solid_deck(mesh.points, mesh.cells, material, name,
                          fixed=[(S["xmin"], (0,)), (S["ymin"], (1,)), (S["zmin"], (2,))],
                          prescribed=[(xmax, u, (0,))], times=[0.0, 1.0], increments=increments,
                          controls=None, node_print=["XMAX"], node_sets={"XMAX": xmax},
                          heading=f"benchmark cube {n}^3, {STRETCH:.0%} stretch")


def run_case(label: str, text: str, work: Path, lib_dir: Path, threads: int, repeats: int) -> dict:
    best, cpu, res = np.inf, np.inf, None
    for k in range(repeats):
        progress(f"  {label}: run {k + 1}/{repeats}")
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        res = ccx.run_deck(text, work / label, lib_dirs=[lib_dir], threads=threads, timeout=3600,
                           check=False)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, res.seconds)
        cpu = min(cpu, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        if res.returncode != 0:
            break
    it = res.iterations()
    errors = [ln.strip() for ln in res.stdout.splitlines() if "*ERROR" in ln]
    row = {"material": label, "status": "ok" if res.returncode == 0 else (errors or ["failed"])[0],
           "wall_s": best, "cpu_s": cpu, "iterations": [int(i) for i in it.iterations], "total_iterations": it.total,
           "increments": int(it.converged.sum()), "cutbacks": int((~it.converged).sum()),
           "umat_calls": res.stdout.count("umat_abaqusnl "), "reaction_x": None, "_U": None}
    if res.returncode == 0:
        row["reaction_x"] = float(res.read_dat().get("RF", "XMAX", total=True)[2][-1, 0])
        row["_U"] = res.read_frd().get("U")[2][-1]
    return row


_TIMER_C = r"""
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <time.h>
#include "NH.h"
int main(void)
{
    double stress[6], statev[1], ddsdde[36], sse, spd, scd, rpl, ddsddt[6], drplde[6], drpldt, stran[6] = {0},
        dstran[6] = {0}, tim[2] = {0}, dtime = 1, temp = 0, dtemp = 0, predef[1], dpred[1], props[2] = {MU, KB},
        coords[3] = {0}, drot[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, pnewdt, celent = 1, f0[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1},
        f1[9], sum = 0;
    int ndi = 3, nshr = 3, ntens = 6, nstatv = 0, nprops = 2, noel = 1, npt = 1, layer = 1, kspt = 1,
        kstep[4] = {1, 1, 1, 0}, kinc = 1, n = 200000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int k = 0; k < n; ++k) {
        const double g = 1e-6 * (k % 1000);
        for (int i = 0; i < 9; ++i) f1[i] = f0[i] + (i == 0 ? 0.3 + g : (i == 3 ? 0.1 : 0.0));
        f1[4] = 0.9 - g; f1[8] = 0.95;
        pnewdt = -1;
        NH(stress, statev, ddsdde, &sse, &spd, &scd, &rpl, ddsddt, drplde, &drpldt, stran, dstran, tim, &dtime,
           &temp, &dtemp, predef, dpred, "NH", &ndi, &nshr, &ntens, &nstatv, props, &nprops, coords, drot,
           &pnewdt, &celent, f0, f1, &noel, &npt, &layer, &kspt, kstep, &kinc, 80);
        sum += stress[0] + ddsdde[0];
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6e %g\n", ((b.tv_sec - a.tv_sec) + 1e-9 * (b.tv_nsec - a.tv_nsec)) / n, sum);
    return 0;
}
"""


def umat_cost(lib_dir: Path) -> float:
    """Seconds per call of the compiled UMAT itself (a C loop calling NH 200000 times, -O2):
    what CalculiX pays for our code, without its own umat_abaqusnl around it."""
    src = lib_dir / "timer.c"
    src.write_text(_TIMER_C)
    exe = lib_dir / "timer"
    subprocess.run(["cc", "-std=c99", "-O2", f"-DMU={2 * C10!r}", f"-DKB={2 / D1!r}", f"-I{lib_dir}", str(src),
                    str(lib_dir / "NH.c"), "-o", str(exe), "-lm"], check=True, capture_output=True)
    return min(float(subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()[0])
               for _ in range(3))


def ccx_info(exe: Path) -> dict:
    build = exe.parent.parent / "BUILDINFO"
    v = subprocess.run([str(exe), "-v"], capture_output=True, text=True).stdout
    return {"ccx": str(exe), "version": " ".join(v.split()), "buildinfo":
            build.read_text().strip().splitlines() if build.is_file() else None}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--increments", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--output", type=Path, default=RESULTS / "calculix.json")
    args = ap.parse_args(argv)
    exe = ccx.find_ccx() or ccx.build_ccx()
    with tempfile.TemporaryDirectory(prefix="ccx_bench_") as tmp:
        work = Path(tmp)
        progress("compiling neo-hooke-decoupled -> libNH.so")
        compile_material("neo-hooke-decoupled", "NH", work / "lib", options={"volumetric": "J-1"})
        umat = ccx.user_material("NH", [2 * C10, 2 / D1])
        cases = [("builtin NEO HOOKE", ccx.hyperelastic_material("RUBBER", "NEO HOOKE", [C10, D1]),
                  "RUBBER", work / "lib"),
                 ("compiled UMAT", *umat, work / "lib")]
        rows = []
        for label, cards, name, lib_dir in cases:
            progress(f"{label}: {args.n}^3 C3D8, {args.increments} increments, {args.threads} thread(s)")
            rows.append(run_case(label, deck(args.n, args.increments, cards, name), work, lib_dir,
                                 args.threads, args.repeats))
        per_point = umat_cost(work / "lib")
    Us = [r.pop("_U") for r in rows]
    for r, U in zip(rows, Us, strict=True):
        ok = U is not None and Us[0] is not None
        r["max_abs_u_difference_to_builtin"] = float(np.abs(U - Us[0]).max()) if ok else None
        r["wall_ratio_to_builtin"] = r["wall_s"] / rows[0]["wall_s"] if r["status"] == "ok" else None
        r["cpu_ratio_to_builtin"] = r["cpu_s"] / rows[0]["cpu_s"] if r["status"] == "ok" else None
    mesh = box(args.n)
    data = {
        "benchmark": "calculix",
        "problem": {"n": args.n, "elements": mesh.ncells, "nodes": mesh.npoints,
                    "integration_points": 8 * mesh.ncells, "increments": args.increments,
                    "stretch": STRETCH, "C10": C10, "D1": D1, "controls": "CalculiX defaults"},
        "machine": machine_info(args.threads),
        "calculix": ccx_info(exe),
        "omp_num_threads": args.threads,
        "repeats": args.repeats,
        "results": rows,
        "umat_seconds_per_call": per_point,
        "umat_seconds_for_the_calls_of_the_fixed_run": per_point * rows[-1]["umat_calls"],
    }
    write_json(args.output, data)
    print(format_table(rows, [("material", "material", ""), ("status", "status", ""),
                              ("wall_s", "wall [s]", "{:.2f}"), ("cpu_s", "cpu [s]", "{:.2f}"),
                              ("cpu_ratio_to_builtin", "cpu ratio", "{:.2f}"), ("total_iterations", "iterations", "{}"),
                              ("increments", "increments", "{}"),
                              ("max_abs_u_difference_to_builtin", "max|U-U_builtin|", "{:.2g}"),
                              ("reaction_x", "RF_x at x=1", "{:.7g}")]))
    print(f"UMAT calls (fixed run): {rows[-1]['umat_calls']}; our UMAT itself: {per_point * 1e6:.2f} us per call, "
          f"{data['umat_seconds_for_the_calls_of_the_fixed_run']:.2f} s for those calls")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
