"""A state model in a TOML input, as `constitutive solve` runs it: ramp-and-hold relaxation of a
block in uniaxial stress (amplitude curve, physical duration); the reaction history equals the
material-point driver's relaxation of the same material, step by step; the CSV carries the
physical time; bad amplitude curves are clear errors."""

import csv

import numpy as np
import pytest
import torch

import materials
from constitutive.calibration import history as H
from constitutive.cli import main

torch.set_default_dtype(torch.float64)

INPUT = """
[mesh]
type = "box"
n = [2, 2, 2]

[material]
model = "viscoelastic"
base = "neo-hooke-decoupled"
mu = 0.5
K = 50.0
tau = [0.3, 8.0]
beta = [1.2, 0.6]

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
value = 0.5
amplitude = AMPLITUDE

[solver]
steps = 20
duration = 20.0
rtol = 1e-11

[output]
directory = "results"
name = "relax"
"""


def _amp(t):
    return float(np.interp(t, [0.0, 0.1, 1.0], [0.0, 1.0, 1.0]))


def test_relaxation_from_toml_equals_the_material_point(tmp_path):
    path = tmp_path / "relax.toml"
    path.write_text(INPUT.replace("AMPLITUDE", "[[0.0, 0.0], [0.1, 1.0], [1.0, 1.0]]"))
    assert main(["solve", str(path)]) == 0
    with open(tmp_path / "results" / "relax_reactions.csv") as fh:
        rows = list(csv.DictReader(fh))
    t = np.array([float(r["t"]) for r in rows])
    time = np.array([float(r["time"]) for r in rows])
    force = np.array([float(r["xmax_F0"]) for r in rows])
    assert np.allclose(time, 20.0 * t) and t[-1] == pytest.approx(1.0)
    mat = materials.get_state_model("viscoelastic", base="neo-hooke-decoupled", mu=0.5, K=50.0,
                                    tau=[0.3, 8.0], beta=[1.2, 0.6])
    hist = H.strain_history("uniaxial", time, [1.0 + 0.5 * _amp(x) for x in t])
    P11 = H.solve_history(mat, hist).measured()[:, 0].numpy()  # unit cross-section: force = P11
    assert np.abs(force - P11).max() <= 1e-7 * np.abs(P11).max()
    assert force[2] > 1.4 * force[-1]  # it relaxes during the hold


@pytest.mark.parametrize("curve, message", [
    ("[[0.0, 0.0]]", "at least two"),
    ("[[0.0, 0.0], [0.5, 1.0]]", "from 0 to 1"),
    ("[[0.0, 0.0], [0.6, 1.0], [0.4, 1.0], [1.0, 1.0]]", "increasing"),
])
def test_bad_amplitude_names_the_key(tmp_path, capsys, curve, message):
    path = tmp_path / "bad.toml"
    path.write_text(INPUT.replace("AMPLITUDE", curve))
    assert main(["solve", str(path)]) == 2
    err = capsys.readouterr().err
    assert "[[dirichlet]] #4: amplitude" in err and message in err
