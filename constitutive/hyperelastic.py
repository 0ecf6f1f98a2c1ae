"""The autodiff engine: a strain energy ``W(E)`` -> stress and tangent in Mandel form.

A subclass of :class:`Hyperelastic` defines only ``energy(self, E)`` of the symmetric
Green-Lagrange strain ``E`` (shape ``(..., 3, 3)``) and declares its parameters as annotated
class attributes. The engine differentiates ``w(e) = W(from_mandel(e))`` with respect to the six
Mandel coordinates ``e``; because the Mandel basis is orthonormal,

* ``s = dw/de`` is the Mandel vector of ``S = dW/dE``, and
* ``D = d2w/de de`` is the 6x6 Mandel matrix of ``CC = d2W/dE dE`` (minor symmetries by
  construction, major symmetry because it is a Hessian).

Batched points are independent, so the Jacobian of all stresses with respect to all strains is
block-diagonal: one reverse pass of ``sum(W)`` gives every stress and one reverse pass of
``sum(s_i)`` per Mandel component gives column ``i`` of every tangent (seven passes in all,
never a dense Jacobian).
"""

from __future__ import annotations

import math

import torch

from . import kinematics as kin
from . import mandel
from .domain import require
from .material_base import MaterialBase
from .validation import (
    as_tensor,
    check_strain_admissible,
    check_symmetric,
)

#: largest finite double; ``|sum of outputs| <= DBL_MAX`` is false for NaN and inf
DBL_MAX = torch.finfo(torch.float64).max
NONFINITE_RESULT = ("the stress or tangent is not finite: the state overflows double precision "
                    "(e.g. |F| too large)")


class Hyperelastic(MaterialBase):
    """Base class of hyperelastic materials defined by a strain-energy function ``W(E)``.

    Subclasses implement :meth:`energy` and declare parameters (see
    :mod:`constitutive.parameters`). They may also implement :meth:`initial_moduli` (initial
    shear and bulk modulus in terms of the parameters) and :meth:`validate` (extra checks).

    Parameters
    ----------
    dtype : torch.dtype, keyword-only
        Floating dtype of states and parameters; ``torch.float64`` by default.
    device : keyword-only
        Device of the parameters (``"cpu"``, ``"cuda"``); inputs on other devices are moved.
    **params
        Values of the declared parameters (numbers, lists or tensors; tensors may require grad).
    """


    # ------------------------------------------------------------------ to be overridden
    def energy(self, E: torch.Tensor) -> torch.Tensor:
        """Strain energy per unit reference volume; E (...,3,3) symmetric -> W (...)."""
        raise NotImplementedError(f"{type(self).__name__} must implement energy(self, E)")

    def initial_moduli(self) -> tuple[float, float]:
        """Initial shear modulus G and bulk modulus K (``math.inf`` if incompressible)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not declare its initial moduli; implement "
            "initial_moduli(self) -> (G, K)"
        )

    # ------------------------------------------------------------------ inputs
    def as_strain_tensor(self, E, name: str = "E") -> torch.Tensor:
        """Validated symmetric Green-Lagrange strain, (..., 3, 3), ``C = I + 2E`` positive definite."""
        t = as_tensor(E, name, (3, 3), self.dtype, self.device)
        check_symmetric(t, name)
        if not self.small_strain:
            check_strain_admissible(mandel.to_mandel(t.detach()), name)
        return t

    # ------------------------------------------------------------------ Mandel core
    def energy_mandel(self, e) -> torch.Tensor:
        """``W`` at Mandel strains ``e`` (...,6) -> (...)."""
        return self._energy_of_mandel(self.as_strain_mandel(e))

    def _energy_of_mandel(self, e: torch.Tensor) -> torch.Tensor:
        W = self.energy(mandel.from_mandel(e))
        if W.shape != e.shape[:-1]:
            raise ValueError(
                f"{type(self).__name__}.energy: returned shape {tuple(W.shape)}, expected the "
                f"batch shape {tuple(e.shape[:-1])}"
            )
        return W

    def stress_mandel(self, e, create_graph: bool = False) -> torch.Tensor:
        """Mandel 2nd Piola-Kirchhoff stress ``s = dW/de``; e (...,6) -> (...,6)."""
        return self._stress_of_mandel(self.as_strain_mandel(e), create_graph)

    def _stress_of_mandel(self, e: torch.Tensor, create_graph: bool) -> torch.Tensor:
        with torch.enable_grad():
            x = e if (create_graph and e.requires_grad) else e.detach().requires_grad_(True)
            W = self._energy_of_mandel(x)
            (s,) = _grad(W.sum(), x, create_graph=create_graph)
        require(s.detach().sum(-1).abs() <= DBL_MAX, NONFINITE_RESULT)
        return s if create_graph else s.detach()

    def stress_tangent_mandel(
        self, e, create_graph: bool = False, *, fast: bool | None = None, out=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Mandel stress ``s`` (...,6) and tangent ``D = d2W/de de`` (...,6,6).

        Parameters
        ----------
        e : (..., 6) Mandel Green-Lagrange strain
        create_graph : keep ``s`` and ``D`` differentiable (e.g. w.r.t. parameters that
            require grad, for fitting). Without it both are detached.
        fast : ``None`` (default) routes large detached float64 batches to the compiled fast
            path (:mod:`constitutive.fast`); ``True`` forces it for any batch size, ``False``
            forces the eager autograd path. Both give the same values (to rounding).
        out : optional preallocated ``(s, D)`` (contiguous, same dtype and device).
        """
        if fast is not False and not create_graph:
            from . import fast as _fast

            res = _fast.try_fast(self, "mandel", e, fast, out)
            if res is not None:
                return res
        e = self.as_strain_mandel(e)
        return _into(out, self.stress_tangent_mandel_unchecked(e, create_graph))

    def stress_tangent_mandel_unchecked(self, e: torch.Tensor, create_graph: bool = False):
        """The autograd derivative computation itself, on an already validated ``e`` (...,6).

        One reverse pass of ``sum(W)`` gives every stress ``s``; one reverse pass of
        ``sum(s_i)`` per Mandel component gives column ``i`` of every tangent ``D``. This is
        also what the fast path traces and compiles. Use :meth:`stress_tangent_mandel`
        unless ``e`` comes from :meth:`as_strain_mandel`.
        """
        with torch.enable_grad():
            x = e if (create_graph and e.requires_grad) else e.detach().requires_grad_(True)
            W = self._energy_of_mandel(x)
            (s,) = _grad(W.sum(), x, create_graph=True)
            cols = []
            for i in range(6):
                (col,) = _grad(s[..., i].sum(), x, create_graph=create_graph, retain_graph=True)
                cols.append(col)
            D = torch.stack(cols, dim=-1)
        # one scalar per point: the sum of all outputs is finite iff every output is (this also
        # compiles into the fast path's kernels as a per-point flag, see constitutive.domain)
        total = s.detach().sum(-1) + D.detach().sum((-1, -2))
        require(total.abs() <= DBL_MAX, NONFINITE_RESULT)
        if not create_graph:
            return s.detach(), D.detach()
        return s, D

    # ------------------------------------------------------------------ tensor forms
    def stress_tangent(self, E, create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """``S`` (...,3,3) and ``CC`` (...,3,3,3,3) at a symmetric Green-Lagrange strain ``E``."""
        E = self.as_strain_tensor(E)
        s, D = self.stress_tangent_mandel(mandel.to_mandel(E), create_graph)
        return mandel.from_mandel(s), mandel.from_mandel4(D)

    @staticmethod
    def _strain_of_F(F: torch.Tensor) -> torch.Tensor:
        """Mandel strain of a validated ``F``; an ``F`` so large that ``E`` overflows raises the
        non-finite-result error (naming the state, not an internal strain)."""
        e = kin.strain_mandel_from_F(F)
        require(e.detach().sum(-1).abs() <= DBL_MAX, NONFINITE_RESULT)
        return e

    def _pk2_of_F(self, F: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
        return mandel.from_mandel(self._stress_of_mandel(self._strain_of_F(F), create_graph))

    def pk2(self, F, create_graph: bool = False) -> torch.Tensor:
        """2nd Piola-Kirchhoff stress ``S`` (...,3,3) from ``F`` (...,3,3)."""
        return self._pk2_of_F(self.as_deformation_gradient(F), create_graph)

    def pk1(self, F, create_graph: bool = False) -> torch.Tensor:
        """1st Piola-Kirchhoff stress ``P = F S``."""
        F = self.as_deformation_gradient(F)
        return kin.pk1_from_pk2(F, self._pk2_of_F(F, create_graph))

    def kirchhoff(self, F) -> torch.Tensor:
        """Kirchhoff stress ``tau = F S F^T``."""
        F = self.as_deformation_gradient(F)
        return kin.kirchhoff_from_pk2(F, self._pk2_of_F(F))

    def cauchy(self, F) -> torch.Tensor:
        """Cauchy stress ``sigma = F S F^T / J``."""
        F = self.as_deformation_gradient(F)
        return kin.cauchy_from_pk2(F, self._pk2_of_F(F))

    def pk2_tangent(
        self, F, create_graph: bool = False, *, fast: bool | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``S`` (...,3,3) and the material tangent ``CC = dS/dE`` (...,3,3,3,3) from ``F``.

        The pair every push-forward starts from (``P = F S``, ``dP/dF``, the spatial tangent,
        the interfaces' Abaqus tangent). ``fast`` as in :meth:`stress_tangent_mandel`.
        """
        F = self.as_deformation_gradient(F)
        s, D = self.stress_tangent_mandel(self._strain_of_F(F), create_graph, fast=fast)
        return mandel.from_mandel(s), mandel.from_mandel4(D)

    def pk1_tangent(
        self, F, create_graph: bool = False, *, fast: bool | None = None, out=None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``P`` (...,3,3) and ``A = dP/dF`` (...,3,3,3,3), ``A[..., i, J, k, L]``.

        ``fast`` and ``out`` as in :meth:`stress_tangent_mandel` (``out = (P, A)``).
        """
        if fast is not False and not create_graph:
            from . import fast as _fast

            res = _fast.try_fast(self, "pk1", F, fast, out)
            if res is not None:
                return res
        F = self.as_deformation_gradient(F)
        s, D = self.stress_tangent_mandel_unchecked(kin.strain_mandel_from_F(F), create_graph)
        S, CC = mandel.from_mandel(s), mandel.from_mandel4(D)
        return _into(out, (kin.pk1_from_pk2(F, S), kin.dPdF_from_material_tangent(F, S, CC)))

    def spatial_tangent(self, F) -> tuple[torch.Tensor, torch.Tensor]:
        """Cauchy stress ``sigma`` and spatial tangent ``c = J^-1 FFFF:CC`` (...,3,3,3,3)."""
        F = self.as_deformation_gradient(F)
        s, D = self.stress_tangent_mandel(self._strain_of_F(F))
        S, CC = mandel.from_mandel(s), mandel.from_mandel4(D)
        return kin.cauchy_from_pk2(F, S), kin.spatial_tangent(F, CC)

    def tangent_at_reference(self) -> torch.Tensor:
        """Mandel tangent at ``E = 0`` (6,6)."""
        e0 = torch.zeros(6, dtype=self.dtype, device=self.device)
        return self.stress_tangent_mandel(e0)[1]

    def linear_stiffness_mandel(self) -> torch.Tensor:
        """Isotropic linear-elastic stiffness from :meth:`initial_moduli` (6,6)."""
        G, K = self.initial_moduli()
        if math.isinf(float(K)):
            raise ValueError(f"{type(self).__name__} is incompressible: no finite linear stiffness")
        return mandel.isotropic_stiffness_mandel(float(G), float(K), self.dtype, self.device)




def _into(out, results: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Copy ``results`` into preallocated ``out`` (if given) and return the tensors holding them."""
    if out is None:
        return results
    if not isinstance(out, (tuple, list)) or len(out) != len(results):
        raise TypeError(f"out: expected a tuple of {len(results)} tensors")
    for o, r in zip(out, results, strict=True):
        if not isinstance(o, torch.Tensor) or tuple(o.shape) != tuple(r.shape):
            raise ValueError(f"out: expected tensors of shapes {[tuple(r.shape) for r in results]}")
        if o.dtype != r.dtype or o.device != r.device:  # never a silent cast (as the fast path)
            raise ValueError(f"out: expected a {r.dtype} tensor of shape {tuple(r.shape)} on {r.device}, got "
                             f"{o.dtype} {tuple(o.shape)} on {o.device}")
    for o, r in zip(out, results, strict=True):
        o.copy_(r)
    return tuple(out)


def _grad(out: torch.Tensor, x: torch.Tensor, create_graph: bool, retain_graph: bool | None = None):
    """``torch.autograd.grad`` restricted to ``x``; a constant output gives a zero gradient."""
    if not out.requires_grad:
        return (torch.zeros_like(x),)
    (g,) = torch.autograd.grad(
        out, x, create_graph=create_graph, retain_graph=retain_graph, allow_unused=True
    )
    return (torch.zeros_like(x) if g is None else g,)
