"""``compile_material``: any energy -> ``NAME.c``, ``NAME.h``, ``libNAME.so`` and ``NAME.json``.

The energy's derivative computation is traced once (the fast path's tracer, stage 1 to 3) into
two scalar programs: Mandel strain -> ``(W, s, D)`` and ``F -> (P, dP/dF)``. They are written as
portable C99 (:mod:`.codegen`) inside a library with a batched C API and an Abaqus-ABI UMAT
(:mod:`.csource`), compiled with the C compiler found as for the fast path, and described by a
JSON file that the torch-free loader (:mod:`.loader`) reads.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from constitutive import __version__, mandel
from constitutive.fast.stage1_trace import trace_function, trace_program
from constitutive.files import write_text_atomic
from constitutive.hyperelastic import Hyperelastic
from constitutive.native import compiler

from ..abaqus_umat import props_layout
from .csource import CUTBACK, DOMAIN_STATUS, STATUS, ParamEntry, header_source, library_source

CONVENTIONS = {
    "calculix": ("STRESS: corotational Cauchy stress R^T sigma R = U S U / J (F = R U), Abaqus order "
                 "11,22,33,12,13,23; DDSDDE: U U U U : dS/dE (tensor components, no 1/J), which "
                 "CalculiX's ABAQUSNL interface turns back into dS/dE (umat_abaqusnl.f lines 560-668)"),
    "abaqus": ("STRESS: Cauchy stress sigma, Abaqus order 11,22,33,12,13,23; DDSDDE: the Jaumann-rate "
               "tangent C^MJ = J^-1 FFFF:CC + (d_ik s_jl + s_ik d_jl + d_il s_jk + s_il d_jk)/2 "
               "(Abaqus/Standard UMAT), engineering shear strain"),
}
#: programs with more IR nodes are compiled with -O1 (gcc's time grows fast with function size)
LARGE_OPS = 6000
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,30}$")


@dataclass(frozen=True)
class CompiledLibrary:
    """Paths written by :func:`compile_material` and the JSON description."""

    source: Path
    header: Path
    library: Path
    description: Path
    info: dict


def _energy_stress_tangent(e: torch.Tensor, m) -> tuple[torch.Tensor, ...]:
    s, D = m.stress_tangent_mandel_unchecked(e, False)
    return m.energy(mandel.from_mandel(e)), s, D


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name: expected a letter followed by up to 30 letters or digits (it becomes the "
                         f"UMAT symbol and the library name lib<NAME>.so), got {name!r}")
    return name.upper()


def _material(model, options: dict, terms: int | None) -> Hyperelastic:
    import materials

    if isinstance(model, Hyperelastic):
        if options or terms:
            raise ValueError("options, terms: give them when the model is a name or class, not an instance")
        return model
    cls = materials.model_class(model) if isinstance(model, str) else model
    if not (isinstance(cls, type) and issubclass(cls, Hyperelastic)):
        raise TypeError(f"model: expected a registered name, 'file.py:Class', a Hyperelastic subclass or "
                        f"instance, got {model!r}")
    params = {}
    lists = [n for n, spec in cls.parameters.items() if spec.shape is None]
    if terms is not None:
        if not lists:
            raise ValueError(f"terms: {cls.__name__} has no list parameters")
        if not (isinstance(terms, int) and terms >= 1):
            raise ValueError(f"terms: expected a positive integer, got {terms!r}")
        for n in lists:
            default = list(cls.parameters[n].default)
            params[n] = [default[i % len(default)] for i in range(terms)]
    return cls(**params, **options)


def _param_entries(material: Hyperelastic) -> tuple[list[ParamEntry], int, int | None]:
    entries, off, terms = [], 0, None
    for pname, spec in material.parameters.items():
        n = int(getattr(material, pname).numel())
        if spec.shape is None:
            terms = n
        entries.append(ParamEntry(pname, off, n, spec.bounds, spec.open_bounds))
        off += n
    return entries, off, terms


def _compile(c_path: Path, lib_path: Path, large: bool) -> list[str]:
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler found: install gcc or clang, or set $CC")
    cmd = [cc, "-std=c99", "-O1" if large else "-O2", "-fPIC", "-shared", "-fno-math-errno", str(c_path),
           "-o", str(lib_path), "-lm"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise RuntimeError(f"C compilation of {c_path} failed:\n{r.stderr[-3000:]}")
    return cmd


def compile_material(model, name: str, output, *, options: dict | None = None, terms: int | None = None,
                     convention: str = "calculix", umat_alias: bool = False,
                     overwrite: bool = False) -> CompiledLibrary:
    """Generate, compile and describe a material library for ``model``.

    Parameters
    ----------
    model : registered name, ``"path/to/file.py:ClassName"``, a :class:`Hyperelastic` subclass or
        an instance (its parameter values only fix the shapes, e.g. the number of Ogden terms);
        or a state-carrying material (:class:`constitutive.inelastic.Inelastic` instance or a
        name of ``materials.available_state_models()``): its update is compiled with the state
        in ``STATEV`` (:mod:`.build_state`).
    name : library name; the UMAT symbol is ``NAME`` in upper case, the file ``libNAME.so``
        (CalculiX material ``@ABAQUSNL_NAME_NAME``).
    output : directory to write into (created if missing).
    options : non-numeric model options, e.g. ``{"volumetric": "J-1"}``.
    terms : number of terms of list parameters (Ogden ``mu``, ``alpha``); default: the model's.
    convention : UMAT tangent convention, ``"calculix"`` or ``"abaqus"`` (:data:`CONVENTIONS`).
    umat_alias : also export the routine as ``umat_`` (for linking into Abaqus).
    overwrite : replace existing files of the same name (refused otherwise).

    Returns
    -------
    CompiledLibrary with the paths of ``NAME.c``, ``NAME.h``, ``libNAME.so``, ``NAME.json``.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention: expected one of {list(CONVENTIONS)}, got {convention!r}")
    sym = _check_name(name)
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output: {str(out)!r} exists and is not a directory")
    paths = {k: out / f for k, f in (("c", f"{sym}.c"), ("h", f"{sym}.h"), ("so", f"lib{sym}.so"),
                                      ("json", f"{sym}.json"))}
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"output: {', '.join(existing)} exist(s); pass overwrite=True (--force) "
                              "to replace")
    from .build_state import compile_state, is_state_model, state_material

    if is_state_model(model):  # state-carrying: STATEV, NSTATV and DTIME (see build_state)
        info = compile_state(state_material(model, dict(options or {}), terms), sym, out, paths, convention,
                             umat_alias, _compile, CONVENTIONS, LARGE_OPS)
        return CompiledLibrary(paths["c"], paths["h"], paths["so"], paths["json"], info)
    material = _material(model, dict(options or {}), terms)
    if material.dtype != torch.float64:
        raise TypeError("model: the compiled library is float64; create the material with "
                        "dtype=torch.float64")
    entries, n_par, list_terms = _param_entries(material)
    prog_m = trace_function(material, _energy_stress_tangent, torch.zeros((1, 6), dtype=torch.float64),
                            [(), (6,), (6, 6)], "library")
    prog_p = trace_program(material, "pk1")
    if prog_m.conditions != prog_p.conditions:  # pragma: no cover - same energy, same conditions
        raise RuntimeError("the two traced programs state different domain conditions")
    layout = props_layout(material)
    props_text = ("[N, " if list_terms is not None else "[") + ", ".join(
        f"{k}[{'N' if n is None else n}]" if (n is None or n > 1) else k for k, n in layout) + "]"
    src = library_source(name=sym, model=_model_label(material), version=__version__, prog_mandel=prog_m,
                         prog_pk1=prog_p, params=entries, n_par=n_par, list_terms=list_terms,
                         conditions=prog_m.conditions, convention=convention, umat_alias=umat_alias)
    hdr = header_source(name=sym, model=_model_label(material), convention=convention,
                        layout=f"PROPS = {props_text}", n_par=n_par, conditions=prog_m.conditions,
                        umat_alias=umat_alias)
    out.mkdir(parents=True, exist_ok=True)
    large = max(len(prog_m.builder.nodes), len(prog_p.builder.nodes)) > LARGE_OPS
    with tempfile.TemporaryDirectory(dir=out, prefix=f".{sym}.build.") as tmp:
        c_tmp, h_tmp, so_tmp = Path(tmp) / paths["c"].name, Path(tmp) / paths["h"].name, Path(tmp) / "lib.so"
        c_tmp.write_text(src)
        h_tmp.write_text(hdr)
        cmd = _compile(c_tmp, so_tmp, large)
        info = _description(material, sym, convention, entries, n_par, list_terms, layout, props_text,
                            prog_m.conditions, umat_alias, src, cmd)
        os.replace(c_tmp, paths["c"])
        os.replace(h_tmp, paths["h"])
        os.replace(so_tmp, paths["so"])
    write_text_atomic(paths["json"], json.dumps(info, indent=2) + "\n")
    return CompiledLibrary(paths["c"], paths["h"], paths["so"], paths["json"], info)


def _model_label(material: Hyperelastic) -> str:
    return material.name or f"{type(material).__module__}.{type(material).__qualname__}"


def _bound(v):
    return None if v is None or (isinstance(v, float) and math.isinf(v)) else float(v)


def _description(material, sym, convention, entries, n_par, list_terms, layout, props_text, conditions,
                 umat_alias, src, cmd) -> dict:
    return {
        "format": "constitutive compiled material library, version 1",
        "name": sym,
        "library": f"lib{sym}.so",
        "model": _model_label(material),
        "class": f"{type(material).__module__}.{type(material).__qualname__}",
        "reference": material.reference,
        "options": material.option_values(),
        "incompressible": bool(material.incompressible),
        "terms": list_terms,
        "parameters": [
            {"name": pe.name, "offset": pe.offset, "length": pe.length,
             "unit": material.parameters[pe.name].unit, "doc": material.parameters[pe.name].doc,
             "bounds": [_bound(pe.bounds[0]), _bound(pe.bounds[1])], "open_bounds": pe.open_bounds,
             "example": material.parameter_values()[pe.name]}
            for pe in entries],
        "n_params": n_par,
        "props": {"layout": props_text, "n_props": n_par + (1 if list_terms is not None else 0),
                  "leading_terms": list_terms is not None,
                  "entries": [[k, n] for k, n in layout]},
        "conditions": conditions,
        "status": {**{str(k): v for k, v in STATUS.items()},
                   **{str(DOMAIN_STATUS + c): m for c, m in enumerate(conditions)}},
        "entry_points": {
            "umat": sym, "umat_alias": "umat_" if umat_alias else None,
            "stress_tangent": f"int {sym}_stress_tangent(int64_t n, const double *params, const double *F, "
                              "double *P, double *A, int64_t *bad)",
            "stress_tangent_mandel": f"int {sym}_stress_tangent_mandel(int64_t n, const double *params, "
                                     "const double *e, double *W, double *s, double *D, int64_t *bad)",
        },
        "umat_convention": convention,
        "conventions": {
            "umat": CONVENTIONS[convention],
            "umat_cutback": f"bad states set PNEWDT = {CUTBACK} and leave STRESS and DDSDDE unchanged",
            "F": "F[n, i, j] = F_ij, C order (the UMAT reads DFGRD1 column-major)",
            "A": "A[n, i, J, k, L] = dP_iJ / dF_kL",
            "mandel": "order 11,22,33,23,13,12, shear components times sqrt(2); s = dW/de, D = d2W/de de",
            "calculix_material": f"*MATERIAL, NAME=@ABAQUSNL_{sym}_{sym}  with lib{sym}.so on "
                                 "LD_LIBRARY_PATH",
        },
        "units": "parameters in the user's stress unit (e.g. MPa); stresses, tangents and the energy "
                 "density come out in that unit; F dimensionless",
        "constitutive_version": __version__,
        "source_sha256": hashlib.sha256(src.encode()).hexdigest(),
        "compiler": " ".join(cmd[:1] + cmd[1:-4]),
    }
