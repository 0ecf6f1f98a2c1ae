"""Loads of the FE driver against closed forms: follower pressure (hydrostatic compression),
dead traction (uniaxial stress), body force (equilibrium of a column), line search."""

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

import materials
from constitutive.fem import Problem, box
from constitutive.fem.newton import solve


def neo():
    return materials.get("neo-hooke", mu=1.0, lmbda=4.0)


def symmetric_block(cell_type="hexahedron", n=2):
    prob = Problem(box(n, cell_type=cell_type), neo())
    prob.fix("xmin", 0)
    prob.fix("ymin", 1)
    prob.fix("zmin", 2)
    return prob


@pytest.mark.parametrize("cell_type", ["hexahedron", "tetra10"])
def test_follower_pressure_gives_hydrostatic_cauchy_stress(cell_type):
    p = 0.8
    prob = symmetric_block(cell_type)
    for face in ("xmax", "ymax", "zmax"):
        prob.pressure(face, p)
    assert not prob.symmetric
    res = solve(prob, steps=2, rtol=1e-12)
    # closed form: F = lam I with sigma = -p I (the pressure acts on the current area)
    lam = brentq(lambda s: float(neo().cauchy(s * torch.eye(3, dtype=torch.float64))[0, 0]) + p, 0.5, 1.0, xtol=1e-15)
    np.testing.assert_allclose(res.u, (lam - 1.0) * prob.mesh.points, atol=1e-10)


def test_dead_traction_is_nominal_stress():
    t = 0.7
    prob = symmetric_block()
    prob.traction("xmax", [t, 0.0, 0.0])
    res = solve(prob, steps=2, rtol=1e-12)
    lam = 1.0 + res.u[prob.mesh.point_sets["xmax"], 0].mean()
    lt = 1.0 + res.u[prob.mesh.point_sets["ymax"], 1].mean()
    P = neo().pk1(torch.diag(torch.tensor([lam, lt, lt], dtype=torch.float64)))
    assert float(P[0, 0]) == pytest.approx(t, rel=1e-9)  # per unit reference area
    assert abs(float(P[1, 1])) < 1e-9


def test_body_force_is_balanced_by_reactions():
    b = np.array([0.0, 0.0, -0.2])
    size = (1.0, 1.0, 3.0)
    prob = Problem(box((1, 1, 3), size), neo())
    prob.fix("zmin")
    prob.body_force(b)
    res = solve(prob, steps=1, rtol=1e-12)
    np.testing.assert_allclose(res.steps[-1].reactions["zmin"], -b * np.prod(size), atol=1e-10)


def test_line_search_reaches_the_same_solution():
    results = []
    for ls in (False, True):
        prob = symmetric_block(n=(2, 1, 1))
        prob.displace("xmax", 1.0, components=0)
        results.append(solve(prob, steps=1, line_search=ls, predictor=False, rtol=1e-12))
    np.testing.assert_allclose(results[0].u, results[1].u, atol=1e-10)


ANISOTROPIC = {"holzapfel-gasser-ogden", "transversely-isotropic"}


@pytest.mark.parametrize("name", [n for n in materials.available()
                                  if not getattr(materials.model_class(n), "incompressible", False)])
def test_every_compressible_model_runs_through_the_driver(name):
    """Any registered material (default parameters) through ``pk1_tangent``: a one-element
    uniaxial block converges, and for isotropic models the homogeneous state is the material
    point (P11 = reaction force, lateral stresses zero)."""
    from constitutive.fem.examples import uniaxial_block

    mat = materials.get(name)
    out = uniaxial_block(mat, stretch=1.3, n=1, steps=2, rtol=1e-12)
    res, prob_u = out["result"], out["result"].u
    assert res.load_factors[-1] == 1.0
    if name in ANISOTROPIC:
        return
    lam = 1.0 + np.array([prob_u[:, 0].max(), prob_u[:, 1].min(), prob_u[:, 2].min()])
    P = mat.pk1(torch.diag(torch.tensor(lam, dtype=torch.float64)))
    assert float(P[0, 0]) == pytest.approx(out["force"][-1], rel=1e-8)
    assert abs(float(P[1, 1])) < 1e-8 * abs(float(P[0, 0]))
    assert abs(float(P[2, 2])) < 1e-8 * abs(float(P[0, 0]))
