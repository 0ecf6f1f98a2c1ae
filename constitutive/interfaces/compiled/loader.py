"""Torch-free loader of compiled material libraries (NumPy + ctypes only).

>>> from constitutive.interfaces.compiled.loader import CompiledMaterial
>>> mat = CompiledMaterial("out/NH.json", mu=0.4225, lmbda=0.915)       # doctest: +SKIP
>>> P, A = mat.pk1_tangent(F)            # F (..., 3, 3) -> P (..., 3, 3), A (..., 3, 3, 3, 3)

This module imports neither torch nor the rest of the engine, so it runs in environments
without torch (a DOLFINx/MPI environment, a post-processing machine). Parameters are given by
name (validated against the bounds recorded in ``NAME.json``) or as the ``PROPS`` array of the
UMAT. Bad input raises ``ValueError`` naming the argument, the status and the first bad point.

Libraries of state-carrying materials (``"state"`` in ``NAME.json``) expose the update instead:
``initial_state``, ``update(F, state, dt) -> (P, A, state_new)``, ``update_mandel`` and a
:meth:`CompiledMaterial.umat` that carries ``STATEV`` and ``DTIME``.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
from pathlib import Path

import numpy as np

_P = ctypes.POINTER(ctypes.c_double)
_I = ctypes.POINTER(ctypes.c_int)


def _dptr(a: np.ndarray):
    return a.ctypes.data_as(_P)


class CompiledMaterial:
    """A compiled material library with fixed parameter values.

    Parameters
    ----------
    description : path of ``NAME.json`` (or of the directory holding exactly one such file).
    props : optional ``PROPS`` array (the UMAT layout of ``NAME.json``), instead of names.
    **params : parameter values by name (lists for list and vector parameters).
    """

    def __init__(self, description, props=None, **params):
        path = Path(description)
        if path.is_dir():
            found = sorted(path.glob("*.json"))
            if len(found) != 1:
                raise ValueError(f"description: {str(path)!r} holds {len(found)} .json files; give the file")
            path = found[0]
        if not path.is_file():
            raise FileNotFoundError(f"description: no such file {str(path)!r}")
        try:
            self.info = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"description: {path} is not JSON: {exc}") from exc
        if not str(self.info.get("format", "")).startswith("constitutive compiled material library"):
            raise ValueError(f"description: {path} is not a compiled-library description")
        self.name = self.info["name"]
        self.library_path = path.with_name(self.info["library"])
        if not self.library_path.is_file():
            raise FileNotFoundError(f"library: {self.library_path} (named in {path}) does not exist")
        self._lib = ctypes.CDLL(str(self.library_path.resolve()))
        self._bind()
        if props is not None and params:
            raise TypeError("give either props or parameters by name, not both")
        self.params = self._params_from_props(props) if props is not None else self._params_by_name(params)

    # ------------------------------------------------------------------ parameters
    def _params_by_name(self, given: dict) -> np.ndarray:
        specs = self.info["parameters"]
        unknown = sorted(set(given) - {s["name"] for s in specs})
        if unknown:
            names = [s["name"] for s in specs]
            raise TypeError(f"{self.name}: unknown parameter(s) {unknown}; expected {names}")
        p = np.empty(max(self.info["n_params"], 1))
        for s in specs:
            if s["name"] not in given:
                raise TypeError(f"{self.name}: missing parameter {s['name']!r} ({s['doc'] or s['unit']})")
            v = np.atleast_1d(np.asarray(given[s["name"]], dtype=np.float64)).reshape(-1)
            if v.size != s["length"]:
                raise ValueError(f"parameter {s['name']!r}: expected {s['length']} value(s) (the library was "
                                 f"compiled for that), got {v.size}")
            self._check_bounds(s, v)
            p[s["offset"]:s["offset"] + s["length"]] = v
        return p

    def _params_from_props(self, props) -> np.ndarray:
        pr = np.asarray(props, dtype=np.float64).reshape(-1)
        lay = self.info["props"]
        if pr.size != lay["n_props"]:
            raise ValueError(f"props: expected {lay['n_props']} values {lay['layout']}, got {pr.size}")
        if lay["leading_terms"]:
            if pr[0] != self.info["terms"]:
                raise ValueError(f"props: PROPS[0] = N must be {self.info['terms']} (compiled), "
                                 f"got {pr[0]:g}")
            pr = pr[1:]
        return self._params_by_name({s["name"]: pr[s["offset"]:s["offset"] + s["length"]]
                                     for s in self.info["parameters"]})

    @staticmethod
    def _check_bounds(spec: dict, v: np.ndarray) -> None:
        lo, hi = spec["bounds"]
        strict = spec["open_bounds"]
        for x in v:
            ok = math.isfinite(x) and (lo is None or (x > lo if strict else x >= lo)) and (
                hi is None or (x < hi if strict else x <= hi))
            if not ok:
                raise ValueError(f"parameter {spec['name']!r}: {float(x)!r} is outside its bounds "
                                 f"{'(' if strict else '['}{lo}, {hi}{')' if strict else ']'}")

    @property
    def props(self) -> np.ndarray:
        """The ``PROPS`` array of these parameters (the UMAT's layout)."""
        head = [float(self.info["terms"])] if self.info["props"]["leading_terms"] else []
        return np.concatenate([head, self.params[:self.info["n_params"]]])

    # ------------------------------------------------------------------ evaluation
    @property
    def n_state(self) -> int:
        """Number of state variables per point (0 for hyperelastic libraries)."""
        return int(self.info.get("state", {}).get("n_state", 0))

    @property
    def state_labels(self) -> list[str]:
        """Names of the state variables (``STATEV`` order)."""
        return list(self.info.get("state", {}).get("labels", []))

    def _bind(self) -> None:
        n = self.name
        i64 = ctypes.c_int64
        self._umat = getattr(self._lib, n)
        self._umat.restype = None
        if self.n_state:
            for attr, sym in (("_up", f"{n}_update"), ("_upm", f"{n}_update_mandel")):
                fn = getattr(self._lib, sym)
                fn.argtypes = [i64, _P, _P, _P, _P, _P, _P, _P, ctypes.POINTER(i64)]
                fn.restype = ctypes.c_int
                setattr(self, attr, fn)
            return
        self._st = getattr(self._lib, f"{n}_stress_tangent")
        self._st.argtypes = [i64, _P, _P, _P, _P, ctypes.POINTER(i64)]
        self._st.restype = ctypes.c_int
        self._stm = getattr(self._lib, f"{n}_stress_tangent_mandel")
        self._stm.argtypes = [i64, _P, _P, _P, _P, _P, ctypes.POINTER(i64)]
        self._stm.restype = ctypes.c_int

    def _raise(self, status: int, bad: int, arg: str, batch: tuple[int, ...]) -> None:
        what = self.info["status"].get(str(status), f"status {status}")
        if status == 4:
            raise ValueError(f"{self.name}: parameter entry {bad}: {what}")
        where = tuple(int(i) for i in np.unravel_index(bad, batch)) if batch else ()
        raise ValueError(f"{arg}: {what} at point {where} (library {self.name}, status {status})")

    def pk1_tangent(self, F, out=None) -> tuple[np.ndarray, np.ndarray]:
        """``P`` (..., 3, 3) and ``A = dP/dF`` (..., 3, 3, 3, 3) at ``F`` (..., 3, 3).

        ``out``: optional ``(P, A)`` C-contiguous float64 arrays written in place.
        """
        self._elastic_only("pk1_tangent")
        F = np.ascontiguousarray(F, dtype=np.float64)
        if F.ndim < 2 or F.shape[-2:] != (3, 3):
            raise ValueError(f"F: expected shape (..., 3, 3), got {F.shape}")
        batch = F.shape[:-2]
        P, A = self._outputs(out, [batch + (3, 3), batch + (3, 3, 3, 3)])
        bad = ctypes.c_int64(-1)
        st = self._st(int(np.prod(batch, dtype=np.int64)), _dptr(self.params), _dptr(F), _dptr(P), _dptr(A),
                      ctypes.byref(bad))
        if st:
            self._raise(st, bad.value, "F", batch)
        return P, A

    def stress_tangent_mandel(self, e, out=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Energy ``W`` (...), Mandel ``s`` (..., 6) and ``D`` (..., 6, 6) at Mandel strains ``e``."""
        self._elastic_only("stress_tangent_mandel")
        e = np.ascontiguousarray(e, dtype=np.float64)
        if e.ndim < 1 or e.shape[-1] != 6:
            raise ValueError(f"e: expected shape (..., 6), got {e.shape}")
        batch = e.shape[:-1]
        W, s, D = self._outputs(out, [batch, batch + (6,), batch + (6, 6)])
        bad = ctypes.c_int64(-1)
        st = self._stm(int(np.prod(batch, dtype=np.int64)), _dptr(self.params), _dptr(e), _dptr(W), _dptr(s),
                       _dptr(D), ctypes.byref(bad))
        if st:
            self._raise(st, bad.value, "e", batch)
        return W, s, D

    def _elastic_only(self, what: str) -> None:
        if self.n_state:
            raise TypeError(f"{self.name}: {what} is not defined for a state-carrying library; use "
                            "update(F, state, dt) or update_mandel(e, state, dt)")

    # ------------------------------------------------------------------ state-carrying libraries
    def initial_state(self, batch=()) -> np.ndarray:
        """The virgin state (zeros) of shape (*batch, n_state)."""
        batch = (batch,) if isinstance(batch, int) else tuple(batch)
        return np.zeros((*batch, self.n_state))

    def _update(self, fn, x, state, dt, tail, out_tails, arg):
        if not self.n_state:
            raise TypeError(f"{self.name}: not a state-carrying library (no 'state' in its description)")
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim < len(tail) or x.shape[x.ndim - len(tail):] != tail:
            raise ValueError(f"{arg}: expected shape (..., {', '.join(map(str, tail))}), got {x.shape}")
        batch = x.shape[:x.ndim - len(tail)]
        state = np.ascontiguousarray(state, dtype=np.float64)
        if state.shape != batch + (self.n_state,):
            raise ValueError(f"state: expected shape {batch + (self.n_state,)}, got {state.shape}")
        dt = np.ascontiguousarray(np.broadcast_to(np.asarray(dt, dtype=np.float64), batch))
        outs = [np.empty(batch + t) for t in out_tails] + [np.empty(batch + (self.n_state,))]
        bad = ctypes.c_int64(-1)
        st = fn(int(np.prod(batch, dtype=np.int64)), _dptr(self.params), _dptr(x), _dptr(state), _dptr(dt),
                *[_dptr(o) for o in outs], ctypes.byref(bad))
        if st:
            self._raise(st, bad.value, arg if st != 5 else "state/dt", batch)
        return tuple(outs)

    def update(self, F, state, dt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``P`` (..., 3, 3), algorithmic ``A = dP/dF`` (..., 3, 3, 3, 3) and the new state at the
        end of an increment ``dt`` (scalar or (...)) from ``state`` (..., n_state) to ``F``."""
        return self._update(self._up, F, state, dt, (3, 3), [(3, 3), (3, 3, 3, 3)], "F")

    def update_mandel(self, e, state, dt) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mandel ``s`` (..., 6), algorithmic ``D`` (..., 6, 6) and the new state at strain ``e``."""
        return self._update(self._upm, e, state, dt, (6,), [(6,), (6, 6)], "e")

    @staticmethod
    def _outputs(out, shapes) -> list[np.ndarray]:
        if out is None:
            return [np.empty(s) for s in shapes]
        if len(out) != len(shapes):
            raise TypeError(f"out: expected {len(shapes)} arrays")
        for o, s in zip(out, shapes, strict=True):
            if not (isinstance(o, np.ndarray) and o.shape == s and o.dtype == np.float64
                    and o.flags.c_contiguous and o.flags.writeable):
                raise ValueError(f"out: expected writable C-contiguous float64 arrays of shapes {shapes}")
        return list(out)

    def umat(self, F, ntens: int = 6, pnewdt: float = 1.0, props=None, statev=None, dtime: float = 0.0,
             dfgrd0=None, kstep=(1, 1, 1, 0), nstatv: int | None = None) -> dict:
        """Call the UMAT symbol once, through the Abaqus ABI, at one deformation gradient ``F``.

        Returns ``{"STRESS", "DDSDDE", "SSE", "PNEWDT", "STATEV"}``; ``STRESS`` and ``DDSDDE`` start
        as NaN, so a cut-back request leaves NaN there (the UMAT leaves them unchanged).
        ``statev`` (state at the start of the increment, default the virgin state), ``dtime``,
        ``dfgrd0``, ``kstep`` (``KSTEP(1..4)``; CalculiX's linear first iteration has
        ``KSTEP(3) = 0``) and ``nstatv`` (default the state size) are passed as given.
        """
        F = np.asarray(F, dtype=np.float64)
        if F.shape != (3, 3):
            raise ValueError(f"F: expected shape (3, 3), got {F.shape}")
        if ntens not in (4, 6):
            raise ValueError(f"ntens: expected 4 or 6, got {ntens}")
        props = self.props if props is None else np.asarray(props, dtype=np.float64).reshape(-1)
        stress = np.full(ntens, np.nan)
        ddsdde = np.full((ntens, ntens), np.nan, order="F")
        dfgrd1 = np.asfortranarray(F)
        scal = {k: np.zeros(1) for k in ("SSE", "SPD", "SCD", "RPL", "DTIME", "TEMP", "DTEMP", "CELENT",
                                         "DRPLDT")}
        scal["DTIME"][0] = float(dtime)
        sv = np.zeros(max(self.n_state, 1)) if statev is None else \
            np.array(statev, dtype=np.float64).reshape(-1)
        nsv = self.n_state if nstatv is None else int(nstatv)
        pnew = np.array([pnewdt])
        ints = {k: ctypes.c_int(v) for k, v in (("NDI", 3), ("NSHR", ntens - 3), ("NTENS", ntens),
                                                  ("NSTATV", nsv), ("NPROPS", props.size), ("NOEL", 1),
                                                  ("NPT", 1), ("LAYER", 1), ("KSPT", 1), ("KINC", 1))}
        kstep = (ctypes.c_int * 4)(*[int(k) for k in kstep])
        z = {k: np.zeros(n) for k, n in (("DDSDDT", ntens), ("DRPLDE", ntens),
                                         ("STRAN", ntens), ("DSTRAN", ntens), ("TIME", 2), ("PREDEF", 1),
                                         ("DPRED", 1), ("COORDS", 3))}
        drot = np.asfortranarray(np.eye(3))
        dfgrd0 = np.asfortranarray(np.eye(3) if dfgrd0 is None else np.asarray(dfgrd0, dtype=np.float64))
        cmname = ctypes.create_string_buffer(b"%-80s" % self.name.encode())
        b = ctypes.byref
        self._umat(_dptr(stress), _dptr(sv), _dptr(ddsdde), _dptr(scal["SSE"]), _dptr(scal["SPD"]),
                   _dptr(scal["SCD"]), _dptr(scal["RPL"]), _dptr(z["DDSDDT"]), _dptr(z["DRPLDE"]),
                   _dptr(scal["DRPLDT"]), _dptr(z["STRAN"]), _dptr(z["DSTRAN"]), _dptr(z["TIME"]),
                   _dptr(scal["DTIME"]), _dptr(scal["TEMP"]), _dptr(scal["DTEMP"]), _dptr(z["PREDEF"]),
                   _dptr(z["DPRED"]), cmname, b(ints["NDI"]), b(ints["NSHR"]), b(ints["NTENS"]),
                   b(ints["NSTATV"]), _dptr(props), b(ints["NPROPS"]), _dptr(z["COORDS"]), _dptr(drot),
                   _dptr(pnew), _dptr(scal["CELENT"]), _dptr(dfgrd0), _dptr(dfgrd1), b(ints["NOEL"]),
                   b(ints["NPT"]), b(ints["LAYER"]), b(ints["KSPT"]), kstep, b(ints["KINC"]),
                   ctypes.c_long(80))
        return {"STRESS": stress, "DDSDDE": np.ascontiguousarray(ddsdde), "SSE": float(scal["SSE"][0]),
                "PNEWDT": float(pnew[0]), "STATEV": sv[:max(self.n_state, 0)]}


def library_environment(*directories) -> dict:
    """``os.environ`` with ``directories`` prepended to ``LD_LIBRARY_PATH`` (for a host process
    such as CalculiX that finds ``libNAME.so`` by name)."""
    env = dict(os.environ)
    old = [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    parts = [str(Path(d).resolve()) for d in directories] + old
    env["LD_LIBRARY_PATH"] = ":".join(parts)
    return env
