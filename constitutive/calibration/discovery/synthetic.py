"""Synthetic experiments from a known material, for recovery studies and tests.

``d_i = y_i (1 + noise z_i)``, ``z_i ~ N(0, 1)`` from ``numpy.random.default_rng(seed)``: a
constant *relative* measurement error, for which the ``relative`` residual is the maximum
likelihood choice. The stresses ``y_i`` are the driver's predictions of the material along the
templates' kinematics (same modes, stretches or shears, stress measures and units).
"""

from __future__ import annotations

import numpy as np

from .. import driver
from ..experiments import Experiment


def synthetic_experiments(material, templates: list[Experiment], noise: float = 0.01,
                          seed: int | None = 0) -> list[Experiment]:
    """Copies of ``templates`` whose stresses are the material's, times ``1 + noise z``."""
    rng = np.random.default_rng(seed)
    out = []
    for e in templates:
        y = driver.predict(material, e.mode, e.control(), e.stress_measure).detach().cpu().numpy()
        y = y.reshape(e.stress.shape)
        d = y * (1.0 + noise * rng.standard_normal(y.shape)) if noise else y
        kw = {"stretch": e.stretch, "shear": e.shear, "F": e.F}
        out.append(Experiment(e.name, e.mode, d, stress_measure=e.stress_measure, units=e.units,
                              source=f"synthetic: {material!r}, relative noise {noise:g}, seed {seed}",
                              free=e.free, pressure_component=e.pressure_component,
                              **{k: v for k, v in kw.items() if v is not None}))
    return out
