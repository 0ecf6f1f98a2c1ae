"""Reference-configuration geometry at quadrature points: shape-function gradients and volumes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .mesh import Mesh


class Geometry:
    """Reference-configuration data at the quadrature points of a mesh.

    Attributes
    ----------
    dN : (ne, nq, nen, 3) shape-function gradients w.r.t. X
    dV : (ne, nq) ``det(dX/dxi) * weight``
    N : (nq, nen) shape functions at the points
    dN_dxi : (nq, nen, 3) shape-function gradients w.r.t. the reference coordinates
    """

    def __init__(self, mesh: Mesh, rule=None):
        el = mesh.element
        self.points, self.weights = rule if rule is not None else el.default_rule()
        self.N, self.dN_dxi = el.shape_functions(self.points)
        self.dN, self.dV = reference_gradients(mesh.points[mesh.cells], self.dN_dxi, self.weights)
        self.ncells, self.nqp = self.dV.shape
        self.nen = el.nen

    @property
    def nqp_total(self) -> int:
        """Quadrature points over all cells."""
        return self.ncells * self.nqp


def reference_gradients(Xe: np.ndarray, dN_dxi: np.ndarray, weights: np.ndarray):
    """``dN/dX`` (ne, nq, nen, 3) and ``dV`` (ne, nq) from element coordinates Xe (ne, nen, 3).

    Raises ``ValueError`` if an element has non-positive Jacobian (inverted or degenerate).
    """
    J = np.einsum("eai,qaj->eqij", Xe, dN_dxi)
    detJ = np.linalg.det(J)
    if np.any(detJ <= 0.0):
        bad = np.unique(np.nonzero(detJ <= 0.0)[0])
        raise ValueError(f"mesh: {len(bad)} element(s) with det(dX/dxi) <= 0, e.g. cell {bad[0]}")
    dN = np.einsum("qaj,eqji->eqai", dN_dxi, np.linalg.inv(J))
    return np.ascontiguousarray(dN), detJ * weights
