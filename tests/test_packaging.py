"""The package works installed: a wheel built from this checkout, installed outside it, runs the
README's commands in another working directory with the bundled data sets found by name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent


def test_package_list_is_complete():
    """pyproject lists its packages explicitly (data/ installs as constitutive.datasets)."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(ROOT), include=["constitutive*", "materials*"])) | {"constitutive.datasets"}
    assert listed == found


def test_cli_choices_match_the_library():
    from constitutive.cli import export as cli_export
    from constitutive.interfaces import export, notation

    assert set(cli_export.NOTATIONS) == set(notation.NOTATIONS)
    assert set(cli_export.TANGENTS) == set(export.TANGENTS)
    assert set(cli_export.EXPORT_STRESS_MEASURES) == set(export.EXPORT_STRESS_MEASURES)


def test_help_needs_no_torch():
    code = "import sys; from constitutive.cli import build_parser; build_parser(); print('torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "False", r.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp / "dist"), str(ROOT)], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        pytest.fail(f"wheel build failed: {r.stderr[-2000:]}")
    wheel = next((tmp / "dist").glob("constitutive-*.whl"))
    site = tmp / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    work = tmp / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "CONSTITUTIVE_FAST": os.environ.get("CONSTITUTIVE_FAST", "1")}
    return site, work, env, wheel


def _run(installed, *args, timeout=600):
    site, work, env, _ = installed
    return subprocess.run([sys.executable, "-m", "constitutive", *args], cwd=work, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_wheel_contents(installed):
    import zipfile

    names = zipfile.ZipFile(installed[3]).namelist()
    for data in ("treloar", "kawabata1981", "jones_treloar1975", "budday2017"):
        assert f"constitutive/datasets/{data}.h5" in names
    assert "constitutive/fast/README.md" in names and "materials/ogden.py" in names
    assert not any(n.startswith(("tests/", "benchmarks/", "tools/")) for n in names)


def test_installed_package_is_the_one_used(installed):
    site, work, env, _ = installed
    r = subprocess.run([sys.executable, "-c", "import constitutive, materials; print(constitutive.__file__); "
                        "print(materials.__file__)"], cwd=work, env=env, capture_output=True, text=True)
    assert all(line.startswith(str(site)) for line in r.stdout.split()), r.stdout + r.stderr


@pytest.mark.parametrize("args", [
    ["--version"],
    ["models", "ogden"],
    ["data", "info", "treloar"],
    ["check", "neo-hooke", "--param", "mu=1", "--param", "lmbda=10"],
    ["fit", "treloar", "--model", "mooney-rivlin", "--output", "fit.json", "--plot", "fit.pdf", "-q", "--force"],
])
def test_readme_commands_from_the_wheel(installed, args):
    r = _run(installed, *args)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_demo_and_report_run_from_the_wheel(installed):
    r = _run(installed, "demo", "--output", "out/demo", "--starts", "1")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    work = installed[1]
    for name in ("fit_ogden3.json", "treloar_ogden3.inp", "tangents_uniaxial_abaqus.h5",
                 "fe_uniaxial/cube.pvd"):
        assert (work / "out" / "demo" / name).exists(), name
