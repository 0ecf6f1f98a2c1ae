"""The compiled fast path equals the eager autograd path (values, not speed), dispatch rules."""

import math

import numpy as np
import pytest
import torch

import materials
from constitutive import fast, kinematics, mandel
from constitutive.domain import DomainError
from constitutive.fast import kernels
from constitutive.fast.stage3_ir import Builder

torch.set_default_dtype(torch.float64)

RTOL = 1e-12


def states(n=48, seed=7):
    """General F (det > 0) plus the reference state, uniaxial and equibiaxial stretches."""
    g = torch.Generator().manual_seed(seed)
    F = torch.eye(3) + 0.2 * torch.randn(n, 3, 3, generator=g)
    F[:, :, 0] *= torch.sign(torch.linalg.det(F))[:, None]
    special = [torch.eye(3), torch.diag(torch.tensor([1.2, 1 / math.sqrt(1.2), 1 / math.sqrt(1.2)])),
               torch.diag(torch.tensor([1.1, 1.1, 1 / 1.21])), torch.diag(torch.tensor([0.9, 1.0, 1.0]))]
    return torch.cat([torch.stack(special), F])


def assert_same(a, b):
    scale = max(float(b.abs().max()), 1.0)
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=RTOL * scale)


@pytest.mark.parametrize("name", materials.available())
def test_fast_equals_eager_mandel(name):
    mat = materials.get(name)
    e = kinematics.strain_mandel_from_F(states())
    if name == "linear-elastic":
        e = 0.01 * e
    s0, D0 = mat.stress_tangent_mandel(e, fast=False)
    s1, D1 = mat.stress_tangent_mandel(e, fast=True)
    assert any(i["material"] == type(mat).__name__ and i["kind"] == "mandel" for i in fast.info()), \
        "the fast path was not taken"
    assert_same(s1, s0)
    assert_same(D1, D0)


@pytest.mark.parametrize("name", ["neo-hooke", "mooney-rivlin", "holzapfel-gasser-ogden", "ogden"])
def test_fast_equals_eager_pk1(name):
    if name not in materials.available():
        pytest.skip(f"{name} not registered")
    mat = materials.get(name)
    F = states(24)
    P0, A0 = mat.pk1_tangent(F, fast=False)
    P1, A1 = mat.pk1_tangent(F, fast=True)
    assert_same(P1, P0)
    assert_same(A1, A0)


def test_neo_hooke_closed_form():
    """Fast path against S = mu (I - C^-1) + lmbda lnJ C^-1 (Holzapfel 2000, eq. 6.148)."""
    mat = materials.get("neo-hooke", mu=1.3, lmbda=4.0)
    F = states(16)
    C = F.transpose(-1, -2) @ F
    Ci = torch.linalg.inv(C)
    lnJ = torch.log(torch.linalg.det(F))
    S = 1.3 * (torch.eye(3) - Ci) + 4.0 * lnJ[:, None, None] * Ci
    s, _ = mat.stress_tangent_mandel(kinematics.strain_mandel_from_F(F), fast=True)
    np.testing.assert_allclose(mandel.from_mandel(s).numpy(), S.numpy(), atol=1e-12)
    P, _ = mat.pk1_tangent(F, fast=True)
    np.testing.assert_allclose(P.numpy(), (F @ S).numpy(), atol=1e-12)


def test_torch_backend_equals_eager(monkeypatch):
    monkeypatch.setenv("CONSTITUTIVE_FAST_BACKEND", "torch")
    for name in ("neo-hooke", "holzapfel-gasser-ogden"):
        if name not in materials.available():
            continue
        mat = materials.get(name)
        e = kinematics.strain_mandel_from_F(states(20))
        s0, D0 = mat.stress_tangent_mandel(e, fast=False)
        s1, D1 = mat.stress_tangent_mandel(e, fast=True)
        assert any(i["backend"] == "torch" and i["material"] == type(mat).__name__ for i in fast.info())
        assert_same(s1, s0)
        assert_same(D1, D0)


def test_parameters_are_inputs_not_constants():
    """One kernel serves all parameter values: results follow the parameters."""
    fast.clear_cache()
    e = kinematics.strain_mandel_from_F(states(8))
    a, b = materials.get("neo-hooke", mu=1.0, lmbda=3.0), materials.get("neo-hooke", mu=2.5, lmbda=7.0)
    for mat in (a, b):
        s0, D0 = mat.stress_tangent_mandel(e, fast=False)
        s1, D1 = mat.stress_tangent_mandel(e, fast=True)
        assert_same(s1, s0)
        assert_same(D1, D0)
    backend = kernels.backend_for(torch.device("cpu"))
    built = [k for k in fast.info() if k["material"] == type(a).__name__ and k["kind"] == "mandel"
             and k["backend"] == backend]
    assert len(built) == 1


def test_batch_shapes_and_out():
    mat = materials.get("neo-hooke")
    e = kinematics.strain_mandel_from_F(states(11)).reshape(3, 5, 6)
    s0, D0 = mat.stress_tangent_mandel(e, fast=False)
    out = (torch.full((3, 5, 6), float("nan")), torch.full((3, 5, 6, 6), float("nan")))
    s1, D1 = mat.stress_tangent_mandel(e, fast=True, out=out)
    assert s1 is out[0] and D1 is out[1]
    assert_same(s1, s0)
    assert_same(D1, D0)
    with pytest.raises(ValueError, match="out"):
        mat.stress_tangent_mandel(e, fast=True, out=(torch.empty(15, 6), torch.empty(15, 6, 6)))
    # the eager path honours out= as well
    out2 = (torch.empty(3, 5, 6), torch.empty(3, 5, 6, 6))
    s2, _ = mat.stress_tangent_mandel(e, fast=False, out=out2)
    assert s2 is out2[0]
    assert_same(s2, s0)


def test_bad_input_same_errors():
    mat = materials.get("neo-hooke")
    e = torch.zeros(5000, 6)
    e[17, 2] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        mat.stress_tangent_mandel(e)
    F = torch.eye(3).repeat(5000, 1, 1)
    F[3] = -F[3]
    with pytest.raises(ValueError, match="det F"):
        mat.pk1_tangent(F)
    with pytest.raises(ValueError, match="shape"):
        mat.stress_tangent_mandel(torch.zeros(5000, 5), fast=True)


def _spy(monkeypatch):
    calls = []
    real = fast.run_kernel

    def spy(*a, **k):
        calls.append(a[1])
        return real(*a, **k)

    monkeypatch.setattr(fast, "run_kernel", spy)
    return calls


def test_dispatch_rules(monkeypatch):
    calls = _spy(monkeypatch)
    mat = materials.get("neo-hooke")
    big = kinematics.strain_mandel_from_F(states(fast.MIN_POINTS))
    small = big[:10]
    mat.stress_tangent_mandel(big)
    assert calls == ["mandel"]  # automatic for large batches
    mat.stress_tangent_mandel(small)
    assert calls == ["mandel"]  # small batches stay eager
    mat.stress_tangent_mandel(small, fast=True)
    assert len(calls) == 2
    mat.stress_tangent_mandel(big, fast=False)
    assert len(calls) == 2
    with fast.disabled():
        mat.stress_tangent_mandel(big)
    assert len(calls) == 2
    monkeypatch.setenv("CONSTITUTIVE_FAST", "0")
    mat.stress_tangent_mandel(big)
    assert len(calls) == 2
    monkeypatch.setenv("CONSTITUTIVE_FAST", "1")
    s, D = mat.stress_tangent_mandel(big, create_graph=True)  # fitting: eager, differentiable graph
    assert len(calls) == 2
    x = big.clone().requires_grad_(True)
    mat.stress_tangent_mandel(x, fast=True)
    assert len(calls) == 2


def test_create_graph_and_parameter_grad_stay_eager(monkeypatch):
    calls = _spy(monkeypatch)
    mu = torch.tensor(1.5, requires_grad=True)
    mat = materials.get("neo-hooke", mu=mu, lmbda=4.0)
    e = kinematics.strain_mandel_from_F(states(fast.MIN_POINTS))
    s, D = mat.stress_tangent_mandel(e, create_graph=True)
    (g,) = torch.autograd.grad(s.sum(), mat.mu)
    assert torch.isfinite(g) and calls == []
    mat.stress_tangent_mandel(e)
    assert calls == []
    mat.pk1_tangent(states(fast.MIN_POINTS), fast=True)
    assert calls == []


def test_disk_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CONSTITUTIVE_CACHE_DIR", str(tmp_path))
    fast.clear_cache()
    mat = materials.get("neo-hooke")
    k1 = fast.kernel_for(mat, "mandel", torch.device("cpu"))
    if not hasattr(k1, "path"):
        pytest.skip("no C compiler: torch backend")
    libs = sorted(tmp_path.glob("k_*.so"))
    assert k1.path in libs
    fast.clear_cache()
    mtime = k1.path.stat().st_mtime_ns
    k2 = fast.kernel_for(mat, "mandel", torch.device("cpu"))
    assert k2.path == k1.path and k2.path.stat().st_mtime_ns == mtime  # loaded, not rebuilt


def test_builder_folds_and_shares():
    b = Builder()
    x, y = b.input("x", 0), b.input("x", 1)
    assert (x * 0.0).i == b.const(0.0).i
    assert (x * 1.0).i == x.i and (x + 0.0).i == x.i
    assert (x * y).i == (y * x).i  # commutative ops are shared
    assert (x - x).i == b.const(0.0).i
    assert b.value(b.const(2.0) * 3.0) == 6.0
    with pytest.raises(TypeError):
        bool(x > y)


def test_untraceable_energy_falls_back(recwarn):
    from constitutive import Hyperelastic, param

    class Branchy(Hyperelastic):
        mu: float = param(1.0, bounds=(0.0, None), unit="stress")

        def energy(self, E):
            if float(E.abs().max()) > 10.0:  # data-dependent Python control flow
                return E[..., 0, 0] * 0.0
            return self.mu * (E * E).sum((-1, -2))

    mat = Branchy()
    e = 0.01 * torch.randn(30, 6)
    s1, D1 = mat.stress_tangent_mandel(e, fast=True)
    s0, D0 = mat.stress_tangent_mandel(e, fast=False)
    assert_same(s1, s0)
    assert_same(D1, D0)
    assert any("eager path" in str(w.message) for w in recwarn)


@pytest.mark.parametrize(
    "name, params",
    [("gent", {"Jm": 5.0}), ("gent-incompressible", {"Jm": 5.0}),
     ("arruda-boyce", {"lambda_m": 2.0}), ("arruda-boyce-incompressible", {"lambda_m": 2.0})],
)
@pytest.mark.parametrize("fast_flag", [True, None])
def test_fast_path_raises_beyond_locking_like_eager(name, params, fast_flag):
    """The compiled kernel reports the domain condition (constitutive.domain.require) as a flag
    per point: a large batch (automatic dispatch) and fast=True raise the eager path's error,
    with the same count and first index, word for word."""
    mat = materials.get(name, **params)
    F = torch.eye(3).expand(fast.MIN_POINTS + 8, 3, 3).clone()
    F[5:9] = torch.diag(torch.tensor([4.0, 0.5, 0.5]))  # four points beyond locking
    with pytest.raises(DomainError) as eager:
        mat.pk1_tangent(F, fast=False)
    assert "at 4 point(s) (first at index (5))" in str(eager.value)
    with pytest.raises(DomainError) as compiled:
        mat.pk1_tangent(F, fast=fast_flag)
    assert str(compiled.value) == str(eager.value)
    with pytest.raises(DomainError) as compiled:
        mat.stress_tangent_mandel(kinematics.strain_mandel_from_F(F), fast=fast_flag)
    assert str(compiled.value) == str(eager.value)


def test_fast_false_is_honoured_by_the_pk1_path(monkeypatch):
    """pk1_tangent(fast=False) must not reach the compiled kernel through the Mandel path."""
    def boom(*args, **kwargs):
        raise AssertionError("fast path called")

    monkeypatch.setattr(fast, "run_kernel", boom)
    F = states().repeat(fast.MIN_POINTS // 48 + 1, 1, 1)
    P, A = materials.get("neo-hooke").pk1_tangent(F, fast=False)
    assert torch.isfinite(A).all()
