"""Test-only incompressible models (independent of the materials package) for the calibration tests."""

import torch

from constitutive import Hyperelastic, param
from constitutive.invariants import isochoric_I1, isochoric_I2


class NeoHookeInc(Hyperelastic):
    """W = mu/2 (I1b - 3), incompressible."""

    incompressible = True
    mu: float = param(1.0, bounds=(0.0, None))

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        return 0.5 * self.mu * (isochoric_I1(E) - 3.0)

    def initial_moduli(self):
        return float(self.mu), float("inf")


class MooneyRivlinInc(Hyperelastic):
    """W = c10 (I1b - 3) + c01 (I2b - 3), incompressible."""

    incompressible = True
    c10: float = param(0.3, bounds=(None, None))
    c01: float = param(0.05, bounds=(None, None))

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        return self.c10 * (isochoric_I1(E) - 3.0) + self.c01 * (isochoric_I2(E) - 3.0)

    def initial_moduli(self):
        return 2.0 * float(self.c10 + self.c01), float("inf")


class YeohInc(Hyperelastic):
    """W = sum c_i0 (I1b - 3)^i, incompressible."""

    incompressible = True
    c10: float = param(0.2, bounds=(0.0, None))
    c20: float = param(-1e-3, bounds=(None, None))
    c30: float = param(1e-5, bounds=(None, None))

    def energy(self, E: torch.Tensor) -> torch.Tensor:
        x = isochoric_I1(E) - 3.0
        return self.c10 * x + self.c20 * x**2 + self.c30 * x**3

    def initial_moduli(self):
        return 2.0 * float(self.c10), float("inf")
