"""Cook's membrane (examples/dolfinx_cook_membrane.py): the compiled material through
PK1Operator against the same energy written in UFL, owned-cells-only evaluation against the
package's all-cells path, and N ranks against one. Run serially and with ``mpiexec -n 2``."""

from __future__ import annotations

import numpy as np
import pytest
from mpi4py import MPI

N, STEPS = 8, 10
TIP_N8 = 13.863196  # u_y(48,52) for N = 8 (tools/dolfinx/README.md); deal.II tabulates 13.86


def _max(comm, x) -> float:
    return comm.allreduce(float(x), op=MPI.MAX)


def _solve(ex, comm, material, cells="owned", poison=False, msh=None):
    msh = ex.cook_mesh(comm, N) if msh is None else msh
    cook = ex.Cook(msh, material, params={"mu": ex.MU, "K": ex.K} if material else None, cells=cells)
    if poison:  # NaN in every ghost entry: an owned-only run must never read them
        op = cook.op
        nP, nA = op.n_owned * op.n_points * 9, op.n_owned * op.n_points * 81
        op.P.ref_coefficient.x.array[nP:] = np.nan
        op.dP.ref_coefficient.x.array[nA:] = np.nan
    res = cook.solve(STEPS)
    res["X"], res["U"] = cook.gathered()
    res["u"] = cook.u.x.array.copy()
    res["cook"] = cook
    return res


@pytest.fixture(scope="module")
def runs(cook_example, material_json, comm):
    msh = cook_example.cook_mesh(comm, N)  # one mesh, so the dof layouts are identical
    return {
        "ufl": _solve(cook_example, comm, None, msh=msh),
        "owned": _solve(cook_example, comm, material_json, "owned", msh=msh),
        "all": _solve(cook_example, comm, material_json, "all", msh=msh),
    }


def test_compiled_material_equals_ufl_energy(runs, comm):
    ext, ref = runs["owned"], runs["ufl"]
    du = _max(comm, np.abs(ext["u"] - ref["u"]).max())
    dtip = max(abs(a[k] - b[k]) for a, b in zip(ext["tips"], ref["tips"], strict=True) for k in a)
    assert ext["iterations"] == ref["iterations"]
    assert du <= 1e-10 and dtip <= 1e-10, (du, dtip)
    assert all(it == 4 for it in ext["iterations"])  # quadratic convergence: the tangent is exact


def test_tip_displacement_matches_reference(runs):
    tip = runs["owned"]["tips"][-1]["u_y(48,52)"]
    assert abs(tip - TIP_N8) < 1e-6
    assert abs(tip - 13.86) < 5e-3  # deal.II code-gallery README (Q1, N = 8)


# Identical up to the run-to-run reproducibility of the linear solver: bit for bit on one rank;
# on two, MUMPS's parallel LU itself differs by a few ulp (3.6e-15) between two identical runs.
SAME = 1e-13


def test_owned_cells_equal_all_cells(runs, comm):
    own, full = runs["owned"], runs["all"]
    assert own["iterations"] == full["iterations"]
    assert _max(comm, np.abs(own["u"] - full["u"]).max()) <= SAME
    op_own, op_all = own["cook"].op, full["cook"].op
    # the owned run evaluated exactly the owned points, the package's path owned + ghost points
    assert op_own.points == op_own.evaluations * op_own.n_owned * op_own.n_points
    assert op_all.points == op_all.evaluations * (op_all.n_owned + op_all.n_ghost) * op_all.n_points
    ghosts = comm.allreduce(op_own.n_ghost)
    assert (ghosts > 0) == (comm.size > 1)


def test_ghost_values_are_never_read(cook_example, material_json, runs, comm):
    res = _solve(cook_example, comm, material_json, "owned", poison=True, msh=runs["owned"]["cook"].msh)
    assert res["iterations"] == runs["owned"]["iterations"]
    assert _max(comm, np.abs(res["u"] - runs["owned"]["u"]).max()) <= SAME
    op = res["cook"].op
    nA = op.n_owned * op.n_points * 81
    assert comm.allreduce(int(np.isnan(op.dP.ref_coefficient.x.array[:nA]).sum())) == 0
    # ghost entries stay NaN: no material work was done for ghost cells
    assert comm.allreduce(int(np.isnan(op.dP.ref_coefficient.x.array[nA:]).all())) == comm.size


def test_parallel_equals_serial(cook_example, material_json, runs, comm):
    if comm.size == 1:
        pytest.skip("needs mpiexec -n 2 (or more)")
    serial = _solve(cook_example, MPI.COMM_SELF, material_json)  # every rank solves the whole mesh alone
    par = runs["owned"]
    assert serial["iterations"] == par["iterations"]
    assert np.abs(serial["X"] - par["X"]).max() <= 1e-12
    assert _max(comm, np.abs(serial["U"] - par["U"]).max()) <= 1e-10
