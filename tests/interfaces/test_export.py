"""Tangent export: file contents and conventions, notation conversions (against constitutive.mandel
and hand-written index tables), reading by a colleague using only the attributes, atomic writes,
input validation, CLI."""

import json
import math
import os

import h5py
import numpy as np
import pytest
import torch

import constitutive.interfaces.export_files as exf
import materials
from constitutive import mandel
from constitutive.cli import main
from constitutive.cli.export import read_deformations
from constitutive.interfaces.export import (
    export_tangents,
    matrix_to_tangent,
    read_tangents,
    stress_to_vector,
    tangent_to_matrix,
    vector_to_stress,
)

MU, LMBDA = 0.8, 5.0
S2 = math.sqrt(2.0)
# hand-written index tables: vector position -> (i, j)
VOIGT = {0: (0, 0), 1: (1, 1), 2: (2, 2), 3: (1, 2), 4: (0, 2), 5: (0, 1)}
ABAQUS = {0: (0, 0), 1: (1, 1), 2: (2, 2), 3: (0, 1), 4: (0, 2), 5: (1, 2)}
SYMMETRIC = ("mandel", "voigt", "abaqus")


@pytest.fixture
def mat():
    return materials.get("neo-hooke", mu=MU, lmbda=LMBDA)


@pytest.fixture
def Fs():
    rng = np.random.default_rng(11)
    F = np.eye(3) + 0.25 * rng.standard_normal((6, 3, 3))
    F[np.linalg.det(F) < 0, :, 0] *= -1
    return F


def _random_tangent(rng):
    """A fourth-order tensor with minor (not major) symmetries."""
    C = rng.standard_normal((3, 3, 3, 3))
    return 0.25 * (C + C.transpose(1, 0, 2, 3) + C.transpose(0, 1, 3, 2) + C.transpose(1, 0, 3, 2))


# ----------------------------------------------------------------------------- conversions
def test_conversions_against_constitutive_mandel():
    rng = np.random.default_rng(0)
    C = _random_tangent(rng)
    A = rng.standard_normal((3, 3))
    A = A + A.T
    Ct, At = torch.as_tensor(C), torch.as_tensor(A)
    D = mandel.to_mandel4(Ct)
    np.testing.assert_allclose(tangent_to_matrix(C, "mandel"), D.numpy(), rtol=1e-14)
    np.testing.assert_allclose(stress_to_vector(A, "mandel"), mandel.to_mandel(At).numpy(), rtol=1e-14)


def test_conversions_against_hand_written_tables():
    rng = np.random.default_rng(1)
    C = _random_tangent(rng)
    w = [1, 1, 1, S2, S2, S2]
    V, Q, M = (tangent_to_matrix(C, n) for n in ("voigt", "abaqus", "mandel"))
    for I in range(6):
        for J in range(6):
            assert V[I, J] == pytest.approx(C[(*VOIGT[I], *VOIGT[J])], rel=1e-14, abs=1e-15)
            assert Q[I, J] == pytest.approx(C[(*ABAQUS[I], *ABAQUS[J])], rel=1e-14, abs=1e-15)
            assert M[I, J] == pytest.approx(w[I] * w[J] * C[(*VOIGT[I], *VOIGT[J])], rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("notation", SYMMETRIC)
def test_conversion_roundtrip(notation):
    rng = np.random.default_rng(2)
    C = _random_tangent(rng)
    np.testing.assert_allclose(matrix_to_tangent(tangent_to_matrix(C, notation), notation), C, rtol=1e-13, atol=1e-14)
    A = rng.standard_normal((4, 3, 3))
    A = A + np.swapaxes(A, -1, -2)
    np.testing.assert_allclose(vector_to_stress(stress_to_vector(A, notation), notation), A, rtol=1e-14)


# ----------------------------------------------------------------------------- contents
def test_file_contents_and_attributes(tmp_path, mat, Fs):
    path = export_tangents(tmp_path / "t.h5", mat, Fs, tangent="abaqus", units="MPa")
    with h5py.File(path, "r") as f:
        assert f["F"].shape == (6, 3, 3) and f["stress"].shape == (6, 6) and f["tangent"].shape == (6, 6, 6)
        a = dict(f.attrs)
        np.testing.assert_array_equal(f["F"][()], Fs)
    assert a["material"] == "neo-hooke" and json.loads(a["parameters"]) == {"mu": MU, "lmbda": LMBDA}
    assert a["notation"] == "abaqus" and a["ordering"] == "11,22,33,12,13,23"
    assert a["strain_shear_factor"] == 2.0 and a["stress_shear_factor"] == 1.0
    assert a["stress_measure"] == "cauchy" and a["tangent_kind"] == "abaqus" and a["units"] == "MPa"
    for key in ("constitutive_version", "tangent_definition", "strain_measure", "conventions", "options"):
        assert key in a
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask  # usual permissions, not mkstemp's 0600


def test_values_match_closed_form_and_umat(tmp_path, mat, Fs):
    """Abaqus tangent file equals the UMAT DDSDDE; Cauchy stress and energy equal the closed form."""
    from constitutive.interfaces.abaqus_umat import stress_ddsdde_abaqus

    tf = read_tangents(export_tangents(tmp_path / "t.npz", mat, Fs, tangent="abaqus"))
    s_ref, D_ref, _ = (t.numpy() for t in stress_ddsdde_abaqus(mat, torch.as_tensor(Fs)))
    np.testing.assert_allclose(tf.tangent, D_ref, rtol=1e-13, atol=1e-13)
    J = np.linalg.det(Fs)
    b = Fs @ np.swapaxes(Fs, -1, -2)
    sig = MU / J[:, None, None] * (b - np.eye(3)) + (LMBDA * np.log(J) / J)[:, None, None] * np.eye(3)
    np.testing.assert_allclose(tf.stress, np.stack([sig[:, i, j] for i, j in ABAQUS.values()], -1), rtol=1e-12, atol=1e-13)
    W = MU / 2 * (np.trace(b, axis1=1, axis2=2) - 3) - MU * np.log(J) + LMBDA / 2 * np.log(J) ** 2
    np.testing.assert_allclose(tf.energy, W, rtol=1e-12, atol=1e-14)


def _colleague_reads(tf):
    """Use only the attributes to build the index pairs and factors (as a colleague would)."""
    a = tf.attrs
    pairs = [(int(p[0]) - 1, int(p[1]) - 1) for p in a["ordering"].split(",")]
    fe = np.array([a["strain_shear_factor"] if i != j else 1.0 for i, j in pairs])
    fs = np.array([a["stress_shear_factor"] if i != j else 1.0 for i, j in pairs])
    return pairs, fe, fs


@pytest.mark.parametrize("notation", SYMMETRIC)
def test_colleague_predicts_stress_increment(tmp_path, mat, Fs, notation):
    """dS/dE file: stress vector increment = tangent @ strain vector increment, checked against a
    central finite difference of S(E) computed by the material (strain vectors from the attrs)."""
    tf = read_tangents(export_tangents(tmp_path / f"{notation}.h5", mat, Fs[:2], notation=notation))
    pairs, fe, fs = _colleague_reads(tf)
    rng = np.random.default_rng(5)
    dE = rng.standard_normal((3, 3))
    dE = dE + dE.T
    h = 1e-6
    for n in range(2):
        E = 0.5 * (Fs[n].T @ Fs[n] - np.eye(3))
        S = [mat.stress_tangent(torch.as_tensor(E + sgn * h * dE))[0].numpy() for sgn in (1, -1)]
        dS = (S[0] - S[1]) / (2 * h)
        strain_vec = np.array([dE[i, j] for i, j in pairs]) * fe
        stress_vec = np.array([dS[i, j] for i, j in pairs]) * fs
        np.testing.assert_allclose(tf.tangent[n] @ strain_vec, stress_vec, rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("target", SYMMETRIC + ("tensor",))
def test_reader_converts_between_notations(tmp_path, mat, Fs, target):
    ref = {n: read_tangents(export_tangents(tmp_path / f"{n}.h5", mat, Fs, tangent="spatial", notation=n))
           for n in SYMMETRIC + ("tensor",)}
    for source in SYMMETRIC + ("tensor",):
        conv = read_tangents(tmp_path / f"{source}.h5", notation=target)
        np.testing.assert_allclose(conv.tangent, ref[target].tangent, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(conv.stress, ref[target].stress, rtol=1e-12, atol=1e-13)
        assert conv.attrs["ordering"] == ref[target].attrs["ordering"]


def test_dPdF_tensor_only_and_matches_fd(tmp_path, mat, Fs):
    tf = read_tangents(export_tangents(tmp_path / "a.h5", mat, Fs[:1], tangent="dP/dF"))
    assert tf.notation == "tensor" and tf.tangent.shape == (1, 3, 3, 3, 3)
    h, F = 1e-6, Fs[0]
    for k in range(3):
        for L in range(3):
            dF = np.zeros((3, 3))
            dF[k, L] = h
            P = [mat.pk1(torch.as_tensor(F + s * dF)).numpy() for s in (1, -1)]
            np.testing.assert_allclose(tf.tangent[0][:, :, k, L], (P[0] - P[1]) / (2 * h), rtol=1e-7, atol=1e-8)
    with pytest.raises(ValueError, match="tensor"):
        export_tangents(tmp_path / "b.h5", mat, Fs, tangent="dP/dF", notation="voigt")
    with pytest.raises(ValueError, match="tensor"):
        tf.to("mandel")


def test_strain_input_gives_rotation_free_F(tmp_path, mat, Fs):
    E = 0.5 * (np.swapaxes(Fs, -1, -2) @ Fs - np.eye(3))
    a = read_tangents(export_tangents(tmp_path / "e.h5", mat, E, kind="E"))
    b = read_tangents(export_tangents(tmp_path / "f.h5", mat, Fs))
    np.testing.assert_allclose(a.F, np.swapaxes(a.F, -1, -2), atol=1e-14)  # F = U symmetric
    np.testing.assert_allclose(a.tangent, b.tangent, rtol=1e-11, atol=1e-11)  # dS/dE depends on E only
    e_mandel = mandel.to_mandel(torch.as_tensor(E)).numpy()
    c = read_tangents(export_tangents(tmp_path / "m.h5", mat, e_mandel, kind="E"))
    np.testing.assert_allclose(c.stress, b.stress, rtol=1e-11, atol=1e-12)


# ----------------------------------------------------------------------------- atomic writes
@pytest.mark.parametrize("name", ["out.h5", "out.npz"])
def test_interrupted_write_leaves_nothing(tmp_path, mat, Fs, monkeypatch, name):
    def failing_hdf5(tmp, data, attrs, fill=None):
        with h5py.File(tmp, "w") as f:
            f.create_dataset("F", data=data["F"])  # part of the file is written ...
        raise OSError("disk full")  # ... then the writer fails

    def failing_npz(tmp, data, attrs, fill=None):
        with open(tmp, "wb") as fh:
            fh.write(b"PK\x03\x04partial")
        raise OSError("disk full")

    monkeypatch.setattr(exf, "_write_hdf5", failing_hdf5)
    monkeypatch.setattr(exf, "_write_npz", failing_npz)
    with pytest.raises(OSError, match="disk full"):
        export_tangents(tmp_path / name, mat, Fs)
    assert os.listdir(tmp_path) == []
    # an existing file of the same name survives a failed overwrite
    (tmp_path / name).write_bytes(b"old")
    with pytest.raises(OSError):
        export_tangents(tmp_path / name, mat, Fs)
    assert sorted(os.listdir(tmp_path)) == [name] and (tmp_path / name).read_bytes() == b"old"


# ----------------------------------------------------------------------------- validation, CLI
class TestBadInput:
    def test_det_F(self, tmp_path, mat):
        with pytest.raises(ValueError, match="det F"):
            export_tangents(tmp_path / "x.h5", mat, np.diag([-1.0, 1, 1])[None])
        assert not (tmp_path / "x.h5").exists()

    def test_nan(self, tmp_path, mat):
        F = np.eye(3)[None].copy()
        F[0, 0, 0] = np.nan
        with pytest.raises(ValueError, match="non-finite"):
            export_tangents(tmp_path / "x.h5", mat, F)

    def test_options(self, tmp_path, mat, Fs):
        with pytest.raises(ValueError, match="path"):
            export_tangents(tmp_path / "x.txt", mat, Fs)
        with pytest.raises(ValueError, match="notation"):
            export_tangents(tmp_path / "x.h5", mat, Fs, notation="kelvin")
        with pytest.raises(ValueError, match="tangent"):
            export_tangents(tmp_path / "x.h5", mat, Fs, tangent="dsig/deps")
        with pytest.raises(ValueError, match="kind"):
            export_tangents(tmp_path / "x.h5", mat, Fs, kind="C")

    def test_read_deformations(self, tmp_path):
        p = tmp_path / "d.h5"
        with h5py.File(p, "w") as f:
            f["F"] = np.stack([np.eye(3), np.diag([1.0, 1.0, -0.5])])
            f["G"] = np.zeros((2, 3))
        with pytest.raises(ValueError, match="det F"):
            read_deformations(str(p))
        with pytest.raises(ValueError, match="shape"):
            read_deformations(str(p), "G")
        with pytest.raises(ValueError, match="no dataset"):
            read_deformations(str(p), "X")
        with pytest.raises(FileNotFoundError):
            read_deformations(str(tmp_path / "none.h5"))


def test_cli_export_roundtrip(tmp_path, Fs, capsys):
    inp, out = tmp_path / "deformations.h5", tmp_path / "tangents.h5"
    with h5py.File(inp, "w") as f:
        f["F"] = Fs
    rc = main(["export", "neo-hooke", "-p", f"mu={MU}", "-p", f"lmbda={LMBDA}", "--input", str(inp),
               "--output", str(out), "--notation", "voigt", "--tangent", "abaqus", "--units", "MPa"])
    assert rc == 0
    tf = read_tangents(out)
    assert tf.attrs["notation"] == "voigt" and tf.attrs["tangent_kind"] == "abaqus"
    ref = read_tangents(export_tangents(tmp_path / "ref.h5", materials.get("neo-hooke", mu=MU, lmbda=LMBDA),
                                        Fs, tangent="abaqus", notation="voigt"))
    np.testing.assert_array_equal(tf.tangent, ref.tangent)
    with h5py.File(inp, "w") as f:
        f["F"] = -Fs
    assert main(["export", "neo-hooke", "--input", str(inp), "--output", str(tmp_path / "bad.h5")]) == 2
    assert "det F" in capsys.readouterr().err
    assert not (tmp_path / "bad.h5").exists()


def test_cli_abaqus_card(tmp_path):
    out = tmp_path / "rubber.inp"
    rc = main(["export", "neo-hooke-decoupled", "-p", "mu=0.8", "-p", "K=50", "--abaqus-card", str(out),
               "--card-name", "RUBBER"])
    assert rc == 0
    lines = out.read_text().splitlines()
    i = lines.index("*HYPERELASTIC, NEO HOOKE")
    assert lines[i - 1] == "*MATERIAL, NAME=RUBBER"
    assert [float(x) for x in lines[i + 1].split(",")] == [0.4, 2 / 50]
    assert main(["export", "neo-hooke", "--abaqus-card", str(tmp_path / "x.inp")]) == 2  # coupled: refused
    assert not (tmp_path / "x.inp").exists()
    args = ["export", "mooney-rivlin", "-p", "c10=0.4", "-p", "c01=0.1", "-p", "K=50", "--abaqus-card", str(out)]
    assert main(args + ["--option", "volumetric=lnJ"]) == 2  # not Abaqus's volumetric function
    assert main(args + ["--option", "volumetric=J-1"]) == 2  # rubber.inp exists: not replaced unasked
    assert "*HYPERELASTIC, NEO HOOKE" in out.read_text()
    assert main(args + ["--option", "volumetric=J-1", "--force"]) == 0
    assert "*HYPERELASTIC, MOONEY-RIVLIN" in out.read_text()


def test_hdf5_dataset_descriptions(tmp_path, mat, Fs):
    with h5py.File(export_tangents(tmp_path / "t.h5", mat, Fs, notation="voigt"), "r") as f:
        assert "11,22,33,23,13,12" in f["stress"].attrs["description"]
        assert "shear factor 2.0" in f["tangent"].attrs["description"]


def test_chunked_export_equals_single_chunk(tmp_path, mat, Fs):
    calls = []
    a = read_tangents(export_tangents(tmp_path / "a.h5", mat, Fs, tangent="abaqus", chunk_size=4,
                                      progress=lambda d, n: calls.append((d, n))))
    b = read_tangents(export_tangents(tmp_path / "b.h5", mat, Fs, tangent="abaqus"))
    assert calls == [(4, 6), (6, 6)]
    np.testing.assert_array_equal(a.tangent, b.tangent)
    np.testing.assert_array_equal(a.stress, b.stress)
    with pytest.raises(ValueError, match="chunk_size"):
        export_tangents(tmp_path / "c.h5", mat, Fs, chunk_size=0)
