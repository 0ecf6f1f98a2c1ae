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
    """Instantiate the model registered under ``name`` with ``params``."""
    return model_class(name)(**params)


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
