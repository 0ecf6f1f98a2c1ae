"""Compiled material routines proven inside CalculiX 2.20 (``@ABAQUSNL`` external UMAT).

Every check runs CalculiX (``tools/calculix``: a ccx built with external-behaviour support)
and compares with our own code: the material-point driver (homogeneous paths, Abaqus cards),
our FE driver (same C3D8 mesh, 2x2x2 Gauss points, same boundary conditions and increments)
and CalculiX's built-in ``*HYPERELASTIC, NEO HOOKE``. CalculiX writes U and RF in double
precision (``*NODE FILE, DOUBLE``, see tools/calculix/ccx_frd.py), so the tolerances are
those of the physics, not of the 7 printed digits. Moduli are in Pa-like units (mu ~ 1e6)
with tight ``*CONTROLS`` (CalculiX's absolute residual floor, NOTES.md section 5).

With ``CONSTITUTIVE_CCX_REPORT=path.json`` the measured errors and iteration counts are
written there (docs/calculix.md quotes them).
"""

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch

import materials
from constitutive.calibration import driver, loadpaths
from constitutive.cli import main as cli
from constitutive.fem import box
from constitutive.interfaces.abaqus_cards import abaqus_energy, abaqus_material_card, abaqus_parameters
from constitutive.interfaces.compiled import CompiledMaterial, compile_material
from constitutive.native import compiler

import calculix_cases as cc  # isort: skip  (puts tools/calculix on sys.path)
import ccx  # isort: skip

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler")

NH = dict(mu=1e6, K=1e7)  # CalculiX NEO HOOKE: C10 = mu/2, D1 = 2/K
BUILTIN_NH = ccx.hyperelastic_material("RUBBER", "NEO HOOKE", [NH["mu"] / 2, 2 / NH["K"]])
#: library name -> (model, compile keywords, parameters in Pa-like units)
LIBRARIES = {
    "NH": ("neo-hooke-decoupled", {"options": {"volumetric": "J-1"}}, NH),
    "NHABQ": ("neo-hooke-decoupled", {"options": {"volumetric": "J-1"}, "convention": "abaqus"}, NH),
    "OG": ("ogden", {"terms": 3}, dict(mu=[0.63e6, 0.0012e6, -0.01e6], alpha=[1.3, 5.0, -2.0], K=1e7)),
    "MR": ("mooney-rivlin", {}, dict(c10=0.4e6, c01=0.1e6, K=1e7)),
    "YE": ("yeoh", {}, dict(c10=0.5e6, c20=-0.01e6, c30=0.001e6, K=1e7)),
    "HGO": ("holzapfel-gasser-ogden", {}, dict(mu=1e6, K=1e7, k1=2e6, k2=0.8, kappa=0.1)),
    "GENT": ("gent", {}, dict(mu=1e6, Jm=0.3, K=1e8)),
}
UMAT_MODELS = ["NH", "OG", "MR", "YE", "HGO"]
TOL_POINT = 1e-7  # nominal stress, relative to its largest component
TOL_FE = 1e-6  # displacements, relative to the largest displacement


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def exe():
    path = ccx.find_ccx()
    if path is None:
        try:
            path = ccx.build_ccx()
        except ccx.CCXError as exc:
            pytest.skip(f"no CalculiX with external UMAT support: {exc}")
    return path


@pytest.fixture(scope="session")
def libs(tmp_path_factory):
    """Every library compiled once per session (two at a time): name -> (json path, material)."""
    out = tmp_path_factory.mktemp("ccx_libs")

    def build(name):
        model, kw, params = LIBRARIES[name]
        lib = compile_material(model, name, out, **kw)
        return name, (lib.description, materials.get(model, **kw.get("options", {}), **params))

    with ThreadPoolExecutor(2) as pool:
        built = dict(pool.map(build, LIBRARIES))
    built["dir"] = out
    return built


@pytest.fixture(scope="session")
def report():
    data = {}
    yield data
    path = os.environ.get("CONSTITUTIVE_CCX_REPORT")
    if path:
        with open(path, "w") as fh:
            json.dump(data, fh, indent=2, default=float)


@pytest.fixture(scope="session")
def run(exe, libs, tmp_path_factory):
    """``run(key, deck, check=True)``: ccx on a deck (cached by key) with the libraries on
    LD_LIBRARY_PATH."""
    root = tmp_path_factory.mktemp("ccx_runs")
    cache = {}

    def _run(key, deck, check=True, lib_dirs=()):
        if key not in cache:
            cache[key] = ccx.run_deck(deck, root / key, ccx=exe, lib_dirs=[libs["dir"], *lib_dirs],
                                      check=check, timeout=300)
        return cache[key]

    return _run


def umat_cards(libs, name, suffix=""):
    desc, mat = libs[name]
    props = CompiledMaterial(desc, **mat.parameter_values()).props
    return ccx.user_material(name, props, suffix=suffix)


def rel(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


# ----------------------------------------------------------------------------- 1. homogeneous paths
def _rotation_z(theta):
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def homogeneous_path(material, path: str) -> np.ndarray:
    """F (n+1, 3, 3), F[0] = I: the driver's uniaxial/equibiaxial solution (traction-free
    lateral faces), or simple shear (P33 = 0) followed by a rotation of 90 degrees about z."""
    if path == "uniaxial":
        F = driver.solve(material, loadpaths.uniaxial(np.linspace(1, 1.8, 9)[1:])).F
    elif path == "equibiaxial":
        F = driver.solve(material, loadpaths.equibiaxial(np.linspace(1, 1.4, 9)[1:])).F
    else:
        t = np.linspace(0, 1, 9)[1:]
        Fs = driver.solve(material, loadpaths.simple_shear(0.8 * t)).F.numpy()
        F = torch.as_tensor(np.einsum("nij,njk->nik", np.stack([_rotation_z(0.5 * np.pi * s) for s in t]), Fs))
    return np.concatenate([np.eye(3)[None], F.numpy()])


def cube_pk1(res) -> np.ndarray:
    """P (nt, 3, 3) of ccx.unit_cube_deck's cube from the double-precision reactions."""
    RF = res.read_frd().field("RF", 8)
    return np.stack([RF[:, ccx.CUBE_NODES[:, J] == 1.0].sum(1) for J in range(3)], axis=-1)


@pytest.mark.parametrize("path", ["uniaxial", "equibiaxial", "shear_rotation"])
@pytest.mark.parametrize("name", UMAT_MODELS)
def test_homogeneous_paths_equal_the_material_point(libs, run, report, name, path):
    """One C3D8, F(t) prescribed on all nodes: CalculiX's reaction forces with our UMAT are
    the nominal stress P(F) of the engine at every increment."""
    mat = libs[name][1]
    F = homogeneous_path(mat, path)
    cards, mname = umat_cards(libs, name)
    res = run(f"cube_{name}_{path}", ccx.unit_cube_deck(F, cards, mname, el_print="",
                                                         extra_step_cards="*NODE FILE, DOUBLE\nU, RF"))
    P = cube_pk1(res)
    P_ref = mat.pk1(torch.as_tensor(F[1:])).numpy()
    err = rel(P, P_ref)
    report.setdefault("homogeneous", {})[f"{name} {path}"] = err
    assert P.shape == P_ref.shape and err < TOL_POINT


# ----------------------------------------------------------------------------- 2. large rotations
@pytest.fixture(scope="session")
def block(libs, run):
    """The stretched-then-rotated 3x3x3 block: our FE (t = 1/2 and 1) and CalculiX runs."""
    case = cc.block_case(3, 10)
    mat = libs["NH"][1]
    fe_half = cc.solve_fe(cc.block_problem(case, mat, until=0.5), 5)
    fe = cc.solve_fe(cc.block_problem(case, mat), 10)
    runs = {"umat": run("block_umat", case.deck(*umat_cards(libs, "NH"))),
            "builtin": run("block_builtin", case.deck(BUILTIN_NH, "RUBBER"))}
    return case, fe_half, fe, runs


def test_block_stretched_and_rotated_equals_fe_and_builtin(block, report):
    case, fe_half, fe, runs = block
    U = runs["umat"].read_frd().field("U", case.mesh.npoints)
    Ub = runs["builtin"].read_frd().field("U", case.mesh.npoints)
    errs = {"umat vs fe, t=1/2": rel(U[4], fe_half), "umat vs fe, t=1": rel(U[-1], fe),
            "umat vs builtin": rel(U, Ub)}
    # objectivity: the second half is a rigid rotation of the whole block (interior nodes free)
    X = case.mesh.points
    R = cc.rotation(0.5 * np.pi)
    errs["rotated state vs R x(1/2)"] = rel(X + U[-1], (X + U[4]) @ R.T)
    report["block"] = errs
    assert max(errs.values()) < TOL_FE, errs
    assert np.abs(fe - fe_half).max() > 0.5  # a real rotation happened


@pytest.fixture(scope="session")
def cook(libs, run):
    force = 1e6
    case, _ = cc.cook_case(8, 5, force)
    fe = cc.solve_fe(cc.cook_problem(case, libs["NH"][1], force), 5)
    runs = {"umat": run("cook_umat", case.deck(*umat_cards(libs, "NH"))),
            "builtin": run("cook_builtin", case.deck(BUILTIN_NH, "RUBBER"))}
    return case, fe, runs


def test_cook_membrane_plane_strain_equals_fe_and_builtin(cook, report):
    case, fe, runs = cook
    U = runs["umat"].read_frd().field("U", case.mesh.npoints)
    Ub = runs["builtin"].read_frd().field("U", case.mesh.npoints)
    errs = {"umat vs fe": rel(U[-1], fe), "umat vs builtin": rel(U, Ub)}
    tip = case.mesh.point_sets["loaded"]
    report["cook"] = {**errs, "tip u_y (mm)": float(fe[tip, 1].max())}
    assert max(errs.values()) < TOL_FE, errs
    assert np.abs(U[:, :, 2]).max() == 0.0 and fe[tip, 1].max() > 4.0  # plane strain, large deflection


# ----------------------------------------------------------------------------- 3. Newton iterations
def _iterations(res):
    it = res.iterations()
    assert it.converged.all()  # fixed increments: no cutbacks
    return [int(i) for i in it.per_increment()]


@pytest.mark.parametrize("fixture", ["block", "cook"])
def test_umat_needs_no_more_newton_iterations_than_builtin(request, report, fixture):
    runs = request.getfixturevalue(fixture)[-1]
    umat, builtin = _iterations(runs["umat"]), _iterations(runs["builtin"])
    report.setdefault("iterations", {})[fixture] = {"calculix convention": umat, "builtin": builtin}
    assert len(umat) == len(builtin)
    # every increment, the first included: the UMAT answers CalculiX's linear first iteration of a
    # step (KSTEP(3) = 0) at DFGRD0, the start of the increment, as the built-in models do
    assert all(u <= b for u, b in zip(umat, builtin, strict=True)), (umat, builtin)


@pytest.mark.parametrize("fixture", ["block", "cook"])
def test_abaqus_convention_is_wrong_in_calculix(request, libs, run, report, fixture):
    """The Abaqus convention (global Cauchy stress, Jaumann tangent) inside CalculiX: CalculiX
    reads STRESS as the corotational R^T sigma R, so the answer differs, and the tangent does
    not fit, so Newton needs many more iterations."""
    case = request.getfixturevalue(fixture)[0]
    good = request.getfixturevalue(fixture)[-1]["umat"]
    res = run(f"{fixture}_abaqus", case.deck(*umat_cards(libs, "NHABQ")), check=False)
    it = res.iterations()
    iters = [int(i) for i in it.iterations]
    n = case.mesh.npoints
    err = rel(res.read_frd().field("U", n)[-1], good.read_frd().field("U", n)[-1]) \
        if res.returncode == 0 else float("nan")
    report.setdefault("iterations", {}).setdefault(fixture, {})["abaqus convention"] = iters
    report.setdefault("abaqus convention in calculix", {})[fixture] = err
    assert sum(iters) > 3 * sum(_iterations(good))
    assert res.returncode != 0 or err > 1e-4


# ----------------------------------------------------------------------------- 4. other models
@pytest.mark.parametrize("name", ["OG", "MR", "YE", "HGO"])
def test_models_in_calculix_equal_fe(libs, run, report, name):
    """Ogden (3 terms), Mooney-Rivlin, Yeoh and HGO (fibre directions from PROPS) through the UMAT
    in CalculiX give our FE driver's displacements on the stretched-then-rotated block."""
    case = cc.block_case(3, 10)
    mat = libs[name][1]
    res = run(f"block_{name}", case.deck(*umat_cards(libs, name)))
    U = res.read_frd().field("U", case.mesh.npoints)
    fe = cc.solve_fe(cc.block_problem(case, mat), 10)
    err = rel(U[-1], fe)
    report.setdefault("models", {})[name] = {"error": err, "iterations": _iterations(res)}
    assert err < TOL_FE


def test_hgo_props_layout_puts_the_fibres_last(libs):
    desc, mat = libs["HGO"]
    info = json.loads(desc.read_text())
    assert info["props"]["layout"] == "[mu, K, k1, k2, kappa, a1[3], a2[3]]"
    props = CompiledMaterial(desc, **mat.parameter_values()).props
    np.testing.assert_allclose(props[5:8], mat.a1.numpy(), rtol=0, atol=1e-15)
    np.testing.assert_allclose(props[8:11], mat.a2.numpy(), rtol=0, atol=1e-15)


# ----------------------------------------------------------------------------- 5. cutbacks
def _auto_cube_deck(cards, name, F1):
    """All 8 nodes of a unit cube follow F(t) = I + t (F1 - I); automatic increments."""
    mesh = box(1)
    X = mesh.points
    u = np.stack([np.zeros_like(X), X @ (F1 - np.eye(3)).T])
    return ccx.solid_deck(X, mesh.cells, cards, name, prescribed=[(np.arange(8), u)], times=[0.0, 1.0],
                          automatic=(0.1, 1e-4, 0.1), inc_limit=200)


def _finite_outputs(res) -> bool:
    frd = res.read_frd()
    ok = all(np.isfinite(b.values).all() for b in frd.blocks)
    text = res.dat.read_text() + res.stdout
    return ok and re.search(r"\bnan\b", text, re.IGNORECASE) is None


def _bisect(fun, a=0.0, b=1.0):
    for _ in range(100):
        m = 0.5 * (a + b)
        a, b = (m, b) if fun(m) < 0 else (a, m)
    return 0.5 * (a + b)


@pytest.mark.parametrize("kind", ["gent_locking", "inversion"])
def test_bad_states_cut_back_in_calculix(libs, run, report, kind):
    """Gent beyond its locking limit / an element turned inside out: the UMAT requests smaller
    increments (PNEWDT), CalculiX cuts back, converges up to the limit, stops there, and no
    output holds NaN."""
    if kind == "gent_locking":
        F1 = np.diag([1.8, 1.8**-0.5, 1.8**-0.5])
        Jm = LIBRARIES["GENT"][2]["Jm"]

        def margin(t):
            F = np.eye(3) + t * (F1 - np.eye(3))
            J = np.linalg.det(F)
            return J ** (-2 / 3) * np.trace(F.T @ F) - 3 - Jm

        t_limit = _bisect(margin)
        res = run("auto_gent", _auto_cube_deck(*umat_cards(libs, "GENT"), F1), check=False)
    else:
        F1 = np.diag([-0.5, 1.0, 1.0])  # det F(t) = 1 - 1.5 t
        t_limit = 2 / 3
        res = run("auto_inversion", _auto_cube_deck(*umat_cards(libs, "NH"), F1), check=False)
    it = res.iterations()
    t_last = float(it.time[it.converged].max())
    report.setdefault("cutbacks", {})[kind] = {"limit": t_limit, "last converged": t_last,
                                               "cut-back attempts": int((~it.converged).sum()),
                                               "returncode": res.returncode}
    assert (~it.converged).sum() >= 3
    assert "increment size decrease requested by a material user routine (through pnewdt)" in res.stdout
    assert 0.95 * t_limit < t_last < t_limit
    assert _finite_outputs(res)


def test_umat_requests_cutback_and_leaves_stress_unchanged(libs):
    nh = CompiledMaterial(libs["NH"][0], **NH)
    gent = CompiledMaterial(libs["GENT"][0], **LIBRARIES["GENT"][2])
    lock = np.diag([1.8, 1.8**-0.5, 1.8**-0.5])  # I1b - 3 = 0.798 > Jm = 0.3
    for lib, F in ((nh, np.diag([-0.5, 1.0, 1.0])), (nh, np.diag([0.0, 1.0, 1.0])), (gent, lock)):
        r = lib.umat(F, pnewdt=-1.0)  # CalculiX passes -1 (NOTES.md section 4)
        assert 0.0 < r["PNEWDT"] < 1.0 and np.isnan(r["STRESS"]).all() and np.isnan(r["DDSDDE"]).all()
    for lib, F in ((nh, np.diag([1.2, 0.9, 1.0])), (gent, np.diag([1.2, 1.2**-0.5, 1.2**-0.5]))):
        r = lib.umat(F, pnewdt=-1.0)
        assert r["PNEWDT"] == -1.0 and np.isfinite(r["STRESS"]).all() and np.isfinite(r["DDSDDE"]).all()


# ----------------------------------------------------------------------------- 6. Abaqus cards
CARDS = {
    "neo-hooke-decoupled": ("neo-hooke-decoupled", NH),
    "mooney-rivlin": ("mooney-rivlin", LIBRARIES["MR"][2]),
    "yeoh": ("yeoh", LIBRARIES["YE"][2]),
    "ogden N=1": ("ogden", dict(mu=[1e6], alpha=[2.5], K=1e7)),
    "ogden N=2": ("ogden", dict(mu=[0.63e6, -0.01e6], alpha=[1.3, -2.0], K=1e7)),
    "ogden N=3": ("ogden", LIBRARIES["OG"][2]),
    "arruda-boyce": ("arruda-boyce", dict(mu=1e6, lambda_m=3.0, K=1e7)),
    "holzapfel-gasser-ogden": ("holzapfel-gasser-ogden", LIBRARIES["HGO"][2]),
}


def card_deck(card: str, mode: str):
    """One unit cube, symmetry planes x=0, y=0, z=0, the face x=1 (and y=1 for equibiaxial)
    displaced, the others traction free: a homogeneous uniaxial/equibiaxial test."""
    mesh = box(1)
    S = mesh.point_sets
    lam = np.linspace(1.0, 1.6 if mode == "uniaxial" else 1.3, 7)
    pres = [(S["xmax"], np.einsum("t,ni->tni", lam - 1, np.tile([1.0, 0, 0], (4, 1))), (0,))]
    if mode == "equibiaxial":
        pres.append((S["ymax"], np.einsum("t,ni->tni", lam - 1, np.tile([0, 1.0, 0], (4, 1))), (1,)))
    fixed = [(S["xmin"], (0,)), (S["ymin"], (1,)), (S["zmin"], (2,))]
    return ccx.solid_deck(mesh.points, mesh.cells, card, "CARD", fixed=fixed, prescribed=pres, increments=6), lam


def card_result(res):
    """P11 and F (diagonal, from the displacement of the node at (1, 1, 1)) per increment."""
    frd = res.read_frd()
    RF, U = frd.field("RF", 8), frd.field("U", 8)
    X = box(1).points
    corner = int(np.flatnonzero((X == 1.0).all(axis=1))[0])
    return RF[:, X[:, 0] == 1.0, 0].sum(1), np.stack([np.diag(1.0 + u) for u in U[:, corner]])


def test_card_cases_cover_every_model_with_a_card():
    ok = set()
    for m in materials.available():
        mat = materials.get(m)
        try:
            abaqus_material_card(mat)
        except ValueError:
            continue
        if not mat.incompressible:
            ok.add(m)
    assert ok == {model for model, _ in CARDS.values()}


@pytest.mark.parametrize("mode", ["uniaxial", "equibiaxial"])
@pytest.mark.parametrize("key", list(CARDS))
def test_abaqus_card_in_calculix_equals_the_material_point(run, report, key, mode):
    model, params = CARDS[key]
    mat = materials.get(model, **params)
    card = abaqus_material_card(mat, name="CARD")
    fixed, changes = ccx.calculix_card(card)
    assert not ccx.card_warnings(card)
    deck, lam = card_deck(fixed, mode)
    tag = re.sub(r"\W", "", key)
    try:
        res = run(f"card_{tag}_{mode}", deck)
    except ccx.CCXError as exc:
        if "*ANISOTROPIC HYPERELASTIC" in card and "no elastic constants" in str(exc):
            pytest.skip("CalculiX 2.20 has no *ANISOTROPIC HYPERELASTIC (calinput.f: 'card image cannot be "
                        "interpreted'); use the compiled UMAT for HGO")
        raise
    P11, F = card_result(res)
    ref = driver.predict(mat, mode, lam[1:]).numpy()
    entry = {"error": rel(P11, ref), "changes": changes}
    if model == "arruda-boyce":
        # CalculiX (like Abaqus) uses the 5-term series; check the card against the series energy
        # (central differences at CalculiX's own F) and the series against our exact model
        kw, vals, _ = abaqus_parameters(mat)
        h = 1e-6
        dW = [(abaqus_energy(kw, vals, Fk + h * np.diag([1.0, 0, 0]))
               - abaqus_energy(kw, vals, Fk - h * np.diag([1.0, 0, 0]))) / (2 * h) for Fk in F]
        entry["error vs series"] = rel(P11, np.array(dW))
        assert entry["error vs series"] < 1e-6 and entry["error"] < 1e-4
    else:
        assert entry["error"] < TOL_POINT
    if changes:  # the card as written does not run correctly in CalculiX
        try:
            raw = run(f"card_{tag}_{mode}_as_written", card_deck(card, mode)[0])
            entry["as written"] = rel(card_result(raw)[0], ref)
            assert entry["as written"] > 1e-3
        except ccx.CCXError as exc:
            entry["as written"] = f"ccx failed: {str(exc).split(';')[0]}"
    report.setdefault("cards", {})[f"{key} {mode}"] = entry


def test_card_fields_over_20_characters_are_misread_by_calculix(run, report):
    """K = 3e7 gives D1 = 6.666666666666667e-08 (21 characters): CalculiX reads
    '6.666666666666667e-0' (f20.0 of the first 20 characters) without a message."""
    mat = materials.get("neo-hooke-decoupled", mu=1e6, K=3e7)
    card = abaqus_material_card(mat, name="CARD")
    fixed, changes = ccx.calculix_card(card)
    ref = driver.predict(mat, "uniaxial", np.linspace(1.0, 1.6, 7)[1:]).numpy()
    out = {}
    for label, text in (("as written", card), ("20 characters", fixed)):
        res = run(f"card_long_{label.replace(' ', '')}", card_deck(text, "uniaxial")[0])
        out[label] = rel(card_result(res)[0], ref)
    report["card field width"] = {**out, "changes": changes}
    if any(len(f.strip()) > 20 for ln in card.splitlines() if not ln.startswith("*") for f in ln.split(",")):
        assert changes and out["as written"] > 0.1
    assert out["20 characters"] < TOL_POINT


def test_incompressible_card_gets_calculix_default_compressibility(run, report):
    """D1 = 0 (our incompressible variant's card): CalculiX uses D1 = 0.1/mu0 (hyperelastics.f:
    233-276), i.e. our compressible model with K = 2/D1 = 20 mu."""
    mu = 1e6
    card = abaqus_material_card(materials.get("neo-hooke-decoupled-incompressible", mu=mu), name="CARD")
    res = run("card_incompressible", card_deck(card, "uniaxial")[0])
    P11, _ = card_result(res)
    lam = np.linspace(1.0, 1.6, 7)[1:]
    ref = driver.predict(materials.get("neo-hooke-decoupled", mu=mu, K=20 * mu), "uniaxial", lam).numpy()
    report["card incompressible"] = rel(P11, ref)
    assert "default value was" in res.stdout and rel(P11, ref) < TOL_POINT


# ----------------------------------------------------------------------------- the documented deck
def test_documented_example_deck(exe, tmp_path, report):
    """tools/calculix/examples/umat_uniaxial.inp (quoted in docs/calculix.md), with the library
    made as the docs say, gives the driver's uniaxial nominal stress."""
    deck = (Path(ccx.__file__).parent / "examples" / "umat_uniaxial.inp").read_text()
    assert cli(["compile", "neo-hooke-decoupled", "--name", "NH", "--output", str(tmp_path / "lib"),
                "--option", "volumetric=J-1"]) == 0
    res = ccx.run_deck(deck, tmp_path, jobname="umat_uniaxial", ccx=exe, lib_dirs=[tmp_path / "lib"])
    RF = res.read_frd().field("RF", 8)
    P11 = RF[:, ccx.CUBE_NODES[:, 0] == 1.0, 0].sum(1)
    ref = driver.predict(materials.get("neo-hooke-decoupled", mu=1e6, K=1e7), "uniaxial",
                         np.linspace(1.05, 1.5, 10)).numpy()
    report["example deck"] = rel(P11, ref)
    assert rel(P11, ref) < TOL_POINT
    _, _, tot = res.read_dat().get("RF", "X1", total=True)  # the 7 printed digits agree too
    assert rel(tot[:, 0], ref) < 1e-6
