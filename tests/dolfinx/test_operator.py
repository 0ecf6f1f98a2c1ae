"""constitutive.interfaces.dolfinx.PK1Operator and external_function: the layout DOLFINx and
dolfinx-external-operator expect, in-place owned-cells updates, the assembled residual and
Jacobian against the energy in UFL, and the error messages."""

from __future__ import annotations

import numpy as np
import pytest
import ufl
from dolfinx import fem, mesh
from dolfinx.fem.petsc import assemble_matrix, assemble_vector

from constitutive.interfaces.compiled.loader import CompiledMaterial
from constitutive.interfaces.dolfinx import PK1Operator, external_function

PARAMS = {"mu": 0.4225, "K": 0.9154166666666667}


def _field(comm, cell=mesh.CellType.hexahedron, n=2, degree=1):
    msh = mesh.create_box(comm, [np.zeros(3), np.ones(3)], [n, n, n], cell,
                          ghost_mode=mesh.GhostMode.shared_facet)
    V = fem.functionspace(msh, ("Lagrange", degree, (3,)))
    u = fem.Function(V)
    u.interpolate(lambda x: np.vstack([0.1 * x[0] + 0.2 * x[1] ** 2 + 0.3 * x[2],
                                       0.05 * x[0] * x[1] - 0.1 * x[1] + 0.15 * x[2],
                                       0.2 * x[0] + 0.05 * x[1] + 0.1 * x[2] ** 2]))
    return msh, V, u


def _random_F(rng, shape):
    return np.eye(3) + 0.2 * rng.standard_normal(shape + (3, 3))


def test_external_function_layout(material_json):
    mat = CompiledMaterial(material_json, **PARAMS)
    F = _random_F(np.random.default_rng(0), (3, 8))  # (n_cells, n_points, 3, 3)
    P_ref, A_ref = mat.pk1_tangent(F)
    f = external_function(mat)
    P = f((0,))(F)
    A, P2 = f((1,))(F)
    assert P.shape == (3 * 8 * 9,) and A.shape == (3 * 8 * 81,)  # flat, C order (cell, point, i, J[, k, L])
    np.testing.assert_array_equal(P, P_ref.reshape(-1))
    np.testing.assert_array_equal(P2, P_ref.reshape(-1))
    np.testing.assert_array_equal(A.reshape(3, 8, 3, 3, 3, 3), A_ref)
    with pytest.raises(NotImplementedError, match="derivatives"):
        f((2,))
    with pytest.raises(ValueError, match="F: expected shape"):
        f((0,))(np.zeros((4, 9)))


@pytest.mark.parametrize(("cell", "degree"), [(mesh.CellType.hexahedron, 1), (mesh.CellType.tetrahedron, 2)])
def test_residual_and_jacobian_equal_ufl(material_json, comm, cell, degree):
    msh, V, u = _field(comm, cell, degree=degree)
    v, du = ufl.TestFunction(V), ufl.TrialFunction(V)
    q = 2 * degree
    op = PK1Operator(u, material_json, quadrature_degree=q, **PARAMS)
    R_ext, J_ext = op.forms(ufl.inner(op.P, ufl.grad(v)) * op.dx)
    op.update()
    Fv = ufl.variable(ufl.Identity(3) + ufl.grad(u))
    J_ = ufl.det(Fv)
    W = 0.5 * PARAMS["mu"] * (J_ ** (-2 / 3) * ufl.tr(Fv.T * Fv) - 3) + 0.25 * PARAMS["K"] * (
        J_**2 - 1 - 2 * ufl.ln(J_))
    dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": q})
    R_ufl = ufl.inner(ufl.diff(W, Fv), ufl.grad(v)) * dx
    J_ufl = ufl.derivative(R_ufl, u, du)
    b1, b2 = assemble_vector(fem.form(R_ext)), assemble_vector(fem.form(R_ufl))
    A1, A2 = assemble_matrix(fem.form(J_ext)), assemble_matrix(fem.form(J_ufl))
    A1.assemble()
    A2.assemble()
    rb, rA = b2.norm(), A2.norm()
    b1.axpy(-1.0, b2)
    A1.axpy(-1.0, A2)
    assert b1.norm() <= 1e-13 * rb and A1.norm() <= 1e-13 * rA, (b1.norm() / rb, A1.norm() / rA)


def test_update_writes_owned_entries_in_place(material_json, comm):
    msh, V, u = _field(comm)
    op = PK1Operator(u, material_json, **PARAMS)
    op.forms(ufl.inner(op.P, ufl.grad(ufl.TestFunction(V))) * op.dx)
    P_arr, A_arr = op.P.ref_coefficient.x.array, op.dP.ref_coefficient.x.array
    ptrs = (P_arr.ctypes.data, A_arr.ctypes.data)
    A_arr[:] = -7.0
    op.update()
    buf = op._Fq
    op.update()
    assert op._Fq is buf  # the F buffer is kept between calls
    assert (op.P.ref_coefficient.x.array.ctypes.data, op.dP.ref_coefficient.x.array.ctypes.data) == ptrs
    n = op.n_owned * op.n_points
    Fq = fem.Expression(op.F, op.Q.element.interpolation_points).eval(msh, np.arange(op.n_owned, dtype=np.int32))
    P_ref, A_ref = op.material.pk1_tangent(Fq.reshape(-1, 3, 3))
    np.testing.assert_array_equal(P_arr[: n * 9], P_ref.reshape(-1))
    np.testing.assert_array_equal(A_arr[: n * 81], A_ref.reshape(-1))
    assert np.all(A_arr[n * 81:] == -7.0)  # ghost entries untouched
    assert op.evaluations == 2 and op.points == 2 * n
    op2 = PK1Operator(u, material_json, scatter=True, **PARAMS)
    op2.forms(ufl.inner(op2.P, ufl.grad(ufl.TestFunction(V))) * op2.dx)
    op2.update()
    full = fem.Expression(op.F, op.Q.element.interpolation_points).eval(
        msh, np.arange(op.n_owned + op.n_ghost, dtype=np.int32))
    A_full = op.material.pk1_tangent(full.reshape(-1, 3, 3))[1].reshape(-1)
    A2 = op2.dP.ref_coefficient.x.array
    np.testing.assert_array_equal(A2[: n * 81], A_full[: n * 81])
    # ghosts receive the owner's values, whose F was computed from another local numbering:
    # equal up to rounding, not bit for bit
    np.testing.assert_allclose(A2[n * 81:], A_full[n * 81:], rtol=1e-12, atol=1e-14)


def test_errors(material_json, comm):
    msh, V, u = _field(comm)
    with pytest.raises(ValueError, match="u: expected a 3-vector"):
        PK1Operator(fem.Function(fem.functionspace(msh, ("Lagrange", 1))), material_json, **PARAMS)
    with pytest.raises(TypeError, match="u: expected a dolfinx.fem.Function"):
        PK1Operator(ufl.grad(u), material_json, **PARAMS)
    with pytest.raises(ValueError, match="cells"):
        PK1Operator(u, material_json, cells="ghost", **PARAMS)
    with pytest.raises(ValueError, match="quadrature_degree"):
        PK1Operator(u, material_json, quadrature_degree=-1, **PARAMS)
    with pytest.raises(TypeError, match="material"):
        PK1Operator(u, 3.0)
    with pytest.raises(TypeError, match="missing parameter"):
        PK1Operator(u, material_json, mu=1.0)
    op = PK1Operator(u, CompiledMaterial(material_json, **PARAMS))
    with pytest.raises(RuntimeError, match="forms"):
        op.update()
    R = ufl.inner(op.P, ufl.grad(ufl.TestFunction(V))) * op.dx
    op.forms(R)
    with pytest.raises(RuntimeError, match="already called"):
        op.forms(R)
    with pytest.raises(ValueError, match="this operator"):
        other = PK1Operator(u, material_json, **PARAMS)
        other.forms(ufl.inner(op.P, ufl.grad(ufl.TestFunction(V))) * op.dx)
    bad = PK1Operator(u, material_json, **PARAMS)
    bad.forms(ufl.inner(bad.P, ufl.grad(ufl.TestFunction(V))) * bad.dx)
    u.interpolate(lambda x: np.vstack([-2.0 * x[0], 0.0 * x[1], 0.0 * x[2]]))  # det F = -1 < 0
    with pytest.raises(ValueError, match="F: "):
        bad.update()
