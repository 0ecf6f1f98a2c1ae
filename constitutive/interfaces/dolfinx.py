"""DOLFINx bridge: a compiled material as ``P(F)`` and ``dP/dF`` at DOLFINx quadrature points.

The stress is a ``FEMExternalOperator`` of dolfinx-external-operator, a UFL object that goes
into the residual like any tensor: ``R = inner(op.P, grad(v)) * op.dx - ...``. Its values live
in a quadrature function, filled by the compiled library (:mod:`.compiled.loader`) before
every residual assembly::

    from constitutive.interfaces.dolfinx import PK1Operator
    op = PK1Operator(u, "build/nh/NH.json", mu=0.4225, K=0.915417, quadrature_degree=2)
    R = ufl.inner(op.P, ufl.grad(v)) * op.dx - ufl.inner(t, v) * ds
    problem = op.nonlinear_problem(R, bcs, petsc_options={...})   # update() is hooked in
    problem.solve()

Layout (dolfinx-external-operator 0.11): the operand ``F = I + grad(u)`` arrives as a
C-contiguous array (n_cells, n_points, 3, 3) with ``F[c, q, i, J] = delta_iJ + du_i/dX_J``; the
values go back flat in C order, ``P[c, q, i, J]`` (n_cells n_points 9) and
``A[c, q, i, J, k, L] = dP_iJ/dF_kL`` (n_cells n_points 81), because the quadrature dofmap is
the identity (cell-major, then point, then component).

Ghost cells: cell integrals are assembled over owned cells only, so :meth:`PK1Operator.update`
evaluates the material on the owned cells (``cells="owned"``, the default) and writes straight
into the owned part of the two coefficient arrays; ghost entries are never read by ``dx``
integrals. Pass ``scatter=True`` if the operator also appears in interior-facet integrals.

This module imports neither torch nor DOLFINx at import time; DOLFINx, UFL, basix, PETSc and
dolfinx-external-operator are imported on first use (the venv of ``tools/dolfinx/setup.sh``).
"""

from __future__ import annotations

import sys
from functools import partial

import numpy as np

from .compiled.loader import CompiledMaterial

INSTALL_HINT = ("DOLFINx is not importable here: create its venv with `make dolfinx-env` (or `bash "
                "tools/dolfinx/setup.sh`) and run this with that venv's python")
CELLS = ("owned", "all")


def require_dolfinx():
    """Import and return the DOLFINx modules used here; one-line ``ImportError`` if missing."""
    try:
        if "dolfinx" not in sys.modules:
            try:  # the wheel's library setup must precede the first dolfinx import
                import dolfinx_solver  # noqa: F401
            except ImportError:
                pass
        import basix.ufl
        import dolfinx.fem.petsc
        import dolfinx_external_operator as deo
        import dolfinx_external_operator.petsc
        import ufl
    except ImportError as exc:
        raise ImportError(f"{INSTALL_HINT} ({exc})") from None
    return dolfinx, ufl, basix, deo


def as_material(material, **params) -> CompiledMaterial:
    """A :class:`CompiledMaterial`, or one loaded from ``NAME.json`` with ``params`` by name."""
    if isinstance(material, CompiledMaterial):
        if params:
            raise TypeError("params: the CompiledMaterial already has its parameters; give a json path")
        return material
    if isinstance(material, (str, bytes)) or hasattr(material, "__fspath__"):
        return CompiledMaterial(material, **params)
    raise TypeError(f"material: expected a CompiledMaterial or the path of NAME.json, got "
                    f"{type(material).__name__}")


def _points(F: np.ndarray) -> np.ndarray:
    """``F`` (n_cells, n_points, 3, 3) or (n, 3, 3) as an (n, 3, 3) view (copy only if needed)."""
    F = np.asarray(F)
    if F.ndim < 3 or F.shape[-2:] != (3, 3):
        raise ValueError(f"F: expected shape (n_cells, n_points, 3, 3), got {F.shape} (is u a 3-vector "
                         "field on a 3D mesh?)")
    return np.ascontiguousarray(F, dtype=np.float64).reshape(-1, 3, 3)


def external_function(material):
    """The ``external_function`` of ``FEMExternalOperator(F, ...)`` for ``P(F)``.

    Returns ``f(derivatives) -> callable``: for ``(0,)`` the callable maps ``F`` (n_cells,
    n_points, 3, 3) to ``P`` flat (n_cells n_points 9); for ``(1,)`` it returns the tuple
    ``(A flat (n_cells n_points 81), P flat)``, of which the package assigns ``A`` (the demos'
    convention: assign ``P`` from the second entry, one material call per Newton iteration).
    """
    mat = as_material(material)

    def pk1(F):
        return mat.pk1_tangent(_points(F))[0].reshape(-1)

    def tangent(F):
        P, A = mat.pk1_tangent(_points(F))
        return A.reshape(-1), P.reshape(-1)

    def select(derivatives):
        if tuple(derivatives) == (0,):
            return pk1
        if tuple(derivatives) == (1,):
            return tangent
        raise NotImplementedError(f"derivatives: only P (0,) and dP/dF (1,) exist, got {derivatives}")

    return select


class PK1Operator:
    """First Piola-Kirchhoff stress ``P(F(u))`` of a compiled material as a UFL external operator.

    Parameters
    ----------
    u : dolfinx.fem.Function, a 3-vector field on a 3D mesh (the displacement).
    material : :class:`CompiledMaterial`, or the path of ``NAME.json`` with ``**params`` by name.
    quadrature_degree : degree of the quadrature rule (2: 2x2x2 Gauss on hexahedra, the rule of
        ``dx(degree=2)``); the residual must use :attr:`dx`, which has the same rule.
    cells : ``"owned"`` (default): :meth:`update` evaluates owned cells only, writing into the
        coefficient arrays in place; ``"all"``: the package's own path, owned and ghost cells
        (``evaluate_operands`` + ``evaluate_external_operators``), for comparison.
    scatter : after an owned-cells update, also send the values to the ghost cells.

    Attributes
    ----------
    P : the ``FEMExternalOperator`` (UFL shape (3, 3)); ``F`` : the UFL operand ``I + grad(u)``;
    dx : the cell measure with the operator's quadrature rule; Q : the quadrature space;
    n_owned, n_ghost, n_points : owned and ghost cells, quadrature points per cell;
    evaluations, points : number of :meth:`update` calls and of points evaluated (this rank).
    """

    def __init__(self, u, material, quadrature_degree: int = 2, cells: str = "owned",
                 scatter: bool = False, **params):
        dolfinx, ufl, basix, deo = require_dolfinx()
        if not isinstance(u, dolfinx.fem.Function):
            raise TypeError(f"u: expected a dolfinx.fem.Function, got {type(u).__name__}")
        msh = u.function_space.mesh
        if msh.topology.dim != 3 or tuple(u.ufl_shape) != (3,):
            raise ValueError(f"u: expected a 3-vector field on a 3D mesh, got value shape {u.ufl_shape} "
                             f"on a {msh.topology.dim}D mesh")
        if not isinstance(quadrature_degree, int) or quadrature_degree < 0:
            raise ValueError(f"quadrature_degree: expected an integer >= 0, got {quadrature_degree!r}")
        if cells not in CELLS:
            raise ValueError(f"cells: expected one of {CELLS}, got {cells!r}")
        self.material = as_material(material, **params)
        self.u, self.mesh, self.cells, self.scatter = u, msh, cells, bool(scatter)
        self.degree = quadrature_degree
        Qe = basix.ufl.quadrature_element(msh.basix_cell(), value_shape=(3, 3), degree=quadrature_degree,
                                          scheme="default")
        self.Q = dolfinx.fem.functionspace(msh, Qe)
        self.F = ufl.Identity(3) + ufl.grad(u)
        self.P = deo.FEMExternalOperator(self.F, function_space=self.Q, name="P",
                                         external_function=external_function(self.material))
        self.dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": quadrature_degree,
                                                          "quadrature_scheme": "default"})
        imap = msh.topology.index_map(3)
        self.n_owned, self.n_ghost = imap.size_local, imap.num_ghosts
        self.n_points = self.Q.element.interpolation_points.shape[0]
        self.dP = self._R_ops = self._J_ops = None
        self._expr = self._owned = self._Fq = None
        self.evaluations = self.points = 0

    def forms(self, R, J=None):
        """``(R, J)`` with the external operators replaced by their coefficients.

        ``R``: residual form containing :attr:`P`; ``J``: its Jacobian, default
        ``derivative(R, u)``. The derivative operator (``dP/dF``, shape (3, 3, 3, 3)) becomes
        :attr:`dP`. Call once per operator (:meth:`nonlinear_problem` calls it).
        """
        _, ufl, _, deo = require_dolfinx()
        if self.dP is not None:
            raise RuntimeError("forms: already called (update() fills the coefficients of those forms); "
                               "make a new PK1Operator for another problem")
        if J is None:
            J = ufl.derivative(R, self.u, ufl.TrialFunction(self.u.function_space))
        R_rep, self._R_ops = deo.replace_external_operators(R)
        J_rep, self._J_ops = deo.replace_external_operators(J)
        tangents = [op for op in self._J_ops if op.derivatives == (1,)]
        if len(tangents) != 1 or any(op.ref_coefficient is not self.P.ref_coefficient for op in self._R_ops):
            raise ValueError("R: expected a residual containing this operator's P (and no other external "
                             "operator)")
        self.dP = tangents[0]
        return R_rep, J_rep

    def update(self) -> None:
        """Evaluate ``P`` and ``dP/dF`` at the current ``u`` (call before assembling R and J).

        Owned cells: ``F`` (n_owned, n_points, 3, 3) from a compiled ``fem.Expression`` into a
        buffer kept between calls, then the material writes into ``P.ref_coefficient.x.array
        [:n_owned n_points 9]`` and ``dP.ref_coefficient.x.array[:n_owned n_points 81]`` (views,
        no copy).
        """
        if self.dP is None:
            raise RuntimeError("update: call forms(R) (or nonlinear_problem) first")
        dolfinx, _, _, deo = require_dolfinx()
        if self.cells == "all":
            values = deo.evaluate_external_operators(self._J_ops, deo.evaluate_operands(self._J_ops))
            self.P.ref_coefficient.x.array[:] = values[0][1]
            self.evaluations += 1
            self.points += (self.n_owned + self.n_ghost) * self.n_points
            return
        if self._expr is None:
            self._expr = dolfinx.fem.Expression(self.F, self.Q.element.interpolation_points)
            self._owned = np.arange(self.n_owned, dtype=np.int32)
            self._Fq = np.empty((self.n_owned, self.n_points, 3, 3))
        Fq = self._expr.eval(self.mesh, self._owned, values=self._Fq)
        n = self.n_owned * self.n_points
        P_out = self.P.ref_coefficient.x.array[: n * 9].reshape(n, 3, 3)
        A_out = self.dP.ref_coefficient.x.array[: n * 81].reshape(n, 3, 3, 3, 3)
        self.material.pk1_tangent(Fq.reshape(n, 3, 3), out=(P_out, A_out))
        if self.scatter:
            self.P.ref_coefficient.x.scatter_forward()
            self.dP.ref_coefficient.x.scatter_forward()
        self.evaluations += 1
        self.points += n

    def nonlinear_problem(self, R, bcs, J=None, petsc_options=None, petsc_options_prefix="constitutive_"):
        """A ``dolfinx.fem.petsc.NonlinearProblem`` whose residual callback calls :meth:`update`.

        SNES evaluates the residual before the Jacobian at every iterate, so the Jacobian uses
        the tangent computed with the residual (one material call per Newton iteration).
        """
        dolfinx, _, _, deo = require_dolfinx()
        R_rep, J_rep = self.forms(R, J)
        problem = dolfinx.fem.petsc.NonlinearProblem(
            R_rep, self.u, bcs=bcs, J=J_rep, petsc_options_prefix=petsc_options_prefix,
            petsc_options=petsc_options)
        residual = partial(deo.petsc.assemble_residual_with_callback, problem.u, problem.F, problem.J,
                           bcs, self.update, [])
        problem.solver.setFunction(residual, problem.b)
        return problem
