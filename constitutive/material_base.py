"""What every material of the engine shares, elastic or state-carrying: its parameter record
(values, options, copies with changes) and the validation of its kinematic inputs.

:class:`~constitutive.Hyperelastic` and :class:`~constitutive.Inelastic` derive from
:class:`MaterialBase`; a subclass declares ``parameters`` (name -> :class:`Parameter`),
``options`` and sets ``dtype``, ``device``, ``small_strain`` and ``stress_unit``.
"""

from __future__ import annotations

import torch

from .parameters import Parameter
from .tensors import det
from .validation import as_tensor, check_positive_det, check_strain_admissible, warn_small_stretches


class MaterialBase:
    """Parameter record and input checks shared by all materials (see the module docstring)."""

    parameters: dict[str, Parameter] = {}
    options: dict[str, tuple] = {}
    small_strain: bool = False
    stress_unit: str | None = None
    dtype: torch.dtype
    device: torch.device

    # ------------------------------------------------------------------ parameters
    def parameter_values(self) -> dict[str, float | list[float]]:
        """Plain-Python parameter values (JSON-serialisable)."""
        out = {}
        for pname in self.parameters:
            v = getattr(self, pname).detach().cpu()
            out[pname] = float(v) if v.ndim == 0 else [float(x) for x in v.reshape(-1)]
        return out

    def option_values(self) -> dict[str, object]:
        """Non-numeric options (e.g. the volumetric function) by name."""
        return {k: getattr(self, k) for k in self.options}

    def replace(self, **params):
        """New material of the same class with some parameters (or options) changed."""
        values = {k: getattr(self, k) for k in self.parameters}
        values.update(self.option_values())
        values.update(params)
        out = type(self)(dtype=self.dtype, device=self.device, **values)
        if self.stress_unit is not None:
            out.stress_unit = self.stress_unit
        return out

    def __repr__(self) -> str:
        items = {**self.parameter_values(), **self.option_values()}
        vals = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}" for k, v in items.items())
        return f"{type(self).__name__}({vals})"

    # ------------------------------------------------------------------ inputs
    def as_strain_mandel(self, e, name: str = "e") -> torch.Tensor:
        """Validated Mandel strain: ``e`` as a (..., 6) tensor of the material's dtype and
        device, finite, with ``C = I + 2E`` positive definite (unless :attr:`small_strain`);
        ``ValueError``/``TypeError`` naming ``name`` otherwise."""
        t = as_tensor(e, name, (6,), self.dtype, self.device)
        if not self.small_strain:
            check_strain_admissible(t.detach(), name)
        return t

    def as_deformation_gradient(self, F, name: str = "F") -> torch.Tensor:
        """Validated deformation gradient, (..., 3, 3), finite with ``det F > 0``; an
        :class:`~constitutive.validation.AccuracyWarning` for principal stretches below 1e-4."""
        t = as_tensor(F, name, (3, 3), self.dtype, self.device)
        check_positive_det(det(t.detach()), name)
        warn_small_stretches(t.detach(), name)
        return t
