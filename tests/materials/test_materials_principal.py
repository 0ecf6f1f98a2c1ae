"""Coincidence-safe spectral sums (constitutive.principal) and the Ogden model built on them.

Ogden with alpha = 2, -2, 4, -4 equals invariant-based energies exactly; stress and tangent are
compared at exactly coincident principal stretches (E = 0, uniaxial, equibiaxial, hydrostatic,
rotated), at nearly coincident ones (gaps 1e-12 ... 1e-1, across the branch thresholds) and
against finite differences at nearby distinct stretches.
"""

import math

import pytest
import torch

import materials
from constitutive import Hyperelastic, param
from constitutive import kinematics as kin
from constitutive.checks import check_tangent_fd, random_rotations
from constitutive.principal import TAU_PAIR, TAU_TRIPLE, eigenvalues_detached, principal_power_sums
from materials.decoupled import BULK_MODULUS, Decoupled

torch.set_default_dtype(torch.float64)


class _Quartic:
    """W_iso = mu/4 (sum lb^4 - 3) = mu/4 (I1b^2 - 2 I2b - 3); and the alpha = -4 analogue."""

    mu: float = param(0.7)
    sign: float = param(1.0, unit="-")

    def isochoric_energy(self, k):
        if float(self.sign) > 0:
            return self.mu / 4.0 * (k.I1b**2 - 2.0 * k.I2b - 3.0)
        return self.mu / 4.0 * (k.I2b**2 - 2.0 * k.I1b - 3.0)

    def shear_modulus(self):
        return 2.0 * float(self.mu)


class Quartic(_Quartic, Decoupled):
    K: float = BULK_MODULUS


def _diag(*v):
    return torch.diag(torch.tensor(v, dtype=torch.float64))


def coincident_F():
    """Deformation gradients with exactly (or to rounding) coincident principal stretches."""
    lam = 1.37
    Fs = [
        torch.eye(3),
        _diag(lam, lam**-0.5, lam**-0.5),  # uniaxial, isochoric
        _diag(lam, lam, lam**-2),  # equibiaxial, isochoric
        _diag(0.8, 1.1, 1.1),  # uniaxial with volume change
        _diag(1.1, 1.1, 1.1),  # hydrostatic
        _diag(0.7, 0.7, 1.3),
        _diag(lam**-0.5, lam, lam**-0.5),
    ]
    Q = random_rotations(3, torch.Generator().manual_seed(7))
    Fs += [Q[0] @ Fs[1] @ Q[0].T, Q[1] @ Fs[2] @ Q[1].T, Q[2] @ Fs[4], Q[2] @ Fs[3] @ Q[1].T]
    return torch.stack(Fs)


def near_coincident_F():
    """Gaps from 1e-12 to 1e-1, including both sides of the branch thresholds."""
    Fs = []
    for d in [1e-12, 1e-9, 1e-6, 1e-4, 0.5 * TAU_TRIPLE, 2 * TAU_TRIPLE, 0.4 * TAU_PAIR, 0.6 * TAU_PAIR, 2 * TAU_PAIR, 0.1]:
        Fs += [_diag(1.0, 1.0 + d, 1.0), _diag(1.3, 0.9 + d, 0.9), _diag(1.0 + d, 1.0 - d, 1.0 + 0.5 * d)]
    Q = random_rotations(len(Fs), torch.Generator().manual_seed(3))
    return Q @ torch.stack(Fs) @ Q.transpose(-1, -2)


PAIRS = [
    (dict(mu=[0.9], alpha=[2.0]), lambda K, vol: materials.get("neo-hooke-decoupled", mu=0.9, K=K, volumetric=vol)),
    (dict(mu=[0.6, -0.3], alpha=[2.0, -2.0]), lambda K, vol: materials.get("mooney-rivlin", c10=0.3, c01=0.15, K=K, volumetric=vol)),
    (dict(mu=[0.7], alpha=[4.0]), lambda K, vol: Quartic(mu=0.7, sign=1.0, K=K, volumetric=vol)),
    (dict(mu=[-0.7], alpha=[-4.0]), lambda K, vol: Quartic(mu=0.7, sign=-1.0, K=K, volumetric=vol)),
]


def _rel(a, b):
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("k", range(len(PAIRS)))
@pytest.mark.parametrize("which", ["coincident", "near"])
def test_ogden_equals_invariant_model(k, which):
    og_params, make_ref = PAIRS[k]
    K, vol = 3.0, "lnJ"
    og = materials.get("ogden", K=K, volumetric=vol, **og_params)
    ref = make_ref(K, vol)
    F = coincident_F() if which == "coincident" else near_coincident_F()
    e = kin.strain_mandel_from_F(F)
    s1, D1 = og.stress_tangent_mandel(e)
    s2, D2 = ref.stress_tangent_mandel(e)
    assert torch.isfinite(D1).all()
    assert _rel(s1, s2) < 1e-12
    assert _rel(D1, D2) < 1e-10  # requirement: ~1e-8 relative at coincident stretches
    assert torch.allclose(og.energy_mandel(e), ref.energy_mandel(e), rtol=1e-13, atol=1e-14)
    # the same through the incompressible variants (isochoric energy only)
    og_i = materials.get("ogden-incompressible", **og_params)
    _, Di = og_i.stress_tangent_mandel(e)
    assert torch.isfinite(Di).all()


def test_ogden_tangent_fd_near_coincidence():
    """Central FD of the stress at distinct but nearby stretches (gap 1e-3 .. 1e-1)."""
    og = materials.get("ogden", K=5.0)
    Fs = []
    for d in [1e-3, 3e-3, 1e-2, 3e-2, 1e-1]:
        Fs += [_diag(1.0, 1.0 + d, 1.0 - d), _diag(1.4, 0.85, 0.85 + d), _diag(1.2 + d, 1.2, 0.7)]
    Q = random_rotations(len(Fs), torch.Generator().manual_seed(5))
    F = Q @ torch.stack(Fs)
    r = check_tangent_fd(og, F, h=1e-6, tol=1e-7)
    assert r.passed, r


def test_power_sums_against_eigvalsh_and_gradient():
    g = torch.Generator().manual_seed(0)
    A = 0.4 * torch.randn(64, 3, 3, generator=g)
    C = torch.cat([torch.linalg.matrix_exp(A + A.mT), kin.right_cauchy_green(near_coincident_F())])
    beta = torch.tensor([1.0, -1.0, 0.65, 2.5, -3.1])
    ev = torch.linalg.eigvalsh(C)
    ref = (ev[..., None] ** beta).sum(-2)
    x = C.clone().requires_grad_(True)
    val = principal_power_sums(x, beta)
    assert torch.allclose(val, ref, rtol=1e-13)
    evd = eigenvalues_detached(C)
    assert torch.allclose(evd, ev, rtol=1e-7, atol=1e-12)
    # d tr(C^b)/dC = b C^(b-1)
    w, V = torch.linalg.eigh(C)
    for i, b in enumerate(beta.tolist()):
        (grad,) = torch.autograd.grad(val[:, i].sum(), x, retain_graph=True)
        expect = b * V @ torch.diag_embed(w ** (b - 1)) @ V.mT
        assert torch.allclose(0.5 * (grad + grad.mT), expect, rtol=1e-10, atol=1e-12)


def test_second_derivative_at_identity_closed_form():
    """d2 tr(C^b) / dC dC at C = I is b (b-1) I4sym (divided difference -> derivative)."""
    C = torch.eye(3, requires_grad=True)
    b = 0.65
    val = principal_power_sums(C, [b])[0]
    (g,) = torch.autograd.grad(val, C, create_graph=True)
    H = torch.stack([torch.autograd.grad(g[i, j], C, retain_graph=True)[0] for i in range(3) for j in range(3)])
    H = H.reshape(3, 3, 3, 3)
    I = torch.eye(3)
    # autograd w.r.t. the full (unsymmetrised) matrix: H_ijkl = b(b-1) delta_ik delta_jl at identity
    assert torch.allclose(H, b * (b - 1) * torch.einsum("ik,jl->ijkl", I, I), atol=1e-13)


@pytest.mark.parametrize("state", ["reference", "uniaxial"])
def test_parameter_gradients_through_tangent(state):
    """create_graph=True: d(sum w*D)/d(alpha, mu) by autograd vs central differences."""
    F = torch.eye(3) if state == "reference" else _diag(1.3, 1.3**-0.5, 1.3**-0.5)
    e = kin.strain_mandel_from_F(F)
    w = torch.arange(36.0).reshape(6, 6) / 36.0

    def loss(mu, alpha):
        mat = materials.get("ogden-incompressible", mu=mu, alpha=alpha)
        s, D = mat.stress_tangent_mandel(e, create_graph=True)
        return (w * D).sum() + s.sum()

    mu = torch.tensor([0.63, 0.0012, -0.01], requires_grad=True)
    alpha = torch.tensor([1.3, 5.0, -2.0], requires_grad=True)
    ga, gm = torch.autograd.grad(loss(mu, alpha), (alpha, mu))
    h = 1e-6
    for p, g_ad in ((alpha, ga), (mu, gm)):
        for i in range(3):
            dp = torch.zeros(3)
            dp[i] = h
            with torch.no_grad():
                if p is alpha:
                    fd = (loss(mu.detach(), alpha.detach() + dp) - loss(mu.detach(), alpha.detach() - dp)) / (2 * h)
                else:
                    fd = (loss(mu.detach() + dp, alpha.detach()) - loss(mu.detach() - dp, alpha.detach())) / (2 * h)
            assert math.isfinite(float(g_ad[i]))
            assert abs(float(g_ad[i]) - float(fd)) <= 1e-6 * max(1.0, abs(float(fd))), (i, float(g_ad[i]), float(fd))


def test_ogden_invalid_parameters():
    with pytest.raises(ValueError, match="same length"):
        materials.get("ogden", mu=[1.0, 2.0], alpha=[2.0])
    with pytest.raises(ValueError, match="same length"):
        materials.get("ogden", mu=[], alpha=[])
    with pytest.raises(ValueError, match="nonzero"):
        materials.get("ogden", mu=[1.0], alpha=[0.0])
    with pytest.raises(ValueError, match="shear modulus"):
        materials.get("ogden", mu=[-1.0], alpha=[2.0])
    with pytest.raises(ValueError, match="1-D"):
        materials.get("ogden", mu=1.0, alpha=[2.0])


def test_user_model_can_use_principal_power_sums():
    """A user-defined principal-stretch model in a few lines (Valanis-Landel-type power law)."""

    class PowerLaw(Hyperelastic):
        mu: float = param(1.0)
        K: float = param(50.0)

        def energy(self, E):
            from materials.isochoric import IsochoricKinematics
            from materials.volumetric import volumetric_u

            k = IsochoricKinematics(E)
            s = principal_power_sums(k.Cb, [1.5])[..., 0]  # sum lb_i^3
            return self.mu / 3.0 * (s - 3.0) + self.K * volumetric_u(k.I3, "J-1")

        def initial_moduli(self):
            return 1.5 * float(self.mu), float(self.K)

    from constitutive.checks import run_all_checks

    res = run_all_checks(PowerLaw(), n=6)
    assert all(r.passed for r in res), res


@pytest.mark.parametrize("beta", [15.0, -15.0, 7.3])
def test_series_truncation_at_the_thresholds(beta):
    """Just inside the triple branch and the pair series, for |alpha| = 2|beta| up to 30."""
    cfgs = [
        (1.0, 1.0 + 2.99 * TAU_TRIPLE, 1.0),  # sqrt(p2/6) = 0.997 TAU_TRIPLE: triple branch
        (1.0 - 1.7 * TAU_TRIPLE, 1.0 + 1.7 * TAU_TRIPLE, 1.0),
        (1.3, 0.9 + 0.99 * TAU_PAIR, 0.9),  # pair series at its largest gap
    ]
    C = torch.stack([torch.diag(torch.tensor(c)) for c in cfgs])
    ref = (torch.tensor(cfgs) ** beta).sum(-1)
    assert torch.allclose(principal_power_sums(C, [beta])[:, 0], ref, rtol=3e-15)
