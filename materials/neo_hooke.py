"""Compressible neo-Hookean material (ln J volumetric form)."""

from __future__ import annotations

import torch

from constitutive import Hyperelastic, param
from constitutive.invariants import I1, log_jacobian

from ._registry import register


@register("neo-hooke")
class NeoHooke(Hyperelastic):
    """Compressible neo-Hookean solid.

    ``W = mu/2 (I1 - 3) - mu ln J + lmbda/2 (ln J)^2`` with ``I1 = tr C``, ``J = det F``.

    Initial moduli: ``G = mu``, ``K = lmbda + 2 mu / 3``.

    Reference: Bonet & Wood (2008), Nonlinear Continuum Mechanics for Finite Element
    Analysis, 2nd ed., eq. (6.27); Holzapfel (2000), eq. (6.148).
    """

    reference = "Bonet & Wood (2008), Nonlinear Continuum Mechanics for FE Analysis, eq. 6.27"
    mu: float = param(1.0, bounds=(0.0, None), unit="stress", doc="shear modulus")
    lmbda: float = param(10.0, bounds=(None, None), unit="stress",
                         doc="first Lame parameter")

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        lnJ = log_jacobian(E)
        return 0.5 * self.mu * (I1(E) - 3.0) - self.mu * lnJ + 0.5 * self.lmbda * lnJ**2

    def validate(self) -> None:
        if float(self.lmbda + 2.0 * self.mu / 3.0) <= 0.0:
            raise ValueError("parameters: bulk modulus lmbda + 2 mu / 3 must be > 0")

    def initial_moduli(self) -> tuple[float, float]:
        return float(self.mu), float(self.lmbda + 2.0 * self.mu / 3.0)
