"""Abaqus *HYPERELASTIC cards: the card's Abaqus energy (formulas written independently here) equals
our energy at the same deformations, and the Abaqus initial moduli equal our small-strain tangent."""

import math

import numpy as np
import pytest
import torch

import materials
from constitutive import Hyperelastic
from constitutive.interfaces.abaqus_cards import abaqus_material_card
from constitutive.kinematics import strain_mandel_from_F

K = 50.0
CASES = [
    ("neo-hooke-decoupled", {"mu": 0.8, "K": K}, {}),
    ("neo-hooke-incompressible", {"mu": 0.8}, {}),
    ("neo-hooke-decoupled-incompressible", {"mu": 0.8}, {}),
    ("mooney-rivlin", {"c10": 0.4, "c01": 0.1, "K": K}, {}),
    ("mooney-rivlin-incompressible", {"c10": 0.4, "c01": 0.1}, {}),
    ("yeoh", {"c10": 0.5, "c20": -0.01, "c30": 0.001, "K": K}, {}),
    ("yeoh-incompressible", {"c10": 0.5, "c20": -0.01, "c30": 0.001}, {}),
    ("ogden", {"mu": [0.63, 0.0012, -0.01], "alpha": [1.3, 5.0, -2.0], "K": K}, {}),
    ("ogden", {"mu": [0.8], "alpha": [2.0], "K": K}, {}),
    ("ogden-incompressible", {"mu": [0.63, 0.0012, -0.01], "alpha": [1.3, 5.0, -2.0]}, {}),
]


# ----------------------------------------------------------------------------- Abaqus, independently
def _invariants(F):
    J = np.linalg.det(F)
    C = F.T @ F
    Cb = J ** (-2 / 3) * C
    I1b = np.trace(Cb)
    I2b = 0.5 * (I1b**2 - np.trace(Cb @ Cb))
    lam2 = np.linalg.eigvalsh(Cb)  # squares of the isochoric principal stretches
    return J, I1b, I2b, np.sqrt(lam2)


def abaqus_U(keyword, v, F):
    J, I1b, I2b, lb = _invariants(F)
    vol = lambda Ds: sum((J - 1) ** (2 * k) / D for k, D in enumerate(Ds, start=1) if D != 0)  # noqa: E731
    if keyword == "NEO HOOKE":
        C10, D1 = v
        return C10 * (I1b - 3) + vol([D1])
    if keyword == "MOONEY-RIVLIN":
        C10, C01, D1 = v
        return C10 * (I1b - 3) + C01 * (I2b - 3) + vol([D1])
    if keyword == "YEOH":
        C10, C20, C30, D1, D2, D3 = v
        return C10 * (I1b - 3) + C20 * (I1b - 3) ** 2 + C30 * (I1b - 3) ** 3 + vol([D1, D2, D3])
    if keyword.startswith("OGDEN, N="):
        n = int(keyword[len("OGDEN, N="):])
        mus, alphas, Ds = v[0:2 * n:2], v[1:2 * n:2], v[2 * n:]
        assert len(Ds) == n
        return sum(2 * m / a**2 * (np.sum(lb**a) - 3) for m, a in zip(mus, alphas, strict=True)) + vol(Ds)
    if keyword == "ARRUDA-BOYCE":
        mu, lm, D = v
        c = [1 / 2, 1 / 20, 11 / 1050, 19 / 7000, 519 / 673750]
        iso = mu * sum(ci / lm ** (2 * i - 2) * (I1b**i - 3**i) for i, ci in enumerate(c, start=1))
        return iso + ((J**2 - 1) / 2 - math.log(J)) / D if D != 0 else iso
    raise AssertionError(keyword)


def abaqus_initial_moduli(keyword, v):
    """Abaqus's own initial shear and bulk moduli of each form."""
    if keyword == "NEO HOOKE":
        G = 2 * v[0]
    elif keyword == "MOONEY-RIVLIN":
        G = 2 * (v[0] + v[1])
    elif keyword == "YEOH":
        G = 2 * v[0]
    elif keyword.startswith("OGDEN"):
        n = int(keyword.split("=")[1])
        G = sum(v[0:2 * n:2])
    else:
        mu, lm = v[0], v[1]
        G = mu * (1 + 3 / (5 * lm**2) + 99 / (175 * lm**4) + 513 / (875 * lm**6) + 42039 / (67375 * lm**8))
    if keyword.startswith("OGDEN"):
        D1 = v[2 * int(keyword.split("=")[1])]
    else:
        D1 = v[{"NEO HOOKE": 1, "MOONEY-RIVLIN": 2, "YEOH": 3, "ARRUDA-BOYCE": 2}[keyword]]
    return G, (math.inf if D1 == 0 else 2 / D1)


def parse_card(text):
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("**")]
    assert lines[0].startswith("*MATERIAL, NAME=")
    assert lines[1].startswith("*HYPERELASTIC, ")
    keyword = lines[1][len("*HYPERELASTIC, "):]
    data = [ln for ln in lines[2:]]
    assert all(len(ln.split(",")) <= 8 for ln in data)  # Abaqus: at most 8 values per data line
    return keyword, [float(x) for ln in data for x in ln.split(",")]


def _deformations(incompressible, n=6):
    rng = np.random.default_rng(42)
    Fs = []
    while len(Fs) < n:
        F = np.eye(3) + 0.35 * rng.standard_normal((3, 3))
        if np.linalg.det(F) > 0.3:
            Fs.append(F / np.cbrt(np.linalg.det(F)) if incompressible else F)
    return np.stack(Fs)


def _our_energy(mat, F):
    return mat.energy_mandel(strain_mandel_from_F(torch.as_tensor(F))).numpy()


def _moduli_from_tangent(mat):
    """G and K from the Mandel tangent at E = 0 (D = 3K P_vol + 2G P_dev for isotropy)."""
    D = mat.tangent_at_reference().numpy()
    return D[3, 3] / 2, (D[0, 0] + 2 * D[0, 1]) / 3


@pytest.mark.parametrize(("name", "params", "options"), CASES, ids=[f"{c[0]}-{len(c[1])}" for c in CASES])
def test_card_energy_equals_ours(name, params, options):
    if name not in materials.available():
        pytest.skip(f"{name} not registered yet")
    mat = materials.get(name, **params, **options)
    keyword, values = parse_card(abaqus_material_card(mat, name="RUBBER"))
    F = _deformations(mat.incompressible)
    U = np.array([abaqus_U(keyword, values, f) for f in F])
    np.testing.assert_allclose(_our_energy(mat, F), U, rtol=1e-12, atol=1e-14)
    G, Kab = abaqus_initial_moduli(keyword, values)
    if mat.incompressible:
        assert math.isinf(Kab)
        assert G == pytest.approx(mat.initial_moduli()[0], rel=1e-12)
    else:
        Gt, Kt = _moduli_from_tangent(mat)
        assert G == pytest.approx(Gt, rel=1e-10) and Kab == pytest.approx(Kt, rel=1e-10)


@pytest.mark.parametrize("lm", [2.5, 6.0])
@pytest.mark.parametrize("name", ["arruda-boyce", "arruda-boyce-incompressible"])
def test_arruda_boyce_card(name, lm):
    """Abaqus: 5-term series of the 8-chain energy; ours: exact inverse Langevin. Same mu and lambda_m:
    volumetric part exact, isochoric part equal up to the series truncation, which vanishes as
    lambda_m grows."""
    if name not in materials.available():
        pytest.skip(f"{name} not registered yet")
    inc = name.endswith("incompressible")
    mat = materials.get(name, mu=0.3, lambda_m=lm, **({} if inc else {"K": K, "volumetric": "simo-taylor"}))
    keyword, values = parse_card(abaqus_material_card(mat))
    assert keyword == "ARRUDA-BOYCE" and values[:2] == [0.3, lm] and values[2] == (0.0 if inc else 2 / K)
    F = _deformations(inc)
    rel = np.abs(_our_energy(mat, F) - [abaqus_U(keyword, values, f) for f in F]).max() / np.abs(_our_energy(mat, F)).max()
    assert rel < (2e-3 if lm < 3 else 2e-7), rel  # truncation error shrinks as lambda_m grows
    if not inc:
        Fv = np.stack([np.cbrt(J) * np.eye(3) for J in (0.8, 1.25)])
        np.testing.assert_allclose(_our_energy(mat, Fv), [abaqus_U(keyword, values, f) for f in Fv], rtol=1e-12)
        G, Kab = abaqus_initial_moduli(keyword, values)
        Gt, Kt = _moduli_from_tangent(mat)
        assert G == pytest.approx(Gt, rel=1e-4 if lm < 3 else 1e-7) and Kab == pytest.approx(Kt, rel=1e-10)
        with pytest.raises(ValueError, match="volumetric"):
            abaqus_material_card(mat.replace(volumetric="J-1"))


def test_neo_hooke_specific_values():
    card = abaqus_material_card(materials.get("neo-hooke-decoupled", mu=0.8, K=K), name="RUBBER")
    assert "*MATERIAL, NAME=RUBBER" in card and "*HYPERELASTIC, NEO HOOKE" in card
    assert parse_card(card)[1] == [0.4, 2 / K]  # C10 = mu/2, D1 = 2/K


def test_coupled_neo_hooke_is_approximate():
    """Our default neo-hooke (I1, ln J) is no Abaqus form: refused unless strict=False; then the
    energies agree for isochoric deformations and the initial moduli agree."""
    mat = materials.get("neo-hooke", mu=0.8, lmbda=20.0)
    with pytest.raises(ValueError, match="strict=False"):
        abaqus_material_card(mat)
    card = abaqus_material_card(mat, strict=False)
    assert "WARNING" in card
    keyword, values = parse_card(card)
    F = _deformations(True)
    U = np.array([abaqus_U(keyword, values, f) for f in F])
    np.testing.assert_allclose(_our_energy(mat, F), U, rtol=1e-12)
    G, Kab = abaqus_initial_moduli(keyword, values)
    Gt, Kt = _moduli_from_tangent(mat)
    assert G == pytest.approx(Gt, rel=1e-12) and Kab == pytest.approx(Kt, rel=1e-12)
    Fc = _deformations(False)
    assert np.abs(_our_energy(mat, Fc) - [abaqus_U(keyword, values, f) for f in Fc]).max() > 1e-3


def test_wrong_volumetric_refused():
    if "mooney-rivlin" not in materials.available():
        pytest.skip("mooney-rivlin not registered yet")
    mat = materials.get("mooney-rivlin", c10=0.4, c01=0.1, K=K, volumetric="lnJ")
    with pytest.raises(ValueError, match="volumetric"):
        abaqus_material_card(mat)


def test_unsupported_model():
    class Custom(Hyperelastic):
        mu: float = 1.0

        def energy(self, E):
            return self.mu * (E * E).sum((-1, -2))

    with pytest.raises(ValueError, match="no Abaqus"):
        abaqus_material_card(Custom())


@pytest.mark.parametrize("kappa", [0.0, 0.12])
@pytest.mark.parametrize("volumetric", ["simo-taylor", "J-1"])
def test_holzapfel_card(kappa, volumetric):
    """*ANISOTROPIC HYPERELASTIC, HOLZAPFEL: C10 = mu/2, D = 2/K, k1, k2, kappa; Abaqus's energy
    (written here from its documented form, fibres active for E_a > 0 only) equals ours at
    deformations that stretch and that compress the fibres. Abaqus's volumetric term is
    ((J^2-1)/2 - ln J)/D: another volumetric function is refused."""
    a1, a2 = np.array([0.8, 0.6, 0.0]), np.array([0.0, 0.6, 0.8])
    mat = materials.get("holzapfel-gasser-ogden", mu=0.01, K=1.0, k1=0.02, k2=1.5, kappa=kappa,
                        a1=a1, a2=a2, volumetric=volumetric)
    if volumetric != "simo-taylor":
        with pytest.raises(ValueError, match="volumetric"):
            abaqus_material_card(mat)
        return
    card = abaqus_material_card(mat, name="ARTERY")
    lines = [ln for ln in card.splitlines() if not ln.startswith("**")]
    assert lines[:2] == ["*MATERIAL, NAME=ARTERY", "*ANISOTROPIC HYPERELASTIC, HOLZAPFEL, LOCAL DIRECTIONS=2"]
    C10, D, k1, k2, kap = (float(x) for x in lines[2].split(","))
    assert (C10, D, k1, k2, kap) == (0.005, 2.0, 0.02, 1.5, kappa)
    assert "A1 = 0.8, 0.6, 0.0" in card and "A2 = 0.0, 0.6, 0.8" in card
    F = _deformations(False, n=8)
    F = np.concatenate([F, [np.diag([1.3, 1.1, 0.8]), np.diag([0.7, 0.9, 1.2])]])
    U, active = [], 0
    for f in F:
        J = np.linalg.det(f)
        Cb = J ** (-2 / 3) * f.T @ f
        I1b = np.trace(Cb)
        u = C10 * (I1b - 3) + ((J**2 - 1) / 2 - math.log(J)) / D
        for a in (a1, a2):
            Ea = kap * (I1b - 3) + (1 - 3 * kap) * (a @ Cb @ a - 1)
            active += Ea > 0
            u += k1 / (2 * k2) * (math.exp(k2 * max(Ea, 0.0) ** 2) - 1)
        U.append(u)
    assert 0 < active < 2 * len(F)  # both sides of the fibre switch are exercised
    np.testing.assert_allclose(_our_energy(mat, F), U, rtol=1e-12, atol=1e-16)
