"""The documentation: every public module, class, function and method has a docstring, and the
MkDocs site (mkdocs.yml: user guide, gallery from examples/, API reference from the
docstrings) builds in strict mode, so a broken link or reference fails CI."""

import importlib
import inspect
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import constitutive
import materials

ROOT = Path(__file__).resolve().parent.parent
#: command modules document themselves through --help (add_parser / run are their protocol)
CLI_PROTOCOL = {"add_parser", "run", "main", "add_arguments"}


def _public_modules():
    names = ["materials", "constitutive"]
    for pkg in (materials, constitutive):
        names += [m.name for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")]
    return [n for n in names if not any(p.startswith("_") for p in n.split("."))]


def _missing_docstrings() -> list[str]:
    missing = []
    for name in _public_modules():
        mod = importlib.import_module(name)
        if not (mod.__doc__ or "").strip():
            missing.append(name)
        cli = name.startswith("constitutive.cli")
        for key, obj in vars(mod).items():
            if key.startswith("_") or getattr(obj, "__module__", None) != name:
                continue
            if cli and key in CLI_PROTOCOL:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and not inspect.getdoc(obj):
                missing.append(f"{name}.{key}")
            if inspect.isclass(obj):
                for mkey, member in vars(obj).items():
                    if mkey.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                        continue
                    if not inspect.getdoc(getattr(obj, mkey)):
                        missing.append(f"{name}.{key}.{mkey}")
    return missing


def test_every_public_name_has_a_docstring():
    missing = _missing_docstrings()
    assert not missing, f"{len(missing)} public name(s) without a docstring:\n" + "\n".join(missing)


def test_help_of_the_entry_points_answers_questions():
    doc = inspect.getdoc(materials.get)
    assert "ogden" in doc and "mu" in doc and "stress" in doc and "Examples" in doc
    assert "bounds" in inspect.getdoc(constitutive.param) or "bounds" in inspect.getdoc(
        importlib.import_module("constitutive.parameters").param)


def test_site_builds_in_strict_mode(tmp_path):
    mkdocs = shutil.which("mkdocs", path=os.path.dirname(sys.executable)) or shutil.which("mkdocs")
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    r = subprocess.run([mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                       capture_output=True, text=True, timeout=600,
                       env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert r.returncode == 0, r.stderr[-4000:]
    assert (tmp_path / "site" / "api" / "engine" / "index.html").exists()
    gallery = (tmp_path / "site" / "examples" / "index.html").read_text()
    assert "fem_cook_membrane.py" in gallery and "uniaxial_block.toml" in gallery
