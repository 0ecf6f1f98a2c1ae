"""Automated model discovery: sparse libraries of convex terms and input-convex neural energies,
fitted with exact-Jacobian least squares (see docs/discovery.md).

>>> from constitutive.calibration.discovery import discover
>>> res = discover("data/treloar.h5", max_terms=3)          # doctest: +SKIP
>>> print(res.summary()); res.save_json("disc.json")        # doctest: +SKIP
>>> import materials; mat = materials.discovered.from_file("disc.json")   # doctest: +SKIP
"""

from __future__ import annotations

from .library import Candidate, Library, get_library
from .pipeline import discover, split_experiments
from .result import DiscoveryResult, PathEntry

__all__ = ["discover", "split_experiments", "Candidate", "Library", "get_library", "DiscoveryResult",
           "PathEntry"]
