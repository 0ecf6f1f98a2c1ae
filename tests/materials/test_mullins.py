"""The Ogden-Roxburgh Mullins model (materials.mullins): primary loading is the base curve,
unloading and reloading below the previous maximum follow the softened curve, the closed form of
uniaxial tension of a neo-Hookean base, the pseudo-elastic potential and the dissipated energy."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import simpson
from scipy.special import erf

import materials
from constitutive import kinematics as kin
from constitutive.calibration import driver
from constitutive.calibration import history as H

torch.set_default_dtype(torch.float64)

MU, R, M, BETA = 0.6, 1.8, 0.3, 0.15
PEAKS = [2.0, 1.3, 2.5, 1.0, 3.0, 1.5]


@pytest.fixture(scope="module")
def mullins():
    return materials.get_state_model("mullins", base="neo-hooke-incompressible", mu=MU, r=R, m=M, beta=BETA)


@pytest.fixture(scope="module")
def cycle(mullins):
    hist = H.cyclic(PEAKS, rate=1.0, n_per_segment=20)
    res = H.solve_history(mullins, hist)
    return res.F[:, 0, 0, 0].numpy(), res.measured()[:, 0].numpy(), res.state[:, 0, 0].numpy()


def closed_form(lam):
    """``P11 = eta mu (l - l^-2)``, ``eta = 1 - erf((Wm - W0)/(m + beta Wm))/r``, running max Wm."""
    w0 = MU / 2 * (lam**2 + 2 / lam - 3)
    wm = np.maximum.accumulate(w0)
    eta = 1 - erf((wm - w0) / (M + BETA * wm)) / R
    return eta * MU * (lam - lam**-2), w0, wm


def test_uniaxial_tension_of_a_neo_hookean_base_matches_the_closed_form(cycle):
    lam, P, wm = cycle
    Pc, w0, wm_c = closed_form(lam)
    assert np.abs(P - Pc).max() / np.abs(Pc).max() < 1e-10
    assert np.abs(wm - wm_c).max() < 1e-12


def test_first_loading_is_the_base_curve_exactly(mullins, cycle):
    lam, P, _ = cycle
    Pc, w0, wm = closed_form(lam)
    primary = w0 >= wm - 1e-15
    base = driver.predict(mullins.base, "uniaxial", lam[primary][1:]).numpy()
    assert primary.sum() > 30 and np.abs(P[primary][1:] - base).max() / np.abs(base).max() < 1e-12


def test_unloading_and_reloading_follow_the_softened_curve(cycle):
    """Below the previous maximum the response is elastic on the softened curve: unloading and
    reloading at the same stretch (same maximum) give the same stress, below the base curve."""
    lam, P, wm = cycle
    seg = 20
    down = slice(seg + 1, 2 * seg + 1)  # 2.0 -> 1.3
    up = slice(2 * seg + 1, 3 * seg + 1)  # 1.3 -> 2.5, first part below lambda = 2
    lam_up = lam[up][lam[up] < 2.0 - 1e-9]
    P_up = P[up][lam[up] < 2.0 - 1e-9]
    P_down_at = np.interp(lam_up, lam[down][::-1], P[down][::-1])
    assert np.abs(P_up - P_down_at).max() < 2e-3 * np.abs(P).max()  # interpolation error only
    base = MU * (lam_up - lam_up**-2)
    assert (P_up < base - 1e-3).all()
    assert np.allclose(wm[up][lam[up] < 2.0 - 1e-9], MU / 2 * (4 + 1 - 3))  # Wm frozen at lambda = 2


def _uniaxial_P11(mat, lam):
    """P11 along incompressible uniaxial stretches ``lam`` by sequential updates at
    ``F = diag(l, l^-1/2, l^-1/2)``; the pressure from ``P22 = 0``."""
    st, out = mat.initial_state(1), []
    for x in lam:
        F = torch.diag(torch.tensor([x, x**-0.5, x**-0.5]))[None]
        P, _, st = mat.pk1_tangent_state(F, st, 0.0)
        cof = torch.linalg.inv(F[0]).T
        out.append(float(P[0, 0, 0] - P[0, 1, 1] / cof[1, 1] * cof[0, 0]))
    return np.array(out)


def test_a_cycle_dissipates_the_damage_function(mullins):
    """Load to Wm and unload to the undeformed state: the net work is ``phi(eta_m)`` (closed
    form), positive; Simpson's rule on each (smooth) branch."""
    lam_max = 2.4
    up, down = np.linspace(1.0, lam_max, 201), np.linspace(lam_max, 1.0, 201)
    P = _uniaxial_P11(mullins, np.concatenate([up, down[1:]]))
    work = simpson(P[:201], x=up) + simpson(P[200:], x=down)
    wm = MU / 2 * (lam_max**2 + 2 / lam_max - 3)
    phi = float(mullins.dissipated_energy(wm))
    assert phi > 0 and abs(work / phi - 1) < 1e-7


def _pseudo_energy(mat, e, wm):
    """``Psi = W_vol + eta W0 + phi(eta)``; ``phi = Wm (1 - eta) - s (1 - exp(-z^2))/(r sqrt(pi))``."""
    w0 = mat.softened_energy(e)
    s = mat.m + mat.beta * wm
    z = (wm - w0) / s
    eta = 1 - torch.erf(z) / mat.r
    phi = wm * (1 - eta) - s * (1 - torch.exp(-z * z)) / (mat.r * math.sqrt(math.pi))
    return mat.base.energy_mandel(e) - w0 + eta * w0 + phi


def _work_along_random_paths(mat, n, B=8, seed=12345):
    gen = torch.Generator().manual_seed(seed)
    t = torch.linspace(0, 1, n)
    coef = 0.06 * torch.randn(B, 6, 5, generator=gen)
    env = torch.sin(math.pi * torch.arange(1, 6, dtype=torch.float64)[:, None] * t)
    e = (coef[..., None] * env).sum(-2).permute(2, 0, 1).contiguous()  # zero at both ends
    st = mat.initial_state(B)
    s_prev, work, gap = torch.zeros(B, 6), torch.zeros(B), 0.0
    for k in range(1, n):
        s, _, st = mat.stress_tangent_state_mandel(e[k], st, 1.0 / n)
        work = work + 0.5 * ((s + s_prev) * (e[k] - e[k - 1])).sum(-1)
        s_prev = s
        gap = max(gap, float((work - _pseudo_energy(mat, e[k], st[:, 0])).abs().max()))
    return work, st[:, 0], gap


def test_work_equals_the_pseudo_elastic_potential_on_random_multiaxial_histories():
    """Along random multi-axial strain histories (loading, unloading, reloading) the work done
    (trapezoid rule) converges at second order to the potential ``Psi(E, Wm)`` (the model is
    pseudo-elastic); a closed cycle dissipates ``phi(eta_m) >= 0``."""
    mat = materials.get_state_model("mullins", base="neo-hooke-decoupled", mu=1.0, K=10.0, r=1.5, m=0.05, beta=0.2)
    (_, _, g1), (work, wm, g2) = _work_along_random_paths(mat, 400), _work_along_random_paths(mat, 800)
    scale = float(work.abs().max())
    assert 1.9 < math.log2(g1 / g2) < 2.1 and g2 < 1e-3 * scale
    phi = mat.dissipated_energy(wm)
    assert bool((work > 0).all()) and float((work - phi).abs().max()) < 1e-3 * scale
    assert float(wm.min()) > 0  # every path loaded the material


def test_softening_of_a_coupled_base_scales_the_whole_stress():
    mat = materials.get_state_model("mullins", base="neo-hooke", mu=1.0, lmbda=3.0, r=2.0, m=0.2, beta=0.1)
    F = torch.diag(torch.tensor([1.3, 0.95, 1.02]))[None]
    e = kin.strain_mandel_from_F(F)
    w = float(mat.base.energy_mandel(e))
    s, _, st = mat.stress_tangent_state_mandel(e, torch.tensor([[3 * w]]), 0.0)
    eta = 1 - math.erf((3 * w - w) / (0.2 + 0.1 * 3 * w)) / 2.0
    assert torch.allclose(s, eta * mat.base.stress_mandel(e), rtol=1e-14, atol=0)
    assert float(st) == pytest.approx(3 * w, rel=1e-15)
