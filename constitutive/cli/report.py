"""``constitutive report``: the reproducible calibration report on the bundled data sets.

    constitutive report [--output-dir out/report]

* Treloar (1944) UT/ET/PS, all three modes fitted at once (relative residuals), incompressible
  neo-Hooke, Mooney-Rivlin, Yeoh, Ogden (3 terms), Arruda-Boyce, Gent: R^2 and mean relative
  error per mode, parameters, Drucker stability.
* Kawabata et al. (1981): the same models fitted to the UT/ET/PS curves of that rubber, then
  used to predict the 18 general-biaxial series (lambda1 fixed, lambda2 varied): pooled R^2
  and mean relative error of P11 and P22.
* Budday et al. (2017) human brain tissue: one-term Ogden per region, tension, compression and
  simple shear fitted together (kPa).

Prints Markdown tables (pasted into docs/calibration.md) and writes ``calibration_report.json``
plus two PNG figures to the output directory.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

MODELS = [("neo-Hooke", "neo-hooke-incompressible", None),
          ("Mooney-Rivlin", "mooney-rivlin-incompressible", None),
          ("Yeoh", "yeoh-incompressible", None), ("Ogden-3", "ogden-incompressible", 3),
          ("Arruda-Boyce", "arruda-boyce-incompressible", None), ("Gent", "gent-incompressible", None)]


def _fit(name, exps, terms):
    from constitutive.calibration import FitWarning, fit
    from constitutive.calibration.starts import start_values

    start = start_values(name, exps, terms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        return fit(name, exps, start=start, n_starts=1)


def treloar(out: dict) -> list[str]:
    """Treloar (1944): every model fitted to the three modes; Markdown table rows."""
    from constitutive.calibration import load_experiments

    exps = load_experiments("treloar")
    lines = ["| model | R² UT | R² ET | R² PS | mean rel. err. UT / ET / PS | stable | parameters (MPa) "
             "| time |", "|---|---|---|---|---|---|---|---|"]
    out["treloar"] = {}
    for label, name, terms in MODELS:
        res = _fit(name, exps, terms)
        r2 = res.r2
        rel = {e.name: e.mean_rel_error for e in res.experiments}
        par = ", ".join(f"{k}={_fmt(v)}" for k, v in res.parameters.items())
        lines.append(f"| {label} | {r2['uniaxial']:.4f} | {r2['equibiaxial']:.4f} | {r2['pure_shear']:.4f} | "
                     f"{rel['uniaxial']:.1%} / {rel['equibiaxial']:.1%} / {rel['pure_shear']:.1%} | "
                     f"{_stable(res)} | {par} | {res.wall_time:.1f} s |")
        out["treloar"][label] = res.to_dict()
        if label == "Ogden-3":
            res.plot(os.path.join(out["_dir"], "treloar_ogden3.png"))
    return lines


def kawabata(out: dict) -> list[str]:
    """Kawabata (1981): fit UT/ET/PS, predict the general biaxial series; Markdown table rows."""
    import numpy as np

    from constitutive.calibration import goodness_of_fit, load_experiments

    exps = load_experiments("kawabata1981")
    train = [e for e in exps if e.mode != "biaxial"]
    test = [e for e in exps if e.mode == "biaxial"]
    lines = ["| model (fitted to Kawabata UT/ET/PS) | R² UT / ET / PS (fit) | biaxial R² P11 "
             "| biaxial R² P22 | biaxial mean rel. err. |", "|---|---|---|---|---|"]
    out["kawabata"] = {}
    for label, name, terms in MODELS:
        res = _fit(name, train, terms)
        ev = goodness_of_fit(res.material, test)
        d = np.concatenate([e.data for e in ev])
        p = np.concatenate([e.prediction for e in ev])
        r2 = [1 - ((p[:, i] - d[:, i]) ** 2).sum() / ((d[:, i] - d[:, i].mean()) ** 2).sum()
              for i in range(2)]
        big = np.abs(d) > 0.02 * np.abs(d).max()
        rel = float(np.mean(np.abs(p - d)[big] / np.abs(d)[big]))
        fr = res.r2
        lines.append(f"| {label} | {fr['uniaxial']:.3f} / {fr['equibiaxial']:.3f} / {fr['pure_shear']:.3f} | "
                     f"{r2[0]:.4f} | {r2[1]:.4f} | {rel:.1%} |")
        out["kawabata"][label] = {"fit": res.to_dict(), "biaxial_r2": [float(x) for x in r2],
                                  "biaxial_mean_rel_error": rel}
        if label == "Ogden-3":
            _plot_biaxial(res.material, test, os.path.join(out["_dir"], "kawabata_biaxial_ogden3.png"))
    return lines


def budday(out: dict) -> list[str]:
    """One-term Ogden per brain region, tension + compression + simple shear fitted together."""
    from constitutive.calibration import FitWarning, fit, load_experiments
    from constitutive.calibration.starts import start_values

    exps = load_experiments("budday2017")
    lines = ["| region | R² tension | R² compression | R² shear | mu (kPa) | alpha | G = mu alpha / 2 (kPa) "
             "| stable |", "|---|---|---|---|---|---|---|---|"]
    out["budday"] = {}
    for region in dict.fromkeys(e.name.rsplit("_", 1)[0].replace("_simple", "") for e in exps):
        sub = [e for e in exps if e.name.startswith(region + "_")]
        start = start_values("ogden-incompressible", sub, 1, {"alpha": [-20.0]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            res = fit("ogden-incompressible", sub, start=start)
        r2 = list(res.r2.values())
        mu, alpha = res.parameters["mu"][0], res.parameters["alpha"][0]
        lines.append(f"| {region.replace('_', ' ')} | {r2[0]:.3f} | {r2[1]:.3f} | {r2[2]:.3f} | {mu:.4g} | "
                     f"{alpha:.3g} | {mu * alpha / 2:.3g} | {_stable(res)} |")
        out["budday"][region] = res.to_dict()
    return lines


def _plot_biaxial(material, test, path):
    import numpy as np

    from constitutive.optional import require

    colormaps = require("matplotlib").colormaps
    Figure = require("matplotlib.figure").Figure

    from constitutive.calibration import driver

    fig = Figure(figsize=(10, 4.2))
    axes = fig.subplots(1, 2)
    for k, e in enumerate(test):
        c = colormaps["viridis"](k / max(1, len(test) - 1))
        lam2 = np.linspace(e.stretch[:, 1].min(), e.stretch[:, 1].max(), 40)
        lam = np.stack([np.full_like(lam2, e.stretch[0, 0]), lam2], -1)
        P = driver.predict(material, "biaxial", lam).numpy()
        for i, ax in enumerate(axes):
            ax.plot(e.stretch[:, 1], e.stress[:, i], "o", color=c, ms=3)
            ax.plot(lam2, P[:, i], "-", color=c, lw=1)
    for i, ax in enumerate(axes):
        ax.set_xlabel("λ2 (λ1 fixed per curve)")
        ax.set_ylabel(f"nominal stress P{i + 1}{i + 1} [MPa]")
        ax.grid(alpha=0.3)
    fig.suptitle("Kawabata (1981) general biaxial: data (markers) vs Ogden-3 fitted to UT/ET/PS (lines)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _stable(res) -> str:
    s = "yes" if res.stable else "NO"
    und = (res.stability or {}).get("undefined_from") or {}
    if und:
        s += " (locks beyond " + ", ".join(f"{m} λ={v:.3g}" for m, v in und.items()) + ")"
    return s


def _fmt(v):
    if isinstance(v, list):
        return "[" + ", ".join(f"{x:.4g}" for x in v) + "]"
    return f"{v:.4g}"


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="calibration report on the bundled data sets (Markdown tables, "
                       "JSON, figures)")
    p.add_argument("--output-dir", default=os.path.join("out", "report"),
                   help="where calibration_report.json and the figures go (default out/report)")
    p.set_defaults(func=run)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m constitutive.cli.report", description=__doc__.splitlines()[0])
    p.add_argument("--output-dir", default=os.path.join("out", "report"))
    return run(p.parse_args(argv))


def run(args) -> int:
    from constitutive.files import check_output_dir, write_text_atomic

    check_output_dir(args.output_dir, "--output-dir")
    os.makedirs(args.output_dir, exist_ok=True)
    out = {"_dir": args.output_dir}
    t0 = time.perf_counter()
    print("## Treloar (1944), all three modes fitted together\n")
    print("\n".join(treloar(out)))
    print("\n## Kawabata et al. (1981): fit UT/ET/PS, predict general biaxial\n")
    print("\n".join(kawabata(out)))
    print("\n## Budday et al. (2017) human brain: one-term Ogden per region\n")
    print("\n".join(budday(out)))
    out.pop("_dir")
    out["wall_time"] = time.perf_counter() - t0
    path = os.path.join(args.output_dir, "calibration_report.json")
    write_text_atomic(path, json.dumps(out, indent=1))
    print(f"\nwrote {path} ({out['wall_time']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
