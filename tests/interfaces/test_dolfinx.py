"""The DOLFINx bridge (constitutive.interfaces.dolfinx), from the main (torch) venv.

* the loader and the bridge import without torch;
* the DOLFINx tests (tests/dolfinx) pass in the DOLFINx venv, serially and on 2 ranks;
* Cook's membrane in our FE driver (constitutive.fem) and in DOLFINx with the compiled
  material, on the same mesh, agree to 1e-8.

The DOLFINx venv is created (or verified, 0.2 s) by tools/dolfinx/setup.sh; these tests are
skipped, with its error, where it cannot be created (no Python 3.12, no network).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import materials

ROOT = Path(__file__).resolve().parents[2]
SETUP = ROOT / "tools" / "dolfinx" / "setup.sh"
MU, NU = 0.4225, 0.3
K = 2.0 * MU * (1.0 + NU) / (3.0 * (1.0 - 2.0 * NU))  # deal.II's Cook material, kappa = 0.9154167


def _env(**extra) -> dict:
    """This environment without the main venv's Python settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, **extra}


def _tail(r: subprocess.CompletedProcess, n: int = 4000) -> str:
    return (r.stdout[-n:] + "\n" + r.stderr[-n:]).strip()


@pytest.fixture(scope="module")
def nh_json(tmp_path_factory) -> str:
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.skip("no C compiler (cc) to compile the material library")
    from constitutive.interfaces.compiled import compile_material

    lib = compile_material("neo-hooke-decoupled", "NH", tmp_path_factory.mktemp("nh"),
                           options={"volumetric": "simo-taylor"})
    return str(lib.description)


@pytest.fixture(scope="module")
def dolfinx_venv() -> Path:
    if shutil.which("bash") is None:
        pytest.skip("bash is needed for tools/dolfinx/setup.sh")
    r = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=1800, env=_env())
    if r.returncode != 0:
        lines = r.stderr.strip().splitlines() or ["(no output)"]
        pytest.skip(f"the DOLFINx venv could not be created by tools/dolfinx/setup.sh: {lines[-1]}")
    return Path(r.stdout.strip().splitlines()[-1])


def _launcher(venv: Path, ranks: int) -> list[str]:
    py = str(venv / "bin" / "python")
    return [py] if ranks == 1 else [str(venv / "bin" / "mpiexec"), "-n", str(ranks), py]


# ----------------------------------------------------------------------------- (a) no torch
def test_bridge_and_loader_import_without_torch(nh_json):
    """With torch (and DOLFINx) blocked, the loader evaluates the library and the bridge
    imports; using the bridge then fails with the one-line install hint."""
    code = f"""
import json, sys
sys.modules["torch"] = None
for m in ("dolfinx", "dolfinx_solver", "dolfinx_external_operator"):
    sys.modules[m] = None
import numpy as np
import constitutive.interfaces.dolfinx as bridge
from constitutive.interfaces.compiled.loader import CompiledMaterial
mat = CompiledMaterial({nh_json!r}, mu={MU!r}, K={K!r})
F = np.array([[1.1, 0.2, 0.0], [0.05, 0.95, 0.1], [0.0, -0.1, 1.02]])
A, P = bridge.external_function(mat)((1,))(F[None, None])  # flat: (1 cell, 1 point)
try:
    bridge.PK1Operator(None, mat)
    hint = None
except ImportError as exc:
    hint = str(exc)
print(json.dumps({{"P": P.tolist(), "A": A.tolist(), "hint": hint,
                  "torch": sys.modules["torch"] is None}}))
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       cwd=ROOT, env=_env())
    assert r.returncode == 0, _tail(r)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["torch"]  # still blocked: nothing imported torch
    assert out["hint"] and "\n" not in out["hint"] and "make dolfinx-env" in out["hint"]
    assert "tools/dolfinx/setup.sh" in out["hint"]
    F = np.array([[1.1, 0.2, 0.0], [0.05, 0.95, 0.1], [0.0, -0.1, 1.02]])
    engine = materials.get("neo-hooke-decoupled", mu=MU, K=K, volumetric="simo-taylor")
    P_ref, A_ref = engine.pk1_tangent(torch.tensor(F))
    np.testing.assert_allclose(np.array(out["P"]).reshape(3, 3), P_ref.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.array(out["A"]).reshape(3, 3, 3, 3), A_ref.numpy(), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- (b) tests/dolfinx
@pytest.mark.parametrize("ranks", [1, 2])
def test_dolfinx_suite(dolfinx_venv, nh_json, ranks):
    cmd = _launcher(dolfinx_venv, ranks) + ["-m", "pytest", "-q", "tests/dolfinx"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT,
                       env=_env(CONSTITUTIVE_DOLFINX_MATERIAL=nh_json))
    assert r.returncode == 0, _tail(r)
    assert "passed" in r.stdout and "failed" not in r.stdout
    skipped = r.stdout.count("SKIPPED")
    assert skipped == (ranks == 1) * 1, _tail(r)  # only the N-ranks-vs-serial test, when serial


# ----------------------------------------------------------------------------- (c) our FE driver
@pytest.fixture(scope="module")
def fe_driver_cook():
    """Cook N = 8 in constitutive.fem: x = 0 clamped, u_z = 0 everywhere, dead traction 1/16
    N/mm^2 in y on x = 48, 10 steps, hexahedra with 2x2x2 Gauss points (the default rule)."""
    from constitutive.fem import Problem, cook_membrane_mesh

    mesh = cook_membrane_mesh((8, 8, 1))
    prob = Problem(mesh, materials.get("neo-hooke-decoupled", mu=MU, K=K, volumetric="simo-taylor"),
                   formulation="displacement")
    assert prob.geometry.dN.shape[2] == 8  # 2x2x2 Gauss points, as quadrature degree 2 in DOLFINx
    prob.fix("clamped")
    prob.fix(np.arange(mesh.npoints), components=2)
    prob.traction("loaded", (0.0, 1.0 / 16.0, 0.0))
    res = prob.solve(steps=10, rtol=1e-13, atol=1e-14, predictor=False)
    return mesh, res


@pytest.mark.parametrize("ranks", [1, 2])
def test_fe_driver_agrees_with_dolfinx(dolfinx_venv, nh_json, fe_driver_cook, tmp_path, ranks):
    mesh, res = fe_driver_cook
    mesh_npz, out_npz = tmp_path / "mesh.npz", tmp_path / "dolfinx.npz"
    np.savez(mesh_npz, points=mesh.points, cells=mesh.cells, mu=MU, K=K, steps=10, traction=1.0 / 16.0,
             rtol=1e-11, atol=1e-13)
    cmd = _launcher(dolfinx_venv, ranks) + ["tests/dolfinx/solve_cook_mesh.py", str(mesh_npz), nh_json,
                                            str(out_npz)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, env=_env())
    assert r.returncode == 0, _tail(r)
    d = np.load(out_npz)
    assert int(d["ranks"]) == ranks
    key = np.round(mesh.points, 9)
    order = np.lexsort((key[:, 2], key[:, 1], key[:, 0]))
    np.testing.assert_allclose(d["X"], mesh.points[order], rtol=0, atol=1e-12)  # the same nodes
    assert np.abs(d["U"] - res.u[order]).max() <= 1e-8
    tip = np.isclose(mesh.points[:, 0], 48.0) & np.isclose(mesh.points[:, 1], 52.0)
    assert abs(float(d["tips"][-1]) - float(res.u[tip, 1].mean())) <= 1e-8
