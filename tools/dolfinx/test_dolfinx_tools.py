"""Tests of the DOLFINx helper scripts; run inside the DOLFINx venv:

    VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
    $VENV/bin/python -m pytest -q tools/dolfinx

(The project's own suite, ``pytest tests``, does not collect this file.)
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("dolfinx_solver")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cook_common as cc  # noqa: E402  (imports dolfinx_solver before dolfinx)

# isort: split

import basix  # noqa: E402
import numpy as np  # noqa: E402
import ufl  # noqa: E402
from dolfinx import fem, mesh  # noqa: E402
from dolfinx.fem.petsc import assemble_matrix  # noqa: E402
from dolfinx_external_operator import (  # noqa: E402
    FEMExternalOperator,
    evaluate_external_operators,
    evaluate_operands,
    replace_external_operators,
)
from mpi4py import MPI  # noqa: E402

# isort: split
import cook_external as ce  # noqa: E402
import cook_ufl  # noqa: E402


def _box_with_u(n=2):
    msh = mesh.create_box(MPI.COMM_SELF, [np.zeros(3), np.ones(3)], [n, n, n], mesh.CellType.hexahedron)
    V = fem.functionspace(msh, ("Lagrange", 1, (3,)))
    u = fem.Function(V)
    # a non-symmetric, non-trivial field
    u.interpolate(
        lambda x: np.vstack(
            [
                0.1 * x[0] + 0.2 * x[1] ** 2 + 0.3 * x[2],
                0.05 * x[0] * x[1] - 0.1 * x[1] + 0.15 * x[2],
                0.2 * x[0] + 0.05 * x[1] + 0.1 * x[2] ** 2,
            ]
        )
    )
    Qe = basix.ufl.quadrature_element(msh.basix_cell(), value_shape=(3, 3), degree=2, scheme="default")
    return msh, V, u, fem.functionspace(msh, Qe)


def test_operand_layout_is_cell_point_row_major():
    msh, V, u, Q = _box_with_u(1)
    u.interpolate(
        lambda x: np.vstack(
            [x[0] + 2 * x[1] + 3 * x[2], 4 * x[0] + 5 * x[1] + 6 * x[2], 7 * x[0] + 8 * x[1] + 9 * x[2]]
        )
    )
    seen = {}

    def fn(derivatives):
        def f(Fq):
            seen["shape"], seen["F"] = Fq.shape, Fq.copy()
            return np.zeros(Fq.size)

        return f

    P = FEMExternalOperator(ufl.Identity(3) + ufl.grad(u), function_space=Q, external_function=fn)
    evaluate_external_operators([P], evaluate_operands([P]))
    assert seen["shape"] == (1, 8, 3, 3)  # (cells, quadrature points, 3, 3)
    expected = np.eye(3) + np.arange(1.0, 10.0).reshape(3, 3)  # F_iJ = d_iJ + du_i/dX_J
    assert np.allclose(seen["F"], expected)


def test_returned_values_must_be_flat():
    msh, V, u, Q = _box_with_u(1)
    P = FEMExternalOperator(
        ufl.Identity(3) + ufl.grad(u),
        function_space=Q,
        external_function=lambda d: lambda Fq: np.zeros((Fq.shape[0] * 8, 9, 9)),
    )
    dx = ufl.Measure("dx", metadata={"quadrature_degree": 2})
    J = ufl.derivative(ufl.inner(P, ufl.grad(ufl.TestFunction(V))) * dx, u, ufl.TrialFunction(V))
    _, J_ops = replace_external_operators(J)
    with pytest.raises(ValueError):
        evaluate_external_operators(J_ops, evaluate_operands(J_ops))


def test_derivative_layout_no_transpose():
    """N(F) = F F is not major-symmetric: dN_iJ/dF_kL = d_ik F_LJ + F_ik d_JL.

    Supplying exactly that array (n,3,3,3,3) flattened gives the UFL Jacobian."""
    msh, V, u, Q = _box_with_u(2)
    F = ufl.Identity(3) + ufl.grad(u)

    def fn(derivatives):
        def value(Fq):
            G = Fq.reshape(-1, 3, 3)
            return np.einsum("nij,njk->nik", G, G).reshape(-1)

        def deriv(Fq):
            G = Fq.reshape(-1, 3, 3)
            eye = np.eye(3)
            A = np.einsum("ik,nlj->nijkl", eye, G) + np.einsum("nik,jl->nijkl", G, eye)
            return A.reshape(-1)

        return value if derivatives == (0,) else deriv

    N = FEMExternalOperator(F, function_space=Q, external_function=fn)
    v, du = ufl.TestFunction(V), ufl.TrialFunction(V)
    dx = ufl.Measure("dx", domain=msh, metadata={"quadrature_degree": 2})
    R = ufl.inner(N, ufl.grad(v)) * dx
    J_rep, J_ops = replace_external_operators(ufl.derivative(R, u, du))
    evaluate_external_operators(J_ops, evaluate_operands(J_ops))
    A_ext = assemble_matrix(fem.form(J_rep))
    A_ext.assemble()
    R_ufl = ufl.inner(F * F, ufl.grad(v)) * dx
    A_ufl = assemble_matrix(fem.form(ufl.derivative(R_ufl, u, du)))
    A_ufl.assemble()
    A_ext.axpy(-1.0, A_ufl)
    assert A_ext.norm() < 1e-12 * A_ufl.norm()


def test_neo_hooke_tangent_and_stress():
    assert ce.check_tangent() < 1e-7
    rng = np.random.default_rng(1)
    F = np.eye(3)[None] + 0.2 * rng.standard_normal((5000, 3, 3))
    P, A = ce.neo_hooke_PA(F, chunk=777)
    P2, A2 = ce._neo_hooke_PA(F, cc.MU, cc.KAPPA)
    assert np.array_equal(P, P2) and np.array_equal(A, A2)
    # major symmetry of a hyperelastic tangent
    assert np.allclose(A, A.transpose(0, 3, 4, 1, 2), atol=1e-13)


def test_cook_external_matches_ufl_and_dealii():
    comm = MPI.COMM_SELF
    s = cc.CookSetup(comm, 8)
    res_u = cc.run_load_steps(s, cook_ufl.build_ufl_problem(s, 1e-11, 1e-12), 10, verbose=False)
    u_ufl = s.u.x.array.copy()
    problem, _ = ce.build_external_problem(
        s.u, s.v, s.du, s.dx, s.F, s.external_work(), s.bcs, s.msh, 1e-11, 1e-12, cells="owned"
    )
    res_e = cc.run_load_steps(s, problem, 10, verbose=False)
    assert res_e["iterations"] == res_u["iterations"]
    assert np.abs(s.u.x.array - u_ufl).max() < 1e-10
    # deal.II code-gallery README (since 2021): Q1, 8 elements per edge, mid-edge point: 13.86 mm
    assert abs(res_u["tips"][-1]["mid-edge (48,52)"] - cc.DEALII_Q1_MIDEDGE[8]) < 5e-3


def _mpiexec():
    exe = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if not os.path.exists(exe):
        pytest.skip("no mpiexec in the venv")
    return exe


def test_two_ranks_agree_with_serial(tmp_path):
    exe = _mpiexec()
    py = sys.executable
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    subprocess.run([py, os.path.join(HERE, "cook_ufl.py"), "-n", "6", "-q", "--save", str(one)], check=True)
    subprocess.run(
        [
            exe,
            "-n",
            "2",
            py,
            os.path.join(HERE, "cook_external.py"),
            "-n",
            "6",
            "-q",
            "--cells",
            "owned",
            "--poison-ghosts",
            "--compare-ufl",
            "--save",
            str(two),
        ],
        check=True,
    )
    r = subprocess.run([py, os.path.join(HERE, "compare_npz.py"), str(one), str(two), "--tol", "1e-10"])
    assert r.returncode == 0
