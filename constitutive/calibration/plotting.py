"""Plots of a fit: measured stress (markers) and model prediction (lines), one panel per mode."""

from __future__ import annotations

import numpy as np

from constitutive.files import atomic_write
from constitutive.optional import require

from . import driver

_XLABEL = {"uniaxial": "stretch λ1", "equibiaxial": "stretch λ1 = λ2", "pure_shear": "stretch λ1 (λ2 = 1)",
           "simple_shear": "amount of shear γ",
           "biaxial": "varied stretch (the other fixed per curve); P11 ○ —, P22 □ - -", "general": "point"}
#: y-axis measure per (mode, stress measure): nominal = first Piola-Kirchhoff P (force per
#: reference area), the component the experiment measures (index numbering from 1, as in the
#: HDF5 schema and the CSV import)
_YLABEL = {"nominal": "nominal stress P11", "cauchy": "Cauchy stress σ11",
           "cauchy_difference": "σ11 − σ22"}
_SHEAR = {"nominal": "nominal shear stress P12", "cauchy": "Cauchy shear stress σ12"}
FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def figure_format(path) -> str:
    """The file format of a plot path from its suffix (``.png``, ``.pdf``, ``.svg``)."""
    import os

    ext = os.path.splitext(str(path))[1].lower()
    if ext not in FORMATS:
        raise ValueError(f"path: a plot is written as .png, .pdf or .svg (from the suffix), "
                         f"got {str(path)!r}")
    return FORMATS[ext]


def _dense_curve(material, e, n: int):
    """(x, y) of the model along a refined version of the experiment's path."""
    if e.mode in ("uniaxial", "equibiaxial", "pure_shear", "simple_shear"):
        c = e.control()
        lo, hi = min(c.min(), 1.0 if e.mode != "simple_shear" else 0.0), c.max()
        x = np.linspace(lo, hi, n)
        y = driver.predict(material, e.mode, x, e.stress_measure).detach().cpu().numpy()
        return x, y.reshape(n, -1)
    if e.mode == "biaxial":
        t = np.linspace(0, e.n - 1, n)
        lam = np.stack([np.interp(t, np.arange(e.n), e.stretch[:, i]) for i in range(2)], -1)
        j = int(np.argmax(np.ptp(e.stretch, 0)))
        y = driver.predict(material, "biaxial", lam, e.stress_measure).detach().cpu().numpy()
        return lam[:, j], y.reshape(n, -1)
    return None


def _x_data(e) -> np.ndarray:
    if e.mode == "biaxial":
        return e.stretch[:, int(np.argmax(np.ptp(e.stretch, 0)))]
    if e.mode == "general":
        return np.arange(e.n)
    return e.control()


def _ylabel(mode: str, measures: set[str], units: str) -> str:
    if measures == {"cauchy_difference"}:
        label = _YLABEL["cauchy_difference"]
    elif mode == "simple_shear":
        label = " / ".join(_SHEAR.get(m, m) for m in sorted(measures))
    elif mode == "biaxial":
        label = " / ".join(_YLABEL.get(m, m).replace("11", "11, 22") for m in sorted(measures))
    else:
        label = " / ".join(_YLABEL.get(m, m) for m in sorted(measures))
    return f"{label} [{units}]"


def fit_figure(result, n: int = 120):
    """A :class:`matplotlib.figure.Figure` with one panel per mode: data (markers) and model
    (lines). The caller's pyplot state and backend are not touched."""
    Figure = require("matplotlib.figure").Figure

    exps = {e.name: e for e in result.experiment_data}
    modes = list(dict.fromkeys(ef.mode for ef in result.experiments))
    fig = Figure(figsize=(4.6 * len(modes), 4.0))
    axes = fig.subplots(1, len(modes), squeeze=False)
    for ax, mode in zip(axes[0], modes, strict=False):
        for k, ef in enumerate(r for r in result.experiments if r.mode == mode):
            e, color = exps[ef.name], f"C{k % 10}"
            xd = _x_data(e)
            d = ef.data.reshape(e.n, -1)
            curve = _dense_curve(result.material, e, n)
            if e.mode == "general":
                ax.plot(d.ravel(), ef.prediction.ravel(), "o", color=color, ms=3, label=e.name)
                continue
            for c in range(d.shape[1]):
                lab = f"{e.name} (R²={ef.r2:.3f})" if c == 0 else None
                ax.plot(xd, d[:, c], "o" if c == 0 else "s", color=color, ms=4, mfc="none", label=lab)
                if curve is not None:
                    ax.plot(curve[0], curve[1][:, c], "-" if c == 0 else "--", color=color, lw=1.3)
        count = sum(r.mode == mode for r in result.experiments)
        ax.set_title(mode.replace("_", " ") + (f" ({count} experiments)" if count > 1 else ""))
        measures = {exps[r.name].stress_measure for r in result.experiments if r.mode == mode}
        if mode == "general":
            ax.set_xlabel(f"measured stress [{result.units}]")
            ax.set_ylabel(f"model stress [{result.units}]")
        else:
            ax.set_xlabel(_XLABEL[mode])
            ax.set_ylabel(_ylabel(mode, measures, result.units))
        ax.grid(alpha=0.3)
        if count <= 6:
            ax.legend(fontsize=7)
    fig.suptitle(f"{result.model}: data (markers) vs model (lines)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_fit(result, path, n: int = 120):
    """Write the fit figure to ``path`` (format from the suffix: .png, .pdf, .svg; atomic) and
    return the :class:`~matplotlib.figure.Figure`."""
    fmt = figure_format(path)
    fig = fit_figure(result, n)
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format=fmt))
    return fig
