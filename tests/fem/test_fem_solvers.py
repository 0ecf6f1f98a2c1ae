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
