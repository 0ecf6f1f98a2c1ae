"""constitutive: hyperelastic constitutive models with exact autograd stress and tangents.

This package is the engine (energy -> stress and tangent in Mandel form, kinematics, checks);
its rooms are ``fast`` (compiled fast path), ``native`` (compiler, build cache, threads),
``files`` (atomic writes), ``calibration``, ``interfaces``, ``fem`` and ``cli``; the model
library is the top-level package ``materials``. Conventions: Mandel notation (order 11, 22,
33, 23, 13, 12; sqrt(2) on shear) inside the engine; Voigt and Abaqus orderings only at the
edges (:mod:`constitutive.interfaces`). float64 by default. See docs/architecture.md.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Names are loaded on first use (PEP 562): ``import constitutive`` imports no torch, so the
# command-line help and the torch-free parts (the compiled-library loader
# ``constitutive.interfaces.compiled.loader``) work where torch is absent or slow to import.
_LAZY = {
    "DomainError": ("domain", "DomainError"),
    "require": ("domain", "require"),
    "Hyperelastic": ("hyperelastic", "Hyperelastic"),
    "Inelastic": ("inelastic", "Inelastic"),
    "Parameter": ("parameters", "Parameter"),
    "param": ("parameters", "param"),
}
_SUBMODULES = ("invariants", "kinematics", "mandel", "tensors")

__all__ = ["DomainError", "Hyperelastic", "Inelastic", "Parameter", "param", "require", "invariants",
           "kinematics", "mandel", "tensors", "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
