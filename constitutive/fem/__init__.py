"""A small 3D finite-element driver: total Lagrangian, quasi-static, hyperelastic.

Any material of the library is evaluated on all quadrature points at once through
``material.pk1_tangent(F)``; assembly is vectorised, the sparsity pattern computed once, and
Newton-Raphson uses the consistent tangent. See docs/fem.md.

>>> from constitutive.fem import Problem, box
>>> prob = Problem(box(2), materials.get("neo-hooke", mu=1.0, lmbda=10.0))  # doctest: +SKIP
"""

from __future__ import annotations

from .errors import ConvergenceError, ElementInversion
from .generate import box, cook_membrane_mesh, distort, hex_to_tets, to_quadratic
from .mesh import Mesh
from .newton import Result, solve
from .output import Writer
from .problem import Problem

__all__ = ["Mesh", "Problem", "Result", "Writer", "ConvergenceError", "ElementInversion", "box",
           "cook_membrane_mesh", "distort", "hex_to_tets", "to_quadratic", "solve"]
