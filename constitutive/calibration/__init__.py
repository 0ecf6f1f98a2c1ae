"""Calibration: fit material parameters to homogeneous experiments stored in HDF5.

>>> from constitutive.calibration import load_experiments, fit
>>> exps = load_experiments("data/treloar.h5")                       # doctest: +SKIP
>>> res = fit("ogden-incompressible", exps, start={"mu": [0.6, 1e-3, -1e-2],
...           "alpha": [1.3, 5.0, -2.0]})                            # doctest: +SKIP
>>> res.save_json("fit.json"); res.plot("fit.png")                   # doctest: +SKIP
"""

from __future__ import annotations

from .experiments import Experiment, load_experiments, read_experiments, write_experiments
from .fitting import FitWarning, fit, goodness_of_fit
from .result import ExperimentFit, FitResult
from .stability import check_stability, drucker_eigenvalues

__all__ = ["Experiment", "ExperimentFit", "FitResult", "FitWarning", "check_stability",
           "drucker_eigenvalues", "fit", "goodness_of_fit", "load_experiments", "read_experiments",
           "write_experiments"]
