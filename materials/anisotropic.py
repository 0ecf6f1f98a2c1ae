"""Fibre-reinforced anisotropic models: Holzapfel-Gasser-Ogden with dispersion, and a
transversely isotropic neo-Hookean matrix with one exponential fibre family.

Fibres carry load in tension only (Macaulay bracket ``<x> = max(x, 0)``). The fibre energy
``k1 / (2 k2) (exp(k2 <x>^2) - 1)`` is C1 in ``x`` (its slope ``k1 x exp(k2 x^2)`` vanishes at
``x = 0`` from both sides), so the stress is continuous at the switch; its second derivative
jumps from 0 to ``k1``, so the tangent has a jump ``k1 dx (x) dx`` there. The tangent returned
*at* ``x = 0`` is the one-sided value from the compression side (fibres inactive; the switch
is ``x > 0``), which makes the reference tangent the isotropic matrix stiffness (initial moduli
``(mu, K)``); on either side the tangent equals the derivative of the stress (tested by finite
differences just below, just above and, one-sided, at the switch).
"""

from __future__ import annotations

import math

import torch

from constitutive import Hyperelastic, param

from ._registry import register
from .isochoric import IsochoricKinematics
from .volumetric import VOLUMETRIC_FUNCTIONS, volumetric_u

_ANGLE = math.radians(29.0)


def fibre_energy(x: torch.Tensor, k1, k2) -> torch.Tensor:
    """``k1 / (2 k2) (exp(k2 <x>^2) - 1)``, active for ``x > 0`` only; ``k2 -> 0`` gives the
    quadratic ``k1/2 <x>^2`` (computed as ``k1/2 <x>^2 phi(k2 <x>^2)``, ``phi(z) = expm1(z)/z``)."""
    xp = torch.where(x > 0, x, torch.zeros_like(x))
    z = k2 * xp * xp
    small = z < 1e-6
    zs = torch.where(small, torch.ones_like(z), z)
    phi = torch.where(small, 1.0 + z * (0.5 + z / 6.0), torch.expm1(zs) / zs)
    return 0.5 * k1 * xp * xp * phi


def unit_direction(model, name: str) -> torch.Tensor:
    """Normalise the direction parameter ``name`` of ``model`` (``ValueError`` on zero length)."""
    a = getattr(model, name)
    n = torch.linalg.vector_norm(a)
    if not float(n.detach()) > 1e-12:
        raise ValueError(f"{type(model).__name__}: fibre direction {name!r} has zero length: {a.tolist()}")
    return a / n


class _FibreModel(Hyperelastic):
    options = {"volumetric": ("simo-taylor", VOLUMETRIC_FUNCTIONS)}

    def initial_moduli(self) -> tuple[float, float]:
        return float(self.mu.detach()), float(self.K.detach())

    def _matrix(self, k: IsochoricKinematics) -> torch.Tensor:
        return 0.5 * self.mu * (k.I1b - 3.0) + self.K * volumetric_u(k.I3, self.volumetric)


@register("holzapfel-gasser-ogden")
class HolzapfelGasserOgden(_FibreModel):
    """Holzapfel-Gasser-Ogden model with two fibre families and dispersion ``kappa``.

    ``W = mu/2 (I1b - 3) + K u(J) + sum_{i=1,2} k1 / (2 k2) (exp(k2 <E_i>^2) - 1)``,
    ``E_i = kappa (I1b - 3) + (1 - 3 kappa)(I4b_i - 1)``, ``I4b_i = a_i . Cb a_i``.

    The fibre invariants are the *isochoric* ones, as in Gasser et al. (2006) and Abaqus
    (``*ANISOTROPIC HYPERELASTIC, HOLZAPFEL``; ``mu = 2 C10``, ``K = 2 / D``, default
    volumetric function ``"simo-taylor"`` as there). ``kappa`` in ``[0, 1/3]``: 0 is the
    perfectly aligned model of Holzapfel et al. (2000), 1/3 isotropic dispersion.
    Fibre directions ``a1``, ``a2`` are normalised at construction (zero length is an error).
    Fibres are active for ``E_i > 0`` only (see the module docstring for the tangent at the
    switch). Initial moduli ``(mu, K)`` (fibres inactive at ``E = 0``).

    Defaults: media of Holzapfel et al. (2000), in MPa: ``mu = 3 kPa``, ``k1 = 2.3632 kPa``,
    ``k2 = 0.8393``, fibres at +-29 degrees in the 1-2 plane, ``kappa = 0``; ``K = 100 mu``.

    References: Gasser, Ogden & Holzapfel (2006), J. R. Soc. Interface 3:15; Holzapfel,
    Gasser & Ogden (2000), J. Elasticity 61:1.
    """

    reference = "Gasser, Ogden & Holzapfel (2006), J. R. Soc. Interface 3:15"
    mu: float = param(0.003, bounds=(0.0, None), unit="stress", doc="matrix shear modulus")
    K: float = param(0.3, bounds=(0.0, None), unit="stress", doc="initial bulk modulus")
    k1: float = param(0.0023632, bounds=(0.0, None), unit="stress", doc="fibre stiffness",
                      open_bounds=False)
    k2: float = param(0.8393, bounds=(0.0, None), unit="-", doc="fibre exponential coefficient",
                      open_bounds=False)
    kappa: float = param(0.0, bounds=(0.0, 1.0 / 3.0), unit="-", doc="dispersion (0 aligned, 1/3 isotropic)",
                         open_bounds=False)
    a1: float = param([math.cos(_ANGLE), math.sin(_ANGLE), 0.0], unit="direction", shape=(3,),
                      doc="direction of fibre family 1 (normalised)")
    a2: float = param([math.cos(_ANGLE), -math.sin(_ANGLE), 0.0], unit="direction", shape=(3,),
                      doc="direction of fibre family 2 (normalised)")

    def validate(self) -> None:
        self.a1 = unit_direction(self, "a1")
        self.a2 = unit_direction(self, "a2")

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        k = IsochoricKinematics(E)
        W = self._matrix(k)
        d = self.kappa * (k.I1b - 3.0)
        for a in (self.a1, self.a2):
            W = W + fibre_energy(d + (1.0 - 3.0 * self.kappa) * (k.I4b(a) - 1.0), self.k1, self.k2)
        return W


@register("transversely-isotropic")
class TransverselyIsotropic(_FibreModel):
    """Transversely isotropic solid: neo-Hookean matrix plus one exponential fibre family.

    ``W = mu/2 (I1b - 3) + K u(J) + k1 / (2 k2) (exp(k2 <I4 - 1>^2) - 1)``, ``I4 = a . C a``.

    The fibre invariant is the full (not isochoric) ``I4``, so the fibres also resist volume
    changes along ``a`` (the isochoric split of fibre invariants is known to give unphysical
    responses in compressible anisotropy; Sansour 2008, Eur. J. Mech. A 27:28). ``k2 -> 0``
    gives the standard reinforcing model ``k1/2 <I4 - 1>^2`` (Qiu & Pence 1997). Fibres are
    active in tension (``I4 > 1``) only. Initial moduli ``(mu, K)``.

    References: Qiu & Pence (1997), J. Elasticity 49:1 (standard reinforcing model); Holzapfel,
    Gasser & Ogden (2000), J. Elasticity 61:1 (exponential fibre energy).
    """

    reference = "Qiu & Pence (1997), J. Elasticity 49:1; Holzapfel et al. (2000), J. Elasticity 61:1"
    mu: float = param(1.0, bounds=(0.0, None), unit="stress", doc="matrix shear modulus")
    K: float = param(100.0, bounds=(0.0, None), unit="stress", doc="initial bulk modulus")
    k1: float = param(2.0, bounds=(0.0, None), unit="stress", doc="fibre stiffness", open_bounds=False)
    k2: float = param(1.0, bounds=(0.0, None), unit="-", doc="fibre exponential coefficient",
                      open_bounds=False)
    a: float = param([1.0, 0.0, 0.0], unit="direction", shape=(3,), doc="fibre direction (normalised)")

    def validate(self) -> None:
        self.a = unit_direction(self, "a")

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        k = IsochoricKinematics(E)
        return self._matrix(k) + fibre_energy(k.I4(self.a) - 1.0, self.k1, self.k2)
