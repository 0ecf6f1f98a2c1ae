"""The Mullins effect: Ogden & Roxburgh's (1999) pseudo-elastic damage model on any base.

``W0`` is the softened part of the base energy: the isochoric part ``W_iso`` of a decoupled base
(the volumetric part stays undamaged, as in Abaqus' Mullins effect), the whole energy otherwise.
With ``Wm`` the largest ``W0`` reached so far (the one state variable)::

    W(E, eta) = eta W0(E) + phi(eta) + U(J),
    eta = 1 - (1/r) erf((Wm - W0) / (m + beta Wm)),        S = dU/dE + eta dW0/dE.

On primary loading (``W0 = Wm``) ``eta = 1`` and the response is the base's; below the previous
maximum ``eta < 1``: unloading and reloading follow the softened curve ``eta S0``.
Incompressible neo-Hooke base in uniaxial tension: ``P11 = eta mu (lambda - lambda^-2)`` with
``W0 = mu/2 (lambda^2 + 2/lambda - 3)``.

The damage function ``phi(eta) = Wm (1 - eta) - (m + beta Wm)/(r sqrt(pi)) (1 - exp(-z^2))``,
``z = erfinv(r (1 - eta)) = (Wm - W0)/(m + beta Wm)``, is the energy not recovered: a cycle from
the undeformed state back to it dissipates ``phi(eta_m)`` with ``eta_m = eta(W0 = 0)``.

Parameters ``r > 1`` (``eta >= 1 - 1/r > 0``), ``m > 0`` (stress unit), ``beta >= 0``.
Reference: Ogden & Roxburgh (1999), Proc. R. Soc. Lond. A 455:2861-2877.
"""

from __future__ import annotations

import math

import torch

from constitutive import mandel, param
from constitutive.inelastic import Wrapper, energy_gradient

from .isochoric import IsochoricKinematics
from .viscoelastic import make_base, register_state_model


@register_state_model("mullins")
class Mullins(Wrapper):
    """Ogden-Roxburgh pseudo-elastic Mullins softening around a hyperelastic base.

    Parameters: the base's, ``r``, ``m``, ``beta``; option ``base`` (a registered model name
    or instance, default ``"neo-hooke-decoupled"``) and the base's options. State: ``Wm``.
    """

    reference = "Ogden & Roxburgh (1999), Proc. R. Soc. Lond. A 455:2861"
    r: float = param(2.0, bounds=(1.0, None), unit="-", doc="softening range: eta >= 1 - 1/r")
    m: float = param(0.2, bounds=(0.0, None), unit="stress", doc="softening energy scale")
    beta: float = param(
        0.1,
        bounds=(0.0, None),
        unit="-",
        open_bounds=False,
        doc="growth of the energy scale with Wm (m + beta Wm)",
    )

    def __init__(self, base="neo-hooke-decoupled", *, dtype=None, device=None, **params):
        super().__init__(make_base(base, params, dtype, device), **params)

    @property
    def state_labels(self) -> tuple[str, ...]:
        """``("Wm",)``: the largest softened energy reached."""
        return ("Wm",)

    @property
    def decoupled(self) -> bool:
        """True when only the isochoric part of the base is softened."""
        return hasattr(self.base, "isochoric_energy")

    def softened_energy(self, e: torch.Tensor) -> torch.Tensor:
        """``W0``: the isochoric energy of a decoupled base, else the whole energy (...)."""
        E = mandel.from_mandel(e)
        b = self.base_view()
        return b.isochoric_energy(IsochoricKinematics(E)) if self.decoupled else b.energy(E)

    def evolve(self, e, state, dt):
        """``Wm_{n+1} = max(Wm_n, W0(E_{n+1}))`` (ties count as loading)."""
        w0 = self.softened_energy(e)
        return torch.where(w0 >= state[..., 0], w0, state[..., 0])[..., None]

    def eta(self, w0: torch.Tensor, wm: torch.Tensor) -> torch.Tensor:
        """The damage variable ``1 - erf((Wm - W0)/(m + beta Wm)) / r``."""
        return 1.0 - torch.erf((wm - w0) / (self.m + self.beta * wm)) / self.r

    def stress(self, e, state):
        """``S = dU/dE + eta dW0/dE``."""
        w0 = self.softened_energy(e)
        s0 = energy_gradient(w0, e)
        eta = self.eta(w0, state[..., 0])
        if not self.decoupled:
            return eta[..., None] * s0
        s_base = energy_gradient(self.base_view().energy(mandel.from_mandel(e)), e)
        return s_base + (eta - 1.0)[..., None] * s0

    def dissipated_energy(self, wm) -> torch.Tensor:
        """``phi(eta_m)``: the energy dissipated by a cycle from the undeformed state to ``Wm``
        and back (closed form of the damage function at ``W0 = 0``)."""
        wm = torch.as_tensor(wm, dtype=self.dtype)
        scale = self.m + self.beta * wm
        z = wm / scale
        eta_m = 1.0 - torch.erf(z) / self.r
        return wm * (1.0 - eta_m) - scale / (self.r * math.sqrt(math.pi)) * (1.0 - torch.exp(-z * z))
