"""Material-point benchmark: stress + tangent throughput of the engine and of its peers.

Two paths, float64, N = 1e3 ... 1e6 points, ``torch.set_num_threads(--threads)``:

* Mandel path: Mandel stress (6) + 6x6 Mandel tangent from a strain (6), for neo-Hooke,
  Mooney-Rivlin, Ogden-3 and Holzapfel-Gasser-Ogden (those registered): engine fast path
  (preallocated outputs and allocating), engine eager autograd path,
  ``torch.func.vmap(torch.func.hessian(w))``, hand-written closed-form NumPy (neo-Hooke) and JAX
  ``jit(vmap(hessian))`` (neo-Hooke).
* FE path: ``P`` and ``A = dP/dF`` as full tensors from ``F`` (what felupe computes), neo-Hooke:
  engine fast and eager, felupe ``NeoHookeCompressible`` (hand-written, threaded), felupe
  ``Hyperelastic`` (tensortrax AD), tensortrax ``hessian``, matadi, JAX ``jit(vmap(hessian))``;
  Ogden-3: the engine's paths.
* Ogden-3 at coincident principal stretches (``E = 0`` and uniaxial states, which take the
  Taylor-series and pair-series branches of :mod:`constitutive.principal`): the fast path, on
  both paths, checked against the eager path at N = 1000 like every method.

The targets of the issue (Ogden-3 >= 10 Mpoints/s and >= 20 % of neo-Hooke at N = 1e6 on both
paths, in the same run) are evaluated from the rows and written as ``targets``.

Every peer is checked against the engine at N = 1000 (``max_rel_err`` in the JSON) before it
is timed, and each in its native layout (input conversion is not timed). Results go to
``benchmarks/results/material_point.json``; a table is printed. Peers are optional
(``pip install .[bench]``); missing ones are skipped.

Usage: ``python benchmarks/material_point.py [--sizes 1e3 1e4 1e5 1e6] [--threads 2] [--quick]``
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import RESULTS, best_time, format_table, machine_info, progress, write_json  # noqa: E402
from material_point_peers import FE_PEERS, MANDEL_PEERS  # noqa: E402

import materials  # noqa: E402
from constitutive import fast, mandel  # noqa: E402

MODELS = {
    "neo-hooke": {},
    "mooney-rivlin": {"c10": 0.4, "c01": 0.1, "K": 50.0},
    "ogden": {"mu": [0.63, 0.0012, -0.01], "alpha": [1.3, 5.0, -2.0], "K": 50.0},
    "holzapfel-gasser-ogden": {},
}
#: a method is not run at a larger N once one call took longer than this (seconds)
SLOW_CALL_S = 3.0


def random_strain(n: int, seed: int = 0) -> torch.Tensor:
    """Mandel Green-Lagrange strains of random deformation gradients near the identity."""
    g = torch.Generator().manual_seed(seed)
    F = torch.eye(3, dtype=torch.float64) + 0.15 * torch.randn(n, 3, 3, generator=g, dtype=torch.float64)
    from constitutive import kinematics

    return kinematics.strain_mandel_from_F(F).contiguous(), F.contiguous()


def special_states(n: int, kind: str, seed: int = 1):
    """Coincident principal stretches: ``E = 0`` (``"zero"``) or uniaxial ``diag(l, l^-1/2,
    l^-1/2)`` with ``l`` in [0.7, 1.5], randomly rotated (``"uniaxial"``); (strain, F)."""
    from constitutive import kinematics
    from constitutive.checks import random_rotations

    if kind == "zero":
        F = torch.eye(3, dtype=torch.float64).expand(n, 3, 3).contiguous()
    else:
        g = torch.Generator().manual_seed(seed)
        lam = 0.7 + 0.8 * torch.rand(n, generator=g, dtype=torch.float64)
        U = torch.diag_embed(torch.stack([lam, lam**-0.5, lam**-0.5], -1))
        Q = random_rotations(n, g)
        F = (Q @ U @ Q.transpose(-1, -2)).contiguous()
    return kinematics.strain_mandel_from_F(F).contiguous(), F


def make_material(name: str):
    try:
        return materials.get(name, **MODELS.get(name, {}))
    except (TypeError, ValueError):
        return materials.get(name)


def engine_methods(mat, path: str):
    """(label, setup(x) -> callable) of the engine for ``path`` ("mandel" or "fe")."""

    def fast_out(x):
        n = x.shape[0]
        if path == "mandel":
            out = (torch.empty(n, 6, dtype=x.dtype), torch.empty(n, 6, 6, dtype=x.dtype))
            return lambda: mat.stress_tangent_mandel(x, fast=True, out=out)
        out = (torch.empty(n, 3, 3, dtype=x.dtype), torch.empty(n, 3, 3, 3, 3, dtype=x.dtype))
        return lambda: mat.pk1_tangent(x, fast=True, out=out)

    def fast_alloc(x):
        f = mat.stress_tangent_mandel if path == "mandel" else mat.pk1_tangent
        return lambda: f(x, fast=True)

    def eager(x):
        f = mat.stress_tangent_mandel if path == "mandel" else mat.pk1_tangent
        return lambda: f(x, fast=False)

    def eager_1t(x):
        f = mat.stress_tangent_mandel if path == "mandel" else mat.pk1_tangent

        def run():
            n = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return f(x, fast=False)
            finally:
                torch.set_num_threads(n)

        return run

    # eager autograd launches ~10^3 small parallel kernels per call; on a loaded machine the
    # threaded version can be several times slower than one thread, so both are measured
    return [("engine fast (out=)", fast_out), ("engine fast (alloc)", fast_alloc), ("engine eager", eager),
            ("engine eager (1 thread)", eager_1t)]


def vmap_hessian(mat):
    """``torch.func.vmap(torch.func.hessian(w))`` (+ vmap(grad)) on the Mandel energy."""
    from torch.func import grad, hessian, vmap

    def w(e):
        return mat.energy(mandel.from_mandel(e[None]))[0]

    h, g = vmap(hessian(w)), vmap(grad(w))

    def setup(x):
        return lambda: (g(x), h(x))

    return setup


def reference(mat, path: str, x):
    with torch.no_grad():
        if path == "mandel":
            return [t.numpy() for t in mat.stress_tangent_mandel(x, fast=False)]
        return [t.numpy() for t in mat.pk1_tangent(x, fast=False)]


def rel_err(got, ref) -> float:
    return max(float(np.max(np.abs(np.asarray(a) - b)) / max(np.max(np.abs(b)), 1e-300))
               for a, b in zip(got, ref, strict=True))


def run_method(label, setup, x, sizes, model, path, check, rows):
    """Time ``setup(x[:n])()`` for each n; ``check(n_small_result)`` -> max rel err."""
    err = None
    try:
        err = check(setup)
    except Exception as exc:  # a peer that fails is reported, not fatal
        progress(f"  {label}: skipped ({type(exc).__name__}: {exc})")
        return
    for n in sizes:
        try:
            fn = setup(n)
            t = best_time(fn, min_total=0.3, max_repeats=10)
        except Exception as exc:
            progress(f"  {label} N={n}: failed ({type(exc).__name__}: {exc})")
            return
        rows.append({"model": model, "path": path, "method": label, "n": n, "seconds": t,
                     "mpts": n / t / 1e6, "max_rel_err": err})
        progress(f"  {model:24s} {path:6s} {label:34s} N={n:>8d}  {n / t / 1e6:9.3f} Mpts/s")
        if t > SLOW_CALL_S:
            break


def bench_model(name, sizes, rows):
    mat = make_material(name)
    nmax = max(sizes)
    e_all, F_all = random_strain(max(nmax, 1000))
    for path in ("mandel", "fe"):
        if path == "fe" and name not in ("neo-hooke", "ogden"):
            continue
        xall = e_all if path == "mandel" else F_all
        ref = reference(mat, path, xall[:1000])
        methods = [(lbl, (lambda n, s=s, xall=xall: s(xall[:n])), _as_numpy)
                   for lbl, s in engine_methods(mat, path)]
        if path == "mandel":
            vh = vmap_hessian(mat)
            methods.append(("torch.func vmap(hessian)", lambda n, vh=vh, xall=xall: vh(xall[:n]), _as_numpy))
        for peer in MANDEL_PEERS if path == "mandel" else FE_PEERS:
            if name in peer.models:
                methods.append((peer.label, (lambda n, p=peer, xall=xall: p.setup(mat, xall[:n])), peer.convert))
        for label, setup, convert in methods:
            def check(setup=setup, convert=convert, ref=ref):
                return rel_err(convert(setup(1000)()), ref)
            run_method(label, setup, xall, sizes, name, path, check, rows)
        if name == "ogden":
            for state in ("uniaxial", "zero"):
                e_s, F_s = special_states(max(nmax, 1000), state)
                xs = e_s if path == "mandel" else F_s
                ref_s = reference(mat, path, xs[:1000])
                fast_out = engine_methods(mat, path)[0][1]

                def check(_setup, fast_out=fast_out, xs=xs, ref_s=ref_s):
                    return rel_err(_as_numpy(fast_out(xs[:1000])()), ref_s)
                run_method(f"engine fast (out=), {state} states", lambda n, f=fast_out, xs=xs: f(xs[:n]),
                           xs, [nmax], name, path, check, rows)


def _as_numpy(res):
    out = []
    for r in res:
        out.append(r.detach().cpu().numpy() if isinstance(r, torch.Tensor) else np.asarray(r))
    return out


def one_off_costs(names) -> list[dict]:
    """Trace + compile seconds per model and path, cold (empty disk cache) and warm (cached)."""
    res = []
    old = os.environ.get("CONSTITUTIVE_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CONSTITUTIVE_CACHE_DIR"] = tmp
        try:
            for name in names:
                mat = make_material(name)
                for kind in ("mandel", "pk1"):
                    row = {"model": name, "kind": kind}
                    for label in ("cold", "warm"):
                        fast.clear_cache()
                        t = time.perf_counter()
                        try:
                            fast.kernel_for(mat, kind, torch.device("cpu"))
                        except fast.FastPathUnavailable as exc:
                            row["error"] = str(exc)
                            break
                        row[f"{label}_s"] = time.perf_counter() - t
                    row.update({k: v for k, v in (fast.info() or [{}])[-1].items()
                                if k in ("backend", "ops", "trace_s", "compile_s")})
                    res.append(row)
        finally:
            if old is None:
                os.environ.pop("CONSTITUTIVE_CACHE_DIR", None)
            else:
                os.environ["CONSTITUTIVE_CACHE_DIR"] = old
            fast.clear_cache()
    return res


_MEMORY_SCRIPT = """
import resource, sys, time, torch
sys.path.insert(0, {root!r})
import materials
torch.set_num_threads({threads})
mat = materials.get("neo-hooke")
n = {n}
mat.stress_tangent_mandel(torch.zeros(64, 6, dtype=torch.float64), fast=True)  # kernel built first
e = 0.02 * torch.randn(n, 6, dtype=torch.float64)
out = (torch.empty(n, 6, dtype=torch.float64), torch.empty(n, 6, 6, dtype=torch.float64))
out[0].fill_(0.0); out[1].fill_(0.0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
mat.stress_tangent_mandel(e, out=out)
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, dt, (peak - base) * 1024, (out[0].numel() + out[1].numel()) * 8)
"""


def memory_check(n: int, threads: int) -> dict:
    """Peak resident memory added by one fast-path call on ``n`` points with preallocated outputs
    (subprocess, ``ru_maxrss`` before and after; inputs and outputs allocated and touched before)."""
    import subprocess

    root = str(Path(__file__).resolve().parents[1])
    code = _MEMORY_SCRIPT.format(root=root, threads=threads, n=n)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        return {"n": n, "error": r.stderr[-500:]}
    n_, dt, extra, outb = r.stdout.split()
    res = {"n": int(n_), "seconds": float(dt), "mpts": int(n_) / float(dt) / 1e6,
           "extra_peak_bytes": int(extra), "output_bytes": int(outb)}
    progress(f"  memory: N={n:.0e}: {res['mpts']:.1f} Mpts/s, peak beyond inputs and outputs "
             f"{res['extra_peak_bytes'] / 2**20:.1f} MiB (outputs {res['output_bytes'] / 2**30:.2f} GiB)")
    return res


def bench_gpu(sizes) -> list[dict]:
    """Neo-Hooke on CUDA (fast and eager) where a GPU is present."""
    rows = []
    if not torch.cuda.is_available():
        return rows
    dev = torch.device("cuda")
    mat = materials.get("neo-hooke", device=dev)
    for n in sizes:
        e = random_strain(n)[0].to(dev)
        for label, fn in (("engine fast (alloc)", lambda e=e: mat.stress_tangent_mandel(e, fast=True)),
                          ("engine eager", lambda e=e: mat.stress_tangent_mandel(e, fast=False))):
            def timed(fn=fn):
                fn()
                torch.cuda.synchronize()
            t = best_time(timed, min_total=0.3, max_repeats=10)
            rows.append({"model": "neo-hooke", "path": "mandel", "method": label, "n": n,
                         "seconds": t, "mpts": n / t / 1e6, "device": torch.cuda.get_device_name(0)})
            progress(f"  GPU {label:22s} N={n:>9d} {n / t / 1e6:10.1f} Mpts/s")
    return rows


BASES = {"mandel": "numpy closed form", "fe": "felupe NeoHookeCompressible (threads)"}


def summarize(rows, sizes):
    """One line per (model, path, method): Mpts/s per N; at the largest N the ratios to the
    hand-written base of the same model and path (NumPy closed form, felupe) and to the
    engine's eager path."""
    nmax = max(sizes)
    keyed = {}
    for r in rows:
        keyed.setdefault((r["model"], r["path"], r["method"]), {})[r["n"]] = r["mpts"]
    lines = []
    for (model, path, method), v in keyed.items():
        line = {"model": model, "path": path, "method": method}
        for n in sizes:
            line[f"n{n}"] = v.get(n)
        base = keyed.get((model, path, BASES[path]), {}).get(nmax)
        eagers = [keyed.get((model, path, m), {}).get(nmax) for m in ("engine eager", "engine eager (1 thread)")]
        eager = max((e for e in eagers if e), default=None)  # the faster eager variant
        line["ratio"] = v[nmax] / base if (base and v.get(nmax)) else None
        line["ratio_eager"] = v[nmax] / eager if (eager and v.get(nmax)) else None
        lines.append(line)
    return lines


def paired(n: int, rounds: int = 7) -> dict:
    """Ogden-3 and neo-Hooke fast paths (``out=``) at ``n`` points, timed alternately: on a
    shared machine the two see the same competing load, so their ratio is fair; best of
    ``rounds`` for each. Returns ``{(model, path): Mpoints/s}``."""
    e_all, F_all = random_strain(n)
    fns = {}
    for name in ("neo-hooke", "ogden"):
        mat = make_material(name)
        for path, x in (("mandel", e_all), ("fe", F_all)):
            fns[(name, path)] = engine_methods(mat, path)[0][1](x)
    best = {k: float("inf") for k in fns}
    for f in fns.values():
        f()
    for _ in range(rounds):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            best[k] = min(best[k], time.perf_counter() - t)
    return {k: n / t / 1e6 for k, t in best.items()}


def targets(rows, sizes, pairs: dict | None = None) -> list[dict]:
    """Ogden-3 against its targets at the largest N: from the alternating timing (``pairs``,
    :func:`paired`) where given, else from the rows of the same run."""
    nmax = max(sizes)
    get = {(r["model"], r["path"], r["method"]): r["mpts"] for r in rows if r["n"] == nmax}
    out = []
    for path in ("mandel", "fe"):
        og = get.get(("ogden", path, "engine fast (out=)"))
        nh = get.get(("neo-hooke", path, "engine fast (out=)"))
        if pairs:
            og, nh = pairs.get(("ogden", path), og), pairs.get(("neo-hooke", path), nh)
        if og is None or nh is None:
            continue
        out.append({"path": path, "n": nmax, "ogden_mpts": og, "neo_hooke_mpts": nh, "ratio": og / nh,
                    "alternating": bool(pairs),
                    "target_mpts": 10.0, "target_ratio": 0.2, "met": og >= 10.0 and og / nh >= 0.2,
                    "uniaxial_mpts": get.get(("ogden", path, "engine fast (out=), uniaxial states")),
                    "zero_mpts": get.get(("ogden", path, "engine fast (out=), zero states"))})
    return out


def markdown(data) -> str:
    """The summary as a Markdown table (machine, Mpts/s per N, ratio at the largest N)."""
    info, sizes = data["machine"], data["sizes"]
    head = ["model", "path", "method", *[f"N={n:.0e}" for n in sizes], f"x base @{max(sizes):.0e}",
            f"x eager @{max(sizes):.0e}"]
    lines = [f"Machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, {info['threads']} threads, "
             f"torch {info['torch']}, {info.get('cc')}; load average at start {info['load_average']}.",
             "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in data["summary"]:
        cells = [r["model"], r["path"], r["method"]]
        cells += ["-" if r.get(f"n{n}") is None else f"{r[f'n{n}']:.3g}" for n in sizes]
        cells += ["-" if r.get(k) is None else f"{r[k]:.1f}" for k in ("ratio", "ratio_eager")]
        lines.append("| " + " | ".join(cells) + " |")
    if data.get("targets"):
        lines += ["", "Targets: Ogden-3 and neo-Hooke timed alternately, best of 7 each (both see the "
                  "same competing load); uniaxial and E = 0 states from the table above.", "",
                  "| Ogden-3 target (same run) | Ogden-3 | neo-Hooke | ratio | target | met | uniaxial states | E = 0 |",
                  "|---|---|---|---|---|---|---|---|"]
        def fmt(v):
            return "-" if v is None else f"{v:.3g}"

        for t in data["targets"]:
            lines.append(f"| {t['path']} path, N={t['n']:.0e}, Mpoints/s | {t['ogden_mpts']:.3g} | "
                         f"{t['neo_hooke_mpts']:.3g} | {t['ratio']:.2f} | >= 10 and >= 0.20 | "
                         f"{'yes' if t['met'] else 'no'} | {fmt(t['uniaxial_mpts'])} | {fmt(t['zero_mpts'])} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1e3, 1e4, 1e5, 1e6])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--quick", action="store_true", help="sizes 1e3 1e4 only")
    ap.add_argument("--output", default=None,
                    help="JSON path (default results/material_point.json; with --quick "
                         "results/material_point_quick.json)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    sizes = [1000, 10000] if args.quick else [int(s) for s in args.sizes]
    if args.output is None:
        args.output = str(RESULTS / ("material_point_quick.json" if args.quick else "material_point.json"))
    names = [m for m in args.models if m in materials.available()]
    missing = sorted(set(args.models) - set(names))
    info = machine_info(args.threads)
    progress(f"machine: {info['cpu']}, {info['logical_cpus']} logical CPUs, threads={args.threads}, "
             f"load average {info['load_average']}")
    if missing:
        progress(f"models not registered (skipped): {missing}")
    costs = one_off_costs(names)
    rows = []
    for name in names:
        bench_model(name, sizes, rows)
    gpu = bench_gpu([10**6, 10**7])
    memory = memory_check(10**5 if args.quick else 10**7, args.threads)
    lines = summarize(rows, sizes)
    pairs = None
    if {"neo-hooke", "ogden"} <= set(names):
        progress("Ogden-3 and neo-Hooke timed alternately (targets) ...")
        pairs = paired(max(sizes))
    data = {"machine": info, "sizes": sizes, "rows": rows, "summary": lines, "one_off": costs,
            "targets": targets(rows, sizes, pairs),
            "gpu": gpu, "memory": memory, "missing_models": missing,
            "load_average_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
    write_json(Path(args.output), data)
    md = Path(args.output).with_suffix(".md")
    tmp = md.with_suffix(".md.tmp")
    tmp.write_text(markdown(data))
    os.replace(tmp, md)
    cols = [("model", "model", ""), ("path", "path", ""), ("method", "method", "")]
    cols += [(f"n{n}", f"N={n:.0e}", "{:.3f}") for n in sizes]
    cols += [("ratio", f"x base @{max(sizes):.0e}", "{:.1f}"),
             ("ratio_eager", f"x eager @{max(sizes):.0e}", "{:.1f}")]
    print(f"\nMachine: {info['cpu']} ({info['logical_cpus']} logical CPUs), torch {info['torch']}, "
          f"{args.threads} threads, float64; load average at start {info['load_average']}")
    print("Mpoints/s (higher is better); base = hand-written NumPy (mandel) / felupe "
          "NeoHookeCompressible threaded (fe)\n")
    print(format_table(lines, cols))
    print("\nOne-off cost (s): " + ", ".join(
        f"{c['model']}/{c['kind']}: cold {c.get('cold_s', math.nan):.2f}, warm {c.get('warm_s', math.nan):.2f}"
        for c in costs))
    if "extra_peak_bytes" in memory:
        print(f"\nMemory: N={memory['n']:.0e} with preallocated outputs: {memory['mpts']:.1f} Mpts/s, "
              f"peak memory beyond inputs and outputs {memory['extra_peak_bytes'] / 2**20:.1f} MiB")
    for t in data["targets"]:
        print(f"\nOgden-3 {t['path']} path N={t['n']:.0e}: {t['ogden_mpts']:.2f} Mpoints/s, "
              f"{t['ratio']:.2f} x neo-Hooke ({t['neo_hooke_mpts']:.2f}); target >= 10 and >= 0.20: "
              f"{'met' if t['met'] else 'NOT met'}")
    if gpu:
        print("\nGPU: " + ", ".join(f"{r['method']} N={r['n']:.0e}: {r['mpts']:.0f} Mpts/s" for r in gpu))
    print(f"\nwritten {args.output}")


if __name__ == "__main__":
    main()
