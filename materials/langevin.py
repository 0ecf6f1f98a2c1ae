"""Langevin function and its inverse, accurate to machine precision and twice differentiable.

``L(x) = coth x - 1/x``. The inverse ``L^{-1}`` has no closed form; the literature offers
rational approximants, e.g. (maximum relative errors on ``[0, 1)`` measured here by
:func:`approximant_error`, in line with the published figures):

* Cohen (1991), Rheol. Acta 30:270: ``x (3 - x^2) / (1 - x^2)``, 4.94 %;
* Jedynak (2015), Rheol. Acta 54:29: ``x (3 - 2.6 x + 0.7 x^2) / ((1 - x)(1 + 0.1 x))``, 1.5 %.

:func:`inverse_langevin` is instead exact to rounding: Jedynak's approximant is polished by four
Newton iterations without gradient, then two Newton steps are taken on the autograd graph. Since
the start is the converged root, the result agrees with the true inverse to fourth order in a
perturbation of ``x``: value, first, second and third derivatives are exact (the
implicit-function theorem carried out by autograd). Measured relative error 6e-15 for
``y <= 0.9``, 1.1e-14 for ``y <= 0.99``, 1e-13 for ``y <= 0.999``: the conditioning limit
``~1e-16 / (1 - y)`` of the problem itself (tests/test_materials_langevin.py). Small arguments use the Taylor
series of ``L`` (from Bernoulli numbers), large ones ``exp(-2x)`` forms, so nothing overflows up
to the locking limit ``x -> 1`` (``L^{-1}(x) ~ 1 / (1 - x)``).

References: Langevin (1905); Cohen (1991); Jedynak (2015); Kröger (2015), J. Non-Newton. Fluid
Mech. 223:77 (survey of approximants).
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch

SERIES_LIMIT = 0.5
_N_SERIES = 12


def _bernoulli(n: int) -> list[Fraction]:
    B = [Fraction(1)]
    for m in range(1, n + 1):
        B.append(-sum(math.comb(m + 1, k) * B[k] for k in range(m)) / (m + 1))
    return B


_B = _bernoulli(2 * _N_SERIES)
#: L(x) = sum_n A_n x^(2n-1), A_n = 2^(2n) B_2n / (2n)!  (n = 1.._N_SERIES)
_A = [float(2 ** (2 * n) * _B[2 * n] / math.factorial(2 * n)) for n in range(1, _N_SERIES + 1)]


def _safe(x: torch.Tensor, small: torch.Tensor):
    """Inputs for the series branch (x where small, else 0) and the closed branch (x where
    large, else 1): the double-where pattern keeps both branches' gradients finite."""
    return torch.where(small, x, torch.zeros_like(x)), torch.where(small, torch.ones_like(x), x)


def langevin(x: torch.Tensor) -> torch.Tensor:
    """``L(x) = coth x - 1/x`` for ``x >= 0`` (elementwise, differentiable)."""
    small = x.abs() < SERIES_LIMIT
    xs, xl = _safe(x, small)
    x2 = xs * xs
    series = torch.zeros_like(xs)
    for a in reversed(_A):
        series = series * x2 + a
    series = series * xs
    q = torch.exp(-2.0 * xl)
    closed = (1.0 + q) / (1.0 - q) - 1.0 / xl
    return torch.where(small, series, closed)


def langevin_derivative(x: torch.Tensor) -> torch.Tensor:
    """``L'(x) = 1/x^2 - 1/sinh^2 x`` (elementwise, differentiable)."""
    small = x.abs() < SERIES_LIMIT
    xs, xl = _safe(x, small)
    x2 = xs * xs
    series = torch.zeros_like(xs)
    for n in reversed(range(1, _N_SERIES + 1)):
        series = series * x2 + (2 * n - 1) * _A[n - 1]
    q = torch.exp(-2.0 * xl)
    closed = 1.0 / (xl * xl) - 4.0 * q / (1.0 - q) ** 2
    return torch.where(small, series, closed)


def log_sinhc(x: torch.Tensor) -> torch.Tensor:
    """``ln(sinh x / x)`` for ``x >= 0`` (its derivative is ``L(x)``)."""
    small = x.abs() < SERIES_LIMIT
    xs, xl = _safe(x, small)
    x2 = xs * xs
    series = torch.zeros_like(xs)
    for n in reversed(range(1, _N_SERIES + 1)):
        series = series * x2 + _A[n - 1] / (2 * n)
    series = series * x2
    closed = xl + torch.log1p(-torch.exp(-2.0 * xl)) - math.log(2.0) - torch.log(xl)
    return torch.where(small, series, closed)


def inverse_langevin_cohen(y: torch.Tensor) -> torch.Tensor:
    """Cohen's rounded Pade approximant ``y (3 - y^2) / (1 - y^2)`` (max rel. error 4.94 %)."""
    return y * (3.0 - y * y) / (1.0 - y * y)


def inverse_langevin_jedynak(y: torch.Tensor) -> torch.Tensor:
    """Jedynak (2015) ``y (3 - 2.6 y + 0.7 y^2) / ((1 - y)(1 + 0.1 y))`` (max rel. error 1.5 %)."""
    return y * (3.0 - 2.6 * y + 0.7 * y * y) / ((1.0 - y) * (1.0 + 0.1 * y))


def inverse_langevin(y: torch.Tensor) -> torch.Tensor:
    """Exact ``L^{-1}(y)`` for ``0 <= y < 1`` (elementwise), with exact derivatives up to third
    order (Newton-polished Jedynak start, two Newton steps on the graph)."""
    with torch.no_grad():
        yd = y.detach()
        x = inverse_langevin_jedynak(yd)
        pos = yd > 0
        x = torch.where(pos, x, torch.ones_like(x))
        for _ in range(4):
            x = x - (langevin(x) - yd) / langevin_derivative(x)
            x = torch.where(x > 0, x, 0.5 * torch.ones_like(x))
    for _ in range(2):
        x = x - (langevin(x) - y) / langevin_derivative(x)
    return torch.where(pos, x, 3.0 * y)


def approximant_error(fn, n: int = 200001, y_max: float = 1.0 - 1e-6) -> float:
    """Maximum relative error of an approximant ``fn`` of ``L^{-1}`` on ``(0, y_max]``,
    measured against :func:`inverse_langevin` on ``n`` points (for documentation and tests)."""
    x = torch.linspace(1e-6, 60.0, n, dtype=torch.float64)
    x = torch.cat([x, 1.0 / torch.linspace(1.0 / 60.0, 1e-6, n, dtype=torch.float64)])
    y = langevin(x)
    keep = y <= y_max
    return float(((fn(y[keep]) - x[keep]) / x[keep]).abs().max())
