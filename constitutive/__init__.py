"""constitutive: hyperelastic constitutive models with exact autograd stress and tangents.

This package is the engine (energy -> stress and tangent in Mandel form, kinematics, checks);
its rooms are ``fast`` (compiled fast path), ``native`` (compiler, build cache, threads),
``files`` (atomic writes), ``calibration``, ``interfaces``, ``fem`` and ``cli``; the model
library is the top-level package ``materials``. Conventions: Mandel notation (order 11, 22,
33, 23, 13, 12; sqrt(2) on shear) inside the engine; Voigt and Abaqus orderings only at the
edges (:mod:`constitutive.interfaces`). float64 by default. See docs/architecture.md.
"""

from __future__ import annotations

from . import invariants, kinematics, mandel, tensors
from .domain import DomainError, require
from .hyperelastic import Hyperelastic
from .parameters import Parameter, param

__version__ = "0.1.0"

__all__ = [
    "DomainError",
    "Hyperelastic",
    "Parameter",
    "param",
    "require",
    "invariants",
    "kinematics",
    "mandel",
    "tensors",
    "__version__",
]
