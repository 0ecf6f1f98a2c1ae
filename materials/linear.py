"""Linear elasticity and its geometrically nonlinear extension (Saint Venant-Kirchhoff)."""

from __future__ import annotations

import torch

from constitutive import Hyperelastic, param
from constitutive.tensors import trace

from ._registry import register


def _quadratic_energy(E: torch.Tensor, lmbda, mu) -> torch.Tensor:
    """``lmbda/2 (tr E)^2 + mu E:E``."""
    trE = trace(E)
    return 0.5 * lmbda * trE * trE + mu * (E * E).sum((-1, -2))


class _Lame(Hyperelastic):
    lmbda: float = param(10.0, unit="stress", doc="first Lame parameter lambda")
    mu: float = param(1.0, bounds=(0.0, None), unit="stress", doc="shear modulus mu")

    def validate(self) -> None:
        if float((self.lmbda + 2.0 * self.mu / 3.0).detach()) <= 0.0:
            raise ValueError(
                f"{type(self).__name__}: bulk modulus lmbda + 2 mu / 3 = "
                f"{float((self.lmbda + 2.0 * self.mu / 3.0).detach()):g} must be > 0"
            )

    def initial_moduli(self) -> tuple[float, float]:
        return float(self.mu.detach()), float((self.lmbda + 2.0 * self.mu / 3.0).detach())

    @classmethod
    def from_young(cls, E: float, nu: float, **kwargs):
        """Construct from Young's modulus ``E`` and Poisson's ratio ``nu`` (``-1 < nu < 1/2``):
        ``mu = E / (2 (1 + nu))``, ``lmbda = E nu / ((1 + nu)(1 - 2 nu))``."""
        E, nu = float(E), float(nu)
        if not E > 0.0:
            raise ValueError(f"E: Young's modulus must be > 0, got {E:g}")
        if not -1.0 < nu < 0.5:
            raise ValueError(f"nu: Poisson's ratio must lie in (-1, 0.5), got {nu:g}")
        mu = E / (2.0 * (1.0 + nu))
        lmbda = E * nu / ((1.0 + nu) * (1.0 - 2.0 * nu))
        return cls(lmbda=lmbda, mu=mu, **kwargs)

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        return _quadratic_energy(E, self.lmbda, self.mu)


@register("linear-elastic")
class LinearElastic(_Lame):
    """Isotropic linear elasticity (small strain).

    ``W(eps) = lmbda/2 (tr eps)^2 + mu eps:eps``, ``sigma = lmbda tr(eps) I + 2 mu eps``;
    parameters by Lame constants or :meth:`from_young` (``E``, ``nu``).
    Initial moduli ``G = mu``, ``K = lmbda + 2 mu / 3``.

    The engine's strain argument is taken as the small-strain tensor (``eps = E``): use the
    Mandel interface (``stress_mandel(eps)``, ``stress_tangent_mandel(eps)``) for linear
    analyses. Driven by a deformation gradient, ``eps = E`` is the Green-Lagrange strain and the
    model is the objective Saint Venant-Kirchhoff extension.

    Reference: Timoshenko & Goodier (1970), Theory of Elasticity, 3rd ed., ch. 1.
    """

    small_strain = True

    reference = "Timoshenko & Goodier (1970), Theory of Elasticity, 3rd ed."


@register("saint-venant-kirchhoff")
class SaintVenantKirchhoff(_Lame):
    """Saint Venant-Kirchhoff material: linear elasticity in the Green-Lagrange strain.

    ``W(E) = lmbda/2 (tr E)^2 + mu E:E``, ``S = lmbda tr(E) I + 2 mu E``, constant tangent.
    Suitable for large rotations with small strains (it softens and loses stability in strong
    compression). Initial moduli ``G = mu``, ``K = lmbda + 2 mu / 3``.

    Reference: Holzapfel (2000), Nonlinear Solid Mechanics, eq. (6.151); Ciarlet (1988),
    Mathematical Elasticity I, sec. 3.9.
    """

    reference = "Holzapfel (2000), Nonlinear Solid Mechanics, eq. 6.151"
