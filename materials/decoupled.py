"""Building blocks of the decoupled isochoric/volumetric form and its incompressible variant.

An isotropic model is written once as a mixin that declares its parameters and

* ``isochoric_energy(self, k)``: ``W_iso`` from an :class:`~materials.isochoric.IsochoricKinematics`
  ``k`` (use ``k.I1b``, ``k.I2b``, ``k.Cb``),
* ``shear_modulus(self)``: the initial shear modulus ``G`` implied by the parameters.

Two concrete classes follow from it in two lines each:

* ``class Model(Mixin, Decoupled)`` with ``K: float = BULK_MODULUS``:
  ``W = W_iso(Cb) + K u(J)``, ``u`` selected by the option ``volumetric``
  (see :mod:`materials.volumetric`); initial moduli ``(G, K)``.
* ``class ModelIncompressible(Mixin, Incompressible)``: ``W = W_iso(Cb)``, ``incompressible =
  True``; the material-point driver and the fitting enforce ``J = 1`` by a pressure ``p``
  (``S = dW/dE - p C^{-1}``). Because ``W_iso`` is evaluated on ``Cb``, the energy is defined and
  smooth for every ``J`` (its volumetric stiffness is zero): initial moduli ``(G, inf)``.

Reference: Simo, Taylor & Pister (1985), CMAME 51:177; Holzapfel (2000), sec. 6.4.
"""

from __future__ import annotations

import math

import torch

from constitutive import Hyperelastic, param

from .isochoric import IsochoricKinematics
from .volumetric import VOLUMETRIC_FUNCTIONS, volumetric_u

#: the bulk-modulus declaration shared by the compressible decoupled models
BULK_MODULUS = param(100.0, bounds=(0.0, None), unit="stress", doc="initial bulk modulus K")

COMPRESSIBLE_NOTE = """
    Decoupled compressible form ``W = W_iso(Cb) + K u(J)`` with ``u`` chosen by the option
    ``volumetric`` (``"lnJ"``, ``"J-1"``, ``"simo-taylor"``; see :mod:`materials.volumetric`).
    Initial moduli ``(G, K)``.
"""

INCOMPRESSIBLE_NOTE = """
    Incompressible variant: ``W = W_iso(Cb)`` (no ``K``), ``incompressible = True``; ``J = 1`` is
    enforced by a pressure in the material-point driver and the fitting. Initial moduli
    ``(G, inf)``.
"""


class _IsochoricModel(Hyperelastic):
    """Common part: the mixin supplies ``isochoric_energy`` and ``shear_modulus``."""

    def isochoric_energy(self, k: IsochoricKinematics) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} must implement isochoric_energy(self, k)")

    def shear_modulus(self) -> float:  # pragma: no cover
        raise NotImplementedError(f"{type(self).__name__} must implement shear_modulus(self)")

    def validate(self) -> None:
        """Every isochoric model needs a positive initial shear modulus; mixins with further
        checks call ``super().validate()``."""
        check_positive_shear(self, self.shear_modulus())


class Decoupled(_IsochoricModel):
    """``W = W_iso(Cb) + K u(J)``; concrete classes declare ``K: float = BULK_MODULUS``."""

    options = {"volumetric": ("J-1", VOLUMETRIC_FUNCTIONS)}

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        k = IsochoricKinematics(E)
        return self.isochoric_energy(k) + self.K * volumetric_u(k.I3, self.volumetric)

    def initial_moduli(self) -> tuple[float, float]:
        return float(self.shear_modulus()), float(self.K.detach())


class Incompressible(_IsochoricModel):
    """``W = W_iso(Cb)``; ``J = 1`` enforced by a pressure outside the model."""

    incompressible = True

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        return self.isochoric_energy(IsochoricKinematics(E))

    def initial_moduli(self) -> tuple[float, float]:
        return float(self.shear_modulus()), math.inf


def check_positive_shear(model, G: float) -> None:
    """Raise ``ValueError`` unless the initial shear modulus is positive."""
    if not G > 0.0:
        raise ValueError(
            f"{type(model).__name__}: parameters give initial shear modulus G = {G:g}; must be > 0"
        )
