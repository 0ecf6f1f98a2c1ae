"""Figures of a discovery run (``matplotlib.figure.Figure`` with the Agg canvas; the global
backend is never touched): the path (``1 - R^2`` per experiment and the criterion against the
number of terms) and the chosen model against the data."""

from __future__ import annotations

import math

import numpy as np

from constitutive.files import atomic_write

from .. import driver

_MEASURE = {"uniaxial": "P11", "equibiaxial": "P11", "pure_shear": "P11", "simple_shear": "P12",
            "biaxial": "P11, P22"}


def new_figure(width: float, height: float):
    """A figure on the Agg canvas (no pyplot, no global backend)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_png(fig, path, dpi: int = 130) -> None:
    """Write the figure as PNG (atomic)."""
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"))


def _loss(v: float) -> float:
    return 1.0 - v if math.isfinite(v) else math.nan


def plot_path(result, path, title: str | None = None) -> None:
    """Left: ``1 - R^2`` (log scale) of each experiment against the number of terms, training
    solid, test dashed, the Lp path as hollow markers; right: the criterion."""
    fig = new_figure(10.5, 4.2)
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1.0]})
    ks = [p.k for p in result.path]
    for i, name in enumerate(result.train + result.test):
        color, test = f"C{i % 10}", name in result.test
        y = [_loss(p.r2.get(name, math.nan)) for p in result.path]
        ax.semilogy(ks, y, "--" if test else "-", marker="o", color=color,
                    label=f"{name} ({'test' if test else 'train'})")
        lp = [(e["n_terms"], _loss(e["r2"].get(name, math.nan))) for e in result.lp_path]
        lp = [(k, v) for k, v in lp if math.isfinite(v) and v > 0 and k <= max(ks)]
        if lp:
            ax.semilogy(*zip(*lp, strict=True), linestyle="none", marker="D", ms=5, mfc="none", color=color,
                        alpha=0.7)
    ax.axhline(0.005, color="0.4", lw=0.8, ls=":", label="R² = 0.995")
    ax.axvline(result.best.k, color="0.6", lw=6, alpha=0.25, label=f"selected ({result.criterion})")
    if result.lp_path:
        ax.plot([], [], linestyle="none", marker="D", mfc="none", color="0.3",
                label=f"L{result.extra.get('lp_p', 'p')} path (debiased)")
    ax.set_xlabel("number of active terms k [-]")
    ax.set_ylabel("1 − R² [-] (log scale)")
    ax.set_xticks(range(1, max(ks) + 1))
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    crit = [p.criteria.get(result.criterion, math.nan) for p in result.path]
    ax2.plot(ks, crit, "o-", color="k")
    ax2.plot([result.best.k], [crit[result.selected]], "o", ms=11, mfc="none", color="C3")
    ax2.set_xlabel("number of active terms k [-]")
    ax2.set_ylabel(f"{result.criterion.upper()} [-]")
    ax2.set_xticks(range(1, max(ks) + 1))
    ax2.grid(alpha=0.3)
    for k, c, p in zip(ks, crit, result.path, strict=True):
        ax2.annotate("\n".join(p.terms), (k, c), fontsize=6, xytext=(4, 4), textcoords="offset points")
    fig.suptitle(title or f"discovery path ({result.library} library, trained on {', '.join(result.train)})",
                 fontsize=10)
    fig.tight_layout()
    save_png(fig, path)


def _control(e, n: int) -> np.ndarray:
    c = e.control()
    if e.mode == "simple_shear":
        return np.linspace(0.0, float(c.max()), n)
    lo, hi = float(min(c.min(), 1.0)), float(max(c.max(), 1.0))
    return np.linspace(lo, hi, n)


def plot_fit(result, experiments, path, n: int = 100, others: dict | None = None) -> None:
    """One panel per experiment: data (markers) and the chosen model (line); ``others`` adds
    ``{label: material}`` curves (e.g. the ICNN baseline)."""
    exps = [e for e in experiments if e.name in result.train + result.test]
    plot_fit_grid([(result, e, others) for e in exps], path, n=n)


def plot_fit_grid(panels, path, n: int = 100, cols: int = 3, title: str | None = None) -> None:
    """Panels ``(result, experiment, others)``: data, the result's model and ``others`` curves."""
    cols = min(len(panels), cols)
    rows = math.ceil(len(panels) / cols)
    fig = new_figure(4.3 * cols, 3.5 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, (result, e, others) in zip(axes, panels, strict=False):
        _panel(ax, result, e, others or {}, n)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_png(fig, path)


def _panel(ax, result, e, others: dict, n: int) -> None:
    x = _control(e, n)
    ax.plot(e.control(), e.stress_in(result.units), "o", mfc="none", color="k", ms=4, label="data")
    curves = {" + ".join(result.best.terms): result.material, **others}
    for j, (label, mat) in enumerate(curves.items()):
        try:
            y = driver.predict(mat, e.mode, x, e.stress_measure).detach().cpu().numpy()
        except ValueError:
            continue
        ax.plot(x, y.reshape(n, -1)[:, 0], "-" if j == 0 else "--", color=f"C{j}", lw=1.4, label=label)
    kind = "test" if e.name in result.test else "train"
    ax.set_title(f"{e.name} ({kind}, R² = {result.r2.get(e.name, math.nan):.4f})", fontsize=9)
    ax.set_xlabel("amount of shear γ [-]" if e.mode == "simple_shear" else "stretch λ [-]")
    ax.set_ylabel(f"nominal stress {_MEASURE.get(e.mode, '')} [{result.units}]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
