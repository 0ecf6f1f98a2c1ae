"""Every sparse linear solver of the FE driver solves the Newton systems it meets: a direct
check of K x = b (symmetric positive definite and nonsymmetric, with the follower-pressure load
stiffness) and the same nonlinear solve giving the same displacements with each backend.
Backends that are not installed (pypardiso, scikit-sparse, pyamg) are skipped."""

import numpy as np
import pytest
import scipy.sparse as sp

import materials
from constitutive.fem import Problem, box, distort
from constitutive.fem.linsolve import SOLVERS, available, make_solver
from constitutive.fem.newton import solve

BACKEND = {"pardiso": "pardiso", "cholmod": "cholmod", "cg": "amg"}


def installed(name):
    return available(BACKEND.get(name, name))


def solvers(symmetric):
    out = []
    for name in SOLVERS:
        if name == "cholmod" and not symmetric:
            continue
        marks = [] if installed(name) or name == "cg" else [pytest.mark.skip(reason=f"{name} not installed")]
        out.append(pytest.param(name, marks=marks))
    return out


def stiffness_like(n=400, symmetric=True, seed=0):
    """A 1D-Laplacian-plus-random sparse matrix: SPD, or with a nonsymmetric perturbation."""
    rng = np.random.default_rng(seed)
    lap = sp.diags([-np.ones(n - 1), 2.5 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    R = sp.random(n, n, density=0.01, random_state=seed)
    K = lap + 0.1 * (R @ R.T) if symmetric else lap + 0.2 * (R - 0.5 * R.T)
    return sp.csr_matrix(K), rng.standard_normal(n)


@pytest.mark.parametrize("symmetric", [True, False])
def test_each_solver_solves_the_linear_system(symmetric):
    K, b = stiffness_like(symmetric=symmetric)
    ran = 0
    for param in solvers(symmetric):
        name = param.values[0]
        if param.marks:
            continue
        x = make_solver(name, symmetric=symmetric, rtol=1e-12).solve(K, b)
        rel = np.linalg.norm(K @ x - b) / np.linalg.norm(b)
        assert rel < 1e-9, (name, rel)
        ran += 1
    assert ran >= 2  # superlu and cg are always available


@pytest.mark.parametrize("name", solvers(True))
def test_same_nonlinear_solution_with_every_solver(name):
    def run(solver):
        mesh = distort(box((3, 3, 3)), 0.1, seed=2)
        prob = Problem(mesh, materials.get("neo-hooke", mu=1.0, lmbda=10.0))
        prob.fix("xmin")
        prob.displace("xmax", [0.4, 0.05, 0.0])
        return solve(prob, steps=2, rtol=1e-11, linear_solver=solver)

    ref = run("superlu")
    res = run(name)
    assert np.abs(ref.u).max() > 0.35
    np.testing.assert_allclose(res.u, ref.u, rtol=0, atol=1e-8)


def test_unknown_or_missing_solver_is_a_clear_error():
    with pytest.raises(ValueError, match="linear_solver"):
        make_solver("mumps")
    if not installed("pardiso"):
        with pytest.raises(ValueError, match="pypardiso"):
            make_solver("pardiso")


# ---------------------------------------------------------------- AMG-preconditioned CG ("auto")
amg = pytest.mark.skipif(not available("amg"), reason="pyamg not installed")


def _cube(n, move=0.3, material=None):
    prob = Problem(box(n), material or materials.get("neo-hooke", mu=1.0, lmbda=10.0))
    prob.fix("xmin", 0)
    prob.fix("ymin", 1)
    prob.fix("zmin", 2)
    prob.displace("xmax", [move, 0.0, 0.0])
    return prob


def _tangents(n=6):
    """Free-DOF tangents of the cube at the reference and at a stretched state, a residual."""
    prob = _cube(n)
    prob.setup()
    X = prob.mesh.points
    U = np.zeros_like(X)
    U[:, 0], U[:, 1], U[:, 2] = 0.2 * X[:, 0], -0.06 * X[:, 1], -0.06 * X[:, 2]
    s0, s1 = prob.linearize(np.zeros(prob.ndof), 0.0), prob.linearize(U.reshape(-1), 0.5)
    return prob, s0.K, s1.K, s1.R[prob.free]


@amg
def test_amg_cg_solves_fe_tangents_and_reuses_its_setup():
    from constitutive.fem.linsolve import AMGSolver

    prob, K0, K1, b = _tangents()
    solver = AMGSolver(True)
    solver.set_dofs(prob.mesh.points, prob.free)
    for K, rtol in ((K0, 1e-10), (K1, 1e-10), (K1, 1e-4)):
        x = solver.solve(K, b, rtol=rtol)
        assert np.linalg.norm(K @ x - b) <= rtol * np.linalg.norm(b)
    assert solver.setups == 1 and solver.direct_solves == 0  # the first tangent's setup served
    assert solver.iterations[2] < solver.iterations[1]      # a looser tolerance, fewer iterations
    assert solver.name == "cg+amg"


@amg
def test_amg_hands_over_to_the_direct_solver_when_cg_fails():
    from constitutive.fem.linsolve import AMGSolver, SuperLUSolver

    prob, K0, K1, b = _tangents(6)  # above max_coarse: a real hierarchy, CG needs > 1 iteration
    solver = AMGSolver(True, fallback=SuperLUSolver(True), max_iter=1)
    solver.set_dofs(prob.mesh.points, prob.free)
    x = solver.solve(K1, b, rtol=1e-12)
    np.testing.assert_allclose(K1 @ x, b, rtol=0, atol=1e-10 * np.abs(b).max())
    assert solver.direct_only and solver.direct_solves == 1 and solver.setups == 2  # retried once
    solver.solve(K0, b)
    assert solver.direct_solves == 2 and solver.setups == 2 and solver.name == "superlu (after cg+amg)"


@amg
def test_auto_takes_amg_from_the_size_threshold_with_the_same_newton_iterations(monkeypatch):
    """The forcing terms keep the Newton iteration count of the direct solver, and the
    displacements agree to the Newton tolerance."""
    from constitutive.fem import linsolve

    ref = solve(_cube(5), steps=3, linear_solver="superlu")
    monkeypatch.setattr(linsolve, "AMG_MIN_DOFS", 100)
    res = solve(_cube(5), steps=3, linear_solver="auto")
    assert res.linear_solver == "cg+amg"
    assert [s.iterations for s in res.steps] == [s.iterations for s in ref.steps]
    np.testing.assert_allclose(res.u, ref.u, rtol=0, atol=1e-7)
    assert res.timings["solver_setups"] == 1
    monkeypatch.setattr(linsolve, "AMG_MIN_DOFS", 10**9)
    assert solve(_cube(3), steps=1).linear_solver != "cg+amg"


def test_forcing_terms():
    from constitutive.fem.newton import ETA_MAX, _forcing

    ref, rtol, atol = 1.0, 1e-8, 0.0
    assert _forcing(20.0, ref, rtol, atol) == ETA_MAX              # far from the solution: loose
    assert _forcing(1e-1, ref, rtol, atol) == pytest.approx(1e-4)  # proportional to |R| / ref
    assert _forcing(1e-3, ref, rtol, atol) == pytest.approx(1e-6)
    assert _forcing(1e-7, ref, rtol, atol) == pytest.approx(1e-2)  # no tighter than the target needs
    assert _forcing(0.0, ref, rtol, atol) == ETA_MAX
