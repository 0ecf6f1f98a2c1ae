"""Limiting-chain-extensibility models: Gent and Arruda-Boyce (eight-chain)."""

from __future__ import annotations

import torch

from constitutive import param
from constitutive.domain import require

from ._registry import register
from .decoupled import (
    BULK_MODULUS,
    COMPRESSIBLE_NOTE,
    INCOMPRESSIBLE_NOTE,
    Decoupled,
    Incompressible,
)
from .langevin import inverse_langevin, log_sinhc
from .volumetric import VOLUMETRIC_FUNCTIONS


class _GentIso:
    """Gent solid, ``W_iso = -mu Jm / 2 ln(1 - (I1b - 3) / Jm)``.

    ``Jm`` is the limiting value of ``I1b - 3`` (locking); as ``Jm -> inf`` the model tends to
    neo-Hooke with shear modulus ``mu``. Initial shear modulus ``G = mu``. Evaluating at or
    beyond locking (``I1b - 3 >= Jm``) raises :class:`constitutive.domain.DomainError`
    (a ``ValueError``), on the eager and the compiled paths alike.

    Reference: Gent (1996), Rubber Chem. Technol. 69:59.
    """

    reference = "Gent (1996), Rubber Chem. Technol. 69:59"
    mu: float = param(1.0, bounds=(0.0, None), unit="stress", doc="initial shear modulus")
    Jm: float = param(50.0, bounds=(0.0, None), unit="-", doc="limiting value of I1b - 3")

    def isochoric_energy(self, k):
        x = (k.I1b - 3.0) / self.Jm
        require(x < 1.0, f"{type(self).__name__}: I1b - 3 reached the locking limit Jm")
        W = -0.5 * self.mu * self.Jm * torch.log1p(-x)
        return torch.where(x < 1.0, W, torch.full_like(W, float("nan")))

    def shear_modulus(self) -> float:
        return float(self.mu.detach())


@register("gent")
class Gent(_GentIso, Decoupled):
    __doc__ = _GentIso.__doc__ + COMPRESSIBLE_NOTE
    K: float = BULK_MODULUS


@register("gent-incompressible")
class GentIncompressible(_GentIso, Incompressible):
    __doc__ = _GentIso.__doc__ + INCOMPRESSIBLE_NOTE


class _ArrudaBoyceIso:
    """Arruda-Boyce eight-chain solid.

    ``W_iso = mu N [beta r + ln(beta / sinh beta)] - W_0`` with ``N = lambda_m^2``,
    chain stretch ``lambda_ch = sqrt(I1b / 3)``, ``r = lambda_ch / lambda_m`` and
    ``beta = L^{-1}(r)`` (inverse Langevin function); ``W_0`` makes ``W_iso = 0`` at ``I1b = 3``.
    Then ``dW_iso/dlambda_ch = mu lambda_m beta``.

    ``L^{-1}`` is evaluated exactly to rounding (relative error ~1e-16 / (1 - r), i.e. 1e-14 at
    r = 0.99; see :mod:`materials.langevin`), not by a Pade approximant (Cohen's would add up to
    4.9 %, Jedynak's 1.5 % error), so stress and tangent stay finite and accurate up to close
    to the locking stretch ``lambda_ch -> lambda_m``; at or beyond it
    :class:`constitutive.domain.DomainError` is raised.

    Initial shear modulus ``G = mu lambda_m L^{-1}(1 / lambda_m) / 3`` (tends to ``mu`` as
    ``lambda_m -> inf``; the series form gives
    ``G = mu (1 + 3/(5N) + 99/(175N^2) + ...)``).

    Reference: Arruda & Boyce (1993), J. Mech. Phys. Solids 41:389.
    """

    reference = "Arruda & Boyce (1993), J. Mech. Phys. Solids 41:389"
    mu: float = param(1.0, bounds=(0.0, None), unit="stress", doc="rubbery modulus (n k T)")
    lambda_m: float = param(3.0, bounds=(1.0, None), unit="-", doc="locking chain stretch sqrt(N)")

    def _chain(self, r):
        beta = inverse_langevin(r)
        return beta * r - log_sinhc(beta)

    def isochoric_energy(self, k):
        lm = self.lambda_m
        r = torch.sqrt(k.I1b / 3.0) / lm
        require(r < 1.0, f"{type(self).__name__}: the chain stretch reached the locking stretch lambda_m")
        W = self.mu * lm * lm * (self._chain(r) - self._chain(1.0 / lm))
        return torch.where(r < 1.0, W, torch.full_like(W, float("nan")))

    def shear_modulus(self) -> float:
        lm = self.lambda_m.detach()
        return float(self.mu.detach() * lm * inverse_langevin(1.0 / lm) / 3.0)


@register("arruda-boyce")
class ArrudaBoyce(_ArrudaBoyceIso, Decoupled):
    __doc__ = _ArrudaBoyceIso.__doc__ + COMPRESSIBLE_NOTE + """
    Default volumetric function ``"simo-taylor"`` as in Abaqus (``D = 2 / K``).
"""
    options = {"volumetric": ("simo-taylor", VOLUMETRIC_FUNCTIONS)}
    K: float = BULK_MODULUS


@register("arruda-boyce-incompressible")
class ArrudaBoyceIncompressible(_ArrudaBoyceIso, Incompressible):
    __doc__ = _ArrudaBoyceIso.__doc__ + INCOMPRESSIBLE_NOTE


