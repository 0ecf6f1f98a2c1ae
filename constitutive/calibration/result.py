"""Result of a fit: parameters, uncertainty, quality per experiment, stability; JSON/HDF5/PNG."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from constitutive.files import atomic_write, write_text_atomic


@dataclass
class ExperimentFit:
    """Quality of the fit for one experiment (stresses in the fit's units)."""

    name: str
    mode: str
    r2: float
    mean_rel_error: float
    max_rel_error: float
    rmse: float
    data: np.ndarray = field(repr=False)
    prediction: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return {"name": self.name, "mode": self.mode, "r2": self.r2,
                "mean_rel_error": self.mean_rel_error, "max_rel_error": self.max_rel_error,
                "rmse": self.rmse}


def _clean(v):
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_clean(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else ("inf" if f > 0 else "-inf" if f < 0 else "nan")
    if isinstance(v, (np.integer, np.bool_)):
        return v.item()
    return v


@dataclass
class FitResult:
    """Outcome of :func:`constitutive.calibration.fit`.

    ``parameters`` holds every model parameter (fitted and fixed); ``labels``/``x`` the free
    ones with their ``std_errors`` and ``correlation``. ``experiments`` gives R^2 and relative
    errors per experiment; ``stability`` the Drucker check; ``material`` the fitted model.
    """

    model: str
    parameters: dict
    labels: list
    x: np.ndarray
    std_errors: np.ndarray
    correlation: np.ndarray
    cost: float
    success: bool
    status: int
    message: str
    nfev: int
    njev: int
    n_starts: int
    runs: list
    rank: int
    n_free: int
    condition_number: float
    rank_deficient: bool
    unidentifiable: list
    experiments: list
    units: str
    residual: str
    jacobian: str
    active_bounds: list
    stability: dict | None
    wall_time: float
    material: object = field(repr=False, default=None)
    experiment_data: list = field(repr=False, default_factory=list)
    options: dict = field(default_factory=dict)

    @property
    def r2(self) -> dict:
        """R^2 per experiment name."""
        return {e.name: e.r2 for e in self.experiments}

    @property
    def stable(self) -> bool | None:
        """True unless the Drucker check ran and failed."""
        if self.stability is None:
            return None
        return bool(self.stability["stable_on_data"] and self.stability["stable_in_range"])

    def max_abs_correlation(self) -> float:
        """Largest |correlation| between two free parameters."""
        c = np.array(self.correlation, dtype=float)
        off = c[~np.eye(c.shape[0], dtype=bool)] if c.size > 1 else np.array([0.0])
        off = off[np.isfinite(off)]
        return float(np.abs(off).max()) if off.size else 0.0

    def warnings(self) -> list[str]:
        """Messages about rank deficiency, strong correlation, convergence and stability."""
        out = []
        if self.rank_deficient:
            out.append(f"fit is rank-deficient (rank {self.rank} of {self.n_free} free parameters, "
                       f"condition number {self.condition_number:.3g}): parameter(s) "
                       f"{self.unidentifiable} are not determined by these data")
        elif self.max_abs_correlation() > 0.999:
            out.append(f"parameters are strongly correlated (max |corr| = "
                       f"{self.max_abs_correlation():.5f}); standard errors are large")
        if not self.success:
            out.append(f"optimiser did not converge: {self.message}")
        if self.stability is not None and not self.stable:
            s = self.stability
            where = "along the fitted paths" if not s["stable_on_data"] else \
                f"within stretches {s['range'][0]:.3g}-{s['range'][1]:.3g} ({s['first_unstable']})"
            out.append(f"fitted model violates the Drucker stability condition {where}")
        if self.stability is not None and self.stability.get("undefined_from"):
            out.append(f"fitted model cannot be evaluated beyond stretches "
                       f"{self.stability['undefined_from']} (e.g. chain locking)")
        return out

    def to_dict(self) -> dict:
        """JSON-serialisable form (what :meth:`save_json` writes)."""
        keys = ("model", "parameters", "labels", "x", "std_errors", "correlation", "cost", "success",
                "status", "message", "nfev", "njev", "n_starts", "runs", "rank", "n_free",
                "condition_number", "rank_deficient", "unidentifiable", "units", "residual",
                "jacobian", "active_bounds", "stability", "wall_time", "options")
        d = {k: getattr(self, k) for k in keys}
        d["experiments"] = [e.to_dict() for e in self.experiments]
        d["warnings"] = self.warnings()
        return _clean(d)

    def summary(self) -> str:
        """Human-readable table of parameters and per-experiment quality."""
        lines = [f"model {self.model} ({self.units}); {'converged' if self.success else 'NOT converged'}"
                 f", cost {self.cost:.4g}, {self.nfev} evaluations, {self.n_starts} start(s), "
                 f"{self.wall_time:.2f} s", f"{'parameter':<12}{'value':>14}{'std err':>12}"]
        for lab, v, s in zip(self.labels, self.x, self.std_errors, strict=False):
            lines.append(f"{lab:<12}{v:>14.6g}{s:>12.3g}")
        lines.append(f"{'experiment':<22}{'mode':<14}{'R^2':>8}{'mean rel':>10}{'max rel':>10}")
        for e in self.experiments:
            lines.append(f"{e.name:<22}{e.mode:<14}{e.r2:>8.4f}{e.mean_rel_error:>10.3%}"
                         f"{e.max_rel_error:>10.3%}")
        if self.stability is not None:
            lines.append("stability (Drucker): " + ("ok" if self.stable else "FAILS") +
                         f" on data and stretches {self.stability['range'][0]:.3g}-"
                         f"{self.stability['range'][1]:.3g}")
        lines += [f"WARNING: {w}" for w in self.warnings()]
        return "\n".join(lines)

    def save_json(self, path) -> None:
        """Write :meth:`to_dict` as JSON (atomic)."""
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2))

    def save_hdf5(self, path) -> None:
        """Write the result as HDF5 (atomic): attributes, free-parameter datasets, predictions."""
        import h5py

        d = self.to_dict()

        def writer(tmp: str) -> None:
            with h5py.File(tmp, "w") as f:
                f.attrs["format"] = "constitutive-fit"
                for k in ("model", "cost", "success", "message", "nfev", "rank", "condition_number",
                          "rank_deficient", "units", "residual", "jacobian", "wall_time"):
                    f.attrs[k] = d[k]
                f.attrs["parameters_json"] = json.dumps(d["parameters"])
                f.attrs["options_json"] = json.dumps(d["options"])
                f.attrs["stability_json"] = json.dumps(d["stability"])
                f.create_dataset("labels", data=np.array(self.labels, dtype="S"))
                f.create_dataset("x", data=self.x)
                f.create_dataset("std_errors", data=self.std_errors)
                f.create_dataset("correlation", data=self.correlation)
                g = f.create_group("experiments")
                for e in self.experiments:
                    ge = g.create_group(e.name)
                    ge.attrs.update(mode=e.mode, r2=e.r2, mean_rel_error=e.mean_rel_error,
                                    max_rel_error=e.max_rel_error, rmse=e.rmse)
                    ge.create_dataset("data", data=e.data)
                    ge.create_dataset("prediction", data=e.prediction)

        atomic_write(path, writer)

    def plot(self, path=None, n: int = 120):
        """Data (markers) and model (lines) per mode; written to ``path`` when given (format from
        the suffix: .png, .pdf, .svg). Returns the :class:`matplotlib.figure.Figure`; the
        caller's pyplot state and backend are left alone."""
        from .plotting import fit_figure, plot_fit

        return plot_fit(self, path, n) if path is not None else fit_figure(self, n)
