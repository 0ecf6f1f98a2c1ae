"""The bundled experimental data sets, by name (they ship inside the package).

>>> from constitutive.calibration import datasets
>>> datasets.available()                        # doctest: +SKIP
['budday2017', 'jones_treloar1975', 'kawabata1981', 'treloar']
>>> datasets.path("treloar")                    # doctest: +SKIP
PosixPath('.../constitutive/datasets/treloar.h5')

Every function that reads experiments (``load_experiments``, ``fit``, ``constitutive fit``,
``constitutive data info``) accepts these names as well as file paths. Provenance (publication,
digitisation) is in each experiment's ``source``.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

PACKAGE = "constitutive.datasets"
#: one-line description per bundled set
DESCRIPTIONS = {
    "treloar": "Treloar (1944) vulcanised rubber: uniaxial, equibiaxial, pure shear (MPa)",
    "kawabata1981": "Kawabata et al. (1981) isoprene rubber: general biaxial and UT/ET/PS (MPa)",
    "jones_treloar1975": "Jones & Treloar (1975) rubber: uniaxial and biaxial sigma11 - sigma22 (MPa)",
    "budday2017": "Budday et al. (2017) human brain tissue: tension, compression, shear per region (kPa)",
}


def _root() -> Path:
    return Path(str(resources.files(PACKAGE)))


def available() -> list[str]:
    """Names of the bundled data sets."""
    return sorted(p.stem for p in _root().glob("*.h5"))


def path(name: str) -> Path:
    """Path of the bundled data set ``name`` (``KeyError`` listing the names otherwise)."""
    p = _root() / f"{name}.h5"
    if not p.is_file():
        raise KeyError(f"no bundled data set {name!r}; available: {', '.join(available())}")
    return p


def resolve(source) -> str:
    """A file path for ``source``: an existing path as it is, else a bundled data-set name."""
    s = os.fspath(source)
    if os.path.exists(s) or os.sep in s or s.endswith((".h5", ".hdf5")):
        return s
    if s in available():
        return str(path(s))
    return s
