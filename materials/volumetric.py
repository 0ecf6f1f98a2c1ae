"""Volumetric functions ``U(J) = K u(J)`` of the decoupled form ``W = W_iso(Cb) + U(J)``.

Every ``u`` satisfies ``u(1) = u'(1) = 0`` and ``u''(1) = 1``, so that ``K`` is the initial bulk
modulus whatever the choice (the tangent at ``E = 0`` has volumetric part ``3K P_vol``):

=================  ==========================  ===================  ==========================
name               ``u(J)``                    pressure ``u'(J)``   source
=================  ==========================  ===================  ==========================
``"lnJ"``          ``(ln J)^2 / 2``            ``ln J / J``         Simo & Pister (1984)
``"J-1"``          ``(J - 1)^2 / 2``           ``J - 1``            Abaqus polynomial / Ogden
                                                                    (``D1 = 2 / K``)
``"simo-taylor"``  ``(J^2 - 1 - 2 ln J) / 4``  ``(J - 1/J) / 2``    Simo & Taylor (1982);
                                                                    Abaqus Arruda-Boyce, HGO
=================  ==========================  ===================  ==========================

The functions take ``I3 = det C = J^2`` (what the energies compute anyway) and are closed form,
hence twice differentiable by autograd.

References: Simo & Taylor (1982), CMAME 35:107; Simo & Pister (1984), CMAME 46:201; Doll &
Schweizerhof (2000), J. Appl. Mech. 67:17 (comparison of volumetric functions).
"""

from __future__ import annotations

import torch

VOLUMETRIC_FUNCTIONS = ("lnJ", "J-1", "simo-taylor")


def volumetric_u(I3: torch.Tensor, kind: str) -> torch.Tensor:
    """``u(J)`` with ``u''(1) = 1`` from ``I3 = J^2``; (...) -> (...)."""
    if kind == "lnJ":
        lnJ = 0.5 * torch.log(I3)
        return 0.5 * lnJ * lnJ
    if kind == "J-1":
        Jm1 = torch.sqrt(I3) - 1.0
        return 0.5 * Jm1 * Jm1
    if kind == "simo-taylor":
        return 0.25 * (I3 - 1.0 - torch.log(I3))
    raise ValueError(f"volumetric: expected one of {VOLUMETRIC_FUNCTIONS}, got {kind!r}")


def volumetric_pressure(J: torch.Tensor, kind: str) -> torch.Tensor:
    """``u'(J)`` (closed form, for tests and drivers): the hydrostatic Cauchy stress is ``K u'(J)``."""
    if kind == "lnJ":
        return torch.log(J) / J
    if kind == "J-1":
        return J - 1.0
    if kind == "simo-taylor":
        return 0.5 * (J - 1.0 / J)
    raise ValueError(f"volumetric: expected one of {VOLUMETRIC_FUNCTIONS}, got {kind!r}")
