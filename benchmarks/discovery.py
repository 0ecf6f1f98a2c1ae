"""Benchmark and report of automated model discovery (docs/discovery.md).

    python benchmarks/discovery.py [--sections treloar,splits,cann,recovery,budday,compile]
                                   [--seeds 50] [--icnn-starts 2]

Sections (each writes its part of benchmarks/results/discovery.json; the recovery study writes
benchmarks/results/discovery_recovery.json; figures go to docs/figures/discovery_*.png):

* ``treloar``: all three Treloar (1944) modes (data/treloar.h5), rubber library, at most 3 terms,
  BIC: R^2 per mode, wall and CPU time of ``discover`` (best of 3) and of the whole CLI call,
  the path figure, the fit figure with the ICNN baseline;
* ``splits``: every train/test split (one mode, two modes, all) with the sparse discovery (BIC),
  a plain least-squares fit of CANN's eight-term network and the ICNN, unclamped R^2, beside
  CANN's published numbers;
* ``cann``: the same splits (sparse only) on CANN's own digitisation of Treloar's data
  (/work/shared/reference-data/treloar1944_*_cann.csv, if present);
* ``cv``: the multi-mode splits with the number of terms chosen by leave-one-mode-out
  cross-validation instead of BIC;
* ``recovery``: 50 noise seeds (1 % relative noise) of Mooney-Rivlin plus one exponential term;
* ``budday``: Budday et al. (2017) brain tissue, per region, tissue library;
* ``compile``: the Treloar model through ``compile_material`` and the torch-free loader.

Every discovered model is run through ``constitutive.checks.run_all_checks`` and the Drucker check.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import machine_info  # noqa: E402

import materials  # noqa: E402
from constitutive.calibration import load_experiments  # noqa: E402
from constitutive.calibration.discovery import discover  # noqa: E402
from constitutive.calibration.discovery.fixed import fit_terms  # noqa: E402
from constitutive.calibration.discovery.icnn import fit_icnn  # noqa: E402
from constitutive.calibration.discovery.plotting import new_figure, plot_fit_grid, save_png  # noqa: E402
from constitutive.calibration.discovery.synthetic import synthetic_experiments  # noqa: E402
from constitutive.checks import run_all_checks  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
FIGURES = ROOT / "docs" / "figures"
REFERENCE = Path(os.environ.get("CONSTITUTIVE_REFERENCE_DATA", "/work/shared/reference-data"))
MODES = ("uniaxial", "equibiaxial", "pure_shear")
SHORT = {"uniaxial": "UT", "equibiaxial": "ET", "pure_shear": "PS"}
#: CANN's results files (their code, their digitisation; R^2 clamped at 0 by their r2_score_own)
CANN_PUBLISHED = {
    "source": "github LivingMatterLab/CANN @6d4d273, RUBBER/Results/Rubber_CANN/all/<UT|ET|PS|All>/"
              "Config_file.txt: the results of the code of Linka & Kuhl (2023), CMAME 403:115731; "
              "R^2 clamped at 0 (r2_score_own in RUBBER/Rubber_CANN.py), NaN where the prediction failed",
    "uniaxial": {"uniaxial": 0.998809801251681, "equibiaxial": math.nan, "pure_shear": 0.0},
    "equibiaxial": {"uniaxial": 0.6847618891277676, "equibiaxial": 0.9987538038159166,
                    "pure_shear": 0.7641519956768084},
    "pure_shear": {"uniaxial": 0.0, "equibiaxial": 0.0, "pure_shear": 0.9962944542244071},
    "all": {"uniaxial": 0.9986209598798151, "equibiaxial": 0.9825754865622983, "pure_shear": 0.9960291150075768},
}
SPLITS = ("uniaxial", "equibiaxial", "pure_shear", "uniaxial,equibiaxial", "uniaxial,pure_shear",
          "equibiaxial,pure_shear", "all")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def checks(result) -> dict:
    """Verifiers (FD stress/tangent, symmetry, reference, objectivity, small strain) and Drucker."""
    res = run_all_checks(result.material)
    return {"checks_passed": all(r.passed for r in res), "failed": [r.name for r in res if not r.passed],
            "drucker_stable": result.stable}


def summary(result) -> dict:
    best = result.best
    return {"train": result.train, "test": result.test, "terms": best.labels, "w": best.w, "b": best.b,
            "std_errors": best.std_errors, "k": best.k, "r2": result.r2, "wall_time": result.wall_time,
            "path": [{"k": p.k, "terms": p.labels, "r2": p.r2, "criteria": p.criteria} for p in result.path],
            "lp_path": [{"n_terms": e["n_terms"], "terms": e["terms"], "r2": e["r2"]} for e in result.lp_path],
            "material": result.material_spec(), **checks(result)}


def _train(split: str):
    return None if split == "all" else split


def section_treloar(out: dict, icnn_starts: int) -> None:
    exps = load_experiments(ROOT / "data" / "treloar.h5")
    walls, cpus, res = [], [], None
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        res = discover(exps, max_terms=3)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    exe = Path(sys.executable).with_name("constitutive")
    cli_wall = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(3):  # a fresh process each time: imports, warm-up, discovery, output
            t = time.perf_counter()
            cli = subprocess.run([str(exe), "discover", str(ROOT / "data" / "treloar.h5"), "-o",
                                  os.path.join(tmp, "disc.json"), "--quiet"], capture_output=True, text=True, cwd=ROOT)
            cli_wall.append(time.perf_counter() - t)
    res.save_json(RESULTS / "discovery_treloar_fit.json")
    res.plot_path(FIGURES / "discovery_treloar_path.png")
    log(f"treloar: {res.best.labels} R2 {res.r2}; discover best {min(walls):.2f} s wall, {min(cpus):.2f} s CPU")
    icnn = fit_icnn(exps, layers="4,4", n_starts=icnn_starts, max_nfev=150)
    cann = fit_terms(exps, "cann")
    plot_fit_grid([(res, e, {"ICNN (4,4)": icnn.material, "CANN 8 terms (LSQ)": cann.material}) for e in exps],
                  FIGURES / "discovery_treloar_fit.png",
                  title="Treloar (1944), all modes trained: discovered model (solid), ICNN and CANN-8 (dashed)")
    out["treloar_all"] = {**summary(res), "discover_wall_s": walls, "discover_cpu_s": cpus,
                          "cli_wall_s": cli_wall, "cli_ok": cli.returncode == 0,
                          "cli_stdout": cli.stdout.splitlines()[:12],
                          "icnn": {"r2": icnn.r2, "wall_time": icnn.wall_time, **checks(icnn)},
                          "cann8": {"r2": cann.r2, "terms": cann.best.labels, "w": cann.best.w}}


def section_splits(out: dict, icnn_starts: int, experiments=None, key: str = "splits", icnn: bool = True) -> None:
    exps = experiments or load_experiments(ROOT / "data" / "treloar.h5")
    rows = {}
    for split in SPLITS:
        sparse = discover(exps, max_terms=3, train=_train(split))
        row = {"sparse": summary(sparse)}
        if split == "equibiaxial" and key == "splits":
            sparse.plot_path(FIGURES / "discovery_treloar_ET_path.png")
        if icnn:
            cann = fit_terms(exps, "cann", train=_train(split))
            net = fit_icnn(exps, layers="4,4", train=_train(split), n_starts=icnn_starts, max_nfev=150)
            row["cann8_lsq"] = {"r2": cann.r2, "terms": cann.best.labels, "w": cann.best.w,
                                "active": cann.extra["active_terms"]}
            row["icnn"] = {"r2": net.r2, "wall_time": net.wall_time, **checks(net)}
            if split == "equibiaxial" and key == "splits":
                plot_fit_grid([(sparse, e, {"ICNN (4,4)": net.material, "CANN 8 terms (LSQ)": cann.material})
                               for e in exps], FIGURES / "discovery_treloar_ET_fit.png",
                              title="trained on equibiaxial tension only: predictions of uniaxial tension and "
                                    "pure shear")
        if split == "equibiaxial" and key == "splits":
            pair = discover(exps, max_terms=3, train=_train(split), ogden_pair=True)
            row["sparse_ogden_pair"] = summary(pair)
        rows[split] = row
        log(f"{key} {split}: sparse {sparse.best.labels} R2 {fmt(sparse.r2)}"
            + (f"; CANN8 {fmt(row['cann8_lsq']['r2'])}; ICNN {fmt(row['icnn']['r2'])}" if icnn else ""))
    out[key] = rows


def section_cv(out: dict) -> None:
    """Choice of the number of terms by leave-one-mode-out cross-validation instead of BIC."""
    exps = load_experiments(ROOT / "data" / "treloar.h5")
    rows = {}
    for split in ("uniaxial,equibiaxial", "uniaxial,pure_shear", "equibiaxial,pure_shear", "all"):
        res = discover(exps, max_terms=3, train=_train(split), criterion="cv")
        rows[split] = {**summary(res), "cv_heldout": res.best.cv_heldout}
        log(f"cv {split}: {res.best.labels} R2 {fmt(res.r2)} held-out {fmt(res.best.cv_heldout)}")
    out["splits_cv"] = rows


def fmt(r2: dict) -> str:
    return " ".join(f"{SHORT.get(k, k)} {v:.4f}" for k, v in r2.items())


def section_cann_data(out: dict) -> None:
    from constitutive.calibration.csvio import experiment_from_csv

    files = {m: REFERENCE / f"treloar1944_{SHORT[m]}_cann.csv" for m in MODES}
    if not all(p.exists() for p in files.values()):
        log(f"cann: reference files not found under {REFERENCE}; skipped")
        return
    exps = [experiment_from_csv(files[m], m, "nominal", "MPa", name=m, columns=[0, 2]) for m in MODES]
    section_splits(out, 0, exps, key="splits_cann_digitisation", icnn=False)


def section_recovery(seeds: int) -> dict:
    base = load_experiments(ROOT / "data" / "treloar.h5")
    truth_kw = dict(terms="I1:lin+I2:lin+I1:exp", w=[0.15, 0.02, 0.01], b=[1.0, 1.0, 0.05])
    truth = materials.get("discovered-incompressible", **truth_kw)
    true = {"I1:lin": (0.15, None), "I2:lin": (0.02, None), "I1:exp": (0.01, 0.05)}
    runs = []
    for seed in range(seeds):
        exps = synthetic_experiments(truth, base, noise=0.01, seed=seed)
        t = time.perf_counter()
        res = discover(exps, max_terms=4, residual="relative", lp=None)
        best = res.best
        ok = sorted(best.terms) == sorted(true)
        z = {}
        if ok:
            for i, term in enumerate(best.terms):
                w0, b0 = true[term]
                z[f"w {term}"] = (best.w[i] - w0) / best.std_errors[f"w[{i}]"]
                if b0 is not None:
                    z[f"b {term}"] = (best.b[i] - b0) / best.std_errors[f"b[{i}]"]
        runs.append({"seed": seed, "recovered": ok, "terms": best.labels, "w": best.w, "b": best.b,
                     "std_errors": best.std_errors, "z": z, "stable": res.stable, "wall_time": time.perf_counter() - t,
                     "path": [{"k": p.k, "terms": p.labels, "bic": p.criteria["bic"]} for p in res.path]})
        log(f"recovery seed {seed}: {'ok ' if ok else 'FAIL'} {best.labels} " +
            " ".join(f"{k}={v:+.2f}" for k, v in z.items()))
    zs = np.array([list(r["z"].values()) for r in runs if r["recovered"]])
    at3 = [recovered_with(r, 3, true) for r in runs]
    rec = {"truth": truth_kw, "noise": "1 % relative, N(0, 1)", "seeds": seeds, "residual": "relative",
           "criterion": "bic", "max_terms": 4, "library": "rubber",
           "recovered": int(sum(r["recovered"] for r in runs)),
           "recovered_if_max_terms_3": int(sum(at3)),
           "failures": [{"seed": r["seed"], "terms": r["terms"]} for r in runs if not r["recovered"]],
           "z_names": list(runs[[r["recovered"] for r in runs].index(True)]["z"]) if zs.size else [],
           "within_1se": (np.abs(zs) <= 1).mean(0).tolist() if zs.size else [],
           "within_2se": (np.abs(zs) <= 2).mean(0).tolist() if zs.size else [],
           "z_mean": zs.mean(0).tolist() if zs.size else [], "z_std": zs.std(0, ddof=1).tolist() if zs.size else [],
           "all_stable": all(r["stable"] for r in runs), "median_wall_s": float(np.median([r["wall_time"] for r in runs])),
           "runs": runs}
    rec["failures_truth_bic"] = truth_bics(rec)
    if zs.size:
        plot_z(rec, zs)
    return rec


def truth_bics(rec: dict) -> list[dict]:
    """For every failed seed: BIC of the true support refitted to its data beside the chosen one."""
    from constitutive.calibration.discovery.library import Candidate
    from constitutive.calibration.discovery.pipeline import serial_torch
    from constitutive.calibration.discovery.refine import refine
    from constitutive.calibration.discovery.select import information_criteria

    base = load_experiments(ROOT / "data" / "treloar.h5")
    truth = materials.get("discovered-incompressible", **rec["truth"])
    out = []
    with serial_torch():
        for f in rec["failures"]:
            run = rec["runs"][f["seed"]]
            exps = synthetic_experiments(truth, base, noise=0.01, seed=f["seed"])
            cands = [Candidate(("I1", "lin"), 1.0), Candidate(("I2", "lin"), 1.0), Candidate(("I1", "exp"), 0.05)]
            fit = refine(cands, [0.15, 0.02, 0.01], exps, residual="relative", x_max={"I1": 55.0, "I2": 389.0})
            chosen = next(p["bic"] for p in run["path"] if p["terms"] == f["terms"])
            out.append({"seed": f["seed"], "chosen": f["terms"], "bic_chosen": chosen,
                        "bic_truth": information_criteria(fit.rss, fit.n_data, fit.n_params)["bic"]})
    return out


def recovered_with(run: dict, max_terms: int, true: dict) -> bool:
    """Whether the same path, cut at ``max_terms``, selects the true support (BIC, parsimony)."""
    from constitutive.calibration.discovery.select import choose

    path = [p for p in run["path"] if p["k"] <= max_terms]
    best = path[choose([p["bic"] for p in path], [p["k"] for p in path], "bic")]
    return sorted(t.split("(")[0] for t in best["terms"]) == sorted(true)


def plot_z(rec: dict, zs: np.ndarray) -> None:
    fig = new_figure(7.5, 3.6)
    ax = fig.subplots()
    grid = np.linspace(-4, 4, 200)
    for j, name in enumerate(rec["z_names"]):
        ax.hist(zs[:, j], bins=np.linspace(-4, 4, 17), histtype="step", lw=1.5, density=True, label=name)
    ax.plot(grid, np.exp(-grid**2 / 2) / math.sqrt(2 * math.pi), "k--", lw=1, label="N(0, 1)")
    ax.set_xlabel("(estimate − true value) / standard error [-]")
    ax.set_ylabel("probability density [-]")
    ax.set_title(f"synthetic recovery: {rec['recovered']}/{rec['seeds']} supports exact; z-scores of the "
                 "recovered parameters", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_png(fig, FIGURES / "discovery_recovery_z.png")


def section_budday(out: dict) -> None:
    exps = load_experiments(ROOT / "data" / "budday2017.h5")
    regions = ("cortex", "basal_ganglia", "corona_radiata", "corpus_callosum")
    rows, panels = {}, []
    for reg in regions:
        sub = [e for e in exps if e.name.startswith(reg + "_")]
        res = discover(sub, library_name="tissue", max_terms=3)
        rows[reg] = {**summary(res), "G_kPa": res.material.initial_moduli()[0]}
        panels += [(res, e, None) for e in sub]
        log(f"budday {reg}: {res.best.labels} R2 {fmt(res.r2)} G {rows[reg]['G_kPa']:.3f} kPa")
    plot_fit_grid(panels, FIGURES / "discovery_budday_fit.png",
                  title="Budday et al. (2017) human brain: discovered models per region (tissue library)")
    out["budday"] = rows


def section_compile(out: dict) -> None:
    from constitutive.interfaces.compiled import CompiledMaterial, compile_material

    mat = materials.discovered.from_file(RESULTS / "discovery_treloar_fit.json")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        lib = compile_material(mat, "DISC", tmp)
        dt = time.perf_counter() - t
        cm = CompiledMaterial(lib.description, **mat.parameter_values())
        import torch

        g = torch.Generator().manual_seed(0)
        F = torch.eye(3, dtype=torch.float64) + 0.3 * torch.randn(16, 3, 3, generator=g, dtype=torch.float64)
        F = F / torch.linalg.det(F)[:, None, None] ** (1 / 3)
        P0, A0 = mat.pk1_tangent(F, fast=False)
        P, A = cm.pk1_tangent(F.numpy())
        out["compile"] = {"model": mat.name, "terms": mat.terms, "compile_s": dt, "props": lib.info["props"],
                          "rel_err_P": float(np.abs(P - P0.numpy()).max() / np.abs(P0.numpy()).max()),
                          "rel_err_A": float(np.abs(A - A0.numpy()).max() / np.abs(A0.numpy()).max())}
    log(f"compile: {out['compile']}")


def table(out: dict) -> None:
    if "splits" in out:
        print("\nTreloar (1944) train/test splits, unclamped R^2 (UT / ET / PS); CANN: published results files")
        for split, row in out["splits"].items():
            cann = CANN_PUBLISHED.get(split)
            cells = [" / ".join(f"{row[k]['r2'][m]:.4f}" for m in MODES) if k in row else "-"
                     for k in ("sparse", "cann8_lsq", "icnn")]
            pub = " / ".join(f"{cann[m]:.4f}" for m in MODES) if isinstance(cann, dict) else "-"
            print(f"{split:<24} sparse {cells[0]} [{', '.join(row['sparse']['terms'])}]  CANN8-LSQ {cells[1]}  "
                  f"ICNN {cells[2]}  CANN published {pub}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", default="treloar,splits,cann,cv,recovery,budday,compile")
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--icnn-starts", type=int, default=2)
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "discovery.json"
    out = json.loads(path.read_text()) if path.exists() else {}
    out["machine"] = machine_info(1)
    out["cann_published"] = CANN_PUBLISHED
    sections = args.sections.split(",")
    for name, fn in (("treloar", lambda: section_treloar(out, args.icnn_starts)),
                     ("splits", lambda: section_splits(out, args.icnn_starts)),
                     ("cann", lambda: section_cann_data(out)), ("cv", lambda: section_cv(out)),
                     ("budday", lambda: section_budday(out)),
                     ("compile", lambda: section_compile(out))):
        if name in sections:
            fn()
            path.write_text(json.dumps(_clean(out), indent=1))
    if "recovery-truth" in sections:  # the failure analysis alone, on the saved recovery study
        rp = RESULTS / "discovery_recovery.json"
        rec = json.loads(rp.read_text())
        rec["failures_truth_bic"] = truth_bics(rec)
        rp.write_text(json.dumps(_clean(rec), indent=1))
        log(f"recovery failures: {rec['failures_truth_bic']}")
    if "recovery" in sections:
        rec = section_recovery(args.seeds)
        (RESULTS / "discovery_recovery.json").write_text(json.dumps(_clean(rec), indent=1))
        log(f"recovery: {rec['recovered']}/{rec['seeds']}; within 1 SE {rec['within_1se']}, 2 SE {rec['within_2se']}")
    table(out)


def _clean(v):
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.floating, float)):
        return float(v) if math.isfinite(float(v)) else str(float(v))
    if isinstance(v, (np.integer, np.bool_)):
        return v.item()
    return v


if __name__ == "__main__":
    main()
