"""TOML problem definitions for ``constitutive solve input.toml``.

Example (all sections but ``[mesh]`` and ``[material]`` are optional)::

    [mesh]
    type = "box"                 # "box", "cook" or a file: file = "part.msh" (any meshio format)
    n = [4, 4, 4]
    size = [1.0, 1.0, 1.0]
    cell_type = "hexahedron"     # hexahedron | tetra | tetra10

    [material]
    model = "neo-hooke"          # any registered model; other keys are its parameters/options
    mu = 1.0
    lmbda = 10.0

    [problem]
    formulation = "displacement" # or "fbar" (hexahedra, nearly incompressible)

    [[dirichlet]]
    nodes = "xmin"               # named node set, or a table of coordinates {x = 0.0, z = 1.0}
    components = [0]             # default [0, 1, 2]
    value = 0.0                  # displacement at the end of loading (scalar or per component)

    [[traction]]                 # dead traction per unit reference area
    faces = "xmax"
    value = [0.0, 0.1, 0.0]

    [[pressure]]                 # follower pressure
    faces = "zmax"
    value = 0.2

    [body_force]
    value = [0.0, 0.0, -0.01]

    [solver]                     # keywords of constitutive.fem.newton.solve
    steps = 5
    linear_solver = "auto"

    [output]
    directory = "results"
    name = "solution"
    format = "vtu"               # or "xdmf"
    plot = "xmax"                # Dirichlet set whose reaction force is plotted
    plot_component = 0
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

import numpy as np

from .generate import box, cook_membrane_mesh
from .mesh import Mesh
from .problem import Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SOLVER_KEYS = {"steps", "max_iter", "rtol", "atol", "etol", "line_search", "min_step", "linear_solver",
               "verbose"}


def load(path: str | os.PathLike) -> dict:
    """Parse a TOML input file into a dict (clear errors for missing files / bad syntax)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"input file not found: {path}")
    with open(path, "rb") as fh:
        try:
            return tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: invalid TOML: {exc}") from exc


def _where(spec, what: str):
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        axes = {"x": 0, "y": 1, "z": 2}
        bad = set(spec) - set(axes)
        if bad or not spec:
            raise ValueError(f"{what}: expected a set name or a table with keys x, y, z, got {spec!r}")
        return lambda X: np.logical_and.reduce([np.isclose(X[:, axes[k]], float(v)) for k, v in spec.items()])
    if isinstance(spec, list):
        return np.asarray(spec, dtype=np.int64)
    raise ValueError(f"{what}: expected a set name, a coordinate table or node indices, got {spec!r}")


def build_mesh(cfg: dict, base_dir: str = ".") -> Mesh:
    if "file" in cfg:
        return Mesh.read(os.path.join(base_dir, cfg["file"]), cfg.get("cell_type"))
    kind = cfg.get("type", "box")
    ct = cfg.get("cell_type", "hexahedron")
    if kind == "box":
        return box(cfg.get("n", 4), cfg.get("size", 1.0), cfg.get("origin", 0.0), ct)
    if kind == "cook":
        return cook_membrane_mesh(cfg.get("n", (8, 8, 1)), cfg.get("thickness", 1.0), ct)
    raise ValueError(f"mesh.type: expected 'box' or 'cook' (or give mesh.file), got {kind!r}")


#: ``factory(model_name, **parameters_and_options) -> material``; the CLI passes ``materials.get``
MaterialFactory = Callable[..., object]


def build(cfg: dict, material_factory: MaterialFactory, base_dir: str = ".") -> tuple[Problem, dict, dict]:
    """(problem, solve keywords, output keywords) from a parsed input dict.

    The FE driver knows no material library: ``material_factory(model, **params)`` makes the
    material of the ``[material]`` section (``materials.get`` from the command line).
    """
    for key in ("mesh", "material"):
        if key not in cfg:
            raise ValueError(f"input: missing section [{key}]")
    mesh = build_mesh(cfg["mesh"], base_dir)
    mat_cfg = dict(cfg["material"])
    if "model" not in mat_cfg:
        raise ValueError("material.model: missing (a registered model name)")
    material = material_factory(mat_cfg.pop("model"), **mat_cfg)
    prob = Problem(mesh, material, cfg.get("problem", {}).get("formulation", "displacement"))
    for i, bc in enumerate(cfg.get("dirichlet", [])):
        if "nodes" not in bc:
            raise ValueError(f"dirichlet[{i}].nodes: missing")
        prob.displace(_where(bc["nodes"], f"dirichlet[{i}].nodes"), bc.get("value", 0.0),
                      bc.get("components", [0, 1, 2]), bc.get("name"))
    for i, tr in enumerate(cfg.get("traction", [])):
        prob.traction(_where(tr["faces"], f"traction[{i}].faces"), tr["value"], tr.get("name", ""))
    for i, pr in enumerate(cfg.get("pressure", [])):
        prob.pressure(_where(pr["faces"], f"pressure[{i}].faces"), float(pr["value"]), pr.get("name", ""))
    if "body_force" in cfg:
        prob.body_force(cfg["body_force"]["value"])
    solver = dict(cfg.get("solver", {}))
    unknown = set(solver) - SOLVER_KEYS
    if unknown:
        raise ValueError(f"solver: unknown key(s) {sorted(unknown)}; expected some of {sorted(SOLVER_KEYS)}")
    out = dict(cfg.get("output", {}))
    output = {"output_dir": os.path.join(base_dir, out["directory"]) if "directory" in out else None,
              "name": out.get("name", "solution"), "fmt": out.get("format", "vtu")}
    if "plot" in out:
        output["plot"] = (out["plot"], int(out.get("plot_component", 0)))
    return prob, solver, output


def run(path: str | os.PathLike, material_factory: MaterialFactory, **overrides):
    """Load, build and solve an input file; ``overrides`` replace [solver]/[output] keys."""
    cfg = load(path)
    prob, solver, output = build(cfg, material_factory, os.path.dirname(os.path.abspath(path)))
    for k, v in overrides.items():
        if v is None:
            continue
        (output if k in output or k in ("output_dir", "plot") else solver)[k] = v
    return prob, prob.solve(**solver, **output)
