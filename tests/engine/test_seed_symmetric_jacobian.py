"""The question of seeds/000: the Jacobian with respect to a symmetric tensor.

Autograd on the full 3x3 matrix treats the nine entries as independent; differentiating with
respect to the six Mandel coordinates is exact and convention-free.
"""

import math

import torch
from torch.func import jacrev

from constitutive import mandel


def test_jacobian_of_sym_is_identity_in_mandel():
    x = torch.tensor([1.0, 1.0, 1.0, 7 * math.sqrt(2), 5 * math.sqrt(2), 3 * math.sqrt(2)])
    J = jacrev(lambda e: mandel.to_mandel(0.5 * (mandel.from_mandel(e) + mandel.from_mandel(e).T)))(x)
    assert torch.allclose(J, torch.eye(6), atol=1e-15)
    # in full form this is the symmetric identity: 1/2 on the off-diagonal pairs
    Is = mandel.from_mandel4(J)
    assert math.isclose(float(Is[0, 1, 0, 1]), 0.5, rel_tol=1e-15)
    assert math.isclose(float(Is[0, 1, 1, 0]), 0.5, rel_tol=1e-15)
    assert math.isclose(float(Is[0, 0, 0, 0]), 1.0, rel_tol=1e-15)
    assert torch.allclose(Is, mandel.identity4_sym(), atol=1e-15)


def test_elementwise_square_consistent_in_both_forms():
    X = torch.tensor([[1.0, 3.0, 5.0], [3.0, 1.0, 7.0], [5.0, 7.0, 1.0]])

    def Y(e):
        return mandel.to_mandel(mandel.from_mandel(e) ** 2)

    D = jacrev(Y)(mandel.to_mandel(X))
    C = mandel.from_mandel4(D)
    # Y_12 = X_12^2 with X_12 = X_21: dY_12/dX_12 (as a symmetric tangent) is 2 X_12 / 2 on
    # each of the two equal entries; contracting with a symmetric increment gives 2 X_12 dX_12
    assert math.isclose(float(C[1, 2, 1, 2]), 7.0) and math.isclose(float(C[1, 2, 2, 1]), 7.0)
    dX = torch.zeros(3, 3)
    dX[1, 2] = dX[2, 1] = 1e-3
    lin = torch.einsum("ijkl,kl->ij", C, dX)
    assert math.isclose(float(lin[1, 2]), 2 * 7.0 * 1e-3, rel_tol=1e-12)
    # and the Mandel matrix is diagonal with entries 2 X_ij: d(y_I)/d(x_I) for every component
    diag = torch.diag(D)
    expect = 2 * torch.tensor([1.0, 1.0, 1.0, 7.0, 5.0, 3.0])
    assert torch.allclose(D, torch.diag(diag)) and torch.allclose(diag, expect)
