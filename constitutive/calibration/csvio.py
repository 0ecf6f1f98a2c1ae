"""CSV -> :class:`~constitutive.calibration.experiments.Experiment` (used by ``constitutive data import``).

CSV files may start with ``#`` comment lines (kept as provenance) and one header row. Columns
are chosen by index or header name; the default order is the mode's control columns then its
stress columns:

* uniaxial, equibiaxial, pure_shear: ``stretch, stress``
* simple_shear: ``shear, stress``
* biaxial: ``stretch1, stretch2, stress11, stress22``
* general: ``F11..F33`` (9, row-major) then ``stress11..stress33`` (9)
"""

from __future__ import annotations

import csv
import os

import numpy as np

from .experiments import Experiment, normalise_mode, normalise_units

N_COLUMNS = {"uniaxial": 2, "equibiaxial": 2, "pure_shear": 2, "simple_shear": 2, "biaxial": 4,
             "general": 18}


def read_csv(path) -> tuple[list[str], list[str] | None, list[list[str]]]:
    """Comments (without ``#``), header (or None) and the data rows as strings."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"CSV file not found: {path}")
    comments, rows = [], []
    with open(path, newline="") as f:
        for line in f:
            s = line.strip()
            if not s:
                continue
            if s.startswith("#"):
                comments.append(s.lstrip("#").strip())
            else:
                rows.append(next(csv.reader([s])))
    if not rows:
        raise ValueError(f"{path}: no data rows")
    header = None
    try:
        [float(x) for x in rows[0]]
    except ValueError:
        header, rows = [h.strip() for h in rows[0]], rows[1:]
    return comments, header, rows


def _column(spec, header, path) -> int:
    if isinstance(spec, int) or str(spec).lstrip("-").isdigit():
        return int(spec)
    if header is None:
        raise ValueError(f"{path}: column {spec!r} given by name but the file has no header")
    for i, h in enumerate(header):
        if h == spec or h.split(" [")[0] == spec:
            return i
    raise ValueError(f"{path}: no column named {spec!r}; header is {header}")


def experiment_from_csv(path, mode: str, stress_measure: str = "nominal", units: str = "MPa",
                        name: str | None = None, source: str | None = None, columns=None,
                        where: dict | None = None, temperature: float | None = None,
                        description: str = "") -> Experiment:
    """Build a validated experiment from a CSV file.

    Parameters
    ----------
    columns : indices or header names in the default order above (default: the first ones,
        or the last ones if a ``where`` filter column comes first)
    where : ``{column: value}`` keeps only rows whose column equals value (as text)
    source : provenance; default: the file's ``#`` comment lines and its name
    """
    mode = normalise_mode(mode)
    units = normalise_units(units)  # fail early on metadata, before reading the file
    comments, header, rows = read_csv(path)
    for col, val in (where or {}).items():
        c = _column(col, header, path)
        rows = [r for r in rows if r[c].strip() == str(val)]
        if not rows:
            raise ValueError(f"{path}: no rows with {col} == {val!r}")
    need = N_COLUMNS[mode]
    k = need // 2  # control columns
    if str(stress_measure).strip().lower() == "cauchy_difference":
        need = k + 1  # biaxial: lambda1, lambda2, sigma11 - sigma22
    ncol = len(rows[0])
    if columns is None:
        skip = {_column(c, header, path) for c in (where or {})}
        cols = [i for i in range(ncol) if i not in skip][:need]
    else:
        cols = [_column(c, header, path) for c in columns]
    if len(cols) != need:
        raise ValueError(f"columns: mode {mode!r} needs {need} columns, got {len(cols)} ({cols})")
    try:
        data = np.array([[float(r[c]) for c in cols] for r in rows])
    except (ValueError, IndexError) as exc:
        raise ValueError(f"{path}: non-numeric or missing value in the selected columns: {exc}") from exc
    ctrl, stress = data[:, :k], data[:, k:]
    key = {"simple_shear": "shear", "general": "F"}.get(mode, "stretch")
    if mode == "general":
        ctrl, stress = ctrl.reshape(-1, 3, 3), stress.reshape(-1, 3, 3)
    else:
        ctrl = ctrl[:, 0] if k == 1 else ctrl
        stress = stress[:, 0] if stress.shape[1] == 1 else stress
    if source is None:
        source = " ".join(comments + [f"(imported from {os.path.basename(os.fspath(path))})"])
    name = name or os.path.splitext(os.path.basename(os.fspath(path)))[0]
    return Experiment(name=name, mode=mode, stress=stress, stress_measure=stress_measure,
                      units=units, source=source, temperature=temperature,
                      description=description, **{key: ctrl})
