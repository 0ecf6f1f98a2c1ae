"""Read CalculiX ``.frd`` result files, including the double-precision binary form.

The ``.dat`` file (``*NODE PRINT``, ``*EL PRINT``) holds 7 significant digits
(``printoutnode.f``: ``1p,e13.6``) and the ASCII ``.frd`` 6 (``frdvector.c``:
``%12.5E`` of a ``float``).  ``*NODE FILE, DOUBLE`` (or ``*NODE OUTPUT, DOUBLE``)
sets CalculiX's output format to ``"dbi"`` (``noelfiles.f:306-307``); the
``.frd`` is then written with ``fwrite`` of the C ``double`` values themselves
(``frd.c:226-231`` coordinates, ``frdvector.c:50-55`` vectors,
``frdselect.c:91,100`` tensors): full double precision.  Note the format is
one global setting: the *last* ``*NODE FILE`` / ``*EL FILE`` / ``*NODE
OUTPUT`` / ``*EL OUTPUT`` card of the deck decides it (``calinput.f``), so
every such card of a deck needs ``DOUBLE``.

Layout (``frd.c``, ``frdheader.c``; text lines end with ``\\n``):

* ``    2C`` line: ``nout`` (columns 25-36), format ``1`` ascii / ``2`` float /
  ``3`` double (37-74); then per node ``int32 id`` + 3 ``float64`` (binary) or
  ``-1`` lines and a ``-3`` line (ascii);
* ``    3C`` line: element count; binary records ``int32 id, type, group,
  material`` + the type's node numbers (``int32``);
* per result block: ``    1PSTEP`` (load case, increment, step), ``  100CL``
  (time in 13-24, ``noutloc`` nodes in 25-36, format in 75), ``-4 NAME ncomp``,
  ``-5`` component lines (the ``ALL`` line, flagged ``1ALL``, is not stored),
  then per node ``int32 id`` + the components as ``float32`` (2) or
  ``float64`` (3), or ``-1``/``-2`` lines and ``-3`` (1);
* `` 9999`` ends the file.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FrdBlock", "FrdFile", "read_frd", "FRD_NODES_PER_TYPE"]

#: nodes per element of the frd element types (frd.c: ip1 = he8 ... ip12 = be3)
FRD_NODES_PER_TYPE = {1: 8, 2: 6, 3: 4, 4: 20, 5: 15, 6: 10, 7: 3, 8: 6, 9: 4, 10: 8, 11: 2, 12: 3}


@dataclass
class FrdBlock:
    """One nodal result block of one increment.

    Attributes
    ----------
    name : str
        ``DISP``, ``FORC`` (``RF``), ``STRESS``, ``TOSTRAIN``, ...
    components : list of str
    step, inc : int
        Step and increment number (``1PSTEP`` line).
    time : float
        Total time as printed in the ``100CL`` line (about 6 digits).
    ids : numpy.ndarray of int, shape (n,)
        Node numbers.
    values : numpy.ndarray of float, shape (n, ncomp)
    """

    name: str
    components: list
    step: int
    inc: int
    time: float
    ids: np.ndarray
    values: np.ndarray


@dataclass
class FrdFile:
    """Nodes and result blocks of a ``.frd`` file; see `FrdFile.get`."""

    path: Path
    fmt: int = 1
    node_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    coords: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    blocks: list = field(default_factory=list)

    def get(self, name: str):
        """Time series of one nodal result.

        Parameters
        ----------
        name : str
            ``"U"``/``"DISP"``, ``"RF"``/``"FORC"``, ``"S"``/``"STRESS"``, ...

        Returns
        -------
        times : numpy.ndarray, shape (nt,)
        ids : numpy.ndarray, shape (n,)
        values : numpy.ndarray, shape (nt, n, ncomp)
        """
        key = {"U": "DISP", "RF": "FORC", "S": "STRESS", "E": "TOSTRAIN"}.get(name.upper(), name.upper())
        sel = [b for b in self.blocks if b.name == key]
        if not sel:
            raise KeyError(f"no {key} blocks in {self.path}; have {sorted({b.name for b in self.blocks})}")
        ids = sel[0].ids
        if any(len(b.ids) != len(ids) or np.any(b.ids != ids) for b in sel):
            raise ValueError(f"{key} blocks of {self.path} hold different node sets")
        return np.array([b.time for b in sel]), ids, np.stack([b.values for b in sel])

    def field(self, name: str, nnodes: int) -> np.ndarray:
        """Values of `name` on nodes 1..nnodes as an array (nt, nnodes, ncomp) (NaN where absent)."""
        _, ids, vals = self.get(name)
        out = np.full((vals.shape[0], nnodes, vals.shape[2]), np.nan)
        out[:, ids - 1] = vals
        return out


class _Reader:
    def __init__(self, data: bytes):
        self.d, self.i = data, 0

    def line(self) -> str | None:
        if self.i >= len(self.d):
            return None
        j = self.d.find(b"\n", self.i)
        j = len(self.d) if j < 0 else j
        s = self.d[self.i:j].decode("latin-1")
        self.i = j + 1
        return s

    def take(self, n: int) -> bytes:
        if self.i + n > len(self.d):
            raise ValueError("frd: binary record runs past the end of the file")
        b = self.d[self.i:self.i + n]
        self.i += n
        return b


def _int(s: str, default: int = 0) -> int:
    s = s.strip()
    return int(s) if s else default


def _ascii_rows(rd: _Reader, ncomp: int):
    ids, rows = [], []
    while True:
        ln = rd.line()
        if ln is None or ln.startswith(" -3"):
            break
        if ln.startswith(" -1"):
            ids.append(int(ln[3:13]))
            rows.append(_fields(ln[13:]))
        elif ln.startswith(" -2") and rows:
            rows[-1].extend(_fields(ln[13:]))
    vals = np.array([r[:ncomp] for r in rows], dtype=float).reshape(len(rows), ncomp)
    return np.array(ids, dtype=int), vals


def _fields(s: str) -> list:
    s = s.rstrip()
    return [float(s[k:k + 12]) for k in range(0, len(s), 12) if s[k:k + 12].strip()]


def _binary_rows(rd: _Reader, n: int, ncomp: int, fmt: int):
    size = 8 if fmt == 3 else 4
    rec = np.dtype([("id", "<i4"), ("v", "<f8" if fmt == 3 else "<f4", (ncomp,))])
    raw = np.frombuffer(rd.take(n * (4 + size * ncomp)), dtype=rec)
    return raw["id"].astype(int), raw["v"].astype(float).reshape(n, ncomp)


def read_frd(path: str | os.PathLike) -> FrdFile:
    """Parse the nodes and nodal result blocks of a ``.frd`` file (any of the 3 formats).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    FrdFile
    """
    path = Path(path)
    rd = _Reader(path.read_bytes())
    out = FrdFile(path=path)
    step = inc = 0
    while True:
        ln = rd.line()
        if ln is None or ln.startswith(" 9999"):
            break
        if ln.startswith("    2C"):
            n, fmt = _int(ln[24:36]), _int(ln[36:74], 1)
            out.fmt = fmt
            if fmt == 1:
                out.node_ids, out.coords = _ascii_rows(rd, 3)
            else:  # coordinates are doubles in both binary forms (frd.c:226-231)
                out.node_ids, out.coords = _binary_rows(rd, n, 3, 3)
        elif ln.startswith("    3C"):
            n, fmt = _int(ln[24:36]), _int(ln[36:74], 1)
            if fmt == 1:
                while (s := rd.line()) is not None and not s.startswith(" -3"):
                    pass
            else:
                for _ in range(n):
                    _eid, etype, _grp, _mat = struct.unpack("<4i", rd.take(16))
                    if etype not in FRD_NODES_PER_TYPE:
                        raise ValueError(f"frd: unknown element type {etype} in {path}")
                    rd.take(4 * FRD_NODES_PER_TYPE[etype])
        elif ln.startswith("    1PSTEP"):
            inc, step = _int(ln[36:48]), _int(ln[48:60])
        elif ln.startswith("  100C"):
            time = float(ln[12:24])
            n = _int(ln[24:36])
            fmt = _int(ln[74:75], 1)
            head = rd.line()
            if head is None or not head.startswith(" -4"):
                raise ValueError(f"frd: expected a -4 line after the 100CL line in {path}")
            name = head[5:13].strip()
            comps = []
            while True:
                save = rd.i
                s = rd.line()
                if s is None or not s.startswith(" -5"):
                    rd.i = save
                    break
                tok = s.split()
                if not (tok[1] == "ALL" or (len(tok) > 6 and tok[6].startswith("1"))):
                    comps.append(tok[1])
            if fmt == 1:
                ids, vals = _ascii_rows(rd, len(comps))
            else:
                ids, vals = _binary_rows(rd, n, len(comps), fmt)
            out.blocks.append(FrdBlock(name, comps, step, inc, time, ids, vals))
    return out
