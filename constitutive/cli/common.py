"""Shared CLI helpers: model selection by name with ``--param NAME=VALUE`` options."""

from __future__ import annotations

import argparse
import json


def add_model_arguments(p: argparse.ArgumentParser, positional: bool = True) -> None:
    """Add ``MODEL`` (or ``--model``), ``--fit FIT``, ``--bulk-modulus K`` and repeatable
    ``--param NAME=VALUE``: the material is a registered model, a user's ``file.py:Class``, or a
    saved fit result."""
    model_help = "registered model name (see `constitutive models`) or path/to/file.py:ClassName"
    if positional:
        p.add_argument("model", nargs="?", default=None, help=model_help + " (or give --fit)")
    else:
        p.add_argument("--model", default=None, help=model_help)
    add_fit_arguments(p)
    p.add_argument(
        "--param", "-p", action="append", default=[], metavar="NAME=VALUE",
        help="parameter value; lists as comma-separated numbers or JSON (repeatable)",
    )


def split_pairs(items: list[str], flag: str) -> list[tuple[str, str]]:
    """``["A=1", "b = x"]`` -> ``[("A", "1"), ("b", "x")]``; a clear error names ``flag``."""
    pairs = []
    for item in items:
        if "=" not in item:
            raise ValueError(f"{flag}: expected NAME=VALUE, got {item!r}")
        name, raw = item.split("=", 1)
        pairs.append((name.strip(), raw.strip()))
    return pairs


def parse_params(items: list[str]) -> dict:
    """Parse ``NAME=VALUE`` strings; VALUE is a number, ``a,b,c`` or a JSON list.

    A value that is not numeric is kept as a string, for non-numeric model options
    (``--param volumetric=J-1``); the model then checks it against its allowed choices.
    """
    out = {}
    for name, raw in split_pairs(items, "--param"):
        try:
            value = json.loads(raw) if raw.startswith("[") else (
                [float(x) for x in raw.split(",")] if "," in raw else float(raw)
            )
        except ValueError as exc:
            if raw.startswith("[") or "," in raw:
                raise ValueError(f"--param {name}: cannot read {raw!r} as a number or list") from exc
            value = raw  # a non-numeric option value
        out[name] = value
    return out


def add_fit_arguments(p: argparse.ArgumentParser) -> None:
    """``--fit FIT`` and ``--bulk-modulus K``: a saved fit result as the material."""
    p.add_argument("--fit", metavar="FIT", default=None,
                   help="use a fit result as the material (fit.json/.h5 written by `constitutive fit` "
                        "or `constitutive discover`)")
    p.add_argument("--bulk-modulus", type=float, default=None, metavar="K",
                   help="with --fit of an incompressible model: use its compressible variant with this K")


def material_from(model: str | None = None, fit: str | None = None, **params):
    """A material from a model name (or ``file.py:Class``) and parameters, or from a fit result
    (``fit``; ``K`` selects the compressible variant of an incompressible fit; ``params``
    override fitted values, string values are options). Used by every command and by the
    ``[material]`` section of FE input files."""
    import materials

    if fit is not None:
        if model is not None:
            raise ValueError(f"give either a model ({model!r}) or a fit result, not both")
        K = params.pop("K", None)
        options = {k: v for k, v in params.items() if isinstance(v, str)}
        numeric = {k: v for k, v in params.items() if not isinstance(v, str)}
        mat = materials.from_fit(fit, K=K, **options)
        return mat.replace(**numeric) if numeric else mat
    if model is None:
        raise ValueError("MODEL: give a registered model name (see `constitutive models`) or --fit FIT")
    if model.strip().lower().replace("_", "-") in materials.available_state_models():
        return materials.get_state_model(model, **params)  # e.g. viscoelastic with base=...
    return materials.get(model, **params)


def make_model(name: str | None, param_items: list[str], fit: str | None = None,
               bulk_modulus: float | None = None, **extra):
    """The material of the CLI arguments (:func:`material_from` with parsed ``--param`` values)."""
    params = parse_params(param_items)
    params.update({k: v for k, v in extra.items() if v is not None})
    if bulk_modulus is not None:
        params["K"] = bulk_modulus
    return material_from(name, fit, **params)


def check_outputs(items, force: bool) -> None:
    """Check output paths before any work: ``items`` = ``[(path or None, flag, suffixes)]``.

    A path that exists is refused unless ``force`` (a user's file is never replaced without
    being asked); its directory must exist and the suffix must be one of ``suffixes``.
    """
    import os

    from constitutive.files import check_output_path

    for path, flag, suffixes in items:
        if not path:
            continue
        check_output_path(path, flag, suffixes)
        if os.path.exists(path) and not force:
            raise ValueError(f"{flag}: {path!r} exists; pass --force to replace it")
