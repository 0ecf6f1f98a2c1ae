"""Errors of the FE driver (one module, imported by the others: no import circles)."""

from __future__ import annotations


class ElementInversion(RuntimeError):
    """det F <= 0 at some quadrature point (the load step is cut back)."""


class ConvergenceError(RuntimeError):
    """Newton failed even with the smallest allowed load increment."""


class StepDiverged(RuntimeError):
    """One load step diverged (the driver cuts the increment back)."""
