"""The notation table of the edges (Voigt, Abaqus, Mandel) against hand-written component tables,
on torch tensors and NumPy arrays alike: factors, orderings, work conjugacy, inverses."""

import math

import numpy as np
import pytest
import torch

from constitutive import mandel
from constitutive.interfaces import notation as nt

PAIRS = {
    "voigt": [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)],
    "abaqus": [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)],
    "mandel": [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)],
}


def _sym(n, gen):
    A = torch.randn(n, 3, 3, generator=gen, dtype=torch.float64)
    return A + A.transpose(-1, -2)


def _sym4(n, gen):
    """Random tensors with minor and major symmetries, and their Mandel matrices."""
    B = torch.randn(n, 6, 6, generator=gen, dtype=torch.float64)
    D = B @ B.transpose(-1, -2) + 6 * torch.eye(6, dtype=torch.float64)
    return mandel.from_mandel4(D), D


@pytest.mark.parametrize("name", ["voigt", "abaqus"])
def test_voigt_and_abaqus_hand_tables(name):
    gen = torch.Generator().manual_seed(3)
    pairs = PAIRS[name]
    E, S = _sym(4, gen), _sym(4, gen)
    ev, sv = nt.strain_to_vector(E, name), nt.stress_to_vector(S, name)
    for I, (i, j) in enumerate(pairs):
        assert torch.allclose(ev[:, I], (1.0 if i == j else 2.0) * E[:, i, j], atol=1e-15)
        assert torch.allclose(sv[:, I], S[:, i, j], atol=1e-15)
    # work conjugacy: sigma . eps_engineering == S : E
    assert torch.allclose((ev * sv).sum(-1), (E * S).sum((-1, -2)), atol=1e-13)
    assert torch.allclose(nt.vector_to_strain(ev, name), E, atol=1e-15)
    assert torch.allclose(nt.vector_to_stress(sv, name), S, atol=1e-15)
    C, D = _sym4(4, gen)
    Cv = nt.tangent_to_matrix(C, name)
    for I, (i, j) in enumerate(pairs):
        for J, (k, l) in enumerate(pairs):
            assert torch.allclose(Cv[:, I, J], C[:, i, j, k, l], atol=1e-13)
    assert torch.allclose(nt.matrix_to_tangent(Cv, name), C, atol=1e-13)
    # the stiffness maps strain vectors to stress vectors of the same notation
    sig = (Cv @ ev[..., None])[..., 0]
    ref = nt.stress_to_vector(torch.einsum("nijkl,nkl->nij", C, E), name)
    assert torch.allclose(sig, ref, atol=1e-11)
    # the compliance maps stress vectors to engineering strain and inverts the stiffness
    Sv = nt.compliance_to_matrix(mandel.from_mandel4(torch.linalg.inv(D)), name)
    assert torch.allclose(Sv @ Cv, torch.eye(6, dtype=torch.float64).expand_as(Cv), atol=1e-12)
    for I, (i, j) in enumerate(pairs):
        for J, (k, l) in enumerate(pairs):
            f = (1.0 if i == j else 2.0) * (1.0 if k == l else 2.0)
            assert torch.allclose(Sv[:, I, J], f * mandel.from_mandel4(torch.linalg.inv(D))[:, i, j, k, l],
                                  atol=1e-13)


def test_mandel_notation_is_the_engine_convention():
    gen = torch.Generator().manual_seed(4)
    S = _sym(3, gen)
    C, D = _sym4(3, gen)
    assert torch.allclose(nt.stress_to_vector(S, "mandel"), mandel.to_mandel(S), atol=1e-15)
    assert torch.allclose(nt.strain_to_vector(S, "mandel"), mandel.to_mandel(S), atol=1e-15)
    assert torch.allclose(nt.tangent_to_matrix(C, "mandel"), D, atol=1e-12)
    assert abs(nt.NOTATIONS["mandel"][1] - math.sqrt(2)) < 1e-16


def test_numpy_and_torch_agree_and_keep_their_type():
    gen = torch.Generator().manual_seed(5)
    C, _ = _sym4(2, gen)
    S = _sym(2, gen)
    for name in ("mandel", "voigt", "abaqus"):
        Tn = nt.tangent_to_matrix(C.numpy(), name)
        Tt = nt.tangent_to_matrix(C, name)
        assert isinstance(Tn, np.ndarray) and isinstance(Tt, torch.Tensor)
        np.testing.assert_allclose(Tn, Tt.numpy(), rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(nt.stress_to_vector(S.numpy(), name), nt.stress_to_vector(S, name).numpy(),
                                   rtol=1e-15, atol=1e-15)
        back = nt.convert_matrix(nt.convert_matrix(Tn, name, "mandel"), "mandel", name)
        np.testing.assert_allclose(back, Tn, rtol=1e-13, atol=1e-13)


def test_bad_names_and_shapes():
    with pytest.raises(ValueError, match="notation"):
        nt.stress_to_vector(np.zeros((3, 3)), "abq")
    with pytest.raises(ValueError, match="quantity"):
        nt.tensor_to_vector(np.zeros((3, 3)), "voigt", "strian")
    with pytest.raises(ValueError, match="trailing shape"):
        nt.tangent_to_matrix(np.zeros((3, 3, 3)), "voigt")
