"""Model discovery (constitutive.calibration.discovery): the design matrix is the exact Jacobian,
the best-subset search is exact, the Lp path is debiased, the criteria follow their formulas,
known sparse models are recovered from noisy synthetic data (fixed seeds), fibre terms and the
ICNN fit, files and the CLI."""

import itertools
import json
import math

import numpy as np
import pytest
import torch
from scipy.optimize import nnls

import materials
from constitutive.calibration import load_experiments
from constitutive.calibration.discovery import Library, discover, split_experiments
from constitutive.calibration.discovery.features import build_material, design_matrix, problem
from constitutive.calibration.discovery.icnn import fit_icnn
from constitutive.calibration.discovery.library import Candidate, get_library
from constitutive.calibration.discovery.select import choose, information_criteria
from constitutive.calibration.discovery.subsets import best_subsets, lp_path
from constitutive.calibration.discovery.synthetic import synthetic_experiments
from constitutive.calibration.experiments import Experiment, write_experiments
from constitutive.calibration.params import ParameterSpace
from constitutive.checks import run_all_checks

DATA = "data/treloar.h5"
SMALL = Library("small", (("I1", "lin"), ("I1", "exp"), ("I1", "log"), ("I1", "exp2"), ("I2", "lin"), ("I2", "exp")))
TRUTH = dict(terms="I1:lin+I2:lin+I1:exp", w=[0.15, 0.02, 0.01], b=[1.0, 1.0, 0.05])


@pytest.fixture(scope="module")
def treloar():
    return load_experiments(DATA)


def test_design_matrix_is_the_exact_jacobian(treloar):
    """r(w) = A w - y at another w (linear in w), and A equals central differences of r."""
    cands = [Candidate(("I1", "lin"), 1.0), Candidate(("I1", "exp"), 0.03), Candidate(("I2", "exp2"), 1e-5),
             Candidate(("L", "ogden"), 3.0)]
    d = design_matrix(cands, treloar)
    assert d.linear and d.linear_error < 1e-8
    mat = build_material(cands, [0.2, 0.01, 0.001, 0.05])
    space = ParameterSpace(mat, free=[f"w[{j}]" for j in range(4)])
    prob = problem(space, treloar, "r2")
    x = space.x0()
    np.testing.assert_allclose(prob.residuals(x), d.A @ x - d.y, atol=1e-9)
    h = 1e-6
    for j in range(4):
        e = np.zeros(4)
        e[j] = h
        fd = (prob.residuals(x + e) - prob.residuals(x - e)) / (2 * h)
        assert np.abs(fd - d.A[:, j]).max() <= 1e-6 * np.abs(d.A[:, j]).max()
    # r2 weighting: the cost of the data alone is sum (1 - R^2) / 2
    r = prob.residuals(x)
    r2 = [1 - float(r[s] @ r[s]) for s in d.rows]
    for e, v in zip(treloar, r2, strict=True):
        pred = (d.A[d.rows[treloar.index(e)]] @ x - d.y[d.rows[treloar.index(e)]]) / d.scale[d.rows[treloar.index(e)]]
        assert 1 - float(pred @ pred) / float(((e.stress - e.stress.mean()) ** 2).sum()) == pytest.approx(v)


def test_inner_exponent_jacobian_matches_finite_differences(treloar):
    """The exact Jacobian with respect to b (exp, exp2, log, ogden) against central differences."""
    mat = materials.get("discovered-incompressible", terms="I1:exp+I2:exp2+I1:log+ogden",
                        w=[0.05, 0.001, 0.05, 0.2], b=[0.03, 1e-5, 0.012, 1.7])
    space = ParameterSpace(mat, free=["b", "w"], fixed=["a"])
    prob = problem(space, treloar, "relative")
    x = space.x0()
    J = prob.residual_jacobian(x)
    for j in range(x.size):
        h = 1e-6 * max(abs(x[j]), 1e-3)
        e = np.zeros(x.size)
        e[j] = h
        fd = (prob.residuals(x + e) - prob.residuals(x - e)) / (2 * h)
        assert np.abs(fd - J[:, j]).max() <= 1e-5 * max(np.abs(J[:, j]).max(), 1e-12), space.labels[j]


def test_best_subsets_equal_brute_force():
    rng = np.random.default_rng(0)
    A = np.abs(rng.standard_normal((40, 9)))
    groups = [0, 0, 1, 2, 2, 3, 4, 5, 5]
    y = A[:, [1, 5, 7]] @ np.array([1.0, 0.5, 2.0]) + 0.05 * rng.standard_normal(40)
    stiff = [True] * 9
    found = best_subsets(A, y, groups, stiff, 3, keep=1)
    for k in (1, 2, 3):
        best = math.inf
        for cols in itertools.combinations(range(9), k):
            if len({groups[c] for c in cols}) < k:
                continue
            w, rn = nnls(A[:, cols], y)
            if (w > 0).all():
                best = min(best, rn * rn)
        assert found[k][0].rss == pytest.approx(best, rel=1e-9)
    assert sorted(found[3][0].cols) == [1, 5, 7]
    only = best_subsets(A, y, groups, [False] * 8 + [True], 2, keep=1)
    assert all(8 in s.cols for s in only[1] + only[2])  # a support needs a stiff column


@pytest.mark.parametrize("p", [1.0, 0.5])
def test_lp_path_is_debiased_and_grows(p):
    rng = np.random.default_rng(1)
    A = np.abs(rng.standard_normal((30, 6)))
    y = A[:, [0, 3]] @ np.array([1.0, 0.3]) + 0.01 * rng.standard_normal(30)
    path = lp_path(A, y, p=p)
    assert len(path[0].cols) == 1 and path[0].rss < float(y @ y)
    for s in path:
        w, rn = nnls(A[:, list(s.cols)], y)
        assert s.rss == pytest.approx(rn * rn, rel=1e-10)
    if p == 1.0:  # the lasso path ends at the non-negative least-squares fit
        assert min(s.rss for s in path) == pytest.approx(nnls(A, y)[1] ** 2, rel=1e-6)
    assert any(sorted(s.cols) == [0, 3] for s in path)


def test_information_criteria_and_parsimony():
    ic = information_criteria(2.0, 50, 3)
    assert ic["bic"] == pytest.approx(50 * math.log(2 / 50) + 3 * math.log(50))
    assert ic["aicc"] == pytest.approx(50 * math.log(2 / 50) + 6 + 24 / 46)
    assert choose([-100.0, -110.0, -111.5], [1, 2, 3], "bic") == 1  # within 2: fewer terms
    assert choose([-100.0, -110.0, -113.0], [1, 2, 3], "bic") == 2
    with pytest.raises(ValueError, match="criterion"):
        choose([1.0], [1], "r2")


def test_split_experiments(treloar):
    tr, te = split_experiments(treloar, "ET")
    assert [e.name for e in tr] == ["equibiaxial"] and len(te) == 2
    tr, te = split_experiments(treloar, ["uniaxial", "pure_*"])
    assert [e.name for e in tr] == ["uniaxial", "pure_shear"]
    with pytest.raises(ValueError, match="matches no experiment"):
        split_experiments(treloar, "SS")


@pytest.mark.parametrize("seed", [3, 17])
def test_recovers_mooney_rivlin_plus_exponential(treloar, seed):
    """1 % relative noise: the support {I1:lin, I2:lin, I1:exp} is found, weights within 3 std errors."""
    truth = materials.get("discovered-incompressible", **TRUTH)
    exps = synthetic_experiments(truth, treloar, noise=0.01, seed=seed)
    res = discover(exps, library_name=SMALL, max_terms=3, residual="relative", lp=None)
    best = res.best
    assert set(best.terms) == {"I1:lin", "I2:lin", "I1:exp"}
    true_w = {"I1:lin": 0.15, "I2:lin": 0.02, "I1:exp": 0.01}
    for i, t in enumerate(best.terms):
        assert abs(best.w[i] - true_w[t]) <= 3 * best.std_errors[f"w[{i}]"], (t, best.w[i])
    j = best.terms.index("I1:exp")
    assert abs(best.b[j] - 0.05) <= 3 * best.std_errors[f"b[{j}]"]
    assert res.stable and all(r.passed for r in run_all_checks(res.material, n=4))


def test_recovers_a_fibre_model_without_noise():
    """Transversely isotropic truth I1:lin + I4:exp2 (fibres along e1): uniaxial along the fibre and
    planar biaxial data; the exact support and weights come back (noise-free)."""
    truth = materials.get("discovered-incompressible", terms="I1:lin+I4:exp2", w=[0.1, 0.3], b=[1.0, 2.0])
    lam = np.linspace(1.02, 1.4, 8)
    templates = [Experiment("uniaxial_fibre", "uniaxial", np.zeros(8), stretch=lam),
                 Experiment("biaxial_cross", "biaxial", np.zeros((8, 2)), stretch=np.stack([np.ones(8), lam], -1)),
                 Experiment("biaxial_along", "biaxial", np.zeros((8, 2)), stretch=np.stack([lam, np.ones(8)], -1))]
    exps = synthetic_experiments(truth, templates, noise=0.0)
    lib = Library("fibre", (("I1", "lin"), ("I2", "lin"), ("I4", "sq"), ("I4", "exp2"), ("J5", "sq")))
    res = discover(exps, library_name=get_library(lib, fibre=[1.0, 0.0, 0.0]), max_terms=2, lp=None,
                   stability=False)
    assert res.linear
    assert res.best.terms == ["I1:lin", "I4:exp2"]
    np.testing.assert_allclose(res.best.w, [0.1, 0.3], rtol=1e-5)
    assert res.best.b[1] == pytest.approx(2.0, rel=1e-4)


def test_icnn_fit_is_polyconvex_and_accurate(treloar):
    truth = materials.get("discovered-incompressible", **TRUTH)
    exps = synthetic_experiments(truth, treloar[1:], noise=0.0)  # equibiaxial and pure shear
    res = fit_icnn(exps, layers="2", n_starts=1, max_nfev=80)
    assert min(res.r2.values()) > 0.995
    mat = res.material
    assert mat.name == "icnn-incompressible" and res.stable
    x = torch.rand(20, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 40
    from materials.discovered import icnn_psi

    for xi in x:
        H = torch.autograd.functional.hessian(lambda z: icnn_psi(z, mat.theta, mat.layers), xi)
        assert float(torch.linalg.eigvalsh(H).min()) >= -1e-10
    lbfgs = fit_icnn(exps, layers="2", n_starts=1, max_nfev=150, method="lbfgs", stability=False)
    assert min(lbfgs.r2.values()) > 0.99 and lbfgs.method == "icnn-lbfgs"


def test_files_and_cli(tmp_path, capsys):
    from constitutive.cli import main

    truth = materials.get("discovered-incompressible", terms="I1:lin+I1:exp", w=[0.15, 0.01], b=[1.0, 0.05])
    exps = synthetic_experiments(truth, load_experiments(DATA), noise=0.0)
    write_experiments(tmp_path / "syn.h5", exps)
    out, h5, png = tmp_path / "disc.json", tmp_path / "disc.h5", tmp_path / "path.png"
    assert main(["discover", str(tmp_path / "syn.h5"), "--library", "cann", "--max-terms", "2", "--train", "UT,ET",
                 "-o", str(out), "--hdf5", str(h5), "--plot", str(png), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "R^2 of the selected model" in text and f"constitutive compile --fit {out}" in text
    d = json.loads(out.read_text())
    assert d["format"] == "constitutive-discovery" and d["test"] == ["pure_shear"]
    a, b = materials.discovered.from_file(out), materials.discovered.from_file(h5)
    assert a.parameter_values() == b.parameter_values() and a.terms == b.terms == "I1:lin+I1:exp"
    np.testing.assert_allclose(a.parameter_values()["w"], [0.15, 0.01], rtol=1e-6)
    assert d["r2"]["pure_shear"] > 0.999999 and png.stat().st_size > 10_000
    check = next(line for line in text.splitlines() if line.startswith("check:")).split()[2:]
    assert check == ["check", "--fit", str(out)]
    assert main(check) == 0 and "0 failed" in capsys.readouterr().out  # constitutive check on the fit file
    long_form = discover(exps, library_name="cann", max_terms=2, lp=None, stability=False).check_command()
    assert main(long_form.split()[1:]) == 0 and "0 failed" in capsys.readouterr().out


def test_cross_validation_across_modes(treloar):
    """criterion="cv": each mode held out in turn; noise-free data of a model in the library give
    held-out R^2 of 1 for the true support, and the true support is chosen."""
    truth = materials.get("discovered-incompressible", terms="I1:lin+I1:exp", w=[0.15, 0.01], b=[1.0, 0.05])
    exps = synthetic_experiments(truth, treloar, noise=0.0)
    lib = Library("cv", (("I1", "lin"), ("I1", "exp"), ("I2", "lin")))
    res = discover(exps, library_name=lib, max_terms=2, criterion="cv", lp=None, stability=False)
    assert res.best.terms == ["I1:lin", "I1:exp"]
    assert set(res.best.cv_heldout) == {"uniaxial", "equibiaxial", "pure_shear"}
    assert min(res.best.cv_heldout.values()) > 1 - 1e-8
    assert res.path[0].criteria["cv"] > res.best.criteria["cv"]
