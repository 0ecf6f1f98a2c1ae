"""State models on the command line, as a user runs them: `constitutive check` on a state
model, `constitutive fit` of Prony parameters to HDF5 time series (recovering the parameters
that generated them), the fit file read back by `materials.from_fit` and compiled into a UMAT
with state whose update equals the fitted material's, and `constitutive models` listing them."""

import json

import numpy as np
import pytest
import torch

import materials
from constitutive.calibration import history as H
from constitutive.calibration.experiments import Experiment, write_experiments
from constitutive.cli import main

torch.set_default_dtype(torch.float64)

TRUE = dict(base="neo-hooke-incompressible", mu=0.5, tau=[0.3, 8.0], beta=[1.2, 0.6])


def _relaxation_file(path):
    true = materials.get_state_model("viscoelastic", **TRUE)
    out = []
    for name, hist in (("relaxation", H.relaxation(1.5, hold=40.0, ramp=0.2, n_ramp=4, n_hold=20)),
                       ("cyclic", H.cyclic([1.8, 1.2, 2.2, 1.0], rate=0.5, n_per_segment=8))):
        res = H.solve_history(true, hist)
        out.append(Experiment(name, "uniaxial", res.measured()[:, 0].numpy(), stretch=res.F[:, 0, 0, 0].numpy(),
                              time=hist.time.numpy(), units="MPa", source="synthetic (known parameters)"))
    write_experiments(path, out, title="synthetic viscoelastic data")


def test_check_runs_the_state_verifiers(capsys):
    assert main(["check", "viscoelastic", "--param", "base=neo-hooke-decoupled", "--param", "tau=0.3,8",
                 "--param", "beta=1.2,0.6"]) == 0
    text = capsys.readouterr().out
    for name in ("algorithmic tangent", "stress-free reference", "objectivity", "compiled = eager"):
        assert name in text
    assert "4 passed, 0 failed" in text


def test_fit_file_compile_round_trip(tmp_path, capsys):
    data = tmp_path / "visco.h5"
    _relaxation_file(data)
    fit = tmp_path / "visco_fit.json"
    assert main(["fit", str(data), "--model", "viscoelastic", "--param", "base=neo-hooke-incompressible",
                 "--param", "mu=0.5", "--fix", "mu", "--param", "tau=0.5,5", "--param", "beta=1,1",
                 "--output", str(fit), "--plot", str(tmp_path / "fit.png"), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "relaxation: R^2 = 1.00000" in text
    d = json.loads(fit.read_text())
    assert d["kind"] == "state" and d["options"]["base"] == "neo-hooke-incompressible"
    assert np.allclose(d["parameters"]["tau"], TRUE["tau"], rtol=1e-6)
    assert np.allclose(d["parameters"]["beta"], TRUE["beta"], rtol=1e-6)
    assert (tmp_path / "fit.png").stat().st_size > 0
    mat = materials.from_fit(fit)
    assert type(mat).__name__ == "Viscoelastic" and mat.stress_unit == "MPa"
    with pytest.raises(ValueError, match="K/compressible apply to incompressible hyperelastic fits"):
        materials.from_fit(fit, K=100.0)
    # a compressible base for the UMAT: the fitted Prony series over neo-Hooke with K
    assert main(["check", "--fit", str(fit)]) == 0
    lib = tmp_path / "lib"
    comp = materials.get_state_model("viscoelastic", base="neo-hooke-decoupled", mu=0.5, K=50.0,
                                     tau=d["parameters"]["tau"], beta=d["parameters"]["beta"])
    assert main(["compile", "viscoelastic", "--option", "base=neo-hooke-decoupled", "--terms", "2",
                 "--name", "VISCOFIT", "--output", str(lib)]) == 0
    from constitutive.interfaces.compiled import CompiledMaterial

    cm = CompiledMaterial(lib / "VISCOFIT.json", **{k: v for k, v in comp.parameter_values().items()})
    F = torch.diag(torch.tensor([1.3, 0.9, 0.85]))[None]
    s0 = comp.initial_state((1,))
    P0, A0, new0 = comp.pk1_tangent_state(F, s0, torch.tensor([0.2]), fast=False)
    P1, A1, new1 = cm.update(F.numpy(), s0.numpy(), np.array([0.2]))
    assert np.abs(P1 - P0.numpy()).max() <= 1e-12 * np.abs(P0.numpy()).max()
    assert np.abs(new1 - new0.numpy()).max() <= 1e-12 * max(np.abs(new0.numpy()).max(), 1.0)


def test_state_fit_refuses_options_it_cannot_honour(tmp_path):
    data = tmp_path / "visco.h5"
    _relaxation_file(data)
    assert main(["fit", str(data), "--model", "viscoelastic", "--param", "base=neo-hooke-incompressible",
                 "--starts", "4"]) == 2
    assert main(["fit", str(data), "--model", "viscoelastic", "--param", "base=neo-hooke-incompressible",
                 "--hdf5", str(tmp_path / "x.h5")]) == 2


def test_models_lists_the_state_models(capsys):
    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "viscoelastic  (Viscoelastic)" in text and "mullins  (Mullins)" in text
    assert "wraps a hyperelastic base" in text
