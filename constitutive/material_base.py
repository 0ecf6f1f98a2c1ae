"""What every material of the engine shares, elastic or state-carrying: its parameter record
(declaration, construction with checked values, options, copies with changes) and the
validation of its kinematic inputs.

:class:`~constitutive.Hyperelastic` and :class:`~constitutive.Inelastic` derive from
:class:`MaterialBase`; a subclass declares ``parameters`` (name -> :class:`Parameter`),
``options`` and sets ``dtype``, ``device``, ``small_strain`` and ``stress_unit``.
"""

from __future__ import annotations

import torch

from .parameters import Parameter, collect_parameters
from .tensors import det
from .validation import (
    DEFAULT_DTYPE,
    as_scalar_param,
    as_tensor,
    check_positive_det,
    check_strain_admissible,
    warn_small_stretches,
)


class MaterialBase:
    """Parameter record and input checks shared by all materials (see the module docstring).

    Parameters
    ----------
    dtype : torch.dtype, keyword-only
        Floating dtype of states and parameters; ``torch.float64`` by default.
    device : keyword-only
        Device of the parameters (``"cpu"``, ``"cuda"``); refused with one line when unusable.
    **params
        Values of the declared parameters and options (numbers, lists or tensors).
    """

    #: registry name (set by :func:`materials.register`)
    name: str = ""
    #: literature reference, shown by the CLI and README
    reference: str = ""
    #: True for models used with J = 1 enforced by a pressure (driver, fitting)
    incompressible: bool = False
    parameters: dict[str, Parameter] = {}
    #: the stress unit the parameters are expressed in, when known (metadata only: set by
    #: ``materials.from_fit`` and :func:`constitutive.units.convert_material`; written into
    #: Abaqus cards, compiled-library descriptions and FE outputs)
    stress_unit: str | None = None
    #: True for models whose strain argument is the small-strain tensor (linear elasticity): then
    #: a strain is not required to be the Green-Lagrange strain of a deformation (C = I + 2E > 0)
    small_strain: bool = False
    #: non-numeric options: name -> (default, allowed values), e.g. the volumetric function
    options: dict[str, tuple] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.parameters = collect_parameters(cls)

    def __init__(self, *, dtype: torch.dtype = DEFAULT_DTYPE, device=None, **params):
        if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
            raise TypeError(f"dtype: expected a floating torch.dtype, got {dtype!r}")
        self.dtype = dtype
        self.device = _device(device)
        for oname, (odefault, choices) in self.options.items():
            value = params.pop(oname, odefault)
            if value not in choices:
                raise ValueError(
                    f"{type(self).__name__}: option {oname!r} must be one of {list(choices)}, "
                    f"got {value!r}"
                )
            setattr(self, oname, value)
        unknown = sorted(set(params) - set(self.parameters))
        if unknown:
            import difflib

            known = list(self.parameters) + list(self.options)
            hints = [f"{u!r} (did you mean {c[0]!r}?)" if (c := difflib.get_close_matches(u, known, 1, 0.6))
                     else repr(u) for u in unknown]
            raise TypeError(
                f"{type(self).__name__}: unknown parameter(s) {', '.join(hints)}; expected some of {known}"
            )
        for pname, spec in self.parameters.items():
            value = params.get(pname, spec.default)
            if value is None:
                raise TypeError(f"{type(self).__name__}: missing required parameter {pname!r}")
            t = as_scalar_param(value, pname, dtype, self.device)
            spec.check(t)
            setattr(self, pname, t)
        self.validate()

    def validate(self) -> None:
        """Extra parameter checks beyond bounds (override; raise ``ValueError``)."""

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


def _device(device) -> torch.device:
    """``torch.device`` of the ``device`` argument, refused with one line when it is unusable."""
    if device is None:
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"device: {device!r} is not a torch device ({exc})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} requested but this torch build has no usable CUDA "
                         f"(torch {torch.__version__}, torch.cuda.is_available() is False); use device='cpu'")
    return dev
