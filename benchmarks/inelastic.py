"""Viscoelasticity and the Mullins effect: the verification table, Newton convergence with and
without the state's dependence in the tangent, update throughput, fits, and the figures of
docs/inelastic.md.

* verification: every "must hold" figure of docs/inelastic.md, measured (closed forms, orders,
  finite differences, CalculiX when ``tools/calculix`` finds a ccx);
* Newton: an inhomogeneous FE problem (a block clamped at x = 0, stretched and sheared at
  x = 1) with the algorithmic tangent and with the frozen-state tangent that ignores
  ``d state / dF`` (what a UMAT returning the instantaneous elastic tangent does);
* throughput: compiled update vs eager autograd, points per second;
* fits: synthetic data (a known model plus 1 % noise; no published time-resolved data set with a
  clear source was found, see docs/inelastic.md), exact Jacobian vs 2-point differences.

Results: ``benchmarks/results/inelastic.json``; figures (``--figures``):
``docs/figures/inelastic/*.png``. Usage: ``python benchmarks/inelastic.py [--figures] [--quick]``
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support
from common import RESULTS, best_time, format_table, machine_info, progress, write_json  # noqa: E402

import materials  # noqa: E402
from constitutive import kinematics as kin  # noqa: E402
from constitutive.calibration import history as H  # noqa: E402
from constitutive.calibration.experiments import Experiment  # noqa: E402
from constitutive.calibration.fit_history import fit_history, history_fit_figure  # noqa: E402
from constitutive.fem import Problem, box  # noqa: E402
from constitutive.fem.errors import ConvergenceError  # noqa: E402
from constitutive.inelastic import tangent_fd_error  # noqa: E402

torch.set_default_dtype(torch.float64)
FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures" / "inelastic"
MU, TAU, BETA = 1.0, [0.5, 5.0], [0.8, 0.3]


def visco_inc(**kw):
    return materials.get_state_model("viscoelastic", base="neo-hooke-incompressible",
                                     **{"mu": MU, "tau": TAU, "beta": BETA, **kw})


def modulus(t):
    return 3 * MU * (1 + sum(b * np.exp(-t / ta) for b, ta in zip(BETA, TAU, strict=True)))


def creep_compliance(t):
    a = [1 / ta for ta in TAU]
    poles = np.poly1d([1.0])
    for ai in a:
        poles = poles * np.poly1d([1.0, ai])
    num = 3 * MU * poles
    for i in range(len(a)):
        q = np.poly1d([1.0, 0.0])
        for j, aj in enumerate(a):
            if j != i:
                q = q * np.poly1d([1.0, aj])
        num = num + 3 * MU * BETA[i] * q
    out = np.full_like(t, 1 / (3 * MU))
    for p in num.roots:
        out = out + (poles(p) / (p * num.deriv()(p))) * np.exp(p * t)
    return out


def hereditary_P11(times, stretch, T):
    """Independent quadrature of the incompressible uniaxial hereditary integral (shared with the
    tests: ``tests/support.py``)."""
    from tests.support import hereditary_P11 as quadrature

    return quadrature(times, stretch, MU, BETA, TAU)


# ----------------------------------------------------------------------------- verification
def verification(figs: bool) -> dict:
    out = {}
    v = visco_inc()
    eps = 1e-7
    h = H.relaxation(1 + eps, hold=50.0, n_hold=40)
    P = H.solve_history(v, h).measured()[:, 0].numpy()
    t = h.time.numpy()
    out["relaxation_small_strain_rel_err"] = float(np.abs(P / eps / modulus(t) - 1).max())
    errs = {}
    for n in (200, 400, 800):
        hc = H.creep(eps, hold=10.0, n_hold=n)
        lam = H.solve_history(v, hc).measured()[:, 0].numpy()
        ex = eps * creep_compliance(hc.time.numpy())
        errs[n] = float(np.abs(lam - 1 - ex).max() / np.abs(ex).max())
    out["creep_rel_err"] = errs
    out["creep_order"] = math.log2(errs[400] / errs[800])
    hr = H.constant_rate(1e-8, duration=10.0, n=40)
    P = H.solve_history(v, hr).measured()[1:, 0].numpy()
    tr = hr.time.numpy()[1:]
    ex = 1e-8 * 3 * MU * (tr + sum(b * ta * (1 - np.exp(-tr / ta)) for b, ta in zip(BETA, TAU, strict=True)))
    out["constant_rate_rel_err"] = float(np.abs(P / ex - 1).max())
    T, amp = 2.0, 0.8

    def stretch(s):
        return 1 + amp * np.sin(np.pi * s / T), amp * np.pi / T * np.cos(np.pi * s / T)

    coarse = np.linspace(0, T, 11)
    exact = hereditary_P11(coarse, stretch, T)
    conv = []
    for r in (1, 2, 4, 8, 16):
        tt = np.linspace(0, T, 10 * r + 1)
        Pn = H.solve_history(v, H.strain_history("uniaxial", tt, stretch(tt)[0])).measured()[::r, 0].numpy()
        conv.append((T / (10 * r), float(np.abs(Pn - exact).max() / np.abs(exact).max())))
    out["finite_strain_convergence"] = conv
    out["finite_strain_orders"] = [math.log2(conv[i][1] / conv[i + 1][1]) for i in range(len(conv) - 1)]
    hl = H.relaxation(2.0, hold=1000.0, n_hold=30)
    Pl = H.solve_history(v, hl).measured()[:, 0].numpy()
    base = MU * (2.0 - 0.25)
    out["instantaneous_rel_err"] = float(abs(Pl[0] / (base * (1 + sum(BETA))) - 1))
    out["long_time_rel_err"] = float(abs(Pl[-1] / base - 1))
    g = torch.Generator().manual_seed(0)
    F = torch.eye(3) + 0.25 * torch.randn(8, 3, 3, generator=g)
    F = F[torch.linalg.det(F) > 0.3]
    e = kin.strain_mandel_from_F(F)
    vd = materials.get_state_model("viscoelastic", base="neo-hooke-decoupled", mu=1.0, K=20.0, tau=[0.3, 4.0],
                                   beta=[0.9, 0.4])
    md = materials.get_state_model("mullins", base="neo-hooke-decoupled", mu=1.0, K=20.0, r=1.5, m=0.1, beta=0.2)
    st = 0.1 * torch.randn(e.shape[0], vd.n_state, generator=g)
    out["tangent_fd_visco"] = tangent_fd_error(vd, e, st, 0.7)
    out["tangent_fd_visco_frozen"] = tangent_fd_error(vd, e, st, 0.7, consistent=False)
    w0 = md.softened_energy(e)
    out["tangent_fd_mullins_loading"] = tangent_fd_error(md, e, 0.5 * w0[:, None], 0.1)
    out["tangent_fd_mullins_unloading"] = tangent_fd_error(md, e, 1.6 * w0[:, None], 0.1)
    from scipy.special import erf

    mm = materials.get_state_model("mullins", base="neo-hooke-incompressible", mu=0.6, r=1.8, m=0.3, beta=0.15)
    hc = H.cyclic([2.0, 1.3, 2.5, 1.0, 3.0, 1.5], rate=1.0, n_per_segment=20)
    res = H.solve_history(mm, hc)
    lam, Pm = res.F[:, 0, 0, 0].numpy(), res.measured()[:, 0].numpy()
    w0 = 0.3 * (lam**2 + 2 / lam - 3)
    wm = np.maximum.accumulate(w0)
    Pc = (1 - erf((wm - w0) / (0.3 + 0.15 * wm)) / 1.8) * 0.6 * (lam - lam**-2)
    out["mullins_closed_form_rel_err"] = float(np.abs(Pm - Pc).max() / np.abs(Pc).max())
    if figs:
        figure_relaxation(v, h, eps)
        figure_convergence(conv)
        figure_mullins(lam, Pm, hc)
    return out


# ----------------------------------------------------------------------------- Newton
def clamped_block(mat, n=3):
    prob = Problem(box(n), mat)
    prob.fix("xmin")

    def u(X, t):
        s = min(t / 0.2, 1.0)
        out = np.zeros_like(X)
        out[:, 0] = 0.3 * s * X[:, 0]
        out[:, 1] = 0.1 * s * X[:, 0]
        return out

    prob.displace("xmax", u)
    return prob


def newton(quick: bool) -> dict:
    out = {}
    for label, beta in (("sum_beta_0.6", [0.4, 0.2]), ("sum_beta_1.5", [1.0, 0.5])):
        mat = materials.get_state_model("viscoelastic", base="neo-hooke-decoupled", mu=1.0, K=50.0, tau=[0.05, 0.5],
                                        beta=beta)
        row = {}
        for tangent in ("algorithmic", "frozen"):
            prob = clamped_block(mat, 2 if quick else 3)
            prob.consistent_tangent = tangent == "algorithmic"
            t0 = time.perf_counter()
            try:
                res = prob.solve(steps=10, duration=1.0, rtol=1e-10, max_iter=200, min_step=0.01)
                row[tangent] = {"iterations": [s.iterations for s in res.steps],
                                "total": sum(s.iterations for s in res.steps),
                                "cutbacks": sum(s.cutbacks for s in res.steps),
                                "residuals_step1": res.steps[0].residuals,
                                "seconds": time.perf_counter() - t0}
            except ConvergenceError as exc:
                row[tangent] = {"failed": str(exc)[:160], "seconds": time.perf_counter() - t0}
        out[label] = row
    return out


# ----------------------------------------------------------------------------- throughput
def throughput(quick: bool) -> list[dict]:
    rows = []
    g = torch.Generator().manual_seed(1)
    for name, mat in (("viscoelastic NH (2 terms)", materials.get_state_model(
            "viscoelastic", base="neo-hooke-decoupled", mu=1.0, K=20.0, tau=[0.3, 4.0], beta=[0.9, 0.4])),
            ("mullins NH", materials.get_state_model("mullins", base="neo-hooke-decoupled", mu=1.0, K=20.0))):
        for n in ((1000, 10000) if quick else (1000, 10000, 100000)):
            F = torch.eye(3) + 0.15 * torch.randn(n, 3, 3, generator=g)
            F[:, :, 0] *= torch.sign(torch.linalg.det(F))[:, None]  # det F > 0
            st = mat.initial_state(n)
            fast = best_time(lambda F=F, st=st, mat=mat: mat.pk1_tangent_state(F, st, 0.1))
            eager = best_time(lambda F=F, st=st, mat=mat: mat.pk1_tangent_state(F, st, 0.1, fast=False),
                              min_total=0.2, max_repeats=3)
            rows.append({"model": name, "n": n, "compiled_Mpts_s": n / fast / 1e6, "eager_Mpts_s": n / eager / 1e6,
                         "speedup": eager / fast})
    return rows


# ----------------------------------------------------------------------------- fits
def synthetic(mat, hist, name, noise, seed):
    res = H.solve_history(mat, hist)
    y = res.measured()[:, 0].numpy()
    y = y * (1 + noise * np.random.default_rng(seed).standard_normal(y.size))
    return Experiment(name, "uniaxial", y, stretch=res.F[:, 0, 0, 0].numpy(), time=hist.time.numpy(), units="MPa",
                      source="synthetic: generated by known parameters + 1 % noise")


def fits(figs: bool) -> dict:
    out = {}
    true = materials.get_state_model("viscoelastic", base="neo-hooke-incompressible", mu=0.5, tau=[0.3, 8.0],
                                     beta=[1.2, 0.6])
    exps = [synthetic(true, H.relaxation(1.5, hold=60.0, ramp=0.2, n_ramp=4, n_hold=40), "relaxation (λ = 1.5)",
                      0.01, 1),
            synthetic(true, H.cyclic([1.8, 1.2, 2.2, 1.0], rate=0.5, n_per_segment=12), "cyclic (0.5 /s)", 0.01, 2)]
    start = true.replace(mu=0.4, tau=[5.0, 0.5], beta=[0.4, 1.0])
    for jac in ("autograd", "2-point"):
        t0 = time.perf_counter()
        r = fit_history(start, exps, jacobian=jac)
        out[f"prony_{jac}"] = {"parameters": r.parameters, "nfev": r.nfev, "njev": r.njev, "cost": r.cost,
                               "seconds": time.perf_counter() - t0, "r2": [e.r2 for e in r.experiments]}
        if jac == "autograd" and figs:
            fig = history_fit_figure(r)
            fig.savefig(FIGURES / "prony_fit.png", dpi=120)
    out["prony_true"] = true.parameter_values()
    tm = materials.get_state_model("mullins", base="neo-hooke-incompressible", mu=0.45, r=1.6, m=0.25, beta=0.12)
    exps = [synthetic(tm, H.cyclic([1.8, 1.2, 2.4, 1.0, 3.0, 1.0], rate=1.0, n_per_segment=15),
                      "cyclic loading (Mullins)", 0.01, 3)]
    t0 = time.perf_counter()
    r = fit_history(tm.replace(mu=0.3, r=3.0, m=0.1, beta=0.3), exps)
    out["mullins"] = {"parameters": r.parameters, "true": tm.parameter_values(), "nfev": r.nfev,
                      "seconds": time.perf_counter() - t0, "r2": r.experiments[0].r2}
    if figs:
        history_fit_figure(r).savefig(FIGURES / "mullins_fit.png", dpi=120)
    return out


# ----------------------------------------------------------------------------- figures
def _figure(w=5.2, h=3.8, ncols=1):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w * ncols, h))
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def figure_relaxation(v, h, eps):
    fig, (a, b) = _figure(ncols=2)
    t = h.time.numpy()
    P = H.solve_history(v, h).measured()[:, 0].numpy()
    tt = np.geomspace(1e-3, t[-1], 300)
    a.semilogx(tt, modulus(tt), "-", color="0.3", label="E(t) = E∞ + Σ Eᵢ exp(-t/τᵢ)")
    a.semilogx(t[1:], P[1:] / eps, "o", ms=4, mfc="none", color="C3", label="driver, ε = 1e-7")
    a.set_xlabel("time t [s]")
    a.set_ylabel("relaxation modulus P11/ε [MPa]")
    a.set_title("small strain: Prony series", fontsize=10)
    a.legend(fontsize=8, frameon=False)
    for lam, c in ((1.5, "C0"), (2.0, "C1"), (3.0, "C2")):
        hh = H.relaxation(lam, hold=50.0, ramp=0.05, n_ramp=5, n_hold=60)
        Pl = H.solve_history(v, hh).measured()[:, 0].numpy()
        b.semilogx(hh.time.numpy()[1:], Pl[1:], "-", color=c, label=f"λ = {lam}")
        b.axhline(MU * (lam - lam**-2), ls=":", color=c, lw=1)
    b.set_xlabel("time t [s]")
    b.set_ylabel("nominal stress P11 [MPa]")
    b.set_title("finite strain relaxation (dotted: base, t → ∞)", fontsize=10)
    b.legend(fontsize=8, frameon=False)
    for ax in (a, b):
        ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(FIGURES / "relaxation.png", dpi=120)


def figure_convergence(conv):
    fig, (a,) = _figure()
    dt, err = np.array(conv).T
    a.loglog(dt, err, "o-", color="C3", label="recurrence vs quadrature")
    a.loglog(dt, err[0] * (dt / dt[0]) ** 2, "--", color="0.4", label="slope 2")
    a.set_xlabel("time step Δt [s]")
    a.set_ylabel("max relative error of P11 [-]")
    a.set_title("finite strain: convergence to the hereditary integral", fontsize=10)
    from matplotlib.ticker import NullFormatter

    a.xaxis.set_minor_formatter(NullFormatter())
    a.grid(True, which="both", alpha=0.3)
    a.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(FIGURES / "convergence.png", dpi=120)


def figure_mullins(lam, P, hc):
    fig, (a,) = _figure()
    ll = np.linspace(1.0, 3.0, 200)
    a.plot(ll, 0.6 * (ll - ll**-2), "-", color="0.75", lw=4, label="base (neo-Hooke) = primary loading")
    a.plot(lam, P, "-", color="C3", lw=1.4, label="Ogden-Roxburgh, peaks 2.0, 2.5, 3.0")
    a.set_xlabel("stretch λ [-]")
    a.set_ylabel("nominal stress P11 [MPa]")
    a.set_title("Mullins effect: loading, unloading, reloading", fontsize=10)
    a.grid(True, alpha=0.3)
    a.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(FIGURES / "mullins_cycle.png", dpi=120)


def figure_newton(nw):
    fig, (a,) = _figure()
    for label, style in (("sum_beta_0.6", "-"), ("sum_beta_1.5", "--")):
        for tangent, color in (("algorithmic", "C0"), ("frozen", "C3")):
            r = nw[label][tangent]
            name = f"{tangent}, Σβ = {label.split('_')[-1]}"
            if "residuals_step1" in r:
                res = np.array(r["residuals_step1"])
                a.semilogy(np.arange(res.size), res / res[0], style + "o", ms=3, color=color,
                           label=f"{name} ({r['total']} iterations in 10 steps)")
            else:
                a.plot([], [], style, color=color, label=f"{name}: diverges (cut back, det F <= 0)")
    a.set_xlabel("Newton iteration in the first load step [-]")
    from matplotlib.ticker import MaxNLocator

    a.xaxis.set_major_locator(MaxNLocator(integer=True))
    a.set_ylabel("residual |R| / |R₀| [-]")
    a.set_title("FE Newton: algorithmic vs frozen-state tangent", fontsize=10)
    a.grid(True, which="both", alpha=0.3)
    a.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(FIGURES / "newton.png", dpi=120)


def calculix(figs: bool) -> dict:
    """Relaxation and Mullins cycle on one C3D8 in CalculiX vs the driver (needs tools/calculix)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools" / "calculix"))
    try:
        import ccx
    except ImportError:
        return {"skipped": "tools/calculix not importable"}
    exe = ccx.find_ccx()
    if exe is None:
        return {"skipped": "no ccx with external UMAT support"}
    from constitutive.interfaces.compiled import CompiledMaterial, compile_material

    out, curves = {}, {}
    tmp = Path(tempfile.mkdtemp(prefix="inelastic_ccx_"))
    cases = {
        "relaxation": (materials.get_state_model("viscoelastic", base="neo-hooke-decoupled", mu=1e6, K=2e7,
                                                 tau=[0.05, 0.4], beta=[1.0, 0.5], volumetric="J-1"),
                       lambda t: 1.0 + 0.5 * min(t / 0.1, 1.0), 50),
        "mullins": (materials.get_state_model("mullins", base="neo-hooke-decoupled", mu=1e6, K=2e7, r=1.5, m=2e5,
                                              beta=0.1, volumetric="J-1"),
                    lambda t: float(np.interp(t, [0, 0.25, 0.5, 0.75, 1.0], [1.0, 1.8, 1.2, 2.2, 1.1])), 40),
    }
    for key, (mat, path, n) in cases.items():
        name = "BVISCO" if key == "relaxation" else "BMULL"
        lib = CompiledMaterial(compile_material(mat, name, tmp, overwrite=True).description, **mat.parameter_values())
        cards, mname = ccx.user_material(name, lib.props, depvar=mat.n_state)
        mesh = box(1)
        S = mesh.point_sets
        t = np.linspace(0, 1, n + 1)
        lam = np.array([path(x) for x in t])
        pres = [(S["xmax"], np.einsum("t,ni->tni", lam - 1, np.tile([1.0, 0, 0], (4, 1))), (0,))]
        fixed = [(S["xmin"], (0,)), (S["ymin"], (1,)), (S["zmin"], (2,))]
        deck = ccx.solid_deck(mesh.points, mesh.cells, cards, mname, fixed=fixed, prescribed=pres, increments=n)
        res = ccx.run_deck(deck, tmp / key, ccx=exe, lib_dirs=[tmp])
        RF = res.read_frd().field("RF", 8)
        P11 = RF[:, mesh.points[:, 0] == 1.0, 0].sum(1)
        ref = H.solve_history(mat, H.strain_history("uniaxial", t, lam)).measured()[1:, 0].numpy()
        out[key] = {"max_rel_err": float(np.abs(P11 - ref).max() / np.abs(ref).max()),
                    "iterations": [int(i) for i in res.iterations().per_increment()]}
        curves[key] = (t[1:], lam[1:], P11 / 1e6, ref / 1e6)
    if figs:
        fig, (a, b) = _figure(ncols=2)
        t, _, P, ref = curves["relaxation"]
        a.plot(t, ref, "-", color="0.3", label="material-point driver")
        a.plot(t, P, "o", ms=3.5, mfc="none", color="C3", label="CalculiX, compiled UMAT")
        a.set_xlabel("step time t [s]")
        a.set_ylabel("nominal stress P11 [MPa]")
        a.set_title(f"relaxation, one C3D8 (max rel. diff {out['relaxation']['max_rel_err']:.1e})", fontsize=10)
        _, lam, P, ref = curves["mullins"]
        b.plot(lam, ref, "-", color="0.3", label="material-point driver")
        b.plot(lam, P, "o", ms=3.5, mfc="none", color="C3", label="CalculiX, compiled UMAT")
        b.set_xlabel("stretch λ [-]")
        b.set_ylabel("nominal stress P11 [MPa]")
        b.set_title(f"Mullins cycle, one C3D8 (max rel. diff {out['mullins']['max_rel_err']:.1e})", fontsize=10)
        for ax in (a, b):
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=8, frameon=False)
        fig.tight_layout()
        fig.savefig(FIGURES / "calculix.png", dpi=120)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figures", action="store_true", help="write docs/figures/inelastic/*.png")
    ap.add_argument("--quick", action="store_true", help="smaller problems")
    args = ap.parse_args(argv)
    if args.figures:
        FIGURES.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    data = {"machine": machine_info(1)}
    progress("verification ...")
    data["verification"] = verification(args.figures)
    progress("Newton ...")
    data["newton"] = newton(args.quick)
    if args.figures:
        figure_newton(data["newton"])
    progress("throughput ...")
    data["throughput"] = throughput(args.quick)
    progress("fits ...")
    data["fits"] = fits(args.figures)
    progress("CalculiX ...")
    data["calculix"] = calculix(args.figures)
    write_json(RESULTS / "inelastic.json", data)
    ver = data["verification"]
    print(format_table([{"quantity": k, "value": (v if isinstance(v, float) else str(v)[:70])}
                        for k, v in ver.items()], [("quantity", "verification", ""), ("value", "measured", "")]))
    for label, row in data["newton"].items():
        for tangent, r in row.items():
            print(f"Newton {label:13s} {tangent:11s}: "
                  + (f"{r['total']} iterations, {r['cutbacks']} cutbacks" if "total" in r else r["failed"][:90]))
    print(format_table(data["throughput"], [("model", "update", ""), ("n", "points", "{:d}"),
                                            ("compiled_Mpts_s", "compiled Mpts/s", "{:.3f}"),
                                            ("eager_Mpts_s", "eager Mpts/s", "{:.4f}"), ("speedup", "speedup", "{:.0f}")]))
    for k, v in data["fits"].items():
        print(k, v)
    print("CalculiX", data["calculix"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
