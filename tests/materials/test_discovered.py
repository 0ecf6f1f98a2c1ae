"""Discovered energies (materials.discovered): every term kind through the verifiers, closed forms,
convexity and monotonicity of each term, the b -> 0 series, the log domain, tension-only fibres,
the ICNN's input convexity, files, and the compiled library."""

import json
import math

import numpy as np
import pytest
import torch

import materials
from constitutive import kinematics as kin
from constitutive.checks import format_table, run_all_checks
from constitutive.domain import DomainError
from materials.discovered import (
    fibre_arguments,
    icnn_layout,
    icnn_psi,
    inner_bounds,
    parse_terms,
    term_value,
)

ALL_TERMS = "I1:lin+I1:sq+I1:exp+I1:exp2+I1:log+I2:lin+I2:sq+I2:exp+I2:exp2+I2:log+ogden"
W_ALL = [0.1, 0.02, 0.03, 0.01, 0.05, 0.02, 0.01, 0.01, 0.004, 0.01, 0.2]
B_ALL = [1.0, 1.0, 0.8, 0.5, 0.4, 1.0, 1.0, 0.3, 0.2, 0.25, -2.7]
FIBRES = "I1:lin+I4:sq+I4:exp2+J5:sq+J5:exp2+ogden"


def _uniaxial_F(lam):
    lam = torch.as_tensor(lam, dtype=torch.float64)
    return torch.diag_embed(torch.stack([lam, lam**-0.5, lam**-0.5], -1))


@pytest.mark.parametrize("name,kw", [
    ("discovered-incompressible", dict(terms=ALL_TERMS, w=W_ALL, b=B_ALL)),
    ("discovered", dict(terms=ALL_TERMS, w=W_ALL, b=B_ALL, K=4.0, volumetric="lnJ")),
    ("discovered", dict(terms=FIBRES, w=[0.2, 0.5, 0.3, 0.1, 0.2, 0.1], b=[1, 1, 2.0, 1, 1.5, 4.0],
                        a=[1.0, 1.0, 0.3], K=5.0)),
    ("discovered-incompressible", dict(terms=FIBRES, w=[0.2, 0.5, 0.3, 0.1, 0.2, 0.1],
                                       b=[1, 1, 2.0, 1, 1.5, -4.0], a=[0.2, -1.0, 0.5])),
    ("icnn-incompressible", dict(layers="3,3", theta=list(torch.randn(
        32, generator=torch.Generator().manual_seed(1)).tolist()))),
    ("icnn", dict(layers="4", theta=list(torch.randn(
        18, generator=torch.Generator().manual_seed(2)).tolist()), K=3.0)),
])
@pytest.mark.parametrize("amplitude", [0.1, 0.3])
def test_verifiers(name, kw, amplitude):
    """FD stress and tangent, symmetries, stress-free reference, objectivity, small-strain moduli."""
    mat = materials.get(name, **kw)
    res = run_all_checks(mat, n=6, seed=7, amplitude=amplitude)
    assert all(r.passed for r in res), format_table(res)


def test_energy_and_stress_vanish_at_the_reference():
    for kw in (dict(terms=ALL_TERMS, w=W_ALL, b=B_ALL), dict(terms=FIBRES, w=[0.2, 0.5, 0.3, 0.1, 0.2, 0.1],
                                                                b=[1, 1, 2.0, 1, 1.5, 4.0], a=[1, 2, 3])):
        mat = materials.get("discovered-incompressible", **kw)
        s, D = mat.stress_tangent_mandel(torch.zeros(6))
        assert float(mat.energy_mandel(torch.zeros(6))) == 0.0
        assert float(s.abs().max()) < 1e-14


def test_uniaxial_closed_form():
    """P11 = 2 (l - l^-2)(W1 + W2 / l) for W(I1, I2) (incompressible uniaxial tension)."""
    w, b = [0.1, 0.03, 0.02, 0.01, 0.02], [1.0, 0.5, 0.1, 1.0, 0.01]
    mat = materials.get("discovered-incompressible", terms="I1:lin+I1:exp+I1:log+I2:lin+I2:exp2", w=w, b=b)
    lam = torch.linspace(0.5, 3.0, 11, dtype=torch.float64)
    x1, x2 = lam**2 + 2 / lam - 3, 2 * lam + lam**-2 - 3
    W1 = w[0] + w[1] * torch.exp(b[1] * x1) + w[2] / (1 - b[2] * x1)
    W2 = w[3] + w[4] * 2 * x2 * torch.exp(b[4] * x2**2)
    F = _uniaxial_F(lam)
    P = mat.pk1(F)
    P11 = P[:, 0, 0] - P[:, 1, 1] * lam**-1.5  # p = P22 / cof22 from P22 = 0; cof F = diag(1/l, l^1/2, l^1/2)
    np.testing.assert_allclose(P11.numpy(), (2 * (lam - lam**-2) * (W1 + W2 / lam)).numpy(), rtol=1e-12)


def test_ogden_term_is_ogden_model():
    """2 w / a^2 (sum lb^a - 3) equals Ogden with mu = 2 w / a (initial shear modulus w)."""
    for alpha in (-7.5, -1.0, 1.0, 3.3):
        d = materials.get("discovered-incompressible", terms="ogden", w=[0.4], b=[alpha])
        o = materials.get("ogden-incompressible", mu=[0.8 / alpha], alpha=[alpha])
        F = kin.strain_mandel_from_F(torch.diag_embed(torch.tensor([[1.3, 0.8, 1 / 1.04], [0.7, 1.2, 1 / 0.84]])))
        np.testing.assert_allclose(d.energy_mandel(F).numpy(), o.energy_mandel(F).numpy(), rtol=1e-13)
        assert d.initial_moduli()[0] == pytest.approx(0.4)


@pytest.mark.parametrize("fun", ["lin", "sq", "exp", "exp2", "log"])
def test_each_term_is_convex_and_nondecreasing(fun):
    """h(0) = 0, h' >= 0 and h'' >= 0 on x in [0, 3] for b in the admissible range (autograd)."""
    for b in ([0.0, 1e-7, 0.2, 1.0, 3.0] if fun != "log" else [0.0, 1e-7, 0.1, 0.3]):
        x = torch.linspace(0.0, 3.0, 301, dtype=torch.float64, requires_grad=True)
        h = term_value(fun, x, torch.tensor(b, dtype=torch.float64))
        (g,) = torch.autograd.grad(h.sum(), x, create_graph=True)
        g2 = torch.autograd.grad(g.sum(), x)[0] if g.requires_grad else torch.zeros_like(x)
        assert float(h[0].detach()) == 0.0
        assert float(g.detach().min()) >= 0.0 and float(g2.min()) >= -1e-12, (fun, b)
    assert inner_bounds(("I1", fun))[0][0] == (0.0 if fun in ("exp", "exp2", "log") else -math.inf)


def test_concave_exponents_are_rejected():
    with pytest.raises(ValueError, match="convex range"):
        materials.get("discovered-incompressible", terms="I1:lin+I1:exp", w=[0.1, 0.1], b=[1.0, -0.5])
    with pytest.raises(ValueError, match="convex range"):
        materials.get("discovered-incompressible", terms="ogden", w=[0.1], b=[0.5])
    with pytest.raises(ValueError, match="initial shear modulus"):
        materials.get("discovered-incompressible", terms="I1:sq", w=[0.1], b=[1.0])
    with pytest.raises(ValueError, match="option 'terms'"):
        materials.get("discovered-incompressible", terms="I4:lin", w=[0.1], b=[1.0])


@pytest.mark.parametrize("fun", ["exp", "exp2", "log"])
def test_series_branch_is_exact(fun):
    """Value, first and second derivative equal the closed forms on both sides of the series
    threshold |b x| = 1e-3 (b = 1), and b = 0 gives the linear/quadratic limit."""
    z = torch.tensor([0.5e-3, 0.999e-3, 1.001e-3, 2e-3], dtype=torch.float64)
    x = (z.sqrt() if fun == "exp2" else z).requires_grad_(True)
    h = term_value(fun, x, torch.tensor(1.0, dtype=torch.float64))
    (g,) = torch.autograd.grad(h.sum(), x, create_graph=True)
    (g2,) = torch.autograd.grad(g.sum(), x)
    xd = x.detach()
    ref = {"exp": (torch.expm1(xd), torch.exp(xd), torch.exp(xd)),
           "exp2": (torch.expm1(xd**2), 2 * xd * torch.exp(xd**2), (2 + 4 * xd**2) * torch.exp(xd**2)),
           "log": (-torch.log1p(-xd), 1 / (1 - xd), 1 / (1 - xd) ** 2)}[fun]
    for got, want in zip((h.detach(), g.detach(), g2), ref, strict=True):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    x0 = torch.linspace(0, 2, 5, dtype=torch.float64)
    lim = term_value(fun, x0, torch.tensor(0.0, dtype=torch.float64))
    np.testing.assert_allclose(lim.numpy(), (x0**2 if fun == "exp2" else x0).numpy(), rtol=1e-15)


def test_log_term_states_its_domain():
    mat = materials.get("discovered-incompressible", terms="I1:log", w=[0.1], b=[0.5])
    with pytest.raises(DomainError, match="b x reached 1"):
        mat.pk1(_uniaxial_F([1.2, 2.5]))  # I1 - 3 = 2.47 > 1/b at l = 2.5
    assert torch.isfinite(mat.pk1(_uniaxial_F([1.2, 1.8]))).all()


def test_fibre_invariants_and_tension_only():
    """I4 - 1 = a.Ca - 1 and J5 - 1 = a.cof(C)a - 1; no fibre energy when both are compressed."""
    g = torch.Generator().manual_seed(3)
    F = torch.eye(3) + 0.3 * torch.randn(5, 3, 3, generator=g)
    C = F.transpose(-1, -2) @ F
    a = torch.tensor([0.3, -0.5, 0.8])
    a = a / a.norm()
    x4, x5 = fibre_arguments(0.5 * (C - torch.eye(3)), a)
    cof = torch.linalg.det(C)[:, None, None] * torch.linalg.inv(C)
    np.testing.assert_allclose(x4.numpy(), (torch.einsum("i,nij,j->n", a, C, a) - 1).numpy(), atol=1e-14)
    np.testing.assert_allclose(x5.numpy(), (torch.einsum("i,nij,j->n", a, cof, a) - 1).numpy(), atol=1e-13)
    iso = materials.get("discovered-incompressible", terms="I1:lin", w=[0.1], b=[1.0])
    i4 = materials.get("discovered-incompressible", terms="I1:lin+I4:exp2", w=[0.1, 1.0], b=[1.0, 2.0])
    j5 = materials.get("discovered-incompressible", terms="I1:lin+J5:sq", w=[0.1, 1.0], b=[1.0, 1.0])
    shortened = kin.strain_mandel_from_F(torch.diag(torch.tensor([0.8, 1.0, 1 / 0.8])))  # I4 < 1, J5 > 1
    extended = kin.strain_mandel_from_F(torch.diag(torch.tensor([1.2, 1.0, 1 / 1.2])))  # I4 > 1, J5 < 1
    for e, on, off in ((shortened, j5, i4), (extended, i4, j5)):
        assert float(off.energy_mandel(e)) == float(iso.energy_mandel(e))
        assert float(on.energy_mandel(e)) > float(iso.energy_mandel(e))


def test_icnn_is_input_convex_and_monotone():
    """Hessian of psi(x) positive semi-definite and gradient >= 0 on random points (x >= 0)."""
    layers = "4,4"
    n = sum(math.prod(s) for _, s in icnn_layout(layers))
    theta = torch.randn(n, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    pts = 5.0 * torch.rand(40, 2, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    for x in pts:
        H = torch.autograd.functional.hessian(lambda z: icnn_psi(z, theta, layers), x)
        g = torch.autograd.functional.jacobian(lambda z: icnn_psi(z, theta, layers), x)
        assert float(torch.linalg.eigvalsh(H).min()) >= -1e-12 and float(g.min()) > 0
    mat = materials.get("icnn-incompressible", layers=layers, theta=theta.tolist())
    assert float(mat.energy_mandel(torch.zeros(6))) == 0.0
    with pytest.raises(ValueError, match="theta values"):
        materials.get("icnn-incompressible", layers=layers, theta=[0.0] * (n - 1))


def test_from_file_round_trip(tmp_path):
    spec = {"model": "discovered-incompressible", "options": {"terms": "I1:exp+I2:lin"},
            "parameters": {"w": [0.1, 0.02], "b": [0.3, 1.0], "a": [1.0, 0.0, 0.0]}}
    path = tmp_path / "disc.json"
    path.write_text(json.dumps({"format": "constitutive-discovery", "material": spec}))
    mat = materials.discovered.from_file(path)
    assert mat.parameter_values()["w"] == [0.1, 0.02] and mat.terms == "I1:exp+I2:lin"
    comp = materials.discovered.from_file(path, K=50.0)
    assert comp.initial_moduli() == pytest.approx((2 * 0.12, 50.0))
    e = kin.strain_mandel_from_F(_uniaxial_F([1.4]))
    assert float(comp.energy_mandel(e)) == pytest.approx(float(mat.energy_mandel(e)), rel=1e-14)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="no discovered material"):
        materials.discovered.from_file(tmp_path / "bad.json")


def test_parse_terms_round_trip():
    assert parse_terms("I1:exp + ogden+J5:exp2") == (("I1", "exp"), ("L", "ogden"), ("J5", "exp2"))
    assert "I1:lin+ogden" in materials.model_class("discovered").options["terms"][1]
    assert "I1:nope" not in materials.model_class("discovered").options["terms"][1]


def test_compiled_library_equals_engine(tmp_path):
    """The registered name with --option terms and --terms N (the CLI route of a discovered model)."""
    pytest.importorskip("constitutive.native")
    from constitutive.cli import main
    from constitutive.interfaces.compiled import CompiledMaterial
    from constitutive.native import compiler

    if compiler() is None:
        pytest.skip("no C compiler")
    assert main(["compile", "discovered-incompressible", "--option", "terms=I1:exp+I2:lin+I1:log", "--terms", "3",
                 "--name", "DISCT", "--output", str(tmp_path)]) == 0
    mat = materials.get("discovered-incompressible", terms="I1:exp+I2:lin+I1:log", w=[0.05, 0.01, 0.1],
                        b=[0.4, 1.0, 0.2])
    lib = CompiledMaterial(tmp_path / "DISCT.json", **mat.parameter_values())
    F = torch.eye(3) + 0.25 * torch.randn(8, 3, 3, generator=torch.Generator().manual_seed(9))
    F = F / torch.linalg.det(F)[:, None, None] ** (1 / 3)
    P0, A0 = mat.pk1_tangent(F, fast=False)
    P, A = lib.pk1_tangent(F.numpy())
    assert np.abs(P - P0.numpy()).max() < 1e-12 * np.abs(P0.numpy()).max()
    assert np.abs(A - A0.numpy()).max() < 1e-12 * np.abs(A0.numpy()).max()
