"""FE driver output and front ends: VTU/PVD/XDMF series, reaction CSV/JSON/PNG, TOML input,
``constitutive solve`` and the demo function."""

import csv
import json
import os

import numpy as np
import pytest
import torch

import materials
from constitutive.cli import main
from constitutive.fem import Problem, box, distort
from constitutive.fem.examples import uniaxial_block

meshio = pytest.importorskip("meshio")

TOML = """
[mesh]
type = "box"
n = [2, 1, 1]
size = [2.0, 1.0, 1.0]

[material]
model = "neo-hooke"
mu = 1.0
lmbda = 10.0

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
nodes = {x = 2.0}
components = [0]
value = 0.6
name = "end"

[solver]
steps = 3

[output]
directory = "out"
plot = "end"
"""


def test_uniaxial_block_demo_writes_series_and_matches_cauchy(tmp_path):
    mat = materials.get("neo-hooke", mu=1.0, lmbda=10.0)
    out = uniaxial_block(mat, stretch=1.4, n=2, steps=2, output_dir=str(tmp_path))
    assert out["stretch"][-1] == pytest.approx(1.4)
    names = sorted(os.listdir(tmp_path))
    assert "uniaxial_block.pvd" in names and "uniaxial_block_reaction.png" in names
    assert sum(n.endswith(".vtu") for n in names) == 3
    m = meshio.read(tmp_path / "uniaxial_block_0002.vtu")
    np.testing.assert_allclose(m.point_data["displacement"][:, 0], 0.4 * m.points[:, 0], atol=1e-10)
    # cell Cauchy stress: sigma_11 = P11 / (lt^2) ... checked via J and the reaction
    J = m.cell_data["J"][0]
    sigma = m.cell_data["cauchy"][0].reshape(-1, 3, 3)
    F = np.diag([1.4, *(np.sqrt(J[0] / 1.4),) * 2])
    P = mat.pk1(torch.tensor(F, dtype=torch.float64)).numpy()
    np.testing.assert_allclose(sigma[0], P @ F.T / J[0], atol=1e-8)
    np.testing.assert_allclose(m.cell_data["von_mises"][0], abs(sigma[:, 0, 0]), rtol=1e-8)
    # reaction output is the nodal reaction on constrained DOFs, summing to the force
    assert m.point_data["reaction"][:, 0][np.isclose(m.points[:, 0], 1.0)].sum() == \
        pytest.approx(out["force"][-1], rel=1e-10)
    with open(tmp_path / "uniaxial_block_reactions.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert float(rows[-1]["xmax_F0"]) == pytest.approx(out["force"][-1])
    log = json.loads((tmp_path / "uniaxial_block.json").read_text())
    assert len(log["newton_log"]) == 2 and log["newton_log"][0]["residuals"][-1] < 1e-6


def test_xdmf_time_series(tmp_path):
    prob = Problem(box(1), materials.get("neo-hooke", mu=1.0, lmbda=1.0))
    prob.fix("xmin")
    prob.traction("xmax", [0.1, 0.0, 0.0])
    res = prob.solve(steps=2, output_dir=str(tmp_path), fmt="xdmf")
    assert sorted(os.listdir(tmp_path))[:2] == ["solution.h5", "solution.json"]
    with meshio.xdmf.TimeSeriesReader(str(tmp_path / "solution.xdmf")) as reader:
        reader.read_points_cells()
        assert reader.num_steps == 3
        t, pd, _ = reader.read_data(2)
    assert t == pytest.approx(1.0)
    np.testing.assert_allclose(pd["displacement"], res.u)


def test_toml_cli_solve(tmp_path, capsys):
    path = tmp_path / "block.toml"
    path.write_text(TOML)
    assert main(["solve", str(path), "-q"]) == 0
    text = capsys.readouterr().out
    assert "reaction on 'end'" in text
    files = os.listdir(tmp_path / "out")
    assert "solution.pvd" in files and "solution_reaction.png" in files
    with open(tmp_path / "out" / "solution_reactions.csv") as fh:
        rows = list(csv.DictReader(fh))
    mat = materials.get("neo-hooke", mu=1.0, lmbda=10.0)
    ref = uniaxial_block(mat, stretch=1.3, n=1, steps=1)["force"][-1]
    assert float(rows[-1]["end_F0"]) == pytest.approx(ref, rel=1e-8)


def test_toml_errors_are_clear(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[mesh]\ntype = 'sphere'\n[material]\nmodel = 'neo-hooke'\n")
    assert main(["solve", str(bad)]) == 2
    assert "mesh.type" in capsys.readouterr().err
    assert main(["solve", str(tmp_path / "missing.toml")]) == 2
    bad.write_text("[mesh]\n[material]\nmodel = 'neo-hooke'\n[solver]\nstep = 3\n")
    assert main(["solve", str(bad)]) == 2
    assert "unknown key" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".vtu", ".msh", ".xdmf", ".vtk", ".inp"])
def test_mesh_write_read_roundtrip_leaves_one_file(tmp_path, suffix):
    """Mesh.write is atomic and self-contained: exactly the named file appears (an XDMF file
    keeps its data inline, no sidecar named after the temporary file), and reads back."""
    from constitutive.fem import Mesh

    mesh = distort(box((2, 3, 2)), 0.1, seed=1)
    path = tmp_path / f"part{suffix}"
    mesh.write(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    back = Mesh.read(path)
    np.testing.assert_allclose(back.points, mesh.points, atol=1e-12)
    np.testing.assert_array_equal(back.cells, mesh.cells)


def test_mesh_write_unknown_suffix_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="mesh format"):
        box((1, 1, 1)).write(tmp_path / "part.foo")
    assert list(tmp_path.iterdir()) == []


def test_failed_solve_keeps_the_history_of_its_converged_steps(tmp_path):
    """A solve that fails after cutbacks raises, but the .pvd, the reaction CSV and the JSON log of
    the steps it completed are written (and say why it stopped)."""
    import json

    import materials
    from constitutive.fem import ConvergenceError, Problem, box

    prob = Problem(box(2), materials.get("gent", mu=1.0, Jm=0.5, K=20.0))
    prob.fix("xmin", components=(0,))
    prob.fix("ymin", components=(1,))
    prob.fix("zmin", components=(2,))
    prob.fix("ymax", components=(1,))  # laterally confined: F = diag(lambda, 1, 1)
    prob.fix("zmax", components=(2,))
    prob.displace("xmax", 1.5, components=(0,), name="pull")  # Gent locks at lambda ~ 1.9
    with pytest.raises(ConvergenceError) as info:
        prob.solve(steps=4, output_dir=str(tmp_path), name="run", min_step=0.05)
    res = info.value.result
    assert 0 < len(res.steps) < 4 and res.failure.startswith("ConvergenceError")
    log = json.loads((tmp_path / "run.json").read_text())
    assert log["completed"] is False and len(log["newton_log"]) == len(res.steps)
    rows = (tmp_path / "run_reactions.csv").read_text().splitlines()
    assert len(rows) == 1 + 1 + len(res.steps)  # header, t = 0, converged steps
    assert (tmp_path / "run.pvd").read_text().count("<DataSet") == 1 + len(res.steps)


def test_solve_template_is_a_valid_input(tmp_path):
    """`constitutive solve --template` prints an input that passes the schema and builds a problem."""
    import tomllib

    from constitutive.cli.common import material_from
    from constitutive.cli.solve import template
    from constitutive.fem.inputfile import build, validate

    cfg = tomllib.loads(template())
    validate(cfg, "template")
    prob, solver, output = build(cfg, material_from, str(tmp_path), "template")
    assert prob.mesh.ncells == 64 and solver["steps"] == 5 and output["fmt"] == "vtu"
