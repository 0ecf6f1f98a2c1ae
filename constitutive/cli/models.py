"""``constitutive models [NAME]``: the registered models with their parameters (units, bounds,
defaults), options and references."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the registered material models (parameters, units, bounds)")
    p.add_argument("name", nargs="?", default=None,
                   help="show one model (also path/to/file.py:Class)")
    p.set_defaults(func=run)


def _bounds(spec) -> str:
    lo, hi = spec.bounds
    if lo is None and hi is None:
        return "any"
    left = "(" if spec.open_bounds or lo is None else "["
    right = ")" if spec.open_bounds or hi is None else "]"
    return f"{left}{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}{right}"


def describe(cls) -> list[str]:
    """Lines describing one model class: parameters with unit, bounds, default; options."""
    unit_text = {"stress": "stress unit", "-": "dimensionless", "direction": "unit vector",
                 "1/stress": "1/stress unit"}
    lines = []
    for pname, spec in cls.parameters.items():
        shape = "list" if spec.shape is None else ("3-vector" if spec.shape == (3,) else "scalar")
        default = "required" if spec.default is None else f"default {spec.default}"
        doc = f"  {spec.doc}" if spec.doc else ""
        unit = unit_text.get(spec.unit, spec.unit)
        lines.append(f"    {pname:<10} {shape:<8} [{unit}] in {_bounds(spec)}, {default}{doc}")
    for oname, (odefault, choices) in cls.options.items():
        lines.append(f"    {oname:<10} option   one of {', '.join(map(str, choices))} (default {odefault})")
    if cls.incompressible:
        lines.append("    incompressible: J = 1 is enforced by a pressure (driver, fitting)")
    if cls.reference:
        lines.append(f"    reference: {cls.reference}")
    return lines


def run(args) -> int:
    import materials

    states = set(materials.available_state_models())
    names = [args.name] if args.name else materials.available() + sorted(states)
    for name in names:
        state = name.strip().lower().replace("_", "-") in states
        cls = materials.state_model_class(name) if state else materials.model_class(name)
        summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{name}  ({cls.__name__}): {summary}")
        print("\n".join(describe(cls)))
        if state:
            print("    state model: wraps a hyperelastic base (option base=NAME; the base's parameters "
                  "come first)")
    return 0
