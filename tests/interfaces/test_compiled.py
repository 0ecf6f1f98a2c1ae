"""Compiled material libraries (constitutive compile) against the engine, through the torch-free
loader: every registered model, both UMAT conventions, the batched C API, bad states, threads,
the header, and imports without torch."""

import json
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.linalg
import torch

import materials
from constitutive import kinematics as kin
from constitutive.interfaces.abaqus_umat import ddsdde_abaqus, props_from_material
from constitutive.interfaces.compiled import CompiledMaterial, compile_material
from constitutive.native import compiler

pytestmark = pytest.mark.skipif(compiler() is None, reason="no C compiler")
ABQ = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]
MODELS = materials.available()


def _lib_name(model: str) -> str:
    return "".join(ch for ch in model.title() if ch.isalnum())[:28]


@pytest.fixture(scope="session")
def libraries(tmp_path_factory):
    """One library per registered model (compiled two at a time), plus the abaqus-convention ones."""
    out = tmp_path_factory.mktemp("compiled")

    def build(job):
        model, conv = job
        return job, compile_material(model, _lib_name(model) + conv[0].upper(), out, convention=conv)

    jobs = [(m, "calculix") for m in MODELS] + [(m, "abaqus") for m in ("neo-hooke", "holzapfel-gasser-ogden")]
    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(build, jobs))


def _states(n=24, seed=0, amplitude=0.35):
    g = torch.Generator().manual_seed(seed)
    F = torch.eye(3) + amplitude * torch.randn(n, 3, 3, generator=g)
    F = F[torch.linalg.det(F) > 0.2]
    F = torch.cat([F, torch.eye(3)[None], torch.diag(torch.tensor([1.4, 1.4, 0.6]))[None]])  # coincident stretches
    return F


def _material(model):
    return materials.get(model)


def _rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


@pytest.mark.parametrize("model", MODELS)
def test_library_equals_engine(libraries, model):
    """P, dP/dF, W, Mandel s and D from the C library equal eager autograd to 1e-12 (relative)."""
    mat = _material(model)
    lib = CompiledMaterial(libraries[(model, "calculix")].description, **mat.parameter_values())
    F = _states()
    if mat.incompressible:  # the isochoric energies are defined on det F = 1 states too
        F = F / torch.linalg.det(F)[:, None, None] ** (1 / 3)
    P0, A0 = mat.pk1_tangent(F, fast=False)
    P, A = lib.pk1_tangent(F.numpy())
    assert _rel(P, P0.numpy()) < 1e-12 and _rel(A, A0.numpy()) < 1e-12
    e = kin.strain_mandel_from_F(F)
    s0, D0 = mat.stress_tangent_mandel(e, fast=False)
    W, s, D = lib.stress_tangent_mandel(e.numpy())
    assert _rel(s, s0.numpy()) < 1e-12 and _rel(D, D0.numpy()) < 1e-12
    assert _rel(W, mat.energy_mandel(e).numpy()) < 1e-12
    np.testing.assert_array_equal(lib.props, props_from_material(mat))


def _corotational(mat, F):
    """CalculiX's ABAQUSNL convention written independently: s = U S U / J, DDSDDE = UUUU:CC."""
    S, CC = (t.numpy() for t in mat.pk2_tangent(torch.as_tensor(F)))
    U = scipy.linalg.sqrtm(F.T @ F).real
    s = U @ S @ U / np.linalg.det(F)
    T = np.einsum("ia,jb,kc,ld,abcd->ijkl", U, U, U, U, CC)
    return np.array([s[i, j] for i, j in ABQ]), np.array([[T[i, j, k, l] for k, l in ABQ] for i, j in ABQ])


@pytest.mark.parametrize("model", ["neo-hooke", "holzapfel-gasser-ogden", "ogden", "mooney-rivlin"])
def test_umat_calculix_convention(libraries, model):
    mat = _material(model)
    lib = CompiledMaterial(libraries[(model, "calculix")].description, **mat.parameter_values())
    for F in _states(8, seed=1).numpy():
        r = lib.umat(F)
        st, D = _corotational(mat, F)
        assert _rel(r["STRESS"], st) < 1e-12 and _rel(r["DDSDDE"], D) < 1e-12
        assert r["PNEWDT"] == 1.0  # untouched on a good state
        assert r["SSE"] == pytest.approx(float(mat.energy_mandel(kin.strain_mandel_from_F(torch.as_tensor(F)))),
                                         rel=1e-13)


@pytest.mark.parametrize("model", ["neo-hooke", "holzapfel-gasser-ogden"])
def test_umat_abaqus_convention_equals_python_umat(libraries, model):
    mat = _material(model)
    lib = CompiledMaterial(libraries[(model, "abaqus")].description, **mat.parameter_values())
    for F in _states(8, seed=2).numpy():
        r = lib.umat(F)
        st, D = (t.numpy() for t in ddsdde_abaqus(mat, torch.as_tensor(F)))
        assert _rel(r["STRESS"], st) < 1e-12 and _rel(r["DDSDDE"], D) < 1e-12
        r4 = lib.umat(np.diag([1.3, 0.8, 1.0]) + np.array([[0, 0.2, 0], [0.1, 0, 0], [0, 0, 0]]), ntens=4)
        st6, D6 = (t.numpy() for t in ddsdde_abaqus(mat, torch.as_tensor(
            np.diag([1.3, 0.8, 1.0]) + np.array([[0, 0.2, 0], [0.1, 0, 0], [0, 0, 0]]))))
        assert _rel(r4["STRESS"], st6[:4]) < 1e-12 and _rel(r4["DDSDDE"], D6[:4, :4]) < 1e-12


def test_bad_states_request_a_cutback_and_leave_stress_unchanged(libraries):
    nh = CompiledMaterial(libraries[("neo-hooke", "calculix")].description, mu=1.0, lmbda=10.0)
    for F in (-np.eye(3), np.full((3, 3), np.nan), np.diag([1.0, 1.0, 0.0]), np.eye(3) * 1e155):
        r = nh.umat(F, pnewdt=-1.0)  # CalculiX passes -1 (NOTES.md §4); any positive value cuts back
        assert 0 < r["PNEWDT"] < 1 and np.isnan(r["STRESS"]).all() and np.isnan(r["DDSDDE"]).all()
    gent = CompiledMaterial(libraries[("gent", "calculix")].description, mu=1.0, Jm=5.0, K=100.0)
    assert gent.umat(np.diag([4.0, 0.5, 0.5]))["PNEWDT"] < 1
    assert gent.umat(np.diag([1.5, 0.9, 0.8]))["PNEWDT"] == 1.0
    bad_props = nh.umat(np.eye(3), props=[1.0, 10.0, 3.0])  # NPROPS does not match the layout
    assert bad_props["PNEWDT"] < 1 and np.isnan(bad_props["STRESS"]).all()


def test_batched_api_reports_status_and_first_bad_point(libraries):
    gent = CompiledMaterial(libraries[("gent", "calculix")].description, mu=1.0, Jm=5.0, K=100.0)
    F = np.tile(np.eye(3), (4, 5, 1, 1))
    F[2, 3] = np.diag([4.0, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"locking limit Jm at point \(2, 3\) .*status 100"):
        gent.pk1_tangent(F)
    F[1, 1] = -np.eye(3)
    with pytest.raises(ValueError, match=r"F: inadmissible deformation .* at point \(1, 1\)"):
        gent.pk1_tangent(F)
    F[0, 2, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"F: non-finite input at point \(0, 2\)"):
        gent.pk1_tangent(F)
    e = np.zeros((3, 6))
    e[1, 0] = -0.6  # C11 = 1 + 2 E11 < 0
    with pytest.raises(ValueError, match=r"e: inadmissible deformation .* at point \(1,\)"):
        gent.stress_tangent_mandel(e)


def test_loader_validates_parameters_and_arguments(libraries):
    desc = libraries[("ogden", "calculix")].description
    info = json.loads(desc.read_text())
    n = info["terms"]
    good = {"mu": [1.0] * n, "alpha": [2.0] * n, "K": 100.0}
    with pytest.raises(ValueError, match="'K'.*outside its bounds"):
        CompiledMaterial(desc, **{**good, "K": -1.0})
    with pytest.raises(ValueError, match=f"'mu': expected {n} value"):
        CompiledMaterial(desc, **{**good, "mu": [1.0] * (n + 1)})
    with pytest.raises(TypeError, match="missing parameter 'K'"):
        CompiledMaterial(desc, mu=good["mu"], alpha=good["alpha"])
    with pytest.raises(ValueError, match="PROPS\\[0\\] = N"):
        CompiledMaterial(desc, props=[n + 1] + good["mu"] + good["alpha"] + [100.0])
    m = CompiledMaterial(desc, props=[n] + good["mu"] + good["alpha"] + [100.0])
    with pytest.raises(ValueError, match="F: expected shape"):
        m.pk1_tangent(np.eye(4))


def test_compile_refuses_to_overwrite_and_checks_its_arguments(tmp_path):
    compile_material("neo-hooke", "nhx", tmp_path)
    with pytest.raises(FileExistsError, match="--force"):
        compile_material("neo-hooke", "nhx", tmp_path)
    compile_material("neo-hooke", "nhx", tmp_path, overwrite=True)
    with pytest.raises(ValueError, match="name"):
        compile_material("neo-hooke", "nh_x", tmp_path)  # CalculiX splits library names at '_'
    with pytest.raises(ValueError, match="convention"):
        compile_material("neo-hooke", "nhy", tmp_path, convention="ansys")
    with pytest.raises(KeyError, match="unknown material model"):
        compile_material("neo-hookean", "nhz", tmp_path)
    with pytest.raises(ValueError, match="terms"):
        compile_material("neo-hooke", "nhw", tmp_path, terms=3)


def test_threads_share_one_library_safely(libraries):
    """The batched API has no global state: concurrent calls give the serial results."""
    mat = _material("ogden")
    lib = CompiledMaterial(libraries[("ogden", "calculix")].description, **mat.parameter_values())
    chunks = [_states(400, seed=s, amplitude=0.2).numpy() for s in range(4)]
    serial = [lib.pk1_tangent(F) for F in chunks]
    results = [None] * 4
    barrier = threading.Barrier(4)

    def work(k):
        barrier.wait()
        results[k] = lib.pk1_tangent(chunks[k])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (P, A), (P0, A0) in zip(results, serial, strict=True):
        np.testing.assert_array_equal(P, P0)
        np.testing.assert_array_equal(A, A0)


def test_header_and_source_are_portable_c99(libraries, tmp_path):
    """NAME.c compiles warning-free as ISO C99; a C program using only NAME.h links and runs."""
    lib = libraries[("neo-hooke", "calculix")]
    cc = compiler()
    r = subprocess.run([cc, "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                        str(lib.source)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "immintrin" not in lib.source.read_text()
    main = tmp_path / "main.c"
    main.write_text(textwrap.dedent(f"""
        #include <stdio.h>
        #include "{lib.header.name}"
        int main(void) {{
            const double p[2] = {{1.0, 10.0}};
            const double F[9] = {{1.1, 0, 0, 0, 1, 0, 0, 0, 1}};
            double P[9], A[81]; int64_t bad;
            int st = {lib.info['name']}_stress_tangent(1, p, F, P, A, &bad);
            printf("%d %.17g\\n", st, P[0]);
            return st;
        }}"""))
    exe = tmp_path / "main"
    r = subprocess.run([cc, "-std=c99", f"-I{lib.header.parent}", str(main), "-o", str(exe),
                        f"-L{lib.library.parent}", f"-l{lib.info['name']}", "-lm"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([str(exe)], capture_output=True, text=True,
                         env={**os.environ, "LD_LIBRARY_PATH": str(lib.library.parent)})
    status, p11 = out.stdout.split()
    P_ref = materials.get("neo-hooke", mu=1.0, lmbda=10.0).pk1(torch.diag(torch.tensor([1.1, 1.0, 1.0])))
    assert status == "0" and float(p11) == pytest.approx(float(P_ref[0, 0]), rel=1e-14)


def test_loader_imports_and_runs_without_torch(libraries):
    desc = libraries[("neo-hooke", "calculix")].description
    code = textwrap.dedent(f"""
        import sys
        sys.modules["torch"] = None  # any import of torch now fails
        import numpy as np
        from constitutive.interfaces.compiled.loader import CompiledMaterial
        m = CompiledMaterial({str(desc)!r}, mu=1.0, lmbda=10.0)
        P, A = m.pk1_tangent(np.eye(3)[None] * 1.1)
        print(P[0, 0, 0])
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    P_ref = materials.get("neo-hooke", mu=1.0, lmbda=10.0).pk1(1.1 * torch.eye(3))
    assert float(r.stdout) == pytest.approx(float(P_ref[0, 0]), rel=1e-14)


def test_cli_compiles_a_user_model_file(tmp_path):
    src = tmp_path / "rubber.py"
    src.write_text(textwrap.dedent("""
        from constitutive import Hyperelastic, param
        from constitutive.invariants import isochoric_I1, volume_ratio

        class MyRubber(Hyperelastic):
            c10: float = param(0.5, bounds=(0, None), unit="stress")
            c20: float = param(0.01, unit="stress")
            kappa: float = param(100.0, bounds=(0, None), unit="stress")

            def energy(self, E):
                I1b, J = isochoric_I1(E), volume_ratio(E)
                return self.c10 * (I1b - 3) + self.c20 * (I1b - 3) ** 2 + self.kappa / 2 * (J - 1) ** 2
    """))
    from constitutive.cli import main

    assert main(["compile", f"{src}:MyRubber", "--name", "MYRUBBER", "--output", str(tmp_path / "lib")]) == 0
    lib = CompiledMaterial(tmp_path / "lib" / "MYRUBBER.json", c10=0.4, c20=0.02, kappa=50.0)
    from materials import model_class

    ref = model_class(f"{src}:MyRubber")(c10=0.4, c20=0.02, kappa=50.0)
    F = _states(6, seed=3)
    P0, A0 = ref.pk1_tangent(F, fast=False)
    P, A = lib.pk1_tangent(F.numpy())
    assert _rel(P, P0.numpy()) < 1e-12 and _rel(A, A0.numpy()) < 1e-12
    assert main(["compile", f"{src}:NoSuchClass", "--name", "X", "--output", str(tmp_path / "x")]) == 2


def test_cli_compiles_a_state_model_and_says_how_to_declare_it(tmp_path, capsys):
    """A state model through the CLI: the PROPS line keeps every bracket, the STATEV layout and
    CalculiX's *DEPVAR come with it, and the JSON says what STATEV holds before the first
    increment (the virgin state)."""
    from constitutive.cli import main

    out = tmp_path / "lib"
    assert main(["compile", "viscoelastic", "--option", "base=neo-hooke-decoupled", "--terms", "2",
                 "--name", "VISCO", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "PROPS = mu, K, tau[2], beta[2]  (6 values)" in text
    assert "*USER MATERIAL, CONSTANTS=6  *DEPVAR  18" in text
    assert "STATEV = Siso.11," in text and "(18 values, start at zeros)" in text
    info = json.loads((out / "VISCO.json").read_text())
    assert info["state"]["n_state"] == 18 and info["state"]["initial"] == "zeros"
