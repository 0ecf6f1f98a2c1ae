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
    """The class registered under ``name`` (clear ``KeyError`` listing the known names)."""
    key = name.strip().lower().replace("_", "-")
    if key not in _REGISTRY:
        raise KeyError(f"unknown material model {name!r}; available: {', '.join(available())}")
    return _REGISTRY[key]


def get(name: str, **params):
    """Instantiate the model registered under ``name`` with ``params``."""
    return model_class(name)(**params)
