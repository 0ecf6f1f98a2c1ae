"""constitutive: hyperelastic constitutive models with exact autograd stress and tangents.

Conventions: Mandel notation (order 11, 22, 33, 23, 13, 12; sqrt(2) on shear) inside the
core; Voigt and Abaqus orderings only at the edges (export, UMAT). float64 by default.
"""

from __future__ import annotations

from . import invariants, kinematics, mandel, tensors
from .hyperelastic import Hyperelastic
from .parameters import Parameter, param

__version__ = "0.1.0"

__all__ = [
    "Hyperelastic",
    "Parameter",
    "param",
    "invariants",
    "kinematics",
    "mandel",
    "tensors",
    "__version__",
]
