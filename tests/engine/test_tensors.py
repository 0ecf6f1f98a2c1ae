"""Closed-form 3x3 algebra against torch.linalg, and its derivatives."""

import torch
from support import random_F, random_sym

from constitutive import tensors as T


def test_det_inv_cofactor_against_linalg(gen):
    A = random_F(100, gen, amplitude=0.8)
    assert torch.allclose(T.det(A), torch.linalg.det(A), rtol=1e-12, atol=1e-12)
    assert torch.allclose(T.inv(A), torch.linalg.inv(A), rtol=1e-10, atol=1e-10)
    assert torch.allclose(T.cofactor(A), torch.linalg.det(A)[:, None, None] * torch.linalg.inv(A).transpose(-1, -2), atol=1e-10)


def test_cofactor_of_singular_matrix_is_defined():
    A = torch.tensor([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    cof = T.cofactor(A)
    assert torch.isfinite(cof).all()
    assert torch.allclose(A @ cof.T, T.det(A) * torch.eye(3), atol=1e-14)


def test_invariants_against_eigenvalues(gen):
    A = random_sym(50, gen)
    ev = torch.linalg.eigvalsh(A)
    I1, I2, I3 = T.invariants(A)
    assert torch.allclose(I1, ev.sum(-1), atol=1e-12)
    assert torch.allclose(I2, ev[:, 0] * ev[:, 1] + ev[:, 1] * ev[:, 2] + ev[:, 0] * ev[:, 2], atol=1e-12)
    assert torch.allclose(I3, ev.prod(-1), atol=1e-12)


def test_isochoric_invariants_are_volume_free(gen):
    F = random_F(20, gen)
    C = F.transpose(-1, -2) @ F
    I1b, I2b, J = T.isochoric_invariants(C)
    C2 = (2.0 ** (2 / 3)) * C  # scaling by a dilatation leaves isochoric invariants unchanged
    I1b2, I2b2, J2 = T.isochoric_invariants(C2)
    assert torch.allclose(I1b, I1b2, rtol=1e-13) and torch.allclose(I2b, I2b2, rtol=1e-13)
    assert torch.allclose(J2, 2.0 * J, rtol=1e-13)
    assert torch.allclose(J, torch.linalg.det(F), rtol=1e-12)


def test_dev_trace_sym_skew(gen):
    A = torch.randn(10, 3, 3, generator=gen)
    assert torch.allclose(T.trace(T.dev(A)), torch.zeros(10), atol=1e-14)
    assert torch.allclose(T.sym(A) + T.skew(A), A)
    assert torch.allclose(T.sym(A), T.sym(A).transpose(-1, -2))


def test_det_second_derivatives_closed_form(gen):
    """d det A / dA = cof A; second derivative contracted with H: tr(cof(A)^T ...) checked by FD."""
    A = random_F(1, gen)[0].requires_grad_(True)
    (g,) = torch.autograd.grad(T.det(A), A, create_graph=True)
    assert torch.allclose(g, T.cofactor(A.detach()), atol=1e-13)
    H = torch.randn(3, 3, generator=gen)
    (hvp,) = torch.autograd.grad((g * H).sum(), A)
    h = 1e-6
    Ad = A.detach()
    fd = (T.cofactor(Ad + h * H) - T.cofactor(Ad - h * H)) / (2 * h)
    assert torch.allclose(hvp, fd, atol=1e-8)
