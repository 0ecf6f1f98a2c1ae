"""``compile_material`` for state-carrying materials: the update with STATEV, NSTATV and DTIME.

The update ``(e | F, state_n, dt) -> (s, D, state_{n+1})`` is traced once (the fast path's
tracer, :meth:`constitutive.inelastic.Inelastic.compiled_program`) and written as portable C
(:mod:`.csource_state`); the description ``NAME.json`` gains a ``state`` entry (count, labels,
layout), which the torch-free loader (:mod:`.loader`) reads. PROPS are the parameters in
declaration order (list parameters with their compiled lengths, no leading ``N``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import torch

from constitutive import __version__
from constitutive.files import write_text_atomic
from constitutive.inelastic import Inelastic

from .csource import CUTBACK, DOMAIN_STATUS, ParamEntry
from .csource_state import STATE_STATUS, state_header_source, state_library_source


def state_material(model, options: dict, terms: int | None) -> Inelastic:
    """A state model from an instance, or a registered state-model name with options
    (``{"base": "neo-hooke-decoupled", "volumetric": "J-1"}``) and ``terms`` Prony terms."""
    if isinstance(model, Inelastic):
        if options or terms:
            raise ValueError("options, terms: give them when the model is a name, not an instance")
        return model
    import materials

    cls = materials.state_model_class(model)
    kw = dict(options)
    if terms is not None:
        if not (isinstance(terms, int) and terms >= 1):
            raise ValueError(f"terms: expected a positive integer, got {terms!r}")
        for n, spec in cls.parameters.items():
            if spec.shape is None:
                default = list(spec.default)
                kw[n] = [default[i % len(default)] * (10.0**i if n == "tau" else 1.0) for i in range(terms)]
    return cls(**kw)


def is_state_model(model) -> bool:
    """Whether ``model`` (instance or name) is a state-carrying material."""
    if isinstance(model, Inelastic):
        return True
    if isinstance(model, str):
        import materials

        return model.strip().lower().replace("_", "-") in materials.available_state_models()
    return isinstance(model, type) and issubclass(model, Inelastic)


def _entries(material: Inelastic) -> tuple[list[ParamEntry], int, str]:
    entries, off, names = [], 0, []
    for pname, spec in material.parameters.items():
        n = int(getattr(material, pname).numel())
        entries.append(ParamEntry(pname, off, n, spec.bounds, spec.open_bounds))
        names.append(f"{pname}[{n}]" if (spec.shape is None or n > 1) else pname)
        off += n
    return entries, off, "PROPS = [" + ", ".join(names) + "]"


def compile_state(
    material: Inelastic,
    sym: str,
    out: Path,
    paths: dict,
    convention: str,
    umat_alias: bool,
    compile_fn,
    conventions: dict,
    large_ops: int,
):
    """Trace, write, compile and describe; returns ``(paths, info)`` (used by ``compile_material``)."""
    if material.dtype != torch.float64:
        raise TypeError("model: the compiled library is float64")
    if bool((material.initial_state_values() != 0).any()):
        raise ValueError(
            f"{type(material).__name__}: the virgin state must be zero (UMAT hosts start STATEV at 0)"
        )
    entries, n_par, layout = _entries(material)
    prog_m = material.compiled_program("mandel")
    prog_p = material.compiled_program("pk1")
    label = material.name or type(material).__qualname__
    ns = material.n_state
    src = state_library_source(
        name=sym,
        model=label,
        version=__version__,
        prog_mandel=prog_m,
        prog_pk1=prog_p,
        params=entries,
        n_par=n_par,
        n_state=ns,
        conditions=prog_m.conditions,
        convention=convention,
        umat_alias=umat_alias,
        layout=layout,
    )
    hdr = state_header_source(
        name=sym,
        model=label,
        convention=convention,
        layout=layout,
        n_par=n_par,
        n_state=ns,
        labels=list(material.state_labels),
        conditions=prog_m.conditions,
        umat_alias=umat_alias,
    )
    out.mkdir(parents=True, exist_ok=True)
    large = max(len(prog_m.builder.nodes), len(prog_p.builder.nodes)) > large_ops
    with tempfile.TemporaryDirectory(dir=out, prefix=f".{sym}.build.") as tmp:
        c_tmp, h_tmp, so_tmp = Path(tmp) / paths["c"].name, Path(tmp) / paths["h"].name, Path(tmp) / "lib.so"
        c_tmp.write_text(src)
        h_tmp.write_text(hdr)
        cmd = compile_fn(c_tmp, so_tmp, large)
        os.replace(c_tmp, paths["c"])
        os.replace(h_tmp, paths["h"])
        os.replace(so_tmp, paths["so"])
    values = material.parameter_values()
    info = {
        "format": "constitutive compiled material library, version 1",
        "name": sym,
        "library": f"lib{sym}.so",
        "model": label,
        "class": f"{type(material).__module__}.{type(material).__qualname__}",
        "reference": material.reference,
        "options": material.option_values(),
        "incompressible": bool(material.incompressible),
        "terms": None,
        "parameters": [
            {
                "name": pe.name,
                "offset": pe.offset,
                "length": pe.length,
                "unit": material.parameters[pe.name].unit,
                "doc": material.parameters[pe.name].doc,
                "bounds": [None if b is None else float(b) for b in pe.bounds],
                "open_bounds": pe.open_bounds,
                "example": values[pe.name],
            }
            for pe in entries
        ],
        "n_params": n_par,
        "props": {
            "layout": layout.removeprefix("PROPS = "),
            "n_props": n_par,
            "leading_terms": False,
            "entries": [[pe.name, pe.length] for pe in entries],
        },
        "state": {
            "n_state": ns,
            "labels": list(material.state_labels),
            "initial": _initial_state(material),
            "layout": "STATEV[0 .. n_state-1] in the order of labels (Mandel components, shear x sqrt 2)",
        },
        "conditions": prog_m.conditions,
        "status": {
            **{str(k): v for k, v in STATE_STATUS.items()},
            **{str(DOMAIN_STATUS + c): m for c, m in enumerate(prog_m.conditions)},
        },
        "entry_points": {
            "umat": sym,
            "umat_alias": "umat_" if umat_alias else None,
            "update": f"int {sym}_update(int64_t n, const double *params, const double *F, "
            "const double *state, const double *dt, double *P, double *A, double *state_new, int64_t *bad)",
            "update_mandel": f"int {sym}_update_mandel(int64_t n, const double *params, const double *e, "
            "const double *state, const double *dt, double *s, double *D, double *state_new, "
            "int64_t *bad)",
        },
        "umat_convention": convention,
        "conventions": {
            "umat": conventions[convention],
            "umat_state": "STATEV (start of increment) -> STATEV (end), DTIME the increment; "
            f"*DEPVAR >= {ns}",
            "umat_cutback": f"bad states set PNEWDT = {CUTBACK} and leave STRESS, DDSDDE, STATEV unchanged",
            "calculix_material": f"*MATERIAL, NAME=@ABAQUSNL_{sym}_{sym}, *USER MATERIAL, *DEPVAR {ns}",
        },
        "units": "parameters in the user's stress unit and time unit of DTIME",
        "constitutive_version": __version__,
        "source_sha256": hashlib.sha256(src.encode()).hexdigest(),
        "compiler": " ".join(cmd[:1] + cmd[1:-4]),
    }
    write_text_atomic(paths["json"], json.dumps(info, indent=2) + "\n")
    return info


def _initial_state(material) -> str | list[float]:
    """``"zeros"`` or the virgin state's values (what ``STATEV`` must hold before the first increment)."""
    v = [float(x) for x in material.initial_state_values().detach().cpu().reshape(-1)]
    return "zeros" if not any(v) else v
