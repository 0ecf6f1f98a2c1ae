"""CSV -> :class:`~constitutive.calibration.experiments.Experiment` (used by ``constitutive data import``).

CSV files as test machines and other codes write them: ``#`` comment lines (kept as provenance),
an optional header row, comma-, semicolon-, tab- or space-separated values (detected with
``csv.Sniffer``; the choice is reported). Columns are chosen by index or header name; the default
order is the mode's control columns then its stress columns:

* uniaxial, equibiaxial, pure_shear: ``stretch, stress`` (or engineering strain, ``control="strain"``:
  ``stretch = 1 + strain``)
* simple_shear: ``shear, stress``
* biaxial: ``stretch1, stretch2, stress11, stress22``
* general: ``F11..F33`` (9, row-major) then ``stress11..stress33`` (9)

Units may come from the header (``stress [kPa]``, ``stress (MPa)``); an explicit ``units`` wins
when both agree and an error is raised when they disagree. ``stress_measure`` accepts the
experimentalists' names: ``engineering`` (= nominal, force per reference area) and ``true``
(= Cauchy). Every assumption made is appended to ``notes`` (printed by the CLI).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass

import numpy as np

from constitutive.units import normalise_units

from .experiments import Experiment, normalise_mode

N_COLUMNS = {"uniaxial": 2, "equibiaxial": 2, "pure_shear": 2, "simple_shear": 2, "biaxial": 4,
             "general": 18}
MEASURE_ALIASES = {"engineering": "nominal", "true": "cauchy"}
CONTROLS = ("stretch", "strain")
_UNIT = re.compile(r"[\[(]\s*([A-Za-z/]+)\s*[\])]")


@dataclass
class Table:
    """A parsed CSV file: data rows with their line numbers (1-based), header, comments."""

    path: str
    comments: list[str]
    header: list[str] | None
    rows: list[list[str]]
    lines: list[int]
    delimiter: str


def _sniff(path: str, sample: list[str]) -> str:
    """Column separator of the data lines (comma, semicolon, tab or spaces)."""
    text = "\n".join(sample[:20])
    try:
        return csv.Sniffer().sniff(text, delimiters=",;\t ").delimiter
    except csv.Error:  # ragged rows: the separator of the first line that holds one
        for line in sample[:20]:
            for d in (",", ";", "\t"):
                if d in line:
                    return d
        return " "


def read_table(path) -> Table:
    """Parse ``path`` (comments, optional header, rows); the separator is detected."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"CSV file not found: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a directory, expected a CSV file")
    comments, raw = [], []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for no, line in enumerate(f, 1):
                s = line.strip()
                if not s:
                    continue
                if s.startswith("#"):
                    comments.append(s.lstrip("#").strip())
                else:
                    raw.append((no, s))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text file ({exc.reason} at byte {exc.start})") from None
    if not raw:
        raise ValueError(f"{path}: no data rows (only comments or empty lines)")
    delim = _sniff(path, [s for _, s in raw])
    split = (lambda s: s.split()) if delim == " " else (lambda s: next(csv.reader([s], delimiter=delim)))
    rows = [[c.strip() for c in split(s)] for _, s in raw]
    lines = [no for no, _ in raw]
    header = None
    if not _numeric(rows[0]):
        header, rows, lines = rows[0], rows[1:], lines[1:]
    if not rows:
        raise ValueError(f"{path}: a header ({', '.join(header)}) but no data rows")
    return Table(path, comments, header, rows, lines, delim)


def _numeric(row: list[str]) -> bool:
    try:
        [float(x) for x in row]
    except ValueError:
        return False
    return True


def _column(spec, table: Table) -> int:
    if isinstance(spec, int) or str(spec).lstrip("-").isdigit():
        return int(spec)
    if table.header is None:
        raise ValueError(f"{table.path}: column {spec!r} given by name but the file has no header")
    for i, h in enumerate(table.header):
        if h == spec or re.split(r"\s*[\[(]", h)[0] == spec:
            return i
    raise ValueError(f"{table.path}: no column named {spec!r}; the header is {table.header}")


def _header_units(table: Table, cols: list[int], k: int) -> str | None:
    found = {m.group(1) for c in cols[k:] if table.header and c < len(table.header)
             for m in [_UNIT.search(table.header[c])] if m}
    if len(found) > 1:
        raise ValueError(f"{table.path}: the stress columns state different units {sorted(found)}")
    return found.pop() if found else None


def _values(table: Table, cols: list[int]) -> np.ndarray:
    width = max(cols) + 1
    out = np.empty((len(table.rows), len(cols)))
    for r, (row, no) in enumerate(zip(table.rows, table.lines, strict=True)):
        if len(row) < width:
            sep = {"\t": "tab", " ": "space", ",": "comma", ";": "semicolon"}[table.delimiter]
            raise ValueError(f"{table.path}, line {no}: {len(row)} value(s) ({sep}-separated: "
                             f"{row}), but column {width - 1} is needed")
        for j, c in enumerate(cols):
            try:
                out[r, j] = float(row[c])
            except ValueError:
                raise ValueError(f"{table.path}, line {no}, column {c}: {row[c]!r} is not a number"
                                 + (" (missing value)" if not row[c] else "")) from None
    return out


def experiment_from_csv(path, mode: str, stress_measure: str = "nominal", units: str | None = None,
                        name: str | None = None, source: str | None = None, columns=None,
                        where: dict | None = None, temperature: float | None = None,
                        description: str = "", control: str = "stretch",
                        notes: list[str] | None = None) -> Experiment:
    """Build a validated experiment from a CSV file.

    Parameters
    ----------
    columns : indices or header names in the default order above (default: the first ones,
        skipping ``where`` filter columns)
    where : ``{column: value}`` keeps only rows whose column equals value (as text)
    units : stress unit; default: from the stress column's header (``stress [kPa]``)
    control : ``"stretch"`` or ``"strain"`` (engineering strain, uniaxial/equibiaxial/pure-shear
        stretch columns: ``lambda = 1 + strain``)
    source : provenance; default: the file's ``#`` comment lines and its name
    notes : list receiving one line per assumption made (separator, units, conversions)
    """
    notes = notes if notes is not None else []
    mode = normalise_mode(mode)
    measure = str(stress_measure).strip().lower()
    if measure in MEASURE_ALIASES:
        notes.append(f"stress measure {measure!r} read as {MEASURE_ALIASES[measure]!r}")
        measure = MEASURE_ALIASES[measure]
    if control not in CONTROLS:
        raise ValueError(f"control: expected one of {list(CONTROLS)}, got {control!r}")
    if units is not None:
        units = normalise_units(units)  # fail early on metadata, before reading the file
    table = read_table(path)
    if table.delimiter != ",":
        notes.append(f"columns separated by {repr(table.delimiter)}")
    for col, val in (where or {}).items():
        c = _column(col, table)
        keep = [i for i, r in enumerate(table.rows) if c < len(r) and r[c] == str(val)]
        if not keep:
            raise ValueError(f"{table.path}: no rows with {col} == {val!r}")
        table.rows = [table.rows[i] for i in keep]
        table.lines = [table.lines[i] for i in keep]
    need = N_COLUMNS[mode]
    k = need // 2  # control columns
    if measure == "cauchy_difference":
        need = k + 1  # biaxial: lambda1, lambda2, sigma11 - sigma22
    if columns is None:
        skip = {_column(c, table) for c in (where or {})}
        cols = [i for i in range(len(table.rows[0])) if i not in skip][:need]
    else:
        cols = [_column(c, table) for c in columns]
    if len(cols) != need:
        sep = {"\t": "tab", " ": "space", ",": "comma", ";": "semicolon"}[table.delimiter]
        raise ValueError(f"{table.path}: mode {mode!r} needs {need} columns, found {len(cols)} "
                         f"({sep}-separated, first data line {table.lines[0]}: {table.rows[0]})")
    header_units = _header_units(table, cols, k)
    if units is None:
        if header_units is None:
            raise ValueError(f"{table.path}: no stress unit: give units (--units MPa) or put it in the "
                             "header, e.g. 'stress [MPa]'")
        units = normalise_units(header_units)
        notes.append(f"stress unit {units!r} taken from the header")
    elif header_units is not None and normalise_units(header_units) != units:
        raise ValueError(f"{table.path}: units {units!r} given, but the header says {header_units!r}")
    data = _values(table, cols)
    ctrl, stress = data[:, :k], data[:, k:]
    if control == "strain":
        if mode not in ("uniaxial", "equibiaxial", "pure_shear", "biaxial"):
            raise ValueError(f"control: 'strain' applies to stretch-controlled modes, not {mode!r}")
        ctrl = 1.0 + ctrl
        notes.append("engineering strain converted to stretch: lambda = 1 + strain")
    key = {"simple_shear": "shear", "general": "F"}.get(mode, "stretch")
    if mode == "general":
        ctrl, stress = ctrl.reshape(-1, 3, 3), stress.reshape(-1, 3, 3)
    else:
        ctrl = ctrl[:, 0] if k == 1 else ctrl
        stress = stress[:, 0] if stress.shape[1] == 1 else stress
    if source is None:
        source = " ".join(table.comments + [f"(imported from {os.path.basename(table.path)})"])
    name = name or os.path.splitext(os.path.basename(table.path))[0]
    return Experiment(name=name, mode=mode, stress=stress, stress_measure=measure,
                      units=units, source=source, temperature=temperature,
                      description=description, **{key: ctrl})


def read_csv(path) -> tuple[list[str], list[str] | None, list[list[str]]]:
    """Comments (without ``#``), header (or None) and the data rows as strings."""
    t = read_table(path)
    return t.comments, t.header, t.rows
