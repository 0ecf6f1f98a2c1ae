"""The workflow flows: one fit file drives the Abaqus card, the tangent export, the compiled
library and an FE solve, with nothing retyped; each step is checked against the engine."""

import json

import numpy as np
import pytest
import torch

import materials
from constitutive import kinematics
from constitutive.calibration.driver import predict
from constitutive.cli import main
from constitutive.interfaces.export import read_tangents
from constitutive.native import compiler

K = 50.0


@pytest.fixture(scope="module")
def fit_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("workflow")
    assert main(["fit", "treloar", "--model", "mooney-rivlin", "--output", str(d / "fit.json"), "-q"]) == 0
    return d, d / "fit.json"


def test_fit_file_is_a_material(fit_file):
    _, path = fit_file
    d = json.loads(path.read_text())
    mat = materials.from_fit(path)
    assert mat.name == d["model"] == "mooney-rivlin-incompressible" and mat.stress_unit == "MPa"
    assert mat.parameter_values() == pytest.approx(d["parameters"], rel=1e-15)
    fe = materials.from_fit(path, K=K)
    assert fe.name == "mooney-rivlin" and float(fe.K) == K
    assert float(fe.c10) == pytest.approx(d["parameters"]["c10"], rel=1e-15)


def test_card_from_the_fit(fit_file):
    d, path = fit_file
    card = d / "card.inp"
    assert main(["export", "--fit", str(path), "--bulk-modulus", str(K), "--abaqus-card", str(card)]) == 0
    lines = card.read_text().splitlines()
    values = [float(v) for v in lines[lines.index("*HYPERELASTIC, MOONEY-RIVLIN") + 1].split(",")]
    p = json.loads(path.read_text())["parameters"]
    assert values == pytest.approx([p["c10"], p["c01"], 2 / K], rel=1e-15)
    assert "** stress unit: MPa; D in 1/MPa" in lines
    card_kpa = d / "card_kpa.inp"
    assert main(["export", "--fit", str(path), "--bulk-modulus", str(K), "--abaqus-card", str(card_kpa),
                 "--card-units", "kPa"]) == 0
    lines = card_kpa.read_text().splitlines()
    values = [float(v) for v in lines[lines.index("*HYPERELASTIC, MOONEY-RIVLIN") + 1].split(",")]
    assert values == pytest.approx([1e3 * p["c10"], 1e3 * p["c01"], 2 / (1e3 * K)], rel=1e-14)


def test_export_from_the_fit(fit_file):
    d, path = fit_file
    F = np.stack([np.diag([lam, lam ** -0.5, lam ** -0.5]) for lam in (1.0, 1.5, 2.5)])
    np.save(d / "F.npy", F)
    out = d / "t.h5"
    assert main(["export", "--fit", str(path), "--bulk-modulus", str(K), "--input", str(d / "F.npy"),
                 "--output", str(out)]) == 0
    tf = read_tangents(out)
    mat = materials.from_fit(path, K=K)
    _, D = mat.stress_tangent_mandel(kinematics.strain_mandel_from_F(torch.as_tensor(F)))
    np.testing.assert_allclose(tf.tangent, D.numpy(), rtol=1e-13, atol=1e-13)
    assert json.loads(tf.attrs["parameters"])["K"] == K


@pytest.mark.skipif(compiler() is None, reason="no C compiler")
def test_compile_from_the_fit(fit_file):
    from constitutive.interfaces.compiled import CompiledMaterial

    d, path = fit_file
    assert main(["compile", "--fit", str(path), "--bulk-modulus", str(K), "--name", "MRFIT",
                 "--output", str(d / "lib")]) == 0
    info = json.loads((d / "lib" / "MRFIT.json").read_text())
    mat = materials.from_fit(path, K=K)
    examples = {p["name"]: p["example"] for p in info["parameters"]}
    assert examples == pytest.approx(mat.parameter_values(), rel=1e-15)
    lib = CompiledMaterial(d / "lib" / "MRFIT.json", **examples)
    F = torch.eye(3) + 0.2 * torch.randn(5, 3, 3, generator=torch.Generator().manual_seed(0))
    P0, A0 = mat.pk1_tangent(F, fast=False)
    P, A = lib.pk1_tangent(F.numpy())
    assert np.abs(P - P0.numpy()).max() < 1e-12 * np.abs(P0.numpy()).max()


def test_fe_solve_from_the_fit(fit_file):
    d, path = fit_file
    toml = d / "cube.toml"
    toml.write_text(f"""
[mesh]
type = "box"
n = 2
[material]
fit = "fit.json"
K = {K}
[[dirichlet]]
nodes = "xmin"
components = [0]
[[dirichlet]]
nodes = "ymin"
components = [1]
[[dirichlet]]
nodes = "zmin"
components = [2]
[[dirichlet]]
nodes = "xmax"
components = [0]
value = 0.8
name = "pull"
[solver]
steps = 4
[output]
directory = "fe"
""")
    assert main(["solve", str(toml), "-q"]) == 0
    log = json.loads((d / "fe" / "solution.json").read_text())
    force = log["history"][-1]["pull_F0"]
    ref = float(predict(materials.from_fit(path, K=K), "uniaxial", torch.tensor([1.8]))[0])
    assert force == pytest.approx(ref, rel=1e-7)  # unit cube: reaction = nominal stress
