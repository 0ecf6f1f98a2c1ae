"""Tests that run INSIDE the DOLFINx venv (tools/dolfinx/setup.sh), serially and under MPI:

    VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
    $VENV/bin/python -m pytest -q tests/dolfinx
    $VENV/bin/mpiexec -n 2 $VENV/bin/python -m pytest -q tests/dolfinx

Every test is collective: all ranks run it on COMM_WORLD and reduce their errors before
asserting, so the ranks pass or fail together (no rank waits forever for a failed one).

The compiled material is ``$CONSTITUTIVE_DOLFINX_MATERIAL`` (the ``NAME.json`` written by
``constitutive compile neo-hooke-decoupled --name NH --output DIR --option volumetric=simo-taylor``);
without it, rank 0 compiles one with a torch python: ``$CONSTITUTIVE_TORCH_PYTHON``, else this
checkout's ``.venv-test`` or ``.venv``. The main suite (``pytest tests``, the torch venv) does not
collect this folder when DOLFINx is not importable; tests/interfaces/test_dolfinx.py runs it
through a subprocess.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HAVE_DOLFINX = all(importlib.util.find_spec(m) is not None for m in ("dolfinx", "dolfinx_external_operator"))

if HAVE_DOLFINX:
    from constitutive.interfaces.dolfinx import require_dolfinx

    require_dolfinx()  # imports dolfinx_solver (the wheel's library paths) before dolfinx
else:  # the torch venv: nothing here can be imported
    collect_ignore_glob = ["*.py"]


def _torch_python() -> str | None:
    env = os.environ.get("CONSTITUTIVE_TORCH_PYTHON")
    if env:
        return env
    for venv in (".venv-test", ".venv"):
        exe = ROOT / venv / "bin" / "python"
        if exe.exists():
            return str(exe)
    return None


def _compile(outdir: str) -> tuple[str | None, str]:
    py = _torch_python()
    if py is None:
        return None, "no torch python to compile the material (set CONSTITUTIVE_DOLFINX_MATERIAL)"
    code = ("import sys; from constitutive.interfaces.compiled import compile_material; "
            "print(compile_material('neo-hooke-decoupled', 'NH', sys.argv[1], "
            "options={'volumetric': 'simo-taylor'}).description)")
    r = subprocess.run([py, "-c", code, outdir], capture_output=True, text=True, timeout=600, cwd=ROOT)
    if r.returncode != 0:
        return None, f"compiling the material with {py} failed: {r.stderr.strip()[-500:]}"
    return r.stdout.strip().splitlines()[-1], ""


@pytest.fixture(scope="session")
def comm():
    from mpi4py import MPI

    return MPI.COMM_WORLD


@pytest.fixture(scope="session")
def material_json(comm):
    """Path of NH.json (neo-hooke-decoupled, simo-taylor volumetric part), the same on every rank."""
    path, why = os.environ.get("CONSTITUTIVE_DOLFINX_MATERIAL"), ""
    tmp = None
    if not path:
        if comm.rank == 0:
            tmp = tempfile.TemporaryDirectory(prefix="constitutive-dolfinx-")
            path, why = _compile(tmp.name)
        path, why = comm.bcast((path, why), root=0)
    if not path:
        pytest.skip(why)
    yield path
    comm.barrier()
    if tmp is not None:
        tmp.cleanup()


@pytest.fixture(scope="session")
def cook_example():
    """examples/dolfinx_cook_membrane.py as a module (mesh, boundary conditions, solve)."""
    name = "dolfinx_cook_membrane"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
