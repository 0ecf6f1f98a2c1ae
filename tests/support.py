"""Helpers shared by the tests: random symmetric tensors and deformation gradients."""

import torch


def random_sym(n, gen, scale=1.0):
    A = scale * torch.randn(n, 3, 3, generator=gen, dtype=torch.float64)
    return 0.5 * (A + A.transpose(-1, -2))


def random_F(n, gen, amplitude=0.2):
    """Random deformation gradients with det F > 0 (near identity, general, non-symmetric)."""
    F = torch.eye(3, dtype=torch.float64) + amplitude * torch.randn(n, 3, 3, generator=gen, dtype=torch.float64)
    sign = torch.sign(torch.linalg.det(F))
    F[:, :, 0] = F[:, :, 0] * sign[:, None]  # flip one column where det F < 0
    assert bool((torch.linalg.det(F) > 0).all())
    return F


def hereditary_P11(times, stretch, mu, beta, tau):
    """Independent solution of the incompressible neo-Hookean Prony model in uniaxial tension
    along ``stretch(s) -> (lambda, dlambda/ds)``: ``S_iso = mu (I - I1/3 C^-1)`` with
    ``C = diag(l^2, 1/l, 1/l)``, ``dS11/dl = 2 mu l^-4``, ``dS22/dl = -mu l^2``,
    ``Q_i(t) = beta_i int exp(-(t - s)/tau_i) dS_iso/ds ds`` by composite Gauss-Legendre
    quadrature (800 panels of 10 points), the pressure from ``S22 = 0``; returns ``P11(t)``."""
    import numpy as np

    xg, wg = np.polynomial.legendre.leggauss(10)
    out = []
    for t in times:
        edges = np.linspace(0.0, t, 801)
        a, b = edges[:-1, None], edges[1:, None]
        s = 0.5 * (a + b) + 0.5 * (b - a) * xg
        w = 0.5 * (b - a) * wg
        lam, dlam = stretch(s)
        d11, d22 = 2 * mu * lam**-4 * dlam, -mu * lam**2 * dlam
        q11 = q22 = 0.0
        for bi, ti in zip(beta, tau, strict=True):
            k = bi * np.exp(-(t - s) / ti) * w
            q11, q22 = q11 + (k * d11).sum(), q22 + (k * d22).sum()
        lt = stretch(t)[0]
        i1 = lt**2 + 2 / lt
        s11, s22 = mu * (1 - i1 / (3 * lt**2)) + q11, mu * (1 - i1 * lt / 3) + q22
        out.append(lt * (s11 - s22 / lt**3))
    return np.array(out)
