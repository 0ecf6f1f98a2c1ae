"""FE driver verification: patch test, material-point agreement, consistent tangents (central
differences of the residual), quadratic Newton convergence, load-step cutback."""

import numpy as np
import pytest
import torch
from scipy.optimize import brentq

import materials
from constitutive.fem import ConvergenceError, Problem, box, distort
from constitutive.fem.newton import solve

NEO = dict(mu=1.0, lmbda=10.0)
CASES = [("hexahedron", "displacement"), ("hexahedron", "fbar"), ("tetra", "displacement"),
         ("tetra10", "displacement")]


def neo():
    return materials.get("neo-hooke", **NEO)


def ogden():
    return materials.get("ogden", mu=[0.63, 0.0012, -0.01], alpha=[1.3, 5.0, -2.0], K=5.0)


@pytest.mark.parametrize("cell_type,formulation", CASES)
def test_patch_test_homogeneous_deformation_reproduced(cell_type, formulation):
    F0 = np.array([[1.25, 0.10, -0.05], [0.05, 0.90, 0.10], [-0.08, 0.04, 1.10]])
    mesh = distort(box((2, 2, 2), (1.0, 1.2, 0.8), cell_type=cell_type), 0.25, seed=7)
    prob = Problem(mesh, neo(), formulation)
    faces, _ = mesh.boundary_faces()
    boundary = np.unique(faces)
    prob.displace(boundary, lambda X, t: t * X @ (F0 - np.eye(3)).T)
    res = solve(prob, steps=2, rtol=1e-13, atol=1e-14)
    exact = mesh.points @ (F0 - np.eye(3)).T
    interior = np.setdiff1d(np.arange(mesh.npoints), boundary)
    assert len(interior) > 0
    err = np.abs(res.u[interior] - exact[interior]).max()
    assert err < 1e-11, err
    # stress is the homogeneous one at every quadrature point
    state = prob.linearize(res.u.reshape(-1), 1.0, tangent=False)
    P0 = neo().pk1(torch.tensor(F0, dtype=torch.float64))
    assert float((state.P - P0).abs().max()) < 1e-10


def uniaxial_reference(mat, stretch):
    """P11 of homogeneous uniaxial tension with P22 = P33 = 0 (isotropic material)."""
    def p22(lt):
        return float(mat.pk1(torch.diag(torch.tensor([stretch, lt, lt], dtype=torch.float64)))[1, 1])
    lt = brentq(p22, 0.2, 2.0, xtol=1e-15, rtol=1e-15)
    return float(mat.pk1(torch.diag(torch.tensor([stretch, lt, lt], dtype=torch.float64)))[0, 0]), lt


def uniaxial_problem(mat, n, cell_type="hexahedron", formulation="displacement", size=(2.0, 1.0, 1.0)):
    mesh = box(n, size, cell_type=cell_type)
    if n != 1:
        mesh = distort(mesh, 0.2, seed=1)
    prob = Problem(mesh, mat, formulation)
    prob.fix("xmin", 0)
    prob.fix("ymin", 1)
    prob.fix("zmin", 2)
    return prob


@pytest.mark.parametrize("material,n,cell_type,formulation", [
    ("neo-hooke", 1, "hexahedron", "displacement"),
    ("neo-hooke", (3, 2, 2), "hexahedron", "displacement"),
    ("neo-hooke", (3, 2, 2), "hexahedron", "fbar"),
    ("neo-hooke", (2, 1, 1), "tetra10", "displacement"),
    ("ogden", 1, "hexahedron", "displacement"),
    ("ogden", (2, 2, 1), "hexahedron", "fbar"),
    ("ogden", (2, 1, 1), "tetra", "displacement"),
])
def test_uniaxial_block_matches_material_point(material, n, cell_type, formulation):
    mat = neo() if material == "neo-hooke" else ogden()
    stretch, L, A0 = 1.6, 2.0, 1.0
    prob = uniaxial_problem(mat, n, cell_type, formulation)
    prob.displace("xmax", (stretch - 1.0) * L, components=0)
    res = solve(prob, steps=3, rtol=1e-12)
    P11, lt = uniaxial_reference(mat, stretch)
    assert res.reaction("xmax")[-1] == pytest.approx(P11 * A0, rel=1e-9)
    # the lateral contraction is the material-point one everywhere
    ymax = prob.mesh.point_sets["ymax"]
    np.testing.assert_allclose(res.u[ymax, 1], (lt - 1.0) * 1.0, rtol=1e-9)
    # intermediate steps too (force-displacement curve)
    for s in res.steps[:-1] if material == "neo-hooke" else []:
        lam = 1.0 + s.displacements["xmax"][0] / L
        assert s.reactions["xmax"][0] == pytest.approx(uniaxial_reference(mat, lam)[0], rel=1e-8)


def fd_tangent_error(prob, u, t=1.0, h=1e-6):
    prob.setup()
    K = prob.linearize(u, t).K.toarray()
    free = prob.free
    Kfd = np.zeros_like(K)
    for j, d in enumerate(free):
        up, um = u.copy(), u.copy()
        up[d] += h
        um[d] -= h
        Kfd[:, j] = (prob.linearize(up, t, False).R[free] - prob.linearize(um, t, False).R[free]) / (2 * h)
    return np.abs(K - Kfd).max() / np.abs(K).max()


@pytest.mark.parametrize("cell_type,formulation", CASES)
def test_tangent_is_derivative_of_residual(cell_type, formulation, rng):
    mesh = distort(box((2, 1, 1), cell_type=cell_type), 0.2, seed=2)
    prob = Problem(mesh, materials.get("neo-hooke", mu=1.0, lmbda=50.0), formulation)
    prob.fix("xmin")
    prob.pressure("xmax", 0.4)          # follower load stiffness (nonsymmetric)
    prob.traction("ymax", [0.1, -0.2, 0.05])
    prob.body_force([0.0, 0.0, -0.3])
    u = 0.02 * rng.standard_normal(prob.ndof)
    u += (mesh.points * [0.2, -0.1, 0.05]).reshape(-1)
    assert fd_tangent_error(prob, u) < 1e-7


def test_fbar_tangent_symmetric_without_follower_loads(rng):
    prob = Problem(distort(box(2), 0.2, seed=4), materials.get("neo-hooke", mu=1.0, lmbda=200.0), "fbar")
    prob.fix("xmin")
    u = 0.05 * rng.standard_normal(prob.ndof)
    K = prob.linearize(u, 1.0).K
    assert abs(K - K.T).max() < 1e-12 * abs(K).max()


def newton_rates(residuals, floor):
    """Log-ratios ``log(r_k+1 / r_k) / log(r_k / r_k-1)`` of residuals above ``floor``."""
    r = [x for x in residuals if x > floor]
    return [np.log(r[k + 1] / r[k]) / np.log(r[k] / r[k - 1]) for k in range(1, len(r) - 1)]


@pytest.mark.parametrize("cell_type,formulation,steps", [("tetra10", "displacement", 3),
                                                         ("hexahedron", "fbar", 2)])
def test_newton_converges_quadratically(cell_type, formulation, steps):
    mesh = box((2, 2, 2), cell_type=cell_type)
    prob = Problem(mesh, materials.get("neo-hooke", mu=1.0, lmbda=20.0), formulation)
    prob.fix("zmin")

    def top(X, t):  # shear, stretch and twist the top face: large deformation
        c = X - [0.5, 0.5, 1.0]
        a = 0.6 * t
        R = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        return c @ R.T - c + t * np.array([0.3, 0.0, 0.2])

    prob.displace("zmax", top)
    # no predictor: start far from the solution so that several iterations are observed
    res = solve(prob, steps=steps, rtol=1e-14, atol=0.0, max_iter=30, predictor=False)
    step = res.steps[-1]
    assert step.iterations >= 4
    # residuals above round-off; the log-ratio alternates around 2 (the constant of the
    # quadratic bound varies), so take the geometric mean of the last two (a two-iteration ratio)
    rates = newton_rates(step.residuals, floor=1e-13 * step.residuals[0])
    assert len(rates) >= 2
    assert np.sqrt(rates[-1] * rates[-2]) >= 1.8, (step.residuals, rates)
    assert step.residuals[-1] < 1e-13 * step.residuals[0]


def test_cutback_on_inversion_and_clear_error_at_min_step():
    mat = neo()
    prob = Problem(box((2, 1, 1), (2.0, 1.0, 1.0)), mat)
    prob.fix("xmin")
    prob.displace("xmax", [-1.2, 0.0, 0.0])  # 60 % compression in one step inverts the mesh
    res = solve(prob, steps=1, max_iter=12, predictor=False)
    assert res.steps[0].cutbacks >= 1 and res.load_factors[-1] == 1.0
    prob2 = Problem(box((2, 1, 1), (2.0, 1.0, 1.0)), mat)
    prob2.fix("xmin")
    prob2.displace("xmax", [-2.5, 0.0, 0.0])  # pushes the end face through the clamped one
    with pytest.raises(ConvergenceError, match="min_step"):
        solve(prob2, steps=1, min_step=0.05)


def test_problem_rejects_bad_input():
    mesh = box(1)
    with pytest.raises(TypeError, match="mesh"):
        Problem("mesh", neo())
    with pytest.raises(ValueError, match="formulation"):
        Problem(mesh, neo(), "mixed-up")
    with pytest.raises(ValueError, match="fbar"):
        Problem(box(1, cell_type="tetra"), neo(), "fbar")
    with pytest.raises(ValueError, match="incompressible"):
        Problem(mesh, materials.get("neo-hooke-incompressible", mu=1.0))
    prob = Problem(mesh, neo())
    with pytest.raises(ValueError, match="components"):
        prob.displace("xmin", 0.0, components=(0, 3))
    with pytest.raises(ValueError, match="steps"):
        solve(prob, steps=0)
