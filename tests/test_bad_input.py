"""Bad input never passes silently: a table of cases over every public entry point and format.

Each case either gives a correct result or raises a clear error of the expected type whose
message names the user's argument, file, key or line and says what was expected. No case may
return NaN/inf, end in a library-internal exception (IndexError, torch's RuntimeError, h5py's
OSError, numpy's concatenate error), or leave a partial file. docs/reliability.md lists the
guarantees these cases pin down.
"""

import math
import os
import re
import warnings

import h5py
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import materials
from constitutive import DomainError
from constitutive.calibration import Experiment, fit, read_experiments, write_experiments
from constitutive.calibration.csvio import experiment_from_csv
from constitutive.calibration.driver import predict
from constitutive.calibration.loadpaths import load_path, uniaxial
from constitutive.cli import main
from constitutive.cli.common import material_from
from constitutive.fem import Problem, box
from constitutive.fem.inputfile import build
from constitutive.interfaces import notation as nt
from constitutive.interfaces.abaqus_cards import abaqus_material_card
from constitutive.interfaces.abaqus_umat import make_umat
from constitutive.interfaces.export import export_tangents, read_tangents
from constitutive.validation import AccuracyWarning

NH = materials.get("neo-hooke", mu=1.0, lmbda=10.0)
GENT = materials.get("gent", mu=1.0, Jm=2.0, K=50.0)
I3 = torch.eye(3)


def _F(n=4, **bad):
    F = I3.expand(n, 3, 3).clone()
    for (i, j, k), v in bad.get("at", {}).items():
        F[i, j, k] = v
    return F


def _raises(fn, exc, pattern):
    with pytest.raises(exc) as info:
        fn()
    assert re.search(pattern, str(info.value)), f"message {str(info.value)!r} does not match {pattern!r}"


# ----------------------------------------------------------------------------- material construction
CONSTRUCTION = [
    ("unknown parameter", lambda: materials.get("neo-hooke", muu=1.0), TypeError, r"'muu' \(did you mean 'mu'\?\)"),
    ("missing required", lambda: materials.model_class("ogden")(mu=[1.0]), ValueError, r"alpha|mu"),
    ("string parameter", lambda: materials.get("neo-hooke", mu="soft"), TypeError, r"parameter 'mu': expected a number"),
    ("string list parameter", lambda: materials.get("ogden", mu=["a"], alpha=[2.0]), TypeError, r"parameter 'mu'"),
    ("NaN parameter", lambda: materials.get("neo-hooke", mu=math.nan), ValueError, r"parameter 'mu'.*non-finite"),
    ("inf parameter", lambda: materials.get("neo-hooke", lmbda=math.inf), ValueError, r"parameter 'lmbda'"),
    ("negative modulus", lambda: materials.get("neo-hooke", mu=-1.0), ValueError, r"mu"),
    ("zero bulk modulus", lambda: materials.get("mooney-rivlin", K=0.0), ValueError, r"\bK\b"),
    ("bad option", lambda: materials.get("neo-hooke", volumetric="cubic"), ValueError, r"volumetric.*one of"),
    ("unknown model", lambda: materials.get("neo-hookean"), KeyError, r"unknown material model 'neo-hookean'"),
    ("model file missing", lambda: materials.model_class("nowhere.py:Rubber"), FileNotFoundError, r"nowhere\.py"),
    ("integer dtype", lambda: materials.model_class("neo-hooke")(dtype=torch.int64), TypeError, r"dtype"),
    ("cuda without cuda", lambda: materials.model_class("neo-hooke")(device="cuda")
     if not torch.cuda.is_available() else (_ for _ in ()).throw(ValueError("device: skip")), ValueError, r"device"),
    ("bogus device", lambda: materials.model_class("neo-hooke")(device="tpu9"), ValueError, r"device"),
    ("ogden list lengths", lambda: materials.get("ogden", mu=[1.0, 2.0], alpha=[2.0]), ValueError, r"mu|alpha"),
    ("direction zero", lambda: materials.get("transversely-isotropic", a=[0.0, 0.0, 0.0]), ValueError, r"\ba\b"),
    ("direction shape", lambda: materials.get("transversely-isotropic", a=[1.0, 0.0]), ValueError, r"\ba\b"),
]


@pytest.mark.parametrize(("case", "fn", "exc", "pattern"), CONSTRUCTION, ids=[c[0] for c in CONSTRUCTION])
def test_material_construction(case, fn, exc, pattern):
    _raises(fn, exc, pattern)


# ----------------------------------------------------------------------------- engine inputs
F_METHODS = ["pk2", "pk1", "cauchy", "kirchhoff", "pk1_tangent", "spatial_tangent", "pk2_tangent"]
E_METHODS = ["energy_mandel", "stress_mandel", "stress_tangent_mandel"]
BAD_F = [
    ("F NaN", lambda: _F(at={(2, 0, 0): math.nan}), ValueError, r"^F: non-finite .* at 1 point\(s\) \(first at index \(2\)\)"),
    ("F inf", lambda: _F(at={(1, 1, 2): math.inf}), ValueError, r"^F: non-finite"),
    ("F det < 0", lambda: _F(at={(3, 0, 0): -1.0}), ValueError, r"^F: det F must be > 0.*index \(3\)"),
    ("F det = 0", lambda: _F(at={(0, 2, 2): 0.0}), ValueError, r"^F: det F must be > 0.*index \(0\)"),
    ("F shape", lambda: torch.eye(4), ValueError, r"^F: expected shape \(\.\.\., 3, 3\)"),
    ("F float32", lambda: _F().float(), TypeError, r"^F: got dtype torch.float32"),
    ("F strings", lambda: [["a"] * 3] * 3, TypeError, r"^F: expected numbers"),
    ("F complex", lambda: _F().to(torch.complex128), TypeError, r"^F: complex"),
    ("F overflow", lambda: 1e155 * _F(), DomainError, r"not finite: the state overflows"),
]


@pytest.mark.parametrize("method", F_METHODS)
@pytest.mark.parametrize(("case", "make", "exc", "pattern"), BAD_F, ids=[c[0] for c in BAD_F])
def test_deformation_gradient_inputs(method, case, make, exc, pattern):
    _raises(lambda: getattr(NH, method)(make()), exc, pattern)


BAD_E = [
    ("e NaN", lambda: torch.tensor([[0.0, math.nan, 0, 0, 0, 0]]), ValueError, r"^e: non-finite"),
    ("e shape", lambda: torch.zeros(3, 5), ValueError, r"^e: expected shape \(\.\.\., 6\)"),
    ("e not a strain", lambda: torch.tensor([[-0.6, 0, 0, 0, 0, 0]]), ValueError,
     r"^e: C = I \+ 2E is not positive definite at 1 point\(s\) \(first at index \(0\)\)"),
    ("e huge shear", lambda: torch.tensor([[0.0, 0, 0, 0, 0, 5.0]]), ValueError, r"^e: C = I \+ 2E"),
    ("e float32", lambda: torch.zeros(2, 6, dtype=torch.float32), TypeError, r"^e: got dtype torch.float32"),
    ("e numpy float32", lambda: np.zeros((2, 6), dtype=np.float32), TypeError, r"^e: got NumPy dtype float32"),
    ("e object", lambda: np.array([object()] * 6), TypeError, r"^e: expected numbers"),
]


@pytest.mark.parametrize("method", E_METHODS)
@pytest.mark.parametrize(("case", "make", "exc", "pattern"), BAD_E, ids=[c[0] for c in BAD_E])
def test_mandel_strain_inputs(method, case, make, exc, pattern):
    _raises(lambda: getattr(NH, method)(make()), exc, pattern)


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize("kind", ["pk1", "mandel"])
def test_one_bad_point_in_a_large_batch(fast, kind):
    """One inadmissible state among 10^5 is found, with its index, on both paths."""
    n, i = 100_000, 77_777
    if kind == "pk1":
        x = _F(n)
        x[i, 0, 0] = -1.0
        call, pattern = NH.pk1_tangent, rf"^F: det F must be > 0, got 1 state\(s\).*index \({i}\)"
    else:
        x = torch.zeros(n, 6)
        x[i, 2] = -0.75
        call, pattern = NH.stress_tangent_mandel, rf"^e: C = I \+ 2E .* at 1 point\(s\) \(first at index \({i}\)\)"
    _raises(lambda: call(x, fast=fast), ValueError, pattern)


@pytest.mark.parametrize("fast", [False, True])
def test_overflow_raises_on_both_paths(fast):
    F = 1e155 * _F(5000)
    _raises(lambda: NH.pk1_tangent(F, fast=fast), DomainError, r"at 5000 point\(s\) \(first at index \(0\)\)")


@pytest.mark.parametrize("fast", [False, True])
def test_locking_is_a_domain_error(fast):
    F = _F(5000)
    F[123] = torch.diag(torch.tensor([3.0, 0.6, 0.6]))
    _raises(lambda: GENT.pk1_tangent(F, fast=fast), DomainError, r"locking limit Jm at 1 point\(s\) \(first at index \(123\)\)")


OUT_CASES = [
    ("out float32", lambda: (torch.empty(4, 6, dtype=torch.float32), torch.empty(4, 6, 6, dtype=torch.float32)),
     ValueError, r"^out: expected a torch.float64 tensor of shape \(4, 6\)"),
    ("out wrong shape", lambda: (torch.empty(4, 6), torch.empty(4, 36)), ValueError, r"^out:"),
    ("out not a tuple", lambda: torch.empty(4, 6), TypeError, r"^out: expected a tuple"),
]


@pytest.mark.parametrize("fast", [False, True])
@pytest.mark.parametrize(("case", "make", "exc", "pattern"), OUT_CASES, ids=[c[0] for c in OUT_CASES])
def test_out_buffers(fast, case, make, exc, pattern):
    _raises(lambda: NH.stress_tangent_mandel(torch.zeros(4, 6), fast=fast, out=make()), exc, pattern)


def test_non_symmetric_strain_tensor():
    E = torch.zeros(3, 3)
    E[0, 1] = 0.1
    _raises(lambda: NH.stress_tangent(E), ValueError, r"^E: expected a symmetric tensor")


def test_tiny_stretches_are_reported():
    F = torch.diag(torch.tensor([1e-6, 1e3, 1e3]))
    with pytest.warns(AccuracyWarning, match=r"F: principal stretches down to 1e-06"):
        NH.pk1(F)
    F = torch.diag(torch.tensor([1e-9, 3e4, 3e4]))  # C's smallest eigenvalue 1e-18: nothing left in E
    _raises(lambda: NH.pk1(F), ValueError, r"^F: principal stretches down to 1e-09 .* keeps no significant digit")


def test_correct_results_for_unusual_but_valid_input():
    """Lists, integers, NumPy and batch shapes are accepted and give the float64 result."""
    ref = NH.pk1(I3 * 1.1)
    assert torch.equal(NH.pk1([[1.1, 0, 0], [0, 1.1, 0], [0, 0, 1.1]]), ref)
    assert torch.equal(NH.pk1(np.eye(3) * 1.1), ref)
    assert NH.stress_mandel([[0, 0, 0, 0, 0, 0]]).abs().max() == 0  # integers
    assert NH.pk1_tangent(torch.eye(3).expand(2, 3, 4, 3, 3))[1].shape == (2, 3, 4, 3, 3, 3, 3)
    assert NH.pk1(torch.empty(0, 3, 3)).shape == (0, 3, 3)


# ----------------------------------------------------------------------------- HDF5 experiments
def _exp(**kw):
    base = {"name": "ut", "mode": "uniaxial", "stretch": [1.1, 1.2], "stress": [0.1, 0.2], "units": "MPa"}
    return Experiment(**{**base, **kw})


EXPERIMENT_CASES = [
    ("unknown mode", lambda: _exp(mode="torsion"), ValueError, r"mode: unknown mode 'torsion'"),
    ("unknown units", lambda: _exp(units="furlongs"), ValueError, r"units: unknown stress unit 'furlongs'"),
    ("unknown measure", lambda: _exp(stress_measure="kirchhoff2"), ValueError, r"ut: stress_measure"),
    ("NaN stress", lambda: _exp(stress=[0.1, math.nan]), ValueError, r"ut.*stress"),
    ("length mismatch", lambda: _exp(stress=[0.1, 0.2, 0.3]), ValueError, r"ut"),
    ("negative weight", lambda: _exp(weight=-1.0), ValueError, r"ut: weight"),
    ("NaN temperature", lambda: _exp(temperature=math.nan), ValueError, r"ut: temperature"),
    ("non-numeric stretch", lambda: _exp(stretch=["a", "b"]), (ValueError, TypeError), r"ut.*stretch"),
]


@pytest.mark.parametrize(("case", "fn", "exc", "pattern"), EXPERIMENT_CASES, ids=[c[0] for c in EXPERIMENT_CASES])
def test_experiment_metadata(case, fn, exc, pattern):
    _raises(fn, exc, pattern)


def _h5(tmp_path, edit):
    path = tmp_path / "e.h5"
    write_experiments(path, [_exp()])
    with h5py.File(path, "a") as f:
        edit(f)
    return path


HDF5_CASES = [
    ("unknown mode attr", lambda f: f["experiments/ut"].attrs.__setitem__("mode", "torsion"), r"e\.h5: experiment 'ut': mode"),
    ("unknown units attr", lambda f: f["experiments/ut"].attrs.__setitem__("units", "bananas"), r"e\.h5: experiment 'ut': units"),
    ("non-numeric weight", lambda f: f["experiments/ut"].attrs.__setitem__("weight", "heavy"), r"e\.h5: experiment 'ut'"),
    ("missing stress", lambda f: f["experiments/ut"].__delitem__("stress"), r"e\.h5: experiment 'ut': missing dataset 'stress'"),
    ("missing stretch", lambda f: f["experiments/ut"].__delitem__("stretch"), r"e\.h5: experiment 'ut': missing dataset 'stretch'"),
    ("missing mode", lambda f: f["experiments/ut"].attrs.__delitem__("mode"), r"e\.h5: experiment 'ut': missing attribute 'mode'"),
    ("string dataset", lambda f: (f["experiments/ut"].__delitem__("stress"),
                                  f["experiments/ut"].create_dataset("stress", data=np.array([b"a", b"b"]))),
     r"e\.h5: experiment 'ut': dataset 'stress'"),
    ("no experiments group", lambda f: f.__delitem__("experiments"), r"e\.h5: missing group '/experiments'"),
    ("experiments is a dataset", lambda f: (f.__delitem__("experiments"), f.create_dataset("experiments", data=1)),
     r"e\.h5: missing group '/experiments'"),
]


@pytest.mark.parametrize(("case", "edit", "pattern"), HDF5_CASES, ids=[c[0] for c in HDF5_CASES])
def test_hdf5_experiment_files(tmp_path, case, edit, pattern):
    _raises(lambda: read_experiments(_h5(tmp_path, edit)), ValueError, pattern)


def test_hdf5_files_that_are_not_hdf5(tmp_path):
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    _raises(lambda: read_experiments(text), ValueError, r"notes\.h5: not a readable HDF5 file")
    _raises(lambda: read_experiments(tmp_path / "missing.h5"), FileNotFoundError, r"missing\.h5")
    _raises(lambda: read_experiments(_h5(tmp_path, lambda f: None), ["et"]), ValueError, r"no experiment 'et'")


# ----------------------------------------------------------------------------- CSV
CSV_CASES = [
    ("header only", "stretch,stress\n", {}, r"\.csv: a header \(stretch, stress\) but no data rows"),
    ("empty", "# only a comment\n", {}, r"no data rows"),
    ("missing value", "stretch,stress\n1.0,0.0\n1.1,\n", {}, r"\.csv, line 3, column 1: '' is not a number \(missing value\)"),
    ("text value", "1.0,0.0\n1.1,abc\n", {}, r"\.csv, line 2, column 1: 'abc' is not a number"),
    ("short row", "1.0,0.0\n1.1\n", {}, r"\.csv, line 2: 1 value\(s\)"),
    ("one column", "1.0\n1.1\n", {}, r"mode 'uniaxial' needs 2 columns, found 1"),
    ("unit mismatch", "stretch,stress [kPa]\n1.0,0.0\n", {"units": "MPa"}, r"units 'MPa' given, but the header says 'kPa'"),
    ("no unit anywhere", "stretch,stress\n1.0,0.0\n", {"units": None}, r"no stress unit"),
    ("unknown column", "stretch,stress\n1.0,0.0\n", {"columns": ["lam", "P"]}, r"no column named 'lam'"),
    ("where no match", "mode,stretch,stress\nUT,1.0,0.0\n", {"where": {"mode": "ET"}}, r"no rows with mode == 'ET'"),
    ("bad control", "1.0,0.0\n", {"control": "strains"}, r"control: expected one of"),
    ("strain for shear", "0.1,0.0\n", {"mode": "simple_shear", "control": "strain"}, r"control: 'strain' applies"),
]


@pytest.mark.parametrize(("case", "text", "kw", "pattern"), CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_csv_import_errors(tmp_path, case, text, kw, pattern):
    path = tmp_path / "data.csv"
    path.write_text(text)
    kw = {"mode": "uniaxial", "units": "MPa", **kw}
    _raises(lambda: experiment_from_csv(path, kw.pop("mode"), **kw), ValueError, pattern)


@pytest.mark.parametrize(("sep", "name"), [(";", "semicolon"), ("\t", "tab"), (" ", "space"), (",", "comma")])
def test_csv_separators_are_detected(tmp_path, sep, name):
    path = tmp_path / "d.csv"
    head = "stress[kPa]" if sep == " " else "stress [kPa]"  # a space separator splits 'stress [kPa]'
    path.write_text(f"# test machine export\nstretch{sep}{head}\n1.0{sep}0.0\n1.5{sep}210.5\n2.0{sep}390.25\n")
    notes = []
    e = experiment_from_csv(path, "uniaxial", units=None, notes=notes)
    assert e.units == "kPa" and np.allclose(e.stress, [0.0, 210.5, 390.25]) and np.allclose(e.stretch, [1, 1.5, 2])
    assert any("header" in n for n in notes)
    assert (sep == ",") or any(name in n or repr(sep) in n for n in notes)


def test_csv_strain_and_measure_aliases(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("strain,engineering stress [MPa]\n0.0,0.0\n0.5,0.3\n")
    notes = []
    e = experiment_from_csv(path, "uniaxial", "engineering", units=None, control="strain", notes=notes)
    assert np.allclose(e.stretch, [1.0, 1.5]) and e.stress_measure == "nominal"
    assert any("lambda = 1 + strain" in n for n in notes)


def test_csv_not_text_or_directory(tmp_path):
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81\x9c" * 10)
    _raises(lambda: experiment_from_csv(binary, "uniaxial", units="MPa"), ValueError, r"b\.csv")
    _raises(lambda: experiment_from_csv(tmp_path, "uniaxial", units="MPa"), ValueError, r"is a directory")


# ----------------------------------------------------------------------------- fitting and driver
FIT_CASES = [
    ("empty list", lambda: fit("neo-hooke-incompressible", []), ValueError, r"experiments: the list is empty"),
    ("zero data", lambda: fit("neo-hooke-incompressible", [_exp(stress=[0.0, 0.0])]), ValueError,
     r"every measured stress is zero; the data carry no information"),
    ("wrong items", lambda: fit("neo-hooke-incompressible", ["ut"]), TypeError, r"experiments: expected Experiment"),
    ("bad jacobian", lambda: fit("neo-hooke-incompressible", [_exp()], jacobian="magic"), ValueError, r"jacobian"),
    ("bad starts", lambda: fit("neo-hooke-incompressible", [_exp()], n_starts=0), ValueError, r"n_starts"),
    ("unknown model", lambda: fit("rubber", [_exp()]), KeyError, r"unknown material model 'rubber'"),
    ("missing file", lambda: fit("neo-hooke-incompressible", "none.h5"), FileNotFoundError, r"none\.h5"),
]


@pytest.mark.parametrize(("case", "fn", "exc", "pattern"), FIT_CASES, ids=[c[0] for c in FIT_CASES])
def test_fit_inputs(case, fn, exc, pattern):
    _raises(fn, exc, pattern)


DRIVER_CASES = [
    ("negative stretch", lambda: uniaxial([1.0, -0.5]), ValueError, r"stretch"),
    ("NaN stretch", lambda: uniaxial([1.0, math.nan]), ValueError, r"stretch"),
    ("unknown mode", lambda: load_path("torsion", [1.0]), ValueError, r"mode"),
    ("predict mode", lambda: predict(NH, "twist", [1.1]), ValueError, r"mode"),
]


@pytest.mark.parametrize(("case", "fn", "exc", "pattern"), DRIVER_CASES, ids=[c[0] for c in DRIVER_CASES])
def test_driver_inputs(case, fn, exc, pattern):
    _raises(fn, exc, pattern)


# ----------------------------------------------------------------------------- export, notation, cards
FS = torch.eye(3).expand(3, 3, 3).clone() * 1.05


def _export(tmp_path, **kw):
    args = {"path": tmp_path / "t.h5", "material": NH, "F_or_E": FS, **kw}
    return lambda: export_tangents(args.pop("path"), args.pop("material"), args.pop("F_or_E"), **args)


EXPORT_CASES = [
    ("suffix", {"path": "t.txt"}, ValueError, r"path: expected a \.h5, \.hdf5 or \.npz"),
    ("zero points", {"F_or_E": torch.empty(0, 3, 3)}, ValueError, r"F_or_E: no points to export"),
    ("incompressible", {"material": materials.get("yeoh-incompressible")}, ValueError, r"incompressible"),
    ("notation", {"notation": "voight"}, ValueError, r"notation: expected one of"),
    ("tangent", {"tangent": "dS/dF"}, ValueError, r"tangent: expected one of"),
    ("unsymmetric in voigt", {"tangent": "dP/dF", "notation": "voigt"}, ValueError, r"notation: 'voigt' needs symmetric"),
    ("chunk size", {"chunk_size": 0}, ValueError, r"chunk_size"),
    ("bad F", {"F_or_E": -FS}, ValueError, r"^F: det F must be > 0"),
    ("E not a strain", {"F_or_E": torch.tensor([[-0.7, 0, 0, 0, 0, 0.0]]), "kind": "E"}, ValueError,
     r"^E: C = I \+ 2E is not positive definite at 1 point"),
    ("kind", {"kind": "G"}, ValueError, r"kind: expected 'F' or 'E'"),
]


@pytest.mark.parametrize(("case", "kw", "exc", "pattern"), EXPORT_CASES, ids=[c[0] for c in EXPORT_CASES])
def test_export_inputs(tmp_path, case, kw, exc, pattern):
    _raises(_export(tmp_path, **kw), exc, pattern)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")], "a temporary file was left behind"


def test_export_paths(tmp_path):
    _raises(_export(tmp_path, path=tmp_path / "missing" / "t.h5"), FileNotFoundError, r"does not exist")
    (tmp_path / "dir.h5").mkdir()
    _raises(_export(tmp_path, path=tmp_path / "dir.h5"), IsADirectoryError, r"is a directory")
    _raises(lambda: read_tangents(tmp_path / "none.h5"), FileNotFoundError, r"none\.h5")
    write_experiments(tmp_path / "e.h5", [_exp()])
    _raises(lambda: read_tangents(tmp_path / "e.h5"), ValueError, r"not a tangent file")


NOTATION_CASES = [
    ("notation", lambda: nt.stress_to_vector(np.zeros((3, 3)), "abq"), ValueError, r"notation: expected one of"),
    ("quantity", lambda: nt.tensor_to_vector(np.zeros((3, 3)), "voigt", "strian"), ValueError, r"quantity"),
    ("vector shape", lambda: nt.vector_to_stress(np.zeros(5), "voigt"), ValueError, r"trailing shape \(6,\)"),
    ("tensor shape", lambda: nt.tangent_to_matrix(np.zeros((3, 3)), "mandel"), ValueError, r"trailing shape"),
    ("not an array", lambda: nt.stress_to_vector([[1, 0, 0]] * 3, "voigt"), TypeError, r"expected an array"),
]


@pytest.mark.parametrize(("case", "fn", "exc", "pattern"), NOTATION_CASES, ids=[c[0] for c in NOTATION_CASES])
def test_notation_inputs(case, fn, exc, pattern):
    _raises(fn, exc, pattern)


def test_abaqus_card_refuses_forms_abaqus_lacks():
    _raises(lambda: abaqus_material_card(NH), ValueError, r"neo-hooke|Abaqus|volumetric|coupled")


# ----------------------------------------------------------------------------- Python UMAT
def _umat_args(**over):
    args = {"STRESS": np.zeros(6), "DDSDDE": np.zeros((6, 6)), "NDI": 3, "NSHR": 3, "NTENS": 6,
            "PROPS": np.array([1.0, 10.0]), "NPROPS": 2, "DFGRD1": np.eye(3), "CMNAME": "NEO-HOOKE"}
    args.update(over)
    a = args
    return (a["STRESS"], np.zeros(0), a["DDSDDE"], np.zeros(1), np.zeros(1), np.zeros(1), 0.0, np.zeros(6),
            np.zeros(6), 0.0, np.zeros(6), np.zeros(6), np.zeros(2), 0.1, 0.0, 0.0, np.zeros(1), np.zeros(1),
            a["CMNAME"], a["NDI"], a["NSHR"], a["NTENS"], 0, a["PROPS"], a["NPROPS"], np.zeros(3), np.eye(3),
            1.0, 1.0, np.eye(3), a["DFGRD1"], 1, 1, 0, 0, 1, 1)


UMAT_CASES = [
    ("NTENS", {"NTENS": 5}, ValueError, r"NTENS: expected NDI \+ NSHR"),
    ("NPROPS", {"NPROPS": 3}, ValueError, r"NPROPS: got 3 but PROPS has 2"),
    ("PROPS length", {"PROPS": np.array([1.0]), "NPROPS": 1}, (ValueError, TypeError), r"PROPS|mu|lmbda"),
    ("integer STRESS", {"STRESS": np.zeros(6, dtype=np.int64)}, TypeError, r"STRESS: expected a float64 array"),
    ("float32 DDSDDE", {"DDSDDE": np.zeros((6, 6), dtype=np.float32)}, TypeError, r"DDSDDE: expected a float64"),
    ("read-only STRESS", {"STRESS": np.zeros(6)}, ValueError, r"STRESS: array is read-only"),
    ("plane stress", {"NDI": 2, "NSHR": 1, "NTENS": 3}, ValueError, r"plane stress"),
    ("DFGRD1 shape", {"DFGRD1": np.eye(2)}, ValueError, r"DFGRD1: expected shape"),
    ("DFGRD1 inverted", {"DFGRD1": -np.eye(3)}, ValueError, r"DFGRD1: det F must be > 0"),
    ("unknown CMNAME", {"CMNAME": "RUBBERX"}, KeyError, r"unknown material model"),
    ("plane strain with out-of-plane F", {"NSHR": 1, "NTENS": 4, "STRESS": np.zeros(4), "DDSDDE": np.zeros((4, 4)),
                                          "DFGRD1": np.eye(3) + 0.1 * np.eye(3)[[2, 0, 1]]}, ValueError, r"NSHR=1"),
]


@pytest.mark.parametrize(("case", "over", "exc", "pattern"), UMAT_CASES, ids=[c[0] for c in UMAT_CASES])
def test_python_umat_arguments(case, over, exc, pattern):
    from constitutive.interfaces.abaqus_umat import umat

    if case == "read-only STRESS":
        over["STRESS"].flags.writeable = False
    _raises(lambda: umat(*_umat_args(**over)), exc, pattern)


def test_make_umat_unknown_model():
    _raises(lambda: make_umat("rubberish"), KeyError, r"unknown material model 'rubberish'")


# ----------------------------------------------------------------------------- FE driver and TOML
def _problem():
    return Problem(box(2), NH)


FE_CASES = [
    ("no Dirichlet", lambda: _problem().solve(steps=1), ValueError, r"6 rigid-body mode\(s\) free"),
    ("one face in x", lambda: (lambda p: (p.fix("xmin", components=(0,)), p.solve(steps=1)))(_problem()),
     ValueError, r"3 rigid-body mode\(s\) free \(translation along y; translation along z; rotation about x\)"),
    ("formulation", lambda: Problem(box(2), NH, formulation="mixed"), ValueError, r"formulation"),
    ("box n", lambda: box(0), ValueError, r"\bn\b"),
    ("steps", lambda: (lambda p: (p.fix("xmin"), p.solve(steps=0)))(_problem()), ValueError, r"steps"),
    ("min_step", lambda: (lambda p: (p.fix("xmin"), p.solve(min_step=2.0)))(_problem()), ValueError, r"min_step"),
    ("plot name", lambda: (lambda p: (p.fix("xmin"), p.solve(steps=1, output_dir="o", plot=("pull", 0))))(_problem()),
     ValueError, r"plot: expected \(Dirichlet set name"),
    ("node set", lambda: _problem().fix("wmin"), ValueError, r"wmin"),
    ("mesh file", lambda: __import__("constitutive.fem", fromlist=["Mesh"]).Mesh.read("none.msh"), (FileNotFoundError, ValueError), r"none\.msh"),
]


@pytest.mark.parametrize(("case", "fn", "exc", "pattern"), FE_CASES, ids=[c[0] for c in FE_CASES])
def test_fe_driver_inputs(case, fn, exc, pattern, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _raises(fn, exc, pattern)


def test_fe_output_dir_is_a_file(tmp_path):
    p = _problem()
    p.fix("xmin")
    (tmp_path / "f").write_text("")
    _raises(lambda: p.solve(steps=1, output_dir=str(tmp_path / "f")), ValueError, r"output_dir: .* not a directory")


BASE_TOML = {"mesh": {"type": "box", "n": 2}, "material": {"model": "neo-hooke"},
             "dirichlet": [{"nodes": "xmin"}, {"nodes": "xmax", "components": [0], "value": 0.1}]}
TOML_CASES = [
    ("section typo", {"outptu": {"directory": "x"}}, r"unknown section \[outptu\]; did you mean 'output'\?"),
    ("mesh key typo", {"mesh": {"type": "box", "nn": 3}}, r"\[mesh\]: unknown key 'nn'; did you mean 'n'\?"),
    ("dirichlet typo", {"dirichlet": [{"nodes": "xmin", "componets": [0]}]}, r"\[\[dirichlet\]\] #1: unknown key 'componets'"),
    ("problem typo", {"problem": {"formulaton": "fbar"}}, r"\[problem\]: unknown key 'formulaton'; did you mean 'formulation'"),
    ("value typo", {"dirichlet": [{"nodes": "xmin", "valeu": 0.5}]}, r"unknown key 'valeu'; did you mean 'value'"),
    ("output typo", {"output": {"directroy": "r"}}, r"\[output\]: unknown key 'directroy'; did you mean 'directory'"),
    ("solver typo", {"solver": {"stepz": 3}}, r"\[solver\]: unknown key 'stepz'; did you mean 'steps'"),
    ("material param typo", {"material": {"model": "neo-hooke", "muu": 1.0}}, r"\[material\]: .*'muu' \(did you mean 'mu'\?\)"),
    ("material model missing", {"material": {"mu": 1.0}}, r"\[material\]: missing key 'model'"),
    ("components range", {"dirichlet": [{"nodes": "xmin", "components": [3]}]}, r"components = \[3\]; expected"),
    ("value type", {"dirichlet": [{"nodes": "xmin", "value": "big"}]}, r"value = 'big'; expected a number"),
    ("formulation value", {"problem": {"formulation": "mixed"}}, r"formulation = 'mixed'"),
    ("format value", {"output": {"format": "vtk"}}, r"format = 'vtk'"),
    ("steps value", {"solver": {"steps": 0}}, r"steps = 0; expected a positive integer"),
    ("n value", {"mesh": {"n": -2}}, r"n = -2"),
    ("dirichlet not array", {"dirichlet": {"nodes": "xmin"}}, r"\[dirichlet\] must be an array of tables"),
    ("nodes missing", {"dirichlet": [{"value": 0.0}]}, r"\[\[dirichlet\]\] #1: missing key 'nodes'"),
    ("unknown model", {"material": {"model": "neo-hookean"}}, r"\[material\]: unknown material model"),
]


@pytest.mark.parametrize(("case", "patch", "pattern"), TOML_CASES, ids=[c[0] for c in TOML_CASES])
def test_toml_inputs(case, patch, pattern):
    cfg = {**BASE_TOML, **patch}
    _raises(lambda: build(cfg, material_from, source="job.toml"), ValueError, r"job\.toml: (.*: )?" + pattern)


# ----------------------------------------------------------------------------- command line
CLI_CASES = [
    ("fit missing file", ["fit", "none.h5", "--model", "ogden"], r"none\.h5"),
    ("fit output dir missing", ["fit", "DATA", "--model", "neo-hooke", "--output", "no/dir/fit.json"],
     r"--output: the directory .* does not exist"),
    ("fit plot suffix", ["fit", "DATA", "--model", "neo-hooke", "--plot", "fit.gif"], r"--plot: .* should end in"),
    ("fit starts", ["fit", "DATA", "--model", "neo-hooke", "--starts", "0"], r"--starts"),
    ("check points", ["check", "neo-hooke", "--points", "0"], r"n: expected a positive number"),
    ("check amplitude", ["check", "neo-hooke", "--amplitude", "5"], r"amplitude: expected 0 < amplitude <= 1"),
    ("check unknown model", ["check", "neo-hookean"], r"unknown material model"),
    ("check param syntax", ["check", "neo-hooke", "--param", "mu"], r"--param: expected NAME=VALUE"),
    ("check param list", ["check", "ogden", "--param", "mu=1,x"], r"--param mu: cannot read"),
    ("export no input", ["export", "neo-hooke", "--input", "none.h5", "--output", "t.h5"], r"--input: no such file"),
    ("export output dir", ["export", "neo-hooke", "--input", "F.npy", "--output", "x/t.h5"], r"--output: the directory"),
    ("export needs output", ["export", "neo-hooke"], r"--input and --output are required"),
    ("compile name", ["compile", "neo-hooke", "--name", "nh_1", "--output", "lib"], r"name: expected"),
    ("compile option", ["compile", "neo-hooke", "--name", "NH", "--output", "lib", "--option", "volumetric"],
     r"--option: expected NAME=VALUE"),
    ("solve missing", ["solve", "none.toml"], r"input file not found: none\.toml"),
    ("solve syntax", ["solve", "bad.toml"], r"bad\.toml: invalid TOML"),
    ("data import exists", ["data", "import", "d.csv", "-o", "DATA", "--mode", "uniaxial", "--units", "MPa"],
     r"--output: .* exists; pass --append .* or --force"),
    ("data import header only", ["data", "import", "h.csv", "-o", "new.h5", "--mode", "uniaxial", "--units", "MPa"],
     r"h\.csv: a header"),
    ("data import bad units", ["data", "import", "d.csv", "-o", "new.h5", "--mode", "uniaxial", "--units", "MPaa"],
     r"units: unknown stress unit 'MPaa'"),
    ("data info not hdf5", ["data", "info", "d.csv"], r"d\.csv: not a readable HDF5 file"),
]


@pytest.mark.parametrize(("case", "argv", "pattern"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli(case, argv, pattern, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_experiments("data.h5", [_exp()])
    (tmp_path / "d.csv").write_text("1.0,0.0\n1.2,0.3\n")
    (tmp_path / "h.csv").write_text("stretch,stress\n")
    (tmp_path / "bad.toml").write_text("[mesh\n")
    np.save(tmp_path / "F.npy", np.eye(3)[None])
    before = sorted(os.listdir(tmp_path))
    argv = [a.replace("DATA", "data.h5") for a in argv]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert re.search(pattern, err), err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == before, "a failed command wrote or removed files"


def test_data_import_keeps_existing_experiments(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_experiments("data.h5", [_exp(name="old")])
    (tmp_path / "d.csv").write_text("1.0,0.0\n1.2,0.3\n")
    assert main(["data", "import", "d.csv", "-o", "data.h5", "--mode", "uniaxial", "--units", "MPa"]) == 2
    assert [e.name for e in read_experiments("data.h5")] == ["old"]
    assert main(["data", "import", "d.csv", "-o", "data.h5", "--mode", "uniaxial", "--units", "MPa", "--append"]) == 0
    assert [e.name for e in read_experiments("data.h5")] == ["old", "d"]


# ----------------------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=9, max_size=9), st.floats(0.01, 1e4))
def test_any_finite_F_gives_finite_results_or_a_clear_error(values, scale):
    """Over random deformation gradients: never a silent NaN/inf; errors name F."""
    F = torch.tensor(values).reshape(3, 3) * scale
    try:
        P, A = NH.pk1_tangent(F)
    except ValueError as exc:
        assert str(exc).startswith(("F:", "the stress")) or "overflow" in str(exc), str(exc)
        return
    assert torch.isfinite(P).all() and torch.isfinite(A).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1.0, 2.0, allow_nan=False), min_size=6, max_size=6))
def test_any_mandel_strain_is_admissible_or_refused(values):
    e = torch.tensor(values)
    try:
        s, D = NH.stress_tangent_mandel(e)
    except ValueError as exc:
        assert str(exc).startswith("e: C = I + 2E is not positive definite"), str(exc)
        return
    C = torch.eye(3) + 2 * __import__("constitutive").mandel.from_mandel(e)
    assert bool((torch.linalg.eigvalsh(C) > 0).all()) and torch.isfinite(s).all() and torch.isfinite(D).all()


def test_missing_optional_dependency_names_the_extra(monkeypatch, tmp_path):
    """Without matplotlib a plot request says, in one line, which extra to install."""
    import sys

    from constitutive.optional import MissingDependency, require

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    _raises(lambda: require("matplotlib.figure"), MissingDependency, r"pip install 'constitutive\[plot\]'")
    res = fit("neo-hooke-incompressible", [_exp()])
    _raises(lambda: res.plot(tmp_path / "fit.png"), MissingDependency, r"matplotlib .* plots")
