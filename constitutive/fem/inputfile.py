"""TOML problem definitions for ``constitutive solve input.toml``.

Example (all sections but ``[mesh]`` and ``[material]`` are optional)::

    [mesh]
    type = "box"                 # "box", "cook" or a file: file = "part.msh" (any meshio format)
    n = [4, 4, 4]
    size = [1.0, 1.0, 1.0]
    cell_type = "hexahedron"     # hexahedron | tetra | tetra10

    [material]
    model = "neo-hooke"          # any registered model; other keys are its parameters/options
                                 # (or: fit = "fit.json", a fit result, with K = ... for the
                                 #  compressible variant of an incompressible fit)
    mu = 1.0
    lmbda = 10.0

    [problem]
    formulation = "displacement" # or "fbar" (hexahedra, nearly incompressible)

    [[dirichlet]]
    nodes = "xmin"               # named node set, or a table of coordinates {x = 0.0, z = 1.0}
    components = [0]             # default [0, 1, 2]
    value = 0.0                  # displacement at the end of loading (scalar or per component)
    # amplitude = [[0.0, 0.0], [0.05, 1.0], [1.0, 1.0]]   # optional: value x a(t), piecewise
                                 # linear in the load factor t = 0..1 (ramp and hold); also
                                 # on [[traction]]

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
    # duration = 60.0            # physical time of load factor 1 (state models: viscoelastic)

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
               "verbose", "duration"}
#: the allowed keys of every section; ``[material]`` holds ``model`` and the model's own
#: parameters and options, which the material factory checks
SCHEMA: dict[str, set[str] | None] = {
    "mesh": {"type", "n", "size", "origin", "cell_type", "file", "thickness"},
    "material": None,
    "problem": {"formulation"},
    "dirichlet": {"nodes", "components", "value", "name", "amplitude"},
    "traction": {"faces", "value", "name", "amplitude"},
    "pressure": {"faces", "value", "name"},
    "body_force": {"value"},
    "solver": SOLVER_KEYS,
    "output": {"directory", "name", "format", "plot", "plot_component"},
}
#: sections that are arrays of tables (``[[dirichlet]]``)
LISTS = {"dirichlet", "traction", "pressure"}


def _did_you_mean(key: str, allowed) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(allowed), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def validate(cfg: dict, source: str = "input") -> None:
    """Check every section and key against :data:`SCHEMA` (``ValueError`` naming the file, the
    section and the key, with a did-you-mean suggestion), and the types of the common values."""
    for section, body in cfg.items():
        if section not in SCHEMA:
            raise ValueError(f"{source}: unknown section [{section}]{_did_you_mean(section, SCHEMA)} "
                             f"(sections: {', '.join(SCHEMA)})")
        allowed = SCHEMA[section]
        tables = body if section in LISTS else [body]
        if section in LISTS and not isinstance(body, list):
            raise ValueError(f"{source}: [{section}] must be an array of tables ([[{section}]])")
        for i, table in enumerate(tables):
            where = f"[[{section}]] #{i + 1}" if section in LISTS else f"[{section}]"
            if not isinstance(table, dict):
                raise ValueError(f"{source}: {where} must be a table, got {type(table).__name__}")
            for key in table if allowed is not None else ():
                if key not in allowed:
                    raise ValueError(f"{source}: {where}: unknown key {key!r}{_did_you_mean(key, allowed)} "
                                     f"(allowed: {', '.join(sorted(allowed))})")
            _check_values(table, where, source)


def _check_values(t: dict, where: str, source: str) -> None:
    def bad(key, expected):
        raise ValueError(f"{source}: {where}: {key} = {t[key]!r}; expected {expected}")

    if "components" in t and not (isinstance(t["components"], list) and t["components"]
                                  and all(isinstance(c, int) and c in (0, 1, 2) for c in t["components"])):
        bad("components", "a non-empty list of 0, 1, 2 (x, y, z)")
    if "value" in t and not (_number(t["value"]) or (isinstance(t["value"], list) and t["value"]
                                                     and all(_number(v) for v in t["value"]))):
        bad("value", "a number or a list of numbers")
    if "formulation" in t and t["formulation"] not in ("displacement", "fbar"):
        bad("formulation", "'displacement' or 'fbar'")
    if "format" in t and t["format"] not in ("vtu", "xdmf"):
        bad("format", "'vtu' or 'xdmf'")
    if "steps" in t and not (isinstance(t["steps"], int) and t["steps"] >= 1):
        bad("steps", "a positive integer")
    if "duration" in t and not (_number(t["duration"]) and t["duration"] > 0):
        bad("duration", "a positive number (the physical time of load factor 1)")
    if "amplitude" in t:
        try:
            amplitude_curve(t["amplitude"])
        except ValueError as exc:
            bad("amplitude", str(exc))
    if "n" in t and not (isinstance(t["n"], int) and t["n"] >= 1 or isinstance(t["n"], list)
                         and len(t["n"]) == 3 and all(isinstance(v, int) and v >= 1 for v in t["n"])):
        bad("n", "a positive integer or a list of three")


def amplitude_curve(points) -> Callable[[float], float]:
    """``a(t)``: piecewise-linear interpolation of ``[[t0, a0], [t1, a1], ...]`` over the load
    factor (``t`` increasing from 0 to 1), like Abaqus' tabular ``*AMPLITUDE``."""
    ok = isinstance(points, list) and len(points) >= 2 and all(
        isinstance(p, list) and len(p) == 2 and all(_number(v) for v in p) for p in points)
    if not ok:
        raise ValueError("a list of at least two [t, a] pairs of numbers, e.g. [[0, 0], [0.1, 1], [1, 1]]")
    t = np.array([p[0] for p in points], dtype=float)
    a = np.array([p[1] for p in points], dtype=float)
    if t[0] != 0.0 or t[-1] != 1.0 or not bool((np.diff(t) > 0).all()):
        raise ValueError("load factors t increasing from 0 to 1 (first t = 0, last t = 1)")
    return lambda x: float(np.interp(x, t, a))


def _scaled_dirichlet(value, components, curve):
    """``value(X, t)`` of a Dirichlet condition: the end value times ``curve(t)``."""
    comps = np.asarray(components, dtype=np.int64)
    v = np.broadcast_to(np.asarray(value, dtype=float), (len(comps),)) if np.ndim(value) == 0 or \
        len(value) == len(comps) else np.asarray(value, dtype=float)[comps]
    full = np.zeros(3)
    full[comps] = v
    return lambda X, t: np.broadcast_to(curve(t) * full, X.shape).copy()


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


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
    """The mesh of a ``[mesh]`` section (generated box or Cook membrane, or a file read with meshio)."""
    if "file" in cfg:
        return Mesh.read(os.path.join(base_dir, cfg["file"]), cfg.get("cell_type"))
    kind = cfg.get("type", "box")
    ct = cfg.get("cell_type", "hexahedron")
    if kind == "box":
        return box(cfg.get("n", 4), cfg.get("size", 1.0), cfg.get("origin", 0.0), ct)
    if kind == "cook":
        return cook_membrane_mesh(cfg.get("n", (8, 8, 1)), cfg.get("thickness", 1.0), ct)
    raise ValueError(f"mesh.type: expected 'box' or 'cook' (or give mesh.file), got {kind!r}")


#: ``factory(model=..., **parameters_and_options)`` or ``factory(fit=path, K=..., **overrides)``
#: -> material; the CLI passes one built on ``materials.get`` and ``materials.from_fit``
MaterialFactory = Callable[..., object]


def build(cfg: dict, material_factory: MaterialFactory, base_dir: str = ".",
          source: str = "input") -> tuple[Problem, dict, dict]:
    """(problem, solve keywords, output keywords) from a parsed input dict.

    The FE driver knows no material library: ``material_factory(model, **params)`` makes the
    material of the ``[material]`` section (``materials.get`` from the command line). The whole
    input is validated first (:func:`validate`); ``source`` names it in messages.
    """
    validate(cfg, source)
    for key in ("mesh", "material"):
        if key not in cfg:
            raise ValueError(f"input: missing section [{key}]")
    mesh = build_mesh(cfg["mesh"], base_dir)
    mat_cfg = dict(cfg["material"])
    if "model" not in mat_cfg and "fit" not in mat_cfg:
        raise ValueError(f"{source}: [material]: missing key 'model' (a registered model name) or 'fit' "
                         "(a fit result file)")
    if "fit" in mat_cfg:
        mat_cfg["fit"] = os.path.join(base_dir, mat_cfg["fit"])
    try:
        material = material_factory(**mat_cfg)
    except (TypeError, ValueError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise ValueError(f"{source}: [material]: {msg}") from exc
    prob = Problem(mesh, material, cfg.get("problem", {}).get("formulation", "displacement"))
    for i, bc in enumerate(cfg.get("dirichlet", [])):
        if "nodes" not in bc:
            raise ValueError(f"{source}: [[dirichlet]] #{i + 1}: missing key 'nodes'")
        value, comps = bc.get("value", 0.0), bc.get("components", [0, 1, 2])
        if "amplitude" in bc:
            value = _scaled_dirichlet(value, comps, amplitude_curve(bc["amplitude"]))
        prob.displace(_where(bc["nodes"], f"dirichlet[{i}].nodes"), value, comps, bc.get("name"))
    for i, tr in enumerate(cfg.get("traction", [])):
        value = tr["value"]
        if "amplitude" in tr:
            curve, vec = amplitude_curve(tr["amplitude"]), np.asarray(value, dtype=float)
            value = (lambda c, v: lambda Xq, t: np.broadcast_to(c(t) * v, Xq.shape).copy())(curve, vec)
        prob.traction(_where(tr["faces"], f"traction[{i}].faces"), value, tr.get("name", ""))
    for i, pr in enumerate(cfg.get("pressure", [])):
        prob.pressure(_where(pr["faces"], f"pressure[{i}].faces"), float(pr["value"]), pr.get("name", ""))
    if "body_force" in cfg:
        prob.body_force(cfg["body_force"]["value"])
    solver = dict(cfg.get("solver", {}))
    out = dict(cfg.get("output", {}))
    output = {"output_dir": os.path.join(base_dir, out["directory"]) if "directory" in out else None,
              "name": out.get("name", "solution"), "fmt": out.get("format", "vtu")}
    if "plot" in out:
        output["plot"] = (out["plot"], int(out.get("plot_component", 0)))
    return prob, solver, output


def run(path: str | os.PathLike, material_factory: MaterialFactory, **overrides):
    """Load, build and solve an input file; ``overrides`` replace [solver]/[output] keys."""
    cfg = load(path)
    prob, solver, output = build(cfg, material_factory, os.path.dirname(os.path.abspath(path)), str(path))
    for k, v in overrides.items():
        if v is None:
            continue
        (output if k in output or k in ("output_dir", "plot") else solver)[k] = v
    return prob, prob.solve(**solver, **output)
