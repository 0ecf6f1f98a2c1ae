"""Compiled state-carrying materials: the library and its UMAT carry the state through STATEV,
NSTATV and DTIME (both conventions, against the engine), and inside CalculiX 2.20 a relaxation
test (viscoelastic) and a cyclic test (Mullins) on one C3D8 element equal the material-point
driver (CalculiX writes RF in double precision, ``*NODE FILE, DOUBLE``)."""

import numpy as np
import pytest
import scipy.linalg
import torch

import materials
from constitutive import kinematics as kin
from constitutive.calibration import history as H
from constitutive.fem import box
from constitutive.interfaces.abaqus_umat import jaumann_tangent
from constitutive.interfaces.compiled import CompiledMaterial, compile_material
from constitutive.interfaces.notation import stress_to_vector, tangent_to_matrix
from constitutive.native import compiler

import calculix_cases  # noqa: F401  isort: skip  (puts tools/calculix on sys.path)
import ccx  # isort: skip

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler")
torch.set_default_dtype(torch.float64)

ABQ = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]
#: Pa-like moduli (CalculiX's absolute force floors, NOTES.md section 5); times in step time 0..1
VISCO = dict(base="neo-hooke-decoupled", mu=1e6, K=2e7, tau=[0.05, 0.4], beta=[1.0, 0.5], volumetric="J-1")
MULLINS = dict(base="neo-hooke-decoupled", mu=1e6, K=2e7, r=1.5, m=2e5, beta=0.1, volumetric="J-1")
TOL = 1e-7


@pytest.fixture(scope="module")
def libs(tmp_path_factory):
    out = tmp_path_factory.mktemp("state_libs")
    built = {}
    for key, model, name, params, conv in (("visco", "viscoelastic", "VISCO", VISCO, "calculix"),
                                           ("mullins", "mullins", "MULL", MULLINS, "calculix"),
                                           ("visco-abq", "viscoelastic", "VISCOA", VISCO, "abaqus")):
        mat = materials.get_state_model(model, **params)
        lib = compile_material(mat, name, out, convention=conv)
        built[key] = (mat, CompiledMaterial(lib.description, **mat.parameter_values()), lib)
    built["dir"] = out
    return built


def _states(mat, n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    F = torch.eye(3) + 0.25 * torch.randn(n, 3, 3, generator=g)
    F = F[torch.linalg.det(F) > 0.3]
    if mat.name == "viscoelastic":
        st = 1e5 * torch.randn(F.shape[0], mat.n_state, generator=g)
    else:
        st = 2.0 * mat.softened_energy(kin.strain_mandel_from_F(F))[:, None]
    return F, st


def _rel(a, b):
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / max(np.abs(np.asarray(b)).max(), 1e-300))


@pytest.mark.parametrize("key", ["visco", "mullins"])
def test_library_update_equals_the_engine(libs, key):
    mat, lib, info = libs[key]
    F, st = _states(mat)
    P0, A0, n0 = mat.pk1_tangent_state(F, st, 0.03, fast=False)
    P, A, new = lib.update(F.numpy(), st.numpy(), 0.03)
    assert _rel(P, P0) < 1e-12 and _rel(A, A0) < 1e-12 and _rel(new, n0) < 1e-12
    e = kin.strain_mandel_from_F(F)
    s0, D0, m0 = mat.stress_tangent_state_mandel(e, st, 0.03, fast=False)
    s, D, m = lib.update_mandel(e.numpy(), st.numpy(), 0.03)
    assert _rel(s, s0) < 1e-12 and _rel(D, D0) < 1e-12 and _rel(m, m0) < 1e-12
    assert info.info["state"]["labels"] == list(mat.state_labels) and lib.n_state == mat.n_state
    with pytest.raises(ValueError, match="invalid state or time increment"):
        lib.update(F.numpy(), st.numpy(), -1.0)
    with pytest.raises(TypeError, match="state-carrying library; use update"):
        lib.pk1_tangent(F.numpy())
    with pytest.raises(ValueError, match=r"state: expected shape \("):
        lib.update(F.numpy(), st.numpy()[:, :-1] if st.shape[1] > 1 else st.numpy()[:-1], 0.1)


def test_umat_carries_statev_and_dtime_in_both_conventions(libs):
    for key in ("visco", "visco-abq"):
        mat, lib, _ = libs[key]
        F, st = _states(mat, seed=1)
        for Fi, si in zip(F, st, strict=False):
            r = lib.umat(Fi.numpy(), statev=si.numpy(), dtime=0.02)
            S, CC, new = mat.pk2_tangent_state(Fi[None], si[None], 0.02)
            if key == "visco":  # CalculiX: corotational Cauchy U S U / J and U U U U : CC
                U = scipy.linalg.sqrtm((Fi.T @ Fi).numpy()).real
                s = U @ S[0].numpy() @ U / np.linalg.det(Fi.numpy())
                T = np.einsum("ia,jb,kc,ld,abcd->ijkl", U, U, U, U, CC[0].numpy())
                stress, tan = np.array([s[i, j] for i, j in ABQ]), np.array([[T[i, j, k, l] for k, l in ABQ]
                                                                            for i, j in ABQ])
            else:  # Abaqus: Cauchy stress and the Jaumann-rate tangent
                sigma = kin.cauchy_from_pk2(Fi[None], S)
                stress = stress_to_vector(sigma, "abaqus")[0].numpy()
                tan = tangent_to_matrix(jaumann_tangent(Fi[None], S, CC), "abaqus")[0].numpy()
            assert _rel(r["STRESS"], stress) < 1e-12 and _rel(r["DDSDDE"], tan) < 1e-12
            assert _rel(r["STATEV"], new[0]) < 1e-12 and r["PNEWDT"] == 1.0
    mat, lib, _ = libs["visco"]
    F, st = _states(mat, seed=2)
    short = lib.umat(F[0].numpy(), statev=st[0].numpy(), dtime=0.02, nstatv=mat.n_state - 1)
    assert short["PNEWDT"] < 1 and np.isnan(short["STRESS"]).all()
    assert np.array_equal(short["STATEV"], st[0].numpy())  # left unchanged
    assert lib.umat(F[0].numpy(), statev=st[0].numpy(), dtime=-0.1)["PNEWDT"] < 1
    lin = lib.umat(F[0].numpy(), statev=st[0].numpy(), dtime=0.02, dfgrd0=np.eye(3), kstep=(1, 1, 0, 0))
    S, _, _ = mat.pk2_tangent_state(torch.eye(3)[None], st[:1], 0.02)  # CalculiX's linear iteration: DFGRD0
    assert _rel(lin["STRESS"], np.array([S[0, i, j] for i, j in ABQ])) < 1e-12


# ----------------------------------------------------------------------------- inside CalculiX
@pytest.fixture(scope="module")
def exe():
    path = ccx.find_ccx()
    if path is None:
        pytest.skip("no CalculiX with external UMAT support (tools/calculix/build.sh)")
    return path


def one_element(libs, key, lam_t, n, tmp_path, exe):
    """One C3D8 unit cube on symmetry planes, face x = 1 following ``lam_t`` (n increments of
    step time 1/n): uniaxial stress; returns P11 from the double-precision reactions."""
    mat, lib, _ = libs[key]
    cards, name = ccx.user_material(lib.name, lib.props, depvar=mat.n_state)
    mesh = box(1)
    S = mesh.point_sets
    t = np.linspace(0.0, 1.0, n + 1)
    lam = np.array([lam_t(x) for x in t])
    pres = [(S["xmax"], np.einsum("t,ni->tni", lam - 1, np.tile([1.0, 0, 0], (4, 1))), (0,))]
    fixed = [(S["xmin"], (0,)), (S["ymin"], (1,)), (S["zmin"], (2,))]
    deck = ccx.solid_deck(mesh.points, mesh.cells, cards, name, fixed=fixed, prescribed=pres, increments=n)
    res = ccx.run_deck(deck, tmp_path / key, ccx=exe, lib_dirs=[libs["dir"]], timeout=300)
    RF = res.read_frd().field("RF", 8)
    P11 = RF[:, mesh.points[:, 0] == 1.0, 0].sum(1)
    ref = H.solve_history(mat, H.strain_history("uniaxial", t, lam)).measured()[1:, 0].numpy()
    return lam[1:], P11, ref, res


def test_relaxation_in_calculix_equals_the_material_point_driver(libs, exe, tmp_path):
    lam, P11, ref, res = one_element(libs, "visco", lambda t: 1.0 + 0.5 * min(t / 0.1, 1.0), 50, tmp_path, exe)
    assert _rel(P11, ref) < TOL
    assert P11[4] > 1.5 * P11[-1]  # it relaxed at constant stretch
    assert max(res.iterations().per_increment()) <= 5  # Newton with the algorithmic tangent


def test_mullins_hysteresis_in_calculix_equals_the_material_point_driver(libs, exe, tmp_path):
    def path(t):
        return float(np.interp(t, [0.0, 0.25, 0.5, 0.75, 1.0], [1.0, 1.8, 1.2, 2.2, 1.1]))

    lam, P11, ref, _ = one_element(libs, "mullins", path, 40, tmp_path, exe)
    assert _rel(P11, ref) < TOL
    i_load, i_unload = 6, 13  # lambda = 1.56 on the primary loading and on unloading from 1.8
    assert lam[i_load] == pytest.approx(lam[i_unload]) and P11[i_unload] < 0.8 * P11[i_load]
