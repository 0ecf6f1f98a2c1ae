"""Polynomial invariant models: Mooney-Rivlin and Yeoh (decoupled and incompressible)."""

from __future__ import annotations

from constitutive import param

from ._registry import register
from .decoupled import (
    BULK_MODULUS,
    COMPRESSIBLE_NOTE,
    INCOMPRESSIBLE_NOTE,
    Decoupled,
    Incompressible,
)


class _MooneyRivlinIso:
    """Mooney-Rivlin solid, ``W_iso = c10 (I1b - 3) + c01 (I2b - 3)``.

    Initial shear modulus ``G = 2 (c10 + c01)`` (must be > 0; ``c01`` may be negative).
    Incompressible uniaxial nominal stress ``P = 2 (1 - lambda^-3)(lambda c10 + c01)``.

    Reference: Mooney (1940), J. Appl. Phys. 11:582; Rivlin (1948), Phil. Trans. R. Soc. A
    241:379.
    """

    reference = "Mooney (1940), J. Appl. Phys. 11:582; Rivlin (1948), Phil. Trans. A 241:379"
    c10: float = param(0.4, unit="stress", doc="coefficient of (I1b - 3)")
    c01: float = param(0.1, unit="stress", doc="coefficient of (I2b - 3)")

    def isochoric_energy(self, k):
        return self.c10 * (k.I1b - 3.0) + self.c01 * (k.I2b - 3.0)

    def shear_modulus(self) -> float:
        return 2.0 * float((self.c10 + self.c01).detach())


@register("mooney-rivlin")
class MooneyRivlin(_MooneyRivlinIso, Decoupled):
    __doc__ = _MooneyRivlinIso.__doc__ + COMPRESSIBLE_NOTE
    K: float = BULK_MODULUS


@register("mooney-rivlin-incompressible")
class MooneyRivlinIncompressible(_MooneyRivlinIso, Incompressible):
    __doc__ = _MooneyRivlinIso.__doc__ + INCOMPRESSIBLE_NOTE


class _YeohIso:
    """Yeoh solid (three terms), ``W_iso = c10 (I1b-3) + c20 (I1b-3)^2 + c30 (I1b-3)^3``.

    Initial shear modulus ``G = 2 c10`` (``c10 > 0``; ``c20 < 0`` is typical of filled rubber).

    Reference: Yeoh (1993), Rubber Chem. Technol. 66:754.
    """

    reference = "Yeoh (1993), Rubber Chem. Technol. 66:754"
    c10: float = param(0.5, bounds=(0.0, None), unit="stress", doc="coefficient of (I1b-3)")
    c20: float = param(-0.01, unit="stress", doc="coefficient of (I1b-3)^2")
    c30: float = param(0.001, unit="stress", doc="coefficient of (I1b-3)^3")

    def isochoric_energy(self, k):
        x = k.I1b - 3.0
        return x * (self.c10 + x * (self.c20 + x * self.c30))

    def shear_modulus(self) -> float:
        return 2.0 * float(self.c10.detach())


@register("yeoh")
class Yeoh(_YeohIso, Decoupled):
    __doc__ = _YeohIso.__doc__ + COMPRESSIBLE_NOTE
    K: float = BULK_MODULUS


@register("yeoh-incompressible")
class YeohIncompressible(_YeohIso, Incompressible):
    __doc__ = _YeohIso.__doc__ + INCOMPRESSIBLE_NOTE
