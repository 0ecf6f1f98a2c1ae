"""scikit-fem helpers: P and A = dP/dF at quadrature points, and the hyperelastic weak forms.

Total Lagrangian, displacement ``u`` on the reference mesh, ``F = I + Grad u``:

* residual (internal minus external virtual work, no body force)
  ``r(v) = int P(F) : Grad v dV``;
* its Jacobian ``K(du, v) = int Grad v : A(F) : Grad du dV`` with
  ``A[i, J, k, L] = dP_iJ / dF_kL``.

scikit-fem stores fields with the points last, ``grad(u)[i, J, element, qp]``; the material is
evaluated once per assembly at all points (:func:`pk1_tangent_at_points`) and passed to the forms
as extra arguments, so the bilinear form does no material work per pair of basis functions.

Example (Newton step)::

    from skfem import Basis, ElementHex1, ElementVector, MeshHex, condense, solve
    hyper = SkfemHyperelastic(materials.get("neo-hooke", mu=1.0, lmbda=5.0), basis)
    K, r = hyper.assemble(u)
    u += solve(*condense(K, -r, D=fixed_dofs))

Reference: scikit-fem documentation, "Forms" and example 36 (hyperelasticity).
"""

from __future__ import annotations

import numpy as np

from constitutive.hyperelastic import Hyperelastic

from .trailing import energy_trailing, pk1_tangent_trailing


def deformation_gradient(basis, u: np.ndarray) -> np.ndarray:
    """``F = I + Grad u`` at the quadrature points of a vector ``basis``; (3, 3, nel, nqp)."""
    grad_u = basis.interpolate(np.asarray(u, dtype=np.float64)).grad
    if grad_u.shape[:2] != (3, 3):
        raise ValueError(f"basis: expected a 3-D vector basis, grad(u) has shape {grad_u.shape}")
    return grad_u + np.eye(3).reshape(3, 3, *([1] * (grad_u.ndim - 2)))


def pk1_tangent_at_points(material: Hyperelastic, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``P`` (3, 3, ...) and ``A`` (3, 3, 3, 3, ...) at points with trailing axes."""
    return pk1_tangent_trailing(material, F)


def _forms():
    from skfem import BilinearForm, Functional, LinearForm
    from skfem.helpers import grad

    @LinearForm
    def residual(v, w):
        return np.einsum("ij...,ij...->...", w["P"], grad(v))

    @BilinearForm
    def jacobian(du, v, w):
        return np.einsum("ij...,ijkl...,kl...->...", grad(v), w["A"], grad(du))

    @Functional
    def energy(w):
        return w["W"]

    return residual, jacobian, energy


class SkfemHyperelastic:
    """Assemble the tangent stiffness and residual of a hyperelastic solid in scikit-fem.

    Parameters
    ----------
    material : Hyperelastic
    basis : skfem ``Basis`` with ``ElementVector`` of a 3-D element on the reference mesh.
    """

    def __init__(self, material: Hyperelastic, basis):
        if not isinstance(material, Hyperelastic):
            raise TypeError(f"material: expected a Hyperelastic, got {type(material).__name__}")
        self.material = material
        self.basis = basis
        self._residual, self._jacobian, self._energy = _forms()
        self._cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _pk1_tangent(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P and A at ``u``; the last pair is cached (Newton: residual, then tangent at the same u)."""
        u = np.asarray(u, dtype=np.float64)
        if self._cache is None or not np.array_equal(self._cache[0], u):
            P, A = pk1_tangent_at_points(self.material, deformation_gradient(self.basis, u))
            self._cache = (u.copy(), P, A)
        return self._cache[1], self._cache[2]

    def residual(self, u: np.ndarray) -> np.ndarray:
        """Internal force vector ``r = int P : Grad v dV`` (N,)."""
        P, _ = self._pk1_tangent(u)
        return self._residual.assemble(self.basis, P=P)

    def assemble(self, u: np.ndarray):
        """Tangent stiffness (sparse, N x N) and internal force vector (N,) at ``u``."""
        P, A = self._pk1_tangent(u)
        K = self._jacobian.assemble(self.basis, A=A)
        r = self._residual.assemble(self.basis, P=P)
        return K, r

    def strain_energy(self, u: np.ndarray) -> float:
        """Total strain energy ``int W dV``."""
        W = energy_trailing(self.material, deformation_gradient(self.basis, u))
        return float(self._energy.assemble(self.basis, W=W))
