"""Spectral sums ``sum_i g(c_i)`` of a symmetric positive-definite 3x3 tensor, safe at coincident
eigenvalues, for models written in principal stretches (Ogden: ``sum_i lambda_i^alpha =
tr C^(alpha/2)``).

Why not ``torch.linalg.eigh``
-----------------------------
Eigenvector derivatives carry ``1 / (c_i - c_j)``; at coincident eigenvalues (``E = 0``,
uniaxial, equibiaxial and hydrostatic states: exactly where users evaluate) the first and second
derivatives of an eigendecomposition are infinite or NaN, although ``sum_i g(c_i)`` itself is a
smooth (isotropic) function of ``C``. This module evaluates the sum with formulas whose autograd
derivatives stay finite and exact. Three branches, chosen per point from quantities computed
*without* gradient: the spread ``q = sqrt(tr C_d^2 / 6)`` of the eigenvalues about their mean
and the eigenvalue farthest from the middle one (its sign is that of ``det C_d``; a quartic in
``|det C_d| / (2 q^3)`` approximates ``cos(acos(.) / 3)`` of the trigonometric formula to
1e-5 and two Newton steps on the characteristic polynomial make it exact, no trigonometric
function is evaluated):

1. **Triple branch** (all three eigenvalues within ``TAU_TRIPLE`` of their mean ``m``): Taylor
   series about ``m``, ``sum_i g(c_i) = sum_n g^(n)(m) / n! * p_n`` where ``p_n = sum_i y_i^n``
   are the power sums of the eigenvalues of the deviator ``C_d = C - m I``, obtained exactly from
   ``p2 = tr C_d^2`` and ``d3 = det C_d`` by Newton's identities
   (``p_n = p2/2 p_{n-2} + d3 p_{n-3}``). A polynomial in the components of ``C``; truncation
   after ``N_TRIPLE`` terms leaves a relative error below 1e-15 for ``|alpha| <= 30`` (tested).
2. **Isolated root + pair**: the eigenvalue farthest from the middle one, ``c_d``, is simple and
   separated from the others by at least ``~TAU_TRIPLE m``, hence a smooth function of ``C``. It
   is the root of ``chi(c) = c^3 - I1 c^2 + I2 c - I3``; starting from that detached value
   ``c0``, one Halley step ``c = c0 - 2 chi chi' / (2 chi'^2 - chi chi'')`` is taken *on the
   autograd graph*. Because ``c0`` is the exact root at the current point and Halley's method
   converges cubically, ``c`` agrees with the true root to third order in a perturbation of
   ``C``: value, first and second derivatives are exact (the implicit-function theorem carried
   out by autograd; what stress, tangent and their parameter derivatives need). With ``c0``
   constant, ``chi``, ``chi'`` and ``chi''`` are linear in the invariants, so the step is a few
   operations (two Newton steps cost three times as much in the compiled tangent). The
   remaining pair enters through its sum ``s = I1 - c_d`` and squared gap
   ``t = s^2 - 4 I3 / c_d = (c_a - c_b)^2`` (both smooth), with ``g(c_a) + g(c_b) = h(s, t)``:

   * near-coincident pair (gap ``< TAU_PAIR m``, decided on the detached ``t``):
     ``h = 2 sum_k g^(2k)(s/2) (t/4)^k / (2k)!``,
     a power series in ``t`` (truncated after ``N_PAIR`` terms, relative error < 1e-16 for
     ``|alpha| <= 30``);
   * otherwise ``h = g(c_a) + g(c_b)`` with ``c_a = s/2 + sqrt(t)/2`` and ``c_b = (I3 / c_d) /
     c_a`` (the product of the pair, free of cancellation), ``sqrt(t) >= TAU_PAIR m``.

Branches are combined with the "double where" pattern: each branch sees harmless dummy inputs at
the points it does not own, so no ``0 * inf`` reaches the gradients. Everything is closed-form
3x3 algebra; it works under reverse-over-reverse autograd (the engine's 1 + 6 passes), with
``create_graph=True`` for gradients with respect to the exponents (fitting), on CPU and GPU.
The compiled fast path evaluates only the branch a block of points takes
(:func:`constitutive.fast.stage3_ir.specialize`).

Powers are evaluated as ``x^beta = exp(beta ln x)`` (optionally times a scale ``s^beta``,
``ln s`` given): autograd's derivatives then reuse the one exponential instead of forming new
powers ``x^(beta - 1)``, ``x^(beta - 2)``.

References: Ogden (1972), Proc. R. Soc. Lond. A 326:565; Smith (1961), Commun. ACM 4:168
(trigonometric eigenvalues of a symmetric 3x3 matrix); Simo & Taylor (1991), CMAME 85:273, and
Miehe (1993), IJNME 37:1981 (the coincident-eigenvalue problem of principal-stretch models);
Halley's method: Traub (1964), Iterative Methods for the Solution of Equations, sec. 5.2.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .tensors import det, invariants

#: triple branch where sqrt(tr C_d^2 / 6) < TAU_TRIPLE * mean eigenvalue
TAU_TRIPLE = 3e-3
#: pair series where the pair's gap < TAU_PAIR * mean eigenvalue
TAU_PAIR = 2e-2
N_TRIPLE = 10
N_PAIR = 5

Derivs = Callable[[torch.Tensor, int], list]


def eigenvalues_detached(C: torch.Tensor) -> torch.Tensor:
    """Ascending eigenvalues (...,3) of symmetric ``C`` by the trigonometric formula, no gradient.

    Used to pick branches and as starting values; accurate to ~1e-16 relative for
    well-separated roots and ~1e-8 for a nearly double pair (which is never used individually).
    """
    with torch.no_grad():
        C = C.detach()
        I1 = C[..., 0, 0] + C[..., 1, 1] + C[..., 2, 2]
        m = I1 / 3.0
        Cd = C - m[..., None, None] * torch.eye(3, dtype=C.dtype, device=C.device)
        return _trig_eigenvalues(m, (Cd * Cd).sum((-1, -2)), det(Cd))


def _trig_eigenvalues(m, p2, d3):
    q = torch.sqrt(p2 / 6.0)
    qs = torch.where(q > 0, q, torch.ones_like(q))
    r = (d3 / (2.0 * qs**3)).clamp(-1.0, 1.0)
    phi = torch.acos(r) / 3.0
    hi = m + 2.0 * q * torch.cos(phi)
    lo = m + 2.0 * q * torch.cos(phi + 2.0 * math.pi / 3.0)
    mid = 3.0 * m - hi - lo
    return torch.stack([lo, mid, hi], dim=-1)


#: cos(acos(u) / 3) on [0, 1] (least squares in Chebyshev form, max error 9.1e-6)
_ISO_COEFFS = (0.8660344784435269, 0.1663758323177684, -0.04585590254449858, 0.01750308531842284,
               -0.004064325447293507)


def _isolated_root(q: torch.Tensor, d3: torch.Tensor) -> torch.Tensor:
    """Start value of the isolated eigenvalue of the deviator (``+-2 q cos(acos|r| / 3)``,
    ``r = d3 / (2 q^3)``), to ~2e-5 q without trigonometric functions: the eigenvalue farthest
    from the middle one has the sign of ``det C_d`` and lies in ``[sqrt(3) q, 2 q]``; two
    Newton steps on the characteristic polynomial then make it exact."""
    qs = torch.where(q > 0, q, torch.ones_like(q))
    r = (d3 / (2.0 * qs**3)).clamp(-1.0, 1.0)
    u = r.abs()
    z = _ISO_COEFFS[-1] * torch.ones_like(u)
    for c in _ISO_COEFFS[-2::-1]:
        z = z * u + c
    return torch.where(r >= 0, 2.0 * q * z, -2.0 * q * z)


def power_derivatives(exponents: torch.Tensor, log_scale: torch.Tensor | None = None) -> Derivs:
    """``derivs(x, n)`` for ``g(x) = (s x)**beta``: ``[g, g', ..., g^(n)]``, each ``x[..., None]``
    broadcast against the exponents (K,); ``log_scale = ln s`` (shape of ``x``) or None (s = 1).

    ``g = exp(beta (ln x + ln s))`` and ``g^(k) = beta (beta-1) ... (beta-k+1) g / x^k``."""

    def from_log(lx: torch.Tensor) -> torch.Tensor:
        """``g`` from ``ln x`` (...) -> (..., K)."""
        lx = lx[..., None] if log_scale is None else (lx + log_scale)[..., None]
        return torch.exp(exponents * lx)

    def derivs(x: torch.Tensor, n: int) -> list:
        xb = x[..., None]
        base = from_log(torch.log(x))
        out, coef, inv = [base], torch.ones_like(exponents), 1.0 / xb
        xinv_k = torch.ones_like(xb)
        for k in range(n):
            coef = coef * (exponents - k)
            xinv_k = xinv_k * inv
            out.append(coef * base * xinv_k)
        return out

    derivs.from_log = from_log
    return derivs


def principal_power_sums(C: torch.Tensor, exponents, log_scale: torch.Tensor | None = None) -> torch.Tensor:
    """``tr (s C)^beta = s^beta sum_i c_i^beta`` for each exponent; C (...,3,3) SPD, exponents
    (K,) -> (..., K); optional ``log_scale = ln s`` (...), e.g. ``-ln(det C) / 3`` for the
    isochoric ``Cb = J^(-2/3) C`` without forming ``Cb``. With ``C`` the (isochoric) right
    Cauchy-Green tensor and ``beta = alpha / 2`` this is ``sum_i lambda_i^alpha``. First and
    second derivatives are finite and exact, also at coincident principal stretches (see the
    module docstring for the method)."""
    beta = torch.as_tensor(exponents, dtype=C.dtype, device=C.device)
    if beta.ndim != 1:
        raise ValueError(f"exponents: expected a 1-D list, got shape {tuple(beta.shape)}")
    return spectral_sum(C, power_derivatives(beta, log_scale))


def spectral_sum(C: torch.Tensor, derivs: Derivs) -> torch.Tensor:
    """``sum_i g(c_i)`` over the eigenvalues of SPD ``C`` (...,3,3), coincidence-safe.

    Parameters
    ----------
    C : (..., 3, 3) symmetric positive-definite tensor
    derivs : ``derivs(x, n) -> [g(x), g'(x), ..., g^(n)(x)]``, each of shape ``x.shape + (K,)``
        for ``K`` scalar functions evaluated at once (e.g. the terms of an Ogden series).

    Returns
    -------
    (..., K) tensor of spectral sums.
    """
    eye = torch.eye(3, dtype=C.dtype, device=C.device)
    I1, I2, I3 = invariants(C)
    m = I1 / 3.0
    Cd = C - m[..., None, None] * eye
    p2 = (Cd * Cd).sum((-1, -2))
    d3 = det(Cd)
    with torch.no_grad():
        mref = m.detach()
        q = torch.sqrt(p2.detach() / 6.0)
        triple = q < TAU_TRIPLE * mref
        one = torch.ones_like(mref)
        # dummy point for the triple-branch points: eigenvalues (1, 1, 2), isolated root 2
        J1, J2, J3 = (torch.where(triple, v * one, w.detach()) for v, w in ((4.0, I1), (5.0, I2), (2.0, I3)))
        c0 = torch.where(triple, 2.0 * one, mref + _isolated_root(q, d3.detach()))
        for _ in range(2):  # polish the isolated root (detached)
            c0 = c0 - _chi(c0, J1, J2, J3) / _dchi(c0, J1, J2, J3)
        s0 = J1 - c0
        pair_series = torch.logical_or(s0 * s0 - 4.0 * J3 / c0 < (TAU_PAIR * mref) ** 2, triple)
    w_triple = _triple_branch(m, p2, d3, triple, derivs)
    I1s = torch.where(triple, 4.0 * one, I1)
    I2s = torch.where(triple, 5.0 * one, I2)
    I3s = torch.where(triple, 2.0 * one, I3)
    w_pair = _pair_branch(c0, I1s, I2s, I3s, pair_series, derivs)
    return torch.where(triple[..., None], w_triple, w_pair)


def _triple_branch(m, p2, d3, triple, derivs):
    """Taylor series about the mean eigenvalue (exact power sums of the deviator's eigenvalues)."""
    zero = torch.zeros_like(p2)
    p2s, d3s = torch.where(triple, p2, zero), torch.where(triple, d3, zero)
    g_m = derivs(m, N_TRIPLE)
    psum = [3.0 * torch.ones_like(p2), zero, p2s]
    for n in range(3, N_TRIPLE + 1):
        psum.append(0.5 * p2s * psum[n - 2] + d3s * psum[n - 3])
    w = g_m[0] * 3.0
    fact = 1.0
    for n in range(2, N_TRIPLE + 1):
        fact *= n
        w = w + g_m[n] * (psum[n] / fact)[..., None]
    return w


def _pair_branch(c0, I1, I2, I3, pair_series, derivs):
    """Isolated root by one Halley step on the graph (from the exact detached root ``c0``),
    the pair by its sum and squared gap (series near coincidence, else its two roots)."""
    f = _chi(c0, I1, I2, I3)
    f1 = _dchi(c0, I1, I2, I3)
    f2 = 6.0 * c0 - 2.0 * I1
    c = c0 - 2.0 * f * f1 / (2.0 * f1 * f1 - f * f2)
    s = I1 - c
    a = 0.5 * s
    t = s * s - 4.0 * I3 / c
    zero = torch.zeros_like(t)
    g_a = derivs(a, 2 * N_PAIR)
    h_series = 2.0 * g_a[0]
    fact, tk = 1.0, torch.ones_like(t)
    for k in range(1, N_PAIR + 1):
        fact *= (2 * k - 1) * (2 * k)
        tk = tk * (0.25 * torch.where(pair_series, t, zero))
        h_series = h_series + 2.0 * g_a[2 * k] * (tk / fact)[..., None]
    # distinct pair: c_a = a + sqrt(t)/2 and c_b = I3 / (c c_a); where the series is used,
    # sqrt sees the harmless dummy a^2 instead of t ~ 0 (its gradient stays finite)
    c_a = a + 0.5 * torch.sqrt(torch.where(pair_series, a * a, t))
    from_log = getattr(derivs, "from_log", None)
    if from_log is None:
        h_exact = derivs(c_a, 0)[0] + derivs(I3 / (c * c_a), 0)[0]
        g_c = derivs(c, 0)[0]
    else:  # g from logarithms: ln c_b = ln I3 - ln c - ln c_a (no cancellation, one log fewer)
        log_c, log_a = torch.log(c), torch.log(c_a)
        h_exact = from_log(log_a) + from_log(torch.log(I3) - log_c - log_a)
        g_c = from_log(log_c)
    return g_c + torch.where(pair_series[..., None], h_series, h_exact)


def _chi(c, I1, I2, I3):
    """Characteristic polynomial ``c^3 - I1 c^2 + I2 c - I3``."""
    return ((c - I1) * c + I2) * c - I3


def _dchi(c, I1, I2, I3):
    return (3.0 * c - 2.0 * I1) * c + I2


def right_stretch(C: torch.Tensor) -> torch.Tensor:
    """``U = C^(1/2)`` of SPD ``C`` (..., 3, 3) without an eigendecomposition (Hoger & Carlson
    1984, Q. Appl. Math. 42:113)::

        U = (-C^2 + (i1^2 - i2) C + i1 i3 I) / (i1 i2 - i3)

    with the invariants of ``U``: ``i1 = sum_i c_i^(1/2)`` (:func:`principal_power_sums`,
    coincidence-safe), ``i2 = (i1^2 - tr C) / 2``, ``i3 = (det C)^(1/2)``. The denominator is
    ``(u1 + u2)(u2 + u3)(u3 + u1) > 0``. Plain torch operations, so the fast path compiles it.
    """
    i1 = principal_power_sums(C, [0.5])[..., 0]
    i2 = 0.5 * (i1 * i1 - (C[..., 0, 0] + C[..., 1, 1] + C[..., 2, 2]))
    i3 = torch.sqrt(det(C))
    eye = torch.eye(3, dtype=C.dtype, device=C.device)
    num = -(C @ C) + (i1 * i1 - i2)[..., None, None] * C + (i1 * i3)[..., None, None] * eye
    return num / (i1 * i2 - i3)[..., None, None]
