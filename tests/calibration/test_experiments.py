"""HDF5 experiment format: round trip, validation errors, CSV import (API and CLI), shipped data."""

import json
import os

import h5py
import numpy as np
import pytest

from constitutive.calibration.csvio import experiment_from_csv
from constitutive.calibration.experiments import Experiment, read_experiments, unit_factor, write_experiments
from constitutive.cli import main

DATA = os.path.join(os.path.dirname(__file__), "..", "..", "data")
REF = "/work/shared/reference-data"


def _examples():
    lam = np.array([1.0, 1.5, 2.0])
    F = np.repeat(np.eye(3)[None], 2, 0)
    F[1, 0, 1] = 0.2
    return [
        Experiment("ut", "uniaxial", stress=[0.0, 0.5, 1.0], stretch=lam, units="kPa",
                   source="synthetic", temperature=23.0, point_weight=[1, 2, 1]),
        Experiment("bt", "biaxial", stress=np.c_[lam, lam / 2], stretch=np.c_[lam, lam[::-1]],
                   stress_measure="cauchy"),
        Experiment("ss", "SS", stress=[0.0, 0.1], shear=[0.0, 0.2], weight=2.0),
        Experiment("gen", "general", stress=np.zeros((2, 3, 3)), F=F, free=("33",)),
    ]


def test_round_trip(tmp_path):
    path = tmp_path / "e.h5"
    write_experiments(path, _examples(), title="t")
    back = read_experiments(path)
    assert [e.name for e in back] == ["ut", "bt", "ss", "gen"]  # creation order kept
    for a, b in zip(_examples(), back, strict=False):
        assert (a.mode, a.stress_measure, a.units, a.source) == (b.mode, b.stress_measure, b.units, b.source)
        np.testing.assert_array_equal(a.stress, b.stress)
        np.testing.assert_array_equal(a.control(), b.control())
    assert back[0].temperature == 23.0 and back[2].weight == 2.0 and back[2].mode == "simple_shear"
    np.testing.assert_array_equal(back[0].weights(), [1, 2, 1])
    assert back[3].free == ("33",)
    assert read_experiments(path, ["ss"])[0].name == "ss"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # atomic write left nothing


def _corrupt(path, fn):
    write_experiments(path, _examples()[:1])
    with h5py.File(path, "a") as f:
        fn(f["experiments/ut"])


@pytest.mark.parametrize("edit,match", [
    (lambda g: g.__delitem__("stress"), "missing dataset 'stress'"),
    (lambda g: g.__delitem__("stretch"), "missing dataset 'stretch'"),
    (lambda g: (g.__delitem__("stress"), g.create_dataset("stress", data=[1.0, 2.0])), "length mismatch"),
    (lambda g: g.attrs.__setitem__("mode", "torsion"), "unknown mode 'torsion'"),
    (lambda g: g.attrs.__setitem__("units", "furlong"), "unknown stress unit 'furlong'"),
    (lambda g: g.attrs.__delitem__("units"), "missing attribute 'units'"),
    (lambda g: g.attrs.__setitem__("stress_measure", "pk3"), "stress_measure 'pk3' unknown"),
    (lambda g: g["stress"].__setitem__(1, np.nan), "NaN/inf value"),
    (lambda g: (g.__delitem__("stretch"), g.create_dataset("stretch", data=[1.0, -1.0, 2.0])), "> 0"),
])
def test_reader_errors(tmp_path, edit, match):
    path = tmp_path / "bad.h5"
    _corrupt(path, edit)
    with pytest.raises(ValueError, match=match):
        read_experiments(path)


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_experiments(tmp_path / "none.h5")
    (tmp_path / "x.h5").write_text("not hdf5")
    with pytest.raises(ValueError, match="not a readable HDF5"):
        read_experiments(tmp_path / "x.h5")
    with h5py.File(tmp_path / "y.h5", "w") as f:
        f.create_group("other")
    with pytest.raises(ValueError, match="missing group '/experiments'"):
        read_experiments(tmp_path / "y.h5")
    with pytest.raises(ValueError, match="names must be unique"):
        write_experiments(tmp_path / "z.h5", _examples()[:1] * 2)
    with pytest.raises(ValueError, match="shape"):
        Experiment("b", "biaxial", stress=[1.0, 2.0], stretch=[[1.0, 1.0], [1.1, 1.0]])


def test_units():
    assert unit_factor("MPa", "kPa") == pytest.approx(1e3)
    assert unit_factor("kgf/cm^2", "MPa") == pytest.approx(0.0980665)
    e = _examples()[0]
    np.testing.assert_allclose(e.stress_in("MPa"), e.stress * 1e-3)


def test_csv_import_api_and_cli(tmp_path, capsys):
    csv = tmp_path / "k.csv"
    csv.write_text("# Author (2000) J. Rubber 1:1\nmode,lam [-],P [MPa]\nUT,1.1,0.2\nUT,1.5,0.6\nET,1.2,0.5\n")
    e = experiment_from_csv(csv, "uniaxial", units="MPa", where={"mode": "UT"}, columns=["lam", "P"])
    np.testing.assert_array_equal(e.stretch, [1.1, 1.5])
    assert "Author (2000)" in e.source
    out = tmp_path / "k.h5"
    rc = main(["data", "import", str(csv), "--output", str(out), "--mode", "equibiaxial",
               "--units", "MPa", "--where", "mode=ET", "--name", "et"])
    assert rc == 0
    assert read_experiments(out)[0].stretch.tolist() == [1.2]
    rc = main(["data", "import", str(csv), "--output", str(out), "--mode", "uniaxial",
               "--units", "MPa", "--where", "mode=UT", "--name", "ut", "--append"])
    assert rc == 0 and [x.name for x in read_experiments(out)] == ["et", "ut"]
    assert main(["data", "import", str(csv), "-o", str(out), "--mode", "uniaxial", "--units", "bogus"]) == 2
    assert "unknown stress unit" in capsys.readouterr().err
    assert main(["data", "info", str(out)]) == 0


def test_shipped_treloar():
    exps = {e.name: e for e in read_experiments(os.path.join(DATA, "treloar.h5"))}
    assert {k: e.n for k, e in exps.items()} == {"uniaxial": 24, "equibiaxial": 16, "pure_shear": 13}
    ut = exps["uniaxial"]
    assert ut.units == "MPa" and ut.stress_measure == "nominal" and "Treloar (1944)" in ut.source
    assert (ut.stretch[-1], ut.stress[-1]) == (7.6, 6.3176)
    if os.path.isdir(REF):  # identical to the reference CSV
        for tag, mode in (("UT", "uniaxial"), ("ET", "equibiaxial"), ("PS", "pure_shear")):
            ref = np.loadtxt(os.path.join(REF, f"treloar1944_{tag}_zhao.csv"), delimiter=",", comments="#", skiprows=4)
            np.testing.assert_array_equal(exps[mode].stretch, ref[:, 0])
            np.testing.assert_array_equal(exps[mode].stress, ref[:, 1])
    kaw = read_experiments(os.path.join(DATA, "kawabata1981.h5"))
    bi = [e for e in kaw if e.mode == "biaxial"]
    assert len(bi) == 18 and sum(e.n for e in bi) == 117
    assert json.dumps(kaw[0].source)
    brain = read_experiments(os.path.join(DATA, "budday2017.h5"))
    assert len(brain) == 12 and {e.units for e in brain} == {"kPa"}
    assert {e.mode for e in brain} == {"uniaxial", "simple_shear"}


def test_cauchy_difference_measure_and_shipped_jones_treloar():
    """``cauchy_difference`` (sigma11 - sigma22, (n,)) is a biaxial-only measure; the shipped
    Jones & Treloar (1975) file holds the reference CSV's numbers unchanged."""
    lam = np.c_[[1.0, 1.5], [1.2, 1.2]]
    e = Experiment("bd", "biaxial", stress=[0.0, 0.3], stretch=lam, stress_measure="cauchy_difference")
    assert e.stress.shape == (2,)
    with pytest.raises(ValueError, match="defined for mode 'biaxial' only"):
        Experiment("u", "uniaxial", stress=[0.1], stretch=[1.1], stress_measure="cauchy_difference")
    with pytest.raises(ValueError, match="dataset 'stress' must have shape"):
        Experiment("bd", "biaxial", stress=np.c_[[0.0, 0.3], [0.0, 0.3]], stretch=lam,
                   stress_measure="cauchy_difference")
    exps = read_experiments(os.path.join(DATA, "jones_treloar1975.h5"))
    bi = [x for x in exps if x.mode == "biaxial"]
    assert len(bi) == 5 and {x.stress_measure for x in bi} == {"cauchy_difference"}
    assert [float(x.stretch[0, 1]) for x in bi] == [1.0, 1.502, 1.984, 2.295, 2.623]
    if os.path.isdir(REF):
        ref = np.loadtxt(os.path.join(REF, "jones_treloar1975_biaxial.csv"), delimiter=",", comments="#",
                         skiprows=4)
        np.testing.assert_array_equal(np.concatenate([x.stretch[:, 0] for x in bi]), ref[:, 1])
        np.testing.assert_array_equal(np.concatenate([x.stretch[:, 1] for x in bi]), ref[:, 0])
        np.testing.assert_array_equal(np.concatenate([x.stress for x in bi]), ref[:, 3])
