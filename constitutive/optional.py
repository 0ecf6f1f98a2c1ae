"""Optional dependencies, imported on use with a one-line message naming the extra to install."""

from __future__ import annotations

import importlib

#: module -> (what it is needed for, extra of pyproject.toml)
EXTRAS = {
    "matplotlib": ("plots", "plot"),
    "meshio": ("mesh files (VTU, XDMF, Gmsh, ...)", "fem"),
    "felupe": ("the felupe interface", "fem-peers"),
    "skfem": ("the scikit-fem interface", "fem-peers"),
    "pyamg": ("the algebraic-multigrid linear solver", "solvers"),
    "pypardiso": ("the PARDISO direct solver", "solvers"),
    "h5py": ("HDF5 files", "(core dependency)"),
}


class MissingDependency(ImportError):
    """An optional dependency is not installed; the message says which extra provides it."""


def require(module: str):
    """Import ``module`` or raise :class:`MissingDependency` with the pip command that adds it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != module.split(".")[0]:
            raise
        what, extra = EXTRAS.get(module.split(".")[0], ("this feature", None))
        hint = f"pip install 'constitutive[{extra}]'" if extra and not extra.startswith("(") else \
            f"pip install {module.split('.')[0]}"
        raise MissingDependency(f"{module.split('.')[0]} is needed for {what}: {hint}") from None
