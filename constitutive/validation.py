"""Input validation: clear errors naming the argument, never a silent NaN.

All public entry points of the engine pass their array arguments through these helpers.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

from .tensors import det

DEFAULT_DTYPE = torch.float64
SYMMETRY_RTOL = 1e-8


def index_text(first: tuple[int, ...]) -> str:
    """A batch index as written in every message: ``(7)``, ``(1, 3)``, ``()``."""
    return "(" + ", ".join(str(int(i)) for i in first) + ")"


def _first(bad: torch.Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in torch.nonzero(bad)[0]) if bad.ndim else ()


def as_tensor(
    x,
    name: str,
    trailing: tuple[int, ...],
    dtype: torch.dtype = DEFAULT_DTYPE,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Convert ``x`` to a tensor of ``dtype`` and check its trailing shape and finiteness.

    Integer, boolean, list and NumPy input is converted to ``dtype``. A floating tensor of a
    different floating dtype is refused (``TypeError``) instead of silently changing precision.
    """
    if isinstance(x, torch.Tensor):
        t = x
        if t.is_complex():
            raise TypeError(f"{name}: complex tensors are not supported, expected real {dtype}")
        if t.is_floating_point() and t.dtype != dtype:
            raise TypeError(
                f"{name}: got dtype {t.dtype}, expected {dtype}; convert it with "
                f"`.to({dtype})` or create the material with dtype={t.dtype}"
            )
        if not t.is_floating_point():
            t = t.to(dtype)
        if device is not None and t.device != torch.device(device):
            t = t.to(device)
    else:
        try:
            arr = np.asarray(x)
        except Exception as exc:  # pragma: no cover - exotic objects
            raise TypeError(f"{name}: cannot convert {type(x).__name__} to an array") from exc
        if arr.dtype == object or not (
            np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
        ):
            raise TypeError(f"{name}: expected numbers, got array of dtype {arr.dtype}")
        if np.iscomplexobj(arr):
            raise TypeError(f"{name}: complex input is not supported")
        if np.issubdtype(arr.dtype, np.floating) and arr.dtype != np.float64 and dtype == torch.float64:
            raise TypeError(
                f"{name}: got NumPy dtype {arr.dtype}, expected float64; convert with "
                "`.astype(numpy.float64)`"
            )
        t = torch.as_tensor(arr.astype(np.float64) if arr.dtype != np.float64 else arr, device=device)
        t = t.to(dtype)
    check_shape(t, name, trailing)
    check_finite(t, name, len(trailing))
    return t


def check_shape(t: torch.Tensor, name: str, trailing: tuple[int, ...]) -> None:
    """Raise ``ValueError`` unless ``t`` ends in ``trailing``."""
    n = len(trailing)
    if t.ndim < n or tuple(t.shape[t.ndim - n:]) != tuple(trailing):
        want = "(..., " + ", ".join(str(s) for s in trailing) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {tuple(t.shape)}")


def check_finite(t: torch.Tensor, name: str, point_ndim: int = 0) -> None:
    """Raise ``ValueError`` if ``t`` holds NaN or infinite entries.

    With ``point_ndim`` trailing axes per point (2 for (..., 3, 3)), the message counts the
    points that hold a non-finite entry and gives the first one's batch index.
    """
    with torch.no_grad():
        bad = ~torch.isfinite(t)
        if not bool(bad.any()):
            return
        if point_ndim and t.ndim > point_ndim:
            bad = bad.flatten(t.ndim - point_ndim).any(-1)
        elif point_ndim:
            bad = bad.any().reshape(())
        raise ValueError(
            f"{name}: non-finite value(s) (NaN or inf) at {int(bad.sum())} point(s) "
            f"(first at index {index_text(_first(bad))}); expected finite numbers"
        )


def check_strain_admissible(e: torch.Tensor, name: str = "e") -> None:
    """Raise ``ValueError`` unless ``C = I + 2E`` is positive definite at every point.

    ``e`` is a (..., 6) Mandel Green-Lagrange strain; a strain whose ``C`` is not positive
    definite is not the strain of any deformation (``C = F^T F``). Sylvester's criterion on the
    leading principal minors of ``C``.
    """
    with torch.no_grad():
        r2 = 2.0 ** -0.5
        c00, c11, c22 = 1 + 2 * e[..., 0], 1 + 2 * e[..., 1], 1 + 2 * e[..., 2]
        c12, c02, c01 = 2 * r2 * e[..., 3], 2 * r2 * e[..., 4], 2 * r2 * e[..., 5]
        m2 = c00 * c11 - c01 * c01
        m3 = c00 * (c11 * c22 - c12 * c12) - c01 * (c01 * c22 - c12 * c02) + c02 * (c01 * c12 - c11 * c02)
        bad = ~((c00 > 0) & (m2 > 0) & (m3 > 0))
        if bool(bad.any()):
            raise ValueError(
                f"{name}: C = I + 2E is not positive definite at {int(bad.sum())} point(s) (first at "
                f"index {index_text(_first(bad))}); such a strain belongs to no deformation (C = F^T F)"
            )


def check_symmetric(t: torch.Tensor, name: str, rtol: float = SYMMETRY_RTOL) -> None:
    """Raise ``ValueError`` if a (...,3,3) tensor is not symmetric within ``rtol``.

    The tolerance is relative to the largest absolute entry of each matrix (absolute ``rtol``
    for the zero tensor).
    """
    with torch.no_grad():
        asym = (t - t.transpose(-1, -2)).abs().amax((-1, -2))
        scale = t.abs().amax((-1, -2)).clamp_min(1.0)
        worst = (asym / scale).max() if asym.numel() else torch.tensor(0.0)
        if float(worst) > rtol:
            raise ValueError(
                f"{name}: expected a symmetric tensor (|A - A^T| <= {rtol:g} max|A|), "
                f"largest relative asymmetry {float(worst):.3g}"
            )


def check_positive_det(detF: torch.Tensor, name: str = "F") -> None:
    """Raise ``ValueError`` if any ``det F <= 0`` (inverted or degenerate element/state)."""
    with torch.no_grad():
        bad = detF <= 0
        if bool(bad.any()):
            first = _first(bad)
            value = float(detF[first] if bad.ndim else detF)
            raise ValueError(
                f"{name}: det F must be > 0, got {int(bad.sum())} state(s) with det F <= 0 "
                f"(first at index {index_text(first)}, det F = {value:.4g})"
            )


#: smallest eigenvalue of C below which E = (C - I)/2 keeps fewer than ~8 digits of C (stretch 1e-4)
TINY_C_EIGENVALUE = 1e-8


class AccuracyWarning(UserWarning):
    """A result keeps fewer significant digits than float64 arithmetic normally gives."""


def small_stretch_bound(F: torch.Tensor) -> torch.Tensor:
    """A lower bound of the smallest eigenvalue of ``C = F^T F`` per point, cheap to evaluate:
    ``lambda_min >= 4 det C / (tr C)^2`` (the other two eigenvalues multiply to at most
    ``(tr C / 2)^2``)."""
    J = det(F)
    trC = (F * F).sum((-1, -2))
    return 4.0 * J * J / (trC * trC)


def warn_small_stretches(F: torch.Tensor, name: str = "F") -> None:
    """Warn (:class:`AccuracyWarning`) where ``C = F^T F`` has an eigenvalue below
    :data:`TINY_C_EIGENVALUE`: the engine works with ``E = (C - I) / 2``, whose rounding
    (``~1e-16`` absolute) is then large relative to that eigenvalue (stretches below ``1e-4``)."""
    import warnings

    with torch.no_grad():
        suspect = small_stretch_bound(F) < TINY_C_EIGENVALUE
        if not bool(suspect.any()):
            return
        Fs = F[suspect]
        lam = torch.linalg.eigvalsh(Fs.transpose(-1, -2) @ Fs)[..., 0]
        tiny = lam < TINY_C_EIGENVALUE
        if bool(tiny.any()):
            worst = float(lam.min())
            digits = max(0.0, -math.log10(1.1e-16 / max(worst, 1e-300)))
            if digits < 1.0:  # nothing of C is left in E: the results would be noise
                raise ValueError(
                    f"{name}: principal stretches down to {math.sqrt(max(worst, 0.0)):.3g} at "
                    f"{int(tiny.sum())} point(s): the strain E = (C - I)/2 keeps no significant digit of C "
                    "there (smallest eigenvalue of C below 1e-15); the state is out of the range the "
                    "engine can evaluate in float64")
            warnings.warn(
                f"{name}: principal stretches down to {math.sqrt(max(worst, 0.0)):.3g} at {int(tiny.sum())} "
                f"point(s): the strain E = (C - I)/2 keeps about {digits:.0f} significant digits of C there, "
                "and stress and tangent lose accuracy accordingly", AccuracyWarning, stacklevel=4)


def as_scalar_param(value, name: str, dtype: torch.dtype = DEFAULT_DTYPE, device=None) -> torch.Tensor:
    """Convert a parameter value to a tensor, keeping ``requires_grad`` of tensor input."""
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            value = value.to(dtype)
        elif value.dtype != dtype:
            raise TypeError(f"parameter {name!r}: got dtype {value.dtype}, expected {dtype}")
        t = value if device is None else value.to(device)
    elif isinstance(value, numbers.Real) or isinstance(value, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"parameter {name!r}: expected numbers, got {value!r}") from None
        t = torch.as_tensor(arr, device=device).to(dtype)
    else:
        raise TypeError(f"parameter {name!r}: expected a number or tensor, got {type(value).__name__}")
    check_finite(t.detach(), f"parameter {name!r}")
    return t
