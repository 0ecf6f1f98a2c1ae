"""Benchmark of the fitting engine: Ogden-3 on all three Treloar (1944) modes.

    python benchmarks/fitting.py [--repeats 3]

* wall time, residual/Jacobian evaluations and final cost of the full fit with the exact
  autograd Jacobian (implicit function theorem through the driver) vs scipy's finite-difference
  Jacobians ("2-point", "3-point"), same start, same tolerances;
* cost of one Jacobian evaluation and its accuracy at the optimum: max relative deviation from
  the exact Jacobian of scipy-style forward differences and of central differences.

Writes benchmarks/results/fitting.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from constitutive.calibration import FitWarning, fit, load_experiments  # noqa: E402
from constitutive.calibration.fit_problem import FitProblem  # noqa: E402
from constitutive.calibration.params import ParameterSpace  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
START = {"mu": [0.6, 1e-3, -1e-2], "alpha": [1.3, 5.0, -2.0]}
MODEL = "ogden-incompressible"


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": sys.version.split()[0],
            "load_average": list(os.getloadavg()), "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def time_fit(exps, jac: str, repeats: int) -> dict:
    times, res = [], None
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            t = time.perf_counter()
            res = fit(MODEL, exps, start=START, jacobian=jac, stability=False)
            times.append(time.perf_counter() - t)
    return {"jacobian": jac, "wall_s_best": min(times), "wall_s_median": float(np.median(times)),
            "nfev": res.nfev, "njev": res.njev, "cost": res.cost, "success": res.success,
            "r2": res.r2, "x": res.x.tolist()}


def best_of(fn, n=5) -> float:
    fn()
    out = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def jacobian_accuracy(exps, x) -> dict:
    pb = FitProblem(ParameterSpace(__import__("materials").get(MODEL, **START)), exps)
    J = pb.residual_jacobian(x)
    eps = np.finfo(float).eps

    def fd(central: bool):
        cols = []
        r0 = pb.residuals(x)
        for i in range(x.size):
            h = (eps ** (1 / 3) if central else eps**0.5) * max(1.0, abs(x[i]))
            d = np.zeros_like(x)
            d[i] = h
            cols.append((pb.residuals(x + d) - (pb.residuals(x - d) if central else r0)) / ((2 if central else 1) * h))
        return np.stack(cols, -1)

    scale = np.abs(J).max(0)
    out = {"n_residuals": J.shape[0], "n_parameters": J.shape[1]}
    for name, central in (("forward", False), ("central", True)):
        Jfd = fd(central)
        out[f"{name}_fd_max_rel_error"] = float((np.abs(Jfd - J).max(0) / scale).max())
        out[f"{name}_fd_time_s"] = best_of(lambda c=central: fd(c))
    out["autograd_time_s"] = best_of(lambda: pb.residual_jacobian(x))
    out["residual_time_s"] = best_of(lambda: pb.residuals(x))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="fitting benchmark (Ogden-3 on Treloar)")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    exps = load_experiments(ROOT / "data" / "treloar.h5")
    rows = []
    for jac in ("autograd", "2-point", "3-point"):
        print(f"fitting with jacobian={jac} ...", file=sys.stderr, flush=True)
        rows.append(time_fit(exps, jac, args.repeats))
    acc = jacobian_accuracy(exps, np.array(rows[0]["x"]))
    data = {"benchmark": "fitting", "model": MODEL, "data": "data/treloar.h5 (UT, ET, PS; 53 points)",
            "start": START, "machine": machine(), "fits": rows, "jacobian_at_optimum": acc}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "fitting.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)
    print(f"\nOgden-3 fit to Treloar UT+ET+PS ({args.repeats} repeats, best/median wall time)")
    print(f"{'jacobian':<10}{'best s':>9}{'median s':>10}{'nfev':>6}{'njev':>6}{'cost':>14}  min R^2")
    for r in rows:
        print(f"{r['jacobian']:<10}{r['wall_s_best']:>9.2f}{r['wall_s_median']:>10.2f}{r['nfev']:>6}"
              f"{r['njev']:>6}{r['cost']:>14.8g}  {min(r['r2'].values()):.4f}")
    a = acc
    print(f"\none Jacobian at the optimum ({a['n_residuals']} x {a['n_parameters']}):")
    print(f"  autograd (exact)   {a['autograd_time_s'] * 1e3:8.1f} ms")
    print(f"  forward FD         {a['forward_fd_time_s'] * 1e3:8.1f} ms   max rel. error {a['forward_fd_max_rel_error']:.2e}")
    print(f"  central FD         {a['central_fd_time_s'] * 1e3:8.1f} ms   max rel. error {a['central_fd_max_rel_error']:.2e}")
    print(f"  (one residual evaluation {a['residual_time_s'] * 1e3:.1f} ms)")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
