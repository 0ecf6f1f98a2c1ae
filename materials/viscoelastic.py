"""Finite-strain viscoelasticity (generalized Maxwell, Prony series) on an isochoric base, and the
registry of state-carrying models.

Model (Simo 1987; Holzapfel 1996; Holzapfel 2000, sec. 6.10). The base is a decoupled model of
the library, ``W = W_iso(Cb) + U(J)`` (:class:`~materials.decoupled.Decoupled` or
:class:`~materials.decoupled.Incompressible`). With ``S_iso = dW_iso/dE`` (the isochoric 2nd
Piola-Kirchhoff stress) and ``N`` Maxwell elements of relaxation times ``tau_i`` and strength
factors ``beta_i``::

    S(t) = dW/dE (E(t)) + sum_i Q_i(t),
    dQ_i/dt + Q_i / tau_i = beta_i dS_iso/dt,      Q_i(0) = 0,
    Q_i(t) = beta_i  int_0^t exp(-(t - s) / tau_i) dS_iso/ds ds        (the hereditary integral).

Long-time limit: ``S -> dW/dE`` (the base). Instantaneous response from the virgin state:
``S = dU/dE + (1 + sum_i beta_i) S_iso`` (the base, with its isochoric part scaled). In the
small-strain limit of an incompressible base of shear modulus ``G``, the uniaxial relaxation
modulus is the Prony series ``E(t) = 3G (1 + sum_i beta_i exp(-t / tau_i))``.

Update over ``[t_n, t_{n+1}]``, ``x_i = dt / tau_i`` (Taylor, Pister & Goudreau 1970; Simo &
Hughes 1998, eq. 10.3.13): exact where ``S_iso`` is linear in time within the increment,
second-order accurate otherwise, unconditionally stable::

    Q_i^{n+1} = exp(-x_i) Q_i^n + beta_i g(x_i) (S_iso^{n+1} - S_iso^n),   g(x) = (1 - exp(-x)) / x.

State per point (``6 (N + 1)`` values, Mandel components, shear times sqrt 2): ``S_iso^n``
then ``Q_1 ... Q_N``; it starts at zero (the virgin, stress-free material).
"""

from __future__ import annotations

import torch

from constitutive import mandel
from constitutive.inelastic import Inelastic, Wrapper, energy_gradient
from constitutive.parameters import Parameter

from ._registry import model_class
from .isochoric import IsochoricKinematics

_STATE_REGISTRY: dict[str, type] = {}
MANDEL_LABELS = ("11", "22", "33", "23", "13", "12")


def register_state_model(name: str):
    """Class decorator: register an :class:`~constitutive.inelastic.Inelastic` model by name."""

    def deco(cls):
        if name in _STATE_REGISTRY and _STATE_REGISTRY[name] is not cls:
            raise ValueError(f"state model name {name!r} is already registered")
        cls.name = name
        _STATE_REGISTRY[name] = cls
        return cls

    return deco


def available_state_models() -> list[str]:
    """Names of the registered state-carrying (inelastic) models, sorted."""
    return sorted(_STATE_REGISTRY)


def state_model_class(name: str) -> type:
    """The state model registered under ``name`` (``KeyError`` listing the names)."""
    key = name.strip().lower().replace("_", "-")
    if key not in _STATE_REGISTRY:
        raise KeyError(f"unknown state model {name!r}; available: {', '.join(available_state_models())}")
    return _STATE_REGISTRY[key]


def get_state_model(name: str, **params) -> Inelastic:
    """Instantiate a state model: ``get_state_model("viscoelastic", base="neo-hooke-decoupled",
    mu=1.0, K=100.0, tau=[0.1, 10.0], beta=[0.5, 0.3])``; ``base`` and the base's parameters and
    options are keywords like the wrapper's own."""
    return state_model_class(name)(**params)


def make_base(base, params: dict, dtype, device):
    """The base material: an instance as it is, or a registered name built from the keywords of
    ``params`` that the base class declares (removed from ``params``)."""
    if not isinstance(base, str):
        return base
    cls = model_class(base)
    kw = {k: params.pop(k) for k in list(params) if k in cls.parameters or k in cls.options}
    kw.setdefault("dtype", dtype or torch.float64)
    if device is not None:
        kw["device"] = device
    return cls(**kw)


@register_state_model("viscoelastic")
class Viscoelastic(Wrapper):
    """Generalized Maxwell viscoelasticity (Prony series) on an isochoric hyperelastic base.

    ``S = dW/dE + sum_i Q_i`` with ``Q_i`` the relaxing non-equilibrium stresses driven by the
    base's isochoric stress (formulas and state layout in :mod:`materials.viscoelastic`).

    Parameters: the base's (e.g. ``mu``, ``K``), ``tau`` (relaxation times, list) and ``beta``
    (strength factors, list of the same length); option ``base`` (a registered decoupled model
    name or instance, default ``"neo-hooke-decoupled"``) and the base's options.
    """

    reference = (
        "Simo (1987), CMAME 60:153; Holzapfel (1996), IJNME 39:3903; update: Taylor, Pister & "
        "Goudreau (1970), IJNME 2:45"
    )
    tau: list = Parameter([1.0], (0.0, None), "time", "relaxation times tau_i (time unit of dt)", None)
    beta: list = Parameter(
        [0.5],
        (0.0, None),
        "-",
        "strength factors beta_i (non-equilibrium / equilibrium isochoric stiffness)",
        None,
    )

    def __init__(self, base="neo-hooke-decoupled", *, dtype=None, device=None, **params):
        super().__init__(make_base(base, params, dtype, device), **params)

    def validate(self) -> None:
        if not hasattr(self.base, "isochoric_energy"):
            raise ValueError(
                f"Viscoelastic: the base {type(self.base).__name__} has no isochoric part; use a "
                "decoupled model (e.g. 'neo-hooke-decoupled', 'mooney-rivlin', 'ogden', "
                "'*-incompressible')"
            )
        n, m = self.tau.numel(), self.beta.numel()
        if n != m or n < 1:
            raise ValueError(
                f"Viscoelastic: tau and beta need the same number (>= 1) of terms, got {n} and {m}"
            )

    @property
    def n_terms(self) -> int:
        """Number of Maxwell elements ``N``."""
        return int(self.tau.numel())

    @property
    def state_labels(self) -> tuple[str, ...]:
        """``Siso.11 ... Siso.12`` then ``Q1.11 ... QN.12`` (Mandel components)."""
        heads = ["Siso"] + [f"Q{i + 1}" for i in range(self.n_terms)]
        return tuple(f"{h}.{c}" for h in heads for c in MANDEL_LABELS)

    def isochoric_stress(self, e: torch.Tensor) -> torch.Tensor:
        """``S_iso = dW_iso/dE`` in Mandel form (differentiable in ``e``)."""
        return energy_gradient(
            self.base_view().isochoric_energy(IsochoricKinematics(mandel.from_mandel(e))), e
        )

    def evolve(self, e, state, dt):
        """``[S_iso^{n+1}, Q_i^{n+1}]`` by the exponential recurrence."""
        s_iso = self.isochoric_stress(e)
        batch = s_iso.shape[:-1]
        q_old = state[..., 6:].reshape(*batch, self.n_terms, 6)
        x = dt[..., None] / self.tau
        small = x < 1e-8
        xs = torch.where(small, torch.ones_like(x), x)
        g = torch.where(small, 1.0 - 0.5 * x + x * x / 6.0, -torch.expm1(-xs) / xs)
        q = (
            torch.exp(-x)[..., None] * q_old
            + (self.beta * g)[..., None] * (s_iso - state[..., :6])[..., None, :]
        )
        return torch.cat([s_iso, q.reshape(*batch, 6 * self.n_terms)], -1)

    def stress(self, e, state):
        """``S = dW/dE + sum_i Q_i``."""
        s_eq = energy_gradient(self.base_view().energy(mandel.from_mandel(e)), e)
        return s_eq + state[..., 6:].reshape(*state.shape[:-1], self.n_terms, 6).sum(-2)

    def equilibrium_stress(self, e: torch.Tensor) -> torch.Tensor:
        """The long-time (base) stress ``dW/dE`` (Mandel)."""
        return self.base.stress_mandel(e)
