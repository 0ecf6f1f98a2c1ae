"""The state-carrying protocol (constitutive.inelastic): the algorithmic tangent against central
differences of the update, the compiled update against the eager one, objectivity, batching,
input validation and the wrapper's parameters."""

import pytest
import torch
from support import random_F

import materials
from constitutive import kinematics as kin
from constitutive.checks import random_rotations
from constitutive.domain import DomainError
from constitutive.inelastic import tangent_fd_error

torch.set_default_dtype(torch.float64)

VISCO = dict(tau=[0.3, 4.0], beta=[0.9, 0.4])
CASES = [
    ("viscoelastic", dict(base="neo-hooke-decoupled", mu=1.0, K=20.0, **VISCO)),
    ("viscoelastic", dict(base="mooney-rivlin", c10=0.4, c01=0.1, K=10.0, volumetric="lnJ", **VISCO)),
    ("viscoelastic", dict(base="ogden", mu=[0.6, -0.05], alpha=[2.5, -2.0], K=15.0, **VISCO)),
    ("viscoelastic", dict(base="yeoh-incompressible", c10=0.5, c20=-0.02, c30=0.004, **VISCO)),
    ("mullins", dict(base="neo-hooke-decoupled", mu=1.0, K=20.0, r=1.5, m=0.1, beta=0.2)),
    ("mullins", dict(base="neo-hooke", mu=1.0, lmbda=5.0, r=2.0, m=0.3, beta=0.0)),
    ("mullins", dict(base="ogden-incompressible", mu=[0.6], alpha=[3.0], r=3.0, m=0.05, beta=0.1)),
]


def _state(mat, e, gen, branch):
    """A state at the start of the increment: random Q (viscoelastic); for Mullins a maximum
    energy well above (unloading, ``branch=-1``) or below (loading, ``+1``) the current one."""
    n = e.shape[0]
    if mat.name == "viscoelastic":
        return 0.1 * torch.randn(n, mat.n_state, generator=gen)
    w0 = mat.softened_energy(e).detach()
    return (w0 * (0.5 if branch > 0 else 1.6))[:, None]


@pytest.mark.parametrize(("name", "params"), CASES)
@pytest.mark.parametrize("branch", [1, -1])
def test_algorithmic_tangent_equals_central_differences(name, params, branch, gen):
    mat = materials.get_state_model(name, **params)
    F = random_F(6, gen, 0.25)
    if mat.incompressible:
        F = F / torch.linalg.det(F)[:, None, None] ** (1 / 3)
    e = kin.strain_mandel_from_F(F)
    st = _state(mat, e, gen, branch)
    assert tangent_fd_error(mat, e, st, 0.7) < 1e-7
    assert tangent_fd_error(mat, e, st, 0.0) < 1e-7  # dt = 0: the instantaneous (elastic) increment


def test_frozen_state_tangent_misses_the_state_dependence(gen):
    """``consistent=False`` drops d state/de: for the viscoelastic model it is the base's tangent,
    for Mullins on primary loading it is not the base's (the consistent one is)."""
    v = materials.get_state_model(*CASES[0][:1], **CASES[0][1])
    e = kin.strain_mandel_from_F(random_F(4, gen, 0.2))
    st = _state(v, e, gen, 1)
    _, Df, _ = v.stress_tangent_state_mandel(e, st, 0.5, consistent=False)
    _, Db = v.base.stress_tangent_mandel(e)
    assert torch.allclose(Df, Db, rtol=0, atol=1e-12)
    assert tangent_fd_error(v, e, st, 0.5, consistent=False) > 0.1
    m = materials.get_state_model("mullins", base="neo-hooke-decoupled", mu=1.0, K=20.0)
    stm = m.initial_state(4)  # loading from the virgin state
    _, Dc, _ = m.stress_tangent_state_mandel(e, stm, 0.1)
    _, Df, _ = m.stress_tangent_state_mandel(e, stm, 0.1, consistent=False)
    _, Db = m.base.stress_tangent_mandel(e)
    assert torch.allclose(Dc, Db, rtol=0, atol=1e-12) and (Df - Db).abs().max() > 0.1


@pytest.mark.parametrize("idx", [0, 4])
def test_compiled_update_equals_eager(idx, gen):
    name, params = CASES[idx]
    mat = materials.get_state_model(name, **params)
    F = random_F(40, gen, 0.3)
    e = kin.strain_mandel_from_F(F)
    st = _state(mat, e, gen, 1 if idx else -1)
    dt = torch.rand(40, generator=gen)
    for a, b in zip(mat.stress_tangent_state_mandel(e, st, dt, fast=False),
                    mat.stress_tangent_state_mandel(e, st, dt), strict=True):
        assert (a - b).abs().max() <= 1e-12 * max(1.0, float(a.abs().max()))
    for a, b in zip(mat.pk1_tangent_state(F, st, dt, fast=False), mat.pk1_tangent_state(F, st, dt), strict=True):
        assert (a - b).abs().max() <= 1e-12 * max(1.0, float(a.abs().max()))


def test_dPdF_equals_central_differences_of_P(gen):
    mat = materials.get_state_model(*CASES[1][:1], **CASES[1][1])
    F = random_F(3, gen, 0.2)
    st = _state(mat, kin.strain_mandel_from_F(F), gen, 1)
    _, A, _ = mat.pk1_tangent_state(F, st, 0.4, fast=False)
    h = 1e-6
    err = 0.0
    for k in range(3):
        for L in range(3):
            dF = torch.zeros(3, 3)
            dF[k, L] = h
            Pp = mat.pk1_state(F + dF, st, 0.4)[0]
            Pm = mat.pk1_state(F - dF, st, 0.4)[0]
            err = max(err, float(((Pp - Pm) / (2 * h) - A[..., k, L]).abs().max()))
    assert err / float(A.abs().max()) < 1e-8


@pytest.mark.parametrize("idx", [0, 4])
def test_objectivity_rotating_F_rotates_P_and_leaves_the_state(idx, gen):
    name, params = CASES[idx]
    mat = materials.get_state_model(name, **params)
    F = random_F(5, gen, 0.3)
    Q = random_rotations(5, gen)
    st = _state(mat, kin.strain_mandel_from_F(F), gen, -1)
    P, A, new = mat.pk1_tangent_state(F, st, 0.3)
    P2, A2, new2 = mat.pk1_tangent_state(Q @ F, st, 0.3)
    assert torch.allclose(P2, Q @ P, rtol=0, atol=1e-12)
    assert torch.allclose(new2, new, rtol=0, atol=1e-12)
    assert torch.allclose(A2, torch.einsum("nia,nkb,najbl->nijkl", Q, Q, A), rtol=0, atol=1e-11)


def test_batched_points_are_independent(gen):
    """The seven-pass pattern: every point's tangent equals its one-point evaluation."""
    mat = materials.get_state_model(*CASES[0][:1], **CASES[0][1])
    e = kin.strain_mandel_from_F(random_F(5, gen, 0.3))
    st = _state(mat, e, gen, 1)
    dt = torch.tensor([0.0, 0.1, 1.0, 10.0, 1e3])
    s, D, new = mat.stress_tangent_state_mandel(e, st, dt, fast=False)
    for i in range(5):
        si, Di, ni = mat.stress_tangent_state_mandel(e[i:i + 1], st[i:i + 1], dt[i], fast=False)
        assert torch.allclose(Di[0], D[i], rtol=0, atol=1e-13) and torch.allclose(ni[0], new[i], rtol=0, atol=1e-13)


def test_domain_conditions_of_the_base_hold_in_both_paths():
    v = materials.get_state_model("viscoelastic", base="gent", mu=1.0, Jm=0.5, K=50.0, **VISCO)
    F = torch.diag(torch.tensor([2.0, 0.7, 0.7]))[None]
    st = v.initial_state(1)
    for fast in (False, None):
        with pytest.raises(DomainError, match="at 1 point"):
            v.pk1_tangent_state(F, st, 0.1, fast=fast)


def test_bad_input_is_refused_with_the_argument_named():
    v = materials.get_state_model(*CASES[0][:1], **CASES[0][1])
    e = torch.zeros(3, 6)
    with pytest.raises(ValueError, match=r"state: expected shape \(\.\.\., 18\)"):
        v.stress_tangent_state_mandel(e, torch.zeros(3, 6), 0.1)
    with pytest.raises(ValueError, match="dt: time increments must be >= 0"):
        v.stress_tangent_state_mandel(e, v.initial_state(3), -0.1)
    bad = v.initial_state(3)
    bad[1, 4] = float("nan")
    with pytest.raises(ValueError, match="state: non-finite"):
        v.stress_tangent_state_mandel(e, bad, 0.1)
    with pytest.raises(ValueError, match="tau and beta need the same number"):
        materials.get_state_model("viscoelastic", tau=[1.0, 2.0], beta=[0.5])
    with pytest.raises(ValueError, match="must be > 0"):
        materials.get_state_model("viscoelastic", tau=[-1.0], beta=[0.5])
    with pytest.raises(ValueError, match="no isochoric part"):
        materials.get_state_model("viscoelastic", base="neo-hooke", tau=[1.0], beta=[0.5])
    with pytest.raises(TypeError, match="unknown parameter"):
        materials.get_state_model("mullins", rr=2.0)
    with pytest.raises(ValueError, match="must be > 1"):
        materials.get_state_model("mullins", r=0.5)


def test_wrapper_parameters_are_one_flat_list_and_replace_routes_them():
    v = materials.get_state_model("viscoelastic", base="mooney-rivlin", c10=0.4, c01=0.1, K=10.0, **VISCO)
    assert list(v.parameters) == ["c10", "c01", "K", "tau", "beta"]
    assert v.option_values() == {"volumetric": "J-1", "base": "mooney-rivlin"}
    w = v.replace(c10=0.6, beta=[0.1, 0.2])
    assert float(w.c10) == 0.6 and float(w.base.c10) == 0.6 and w.beta.tolist() == [0.1, 0.2]
    assert w.tau.tolist() == VISCO["tau"] and float(w.K) == 10.0
    assert v.n_state == 18 and v.state_labels[6] == "Q1.11"
    assert materials.available_state_models() == ["mullins", "viscoelastic"]
    assert "viscoelastic" not in materials.available()  # the elastic registry is unchanged
