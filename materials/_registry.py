"""Registry of material models by name (used by ``materials.get`` and the CLI)."""

from __future__ import annotations

_REGISTRY: dict[str, type] = {}


def register(name: str):
    """Class decorator: register a :class:`constitutive.Hyperelastic` subclass under ``name``."""

    def deco(cls):
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"material name {name!r} is already registered")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def available() -> list[str]:
    """Names of all registered models, sorted."""
    return sorted(_REGISTRY)


def model_class(name: str) -> type:
    """The class registered under ``name`` (clear ``KeyError`` listing the known names).

    ``name`` may also be ``path/to/file.py:ClassName``: a user's own
    :class:`~constitutive.Hyperelastic` subclass, loaded from that file.
    """
    if ":" in name and name.split(":", 1)[0].endswith(".py"):
        return load_model_file(name)
    key = name.strip().lower().replace("_", "-")
    if key not in _REGISTRY:
        raise KeyError(f"unknown material model {name!r}; available: {', '.join(available())}")
    return _REGISTRY[key]


def get(name: str, **params):
    """Instantiate the model registered under ``name`` with ``params``.

    Parameters
    ----------
    name : registered name (``materials.available()``; ``constitutive models`` shows each with
        its parameters) or ``path/to/file.py:ClassName`` for a user's own model.
    **params : parameter values (numbers, lists for list parameters such as Ogden's ``mu`` and
        ``alpha``, 3-vectors for fibre directions, tensors that may require grad) and options
        (strings such as ``volumetric="J-1"``). Parameters not given take their defaults;
        values outside the declared bounds are refused with a ``ValueError`` naming them.

    Returns
    -------
    The material, a :class:`constitutive.Hyperelastic` (float64, CPU unless ``device=`` is given).

    Examples
    --------
    >>> import materials
    >>> rubber = materials.get("mooney-rivlin", c10=0.4, c01=0.1, K=100.0, volumetric="J-1")
    >>> ogden3 = materials.get("ogden", mu=[0.63, 0.0012, -0.01], alpha=[1.3, 5.0, -2.0], K=200.0)
    >>> fitted = materials.from_fit("fit.json")                          # doctest: +SKIP

    The registered models, their parameters (unit kind, bounds, default) and options are listed
    below (generated when the library is imported).
    """
    return model_class(name)(**params)


def catalogue() -> str:
    """One block per registered model: parameters with unit kind, bounds and default; options."""
    lines = []
    for name in available():
        cls = _REGISTRY[name]
        lines.append(f"{name} ({cls.__name__}):")
        for pname, spec in cls.parameters.items():
            lo, hi = spec.bounds
            bounds = "any" if lo is None and hi is None else f"({'-inf' if lo is None else lo}, " \
                f"{'inf' if hi is None else hi})"
            shape = "list" if spec.shape is None else ("3-vector" if spec.shape == (3,) else "scalar")
            lines.append(f"    {pname}: {shape}, unit {spec.unit!r}, bounds {bounds}, default {spec.default}"
                         + (f" -- {spec.doc}" if spec.doc else ""))
        for oname, (odefault, choices) in cls.options.items():
            lines.append(f"    {oname}: option, one of {list(choices)}, default {odefault!r}")
        if cls.reference:
            lines.append(f"    reference: {cls.reference}")
    return "\n".join(lines)


def load_model_file(spec: str) -> type:
    """The class ``ClassName`` of ``path/to/file.py:ClassName`` (a Hyperelastic subclass)."""
    import importlib.util
    import os

    from constitutive import Hyperelastic

    path, _, cls_name = spec.rpartition(":")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model {spec!r}: no such file {path!r}")
    mod_name = "constitutive_user_" + os.path.splitext(os.path.basename(path))[0]
    module_spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Hyperelastic)):
        found = sorted(k for k, v in vars(module).items()
                       if isinstance(v, type) and issubclass(v, Hyperelastic) and v is not Hyperelastic)
        raise KeyError(f"model {spec!r}: {path} defines no Hyperelastic subclass {cls_name!r}; found {found}")
    return cls
