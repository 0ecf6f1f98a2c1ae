"""Langevin function, its exact inverse (Newton-polished, differentiable) and the stated errors
of the rational approximants."""

import math

import pytest
import torch

from materials.langevin import (
    approximant_error,
    inverse_langevin,
    inverse_langevin_cohen,
    inverse_langevin_jedynak,
    langevin,
    langevin_derivative,
    log_sinhc,
)

torch.set_default_dtype(torch.float64)


def _ref_L(x):
    return 1.0 / math.tanh(x) - 1.0 / x


@pytest.mark.parametrize("x", [1e-6, 0.1, 0.4999, 0.5, 0.5001, 1.0, 3.0, 40.0, 1e5])
def test_langevin_and_friends(x):
    t = torch.tensor(x)
    # reference from the defining expressions, in a range where they are well conditioned
    if x >= 0.1:  # cancellation in the closed forms costs at most ~1/(x L(x)) ulps here
        assert math.isclose(float(langevin(t)), _ref_L(x), rel_tol=1e-12)
        assert math.isclose(float(log_sinhc(t)), x + math.log1p(-math.exp(-2 * x)) - math.log(2 * x), rel_tol=1e-11)
    else:
        assert math.isclose(float(langevin(t)), x / 3 - x**3 / 45 + 2 * x**5 / 945 - x**7 / 4725, rel_tol=1e-8)
    # L' and d log_sinhc / dx = L by autograd against the closed functions
    xt = t.clone().requires_grad_(True)
    (dL,) = torch.autograd.grad(langevin(xt), xt)
    (dls,) = torch.autograd.grad(log_sinhc(xt), xt)
    assert math.isclose(float(dL), float(langevin_derivative(t)), rel_tol=1e-10)
    assert math.isclose(float(dls), float(langevin(t)), rel_tol=1e-12)


def test_branch_switch_is_seamless():
    """Across the series/closed switch at x = 0.5 the values change by f' dx only."""
    x = torch.tensor([0.5 - 1e-9, 0.5 + 1e-9], requires_grad=True)
    for fn in (langevin, langevin_derivative, log_sinhc):
        v = fn(x)
        (d,) = torch.autograd.grad(v.sum(), x)
        v = v.detach()
        assert abs(float(v[1] - v[0]) - float(d.mean()) * 2e-9) < 2e-15, fn.__name__


def test_inverse_is_exact_to_conditioning():
    assert approximant_error(inverse_langevin, n=20001, y_max=0.99) < 5e-14
    assert approximant_error(inverse_langevin, n=20001, y_max=0.999) < 5e-13


def test_stated_errors_of_the_approximants():
    assert abs(approximant_error(inverse_langevin_cohen, n=20001) - 0.0494) < 5e-4
    assert abs(approximant_error(inverse_langevin_jedynak, n=20001) - 0.0151) < 5e-4


def test_inverse_derivatives_exact():
    y = torch.tensor([1e-6, 0.05, 0.3, 0.7, 0.95, 0.999], requires_grad=True)
    x = inverse_langevin(y)
    (g,) = torch.autograd.grad(x.sum(), y, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), y)
    xd = x.detach().requires_grad_(True)
    Lp = langevin_derivative(xd)
    (Lpp,) = torch.autograd.grad(Lp.sum(), xd)
    Lp = Lp.detach()
    assert torch.allclose(g.detach(), 1 / Lp, rtol=1e-13)
    assert torch.allclose(h, -Lpp / Lp**3, rtol=1e-11)
    assert torch.allclose(langevin(x.detach()), y.detach(), rtol=1e-14)
