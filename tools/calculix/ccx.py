"""Run CalculiX ``ccx`` decks from Python and read their results.

A standalone helper (standard library + numpy; it does not import
``constitutive`` or torch) around a ``ccx`` 2.20 binary built with external
UMAT support by ``build.sh`` next to this file.  See ``NOTES.md`` for the
conventions of CalculiX's ``@ABAQUSNL_<LIB>_<FUNC>`` interface.

Functions
---------
find_ccx
    Path of a usable ``ccx`` (``$CONSTITUTIVE_CCX``, then build.sh's cache).
build_ccx
    Run ``build.sh`` (cached, idempotent) and return the path of ``ccx``.
run_deck
    Write a deck, run ``ccx`` on it, fail loudly on errors.
read_dat
    Parse ``*NODE PRINT`` / ``*EL PRINT`` blocks of a ``.dat`` file.
read_iterations
    Newton iterations per increment from a ``.sta`` or ``.cvg`` file.
read_frd
    Nodal results of a ``.frd`` file, also the double-precision binary form
    written with ``*NODE FILE, DOUBLE`` (module ``ccx_frd``).
solid_deck, user_material, hyperelastic_material, calculix_card, card_warnings
    Decks for C3D8 meshes, material cards, Abaqus ``*HYPERELASTIC`` cards
    adapted to CalculiX (module ``ccx_decks``).
unit_cube_deck
    One C3D8 unit cube driven through a homogeneous deformation-gradient path.
cube_first_piola
    First Piola-Kirchhoff stress of that cube from its face reaction forces.

Examples
--------
>>> import numpy as np, ccx
>>> F = np.array([np.diag([1.0 + 0.5 * t, 1.0, 1.0]) for t in np.linspace(0, 1, 21)])
>>> deck = ccx.unit_cube_deck(F, "*MATERIAL, NAME=RUBBER\\n*HYPERELASTIC, NEO HOOKE\\n0.5, 0.1\\n")
>>> res = ccx.run_deck(deck, "/tmp/cube")                     # doctest: +SKIP
>>> t, P = ccx.cube_first_piola(res.read_dat())               # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
import subprocess
import time as _time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

try:  # imported as part of a package
    from .ccx_decks import calculix_card, card_warnings, hyperelastic_material, solid_deck, user_material
    from .ccx_frd import FrdFile, read_frd
except ImportError:  # tools/calculix on sys.path (the usual way)
    from ccx_decks import calculix_card, card_warnings, hyperelastic_material, solid_deck, user_material
    from ccx_frd import FrdFile, read_frd

__all__ = [
    "CCX_VERSION",
    "CCX_TAG",
    "TIGHT_CONTROLS",
    "CCXError",
    "CCXResult",
    "DatBlock",
    "DatFile",
    "Iterations",
    "cache_ccx_path",
    "find_ccx",
    "build_ccx",
    "run_deck",
    "read_dat",
    "read_iterations",
    "unit_cube_deck",
    "cube_first_piola",
    "FrdFile",
    "read_frd",
    "solid_deck",
    "user_material",
    "hyperelastic_material",
    "calculix_card",
    "card_warnings",
]

CCX_VERSION = "2.20"
CCX_TAG = "2.20-ext"
HERE = Path(__file__).resolve().parent
BUILD_SCRIPT = HERE / "build.sh"

#: ``*CONTROLS`` cards (placed inside a ``*STEP``) that make CalculiX iterate
#: to a residual of 1e-9 of the time-averaged force and a correction of 1e-9
#: of the increment (defaults: 0.5 % and 1 %, see NOTES.md), and that allow
#: enough iterations for that.  TIME INCREMENTATION: I0, IR, IP, IC, IL, IG.
#: CalculiX also stops iterating once the largest residual force is below
#: 1e-6 or the largest correction below 1e-8 (absolute, model units), so use
#: units in which nodal forces are large (e.g. moduli in Pa, not MPa).
TIGHT_CONTROLS = (
    "*CONTROLS, PARAMETERS=FIELD\n"
    "1e-9, 1e-9, 0., 0., 1e-9, 1e-5, 1e-3, 1e-8\n"
    "*CONTROLS, PARAMETERS=TIME INCREMENTATION\n"
    "12, 20, 12, 40, 20, 8\n"
)


class CCXError(RuntimeError):
    """ccx could not be found, built or run, or it reported an error."""


# ---------------------------------------------------------------- binary ----


def cache_ccx_path() -> Path:
    """Where ``build.sh`` installs ``ccx``.

    Returns
    -------
    pathlib.Path
        ``${XDG_CACHE_HOME:-~/.cache}/constitutive/calculix/2.20-ext/bin/ccx``
        (it may not exist).
    """
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "constitutive" / "calculix" / CCX_TAG / "bin" / "ccx"


def find_ccx() -> Path | None:
    """Locate a ``ccx`` with external-behaviour support.

    Looks at ``$CONSTITUTIVE_CCX`` first (an explicit override: it must name
    an executable, otherwise `CCXError` is raised), then at `cache_ccx_path`.

    Returns
    -------
    pathlib.Path or None
        The binary, or None when none is available (call `build_ccx`).
    """
    env = os.environ.get("CONSTITUTIVE_CCX")
    if env:
        p = Path(env).expanduser()
        if not (p.is_file() and os.access(p, os.X_OK)):
            raise CCXError(f"CONSTITUTIVE_CCX={env!r} is not an executable file")
        return p
    p = cache_ccx_path()
    if p.is_file() and os.access(p, os.X_OK) and (p.parent.parent / "SELFTEST_OK").is_file():
        return p
    return None


def build_ccx(force: bool = False, timeout: float | None = 3600) -> Path:
    """Build (or just check) the cached ``ccx`` by running ``build.sh``.

    Parameters
    ----------
    force : bool
        Rebuild even when the cached binary works (``CCX_FORCE_REBUILD=1``).
    timeout : float or None
        Seconds allowed for the build (about 2 minutes on 2 cores).

    Returns
    -------
    pathlib.Path
        Path of the installed ``ccx``.

    Raises
    ------
    CCXError
        With build.sh's one-line reason (no apt, no network, compile error...).
    """
    env = dict(os.environ)
    if force:
        env["CCX_FORCE_REBUILD"] = "1"
    try:
        proc = subprocess.run(
            ["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, env=env, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise CCXError(f"build.sh did not finish within {timeout} s") from exc
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        raise CCXError(lines[-1] if lines else f"build.sh failed with status {proc.returncode}")
    path = Path(proc.stdout.strip().splitlines()[-1])
    if not path.is_file():
        raise CCXError(f"build.sh reported {path}, which does not exist")
    return path


# ------------------------------------------------------------------- run ----


@dataclass
class CCXResult:
    """Outcome of `run_deck`.

    Attributes
    ----------
    jobname, workdir : str, pathlib.Path
        The job and the folder it ran in.
    inp, dat, sta, cvg, frd, log : pathlib.Path
        Input deck, printed results, increment summary, iteration log,
        binary/ASCII field results and ccx's captured stdout+stderr.
    stdout : str
        ccx's stdout and stderr.
    returncode : int
    seconds : float
        Wall time of the run.
    """

    jobname: str
    workdir: Path
    inp: Path
    dat: Path
    sta: Path
    cvg: Path
    frd: Path
    log: Path
    stdout: str
    returncode: int
    seconds: float

    def read_dat(self) -> DatFile:
        """`read_dat` of this job's ``.dat`` file."""
        return read_dat(self.dat)

    def read_frd(self) -> FrdFile:
        """`read_frd` of this job's ``.frd`` file (full precision with ``*NODE FILE, DOUBLE``)."""
        return read_frd(self.frd)

    def iterations(self, source: str = "sta") -> Iterations:
        """`read_iterations` of this job's ``.sta`` (or ``source="cvg"``) file."""
        return read_iterations(self.sta if source == "sta" else self.cvg)


def run_deck(
    deck_text: str,
    workdir: str | os.PathLike,
    jobname: str = "job",
    env_extra: Mapping[str, str] | None = None,
    lib_dirs: Iterable[str | os.PathLike] = (),
    timeout: float | None = 600,
    ccx: str | os.PathLike | None = None,
    threads: int = 1,
    check: bool = True,
) -> CCXResult:
    """Write ``<workdir>/<jobname>.inp`` and run ``ccx -i <jobname>`` there.

    Parameters
    ----------
    deck_text : str
        The complete input deck.
    workdir : path-like
        Folder to run in (created; existing result files are overwritten).
    jobname : str
        Job name (no extension).
    env_extra : mapping, optional
        Extra environment variables for ccx.
    lib_dirs : iterable of path-like
        Folders prepended to ``LD_LIBRARY_PATH``, where ccx's ``dlopen``
        looks for ``lib<LIB>.so`` of a material named ``@ABAQUSNL_<LIB>_<FUNC>``.
    timeout : float or None
        Seconds before the run is killed (raises `CCXError`).
    ccx : path-like, optional
        The binary; default `find_ccx`.
    threads : int
        ``OMP_NUM_THREADS`` for ccx (unless given in `env_extra`).
    check : bool
        Raise `CCXError` on a non-zero exit status, on ``*ERROR`` lines in the
        output or when ccx did not reach "Job finished".

    Returns
    -------
    CCXResult
    """
    exe = Path(ccx) if ccx is not None else find_ccx()
    if exe is None:
        raise CCXError("no ccx found: run tools/calculix/build.sh or set CONSTITUTIVE_CCX")
    wd = Path(workdir).resolve()
    wd.mkdir(parents=True, exist_ok=True)
    inp = wd / f"{jobname}.inp"
    inp.write_text(deck_text if deck_text.endswith("\n") else deck_text + "\n")
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    dirs = [str(Path(d).resolve()) for d in lib_dirs]
    if dirs:
        old = env.get("LD_LIBRARY_PATH", "")
        env["LD_LIBRARY_PATH"] = os.pathsep.join(dirs + ([old] if old else []))
    env.update(env_extra or {})
    log = wd / f"{jobname}.log"
    t0 = _time.perf_counter()
    try:
        with open(log, "w") as fh:
            proc = subprocess.run(
                [str(exe), "-i", jobname],
                cwd=wd,
                env=env,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
    except subprocess.TimeoutExpired as exc:
        raise CCXError(f"ccx {jobname} did not finish within {timeout} s (log: {log})") from exc
    seconds = _time.perf_counter() - t0
    out = log.read_text(errors="replace")
    res = CCXResult(
        jobname=jobname,
        workdir=wd,
        inp=inp,
        dat=wd / f"{jobname}.dat",
        sta=wd / f"{jobname}.sta",
        cvg=wd / f"{jobname}.cvg",
        frd=wd / f"{jobname}.frd",
        log=log,
        stdout=out,
        returncode=proc.returncode,
        seconds=seconds,
    )
    if check:
        errors = [ln.strip() for ln in out.splitlines() if "*ERROR" in ln]
        if errors:
            # ccx prints the explanation on the lines after "*ERROR"
            i = next(i for i, ln in enumerate(out.splitlines()) if "*ERROR" in ln)
            detail = " ".join(s.strip() for s in out.splitlines()[i : i + 4] if s.strip())
            raise CCXError(f"ccx {jobname}: {detail} (log: {log})")
        if proc.returncode != 0:
            tail = " | ".join(s.strip() for s in out.splitlines()[-5:] if s.strip())
            raise CCXError(f"ccx {jobname} exited with status {proc.returncode}: {tail} (log: {log})")
        if "Job finished" not in out:
            raise CCXError(f"ccx {jobname} stopped before 'Job finished' (log: {log})")
    return res


# ------------------------------------------------------------------ .dat ----

#: CalculiX keyword -> block title in the .dat file
DAT_NAMES = {
    "U": "displacements",
    "RF": "forces",
    "NT": "temperatures",
    "S": "stresses",
    "E": "strains",
    "ME": "mechanical strains",
    "PE": "equivalent plastic strain",
    "SDV": "internal state variables",
    "ENER": "internal energy density",
    "ELSE": "internal energy",
    "EVOL": "volume",
}

_HEADER = re.compile(
    r"^\s*(?P<title>[a-z][a-z .\-]*?)\s*(?:\((?P<cols>.*)\))?\s+for set\s+(?P<set>\S+)"
    r"\s+and time\s+(?P<time>\S+)"
)


@dataclass
class DatBlock:
    """One printed block of a ``.dat`` file.

    Attributes
    ----------
    title : str
        e.g. ``"displacements"``, ``"forces"``, ``"total force"``, ``"stresses"``.
    columns : list of str
        Column names from the header, e.g. ``["vx", "vy", "vz"]``.
    set : str
        Node or element set name (upper case).
    time : float
        Total time of the increment.
    ids : numpy.ndarray of int, shape (n, k)
        Node number (k=1), element and integration point (k=2), or none (k=0).
    values : numpy.ndarray of float, shape (n, m)
    """

    title: str
    columns: list
    set: str
    time: float
    ids: np.ndarray
    values: np.ndarray


@dataclass
class DatFile:
    """All blocks of a ``.dat`` file; see `DatFile.get`."""

    path: Path
    blocks: list = field(default_factory=list)

    def get(self, var: str, set: str, total: bool = False):
        """Time series of one printed variable on one set.

        Parameters
        ----------
        var : str
            CalculiX keyword (``U``, ``RF``, ``S``, ``E``, ``SDV``, ...) or the
            block title as printed.
        set : str
            Set name (case-insensitive).
        total : bool
            For ``RF`` (and others printed with ``TOTALS=YES``), the
            ``total force`` line instead of the per-node rows.

        Returns
        -------
        times : numpy.ndarray, shape (nt,)
        ids : numpy.ndarray, shape (n, k)
        values : numpy.ndarray, shape (nt, n, m); for ``total=True`` (nt, m)
        """
        title = DAT_NAMES.get(var.upper(), var.lower())
        if total:
            title = "total " + ("force" if title == "forces" else title)
        sel = [b for b in self.blocks if b.title == title and b.set == set.upper()]
        if not sel:
            have = sorted({(b.title, b.set) for b in self.blocks})
            raise KeyError(f"no '{title}' block for set {set.upper()} in {self.path}; have {have}")
        times = np.array([b.time for b in sel])
        vals = np.stack([b.values for b in sel])
        if total:
            return times, sel[0].ids, vals[:, 0, :]
        return times, sel[0].ids, vals

    def titles(self) -> list:
        """Sorted distinct ``(title, set)`` pairs."""
        return sorted({(b.title, b.set) for b in self.blocks})


def _n_ids(title: str, cols: str) -> int:
    if title.startswith("total"):
        return 0
    if "elem" in cols:
        return 2 if "integ" in cols else 1
    return 1


def read_dat(path: str | os.PathLike) -> DatFile:
    """Parse the ``*NODE PRINT`` / ``*EL PRINT`` blocks of a ``.dat`` file.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    DatFile
        ``blocks`` in file order; `DatFile.get` stacks them over time.
    """
    path = Path(path)
    lines = path.read_text(errors="replace").splitlines()
    out = DatFile(path=path)
    i, n = 0, len(lines)
    while i < n:
        m = _HEADER.match(lines[i])
        if not m:
            i += 1
            continue
        title = m.group("title").strip()
        head = m.group("cols") or ""
        cols = [c.strip() for c in head.split(",")] if head else []
        k = _n_ids(title, head)
        if "elem" in head:  # ids are named in element headers only
            cols = cols[k:]
        i += 1
        while i < n and not lines[i].strip():
            i += 1
        ids, vals = [], []
        while i < n and lines[i].strip() and not _HEADER.match(lines[i]):
            tok = lines[i].split()
            try:
                ids.append([int(t) for t in tok[:k]])
                vals.append([float(t.replace("D", "E")) for t in tok[k:]])
            except ValueError:
                break
            i += 1
        width = max((len(v) for v in vals), default=0)
        arr = np.full((len(vals), width), np.nan)
        for r, v in enumerate(vals):
            arr[r, : len(v)] = v
        out.blocks.append(
            DatBlock(
                title=title,
                columns=cols,
                set=m.group("set").upper(),
                time=float(m.group("time")),
                ids=np.array(ids, dtype=int).reshape(len(ids), k),
                values=arr,
            )
        )
    return out


# ------------------------------------------------------- .sta and .cvg ----


@dataclass
class Iterations:
    """Newton iterations per increment attempt.

    Attributes
    ----------
    step, inc, attempt, iterations : numpy.ndarray of int, shape (n,)
        One entry per attempt of an increment (CalculiX counts attempts from 1).
    converged : numpy.ndarray of bool, shape (n,)
        False for attempts that were cut back (``.sta``: ``U`` after ATT;
        ``.cvg``: an attempt followed by another attempt of the same increment).
    time, dtime : numpy.ndarray of float, shape (n,)
        Total time at the end of the attempt and its increment size
        (``.sta`` only; NaN when read from ``.cvg``).
    history : list of numpy.ndarray
        ``.cvg`` only: per attempt an array (iterations, 2) of the residual
        force and the displacement correction, both in % as CalculiX prints.
    """

    step: np.ndarray
    inc: np.ndarray
    attempt: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    time: np.ndarray
    dtime: np.ndarray
    history: list = field(default_factory=list)

    def per_increment(self) -> np.ndarray:
        """Iterations of the converged attempt of each increment, in order."""
        return self.iterations[self.converged]

    @property
    def total(self) -> int:
        """All iterations, cut-back attempts included."""
        return int(self.iterations.sum())


def read_iterations(path: str | os.PathLike) -> Iterations:
    """Newton iterations per increment from a ``.sta`` or ``.cvg`` file.

    ``.sta`` rows (one per attempt, written by ``writesta.f`` /
    ``writestadiv.f``): ``STEP INC ATT[U] ITRS TOT-TIME STEP-TIME INC-TIME``.
    ``.cvg`` rows (one per iteration, ``writecvg.f``):
    ``STEP INC ATT ITER CONT-EL RESID-FORCE% CORR-DISP% RESID-FLUX% CORR-TEMP%``.

    Parameters
    ----------
    path : path-like
        A ``.sta`` or ``.cvg`` file (chosen by its suffix).

    Returns
    -------
    Iterations
    """
    path = Path(path)
    text = path.read_text(errors="replace").splitlines()
    if path.suffix.lower() == ".sta":
        rows = []
        for ln in text:
            tok = ln.split()
            if len(tok) != 7 or not tok[0].isdigit():
                continue
            att = tok[2]
            ok = not att.endswith("U")
            rows.append(
                (
                    int(tok[0]),
                    int(tok[1]),
                    int(att.rstrip("U")),
                    int(tok[3]),
                    ok,
                    float(tok[4]),
                    float(tok[6]),
                )
            )
        a = list(zip(*rows, strict=False)) if rows else [[]] * 7
        return Iterations(
            step=np.array(a[0], int),
            inc=np.array(a[1], int),
            attempt=np.array(a[2], int),
            iterations=np.array(a[3], int),
            converged=np.array(a[4], bool),
            time=np.array(a[5], float),
            dtime=np.array(a[6], float),
        )
    # .cvg
    attempts: dict = {}
    for ln in text:
        tok = ln.split()
        if len(tok) != 9 or not tok[0].isdigit():
            continue
        key = (int(tok[0]), int(tok[1]), int(tok[2]))
        attempts.setdefault(key, []).append((int(tok[3]), float(tok[5]), float(tok[6])))
    keys = list(attempts)
    conv = []
    for j, key in enumerate(keys):
        nxt = keys[j + 1] if j + 1 < len(keys) else None
        conv.append(not (nxt is not None and nxt[:2] == key[:2]))
    return Iterations(
        step=np.array([k[0] for k in keys], int),
        inc=np.array([k[1] for k in keys], int),
        attempt=np.array([k[2] for k in keys], int),
        iterations=np.array([max(r[0] for r in attempts[k]) for k in keys], int),
        converged=np.array(conv, bool),
        time=np.full(len(keys), np.nan),
        dtime=np.full(len(keys), np.nan),
        history=[np.array([[r[1], r[2]] for r in attempts[k]]) for k in keys],
    )


# ------------------------------------------------------ unit-cube deck ----


def _num(x: float) -> str:
    """Shortest round-trip-ish text of `x` that fits CalculiX's 20-character
    numeric fields (most cards are read with Fortran format f20.0)."""
    for p in (17, 16, 15, 14, 13, 12):
        s = f"{float(x):.{p}g}"
        if len(s) <= 20:
            return s
    return f"{float(x):.10e}"


#: C3D8 unit cube: node coordinates (nodes 1..8) in CalculiX's node order
CUBE_NODES = np.array(
    [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]],
    dtype=float,
)


def unit_cube_deck(
    F_path: Sequence | np.ndarray,
    material: str,
    material_name: str | None = None,
    nlgeom: bool = True,
    controls: str | None = TIGHT_CONTROLS,
    heading: str = "unit cube, prescribed homogeneous deformation gradient path",
    el_print: str = "S",
    extra_step_cards: str = "",
) -> str:
    """One C3D8 unit cube driven by ``u = (F(t) - I) X`` on all eight nodes.

    ``F_path[0]`` must be the identity; increment ``k`` (of ``n =
    len(F_path) - 1`` equal fixed increments, ``*STATIC, DIRECT``, step time
    1) ends at ``F_path[k]``.  Each nodal displacement component follows its
    own ``*AMPLITUDE`` (piecewise linear in time), so any path works.

    Every node is prescribed, so the solution is exactly homogeneous and the
    reaction forces are the internal forces: the total force on the face
    ``X_J = 1`` is column ``J`` of the first Piola-Kirchhoff stress P (see
    `cube_first_piola`).  The deck prints, every increment,
    ``*NODE PRINT, TOTALS=YES`` of ``RF`` on the face sets ``X1``, ``Y1``,
    ``Z1`` and of ``U`` on ``NALL``, and ``*EL PRINT`` of `el_print` on
    ``EALL`` (``S`` is the Cauchy stress in the global frame).

    Parameters
    ----------
    F_path : array_like, shape (n+1, 3, 3)
        Deformation gradients at t = 0, 1/n, ..., 1.
    material : str
        Material cards, starting with ``*MATERIAL, NAME=...``.
    material_name : str, optional
        Name used by ``*SOLID SECTION``; default: parsed from `material`.
    nlgeom : bool
        Put ``NLGEOM`` on the step (needed for finite strain, and for the
        external ``@ABAQUSNL`` interface).
    controls : str or None
        ``*CONTROLS`` cards for the step (default `TIGHT_CONTROLS`).
    heading : str
    el_print : str
        Variables for ``*EL PRINT`` (e.g. ``"S, E, SDV"``); empty for none.
    extra_step_cards : str
        Cards inserted in the step before ``*END STEP``.

    Returns
    -------
    str
        The deck.
    """
    F = np.asarray(F_path, dtype=float)
    if F.ndim != 3 or F.shape[1:] != (3, 3) or F.shape[0] < 2:
        raise ValueError("F_path must have shape (n+1, 3, 3) with n >= 1")
    if not np.allclose(F[0], np.eye(3), atol=1e-14):
        raise ValueError("F_path[0] must be the identity")
    if material_name is None:
        m = re.search(r"\*MATERIAL\s*,\s*NAME\s*=\s*([^\s,]+)", material, re.I)
        if not m:
            raise ValueError("material cards must start with *MATERIAL, NAME=...")
        material_name = m.group(1)
    n = F.shape[0] - 1
    t = np.linspace(0.0, 1.0, n + 1)
    # u[k, node, i] = (F_k - I)_ij X_j
    u = np.einsum("kij,aj->kai", F - np.eye(3), CUBE_NODES)
    g = _num
    out = [f"*HEADING\n{heading}\n*NODE, NSET=NALL"]
    out += [f"{a + 1}, {g(x)}, {g(y)}, {g(z)}" for a, (x, y, z) in enumerate(CUBE_NODES)]
    out.append("*ELEMENT, TYPE=C3D8, ELSET=EALL\n1, 1, 2, 3, 4, 5, 6, 7, 8")
    for name, axis in (("X", 0), ("Y", 1), ("Z", 2)):
        for side in (0, 1):
            ids = [str(a + 1) for a in range(8) if CUBE_NODES[a, axis] == side]
            out.append(f"*NSET, NSET={name}{side}\n" + ", ".join(ids))
    amps, bcs = [], []
    for a in range(8):
        for i in range(3):
            if np.all(u[:, a, i] == 0.0):
                bcs.append(f"*BOUNDARY\n{a + 1}, {i + 1}, {i + 1}, 0.0")
                continue
            name = f"A{a + 1}_{i + 1}"
            pts = [f"{g(tk)}, {g(v)}" for tk, v in zip(t, u[:, a, i], strict=False)]
            amps.append(f"*AMPLITUDE, NAME={name}\n" + "\n".join(pts))
            bcs.append(f"*BOUNDARY, AMPLITUDE={name}\n{a + 1}, {i + 1}, {i + 1}, 1.0")
    out += amps
    out.append(material.strip())
    out.append(f"*SOLID SECTION, ELSET=EALL, MATERIAL={material_name}")
    out.append(f"*STEP{', NLGEOM' if nlgeom else ''}, INC={max(100, 10 * n)}")
    out.append(f"*STATIC, DIRECT\n{g(1.0 / n)}, 1.0")
    if controls:
        out.append(controls.strip())
    out += bcs
    out.append("*NODE PRINT, NSET=X1, TOTALS=YES\nRF")
    out.append("*NODE PRINT, NSET=Y1, TOTALS=YES\nRF")
    out.append("*NODE PRINT, NSET=Z1, TOTALS=YES\nRF")
    out.append("*NODE PRINT, NSET=NALL\nU")
    if el_print:
        out.append(f"*EL PRINT, ELSET=EALL\n{el_print}")
    if extra_step_cards:
        out.append(extra_step_cards.strip())
    out.append("*END STEP")
    return "\n".join(out) + "\n"


def cube_first_piola(dat: DatFile):
    """First Piola-Kirchhoff stress of the `unit_cube_deck` cube.

    Parameters
    ----------
    dat : DatFile
        `read_dat` of the cube's ``.dat``.

    Returns
    -------
    times : numpy.ndarray, shape (nt,)
    P : numpy.ndarray, shape (nt, 3, 3)
        ``P[:, i, J]`` = total reaction force component i on face X_J = 1
        (unit reference area).
    """
    cols = []
    times = None
    for s in ("X1", "Y1", "Z1"):
        times, _, tot = dat.get("RF", s, total=True)
        cols.append(tot)
    return times, np.stack(cols, axis=-1)
