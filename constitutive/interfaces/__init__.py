"""Adapters that let Python FE codes call our materials at their quadrature points.

* :mod:`constitutive.interfaces.felupe` -- :class:`FelupeMaterial`, accepted by felupe as ``umat``;
* :mod:`constitutive.interfaces.skfem` -- P and A = dP/dF at scikit-fem quadrature points and the
  weak forms of a hyperelastic solid.

Both FE codes store tensors with the tensor axes first and the point axes last
(``F[i, J, ...]``); :func:`pk1_tangent_trailing` converts to and from our batch-first layout.
felupe and scikit-fem are optional (``pip install constitutive[fem-peers]``).
"""

from __future__ import annotations

from .trailing import energy_trailing, pk1_tangent_trailing, pk1_trailing

__all__ = ["energy_trailing", "pk1_trailing", "pk1_tangent_trailing"]
