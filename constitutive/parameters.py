"""Declared material parameters: name, default, admissible bounds, unit, shape, description.

A model declares its parameters as annotated class attributes::

    class MyRubber(Hyperelastic):
        c10: float = param(0.5, bounds=(0, None), unit="stress", doc="...")
        kappa: float            # plain annotation: required, unbounded, unit "stress"

``unit`` is a *kind* of quantity: ``"stress"`` (the user's stress unit, e.g. MPa),
``"-"`` (dimensionless) or ``"direction"`` (a 3-vector). Values carry no unit; the user's unit
system is kept consistent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

UNIT_KINDS = ("stress", "-", "direction", "1/stress")


@dataclass(frozen=True)
class Parameter:
    """Metadata of one material parameter."""

    default: Any = None
    bounds: tuple[float | None, float | None] = (None, None)
    unit: str = "stress"
    doc: str = ""
    shape: tuple[int, ...] | None = ()  # () scalar, (3,) vector, None: vector of any length
    open_bounds: bool = True  # strict inequality at the bounds
    name: str = field(default="", compare=False)

    def check(self, value) -> None:
        """Raise ``ValueError`` if ``value`` (a tensor) violates the declared shape or bounds."""
        import torch

        v = value.detach() if isinstance(value, torch.Tensor) else torch.as_tensor(value)
        if self.shape is not None and tuple(v.shape) != tuple(self.shape):
            raise ValueError(
                f"parameter {self.name!r}: expected shape {self.shape}, got {tuple(v.shape)}"
            )
        if self.shape is None and v.ndim != 1:
            raise ValueError(f"parameter {self.name!r}: expected a 1-D list of values, got {tuple(v.shape)}")
        lo, hi = self.bounds
        if lo is not None:
            bad = (v <= lo) if self.open_bounds else (v < lo)
            if bool(bad.any()):
                op = ">" if self.open_bounds else ">="
                raise ValueError(f"parameter {self.name!r}: must be {op} {lo}, got {_fmt(v)}")
        if hi is not None:
            bad = (v >= hi) if self.open_bounds else (v > hi)
            if bool(bad.any()):
                op = "<" if self.open_bounds else "<="
                raise ValueError(f"parameter {self.name!r}: must be {op} {hi}, got {_fmt(v)}")

    def bounds_for_fit(self) -> tuple[float, float]:
        """Bounds as finite-or-infinite floats, as scipy.optimize.least_squares expects."""
        lo, hi = self.bounds
        return (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))


def _fmt(v) -> str:
    return f"{float(v):g}" if v.ndim == 0 else str([round(float(x), 6) for x in v.reshape(-1)])


def param(
    default: Any = None,
    *,
    bounds: tuple[float | None, float | None] = (None, None),
    unit: str = "stress",
    doc: str = "",
    shape: tuple[int, ...] | None = (),
    open_bounds: bool = True,
) -> Any:
    """Declare a material parameter (use as the default value of an annotated class attribute).

    Parameters
    ----------
    default : default value (``None``: required); a list for list parameters.
    bounds : ``(lower, upper)``, ``None`` for unbounded; checked at construction and used as the
        fitting bounds.
    unit : kind of quantity: ``"stress"`` (the user's stress unit), ``"1/stress"``, ``"-"``
        (dimensionless) or ``"direction"`` (a 3-vector); used for unit conversion and display.
    doc : one-line description (shown by ``constitutive models`` and ``help(materials.get)``).
    shape : ``()`` scalar, ``(3,)`` vector, ``None`` a list of any length (Ogden terms).
    open_bounds : strict inequalities at the bounds (default) or not.

    Examples
    --------
    >>> class MyRubber(Hyperelastic):                                    # doctest: +SKIP
    ...     c10: float = param(0.5, bounds=(0, None), unit="stress", doc="neo-Hookean coefficient")
    """
    if unit not in UNIT_KINDS:
        raise ValueError(f"unit: expected one of {UNIT_KINDS}, got {unit!r}")
    return Parameter(default, bounds, unit, doc, shape, open_bounds)


def collect_parameters(cls) -> dict[str, Parameter]:
    """Parameters declared on ``cls`` and its bases, in declaration order (bases first).

    An annotated attribute is a parameter if its annotation is ``float``/``Tensor`` (as object or
    string) or its value is a :class:`Parameter`.
    """
    out: dict[str, Parameter] = {}
    for klass in reversed(cls.__mro__):
        ann = klass.__dict__.get("__annotations__", {})
        for name, typ in ann.items():
            if name.startswith("_"):
                continue
            value = klass.__dict__.get(name, None)
            tname = typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))
            if isinstance(value, Parameter):
                out[name] = _named(value, name)
            elif tname in ("float", "Tensor", "torch.Tensor"):
                out[name] = Parameter(default=value, name=name)
    return out


def _named(p: Parameter, name: str) -> Parameter:
    return Parameter(p.default, p.bounds, p.unit, p.doc, p.shape, p.open_bounds, name)
