"""State-carrying materials in the FE driver: the state lives at the quadrature points, is committed
only after a converged load step (rolled back on cutback), the time increments come from the load
steps, Newton converges quadratically with the algorithmic tangent (and worse without the
state's dependence), and the output writes the internal variables."""

import json

import numpy as np
import pytest
import torch

import materials
from constitutive.calibration import history as H
from constitutive.fem import Problem, box
from constitutive.fem.errors import ConvergenceError

torch.set_default_dtype(torch.float64)

RAMP = 0.1


@pytest.fixture(scope="module")
def visco():
    return materials.get_state_model("viscoelastic", base="neo-hooke-decoupled", mu=1.0, K=50.0, tau=[0.05, 0.5],
                                     beta=[1.0, 0.5])


def block(material, stretch_of_t, n=2):
    """Unit cube on symmetry planes, x = 1 face displaced: a homogeneous uniaxial stress state."""
    prob = Problem(box(n), material)
    prob.fix("xmin", 0)
    prob.fix("ymin", 1)
    prob.fix("zmin", 2)

    def ux(X, t):
        out = np.zeros_like(X)
        out[:, 0] = (stretch_of_t(t) - 1.0) * X[:, 0]
        return out

    prob.displace("xmax", ux, components=0)
    return prob


def ramp_hold(t):
    return 1.0 + 0.5 * min(t / RAMP, 1.0)


def driver_P11(material, res, stretch_of_t, duration):
    """The material-point driver at the load factors the FE solve accepted."""
    tl = res.load_factors
    hist = H.strain_history("uniaxial", tl * duration, [stretch_of_t(t) for t in tl])
    return H.solve_history(material, hist).measured()[:, 0].numpy()


def test_relaxation_of_a_homogeneous_block_equals_the_material_point(visco, tmp_path):
    prob = block(visco, ramp_hold)
    res = prob.solve(steps=20, duration=2.0, rtol=1e-11, output_dir=str(tmp_path), name="relax")
    F = res.reaction("xmax", 0)
    P = driver_P11(visco, res, ramp_hold, 2.0)
    assert np.abs(F - P).max() / np.abs(P).max() < 1e-9
    assert F[2] > F[-1] * 1.5  # it relaxed
    # the state at the quadrature points is the driver's
    assert float(prob.state.std(dim=(0, 1)).max()) < 1e-9  # homogeneous
    log = json.load(open(tmp_path / "relax.json"))
    assert log["state_labels"] == list(visco.state_labels)
    import meshio

    cells = meshio.read(tmp_path / "relax_0010.vtu").cell_data
    assert cells["internal_variables"][0].shape == (8, visco.n_state) and "state_Q1_11" in cells


def test_newton_is_quadratic_with_the_algorithmic_tangent_and_slower_without(visco):
    prob = block(visco, ramp_hold)
    exact = prob.solve(steps=10, duration=1.0, rtol=1e-11)
    for step in exact.steps[:2]:  # in the ramp: the last iterations square the residual
        r = np.array(step.residuals) / step.residuals[0]
        assert len(r) <= 5 and r[-1] < 1e-9
        assert np.log(r[2]) / np.log(r[1]) > 1.8
    prob.consistent_tangent = False  # the tangent that ignores d state/dF
    with pytest.raises(ConvergenceError):  # sum(beta) = 1.5: the frozen-state iteration diverges
        prob.solve(steps=10, duration=1.0, rtol=1e-11, max_iter=60, min_step=0.02)
    mild = block(visco.replace(beta=[0.4, 0.2]), ramp_hold)
    exact = mild.solve(steps=10, duration=1.0, rtol=1e-11)
    mild.consistent_tangent = False
    frozen = mild.solve(steps=10, duration=1.0, rtol=1e-11, max_iter=100)
    n_exact = sum(s.iterations for s in exact.steps)
    n_frozen = sum(s.iterations for s in frozen.steps)
    assert n_frozen > 2 * n_exact, (n_exact, n_frozen)
    assert np.allclose(frozen.reaction("xmax", 0), exact.reaction("xmax", 0), rtol=0, atol=1e-8)


def test_state_is_committed_only_after_a_converged_step(visco):
    """Steps too large for max_iter fail and are cut back; the result still equals the material
    point driven through the accepted times (a failed attempt leaves no state behind)."""
    def fast_ramp(t):
        return 1.0 + 0.9 * min(t / 0.5, 1.0)

    prob = block(visco, fast_ramp, n=1)
    res = prob.solve(steps=2, duration=1.0, rtol=1e-11, max_iter=3, predictor=False)
    assert sum(s.cutbacks for s in res.steps) >= 1
    F = res.reaction("xmax", 0)
    P = driver_P11(visco, res, fast_ramp, 1.0)
    assert np.abs(F - P).max() / np.abs(P).max() < 1e-9


def test_mullins_cycle_in_the_fe_driver_equals_the_material_point():
    mat = materials.get_state_model("mullins", base="neo-hooke-decoupled", mu=1.0, K=50.0, r=1.5, m=0.1, beta=0.1)

    def cycle(t):
        return float(np.interp(t, [0.0, 0.3, 0.55, 1.0], [1.0, 1.8, 1.2, 2.1]))

    prob = block(mat, cycle, n=1)
    res = prob.solve(steps=20, rtol=1e-11)
    F = res.reaction("xmax", 0)
    P = driver_P11(mat, res, cycle, 1.0)
    assert np.abs(F - P).max() / np.abs(P).max() < 1e-9
    lam = np.array([cycle(t) for t in res.load_factors])
    down = (res.load_factors > 0.3) & (res.load_factors <= 0.55)
    up = (res.load_factors > 0.55) & (lam < 1.8)
    assert np.interp(1.5, lam[up], F[up]) == pytest.approx(np.interp(1.5, lam[down][::-1], F[down][::-1]), rel=2e-2)
    assert float(prob.state.max()) == pytest.approx(float(prob.state.min()), rel=1e-9) and float(prob.state.max()) > 0


def test_problem_refuses_a_bad_duration(visco):
    prob = block(visco, ramp_hold, n=1)
    with pytest.raises(ValueError, match="duration: expected a positive number"):
        prob.solve(steps=2, duration=-1.0)
