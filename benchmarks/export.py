"""Benchmark of the tangent export: ``export_tangents`` end to end, to HDF5 and ``.npz``.

    python benchmarks/export.py [--n 1000000] [--repeats 5] [--quick]

For each file layout (stress measure, tangent kind, notation) and model (neo-Hooke, Ogden-3):

* **export**: ``export_tangents(path, material, F)`` on N deformation gradients, end to end
  (validation, the compiled chain F -> file layout, chunks streamed to the file); best of
  ``--repeats``, alternating with the two rows below so that all see the same machine load;
* **I/O ceiling** (the peer in the same run): h5py writing ready arrays of the same shapes
  (``create_dataset(data=...)``), i.e. what any exporter pays for the bytes alone;
* **evaluation only**: the compiled evaluator into preallocated arrays (no file);
* **eager** (the export as it was before the compiled route, ``constitutive.fast.disabled()``):
  the engine's Mandel stress and tangent and the tensor conversions, at N/10 points;
* the one-off cost: first export of a layout in the process (trace and, on a cold disk cache,
  C compile);
* **strains in** (``kind="E"``, rows "E in: ..."): Mandel and Abaqus layouts, end to end and
  eager (``F = U`` from torch's eigh) at N/10.

Writes benchmarks/results/export.json and .md and prints the table. Files go to a temporary
directory (``--dir``) and are removed after each timing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import RESULTS, format_table, machine_info, progress, write_json  # noqa: E402

import materials  # noqa: E402
from constitutive import fast  # noqa: E402
from constitutive.interfaces.export import export_tangents  # noqa: E402
from constitutive.interfaces.export_eval import compiled_evaluator, output_shapes  # noqa: E402

LAYOUTS = [("pk2", "dS/dE", "mandel"), ("pk2", "dS/dE", "voigt"), ("cauchy", "spatial", "mandel"),
           ("cauchy", "abaqus", "abaqus"), ("pk2", "dS/dE", "tensor"), ("pk1", "dP/dF", "tensor")]
MODELS = {"neo-hooke": {"mu": 1.0, "lmbda": 10.0}, "ogden": {}}
TARGET_MPTS = 5.0


def deformations(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    F = torch.eye(3, dtype=torch.float64) + 0.1 * torch.randn(n, 3, 3, generator=g, dtype=torch.float64)
    F[:, :, 0] *= torch.sign(torch.linalg.det(F))[:, None]
    return F


def timed(fn, path: Path | None = None) -> float:
    t = time.perf_counter()
    fn()
    dt = time.perf_counter() - t
    if path is not None and path.exists():
        path.unlink()
    return dt


def measure(mat, F: torch.Tensor, layout, directory: Path, repeats: int) -> dict:
    stress, tangent, notation = layout
    n = F.shape[0]
    kw = {"stress": stress, "tangent": tangent, "notation": notation}
    h5, npz = directory / "out.h5", directory / "out.npz"
    t0 = time.perf_counter()
    export_tangents(h5, mat, F[: 2 * fast.MIN_POINTS], **kw)
    one_off = time.perf_counter() - t0
    h5.unlink()
    shapes = output_shapes(notation)
    rng = np.random.default_rng(1)
    arrays = {"F": F.numpy(), "energy": rng.random(n), "stress": rng.random((n, *shapes[1])),
              "tangent": rng.random((n, *shapes[2]))}
    nbytes = sum(a.nbytes for a in arrays.values())
    run = compiled_evaluator(mat, stress, tangent, notation)
    outs = [np.empty((n, *s)) for s in shapes]

    def raw():
        with h5py.File(h5, "w-") as f:
            for k, v in arrays.items():
                f.create_dataset(k, data=v)

    best = {"export": np.inf, "raw": np.inf, "eval": np.inf, "npz": np.inf}
    for _ in range(repeats):
        best["export"] = min(best["export"], timed(lambda: export_tangents(h5, mat, F, **kw), h5))
        best["raw"] = min(best["raw"], timed(raw, h5))
        best["eval"] = min(best["eval"], timed(lambda: run(F.numpy(), outs)))
    for _ in range(max(1, repeats // 2)):
        best["npz"] = min(best["npz"], timed(lambda: export_tangents(npz, mat, F, **kw), npz))
    m = max(fast.MIN_POINTS, n // 10)
    with fast.disabled():
        eager = timed(lambda: export_tangents(h5, mat, F[:m], **kw), h5)
    return {"stress": stress, "tangent": tangent, "notation": notation, "n": n, "bytes_per_point": nbytes / n,
            "export_s": best["export"], "export_mpts": n / best["export"] / 1e6,
            "npz_mpts": n / best["npz"] / 1e6, "raw_h5_mpts": n / best["raw"] / 1e6,
            "raw_h5_gb_s": nbytes / best["raw"] / 1e9, "eval_mpts": n / best["eval"] / 1e6,
            "eager_mpts": m / eager / 1e6, "eager_n": m, "one_off_s": one_off,
            "ratio_to_ceiling": best["raw"] / best["export"], "speedup_vs_eager": (n / best["export"]) / (m / eager),
            "met": n / best["export"] / 1e6 >= TARGET_MPTS}


def measure_strain(mat, F: torch.Tensor, layout, directory: Path, repeats: int) -> dict:
    """``kind="E"``: Mandel Green-Lagrange strains in, ``F = U`` computed by the export (in the
    kernel on the compiled route, by torch's eigh on the eager one at N/10 points)."""
    from constitutive import kinematics

    stress, tangent, notation = layout
    kw = {"kind": "E", "stress": stress, "tangent": tangent, "notation": notation}
    e = kinematics.strain_mandel_from_F(F).numpy()
    n, h5 = e.shape[0], directory / "out.h5"
    export_tangents(h5, mat, e[: 2 * fast.MIN_POINTS], **kw)
    h5.unlink()
    best = min(timed(lambda: export_tangents(h5, mat, e, **kw), h5) for _ in range(repeats))
    m = max(fast.MIN_POINTS, n // 10)
    with fast.disabled():
        eager = timed(lambda: export_tangents(h5, mat, e[:m], **kw), h5)
    return {"stress": stress, "tangent": tangent, "notation": notation, "n": n, "input": "E",
            "export_s": best, "export_mpts": n / best / 1e6, "eager_mpts": m / eager / 1e6, "eager_n": m,
            "speedup_vs_eager": (n / best) / (m / eager)}


COLUMNS = [("model", "model", ""), ("layout", "stress / tangent / notation", ""), ("bytes_per_point", "B/pt", "{:.0f}"),
           ("export_mpts", "export h5", "{:.2f}"), ("raw_h5_mpts", "h5py ceiling", "{:.2f}"),
           ("ratio_to_ceiling", "of ceiling", "{:.2f}"), ("npz_mpts", "export npz", "{:.2f}"),
           ("eval_mpts", "eval only", "{:.1f}"), ("eager_mpts", "eager (before)", "{:.3f}"),
           ("speedup_vs_eager", "x eager", "{:.0f}"), ("one_off_s", "first call s", "{:.2f}"),
           ("met", ">= 5", "")]


def markdown(data: dict) -> str:
    m = data["machine"]
    lines = [f"Machine: {m['cpu']}, {m['logical_cpus']} logical CPUs, torch {m['torch']}; load average at "
             f"start {m['load_average']}, at end {data['load_average_end']}. N = {data['n']:.0e} points, "
             "Mpoints/s, best of the alternating repeats.", "",
             "| " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in data["rows"]:
        cells = []
        for k, _, fmt in COLUMNS:
            v = r.get(k)
            cells.append("-" if v is None else "yes" if v is True else "no" if v is False
                         else (fmt.format(v) if fmt else str(v)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=float, default=1e6)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="N = 1e5, 2 repeats, neo-Hooke only")
    ap.add_argument("--dir", default=None, help="where the files are written (default: a temporary directory)")
    ap.add_argument("--output", default=str(RESULTS / "export.json"))
    args = ap.parse_args(argv)
    n, repeats = (10**5, 2) if args.quick else (int(args.n), args.repeats)
    models = ["neo-hooke"] if args.quick else list(MODELS)
    info = machine_info(torch.get_num_threads())
    F = deformations(n)
    directory = Path(tempfile.mkdtemp(prefix="constitutive-export-bench-", dir=args.dir))
    rows = []
    try:
        for name in models:
            mat = materials.get(name, **MODELS[name])
            for layout in LAYOUTS if name == "neo-hooke" else LAYOUTS[::3]:
                progress(f"{name}: {' / '.join(layout)} ...")
                r = measure(mat, F, layout, directory, repeats)
                rows.append({"model": name, "layout": " / ".join(layout), **r})
            for layout in LAYOUTS[::3]:  # strains in (kind="E"): the Mandel and Abaqus layouts
                progress(f"{name}: strains in, {' / '.join(layout)} ...")
                r = measure_strain(mat, F, layout, directory, repeats)
                rows.append({"model": name, "layout": "E in: " + " / ".join(layout), **r})
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    data = {"machine": info, "n": n, "repeats": repeats, "rows": rows, "target_mpts": TARGET_MPTS,
            "load_average_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
    out = Path(args.output)
    write_json(out, data)
    out.with_suffix(".md").write_text(markdown(data))
    print(format_table(rows, COLUMNS))
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
