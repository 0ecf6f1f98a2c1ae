"""Benchmark of the fitting engine: Ogden-3 on all three Treloar (1944) modes.

    python benchmarks/fitting.py [--repeats 3] [--starts 8]

* one start from the same start values, exact Jacobian, three ways: the compiled evaluation
  (``FitKernel``: P, dP/dF and dP/dtheta from one kernel of the fast path, the kernel built
  before the timing), eager autograd (``constitutive.fast.disabled()``), and eager autograd as
  it was (two torch threads on the 53 points); plus scipy's finite-difference Jacobians
  ("2-point", "3-point") on the compiled residuals; wall time per start, evaluations, optimum;
* the same optimum to 1e-8: parameters and cost of every variant against the eager fit;
* a multi-start fit (``--starts``, random admissible starts, default policy: eager for the first
  evaluations, then the compiled kernel): wall time per start;
* the one-off cost of the kernel: cold (empty disk cache: trace, code generation, C compile)
  and warm (a new process with the compiled library cached: trace only);
* one Jacobian at the optimum: time and accuracy of forward and central differences.

Writes benchmarks/results/fitting.json and .md and prints a table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import machine_info, write_json  # noqa: E402

from constitutive import fast  # noqa: E402
from constitutive.calibration import FitWarning, fit, load_experiments  # noqa: E402
from constitutive.calibration import fit_problem as fp  # noqa: E402
from constitutive.calibration.fit_problem import FitKernel, FitProblem  # noqa: E402
from constitutive.calibration.params import ParameterSpace  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
START = {"mu": [0.6, 1e-3, -1e-2], "alpha": [1.3, 5.0, -2.0]}
MODEL = "ogden-incompressible"
TARGET_S_PER_START, TARGET_SAME = 1.0, 1e-8


def _material():
    import materials

    return materials.get(MODEL, **START)


def time_fit(exps, label: str, jac: str, repeats: int, mode: str) -> dict:
    """``mode``: "compiled" (kernel built beforehand), "eager" (fast path off), "eager-2t" (fast
    path off and two threads on the small batches, as before)."""
    times, res = [], None
    serial = fp.SERIAL_BELOW
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            ctx = fast.disabled() if mode.startswith("eager") else _nullcontext()
            if mode == "eager-2t":
                fp.SERIAL_BELOW = 0
            try:
                with ctx:
                    t = time.perf_counter()
                    res = fit(MODEL, exps, start=START, jacobian=jac, stability=False)
                    times.append(time.perf_counter() - t)
            finally:
                fp.SERIAL_BELOW = serial
    return {"label": label, "jacobian": jac, "mode": mode, "wall_s_best": min(times),
            "wall_s_median": float(np.median(times)), "nfev": res.nfev, "njev": res.njev,
            "cost": res.cost, "success": res.success, "r2": res.r2, "x": res.x.tolist()}


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def best_of(fn, n=5) -> float:
    fn()
    out = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def jacobian_accuracy(exps, x) -> dict:
    pb = FitProblem(ParameterSpace(_material()), exps, compiled=True)
    pe = FitProblem(ParameterSpace(_material()), exps, compiled=False)
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
    out = {"n_residuals": J.shape[0], "n_parameters": J.shape[1],
           "compiled_vs_eager_max_rel": float((np.abs(pe.residual_jacobian(x) - J).max(0) / scale).max())}
    for name, central in (("forward", False), ("central", True)):
        Jfd = fd(central)
        out[f"{name}_fd_max_rel_error"] = float((np.abs(Jfd - J).max(0) / scale).max())
        out[f"{name}_fd_time_s"] = best_of(lambda c=central: fd(c))
    out["compiled_jacobian_time_s"] = best_of(lambda: pb.residual_jacobian(x))
    out["compiled_residual_time_s"] = best_of(lambda: pb.residuals(x))
    out["eager_jacobian_time_s"] = best_of(lambda: pe.residual_jacobian(x))
    out["eager_residual_time_s"] = best_of(lambda: pe.residuals(x))
    return out


_WARM = """
import sys, time, torch
sys.path.insert(0, {root!r})
import materials
from constitutive.calibration.fit_problem import FitKernel
mat = materials.get({model!r}, **{start!r})
t = time.perf_counter()
FitKernel.build(mat)
print(time.perf_counter() - t)
"""


def one_off() -> dict:
    """Kernel build: cold (empty cache directory) in this process, warm in a new process."""
    old = os.environ.get("CONSTITUTIVE_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CONSTITUTIVE_CACHE_DIR"] = tmp
        try:
            FitKernel._CACHE.clear()
            t = time.perf_counter()
            FitKernel.build(_material())
            cold = time.perf_counter() - t
            code = _WARM.format(root=str(ROOT), model=MODEL, start=START)
            r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                               env={**os.environ, "CONSTITUTIVE_CACHE_DIR": tmp})
            warm = float(r.stdout.split()[-1]) if r.returncode == 0 else None
        finally:
            if old is None:
                os.environ.pop("CONSTITUTIVE_CACHE_DIR", None)
            else:
                os.environ["CONSTITUTIVE_CACHE_DIR"] = old
            FitKernel._CACHE.clear()
    return {"cold_s": cold, "warm_new_process_s": warm}


def multi_start(exps, starts: int) -> dict:
    FitKernel._CACHE.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        t = time.perf_counter()
        res = fit(MODEL, exps, start=START, n_starts=starts, seed=0, stability=False)
        wall = time.perf_counter() - t
    return {"starts": starts, "wall_s": wall, "per_start_s": wall / starts, "nfev": res.nfev,
            "njev": res.njev, "cost": res.cost, "x": res.x.tolist(),
            "nfev_per_start": [r.get("nfev") for r in res.runs]}


def markdown(data) -> str:
    info = data["machine"]
    lines = [f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, torch {info['torch']}; load "
             f"average at start {[round(x, 2) for x in info['load_average']]}.", "",
             "| fit (one start, Treloar UT+ET+PS, 53 points) | jacobian | best s | median s | nfev | njev "
             "| cost | max rel. dx to eager |", "|---|---|---|---|---|---|---|---|"]
    for r in data["fits"]:
        lines.append(f"| {r['label']} | {r['jacobian']} | {r['wall_s_best']:.3f} | {r['wall_s_median']:.3f} | "
                     f"{r['nfev']} | {r['njev']} | {r['cost']:.10g} | {r['max_rel_dx_to_eager']:.1e} |")
    m, o, a = data["multi_start"], data["one_off"], data["jacobian_at_optimum"]
    lines += ["", f"Multi-start ({m['starts']} starts, default policy): {m['wall_s']:.2f} s, "
                  f"{m['per_start_s']:.3f} s per start, {m['nfev']} evaluations.",
              f"Kernel one-off: cold {o['cold_s']:.2f} s (trace, code generation, C compile), warm "
              f"{o['warm_new_process_s'] and round(o['warm_new_process_s'], 2)} s in a new process.",
              f"One Jacobian at the optimum: compiled {a['compiled_jacobian_time_s'] * 1e3:.1f} ms, eager "
              f"{a['eager_jacobian_time_s'] * 1e3:.1f} ms (residuals {a['compiled_residual_time_s'] * 1e3:.2f} / "
              f"{a['eager_residual_time_s'] * 1e3:.2f} ms); compiled vs eager Jacobian "
              f"{a['compiled_vs_eager_max_rel']:.1e}; forward FD error {a['forward_fd_max_rel_error']:.1e}, "
              f"central {a['central_fd_max_rel_error']:.1e}.", "",
              "| target (same run) | result | met |", "|---|---|---|"]
    t = data["targets"]
    lines.append(f"| Ogden-3 on Treloar, exact Jacobian: <= {TARGET_S_PER_START} s per start | "
                 f"{t['s_per_start']:.3f} s (compiled), {t['s_per_start_eager']:.3f} s (eager), "
                 f"{t['s_per_start_before']:.3f} s (eager, two threads, as before) | "
                 f"{'yes' if t['met_time'] else 'no'} |")
    lines.append(f"| same optimum to {TARGET_SAME:g} | max relative parameter difference "
                 f"{t['max_rel_dx']:.1e}, cost {t['max_rel_dcost']:.1e} | {'yes' if t['met_same'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="fitting benchmark (Ogden-3 on Treloar)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--starts", type=int, default=8)
    args = p.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    info = machine_info(torch.get_num_threads())
    exps = load_experiments(ROOT / "data" / "treloar.h5")
    print("one-off kernel cost ...", file=sys.stderr, flush=True)
    once = one_off()
    FitKernel.build(_material())
    rows = []
    for label, jac, mode in (("compiled", "autograd", "compiled"), ("eager", "autograd", "eager"),
                             ("eager, 2 threads (before)", "autograd", "eager-2t"),
                             ("compiled residuals", "2-point", "compiled"),
                             ("compiled residuals", "3-point", "compiled")):
        print(f"fitting: {label}, jacobian={jac} ...", file=sys.stderr, flush=True)
        rows.append(time_fit(exps, label, jac, args.repeats, mode))
    x_ref = np.array(rows[1]["x"])
    for r in rows:
        r["max_rel_dx_to_eager"] = float(np.max(np.abs(np.array(r["x"]) - x_ref) / np.abs(x_ref)))
        r["rel_dcost_to_eager"] = abs(r["cost"] - rows[1]["cost"]) / rows[1]["cost"]
    print("multi-start ...", file=sys.stderr, flush=True)
    ms = multi_start(exps, args.starts)
    FitKernel.build(_material())
    acc = jacobian_accuracy(exps, x_ref)
    exact = [r for r in rows if r["jacobian"] == "autograd"]
    targets = {"s_per_start": rows[0]["wall_s_best"], "s_per_start_eager": rows[1]["wall_s_best"],
               "s_per_start_before": rows[2]["wall_s_best"],
               "max_rel_dx": max(r["max_rel_dx_to_eager"] for r in exact),
               "max_rel_dcost": max(r["rel_dcost_to_eager"] for r in exact)}
    targets["met_time"] = targets["s_per_start"] <= TARGET_S_PER_START
    targets["met_same"] = targets["max_rel_dx"] <= TARGET_SAME and targets["max_rel_dcost"] <= TARGET_SAME
    data = {"benchmark": "fitting", "model": MODEL, "data": "data/treloar.h5 (UT, ET, PS; 53 points)",
            "start": START, "machine": info, "fits": rows, "multi_start": ms, "one_off": once,
            "jacobian_at_optimum": acc, "targets": targets,
            "load_average_end": list(os.getloadavg())}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "fitting.json"
    write_json(path, data)
    md = markdown(data)
    path.with_suffix(".md").write_text(md)
    print(md)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
