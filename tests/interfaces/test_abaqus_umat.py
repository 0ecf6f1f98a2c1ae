"""Abaqus UMAT interface: DDSDDE against FD of its definition and the neo-Hookean closed form,
NTENS = 4 variants, argument semantics (in place, column-major DFGRD1, PROPS layout)."""

import numpy as np
import pytest
import scipy.linalg
import torch

import materials
from constitutive.interfaces.abaqus_umat import (
    ddsdde_abaqus,
    make_umat,
    params_from_props,
    props_from_material,
    props_layout,
    stress_ddsdde_abaqus,
    umat,
)
from constitutive.kinematics import strain_mandel_from_F

MU, LMBDA = 0.8, 5.0
# Abaqus order 11, 22, 33, 12, 13, 23 written out by hand
ABQ = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]


def _F_samples():
    rng = np.random.default_rng(7)
    Fs = [np.eye(3) + 0.3 * rng.standard_normal((3, 3)) for _ in range(4)]
    Fs.append(np.diag([1.6, 0.8, 0.9]) @ scipy.linalg.expm(np.array([[0, 0.4, 0], [-0.4, 0, 0.2], [0, -0.2, 0]])))
    Fs = [F if np.linalg.det(F) > 0 else F @ np.diag([-1, 1, 1]) for F in Fs]
    return np.stack(Fs)


def _call_umat(F, props=(MU, LMBDA), cmname="NEO-HOOKE", ndi=3, nshr=3, dfgrd=None, fn=umat):
    ntens = ndi + nshr
    STRESS = np.zeros(ntens)
    DDSDDE = np.zeros((ntens, ntens), order="F")
    SSE, SPD, SCD = np.zeros(1), np.full(1, 9.0), np.full(1, 9.0)
    PROPS = np.asarray(props, dtype=float)
    out = fn(STRESS, np.zeros(0), DDSDDE, SSE, SPD, SCD, 0.0, np.zeros(ntens), np.zeros(ntens), 0.0,
             np.zeros(ntens), np.zeros(ntens), np.zeros(2), 0.1, 293.0, 0.0, np.zeros(1), np.zeros(1),
             cmname, ndi, nshr, ntens, 0, PROPS, PROPS.size, np.zeros(3), np.eye(3), 1.0, 1.0,
             np.eye(3, order="F"), F if dfgrd is None else dfgrd, 1, 1, 0, 0, 1, 1)
    return STRESS, DDSDDE, SSE, SPD, SCD, out


def _kirchhoff(F, props=(MU, LMBDA), cmname="NEO-HOOKE"):
    S, *_ = _call_umat(F, props=props, cmname=cmname)
    sig = np.zeros((3, 3))
    for I, (i, j) in enumerate(ABQ):
        sig[i, j] = sig[j, i] = S[I]
    return np.linalg.det(F) * sig


@pytest.mark.parametrize("k", range(5))
def test_ddsdde_equals_fd_of_jaumann_definition(k):
    """dF = d(eps) F with symmetric d(eps) (zero spin): DDSDDE[:, J] = d(tau)/J per gamma_J."""
    F = _F_samples()[k]
    _, D, *_ = _call_umat(F)
    J, h = np.linalg.det(F), 1e-5
    for Jc, (k_, l_) in enumerate(ABQ):
        deps = np.zeros((3, 3))
        deps[k_, l_] = deps[l_, k_] = 1.0 if k_ == l_ else 0.5  # engineering shear gamma = 1
        dtau = (_kirchhoff(scipy.linalg.expm(h * deps) @ F) - _kirchhoff(scipy.linalg.expm(-h * deps) @ F)) / (2 * h)
        col = np.array([dtau[i, j] for (i, j) in ABQ]) / J
        np.testing.assert_allclose(D[:, Jc], col, rtol=1e-7, atol=1e-7 * np.abs(D).max())


def test_ddsdde_abaqus_neo_hooke_closed_form():
    """sigma = (mu (b - I) + lmbda ln J I) / J and C^MJ = c + Jaumann terms with
    c = (lmbda d_ij d_kl + 2 (mu - lmbda ln J) I_ijkl) / J (Bonet & Wood 2008, eqs. 6.28, 6.29)."""
    F = _F_samples()
    mat = materials.get("neo-hooke", mu=MU, lmbda=LMBDA)
    stress, D = (t.numpy() for t in ddsdde_abaqus(mat, torch.as_tensor(F)))
    d = np.eye(3)
    Isym = 0.5 * (np.einsum("ik,jl->ijkl", d, d) + np.einsum("il,jk->ijkl", d, d))
    for n, Fn in enumerate(F):
        J = np.linalg.det(Fn)
        sig = (MU * (Fn @ Fn.T - d) + LMBDA * np.log(J) * d) / J
        c = (LMBDA * np.einsum("ij,kl->ijkl", d, d) + 2 * (MU - LMBDA * np.log(J)) * Isym) / J
        CJ = c + 0.5 * (np.einsum("ik,jl->ijkl", d, sig) + np.einsum("ik,jl->ijkl", sig, d)
                        + np.einsum("il,jk->ijkl", d, sig) + np.einsum("il,jk->ijkl", sig, d))
        np.testing.assert_allclose(stress[n], [sig[i, j] for i, j in ABQ], atol=1e-12)
        ref = np.array([[CJ[i, j, k, l] for k, l in ABQ] for i, j in ABQ])
        np.testing.assert_allclose(D[n], ref, rtol=1e-12, atol=1e-11)


# PROPS per the documented layout: declared order, vectors flattened, N first for list parameters
PROPS_CASES = [
    ("MOONEY-RIVLIN", (0.4, 0.1, 50.0)),
    ("OGDEN", (2, 0.63, -0.01, 1.3, -2.0, 50.0)),
    ("HOLZAPFEL-GASSER-OGDEN", (0.5, 50.0, 2.0, 0.8, 0.1, 1.0, 0.0, 0.0, 0.0, 0.6, 0.8)),
]


@pytest.mark.parametrize(("cmname", "props"), PROPS_CASES, ids=[c[0] for c in PROPS_CASES])
def test_ddsdde_fd_other_models_via_props(cmname, props):
    if cmname.lower() not in materials.available():
        pytest.skip(f"{cmname} not registered yet")
    F = _F_samples()[4]
    _, D, SSE, *_ = _call_umat(F, props=props, cmname=cmname)
    mat = materials.get(cmname.lower(), **params_from_props(materials.model_class(cmname.lower()), props))
    W = mat.energy_mandel(strain_mandel_from_F(torch.as_tensor(F)))
    assert SSE[0] == pytest.approx(float(W), rel=1e-12)
    J, h = np.linalg.det(F), 1e-5
    for Jc, (k_, l_) in enumerate(ABQ):
        deps = np.zeros((3, 3))
        deps[k_, l_] = deps[l_, k_] = 1.0 if k_ == l_ else 0.5
        tp = _kirchhoff(scipy.linalg.expm(h * deps) @ F, props, cmname)
        tm = _kirchhoff(scipy.linalg.expm(-h * deps) @ F, props, cmname)
        col = np.array([(tp - tm)[i, j] for (i, j) in ABQ]) / (2 * h * J)
        np.testing.assert_allclose(D[:, Jc], col, rtol=1e-6, atol=1e-7 * np.abs(D).max())


def _closed_form_neo_hooke(F):
    """sigma = mu/J (b - I) + lmbda lnJ / J I ;
    C^MJ_ijkl = lmbda/J d_ij d_kl + (mu - lmbda lnJ)/J (d_ik d_jl + d_il d_jk)
               + (d_ik s_jl + s_ik d_jl + d_il s_jk + s_il d_jk)/2."""
    J = np.linalg.det(F)
    b, d = F @ F.T, np.eye(3)
    s = MU / J * (b - d) + LMBDA * np.log(J) / J * d
    stress = np.array([s[i, j] for i, j in ABQ])
    D = np.zeros((6, 6))
    for I, (i, j) in enumerate(ABQ):
        for K, (k, l) in enumerate(ABQ):
            D[I, K] = (LMBDA / J * d[i, j] * d[k, l]
                       + (MU - LMBDA * np.log(J)) / J * (d[i, k] * d[j, l] + d[i, l] * d[j, k])
                       + 0.5 * (d[i, k] * s[j, l] + s[i, k] * d[j, l] + d[i, l] * s[j, k] + s[i, l] * d[j, k]))
    W = MU / 2 * (np.trace(b) - 3) - MU * np.log(J) + LMBDA / 2 * np.log(J) ** 2
    return stress, D, W


@pytest.mark.parametrize("k", range(5))
def test_neo_hooke_closed_form(k):
    F = _F_samples()[k]
    S, D, SSE, SPD, SCD, out = _call_umat(F)
    s_ref, D_ref, W_ref = _closed_form_neo_hooke(F)
    np.testing.assert_allclose(S, s_ref, rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(D, D_ref, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(SSE[0], W_ref, rtol=1e-11, atol=1e-14)
    assert SPD[0] == 0.0 and SCD[0] == 0.0
    assert out[0] is SSE


def test_batched_function_matches_umat_and_closed_form():
    Fs = _F_samples()
    mat = materials.get("neo-hooke", mu=MU, lmbda=LMBDA)
    stress, ddsdde, energy = stress_ddsdde_abaqus(mat, torch.as_tensor(Fs))
    assert stress.shape == (5, 6) and ddsdde.shape == (5, 6, 6) and energy.shape == (5,)
    for k, F in enumerate(Fs):
        s_ref, D_ref, W_ref = _closed_form_neo_hooke(F)
        np.testing.assert_allclose(stress[k].numpy(), s_ref, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(ddsdde[k].numpy(), D_ref, rtol=1e-11, atol=1e-11)


def test_dfgrd1_column_major_flat_and_order_matters():
    F = _F_samples()[0]
    S1, D1, *_ = _call_umat(F)
    S2, D2, *_ = _call_umat(None, dfgrd=F.flatten(order="F"))
    S3, *_ = _call_umat(None, dfgrd=np.asfortranarray(F))
    S4, *_ = _call_umat(None, dfgrd=F.flatten(order="C"))  # misread (transposed) F
    np.testing.assert_array_equal(S1, S2)
    np.testing.assert_array_equal(D1, D2)
    np.testing.assert_array_equal(S1, S3)
    assert np.abs(S4 - S1).max() > 1e-3


@pytest.mark.parametrize("kind", ["plane-strain", "axisymmetric"])
def test_ntens4_variants(kind):
    """NDI=3, NSHR=1: components 11, 22, 33, 12 of the 3-D result; FD of the definition."""
    a = np.array([[1.3, 0.25, 0.0], [-0.1, 0.85, 0.0], [0.0, 0.0, 1.0 if kind == "plane-strain" else 1.2]])
    S4, D4, *_ = _call_umat(a, ndi=3, nshr=1)
    S6, D6, *_ = _call_umat(a)
    np.testing.assert_allclose(S4, S6[:4], rtol=1e-13)
    np.testing.assert_allclose(D4, D6[:4, :4], rtol=1e-13)
    assert abs(S6[4]) < 1e-14 and abs(S6[5]) < 1e-14  # sigma13 = sigma23 = 0 in this state
    s_ref, D_ref, _ = _closed_form_neo_hooke(a)
    np.testing.assert_allclose(D4, D_ref[:4, :4], rtol=1e-11, atol=1e-11)
    with pytest.raises(ValueError, match="F13"):
        bad = a.copy()
        bad[0, 2] = 0.1
        _call_umat(bad, ndi=3, nshr=1)


def test_props_layout_and_roundtrip():
    assert props_layout(materials.model_class("neo-hooke")) == [("mu", 1), ("lmbda", 1)]
    mat = materials.get("neo-hooke", mu=MU, lmbda=LMBDA)
    np.testing.assert_array_equal(props_from_material(mat), [MU, LMBDA])
    assert params_from_props(type(mat), [MU, LMBDA]) == {"mu": MU, "lmbda": LMBDA}
    if "ogden" in materials.available():
        cls = materials.model_class("ogden")
        p = params_from_props(cls, [2, 0.5, 0.1, 2.0, -2.0, 100.0])
        assert p == {"mu": [0.5, 0.1], "alpha": [2.0, -2.0], "K": 100.0}


def test_make_umat_fixes_model_and_options():
    F = _F_samples()[1]
    fn = make_umat("neo-hooke")
    S1, D1, *_ = _call_umat(F, cmname="WHATEVER", fn=fn)
    S2, D2, *_ = _call_umat(F)
    np.testing.assert_array_equal(S1, S2)
    with pytest.raises(KeyError):
        make_umat("no-such-model")


class TestBadInput:
    F = np.diag([1.1, 0.9, 1.0])

    def test_wrong_nprops(self):
        with pytest.raises(ValueError, match="PROPS"):
            _call_umat(self.F, props=(MU,))

    def test_plane_stress_refused(self):
        with pytest.raises(ValueError, match="plane stress"):
            _call_umat(self.F, ndi=2, nshr=1)

    def test_negative_det(self):
        with pytest.raises(ValueError, match="det F"):
            _call_umat(np.diag([-1.0, 1.0, 1.0]))

    def test_bad_parameter_value(self):
        with pytest.raises(ValueError, match="mu"):
            _call_umat(self.F, props=(-1.0, LMBDA))

    def test_wrong_stress_shape(self):
        ntens = 6
        with pytest.raises(ValueError, match="STRESS"):
            umat(np.zeros(4), None, np.zeros((ntens, ntens)), np.zeros(1), 0.0, 0.0, 0.0, None, None, 0.0,
                 None, None, None, 0.0, 0.0, 0.0, None, None, "NEO-HOOKE", 3, 3, 6, 0, np.array([MU, LMBDA]),
                 2, None, None, 1.0, 1.0, None, self.F, 1, 1, 0, 0, 1, 1)


def test_batched_umat_call():
    Fs = _F_samples()
    STRESS, DDSDDE, SSE = np.zeros((5, 6)), np.zeros((5, 6, 6)), np.zeros(5)
    umat(STRESS, None, DDSDDE, SSE, 0.0, 0.0, 0.0, None, None, 0.0, None, None, None, 0.1, 0.0, 0.0,
         None, None, "neo-hooke", 3, 3, 6, 0, np.array([MU, LMBDA]), 2, None, None, 1.0, 1.0, None,
         Fs.reshape(5, 3, 3).transpose(0, 2, 1).reshape(5, 9), 1, 1, 0, 0, 1, 1)  # flat column-major
    for k, F in enumerate(Fs):
        s_ref, D_ref, W_ref = _closed_form_neo_hooke(F)
        np.testing.assert_allclose(STRESS[k], s_ref, rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(DDSDDE[k], D_ref, rtol=1e-11, atol=1e-11)
        assert SSE[k] == pytest.approx(W_ref, rel=1e-11)


def test_decoupled_neo_hooke_abaqus_form_closed_form():
    """Abaqus's NEO HOOKE form W = C10 (I1b - 3) + (J - 1)^2 / D1 (our neo-hooke-decoupled, mu = 2 C10,
    K = 2/D1). Hand-derived: sigma = 2 C10/J dev(bb) + 2/D1 (J - 1) I and, for dF = d(eps) F,
    d(tau)/J = 2 C10/J dev(d(eps) bb + bb d(eps) - 2/3 tr(d(eps)) bb) + 2/D1 (2J - 1) tr(d(eps)) I
    (the moduli EG = 2 C10/J, EK = 2/D1 (2J - 1) of Abaqus's example neo-Hookean UMAT)."""
    if "neo-hooke-decoupled" not in materials.available():
        pytest.skip("neo-hooke-decoupled not registered yet")
    C10, D1 = 0.4, 0.04
    for F in _F_samples():
        S, D, SSE, *_ = _call_umat(F, props=(2 * C10, 2 / D1), cmname="NEO-HOOKE-DECOUPLED")
        J = np.linalg.det(F)
        bb = J ** (-2 / 3) * F @ F.T
        dev = lambda A: A - np.trace(A) / 3 * np.eye(3)  # noqa: E731
        sig = 2 * C10 / J * dev(bb) + 2 / D1 * (J - 1) * np.eye(3)
        np.testing.assert_allclose(S, [sig[i, j] for i, j in ABQ], rtol=1e-11, atol=1e-12)
        assert SSE[0] == pytest.approx(C10 * (np.trace(bb) - 3) + (J - 1) ** 2 / D1, rel=1e-11)
        for Jc, (k, l) in enumerate(ABQ):
            de = np.zeros((3, 3))
            de[k, l] = de[l, k] = 1.0 if k == l else 0.5
            dtau_J = (2 * C10 / J * dev(de @ bb + bb @ de - 2 / 3 * np.trace(de) * bb)
                      + 2 / D1 * (2 * J - 1) * np.trace(de) * np.eye(3))
            np.testing.assert_allclose(D[:, Jc], [dtau_J[i, j] for i, j in ABQ], rtol=1e-10, atol=1e-10)


def test_ddsdde_from_felupe_hessian():
    """Peer check: felupe's hand-coded A = dP/dF of NeoHookeCompressible, pushed forward,
    a_ijkl = J^-1 F_jJ F_lL A_iJkL = c_ijkl + d_ik s_jl, gives C^MJ = a - d_ik s_jl + Jaumann terms."""
    fem = pytest.importorskip("felupe")
    Fs = _F_samples()
    x = [np.moveaxis(Fs, 0, -1)[..., None], np.zeros((0, 5, 1))]
    A = fem.NeoHookeCompressible(mu=MU, lmbda=LMBDA).hessian(x)[0][..., 0]  # (3,3,3,3,5)
    P = fem.NeoHookeCompressible(mu=MU, lmbda=LMBDA).gradient(x)[0][..., 0]  # (3,3,5)
    d = np.eye(3)
    for n, F in enumerate(Fs):
        J = np.linalg.det(F)
        s = P[..., n] @ F.T / J
        a = np.einsum("jJ,lL,iJkL->ijkl", F, F, A[..., n]) / J
        CMJ = (a - np.einsum("ik,jl->ijkl", d, s)
               + 0.5 * (np.einsum("ik,jl->ijkl", d, s) + np.einsum("ik,jl->ijkl", s, d)
                        + np.einsum("il,jk->ijkl", d, s) + np.einsum("il,jk->ijkl", s, d)))
        S, D, *_ = _call_umat(F)
        np.testing.assert_allclose(S, [s[i, j] for i, j in ABQ], rtol=1e-11, atol=1e-12)
        ref = np.array([[CMJ[i, j, k, l] for (k, l) in ABQ] for (i, j) in ABQ])
        np.testing.assert_allclose(D, ref, rtol=1e-10, atol=1e-10)
