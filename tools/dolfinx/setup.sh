#!/usr/bin/env bash
# Idempotent creation of the DOLFINx helper venv (Python 3.12, no torch).
#
#   bash tools/dolfinx/setup.sh          # create / verify, print the venv path
#   CONSTITUTIVE_DOLFINX_VENV=/some/dir bash tools/dolfinx/setup.sh
#   FORCE=1 bash tools/dolfinx/setup.sh  # reinstall even if the marker matches
#
# Venv location: $CONSTITUTIVE_DOLFINX_VENV, else
#   ${XDG_CACHE_HOME:-$HOME/.cache}/constitutive/dolfinx-venv
# Python 3.12 is located via $PYTHON312, `python3.12` on PATH (must actually
# run: a pyenv shim of an inactive version does not), or pyenv's versions dir.
#
# The last line printed on stdout is the venv path (all progress goes to stderr),
# so callers can do:  VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
#
# Then:  $VENV/bin/python tools/dolfinx/cook_ufl.py -n 16
#        $VENV/bin/mpiexec -n 2 $VENV/bin/python tools/dolfinx/cook_external.py -n 16 --compare-ufl
#        $VENV/bin/python -m pytest -q -p no:cacheprovider tools/dolfinx
# Use the venv's own mpiexec (MPICH from the `mpich` wheel), not a system Open MPI.
#
# The torch-free parts of this checkout (constitutive.interfaces.compiled.loader,
# constitutive.interfaces.dolfinx) are installed into the venv with
# `pip install --no-deps -e <repo>` (no torch, no scipy); this step is re-checked on every
# run (it is redone when the venv points at another checkout).
set -euo pipefail

# Pinned versions; the marker file is keyed on this string.
DOLFINX_SOLVER_REAL_VERSION="0.11.0.post0"
DOLFINX_EXTOP_VERSION="0.11.0"
EXTRA_PKGS=("pytest")          # numpy comes with dolfinx-solver-real
PIN_KEY="dolfinx-solver-real==${DOLFINX_SOLVER_REAL_VERSION} dolfinx-external-operator==${DOLFINX_EXTOP_VERSION} ${EXTRA_PKGS[*]}"

VENV="${CONSTITUTIVE_DOLFINX_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/constitutive/dolfinx-venv}"
MARKER="$VENV/.constitutive-dolfinx-marker"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { echo "[dolfinx-setup] $*" >&2; }

find_python312() {
    local cand
    if [[ -n "${PYTHON312:-}" ]]; then
        if "$PYTHON312" -c 'import sys; assert sys.version_info[:2]==(3,12)' >/dev/null 2>&1; then
            echo "$PYTHON312"; return 0
        fi
        return 1
    fi
    if cand=$(command -v python3.12 2>/dev/null) && "$cand" -c 'import sys; assert sys.version_info[:2]==(3,12)' >/dev/null 2>&1; then
        echo "$cand"; return 0
    fi
    local root
    root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
    for cand in $(ls -d "$root"/versions/3.12*/bin/python3.12 2>/dev/null | sort -V -r) \
                /usr/bin/python3.12 /usr/local/bin/python3.12; do
        if [[ -x "$cand" ]] && "$cand" -c 'import sys; assert sys.version_info[:2]==(3,12)' >/dev/null 2>&1; then
            echo "$cand"; return 0
        fi
    done
    return 1
}

venv_ok() {
    [[ -x "$VENV/bin/python" && -f "$MARKER" ]] || return 1
    [[ "$(cat "$MARKER")" == "$PIN_KEY" ]] || return 1
    "$VENV/bin/python" -c 'import sys; assert sys.version_info[:2]==(3,12)' >/dev/null 2>&1 || return 1
    [[ -x "$VENV/bin/mpiexec" ]] || return 1
    return 0
}

# DOLFINx compiles its forms at run time (FFCx -> cffi): a C compiler is needed to *use*
# the venv, not to create it, so only warn.
if ! command -v "${CC:-cc}" >/dev/null 2>&1; then
    log "warning: no C compiler (${CC:-cc}) on PATH; DOLFINx JIT compilation will fail (apt-get install gcc)"
fi

# Does the venv import constitutive from this checkout, without torch? (run from / so that
# the current directory does not shadow the installed package)
project_ok() {
    (cd / && "$VENV/bin/python" - "$REPO" >/dev/null 2>&1 <<'PY'
import pathlib, sys
sys.modules["torch"] = None  # any torch import fails
import constitutive
import constitutive.interfaces.dolfinx  # noqa: F401
from constitutive.interfaces.compiled.loader import CompiledMaterial  # noqa: F401
assert pathlib.Path(constitutive.__file__).resolve().parent.parent == pathlib.Path(sys.argv[1]).resolve()
PY
    )
}

install_project() {
    project_ok && return 0
    log "installing the torch-free parts of $REPO (pip install --no-deps -e)"
    # build-backend warnings go to a log, shown only if the install fails
    local logf="$VENV/.constitutive-install.log"
    if "$VENV/bin/python" -m pip --disable-pip-version-check install -q --no-deps -e "$REPO" >"$logf" 2>&1; then
        :
    else
        tail -n 20 "$logf" >&2
        # offline, or no setuptools to build with: a .pth file does the same for imports
        local site
        site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
        log "pip install -e failed; adding $REPO to $site/constitutive-checkout.pth instead"
        echo "$REPO" > "$site/constitutive-checkout.pth"
    fi
    if ! project_ok; then
        echo "error: 'import constitutive.interfaces.dolfinx' (torch blocked) fails in $VENV" >&2
        (cd / && "$VENV/bin/python" -c 'import sys; sys.modules["torch"] = None; import constitutive.interfaces.dolfinx') >&2 || true
        exit 1
    fi
}

if [[ -z "${FORCE:-}" ]] && venv_ok; then
    install_project
    log "up to date ($PIN_KEY; constitutive from $REPO)"
    echo "$VENV"
    exit 0
fi

if ! PY312=$(find_python312); then
    echo "error: python3.12 not found (set PYTHON312=/path/to/python3.12, put it on PATH, or 'pyenv install 3.12')" >&2
    exit 1
fi
log "using $PY312"

t0=$(date +%s)
if [[ -x "$VENV/bin/python" ]] && ! "$VENV/bin/python" -c 'import sys; assert sys.version_info[:2]==(3,12)' >/dev/null 2>&1; then
    log "existing $VENV is not Python 3.12; recreating"
    rm -rf "$VENV"
fi
mkdir -p "$(dirname "$VENV")"
[[ -x "$VENV/bin/python" ]] || "$PY312" -m venv "$VENV"
rm -f "$MARKER"

PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip >&2
"${PIP[@]}" install -q "dolfinx-solver-real==${DOLFINX_SOLVER_REAL_VERSION}" "${EXTRA_PKGS[@]}" >&2
# dolfinx-external-operator declares a dependency on fenics-dolfinx, which is
# not on PyPI; dolfinx-solver-real provides the dolfinx package itself.
"${PIP[@]}" install -q --no-deps "dolfinx-external-operator==${DOLFINX_EXTOP_VERSION}" >&2

# Smoke test (note: dolfinx_solver must be imported before dolfinx).
"$VENV/bin/python" - >&2 <<'PY'
import dolfinx_solver  # noqa: F401  (sets up library paths)
import dolfinx, basix, ufl, petsc4py, mpi4py, numpy
import dolfinx_external_operator
from importlib.metadata import version
try:
    import torch  # noqa: F401
    raise SystemExit("torch must not be installed in the dolfinx venv")
except ImportError:
    pass
print("dolfinx", dolfinx.__version__, "basix", basix.__version__, "ufl", ufl.__version__,
      "petsc4py", petsc4py.__version__, "mpi4py", mpi4py.__version__, "numpy", numpy.__version__,
      "dolfinx-external-operator", version("dolfinx-external-operator"))
PY
[[ -x "$VENV/bin/mpiexec" ]] || { echo "error: $VENV/bin/mpiexec missing after install" >&2; exit 1; }

echo "$PIN_KEY" > "$MARKER"
install_project
log "installed in $(( $(date +%s) - t0 )) s; mpiexec: $VENV/bin/mpiexec"
echo "$VENV"
