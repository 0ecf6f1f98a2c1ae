"""Material-point driver: closed forms for incompressible neo-Hooke / Mooney-Rivlin in uniaxial,
equibiaxial, pure-shear and simple-shear loading; compressible uniaxial traction-free lateral
faces; mixed control with a prescribed lateral stress; batching of different modes."""

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

import materials
from constitutive import Hyperelastic, param
from constitutive.calibration import driver, loadpaths
from constitutive.invariants import isochoric_I1, isochoric_I2

torch.set_default_dtype(torch.float64)


class NeoHookeInc(Hyperelastic):
    """Test-only model independent of the materials package: W = mu/2 (I1b - 3)."""

    incompressible = True
    mu: float = param(1.0, bounds=(0.0, None))

    def energy(self, E):
        return 0.5 * self.mu * (isochoric_I1(E) - 3.0)


class MooneyRivlinInc(Hyperelastic):
    """Test-only model: W = c10 (I1b - 3) + c01 (I2b - 3)."""

    incompressible = True
    c10: float = param(0.3)
    c01: float = param(0.05)

    def energy(self, E):
        return self.c10 * (isochoric_I1(E) - 3.0) + self.c01 * (isochoric_I2(E) - 3.0)
LAM = torch.tensor([0.4, 0.7, 1.0, 1.3, 2.0, 4.0, 7.5])
GAMMA = torch.tensor([0.0, 0.3, 1.0, 2.5])


def mr_closed_form(mode, x, c10, c01):
    """Nominal stress of incompressible Mooney-Rivlin (Holzapfel 2000, sec. 6.5; Ogden 1984)."""
    if mode == "uniaxial":
        return 2 * (x - x**-2) * (c10 + c01 / x)
    if mode == "equibiaxial":
        return 2 * (x - x**-5) * (c10 + c01 * x**2)
    if mode == "pure_shear":
        return 2 * (x - x**-3) * (c10 + c01)
    return 2 * (c10 + c01) * x  # simple shear: P12 = sigma12


def _mr(kind, c10, c01):
    if kind == "test-model":
        return MooneyRivlinInc(c10=c10, c01=c01)
    if c01 == 0.0:
        return materials.get("neo-hooke-incompressible", mu=2 * c10)
    return materials.get("mooney-rivlin-incompressible", c10=c10, c01=c01)


@pytest.mark.parametrize("mode", ["uniaxial", "equibiaxial", "pure_shear", "simple_shear"])
@pytest.mark.parametrize("c10,c01", [(0.5, 0.0), (0.3, 0.07)])
@pytest.mark.parametrize("kind", ["test-model", "registry"])
def test_incompressible_closed_forms(mode, c10, c01, kind):
    mat = _mr(kind, c10, c01)
    x = GAMMA if mode == "simple_shear" else LAM
    res = driver.solve(mat, loadpaths.load_path(mode, x))
    assert bool(res.converged.all())
    P = driver.measured(res.P, res.F, mode, "nominal")
    ref = mr_closed_form(mode, x, c10, c01)
    assert torch.allclose(P, ref, rtol=1e-11, atol=1e-12)
    assert torch.allclose(torch.linalg.det(res.F), torch.ones(len(x)), atol=1e-12)
    assert res.P[:, 2, 2].abs().max() < 1e-11  # traction-free face


def test_incompressible_lateral_stretches_and_cauchy():
    mat = NeoHookeInc(mu=0.6)
    res = driver.solve(mat, loadpaths.uniaxial(LAM))
    assert torch.allclose(res.stretches[:, 1], LAM**-0.5, rtol=1e-12)
    sig = driver.measured(res.P, res.F, "uniaxial", "cauchy")
    assert torch.allclose(sig, 0.6 * (LAM**2 - 1 / LAM), rtol=1e-11, atol=1e-13)
    # W_iso of the isochoric invariant: sigma = mu dev(b) - p I, sigma_22 = 0
    # -> p = mu (1/lam - (lam^2 + 2/lam)/3)
    assert torch.allclose(res.pressure, 0.6 * (1 / LAM - (LAM**2 + 2 / LAM) / 3), rtol=1e-11, atol=1e-14)


def _nh_lateral(lam, mu, lm):
    """Lateral stretch of compressible neo-Hooke (ln J) in uniaxial tension, by bracketing."""
    def p22(l2):
        J = lam * l2 * l2
        return mu * (l2 - 1 / l2) + lm * np.log(J) / l2
    return brentq(p22, 1e-3, 10.0, xtol=1e-15)


def test_compressible_uniaxial_zero_lateral_stress():
    mu, lm = 0.8, 3.0
    mat = materials.get("neo-hooke", mu=mu, lmbda=lm)
    res = driver.solve(mat, loadpaths.uniaxial(LAM))
    assert bool(res.converged.all())
    assert res.P[:, 1, 1].abs().max() < 1e-10 and res.P[:, 2, 2].abs().max() < 1e-10
    ref = torch.tensor([_nh_lateral(float(x), mu, lm) for x in LAM])
    assert torch.allclose(res.stretches[:, 1], ref, rtol=1e-10)
    assert torch.allclose(res.stretches[:, 1], res.stretches[:, 2], rtol=1e-12)
    # P11 of the converged state, independently from the closed form of P
    l1, l2 = LAM, ref
    J = l1 * l2 * l2
    P11 = mu * (l1 - 1 / l1) + lm * torch.log(J) / l1
    assert torch.allclose(res.P[:, 0, 0], P11, rtol=1e-9, atol=1e-12)


def test_compressible_simple_shear_and_mixed_target():
    mu, lm = 0.8, 3.0
    mat = materials.get("neo-hooke", mu=mu, lmbda=lm)
    res = driver.solve(mat, loadpaths.simple_shear(GAMMA))
    assert torch.allclose(res.P[:, 0, 1], mu * GAMMA, rtol=1e-11, atol=1e-13)
    # prescribed lateral nominal stress P22 = P33 = -0.1 (confined uniaxial loading)
    path = loadpaths.uniaxial(LAM)
    path.target = torch.full((len(LAM), 2), -0.1)
    res = driver.solve(mat, path)
    assert torch.allclose(res.P[:, 1, 1], torch.full_like(LAM, -0.1), atol=1e-10)
    assert torch.allclose(res.P[:, 2, 2], torch.full_like(LAM, -0.1), atol=1e-10)


def test_concat_equals_separate_paths():
    mat = materials.get("neo-hooke", mu=0.8, lmbda=3.0)
    paths = [loadpaths.uniaxial(LAM), loadpaths.equibiaxial(LAM[3:]), loadpaths.simple_shear(GAMMA),
             loadpaths.biaxial(torch.stack([LAM, LAM.flip(0)], -1))]
    joint = driver.solve(mat, loadpaths.concat(paths))
    sep = torch.cat([driver.solve(mat, p).P for p in paths])
    assert bool(joint.converged.all())
    assert torch.allclose(joint.P, sep, rtol=1e-10, atol=1e-10)  # solver tolerance 1e-11 * max|P|


def test_warm_start_chord_gives_the_same_solution():
    """A Newton matrix from other parameters (as during fitting) only changes the iterations."""
    old = materials.get("neo-hooke", mu=0.5, lmbda=1.0)
    new = materials.get("neo-hooke", mu=0.9, lmbda=4.0)
    path = loadpaths.uniaxial(LAM)
    first = driver.solve(old, path)
    warm = driver.solve(new, path, z0=first.z, K0=first.K)
    cold = driver.solve(new, path)
    assert bool(warm.converged.all())
    assert torch.allclose(warm.F, cold.F, rtol=1e-10) and torch.allclose(warm.P, cold.P, atol=1e-10)


def test_predict_and_bad_input():
    mat = NeoHookeInc(mu=1.0)
    P = driver.predict(mat, "biaxial", [[1.5, 1.5], [2.0, 1.0]])
    assert torch.allclose(P[0, 0], torch.tensor(1.5 - 1.5**-5), rtol=1e-12)
    assert torch.allclose(P[1, 0], torch.tensor(2.0 - 2.0**-3), rtol=1e-12)
    with pytest.raises(ValueError, match="det F = 1"):
        driver.solve(mat, loadpaths.general(torch.eye(3)[None] * 1.1))
    with pytest.raises(ValueError, match="stretches must be > 0"):
        loadpaths.uniaxial([1.0, -0.5])
    with pytest.raises(ValueError, match="unknown mode"):
        loadpaths.load_path("torsion", [1.0])


@pytest.mark.parametrize("c10, c01", [(0.4, 0.0), (0.3, 0.08)])
def test_biaxial_cauchy_difference_closed_form(c10, c01):
    """Incompressible Mooney-Rivlin, F = diag(l1, l2, 1/(l1 l2)), sigma33 = 0:
    sigma11 - sigma22 = 2 (l1^2 - l2^2)(C10 + C01 l3^2), independent of the pressure
    (neo-Hooke for C01 = 0: mu (l1^2 - l2^2) with mu = 2 C10)."""
    mat = materials.get("mooney-rivlin-incompressible", c10=c10, c01=c01)
    lam = np.array([[0.5, 1.0], [1.2, 1.0], [2.0, 1.5], [1.3, 2.6], [3.0, 2.3]])
    got = driver.predict(mat, "biaxial", lam, "cauchy_difference").numpy()
    l1, l2 = lam.T
    l3 = 1.0 / (l1 * l2)
    np.testing.assert_allclose(got, 2 * (l1**2 - l2**2) * (c10 + c01 * l3**2), rtol=1e-11, atol=1e-13)
    # the same from the full Cauchy stress of the solved state
    sig = driver.predict(mat, "biaxial", lam, "cauchy").numpy()
    np.testing.assert_allclose(got, sig[:, 0] - sig[:, 1], rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="cauchy_difference"):
        driver.predict(mat, "uniaxial", [1.5], "cauchy_difference")
