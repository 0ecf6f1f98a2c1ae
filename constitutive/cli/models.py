"""``constitutive models``: list the registered models with their parameters."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list the registered material models")
    p.set_defaults(func=run)


def run(args) -> int:
    import materials

    for name in materials.available():
        cls = materials.model_class(name)
        params = ", ".join(
            f"{k}={v.default}" if v.default is not None else k for k, v in cls.parameters.items()
        )
        print(f"{name:<22} {params}")
        if cls.reference:
            print(f"{'':<22} ref: {cls.reference}")
    return 0
