"""What a tangent export evaluates: energy, stress and tangent at F, in the file's notation.

Two routes give the same numbers (tested to 1e-12):

* **compiled** (large CPU float64 batches with a C compiler): the whole chain ``F -> E -> (W, S,
  CC) -> stress measure, tangent kind -> notation`` is traced once per model and file layout and
  compiled by the fast path (:class:`constitutive.fast.custom.ProgramKernel`); points stream
  from F straight into the output arrays, with no 3x3x3x3 temporaries;
* **eager**: the engine's ``stress_tangent_mandel`` and the tensor conversions of
  :mod:`constitutive.kinematics` and :mod:`.notation` (small batches, other devices, models the
  fast path cannot trace).

Tangent kinds (:data:`TANGENTS`): ``dS/dE`` (``CC = d2W/dEdE``), ``dP/dF`` (``A_iJkL``), ``spatial``
(``c = J^-1 FFFF:CC``), ``abaqus`` (``c`` plus the Jaumann correction, as Abaqus DDSDDE).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch

from constitutive import fast, mandel
from constitutive import kinematics as kin
from constitutive.domain import require
from constitutive.hyperelastic import DBL_MAX, Hyperelastic
from constitutive.principal import right_stretch

from .abaqus_umat import jaumann_tangent
from .notation import stress_to_vector, tangent_to_matrix

TANGENTS = {
    "dS/dE": ("pk2", "Green-Lagrange strain E", "CC_IJKL = d2W/dE_IJ dE_KL = dS_IJ/dE_KL"),
    "dP/dF": ("pk1", "deformation gradient F", "A_iJkL = dP_iJ/dF_kL"),
    "spatial": ("cauchy", "rate of deformation d",
                "c_ijkl = J^-1 F_iI F_jJ F_kK F_lL CC_IJKL (Truesdell rate of Kirchhoff stress / J)"),
    "abaqus": ("cauchy", "rate of deformation d",
               "C^MJ_ijkl = c_ijkl + (d_ik s_jl + s_ik d_jl + d_il s_jk + s_il d_jk)/2 "
               "(Jaumann rate of Kirchhoff stress / J, Abaqus DDSDDE)"),
}
EXPORT_STRESS_MEASURES = {"pk2": "second Piola-Kirchhoff S", "pk1": "first Piola-Kirchhoff P = F S",
                          "cauchy": "Cauchy sigma = F S F^T / J", "kirchhoff": "Kirchhoff tau = F S F^T"}

NONFINITE_EXPORT = ("the exported energy, stress or tangent is not finite: the state overflows double "
                    "precision (e.g. |F| too large for the push-forward)")

#: an evaluator fills ``(energy (m,), stress (m, ...), tangent (m, ...))`` at ``F`` (m, 3, 3)
Evaluator = Callable[[np.ndarray, list[np.ndarray]], None]


def check_kinds(stress: str, tangent: str) -> None:
    """Raise ``ValueError`` for an unknown stress measure or tangent kind."""
    if tangent not in TANGENTS:
        raise ValueError(f"tangent: expected one of {list(TANGENTS)}, got {tangent!r}")
    if stress not in EXPORT_STRESS_MEASURES:
        raise ValueError(f"stress: expected one of {list(EXPORT_STRESS_MEASURES)}, got {stress!r}")


def output_shapes(notation: str) -> list[tuple[int, ...]]:
    """Per-point shapes of energy, stress and tangent in ``notation``."""
    return [(), (3, 3), (3, 3, 3, 3)] if notation == "tensor" else [(), (6,), (6, 6)]


def quantities(F, W, s, D, stress: str, tangent: str, notation: str) -> tuple:
    """``(W, stress, tangent)`` in ``notation`` from the engine's Mandel ``s``, ``D`` at ``F``.

    Torch tensors with batch dimensions first; stress by :data:`EXPORT_STRESS_MEASURES`,
    tangent by :data:`TANGENTS` (e.g. ``abaqus``: ``J^-1 FFFF:CC`` plus the Jaumann term).
    """
    S, CC = mandel.from_mandel(s), mandel.from_mandel4(D)
    T = {"dS/dE": lambda: CC, "dP/dF": lambda: kin.dPdF_from_material_tangent(F, S, CC),
         "spatial": lambda: kin.spatial_tangent(F, CC), "abaqus": lambda: jaumann_tangent(F, S, CC)}
    sig = {"pk2": lambda: S, "pk1": lambda: F @ S, "kirchhoff": lambda: kin.kirchhoff_from_pk2(F, S),
           "cauchy": lambda: kin.cauchy_from_pk2(F, S)}[stress]()
    out = (W, stress_to_vector(sig, notation), tangent_to_matrix(T[tangent](), notation))
    # the file's numbers must be finite, not only the engine's S and CC (F F S, F F F F CC, W)
    total = W + out[1].reshape(*W.shape, -1).sum(-1) + out[2].reshape(*W.shape, -1).sum(-1)
    require(total.detach().abs() <= DBL_MAX, NONFINITE_EXPORT)
    return out


def evaluate_tangents(material: Hyperelastic, F: torch.Tensor, stress: str, tangent: str,
                      notation: str = "tensor") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energy (n,), stress and tangent in ``notation`` at validated ``F`` (n, 3, 3), eagerly.

    The engine's ``stress_tangent_mandel`` at ``E = (F^T F - I)/2`` (itself on the fast path
    for large batches), then :func:`quantities`.
    """
    check_kinds(stress, tangent)
    e = kin.strain_mandel_from_F(F)
    s, D = material.stress_tangent_mandel(e)
    res = quantities(F, material.energy_mandel(e), s, D, stress, tangent, notation)
    return tuple(t.detach().cpu().numpy() for t in res)


def _traced(stress: str, tangent: str, notation: str):
    def fn(F: torch.Tensor, m) -> tuple:
        e = kin.strain_mandel_from_F(F)
        s, D = m.stress_tangent_mandel_unchecked(e, False)
        return quantities(F, m.energy(mandel.from_mandel(e)), s, D, stress, tangent, notation)
    return fn


def _traced_strain(stress: str, tangent: str, notation: str):
    def fn(e: torch.Tensor, m) -> tuple:
        E = mandel.from_mandel(e)
        F = right_stretch(torch.eye(3, dtype=e.dtype) + 2.0 * E)  # F = U, no rotation
        s, D = m.stress_tangent_mandel_unchecked(e, False)
        return (F, *quantities(F, m.energy(E), s, D, stress, tangent, notation))
    return fn


def _wanted(material: Hyperelastic, n: int) -> bool:
    """Should ``n`` points take the compiled route (fast path enabled, large CPU batch)?"""
    return fast.enabled() and n >= fast.MIN_POINTS and material.device.type == "cpu"


def _compiled(material: Hyperelastic, fn, in_shape, out_shapes, tag: str) -> Evaluator:
    """``run(x, outs)`` on the :class:`~constitutive.fast.custom.ProgramKernel` of ``fn``;
    :class:`constitutive.fast.FastPathUnavailable` where it cannot be built."""
    from constitutive.fast.custom import ProgramKernel

    grads = any(getattr(material, p).requires_grad for p in material.parameters)
    if material.dtype != torch.float64 or grads:
        raise fast.FastPathUnavailable("the compiled export needs float64 parameters without gradients")
    k = ProgramKernel.get(material, fn, in_shape, out_shapes, tag)

    def run(x: np.ndarray, outs: list[np.ndarray]) -> None:
        k(material, np.ascontiguousarray(x, dtype=np.float64), outs)
    return run


def _eager(material, stress, tangent, notation) -> Evaluator:
    def run(F: np.ndarray, outs: list[np.ndarray]) -> None:
        Ft = torch.as_tensor(F, dtype=material.dtype, device=material.device)
        for o, v in zip(outs, evaluate_tangents(material, Ft, stress, tangent, notation), strict=True):
            o[...] = v
    return run


def _warn_eager(material, exc: Exception) -> None:
    warnings.warn(f"export: eager evaluation for {type(material).__name__} ({exc})", RuntimeWarning,
                  stacklevel=4)


def compiled_evaluator(material: Hyperelastic, stress: str, tangent: str, notation: str) -> Evaluator:
    """The compiled route from deformation gradients, ``run(F (m, 3, 3), [energy, stress,
    tangent])``; raises :class:`constitutive.fast.FastPathUnavailable` where it cannot be built
    (no C compiler, another device, a model the tracer does not know)."""
    check_kinds(stress, tangent)
    return _compiled(material, _traced(stress, tangent, notation), (3, 3), output_shapes(notation),
                     f"export:{stress}:{tangent}:{notation}")


def strain_evaluator(material: Hyperelastic, stress: str, tangent: str, notation: str,
                     n: int) -> Evaluator | None:
    """The compiled route from Mandel strains: fills ``(F = U = sqrt(I + 2E) (m, 3, 3), energy,
    stress, tangent)`` at ``e`` (m, 6) (:func:`~constitutive.principal.right_stretch`, no
    eigendecomposition); ``None`` where the compiled route does not apply (then ``F`` comes from
    an eager ``eigh`` and :func:`evaluator` runs)."""
    check_kinds(stress, tangent)
    if not _wanted(material, n):
        return None
    try:
        return _compiled(material, _traced_strain(stress, tangent, notation), (6,),
                         [(3, 3)] + output_shapes(notation), f"export-E:{stress}:{tangent}:{notation}")
    except fast.FastPathUnavailable as exc:
        _warn_eager(material, exc)
        return None


def evaluator(material: Hyperelastic, stress: str, tangent: str, notation: str, n: int) -> Evaluator:
    """The compiled route for ``n >= constitutive.fast.MIN_POINTS`` points where it can be built
    and the fast path is enabled (one ``RuntimeWarning`` when it cannot), else the eager one."""
    check_kinds(stress, tangent)
    if _wanted(material, n):
        try:
            return compiled_evaluator(material, stress, tangent, notation)
        except fast.FastPathUnavailable as exc:
            _warn_eager(material, exc)
    return _eager(material, stress, tangent, notation)
