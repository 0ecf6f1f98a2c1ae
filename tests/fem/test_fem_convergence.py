"""Mesh convergence of the FE driver on pure bending (closed-form linear-elastic solution)
and volumetric locking of the plain hexahedron versus the F-bar formulation."""

import numpy as np
import pytest

import materials
from constitutive.fem import Problem, box
from constitutive.fem.newton import solve

L, H, B, S0 = 4.0, 1.0, 1.0, 1e-4  # beam length, height, width; peak bending stress (<< mu)


def bending_tip_deflection(k, lmbda, cell_type="hexahedron", formulation="displacement"):
    """Beam [0,L]x[0,H]x[0,B] with (4k, k, k) cells under a linearly distributed end traction
    (pure moment); returns u_y at the corner (L, 0, 0)."""
    mesh = box((4 * k, k, k), (L, H, B), cell_type=cell_type)
    prob = Problem(mesh, materials.get("neo-hooke", mu=1.0, lmbda=lmbda), formulation)
    prob.fix("xmin", 0)
    at = lambda x, y, z: lambda X: np.isclose(X[:, 0], x) & np.isclose(X[:, 1], y) & np.isclose(X[:, 2], z)  # noqa: E731
    prob.fix(at(0, 0, 0), (1, 2), name="origin")
    prob.fix(at(0, 0, B), 1, name="origin_z")
    prob.traction("xmax", lambda X, t: t * S0 * np.stack(
        [(X[..., 1] - H / 2) / (H / 2), 0 * X[..., 1], 0 * X[..., 1]], -1))
    res = solve(prob, steps=1, rtol=1e-10)
    return float(res.u[mesh.nodes(at(L, 0, 0)), 1][0])


def exact_deflection(lmbda, mu=1.0):
    """Pure bending of a linear-elastic prism: curvature kappa = M / (E I) = 2 S0 / (E H),
    u_y(L, 0, 0) = -kappa L^2 / 2 (the Poisson term vanishes at the corner of a square section).
    Timoshenko & Goodier, Theory of Elasticity, sec. 102."""
    E = mu * (3 * lmbda + 2 * mu) / (lmbda + mu)
    return -(2 * S0 / (E * H)) * L**2 / 2


def test_bending_hexahedra_converge_at_second_order():
    lmbda = 1.5  # nu = 0.3
    exact = exact_deflection(lmbda)
    err = np.array([abs(bending_tip_deflection(k, lmbda) / exact - 1.0) for k in (1, 2, 4)])
    rates = np.log2(err[:-1] / err[1:])
    assert err[-1] < 0.05
    assert rates[-1] > 1.7, (err, rates)  # O(h^2) for trilinear elements (observed 1.56, 1.85)
    assert rates[-1] > rates[0]  # approaching the asymptotic rate


def test_bending_quadratic_tetrahedra_reproduce_quadratic_solution():
    lmbda = 1.5
    for k in (1, 2):
        u = bending_tip_deflection(k, lmbda, "tetra10")
        # exact in the linear limit; the remainder is geometric nonlinearity O(S0 / mu)
        assert u / exact_deflection(lmbda) == pytest.approx(1.0, abs=1e-4)


def test_fbar_removes_volumetric_locking():
    lmbda = 1e4  # nu = 0.49995
    exact = exact_deflection(lmbda)
    plain = np.array([bending_tip_deflection(k, lmbda) / exact for k in (2, 4)])
    fbar = np.array([bending_tip_deflection(k, lmbda, formulation="fbar") / exact for k in (2, 4)])
    # the plain trilinear element locks: still > 25 % too stiff on the finer mesh
    assert plain[-1] < 0.75, plain
    # the F-bar element converges towards the closed form
    assert abs(fbar[-1] - 1.0) < 0.02, fbar
    assert abs(fbar[-1] - 1.0) < abs(fbar[0] - 1.0)
    # an order of magnitude more accurate than the plain element on the same mesh
    assert abs(fbar[-1] - 1.0) < 0.1 * abs(plain[-1] - 1.0)
