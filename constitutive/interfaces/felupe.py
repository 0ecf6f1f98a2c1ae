"""felupe adapter: use any :class:`~constitutive.Hyperelastic` as a felupe ``umat``.

felupe (>= 9) calls ``umat.gradient(x)`` and ``umat.hessian(x)`` with ``x = [F, statevars]``,
``F`` of shape ``(3, 3, nqp, ncells)``; ``gradient`` returns ``[P, statevars_new]`` and
``hessian`` returns ``[A]`` with ``A[i, J, k, L, q, c] = dP_iJ / dF_kL`` (felupe docs,
"Constitution"; ``felupe.SolidBody``). The attribute ``x = [eye(3), zeros(0)]`` tells felupe
that there are no state variables.

Example::

    import felupe as fem, materials
    from constitutive.interfaces.felupe import FelupeMaterial

    umat = FelupeMaterial(materials.get("neo-hooke", mu=1.0, lmbda=10.0))
    solid = fem.SolidBody(umat=umat, field=field)
"""

from __future__ import annotations

import numpy as np

from constitutive.hyperelastic import Hyperelastic

from .trailing import energy_trailing, pk1_tangent_trailing, pk1_trailing


class FelupeMaterial:
    """felupe material protocol (``function``, ``gradient``, ``hessian``) for a hyperelastic model.

    Parameters
    ----------
    material : Hyperelastic
        Evaluated in float64 on the material's device; arrays are NumPy.
    cache_tangent : bool
        felupe's Newton loop evaluates ``gradient`` and then ``hessian`` at the same ``F``. With
        ``True`` (default) ``gradient`` computes ``P`` and ``A`` together (one pass of the engine,
        or its compiled fast path) and ``hessian`` reuses ``A`` when ``F`` is unchanged (checked
        by value); with ``False`` each call computes only what it returns.
    """

    def __init__(self, material: Hyperelastic, cache_tangent: bool = True):
        if not isinstance(material, Hyperelastic):
            raise TypeError(f"material: expected a Hyperelastic, got {type(material).__name__}")
        self.material = material
        self.cache_tangent = bool(cache_tangent)
        self._cache: tuple[np.ndarray, np.ndarray] | None = None
        self.x = [np.eye(3), np.zeros(0)]

    def __repr__(self) -> str:
        return f"FelupeMaterial({self.material!r})"

    @staticmethod
    def _split(x):
        if not isinstance(x, (list, tuple)) or len(x) != 2:
            raise ValueError("x: expected a list [F, statevars] (a single displacement field)")
        return x[0], x[1]

    def function(self, x) -> list[np.ndarray]:
        """``[W]`` with ``W`` of shape ``(nqp, ncells)`` (per unit reference volume)."""
        F, _ = self._split(x)
        return [energy_trailing(self.material, F)]

    def gradient(self, x) -> list[np.ndarray]:
        """``[P, statevars]``; ``P`` (3, 3, nqp, ncells) first Piola-Kirchhoff stress."""
        F, statevars = self._split(x)
        if not self.cache_tangent:
            return [pk1_trailing(self.material, F), statevars]
        P, A = pk1_tangent_trailing(self.material, F)
        self._cache = (np.array(F, dtype=np.float64, copy=True), A)
        return [P, statevars]

    def hessian(self, x) -> list[np.ndarray]:
        """``[A]``; ``A`` (3, 3, 3, 3, nqp, ncells), ``A[i, J, k, L] = dP_iJ / dF_kL``."""
        F, _ = self._split(x)
        if self._cache is not None and np.array_equal(self._cache[0], F):
            return [self._cache[1]]
        return [pk1_tangent_trailing(self.material, F)[1]]
