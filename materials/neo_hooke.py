"""Neo-Hookean solids: compressible (coupled), decoupled, incompressible."""

from __future__ import annotations

import torch

from constitutive import Hyperelastic, param
from constitutive.invariants import I1, I3

from ._registry import register
from .decoupled import (
    BULK_MODULUS,
    COMPRESSIBLE_NOTE,
    INCOMPRESSIBLE_NOTE,
    Decoupled,
    Incompressible,
)
from .volumetric import VOLUMETRIC_FUNCTIONS, volumetric_u


@register("neo-hooke")
class NeoHooke(Hyperelastic):
    """Compressible neo-Hookean solid.

    ``W = mu/2 (I1 - 3) - mu ln J + lmbda u(J)`` with ``I1 = tr C``, ``J = det F`` and ``u`` the
    volumetric function chosen by the option ``volumetric`` (``u''(1) = 1``):

    * ``"lnJ"`` (default): ``u = (ln J)^2 / 2``, i.e. ``W = mu/2 (I1-3) - mu ln J + lmbda/2 (ln J)^2``
      (Bonet & Wood 2008, eq. 6.27);
    * ``"J-1"``: ``u = (J - 1)^2 / 2``;
    * ``"simo-taylor"``: ``u = (J^2 - 1 - 2 ln J) / 4`` (Simo & Taylor 1982).

    Initial moduli: ``G = mu``, ``K = lmbda + 2 mu / 3`` for every choice.

    Reference: Bonet & Wood (2008), Nonlinear Continuum Mechanics for Finite Element
    Analysis, 2nd ed., eq. (6.27); Holzapfel (2000), eq. (6.148).
    """

    reference = "Bonet & Wood (2008), Nonlinear Continuum Mechanics for FE Analysis, eq. 6.27"
    options = {"volumetric": ("lnJ", VOLUMETRIC_FUNCTIONS)}
    mu: float = param(1.0, bounds=(0.0, None), unit="stress", doc="shear modulus")
    lmbda: float = param(10.0, bounds=(None, None), unit="stress",
                         doc="first Lame parameter (coefficient of the volumetric function)")

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        I3_ = I3(E)
        lnJ = 0.5 * torch.log(I3_)
        return 0.5 * self.mu * (I1(E) - 3.0) - self.mu * lnJ + self.lmbda * volumetric_u(I3_, self.volumetric)

    def validate(self) -> None:
        if float((self.lmbda + 2.0 * self.mu / 3.0).detach()) <= 0.0:
            raise ValueError("parameters: bulk modulus lmbda + 2 mu / 3 must be > 0")

    def initial_moduli(self) -> tuple[float, float]:
        return float(self.mu.detach()), float((self.lmbda + 2.0 * self.mu / 3.0).detach())


class _NeoHookeIso:
    """Neo-Hookean solid, isochoric part ``W_iso = mu/2 (I1b - 3)``.

    Initial shear modulus ``G = mu``.

    Reference: Treloar (1943), Trans. Faraday Soc. 39:241; Simo & Taylor (1991), CMAME 85:273.
    """

    reference = "Treloar (1943), Trans. Faraday Soc. 39:241"
    mu: float = param(1.0, bounds=(0.0, None), unit="stress", doc="shear modulus")

    def isochoric_energy(self, k):
        return 0.5 * self.mu * (k.I1b - 3.0)

    def shear_modulus(self) -> float:
        return float(self.mu.detach())


@register("neo-hooke-decoupled")
class NeoHookeDecoupled(_NeoHookeIso, Decoupled):
    __doc__ = _NeoHookeIso.__doc__ + COMPRESSIBLE_NOTE
    K: float = BULK_MODULUS


@register("neo-hooke-incompressible")
class NeoHookeIncompressible(_NeoHookeIso, Incompressible):
    __doc__ = _NeoHookeIso.__doc__ + INCOMPRESSIBLE_NOTE


@register("neo-hooke-decoupled-incompressible")
class NeoHookeDecoupledIncompressible(NeoHookeIncompressible):
    """Same model as ``neo-hooke-incompressible`` (name following the ``<model>-incompressible``
    rule for ``neo-hooke-decoupled``)."""
