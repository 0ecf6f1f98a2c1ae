"""Finite-strain viscoelasticity (materials.viscoelastic) against closed forms: the small-strain
Prony relaxation modulus, creep compliance and constant-rate response; second-order convergence
to the hereditary integral computed independently by quadrature; the long-time (base) and
instantaneous (1 + sum beta) limits; non-negative dissipation on random multi-axial histories."""

import math

import numpy as np
import pytest
import torch

import materials
import tests.support as support
from constitutive import kinematics as kin
from constitutive.calibration import history as H

torch.set_default_dtype(torch.float64)

MU, TAU, BETA = 1.0, [0.5, 5.0], [0.8, 0.3]


@pytest.fixture(scope="module")
def visco():
    return materials.get_state_model("viscoelastic", base="neo-hooke-incompressible", mu=MU, tau=TAU, beta=BETA)


def relaxation_modulus(t):
    """``E(t) = E_inf + sum E_i exp(-t / tau_i)``, ``E_inf = 3 mu``, ``E_i = 3 mu beta_i``."""
    return 3 * MU * (1 + sum(b * np.exp(-t / ta) for b, ta in zip(BETA, TAU, strict=True)))


def creep_compliance(t):
    """Creep compliance of the Prony solid by partial fractions of ``1 / (s^2 E^(s))``:
    ``J(t) = 1/E_inf + sum_j r_j exp(p_j t)``, ``p_j`` the roots of ``s E^(s)``."""
    a = [1 / ta for ta in TAU]
    poles = np.poly1d([1.0])
    for ai in a:
        poles = poles * np.poly1d([1.0, ai])
    num = 3 * MU * poles
    for i in range(len(a)):
        q = np.poly1d([1.0, 0.0])
        for j, aj in enumerate(a):
            if j != i:
                q = q * np.poly1d([1.0, aj])
        num = num + 3 * MU * BETA[i] * q
    out = np.full_like(t, 1 / (3 * MU))
    for p in num.roots:
        out = out + (poles(p) / (p * num.deriv()(p))) * np.exp(p * t)
    return out


def test_small_strain_relaxation_is_the_prony_modulus(visco):
    eps = 1e-7
    hist = H.relaxation(1 + eps, hold=50.0, n_hold=40)
    P = H.solve_history(visco, hist).measured()[:, 0].numpy()
    t = hist.time.numpy()
    assert np.abs(P / eps / relaxation_modulus(t) - 1).max() < 1e-6


def test_small_strain_creep_is_the_prony_compliance_at_second_order(visco):
    sig = 1e-7
    errs = []
    for n in (400, 800):
        hist = H.creep(sig, hold=10.0, n_hold=n)
        lam = H.solve_history(visco, hist).measured()[:, 0].numpy()
        ex = sig * creep_compliance(hist.time.numpy())
        errs.append(np.abs(lam - 1 - ex).max() / np.abs(ex).max())
    assert errs[1] < 1e-6
    assert 1.8 < math.log2(errs[0] / errs[1]) < 2.2


def test_small_strain_constant_rate_loading(visco):
    rate = 1e-8
    hist = H.constant_rate(rate, duration=10.0, n=40)
    P = H.solve_history(visco, hist).measured()[:, 0].numpy()
    t = hist.time.numpy()[1:]
    ex = rate * 3 * MU * (t + sum(b * ta * (1 - np.exp(-t / ta)) for b, ta in zip(BETA, TAU, strict=True)))
    assert np.abs(P[1:] / ex - 1).max() < 1e-6


def test_small_strain_shear_relaxation_of_a_compressible_base():
    v = materials.get_state_model("viscoelastic", base="neo-hooke-decoupled", mu=MU, K=50.0, tau=TAU, beta=BETA)
    g = 1e-7
    hist = H.relaxation(g, hold=30.0, n_hold=25, mode="simple_shear")
    P12 = H.solve_history(v, hist).measured()[:, 0].numpy()
    t = hist.time.numpy()
    G = MU * (1 + sum(b * np.exp(-t / ta) for b, ta in zip(BETA, TAU, strict=True)))
    assert np.abs(P12 / g / G - 1).max() < 1e-6


# ----------------------------------------------------------------------------- finite strain
T_END, AMP = 2.0, 0.8


def _stretch(t):
    return 1 + AMP * np.sin(np.pi * t / T_END), AMP * np.pi / T_END * np.cos(np.pi * t / T_END)


def hereditary_P11(times):
    """The independent quadrature of :func:`tests.support.hereditary_P11` along ``_stretch``."""
    return support.hereditary_P11(times, _stretch, MU, BETA, TAU)


def test_recurrence_converges_to_the_hereditary_integral_at_second_order(visco):
    coarse = np.linspace(0.0, T_END, 11)
    exact = hereditary_P11(coarse)
    errs = []
    for refine in (2, 4, 8):
        t = np.linspace(0.0, T_END, 10 * refine + 1)
        P = H.solve_history(visco, H.strain_history("uniaxial", t, _stretch(t)[0])).measured()[::refine, 0].numpy()
        errs.append(np.abs(P - exact).max() / np.abs(exact).max())
    orders = [math.log2(errs[i] / errs[i + 1]) for i in range(2)]
    assert errs[-1] < 1e-4 and all(1.9 < o < 2.1 for o in orders), (errs, orders)


def test_long_time_limit_is_the_base_and_instantaneous_response_is_scaled(visco):
    lam = 2.0
    hist = H.relaxation(lam, hold=200 * max(TAU), n_hold=30)
    P = H.solve_history(visco, hist).measured()[:, 0].numpy()
    base = MU * (lam - lam**-2)
    assert abs(P[0] / (base * (1 + sum(BETA))) - 1) < 1e-12  # the step itself: dt = 0
    assert abs(P[-1] / base - 1) < 1e-12
    v = materials.get_state_model("viscoelastic", base="mooney-rivlin", c10=0.4, c01=0.1, K=10.0, tau=TAU, beta=BETA)
    F = torch.tensor([[1.3, 0.2, 0.0], [0.1, 0.9, 0.05], [0.0, -0.1, 1.1]])
    e = kin.strain_mandel_from_F(F[None])
    s0, _, _ = v.stress_tangent_state_mandel(e, v.initial_state(1), 0.0)
    s_iso = v.isochoric_stress(e.requires_grad_(True)).detach()
    s_base = v.base.stress_mandel(e.detach())
    assert torch.allclose(s0, s_base + sum(BETA) * s_iso, rtol=0, atol=1e-13)


# ----------------------------------------------------------------------------- thermodynamics
def _random_cycles(gen, n_paths=12, n=240, amp=0.08):
    """Smooth random multi-axial Green-Lagrange strain paths from 0 back to 0 (Mandel)."""
    t = torch.linspace(0, 1, n)
    coef = amp * torch.randn(n_paths, 6, 4, generator=gen)
    freq = torch.arange(1, 5, dtype=torch.float64)
    e = (coef[..., None] * torch.sin(math.pi * freq[:, None] * t)).sum(-2)  # (paths, 6, n), zero at both ends
    return e.permute(2, 0, 1).contiguous() * torch.tensor([1, 1, 1, 0.7, 0.7, 0.7])


def test_dissipation_is_non_negative_on_random_multiaxial_histories(gen):
    """Work done ``W(t) = int S : dE`` (trapezoid) never falls below the long-time energy
    ``Psi_inf(E(t))`` of the base (the non-equilibrium energy and the dissipation are >= 0), and
    every closed cycle from the virgin state takes in net work."""
    v = materials.get_state_model("viscoelastic", base="neo-hooke-decoupled", mu=1.0, K=10.0, tau=[0.02, 0.3],
                                  beta=[1.5, 0.7])
    e = _random_cycles(gen)
    n, B = e.shape[:2]
    dt = 1.0 / (n - 1)
    st = v.initial_state(B)
    s_prev = torch.zeros(B, 6)
    work = torch.zeros(B)
    gap = []
    for k in range(1, n):
        s, _, st = v.stress_tangent_state_mandel(e[k], st, dt)
        work = work + 0.5 * ((s + s_prev) * (e[k] - e[k - 1])).sum(-1)
        s_prev = s
        gap.append(work - v.base.energy_mandel(e[k]))
    gap = torch.stack(gap)
    assert float(work.min()) > 0.0
    assert float(gap.min()) > 0.0, float(gap.min())
