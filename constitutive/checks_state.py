"""Public verifiers of a state-carrying material (:class:`~constitutive.Inelastic`), the
counterpart of :mod:`constitutive.checks` for ``constitutive check`` on a state model.

The states are reached by a seeded two-increment history: the virgin state, one increment to a
random ``F1`` over ``dt``, then the checked increment to a random ``F2`` over ``dt``. Each check
returns a :class:`~constitutive.checks.CheckResult`:

* :func:`check_state_tangent_fd` -- the algorithmic tangent ``D = ds/de`` of the update (state at
  the start of the increment and ``dt`` fixed) against central differences of the updated
  stress, ``max |D - D_fd| / max |D|``;
* :func:`check_state_reference` -- the virgin material is stress-free at ``E = 0`` over an
  increment of any length;
* :func:`check_state_objectivity` -- ``P(QF) = Q P(F)`` and the same new state for random
  rotations ``Q`` applied to every increment of the history (the state is material);
* :func:`check_state_compiled` -- the compiled update equals the eager one (stress, tangent,
  new state) to 1e-12 where the fast path is available.
"""

from __future__ import annotations

import torch

from . import kinematics as kin
from .checks import CheckResult, random_deformations, random_rotations
from .tensors import det


def _isochoric(F: torch.Tensor) -> torch.Tensor:
    return F * det(F)[..., None, None] ** (-1.0 / 3.0)


def history_states(material, n: int = 8, seed: int = 0, amplitude: float = 0.15, dt: float = 0.1):
    """``(F1, F2, state1, dt)``: two seeded random deformations (``det F = 1`` for an
    incompressible base) and the state after the increment from the virgin state to ``F1``."""
    F1 = random_deformations(n, seed, amplitude, material.dtype).to(material.device)
    F2 = random_deformations(n, seed + 101, amplitude, material.dtype).to(material.device)
    if material.incompressible:
        F1, F2 = _isochoric(F1), _isochoric(F2)
    dts = torch.full((n,), float(dt), dtype=material.dtype, device=material.device)
    _, state1 = material.pk1_state(F1, material.initial_state((n,)), dts)
    return F1, F2, state1.detach(), dts


def check_state_tangent_fd(material, F, state, dt, tol: float = 1e-6) -> CheckResult:
    """Algorithmic tangent against central differences of the update (step 1e-6)."""
    from .inelastic import tangent_fd_error

    err = tangent_fd_error(material, kin.strain_mandel_from_F(F), state, dt)
    return CheckResult("algorithmic tangent", err, tol, err <= tol, "vs central FD of the update")


def check_state_reference(material, dt: float = 0.1, tol: float = 1e-12) -> CheckResult:
    """Stress-free reference: ``|s(E = 0, virgin state, dt)|`` relative to the tangent there."""
    e = torch.zeros(1, 6, dtype=material.dtype, device=material.device)
    s, D, _ = material.stress_tangent_state_mandel(e, material.initial_state((1,)), torch.full((1,), dt,
                                                   dtype=material.dtype, device=material.device))
    err = float(s.abs().max() / D.abs().max().clamp_min(1e-300))
    return CheckResult("stress-free reference", err, tol, err <= tol, "virgin state, |s| / |D| at E = 0")


def check_state_objectivity(material, F1, F2, dt, seed: int = 1, tol: float = 1e-12) -> CheckResult:
    """``P(Q F) = Q P(F)`` and the same new state when ``Q`` rotates the whole history."""
    Q = random_rotations(F1.shape[0], torch.Generator().manual_seed(seed), material.dtype).to(F1.device)
    s0 = material.initial_state((F1.shape[0],))
    _, a1 = material.pk1_state(F1, s0, dt)
    _, b1 = material.pk1_state(Q @ F1, s0, dt)
    Pa, a2 = material.pk1_state(F2, a1, dt)
    Pb, b2 = material.pk1_state(Q @ F2, b1, dt)
    scale_p = float(Pa.abs().max().clamp_min(1e-300))
    scale_s = float(a2.abs().max().clamp_min(1.0))
    err = max(float((Pb - Q @ Pa).abs().max()) / scale_p, float((b2 - a2).abs().max()) / scale_s)
    return CheckResult("objectivity", err, tol, err <= tol, "P(QF) = Q P(F), state unchanged")


def check_state_compiled(material, F, state, dt, tol: float = 1e-12) -> CheckResult:
    """The compiled update (``fast=True``) against the eager one (``fast=False``)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fast = material.pk1_tangent_state(F, state, dt, fast=True)
    slow = material.pk1_tangent_state(F, state, dt, fast=False)
    fell_back = any("eager" in str(w.message) for w in caught)
    err = max(float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))
              for a, b in zip(fast, slow, strict=True))
    detail = "eager fallback (no compiled update here)" if fell_back else "P, dP/dF, new state"
    return CheckResult("compiled = eager", err, tol, err <= tol, detail)


def run_state_checks(material, n: int = 8, seed: int = 0, amplitude: float = 0.15,
                     dt: float = 0.1) -> list[CheckResult]:
    """Every state verifier on ``n`` seeded random two-increment histories (see the module)."""
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n: expected a positive number of random deformations, got {n!r}")
    if not (isinstance(amplitude, (int, float)) and 0.0 < amplitude <= 1.0):
        raise ValueError(f"amplitude: expected 0 < amplitude <= 1, got {amplitude!r}")
    F1, F2, state1, dts = history_states(material, n, seed, amplitude, dt)
    return [
        check_state_tangent_fd(material, F2, state1, dts),
        check_state_reference(material, dt),
        check_state_objectivity(material, F1, F2, dts, seed + 1),
        check_state_compiled(material, F2, state1, dts),
    ]
