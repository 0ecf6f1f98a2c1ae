"""Plots of a fit: measured stress (markers) and model prediction (lines), one panel per mode."""

from __future__ import annotations

import numpy as np

from constitutive.files import atomic_write

from . import driver

_XLABEL = {"uniaxial": "stretch", "equibiaxial": "stretch", "pure_shear": "stretch",
           "simple_shear": "amount of shear", "biaxial": "varied stretch", "general": "point"}


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


def plot_fit(result, path, n: int = 120) -> None:
    """Write a PNG with one panel per mode (atomic)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    exps = {e.name: e for e in result.experiment_data}
    modes = list(dict.fromkeys(ef.mode for ef in result.experiments))
    fig, axes = plt.subplots(1, len(modes), figsize=(4.6 * len(modes), 4.0), squeeze=False)
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
        ax.set_xlabel(_XLABEL[mode] if mode != "general" else "measured stress")
        measures = {exps[r.name].stress_measure for r in result.experiments if r.mode == mode}
        label = "sigma11 - sigma22" if measures == {"cauchy_difference"} else "stress"
        ax.set_ylabel(f"{label} [{result.units}]" if mode != "general" else "model stress")
        ax.grid(alpha=0.3)
        if count <= 6:
            ax.legend(fontsize=7)
    fig.suptitle(f"{result.model}: data (markers) vs model (lines)", fontsize=10)
    fig.tight_layout()
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    finally:
        plt.close(fig)
