"""Result of a discovery run: the path over the number of terms, the chosen model, files.

JSON and HDF5 files hold a ``material`` entry (``model``, ``options``, ``parameters``) that
:func:`materials.discovered.from_file` turns back into a registered material, so a discovered
model can be checked, exported, compiled and solved like any other.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from constitutive.files import atomic_write, write_text_atomic

FORMAT = "constitutive-discovery"


def _clean(v):
    """JSON-ready copy: NumPy types to Python, non-finite floats to strings."""
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_clean(x) for x in (v.tolist() if isinstance(v, np.ndarray) else v)]
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else ("inf" if f > 0 else "-inf" if f < 0 else "nan")
    if isinstance(v, (np.integer, np.bool_)):
        return v.item()
    return v


def _fmt_r2(v: float) -> str:
    if not math.isfinite(v):
        return "undefined"
    return f"{v:.4f}" if v > -9.9999 else f"{v:.3g}"


def _value(entry, label: str) -> float:
    name, idx = label.rstrip("]").split("[")
    return float((entry.w if name == "w" else entry.b)[int(idx)])


@dataclass
class PathEntry:
    """Best refitted model with ``k`` terms."""

    k: int
    terms: list
    labels: list
    w: list
    b: list
    std_errors: dict
    cost: float
    n_params: int
    criteria: dict
    r2: dict
    cv_heldout: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain dictionary of the entry."""
        return dict(vars(self))


@dataclass
class DiscoveryResult:
    """Outcome of :func:`~constitutive.calibration.discovery.discover` (or of the ICNN fit)."""

    method: str
    library: str
    criterion: str
    residual: str
    units: str
    train: list
    test: list
    path: list
    selected: int
    material: object = field(repr=False)
    stability: dict | None = None
    lp_path: list = field(default_factory=list)
    linear: bool = True
    linear_error: float = 0.0
    n_candidates: int = 0
    wall_time: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def best(self) -> PathEntry:
        """The chosen path entry."""
        return self.path[self.selected]

    @property
    def r2(self) -> dict:
        """Unclamped ``R^2`` of the chosen model per experiment (training and test)."""
        return dict(self.best.r2)

    @property
    def terms(self) -> str:
        """The chosen model's ``terms`` option (e.g. ``"I1:exp2+I2:lin+ogden"``)."""
        return self.material.option_values().get("terms", "")

    @property
    def stable(self) -> bool | None:
        """Drucker-stable on the data and the wider stretch range (None if not checked)."""
        s = self.stability
        return None if s is None else bool(s["stable_on_data"] and s["stable_in_range"])

    def material_spec(self) -> dict:
        """``{"model", "options", "parameters"}`` of the chosen material (what files store)."""
        m = self.material
        return {"model": m.name, "options": m.option_values(), "parameters": m.parameter_values()}

    def compile_command(self, name: str = "DISC", output: str = "umat") -> str:
        """The ``constitutive compile`` line for the chosen model and its ``PROPS`` values."""
        spec = self.material_spec()
        opts = " ".join(f"--option {k}={v}" for k, v in spec["options"].items())
        n = len(next(v for v in spec["parameters"].values() if isinstance(v, list)))
        return f"constitutive compile {spec['model']} {opts} --terms {n} --name {name} --output {output}"

    def check_command(self) -> str:
        """The ``constitutive check`` line of the chosen model (all verifiers)."""
        spec = self.material_spec()
        items = [f"{k}={v}" for k, v in spec["options"].items()]
        items += [f"{k}={','.join(f'{x:.17g}' for x in v)}" if isinstance(v, list) else f"{k}={v:.17g}"
                  for k, v in spec["parameters"].items()]
        return f"constitutive check {spec['model']} " + " ".join(f"--param {i}" for i in items)

    def props(self) -> list[float]:
        """The UMAT ``PROPS`` of the chosen model: ``[N, w[N], b[N], a[3]]`` (or ``theta``)."""
        p = self.material.parameter_values()
        lists = [v for v in p.values() if isinstance(v, list)]
        out = [float(len(lists[0]))]
        for v in p.values():
            out += v if isinstance(v, list) else [v]
        return out

    def to_dict(self) -> dict:
        """JSON-ready dictionary (format ``constitutive-discovery``, with the material entry)."""
        d = {k: getattr(self, k) for k in ("method", "library", "criterion", "residual", "units", "train",
                                           "test", "selected", "stability", "lp_path", "linear",
                                           "linear_error", "n_candidates", "wall_time", "extra")}
        d["path"] = [p.to_dict() for p in self.path]
        d["material"] = self.material_spec()
        d["r2"] = self.r2
        return {"format": FORMAT, **_clean(d)}

    def save_json(self, path) -> None:
        """Write :meth:`to_dict` as JSON (atomic); :func:`materials.discovered.from_file` reads it."""
        write_text_atomic(path, json.dumps(self.to_dict(), indent=2))

    def save_hdf5(self, path) -> None:
        """HDF5: attributes (JSON of the material and of the path), one dataset per path entry."""
        import h5py

        d = self.to_dict()

        def writer(tmp: str) -> None:
            with h5py.File(tmp, "w") as f:
                f.attrs["format"] = FORMAT
                f.attrs["units"] = self.units
                f.attrs["material_json"] = json.dumps(d["material"])
                f.attrs["result_json"] = json.dumps({k: v for k, v in d.items() if k != "path"})
                for p in d["path"]:
                    g = f.create_group(f"path/{p['k']}")
                    g.attrs["entry_json"] = json.dumps(p)
                    g.create_dataset("w", data=np.asarray(p["w"], dtype=float))
                    g.create_dataset("b", data=np.asarray(p["b"], dtype=float))

        atomic_write(path, writer)

    def summary(self) -> str:
        """Path table (R^2 per experiment against the number of terms) and the chosen model."""
        names = self.train + self.test
        head = f"{'k':>2} {'terms':<40}" + "".join(f"{n[:14]:>15}" for n in names) + f"{self.criterion:>11}"
        lines = [f"discovery ({self.method}, library {self.library}, {self.residual} residual, "
                 f"{self.n_candidates} candidates, {self.wall_time:.2f} s); train: {', '.join(self.train)}"
                 + (f"; test: {', '.join(self.test)}" if self.test else ""), head]
        for i, p in enumerate(self.path):
            score = p.criteria.get(self.criterion, math.nan)
            mark = " <" if i == self.selected else ""
            lines.append(f"{p.k:>2} {' + '.join(p.terms)[:40]:<40}" + "".join(
                f"{_fmt_r2(p.r2.get(n, math.nan)):>15}" for n in names) + f"{score:>11.4g}{mark}")
        best = self.best
        if self.method.startswith("icnn"):
            lines.append(f"selected: {best.labels[0]}")
        else:
            lines.append(f"selected ({self.criterion}): W = " + " + ".join(
                f"{w:.4g} {t}" for w, t in zip(best.w, best.labels, strict=False)))
            lines += [f"  {lab:<6} = {_value(best, lab):<11.5g} std err {se:.3g}" for lab, se in
                      best.std_errors.items()]
        if self.stability is not None:
            s = self.stability
            lines.append("stability (Drucker): " + ("ok" if self.stable else "FAILS") +
                         f" on data and stretches {s['range'][0]:.3g}-{s['range'][1]:.3g}")
        if not self.linear:
            lines.append(f"note: screening was a linearisation (relative error {self.linear_error:.2g})")
        return "\n".join(lines)

    def plot_path(self, path) -> None:
        """R^2 per experiment against the number of terms (PNG)."""
        from .plotting import plot_path

        plot_path(self, path)

    def plot_fit(self, path, experiments, n: int = 100) -> None:
        """Data and chosen model per experiment (PNG)."""
        from .plotting import plot_fit

        plot_fit(self, experiments, path, n)
