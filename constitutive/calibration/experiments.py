"""HDF5 experiment format: one group per homogeneous mechanical test (schema in docs/calibration.md).

File layout::

    /                         attrs: format = "constitutive-experiments", version = 1,
                                     title, source (optional)
    /experiments/<name>/      attrs: mode, stress_measure, units, source, temperature (optional),
                                     weight (optional scalar), description (optional),
                                     free, pressure_component (general mode only, optional)
        stretch  (n,) or (n,2)    principal stretch(es) in the loading direction(s)
        shear    (n,)             amount of shear gamma (simple_shear)
        F        (n,3,3)          deformation gradient (general)
        stress   (n,) | (n,2) | (n,3,3)
        weight   (n,)             optional per-point weights (>= 0)
        time     (n,)             optional: time of each point (non-decreasing), for state-carrying
                                  models (constitutive.calibration.history); attribute ``control``
                                  (field ``Experiment.control_type``):
                                  ``strain`` (default: the stretch/shear/F is prescribed, ``stress``
                                  measured) or ``stress`` (the nominal stress of the loading
                                  direction is prescribed, the stretch/shear measured: creep)

Modes and the stress component(s) stored in ``stress``:

==============  ============================  ==================  =========================
mode            kinematics                    datasets            stress
==============  ============================  ==================  =========================
uniaxial        F = diag(l, ., .)             stretch (n,)        (n,)  component 11
equibiaxial     F = diag(l, l, .)             stretch (n,)        (n,)  component 11 (= 22)
pure_shear      F = diag(l, 1, .)             stretch (n,)        (n,)  component 11
simple_shear    F = I + g e1 x e2             shear (n,)          (n,)  component 12
biaxial         F = diag(l1, l2, .)           stretch (n,2)       (n,2) components 11, 22
general         F prescribed                  F (n,3,3)           (n,3,3) full tensor
==============  ============================  ==================  =========================

``stress_measure`` is ``nominal`` (= ``pk1``, force per undeformed area) or ``cauchy``; for
mode ``biaxial`` also ``cauchy_difference``: ``stress`` (n,) holds ``sigma11 - sigma22`` (the
quantity reported by Jones & Treloar 1975, independent of the hydrostatic pressure).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from constitutive.files import atomic_write
from constitutive.units import normalise_units, unit_factor

FORMAT_NAME = "constitutive-experiments"
FORMAT_VERSION = 1
MODES = ("uniaxial", "equibiaxial", "pure_shear", "simple_shear", "biaxial", "general")
EXPERIMENT_STRESS_MEASURES = ("nominal", "pk1", "cauchy", "cauchy_difference")
_MODE_ALIASES = {"ut": "uniaxial", "et": "equibiaxial", "eb": "equibiaxial", "ps": "pure_shear",
                 "planar": "pure_shear", "ss": "simple_shear", "bt": "biaxial"}


def normalise_mode(mode: str) -> str:
    """Canonical mode name (accepts ``UT``/``ET``/``PS``/``SS``, dashes, case)."""
    if not isinstance(mode, str):
        raise TypeError(f"mode: expected a string, got {type(mode).__name__}")
    key = mode.strip().lower().replace("-", "_").replace(" ", "_")
    key = _MODE_ALIASES.get(key, key)
    if key not in MODES:
        raise ValueError(f"mode: unknown mode {mode!r}; expected one of {list(MODES)}")
    return key


@dataclass
class Experiment:
    """One homogeneous test: kinematic control, measured stress and metadata.

    Use :meth:`control` for the kinematic array of the mode and :attr:`stress` for the data;
    construction validates shapes, values and metadata (``ValueError`` naming the field).
    """

    name: str
    mode: str
    stress: np.ndarray
    stretch: np.ndarray | None = None
    shear: np.ndarray | None = None
    F: np.ndarray | None = None
    stress_measure: str = "nominal"
    units: str = "MPa"
    source: str = ""
    temperature: float | None = None
    weight: float = 1.0
    point_weight: np.ndarray | None = None
    description: str = ""
    free: tuple[str, ...] = ()
    pressure_component: str = "33"
    extra: dict = field(default_factory=dict)
    time: np.ndarray | None = None
    control_type: str = "strain"

    def __post_init__(self):
        self.mode = normalise_mode(self.mode)
        self.units = normalise_units(self.units)
        sm = str(self.stress_measure).strip().lower()
        if sm not in EXPERIMENT_STRESS_MEASURES:
            raise ValueError(
                f"{self.name}: stress_measure {self.stress_measure!r} unknown; expected one of "
                f"{list(EXPERIMENT_STRESS_MEASURES)}"
            )
        self.stress_measure = "nominal" if sm == "pk1" else sm
        self.stress = _array(self.stress, self.name, "stress")
        for key in ("stretch", "shear", "F", "point_weight", "time"):
            v = getattr(self, key)
            if v is not None:
                setattr(self, key, _array(v, self.name, key))
        self.free = tuple(str(c) for c in self.free)
        if self.temperature is not None and not math.isfinite(float(self.temperature)):
            raise ValueError(f"{self.name}: temperature must be finite, got {self.temperature}")
        if not (math.isfinite(float(self.weight)) and float(self.weight) >= 0):
            raise ValueError(f"{self.name}: weight must be a finite number >= 0, got {self.weight}")
        _validate_shapes(self)
        _validate_history(self)

    @property
    def n(self) -> int:
        """Number of data points."""
        return int(self.stress.shape[0])

    def control(self) -> np.ndarray:
        """The kinematic control array of this mode (stretch, shear or F)."""
        return {"simple_shear": self.shear, "general": self.F}.get(self.mode, self.stretch)

    def stress_in(self, units: str) -> np.ndarray:
        """Measured stress converted to ``units``."""
        return self.stress * unit_factor(self.units, units)

    def weights(self) -> np.ndarray:
        """Per-point weights times the experiment weight, shape (n,)."""
        w = np.ones(self.n) if self.point_weight is None else self.point_weight
        return float(self.weight) * w

    def max_stretch(self) -> float:
        """Largest principal stretch (or 1/smallest) reached, for plotting and stability ranges."""
        if self.mode == "simple_shear":
            g = np.abs(self.shear).max()
            return float(g / 2 + math.sqrt(1 + g * g / 4))
        if self.mode == "general":
            s = np.linalg.svd(self.F, compute_uv=False)
            return float(max(s.max(), 1 / s.min()))
        lam = self.stretch
        return float(max(lam.max(), 1 / lam.min()))


def _array(v, name: str, key: str) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: dataset {key!r} must hold numbers") from exc
    if a.ndim == 0 or a.shape[0] == 0:
        raise ValueError(f"{name}: dataset {key!r} is empty")
    bad = ~np.isfinite(a)
    if bad.any():
        first = int(np.argwhere(bad)[0][0])
        raise ValueError(
            f"{name}: dataset {key!r} contains {int(bad.sum())} NaN/inf value(s) (first at row {first})"
        )
    return a


_REQUIRED = {
    "uniaxial": ("stretch", (), ()), "equibiaxial": ("stretch", (), ()),
    "pure_shear": ("stretch", (), ()), "simple_shear": ("shear", (), ()),
    "biaxial": ("stretch", (2,), (2,)), "general": ("F", (3, 3), (3, 3)),
}


def _shape(tail: tuple) -> str:
    return "(" + ", ".join(["n"] + [str(t) for t in tail]) + ")"


def _validate_shapes(e: Experiment) -> None:
    key, ctrl_tail, stress_tail = _REQUIRED[e.mode]
    if e.stress_measure == "cauchy_difference":
        if e.mode != "biaxial":
            raise ValueError(f"{e.name}: stress_measure 'cauchy_difference' (sigma11 - sigma22) is "
                             f"defined for mode 'biaxial' only, got mode {e.mode!r}")
        stress_tail = ()
    ctrl = getattr(e, key)
    if ctrl is None:
        raise ValueError(f"{e.name}: mode {e.mode!r} needs dataset {key!r}")
    if e.mode == "equibiaxial" and e.stress.ndim == 2 and e.stress.shape[1:] == (2,):
        e.stress = e.stress[:, 0].copy()  # (n,2) with P11 = P22: keep P11
    if tuple(ctrl.shape[1:]) != ctrl_tail:
        raise ValueError(f"{e.name}: dataset {key!r} must have shape {_shape(ctrl_tail)}, got {ctrl.shape}")
    if tuple(e.stress.shape[1:]) != stress_tail:
        raise ValueError(f"{e.name}: dataset 'stress' must have shape {_shape(stress_tail)} "
                         f"for mode {e.mode!r}, got {e.stress.shape}")
    if ctrl.shape[0] != e.stress.shape[0]:
        raise ValueError(f"{e.name}: length mismatch: {key!r} has {ctrl.shape[0]} rows, "
                         f"'stress' has {e.stress.shape[0]}")
    if key == "stretch" and (ctrl <= 0).any():
        raise ValueError(f"{e.name}: stretches must be > 0")
    if key == "F" and (np.linalg.det(ctrl) <= 0).any():
        raise ValueError(f"{e.name}: det F must be > 0 in every row of 'F'")
    if e.point_weight is not None:
        if e.point_weight.shape != (e.n,):
            raise ValueError(f"{e.name}: length mismatch: 'weight' has shape {e.point_weight.shape}, "
                             f"expected ({e.n},)")
        if (e.point_weight < 0).any():
            raise ValueError(f"{e.name}: 'weight' must be >= 0")
    for c in (*e.free, e.pressure_component):
        if len(c) != 2 or not set(c) <= set("123"):
            raise ValueError(f"{e.name}: component {c!r} must be two digits 1-3, e.g. '33'")


CONTROLS = ("strain", "stress")


def _validate_history(e: Experiment) -> None:
    """``time`` (n,) non-decreasing and ``control`` (stress control: one loading component)."""
    if e.control_type not in CONTROLS:
        raise ValueError(f"{e.name}: control {e.control_type!r} unknown; expected one of {list(CONTROLS)}")
    if e.time is None:
        if e.control_type != "strain":
            raise ValueError(f"{e.name}: control 'stress' (creep) needs the dataset 'time'")
        return
    if e.time.shape != (e.n,):
        raise ValueError(f"{e.name}: length mismatch: 'time' has shape {e.time.shape}, expected ({e.n},)")
    back = np.flatnonzero(np.diff(e.time) < 0)
    if back.size:
        k = int(back[0]) + 1
        raise ValueError(f"{e.name}: dataset 'time' must be non-decreasing; row {k} ({e.time[k]:g}) is "
                         f"earlier than row {k - 1} ({e.time[k - 1]:g})")
    if e.control_type == "stress" and e.mode not in ("uniaxial", "equibiaxial", "pure_shear", "simple_shear"):
        raise ValueError(f"{e.name}: control 'stress' is defined for uniaxial, equibiaxial, pure_shear and "
                         f"simple_shear, got mode {e.mode!r}")


# ---------------------------------------------------------------------------------- I/O
_DATASETS = ("stretch", "shear", "F", "stress", "time")


def write_experiments(path, experiments: list[Experiment], title: str = "", source: str = "") -> None:
    """Write experiments to an HDF5 file atomically (temporary file + ``os.replace``)."""
    import h5py

    names = [e.name for e in experiments]
    if len(set(names)) != len(names):
        raise ValueError(f"experiments: names must be unique, got {names}")

    def writer(tmp: str) -> None:
        with h5py.File(tmp, "w") as f:
            f.attrs.update(format=FORMAT_NAME, version=FORMAT_VERSION, title=title, source=source)
            root = f.create_group("experiments", track_order=True)
            for e in experiments:
                g = root.create_group(e.name)
                g.attrs.update(mode=e.mode, stress_measure=e.stress_measure, units=e.units,
                               source=e.source, description=e.description, weight=float(e.weight))
                if e.temperature is not None:
                    g.attrs["temperature"] = float(e.temperature)
                if e.time is not None:
                    g.attrs["control"] = e.control_type
                if e.mode == "general":
                    g.attrs["free"] = ",".join(e.free)
                    g.attrs["pressure_component"] = e.pressure_component
                for k, v in e.extra.items():
                    g.attrs[k] = v
                for key in _DATASETS:
                    if getattr(e, key) is not None:
                        g.create_dataset(key, data=getattr(e, key))
                if e.point_weight is not None:
                    g.create_dataset("weight", data=e.point_weight)

    atomic_write(path, writer)


def _attr(g, key, default=None):
    v = g.attrs.get(key, default)
    return v.decode() if isinstance(v, bytes) else v


def read_experiments(path, names: list[str] | None = None) -> list[Experiment]:
    """Read and validate all (or the named) experiments of an HDF5 file or bundled data set.

    ``path`` is a file, or the name of a bundled data set (``"treloar"``,
    :func:`constitutive.calibration.datasets.available`).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the experiment and
    field for a missing dataset or attribute, a length mismatch, an unknown mode or unit, or NaN.
    """
    import h5py

    from .datasets import available, resolve

    path = resolve(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"experiment file not found: {path} (bundled data sets: "
                                f"{', '.join(available())})")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise ValueError(f"{path}: not a readable HDF5 file ({exc})") from exc
    with f:
        if "experiments" not in f or not isinstance(f["experiments"], h5py.Group):
            raise ValueError(f"{path}: missing group '/experiments' (not a {FORMAT_NAME} file)")
        groups = f["experiments"]
        chosen = list(groups) if names is None else list(names)
        out = []
        for name in chosen:
            if name not in groups:
                raise ValueError(f"{path}: no experiment {name!r}; available: {list(groups)}")
            if not isinstance(groups[name], h5py.Group):
                raise ValueError(f"{path}: /experiments/{name} is a dataset, expected a group")
            try:
                out.append(_read_group(groups[name], name, path))
            except (ValueError, TypeError, KeyError, OSError) as exc:
                msg = str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc)
                if not msg.startswith(path):
                    msg = f"{path}: experiment {name!r}: {msg}"
                raise ValueError(msg) from exc
    if not out:
        raise ValueError(f"{path}: the file holds no experiments")
    return out


def _read_group(g, name: str, path: str) -> Experiment:
    for key in ("mode", "units"):
        if key not in g.attrs:
            raise ValueError(f"{path}: experiment {name!r}: missing attribute {key!r}")
    mode = normalise_mode(str(_attr(g, "mode")))
    if "stress" not in g:
        raise ValueError(f"{path}: experiment {name!r}: missing dataset 'stress'")
    needed = _REQUIRED[mode][0]
    if needed not in g:
        raise ValueError(f"{path}: experiment {name!r}: missing dataset {needed!r} (mode {mode!r})")
    data = {k: _numeric_dataset(g, k) for k in _DATASETS if k in g}
    free = _attr(g, "free", "")
    temp = _attr(g, "temperature")
    known = {"mode", "stress_measure", "units", "source", "description", "weight", "temperature",
             "free", "pressure_component", "control"}
    extra = {k: _attr(g, k) for k in g.attrs if k not in known}
    try:
        return Experiment(
            name=name, mode=mode, stress_measure=_attr(g, "stress_measure", "nominal"),
            units=_attr(g, "units"), source=_attr(g, "source", ""),
            description=_attr(g, "description", ""), weight=float(_attr(g, "weight", 1.0)),
            temperature=None if temp is None else float(temp),
            point_weight=g["weight"][()] if "weight" in g else None,
            free=tuple(c for c in str(free).split(",") if c),
            pressure_component=_attr(g, "pressure_component", "33"), extra=extra,
            control_type=str(_attr(g, "control", "strain")), **data,
        )
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{path}: experiment {name!r}: {exc}") from exc


def _numeric_dataset(g, key: str) -> np.ndarray:
    a = g[key][()]
    if not (isinstance(a, np.ndarray) and np.issubdtype(a.dtype, np.number)):
        raise ValueError(f"dataset {key!r} holds {getattr(a, 'dtype', type(a).__name__)}, expected numbers")
    return a.astype(np.float64)


def load_experiments(path, names: list[str] | None = None) -> list[Experiment]:
    """Alias of :func:`read_experiments` (the name used by the fitting API and the demo)."""
    return read_experiments(path, names)
