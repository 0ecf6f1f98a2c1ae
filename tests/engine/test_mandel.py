"""Mandel layer: round trips, inner products, inversion, eigenvalues, Voigt/Abaqus tables."""

import math

import pytest
import torch
from support import random_sym

from constitutive import mandel

S2 = math.sqrt(2.0)


def random_minor_major_sym4(n, gen):
    """Random fourth-order tensors with minor and major symmetries (via a random SPD 6x6)."""
    M = torch.randn(n, 6, 6, generator=gen, dtype=torch.float64)
    D = M @ M.transpose(-1, -2) + 6 * torch.eye(6, dtype=torch.float64)
    return mandel.from_mandel4(D), D


def test_order2_round_trip_exact(gen):
    A = random_sym(50, gen)
    a = mandel.to_mandel(A)
    assert a.shape == (50, 6)
    assert torch.allclose(mandel.from_mandel(a), A, rtol=0, atol=1e-15)
    assert torch.allclose(mandel.to_mandel(mandel.from_mandel(a)), a, rtol=0, atol=1e-15)


def test_order2_components_hand_table():
    A = torch.tensor([[1.0, 6.0, 5.0], [6.0, 2.0, 4.0], [5.0, 4.0, 3.0]])
    assert torch.allclose(mandel.to_mandel(A), torch.tensor([1, 2, 3, 4 * S2, 5 * S2, 6 * S2]))


def test_inner_product_preserved(gen):
    A, B = random_sym(20, gen), random_sym(20, gen)
    lhs = (mandel.to_mandel(A) * mandel.to_mandel(B)).sum(-1)
    rhs = (A * B).sum((-1, -2))
    assert torch.allclose(lhs, rhs, rtol=1e-14, atol=1e-14)


def test_order4_round_trip_and_action(gen):
    C, D = random_minor_major_sym4(10, gen)
    assert torch.allclose(mandel.to_mandel4(C), D, rtol=1e-14, atol=1e-13)
    # the Mandel matrix acts on Mandel vectors as the tensor acts on symmetric tensors
    X = random_sym(10, gen)
    Y = torch.einsum("nijkl,nkl->nij", C, X)
    assert torch.allclose((D @ mandel.to_mandel(X)[..., None])[..., 0], mandel.to_mandel(Y), atol=1e-12)


def test_stiffness_inverts_to_compliance(gen):
    C, D = random_minor_major_sym4(5, gen)
    Dinv = torch.linalg.inv(D)
    Sc = mandel.from_mandel4(Dinv)
    # compliance tensor composed with stiffness is the symmetric identity
    Is = mandel.identity4_sym()
    comp = torch.einsum("aijmn,amnkl->aijkl", Sc, C)
    assert torch.allclose(comp, Is.expand_as(comp), atol=1e-12)


def test_eigenvalues_match_tensor(gen):
    C, D = random_minor_major_sym4(3, gen)
    # eigenvalues of the tensor on symmetric tensors: 9x9 matrix restricted to the symmetric
    # subspace has the same nonzero spectrum (antisymmetric part is mapped to zero)
    M9 = C.reshape(3, 9, 9)
    ev9 = torch.linalg.eigvalsh(0.5 * (M9 + M9.transpose(-1, -2)))
    ev6 = torch.linalg.eigvalsh(D)
    for a, b in zip(ev9, ev6, strict=True):
        nz = a[a.abs() > 1e-9]
        assert torch.allclose(torch.sort(nz).values, torch.sort(b).values, rtol=1e-12)


def test_identities_and_projectors():
    Is, Pv, Pd = mandel.identity4_sym(), mandel.projector_volumetric(), mandel.projector_deviatoric()
    assert torch.allclose(mandel.to_mandel4(Is), torch.eye(6), atol=1e-15)
    assert torch.allclose(mandel.to_mandel4(Pv), mandel.projector_volumetric_mandel(), atol=1e-15)
    assert torch.allclose(mandel.to_mandel4(Pd), mandel.projector_deviatoric_mandel(), atol=1e-15)
    Pvm, Pdm = mandel.projector_volumetric_mandel(), mandel.projector_deviatoric_mandel()
    assert torch.allclose(Pvm @ Pvm, Pvm) and torch.allclose(Pdm @ Pdm, Pdm)
    assert torch.allclose(Pvm @ Pdm, torch.zeros(6, 6), atol=1e-15)
    A = torch.tensor([[1.0, 2.0, 0.5], [2.0, -3.0, 1.0], [0.5, 1.0, 4.0]])
    devA = torch.einsum("ijkl,kl->ij", Pd, A)
    assert torch.allclose(devA, A - torch.trace(A) / 3 * torch.eye(3))


def test_bad_shapes():
    with pytest.raises(ValueError, match="trailing shape"):
        mandel.to_mandel(torch.zeros(3, 4))
