"""The house rules of docs/architecture.md, enforced: layering contracts (import-linter, in
pyproject.toml), no import cycles, and no room calling another room's private names."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("calibration", "interfaces", "fem", "cli", "fast", "native", "files")


def _lint_imports(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=env)


def test_layering_contracts_hold():
    r = _lint_imports(ROOT)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("constitutive/fem/mesh.py", "import materials", "The FE driver imports only the engine"),
    ("constitutive/kinematics.py", "from constitutive.interfaces import notation",
     "The engine imports no other room"),
    ("constitutive/calibration/loadpaths.py", "from . import fitting", "No import cycles"),
])
def test_contracts_fail_on_a_forbidden_import(tmp_path, module, line, contract):
    """A copy of the packages with one forbidden import added breaks the named contract."""
    for pkg in ("constitutive", "materials"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # added by the test\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    r = _lint_imports(tmp_path, env)
    assert r.returncode != 0
    broken = [ln for ln in r.stdout.splitlines() if ln.endswith("BROKEN")]
    assert any(ln.startswith(contract) for ln in broken), r.stdout[-3000:]


# ----------------------------------------------------------------------------- private names
def _room(path: Path) -> str:
    rel = path.relative_to(ROOT).parts
    if rel[0] == "materials":
        return "materials"
    return rel[1] if len(rel) > 2 and rel[1] in ROOMS else "engine"


def _sources():
    for pkg in ("constitutive", "materials"):
        yield from sorted((ROOT / pkg).rglob("*.py"))


def _private_definitions() -> dict[str, set[str]]:
    """Private (single underscore) functions, classes and methods defined per room."""
    out: dict[str, set[str]] = {}
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                name = node.name
                if name.startswith("_") and not name.startswith("__"):
                    out.setdefault(_room(path), set()).add(name)
    return out


def test_no_room_uses_another_rooms_private_names():
    defs = _private_definitions()
    offences = []
    for path in _sources():
        room = _room(path)
        own = defs.get(room, set())
        foreign = set().union(*(v for k, v in defs.items() if k != room)) - own
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        offences.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {alias.name}")
            if isinstance(node, ast.Attribute) and node.attr in foreign:
                if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno} uses .{node.attr}")
    assert not offences, "\n".join(offences)
