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
