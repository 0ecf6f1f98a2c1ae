"""Compiled tangent export: the traced chain F -> (W, stress measure, tangent kind, notation)
equals the eager route to 1e-12 for every stress measure, tangent kind and notation, for
models with branches (Ogden at coincident stretches), fibres and domain conditions; streamed
HDF5 files equal one-shot files; errors in a late chunk leave no file behind."""

import math
import os

import h5py
import numpy as np
import pytest
import torch

import materials
from constitutive import fast
from constitutive.domain import DomainError
from constitutive.interfaces.export import export_tangents, read_tangents
from constitutive.interfaces.export_eval import (
    EXPORT_STRESS_MEASURES,
    TANGENTS,
    compiled_evaluator,
    evaluate_tangents,
    output_shapes,
)
from tests.support import random_F

torch.set_default_dtype(torch.float64)

RTOL = 1e-12
LAYOUTS = [(s, t, n) for t in TANGENTS for s in EXPORT_STRESS_MEASURES for n in ("mandel", "voigt", "abaqus", "tensor")
           if n == "tensor" or (t != "dP/dF" and s != "pk1")]


def _states(n=40, seed=3):
    """General F plus the reference, uniaxial and equibiaxial states (coincident stretches)."""
    g = torch.Generator().manual_seed(seed)
    r = 1 / math.sqrt(1.3)
    special = torch.stack([torch.eye(3), torch.diag(torch.tensor([1.3, r, r])),
                           torch.diag(torch.tensor([1.1, 1.1, 1 / 1.21]))])
    return torch.cat([special, random_F(n, g, 0.25)])


def _assert_same(a, b):
    scale = max(float(np.abs(b).max()), 1.0)
    np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * scale)


def _compiled(mat, F, stress, tangent, notation):
    run = compiled_evaluator(mat, stress, tangent, notation)
    n = F.shape[0]
    outs = [np.empty((n, *s)) for s in output_shapes(notation)]
    run(F.numpy(), outs)
    return outs


@pytest.mark.parametrize("stress, tangent, notation", LAYOUTS)
def test_every_layout_equals_eager(stress, tangent, notation):
    mat = materials.get("neo-hooke", mu=0.8, lmbda=5.0)
    F = _states()
    with fast.disabled():
        ref = evaluate_tangents(mat, F, stress, tangent, notation)
    for got, want in zip(_compiled(mat, F, stress, tangent, notation), ref, strict=True):
        assert got.shape == want.shape
        _assert_same(got, want)


@pytest.mark.parametrize("name, params", [
    ("ogden", {}), ("holzapfel-gasser-ogden", {}), ("mooney-rivlin", {}),
    ("gent", {"Jm": 5.0}), ("saint-venant-kirchhoff", {}),
])
@pytest.mark.parametrize("stress, tangent, notation", [("pk2", "dS/dE", "mandel"), ("cauchy", "abaqus", "abaqus"),
                                                       ("pk1", "dP/dF", "tensor")])
def test_models_equal_eager(name, params, stress, tangent, notation):
    mat = materials.get(name, **params)
    F = _states()
    with fast.disabled():
        ref = evaluate_tangents(mat, F, stress, tangent, notation)
    for got, want in zip(_compiled(mat, F, stress, tangent, notation), ref, strict=True):
        assert np.isfinite(got).all()
        _assert_same(got, want)


def test_abaqus_layout_matches_hand_written_jaumann():
    """Independent of the tracer: the Abaqus tangent of neo-Hooke from its closed-form spatial
    tangent c = (lmbda I x I + 2 (mu - lmbda ln J) II) / J plus the Jaumann term, and Cauchy
    stress sigma = (mu (b - I) + lmbda ln J I) / J, in Abaqus order 11 22 33 12 13 23."""
    mu, lm = 0.8, 5.0
    mat = materials.get("neo-hooke", mu=mu, lmbda=lm)
    F = _states(8)
    _, sig, T = _compiled(mat, F, "cauchy", "abaqus", "abaqus")
    pairs = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]
    eye = np.eye(3)
    for k, Fk in enumerate(F.numpy()):
        J = np.linalg.det(Fk)
        s = (mu * (Fk @ Fk.T - eye) + lm * math.log(J) * eye) / J
        II = 0.5 * (np.einsum("ik,jl->ijkl", eye, eye) + np.einsum("il,jk->ijkl", eye, eye))
        c = (lm * np.einsum("ij,kl->ijkl", eye, eye) + 2 * (mu - lm * math.log(J)) * II) / J
        c = c + 0.5 * (np.einsum("ik,jl->ijkl", eye, s) + np.einsum("ik,jl->ijkl", s, eye)
                       + np.einsum("il,jk->ijkl", eye, s) + np.einsum("il,jk->ijkl", s, eye))
        want_T = np.array([[c[i, j, m, n] for (m, n) in pairs] for (i, j) in pairs])
        want_s = np.array([s[i, j] for (i, j) in pairs])
        np.testing.assert_allclose(sig[k], want_s, rtol=0, atol=1e-12 * abs(want_s).max())
        np.testing.assert_allclose(T[k], want_T, rtol=0, atol=1e-12 * abs(want_T).max())


@pytest.mark.parametrize("suffix", [".h5", ".npz"])
@pytest.mark.parametrize("tangent, notation", [("dS/dE", "voigt"), ("abaqus", "abaqus"), ("dP/dF", "tensor")])
def test_streamed_file_equals_eager_file(tmp_path, suffix, tangent, notation):
    """A large batch (compiled route, chunks that do not divide n, rows written at their HDF5
    offsets) gives the file of the eager route, value for value and attribute for attribute."""
    mat = materials.get("mooney-rivlin")
    g = torch.Generator().manual_seed(5)
    F = random_F(fast.MIN_POINTS + 1000, g, 0.2)
    done = []
    a = export_tangents(tmp_path / f"a{suffix}", mat, F, tangent=tangent, notation=notation,
                        chunk_size=1000, progress=lambda i, n: done.append((i, n)))
    assert done[-1] == (F.shape[0], F.shape[0]) and len(done) == math.ceil(F.shape[0] / 1000)
    with fast.disabled():
        b = export_tangents(tmp_path / f"b{suffix}", mat, F, tangent=tangent, notation=notation)
    ra, rb = read_tangents(a), read_tangents(b)
    for k in ("F", "stress", "tangent", "energy"):
        _assert_same(getattr(ra, k), getattr(rb, k))
    drop = {"created_utc"}
    assert {k: v for k, v in ra.attrs.items() if k not in drop} == \
        {k: v for k, v in rb.attrs.items() if k not in drop}
    if suffix == ".h5":
        with h5py.File(a) as f:
            assert {k: f[k].dtype for k in f} == {k: np.dtype("<f8") for k in ("F", "stress", "tangent", "energy")}
            assert all("description" in f[k].attrs for k in f)


def test_error_in_a_late_chunk_leaves_the_old_file(tmp_path):
    """Points beyond Gent's locking stretch in the third chunk: the eager route's DomainError,
    naming the export's point range; the existing file is untouched and no temporary remains."""
    mat = materials.get("gent", Jm=5.0)
    F = torch.eye(3).expand(fast.MIN_POINTS + 4000, 3, 3).clone()
    F[2500:2502] = torch.diag(torch.tensor([4.0, 0.5, 0.5]))
    path = tmp_path / "t.h5"
    path.write_bytes(b"old")
    with pytest.raises(DomainError, match=r"points 2048\.\.3071"):
        export_tangents(path, mat, F, chunk_size=1024)
    assert sorted(os.listdir(tmp_path)) == ["t.h5"] and path.read_bytes() == b"old"


@pytest.mark.parametrize("tangent, notation", [("dS/dE", "mandel"), ("abaqus", "abaqus"), ("dP/dF", "tensor")])
def test_strain_input_compiled_equals_eager(tmp_path, tangent, notation):
    """kind="E": the compiled route computes F = U = sqrt(I + 2E) in the kernel (Hoger-Carlson,
    coincidence-safe) instead of torch's eigh; the files agree to 1e-12, also at E = 0 and at
    uniaxial and equibiaxial strains (coincident principal stretches)."""
    from constitutive import kinematics, mandel
    from constitutive.checks import random_deformations

    mat = materials.get("ogden")  # moderate stretches (0.75-1.35): no near-singular F to amplify rounding
    F = torch.cat([_states(), random_deformations(fast.MIN_POINTS, 9, 0.15)])
    e = kinematics.strain_mandel_from_F(F).numpy()
    a = export_tangents(tmp_path / "a.h5", mat, e, kind="E", tangent=tangent, notation=notation, chunk_size=1500)
    with fast.disabled():
        b = export_tangents(tmp_path / "b.h5", mat, mandel.from_mandel(torch.as_tensor(e)).numpy(), kind="E",
                            tangent=tangent, notation=notation)
    ra, rb = read_tangents(a), read_tangents(b)
    for k in ("F", "stress", "tangent", "energy"):
        _assert_same(getattr(ra, k), getattr(rb, k))
    U = ra.F
    np.testing.assert_allclose(U, U.transpose(0, 2, 1), rtol=0, atol=1e-14)  # no rotation: U symmetric
    C = np.eye(3) + 2 * mandel.from_mandel(torch.as_tensor(e)).numpy()
    np.testing.assert_allclose(U @ U, C, rtol=0, atol=1e-13 * np.abs(C).max())


@pytest.mark.parametrize("n", [1, fast.MIN_POINTS + 10])
def test_overflow_in_the_exported_quantities_is_an_error_not_inf(tmp_path, n):
    """S and CC finite, but the Kirchhoff stress F S F^T and the energy overflow double precision
    (F11 = 1e153, mu = 1e3): both routes refuse with the point's index instead of writing inf."""
    mat = materials.get("neo-hooke", mu=1e3, lmbda=10.0)
    F = torch.eye(3).expand(n, 3, 3).clone()
    F[n // 2] = torch.diag(torch.tensor([1e153, 1.0, 1.0]))
    S, CC = mat.pk2_tangent(F[n // 2: n // 2 + 1], fast=False)
    assert bool(torch.isfinite(S).all() and torch.isfinite(CC).all())
    for route in (fast.disabled, lambda: __import__("contextlib").nullcontext()):
        with route(), pytest.raises(DomainError, match=rf"not finite.*first at index \({n // 2}\)"):
            export_tangents(tmp_path / "o.h5", mat, F, stress="kirchhoff")
        assert not (tmp_path / "o.h5").exists()
