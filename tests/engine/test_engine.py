"""Autograd engine against closed forms: compressible neo-Hookean and Saint Venant-Kirchhoff."""

import math

import pytest
import torch
from support import random_F

import materials
from constitutive import Hyperelastic, mandel, param
from constitutive import kinematics as kin
from constitutive.tensors import trace

MU, LMBDA = 1.3, 7.1


def nh_closed_forms(F, mu=MU, lmbda=LMBDA):
    """S, CC, sigma, c for W = mu/2 (I1-3) - mu lnJ + lmbda/2 (lnJ)^2 (Bonet & Wood 2008, 6.28, 6.29)."""
    C = F.transpose(-1, -2) @ F
    Ci = torch.linalg.inv(C)
    J = torch.linalg.det(F)
    lnJ = torch.log(J)
    I = torch.eye(3)
    S = mu * (I - Ci) + (lmbda * lnJ)[:, None, None] * Ci
    ICi = 0.5 * (torch.einsum("nik,njl->nijkl", Ci, Ci) + torch.einsum("nil,njk->nijkl", Ci, Ci))
    CC = lmbda * torch.einsum("nij,nkl->nijkl", Ci, Ci) + 2 * (mu - lmbda * lnJ)[:, None, None, None, None] * ICi
    b = F @ F.transpose(-1, -2)
    sigma = (mu * (b - I) + (lmbda * lnJ)[:, None, None] * I) / J[:, None, None]
    Is = mandel.identity4_sym()
    c = (lmbda / J)[:, None, None, None, None] * torch.einsum("ij,kl->ijkl", I, I) + (
        2 * (mu - lmbda * lnJ) / J
    )[:, None, None, None, None] * Is
    return S, CC, sigma, c


@pytest.fixture
def nh():
    return materials.get("neo-hooke", mu=MU, lmbda=LMBDA)


def test_neo_hooke_stress_and_tangent_closed_form(nh, gen):
    F = random_F(64, gen, amplitude=0.3)
    S_ref, CC_ref, _, _ = nh_closed_forms(F)
    E = kin.green_lagrange(F)
    s, D = nh.stress_tangent_mandel(mandel.to_mandel(E))
    assert torch.allclose(s, mandel.to_mandel(S_ref), rtol=1e-12, atol=1e-12 * MU)
    assert torch.allclose(D, mandel.to_mandel4(CC_ref), rtol=1e-12, atol=1e-12 * LMBDA)
    S, CC = nh.stress_tangent(E)
    assert torch.allclose(S, S_ref, rtol=1e-12, atol=1e-12) and torch.allclose(CC, CC_ref, rtol=1e-12, atol=1e-11)


def test_batch_shapes(nh, gen):
    e = 0.05 * torch.randn(2, 3, 4, 6, generator=gen)
    s, D = nh.stress_tangent_mandel(e)
    assert s.shape == (2, 3, 4, 6) and D.shape == (2, 3, 4, 6, 6)
    s1, D1 = nh.stress_tangent_mandel(e[1, 2, 3])
    assert torch.allclose(s[1, 2, 3], s1) and torch.allclose(D[1, 2, 3], D1)


def test_neo_hooke_cauchy_and_spatial(nh, gen):
    F = random_F(16, gen, amplitude=0.3)
    _, _, sigma_ref, c_ref = nh_closed_forms(F)
    assert torch.allclose(nh.cauchy(F), sigma_ref, rtol=1e-12, atol=1e-12)
    sigma, c = nh.spatial_tangent(F)
    assert torch.allclose(c, c_ref, rtol=1e-12, atol=1e-11)
    assert torch.allclose(nh.kirchhoff(F), sigma_ref * torch.linalg.det(F)[:, None, None], atol=1e-12)


def test_dPdF_against_fd(nh, gen):
    F = random_F(8, gen, amplitude=0.3)
    P, A = nh.pk1_tangent(F)
    S_ref = nh_closed_forms(F)[0]
    assert torch.allclose(P, F @ S_ref, atol=1e-12)
    h = 1e-6
    for k in range(3):
        for L in range(3):
            dF = torch.zeros(3, 3)
            dF[k, L] = h
            fd = (nh.pk1(F + dF) - nh.pk1(F - dF)) / (2 * h)
            assert torch.allclose(A[..., k, L], fd, rtol=1e-7, atol=1e-7)
    # major symmetry of dP/dF (hyperelastic): A_iJkL = A_kLiJ
    assert torch.allclose(A, A.permute(0, 3, 4, 1, 2), atol=1e-12)


def test_reference_state(nh):
    s, D = nh.stress_tangent_mandel(torch.zeros(6))
    assert torch.allclose(s, torch.zeros(6), atol=1e-15)
    K = LMBDA + 2 * MU / 3
    assert torch.allclose(D, mandel.isotropic_stiffness_mandel(MU, K), rtol=1e-14, atol=1e-14)


class SVK(Hyperelastic):
    """Saint Venant-Kirchhoff written by a user in five lines: W = lmbda/2 (tr E)^2 + mu E:E."""

    lmbda: float = param(2.0)
    mu: float = param(1.0, bounds=(0, None))

    def energy(self, E):
        return 0.5 * self.lmbda * trace(E) ** 2 + self.mu * (E * E).sum((-1, -2))


def test_svk_tangent_constant_and_linear_elastic(gen):
    m = SVK(lmbda=2.5, mu=0.7)
    e = kin.strain_mandel_from_F(random_F(20, gen, amplitude=0.3))  # admissible: C = I + 2E > 0
    s, D = m.stress_tangent_mandel(e)
    ref = mandel.isotropic_stiffness_mandel(0.7, 2.5 + 2 * 0.7 / 3)
    assert torch.allclose(D, ref.expand_as(D), rtol=0, atol=1e-14)
    assert torch.allclose(s, (ref @ e[..., None])[..., 0], atol=1e-14)


def test_create_graph_gives_parameter_derivatives(gen):
    mu = torch.tensor(MU, requires_grad=True)
    lm = torch.tensor(LMBDA, requires_grad=True)
    m = materials.get("neo-hooke", mu=mu, lmbda=lm)
    F = random_F(5, gen)
    e = kin.strain_mandel_from_F(F)
    s, D = m.stress_tangent_mandel(e, create_graph=True)
    assert s.requires_grad and D.requires_grad
    # dS/dmu = I - C^-1 (closed form), only w.r.t. the parameter asked for
    (g_mu,) = torch.autograd.grad(s.sum(), mu, retain_graph=True)
    Ci = torch.linalg.inv(F.transpose(-1, -2) @ F)
    assert math.isclose(float(g_mu), float(mandel.to_mandel(torch.eye(3) - Ci).sum()), rel_tol=1e-12)
    (g_lm,) = torch.autograd.grad(D[..., 0, 0].sum(), lm)
    assert mu.grad is None and lm.grad is None  # nothing accumulated by .backward()
    h = 1e-6
    Dp = materials.get("neo-hooke", mu=MU, lmbda=LMBDA + h).stress_tangent_mandel(e)[1]
    Dm = materials.get("neo-hooke", mu=MU, lmbda=LMBDA - h).stress_tangent_mandel(e)[1]
    assert math.isclose(float(g_lm), float((Dp - Dm)[..., 0, 0].sum() / (2 * h)), rel_tol=1e-7)
    # without create_graph the outputs are detached
    s2, D2 = m.stress_tangent_mandel(e)
    assert not s2.requires_grad and not D2.requires_grad


class TestBadInput:
    def test_nonsymmetric_E(self, nh):
        E = torch.zeros(3, 3)
        E[0, 1] = 0.1
        with pytest.raises(ValueError, match="E: expected a symmetric tensor"):
            nh.stress_tangent(E)

    def test_wrong_trailing_shape(self, nh):
        with pytest.raises(ValueError, match=r"e: expected shape \(\.\.\., 6\), got \(4, 5\)"):
            nh.stress_tangent_mandel(torch.zeros(4, 5))
        with pytest.raises(ValueError, match="F: expected shape"):
            nh.pk1(torch.zeros(2, 3))

    def test_nonpositive_det_F(self, nh):
        F = torch.eye(3).repeat(3, 1, 1)
        F[1, 0, 0] = -1.0
        with pytest.raises(ValueError, match=r"F: det F must be > 0.*index \(1\)"):
            nh.pk1_tangent(F)

    def test_nan_and_inf(self, nh):
        e = torch.zeros(2, 6)
        e[1, 3] = float("nan")
        with pytest.raises(ValueError, match=r"e: non-finite value\(s\) \(NaN or inf\) at 1 point\(s\) \(first at index \(1\)\)"):
            nh.stress_mandel(e)
        F = torch.eye(3).clone()
        F[0, 0] = float("inf")
        with pytest.raises(ValueError, match=r"F: non-finite value\(s\) .* at 1 point"):
            nh.cauchy(F)

    def test_dtypes(self, nh):
        s_int = nh.stress_mandel(torch.zeros(6, dtype=torch.int64))
        assert s_int.dtype == torch.float64
        s_list = nh.stress_mandel([0.01, 0, 0, 0, 0, 0])
        assert s_list.dtype == torch.float64
        with pytest.raises(TypeError, match="e: got dtype torch.float32, expected torch.float64"):
            nh.stress_mandel(torch.zeros(6, dtype=torch.float32))
        m32 = materials.get("neo-hooke", dtype=torch.float32)
        assert m32.stress_mandel(torch.zeros(6, dtype=torch.float32)).dtype == torch.float32

    def test_bad_parameters(self):
        with pytest.raises(ValueError, match="parameter 'mu': must be > 0"):
            materials.get("neo-hooke", mu=-1.0)
        with pytest.raises(TypeError, match="unknown parameter"):
            materials.get("neo-hooke", nu=0.3)
        with pytest.raises(KeyError, match="unknown material model 'neo-hook'"):
            materials.get("neo-hook")
        with pytest.raises(ValueError, match="non-finite"):
            materials.get("neo-hooke", mu=float("nan"))

    def test_energy_with_wrong_output_shape(self):
        class Bad(Hyperelastic):
            mu: float = 1.0

            def energy(self, E):
                return E.sum(-1)

        with pytest.raises(ValueError, match="returned shape"):
            Bad().stress_mandel(torch.zeros(4, 6))
