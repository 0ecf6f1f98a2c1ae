"""Ogden's principal-stretch model (N terms), decoupled and incompressible."""

from __future__ import annotations

import torch

from constitutive import param
from constitutive.principal import principal_power_sums

from ._registry import register
from .decoupled import (
    BULK_MODULUS,
    COMPRESSIBLE_NOTE,
    INCOMPRESSIBLE_NOTE,
    Decoupled,
    Incompressible,
)


class _OgdenIso:
    """Ogden solid, ``W_iso = sum_p mu_p / alpha_p (lb1^a_p + lb2^a_p + lb3^a_p - 3)``.

    ``lb_i = J^{-1/3} lambda_i`` are the isochoric principal stretches; ``mu`` and ``alpha`` are
    lists of equal length ``N >= 1`` with every ``alpha_p != 0``. Initial shear modulus
    ``G = sum_p mu_p alpha_p / 2`` (must be > 0; ``mu_p alpha_p > 0`` for every term is the
    usual sufficient condition for stability). ``alpha = 2`` gives neo-Hooke (``mu/2 (I1b-3)``),
    ``alpha = -2`` the ``I2b`` term of Mooney-Rivlin.

    Coincident principal stretches (``E = 0``, uniaxial, equibiaxial, hydrostatic states) are
    handled without eigenvector derivatives: ``sum_i lb_i^a = tr Cb^(a/2)`` is evaluated by
    :func:`constitutive.principal.principal_power_sums` (Taylor series about the mean
    eigenvalue for a triple root, an isolated root by Newton steps on the autograd graph plus
    a series in the squared gap for a double root), so stress and tangent are finite and exact
    there (tested against the invariant forms to ~1e-12).

    Incompressible uniaxial nominal stress ``P = sum_p mu_p (lambda^(a_p-1) - lambda^(-a_p/2-1))``.
    Defaults: Ogden's (1972) fit of Treloar's data, ``mu = (0.63, 0.0012, -0.01)`` MPa,
    ``alpha = (1.3, 5.0, -2.0)``.

    Reference: Ogden (1972), Proc. R. Soc. Lond. A 326:565.
    """

    reference = "Ogden (1972), Proc. R. Soc. Lond. A 326:565"
    mu: float = param([0.63, 0.0012, -0.01], unit="stress", shape=None, doc="moduli mu_p")
    alpha: float = param([1.3, 5.0, -2.0], unit="-", shape=None, doc="exponents alpha_p")

    def validate(self) -> None:
        n_mu, n_alpha = self.mu.numel(), self.alpha.numel()
        if n_mu == 0 or n_mu != n_alpha:
            raise ValueError(
                f"{type(self).__name__}: mu and alpha must be lists of the same length >= 1 "
                f"(one entry per Ogden term), got {n_mu} mu and {n_alpha} alpha"
            )
        if bool((self.alpha.detach() == 0).any()):
            raise ValueError(
                f"{type(self).__name__}: every alpha_p must be nonzero, got {self.alpha.tolist()}"
            )
        super().validate()  # positive initial shear modulus

    def isochoric_energy(self, k):
        # tr Cb^b = J^(-2b/3) tr C^b: the spectral sum of C = I + 2E (linear in E) with the
        # isochoric scale ln J^(-2/3) = -ln(det C) / 3 (a cheaper graph than forming Cb)
        sums = principal_power_sums(k.C, 0.5 * self.alpha, log_scale=torch.log(k.I3) / -3.0)
        return ((self.mu / self.alpha) * (sums - 3.0)).sum(-1)

    def shear_modulus(self) -> float:
        return 0.5 * float((self.mu * self.alpha).sum().detach())


@register("ogden")
class Ogden(_OgdenIso, Decoupled):
    __doc__ = _OgdenIso.__doc__ + COMPRESSIBLE_NOTE
    K: float = BULK_MODULUS


@register("ogden-incompressible")
class OgdenIncompressible(_OgdenIso, Incompressible):
    __doc__ = _OgdenIso.__doc__ + INCOMPRESSIBLE_NOTE


