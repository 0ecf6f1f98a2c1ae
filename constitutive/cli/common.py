"""Shared CLI helpers: model selection by name with ``--param NAME=VALUE`` options."""

from __future__ import annotations

import argparse
import json


def add_model_arguments(p: argparse.ArgumentParser, positional: bool = True) -> None:
    """Add ``MODEL`` (or ``--model``) and repeatable ``--param NAME=VALUE``."""
    if positional:
        p.add_argument("model", help="registered model name (see `constitutive models`)")
    else:
        p.add_argument("--model", required=True, help="registered model name")
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


def make_model(name: str, param_items: list[str], **extra):
    """Instantiate a registered model from CLI arguments."""
    import materials

    params = parse_params(param_items)
    params.update({k: v for k, v in extra.items() if v is not None})
    return materials.get(name, **params)


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
