"""Abaqus UMAT conventions: Cauchy stress and DDSDDE from DFGRD1, and a UMAT-style callable.

Abaqus conventions (Abaqus User Subroutines Reference Guide, "UMAT"):

* component order ``11, 22, 33, 12, 13, 23`` (``NDI`` direct components, then ``NSHR`` shear
  components); 3-D: ``NDI=3, NSHR=3, NTENS=6``; plane strain and axisymmetric elements:
  ``NDI=3, NSHR=1, NTENS=4`` (order ``11, 22, 33, 12``);
* ``STRESS``: Cauchy stress, shear components unscaled;
* strains use engineering shear (``gamma_12 = 2 eps_12``);
* ``DDSDDE[I, J] = d(Delta sigma_I) / d(Delta eps_J)``: for finite strain the tangent of the
  Jaumann rate of the Kirchhoff stress divided by ``J``::

      C^MJ_ijkl = c_ijkl + (d_ik s_jl + s_ik d_jl + d_il s_jk + s_il d_jk) / 2

  with ``c`` the spatial (Truesdell) tangent and ``s`` the Cauchy stress, i.e. for a perturbation
  ``dF = d(eps) F`` with symmetric ``d(eps)``: ``d(tau) / J = C^MJ : d(eps)``
  (Abaqus User Subroutines Reference Guide, "UMAT"; Nguyen & Waas (2016), Z. angew. Math.
  Phys. 67:2; Ji, Waas & Bazant (2010), Appl. Mech. Rev. 62:050801). It follows from
  ``tau = F S F^T`` perturbed by ``dF = d(eps) F``:
  ``d(tau) / J = c : d(eps) + d(eps) sigma + sigma d(eps)``.

``PROPS`` layout (:func:`props_layout`): the model's declared parameters in declaration order,
scalars one entry each, 3-vectors three entries; a model with variable-length list parameters
(Ogden ``mu``, ``alpha``) starts with ``N`` (the number of terms) followed by ``N`` entries per list
parameter. Example: ``neo-hooke`` -> ``PROPS = [mu, lmbda]``; ``ogden`` with two terms ->
``PROPS = [2, mu1, mu2, alpha1, alpha2, K]``. Non-numeric options (e.g. the volumetric function)
are fixed when the callable is made: ``make_umat("neo-hooke", volumetric="J-1")``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from constitutive import kinematics as kin
from constitutive.hyperelastic import Hyperelastic
from constitutive.tensors import identity_like

from .notation import stress_to_vector, tangent_to_matrix

#: Abaqus component labels for NTENS = 6 and NTENS = 4.
ABAQUS_LABELS = {6: ("11", "22", "33", "12", "13", "23"), 4: ("11", "22", "33", "12")}
_SUPPORTED = {(3, 3): 6, (3, 1): 4}
_PLANE_TOL = 1e-12


def _index(ndi: int, nshr: int) -> list[int]:
    if (ndi, nshr) not in _SUPPORTED:
        if (ndi, nshr) == (2, 1):
            raise ValueError(
                "NDI=2, NSHR=1 (plane stress) is not supported: plane stress needs a UMAT that "
                "solves sigma33 = 0; use plane-strain/axisymmetric (NDI=3, NSHR=1) or 3-D elements"
            )
        raise ValueError(f"NDI, NSHR: expected (3, 3) or (3, 1), got ({ndi}, {nshr})")
    return list(range(_SUPPORTED[(ndi, nshr)]))


def jaumann_correction(sigma: torch.Tensor) -> torch.Tensor:
    """``(delta_ik sigma_jl + sigma_ik delta_jl + delta_il sigma_jk + sigma_il delta_jk) / 2``.

    The difference between the Jaumann-rate tangent ``C^MJ`` and the spatial (Truesdell)
    tangent ``c``; sigma (...,3,3) -> (...,3,3,3,3).
    """
    I = identity_like(sigma)
    t1 = I[:, None, :, None] * sigma[..., None, :, None, :]  # d_ik s_jl
    t2 = sigma[..., :, None, :, None] * I[None, :, None, :]  # s_ik d_jl
    t3 = I[:, None, None, :] * sigma[..., None, :, :, None]  # d_il s_jk
    t4 = sigma[..., :, None, None, :] * I[None, :, :, None]  # s_il d_jk
    return 0.5 * (t1 + t2 + t3 + t4)


def jaumann_tangent(F: torch.Tensor, S: torch.Tensor, CC: torch.Tensor) -> torch.Tensor:
    """``C^MJ = c + jaumann_correction(sigma)``, full tensor (...,3,3,3,3), from ``F, S, CC``."""
    sigma = kin.cauchy_from_pk2(F, S)
    return kin.spatial_tangent(F, CC) + jaumann_correction(sigma)


def ddsdde_abaqus(material: Hyperelastic, F) -> tuple[torch.Tensor, torch.Tensor]:
    """Cauchy stress (...,6) and DDSDDE (...,6,6) of ``material`` at ``F``, Abaqus conventions.

    Order 11, 22, 33, 12, 13, 23; stress unscaled; DDSDDE maps engineering shear strain
    increments to Cauchy stress increments and is ``C^MJ`` (:func:`jaumann_tangent`).
    """
    F = material.as_deformation_gradient(F, "F")
    return _stress_ddsdde(F, *material.pk2_tangent(F))


def _stress_ddsdde(F: torch.Tensor, S: torch.Tensor, CC: torch.Tensor):
    sigma = kin.cauchy_from_pk2(F, S)
    CJ = kin.spatial_tangent(F, CC) + jaumann_correction(sigma)
    return stress_to_vector(sigma, "abaqus"), tangent_to_matrix(CJ, "abaqus")


def stress_ddsdde_abaqus(
    material: Hyperelastic, F, ndi: int = 3, nshr: int = 3
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Cauchy stress, DDSDDE and strain energy in Abaqus conventions, batched.

    Parameters
    ----------
    material : Hyperelastic
    F : (..., 3, 3) deformation gradient (``DFGRD1``), tensor or array, ``F[..., i, j] = F_ij``.
    ndi, nshr : number of direct and shear components; ``(3, 3)`` (3-D) or ``(3, 1)``
        (plane strain / axisymmetric: ``F13 = F31 = F23 = F32 = 0`` required).

    Returns
    -------
    stress : (..., NTENS) Cauchy stress, order ``11, 22, 33, 12[, 13, 23]``.
    ddsdde : (..., NTENS, NTENS) Jaumann tangent ``C^MJ`` with engineering shear strain.
    energy : (...) strain energy per unit reference volume ``W``.
    """
    idx = _index(ndi, nshr)
    F = material.as_deformation_gradient(F, "DFGRD1")
    if nshr == 1:
        off = torch.stack([F[..., 0, 2], F[..., 2, 0], F[..., 1, 2], F[..., 2, 1]], -1).abs()
        if bool((off > _PLANE_TOL).any()):
            raise ValueError(
                "DFGRD1: NSHR=1 (plane strain / axisymmetric) requires F13 = F31 = F23 = F32 = 0, "
                f"largest |value| {float(off.max()):.3g}"
            )
    S, CC = material.pk2_tangent(F)
    stress, ddsdde = _stress_ddsdde(F, S, CC)
    energy = material.energy_mandel(kin.strain_mandel_from_F(F))
    return stress[..., idx], ddsdde[..., idx, :][..., :, idx], energy


# ----------------------------------------------------------------------------- PROPS
def props_layout(model: type[Hyperelastic] | Hyperelastic) -> list[tuple[str, int | None]]:
    """``[(name, length)]`` of the ``PROPS`` entries; length ``None`` means ``N`` entries."""
    out = []
    for name, spec in model.parameters.items():
        if spec.shape is None:
            out.append((name, None))
        else:
            out.append((name, int(math.prod(spec.shape))))
    return out


def params_from_props(model: type[Hyperelastic], props) -> dict[str, float | list[float]]:
    """Named parameters from a ``PROPS`` array (layout of :func:`props_layout`)."""
    p = np.asarray(props, dtype=np.float64).reshape(-1)
    layout = props_layout(model)
    pos, nterms = 0, None
    if any(n is None for _, n in layout):
        if p.size < 1 or p[0] != round(p[0]) or p[0] < 1:
            raise ValueError(f"PROPS: {model.__name__} has list parameters; PROPS[0] must be the "
                             f"number of terms N >= 1, got {p[:1].tolist()}")
        nterms, pos = int(p[0]), 1
    need = pos + sum(nterms if n is None else n for _, n in layout)
    if p.size != need:
        names = ", ".join(f"{k}[{'N' if n is None else n}]" for k, n in layout)
        raise ValueError(f"PROPS: {model.__name__} expects {need} values ({'N, ' if pos else ''}"
                         f"{names}), got {p.size}")
    out: dict[str, float | list[float]] = {}
    for name, n in layout:
        k = nterms if n is None else n
        vals = p[pos:pos + k]
        pos += k
        spec = model.parameters[name]
        out[name] = float(vals[0]) if spec.shape == () else [float(v) for v in vals]
    return out


def props_from_material(material: Hyperelastic) -> np.ndarray:
    """The ``PROPS`` array of a material (inverse of :func:`params_from_props`)."""
    values = material.parameter_values()
    layout = props_layout(material)
    head = []
    if any(n is None for _, n in layout):
        lens = {len(values[k]) for k, n in layout if n is None}
        head = [float(lens.pop())]
    flat = [v for k, _ in layout for v in np.atleast_1d(values[k]).tolist()]
    return np.asarray(head + flat, dtype=np.float64)


@functools.lru_cache(maxsize=64)
def _material(model_name: str, options: tuple, props: tuple) -> Hyperelastic:
    import materials

    cls = materials.model_class(model_name)
    return cls(**params_from_props(cls, props), **dict(options))


# ----------------------------------------------------------------------------- UMAT callable
def _dfgrd(a, name: str) -> np.ndarray:
    """DFGRD as (..., 3, 3); a flat 9-vector is read column-major (Fortran), as Abaqus stores it."""
    a = np.asarray(a, dtype=np.float64)
    if a.shape[-2:] == (3, 3):
        return a
    if a.shape[-1:] == (9,):
        return np.swapaxes(a.reshape(*a.shape[:-1], 3, 3), -1, -2)
    raise ValueError(f"{name}: expected shape (..., 3, 3) or (..., 9) column-major, got {a.shape}")


def _set(target, value: np.ndarray, name: str):
    """Write ``value`` into ``target`` in place when it is an array; return the value.

    Shapes must match exactly (a 1-element array also takes a scalar); index semantics make the
    memory order (C or Fortran) of ``target`` irrelevant.
    """
    if isinstance(target, np.ndarray):
        if target.shape != value.shape and not (value.size == 1 and target.size == 1):
            raise ValueError(f"{name}: expected shape {value.shape}, got {target.shape}")
        if not target.flags.writeable:
            raise ValueError(f"{name}: array is read-only; pass a writable array")
        if target.dtype != np.float64:  # an integer or float32 array would truncate the result
            raise TypeError(f"{name}: expected a float64 array (Abaqus DOUBLE PRECISION), got {target.dtype}")
        target[...] = value.reshape(target.shape)
        return target
    return value if value.ndim else float(value)


class Umat:
    """A callable with the Abaqus UMAT argument list for a registered hyperelastic model.

    Parameters
    ----------
    model : registered model name; ``None`` selects the model by ``CMNAME`` at each call
        (``"NEO-HOOKE"`` -> ``neo-hooke``).
    **options : non-numeric model options (e.g. ``volumetric="J-1"``).


    Notes
    -----
    Call semantics: ``STRESS`` (..., NTENS) and ``DDSDDE`` (..., NTENS, NTENS) are overwritten in
    place with the Cauchy stress and the Jaumann tangent at ``DFGRD1``; ``SSE`` (a 1-element or
    batch-shaped array) receives the strain energy per unit reference volume and ``SPD``, ``SCD``
    zero (no dissipation); ``STATEV`` is left unchanged. The updated ``(SSE, SPD, SCD)`` are also
    returned because Python floats cannot be changed in place. ``DFGRD1`` is (..., 3, 3) with
    ``DFGRD1[..., i, j] = F_ij`` or a flat (..., 9) column-major array as Abaqus stores it.
    All other arguments are accepted for compatibility and not used.
    """

    def __init__(self, model: str | None = None, **options):
        self.model = model
        self.options = tuple(sorted(options.items()))

    def material(self, props, cmname: str | None = None) -> Hyperelastic:
        """The material for a ``PROPS`` array (and ``CMNAME`` when no model was fixed)."""
        name = self.model if self.model is not None else str(cmname or "").strip()
        if not name:
            raise ValueError("CMNAME: no model given; pass a registered model name or make_umat(model)")
        props = tuple(float(x) for x in np.asarray(props, dtype=np.float64).reshape(-1))
        return _material(name.lower(), self.options, props)

    def __call__(self, STRESS, STATEV, DDSDDE, SSE, SPD, SCD, RPL, DDSDDT, DRPLDE, DRPLDT,
                 STRAN, DSTRAN, TIME, DTIME, TEMP, DTEMP, PREDEF, DPRED, CMNAME, NDI, NSHR,
                 NTENS, NSTATV, PROPS, NPROPS, COORDS, DROT, PNEWDT, CELENT, DFGRD0, DFGRD1,
                 NOEL, NPT, LAYER, KSPT, JSTEP, KINC):
        ndi, nshr, ntens = int(NDI), int(NSHR), int(NTENS)
        if ntens != ndi + nshr:
            raise ValueError(f"NTENS: expected NDI + NSHR = {ndi + nshr}, got {ntens}")
        props = np.asarray(PROPS, dtype=np.float64).reshape(-1)
        if int(NPROPS) != props.size:
            raise ValueError(f"NPROPS: got {int(NPROPS)} but PROPS has {props.size} values")
        mat = self.material(props, CMNAME)
        F = _dfgrd(DFGRD1, "DFGRD1")
        stress, ddsdde, energy = stress_ddsdde_abaqus(mat, F, ndi, nshr)
        stress, ddsdde, energy = (t.detach().cpu().numpy() for t in (stress, ddsdde, energy))
        if stress.shape[-1] != ntens:  # pragma: no cover - guarded by _index
            raise ValueError(f"NTENS: {ntens} does not match NDI={ndi}, NSHR={nshr}")
        _set(STRESS, stress, "STRESS")
        _set(DDSDDE, ddsdde, "DDSDDE")
        sse = _set(SSE, energy, "SSE")
        zero = np.zeros_like(energy)
        spd = _set(SPD, zero, "SPD")
        scd = _set(SCD, zero, "SCD")
        return sse, spd, scd


def make_umat(model: str, **options) -> Umat:
    """A UMAT callable fixed to ``model`` (``CMNAME`` is then ignored)."""
    import materials

    materials.model_class(model)  # clear KeyError for unknown names
    return Umat(model, **options)


#: UMAT callable that selects the model from ``CMNAME``.
umat = Umat()
