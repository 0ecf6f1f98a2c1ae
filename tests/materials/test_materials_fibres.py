"""Fibre-reinforced models: HGO energy against an independent formula, kappa = 1/3 isotropy,
and the tension-only switch (FD on both sides, one-sided limits at it)."""

import numpy as np
import pytest
import torch

import materials
from constitutive import kinematics as kin
from constitutive import mandel
from constitutive.checks import check_stress_fd, check_tangent_fd, random_deformations

torch.set_default_dtype(torch.float64)


# ----------------------------------------------------------------- fibre models
def hgo_energy_reference(F, p):
    """Independent NumPy evaluation of the HGO energy (Gasser et al. 2006, isochoric invariants)."""
    F = F.numpy()
    C = F.T @ F
    J = np.linalg.det(F)
    Cb = J ** (-2 / 3) * C
    I1b = np.trace(Cb)
    W = p["mu"] / 2 * (I1b - 3) + p["K"] * 0.25 * (J**2 - 1 - 2 * np.log(J))
    for a in (p["a1"], p["a2"]):
        a = np.asarray(a) / np.linalg.norm(a)
        Ei = p["kappa"] * (I1b - 3) + (1 - 3 * p["kappa"]) * (a @ Cb @ a - 1)
        if Ei > 0:
            W += p["k1"] / (2 * p["k2"]) * (np.exp(p["k2"] * Ei**2) - 1)
    return W


def test_hgo_energy_against_reference():
    p = dict(mu=0.4, K=3.0, k1=1.5, k2=2.0, kappa=0.12, a1=[1.0, 0.3, 0.0], a2=[0.2, -1.0, 0.5])
    mat = materials.get("holzapfel-gasser-ogden", **p)
    F = random_deformations(12, seed=6, amplitude=0.3)
    W = mat.energy_mandel(kin.strain_mandel_from_F(F))
    ref = torch.tensor([hgo_energy_reference(f, p) for f in F])
    assert torch.allclose(W, ref, rtol=1e-12, atol=1e-14)


def test_hgo_kappa_one_third_is_isotropic():
    mat = materials.get("holzapfel-gasser-ogden", kappa=1.0 / 3.0, k1=1.0, k2=1.0, mu=0.5, K=5.0)
    F = random_deformations(4, seed=9, amplitude=0.2)
    Q = torch.linalg.matrix_exp(torch.tensor([[0.0, 0.7, -0.2], [-0.7, 0.0, 0.4], [0.2, -0.4, 0.0]]))
    e1 = kin.strain_mandel_from_F(F)
    e2 = kin.strain_mandel_from_F(F @ Q)  # rotate the reference configuration
    assert torch.allclose(mat.energy_mandel(e1), mat.energy_mandel(e2), rtol=1e-12)


def _ti():
    return materials.get("transversely-isotropic", mu=0.5, K=5.0, k1=3.0, k2=2.0, a=[1.0, 0.0, 0.0])


def _shear_with_fibre_stretch(lam, gamma=0.3):
    """F with I4 = a.C a = lam^2 for a = e1 (shear in the 1-2 plane plus stretch along e1)."""
    return torch.tensor([[lam, gamma, 0.0], [0.0, 1.0, 0.0], [0.0, 0.1, 1.05]])[None]


@pytest.mark.parametrize("side", [-1, 1])
def test_fibre_switch_fd_on_both_sides(side):
    mat = _ti()
    F = _shear_with_fibre_stretch(1.0 + side * 1e-4)
    assert check_tangent_fd(mat, F, h=1e-7, tol=1e-6).passed
    assert check_stress_fd(mat, F, h=1e-7, tol=1e-8).passed
    hgo = materials.get("holzapfel-gasser-ogden", mu=0.5, K=5.0, k1=3.0, k2=2.0, kappa=0.0,
                        a1=[1.0, 0.0, 0.0], a2=[0.0, 1.0, 0.0])
    Fb = torch.diag(torch.tensor([1.0 + side * 1e-4, 1.0, 1.0]))[None]
    assert check_tangent_fd(hgo, Fb, h=1e-7, tol=1e-6).passed


def test_fibre_switch_exactly_at_zero():
    """At I4 = 1 exactly: stress continuous, tangent = compression-side value (matrix only);
    the tension-side limit adds k1 dx (x) dx with dx = dI4/de = 2 mandel(a (x) a)."""
    mat = _ti()
    matrix = materials.get("transversely-isotropic", mu=0.5, K=5.0, k1=0.0, k2=2.0, a=[1.0, 0.0, 0.0])
    F0 = _shear_with_fibre_stretch(1.0)
    e0 = kin.strain_mandel_from_F(F0)
    assert abs(float(2 * e0[0, 0])) < 1e-15  # I4 - 1 = 2 E11 = 0
    s0, D0 = mat.stress_tangent_mandel(e0)
    assert torch.isfinite(D0).all()
    sm, Dm = matrix.stress_tangent_mandel(e0)
    assert torch.allclose(s0, sm, atol=1e-15) and torch.allclose(D0, Dm, rtol=1e-14, atol=1e-14)
    # W is C1 (not C2) across the switch: central FD of W has an O(k1 h) error, no O(1/h) jump
    assert check_stress_fd(mat, F0, h=1e-7, tol=1e-5).passed
    dx = 2 * mandel.to_mandel(torch.outer(torch.tensor([1.0, 0, 0]), torch.tensor([1.0, 0, 0])))
    jump = 3.0 * torch.outer(dx, dx)
    # one-sided limits by FD of the stress along +/- e11 (the only direction changing I4)
    h = 1e-7
    de = torch.zeros(6)
    de[0] = h
    right = (mat.stress_mandel(e0 + de) - s0) / h
    left = (s0 - mat.stress_mandel(e0 - de)) / h
    assert torch.allclose(left, D0[0, :, 0], rtol=1e-6, atol=1e-6)
    assert torch.allclose(right, D0[0, :, 0] + jump[:, 0], rtol=1e-6, atol=1e-6)
    # and the engine tangent just inside the tension side shows the jump
    _, Dp = mat.stress_tangent_mandel(e0 + 1e-12 * torch.eye(6)[0])
    assert torch.allclose(Dp - D0, jump[None], atol=1e-9)
