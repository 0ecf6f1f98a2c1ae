"""Cook's membrane with the stress P(F) and tangent A = dP/dF from an external callable.

Same problem as cook_ufl.py, but the constitutive law is a vectorised NumPy function,
plugged in through ``dolfinx_external_operator.FEMExternalOperator``:

    material(F) -> (P, A)
        F: (n, 3, 3) float64, C-contiguous (row-major), F[q, i, J] = delta_iJ + du_i/dX_J
        P: (n, 3, 3)          P[q, i, J]       = dW/dF_iJ      (first Piola-Kirchhoff)
        A: (n, 3, 3, 3, 3)    A[q, i, J, k, L] = dP_iJ/dF_kL   (no transposition)

which is the interface a compiled (ctypes) library will later provide.  n is
(number of cells evaluated) x (8 Gauss points per hexahedron), ordered cell-major, then
point-major, in the cell order of the local mesh (owned cells first, then ghosts).

    VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
    $VENV/bin/python tools/dolfinx/cook_external.py -n 16 --compare-ufl
    $VENV/bin/mpiexec -n 2 $VENV/bin/python tools/dolfinx/cook_external.py -n 16 --cells owned --compare-ufl

--cells all    (default) the package's evaluate_operands / evaluate_external_operators:
               the operand is evaluated on all local cells, owned AND ghost;
--cells owned  the operand and the material are evaluated on owned cells only; the values
               are written to the owned part of the quadrature functions and scattered to the
               ghosts (cell assembly never reads ghost cells; --poison-ghosts proves it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cook_common as cc  # noqa: E402  (imports dolfinx_solver before dolfinx)

# isort: split

import basix  # noqa: E402
import numpy as np  # noqa: E402
import ufl  # noqa: E402
from dolfinx import fem, mesh  # noqa: E402
from dolfinx.fem.petsc import NonlinearProblem  # noqa: E402
from dolfinx_external_operator import (  # noqa: E402
    FEMExternalOperator,
    evaluate_external_operators,
    evaluate_operands,
    replace_external_operators,
)
from dolfinx_external_operator.petsc import assemble_residual_with_callback  # noqa: E402
from mpi4py import MPI  # noqa: E402

# ---------------------------------------------------------------------------------------
# The material: closed-form compressible neo-Hooke (deal.II code-gallery Cook membrane)
#   W = mu/2 (J^{-2/3} I1 - 3) + kappa/4 (J^2 - 1 - 2 ln J),   I1 = tr(F^T F)
#   P = mu J^{-2/3} (F - I1/3 F^{-T}) + kappa/2 (J^2 - 1) F^{-T}
# ---------------------------------------------------------------------------------------


def _det_invT(F):
    """det F (n,) and F^{-T} (n,3,3) from the cofactor matrix (faster than batched LAPACK for 3x3)."""
    a, b = F[:, :, 1], F[:, :, 2]  # columns 1 and 2
    cof = np.empty_like(F)
    cof[:, :, 0] = np.cross(a, b)
    cof[:, :, 1] = np.cross(b, F[:, :, 0])
    cof[:, :, 2] = np.cross(F[:, :, 0], a)
    J = np.einsum("ni,ni->n", F[:, :, 0], cof[:, :, 0])
    return J, cof / J[:, None, None]


def neo_hooke_P(F, mu=cc.MU, kappa=cc.KAPPA):
    """P (n,3,3) for F (n,3,3)."""
    F = np.ascontiguousarray(F, dtype=np.float64).reshape(-1, 3, 3)
    J, FiT = _det_invT(F)
    I1 = np.einsum("nij,nij->n", F, F)
    a = mu * J ** (-2.0 / 3.0)
    return (
        a[:, None, None] * (F - (I1 / 3.0)[:, None, None] * FiT)
        + (0.5 * kappa * (J * J - 1.0))[:, None, None] * FiT
    )


def neo_hooke_PA(F, mu=cc.MU, kappa=cc.KAPPA, chunk=2048, out=None):
    """(P, A) for F (n,3,3): P (n,3,3), A[n,i,J,k,L] = dP_iJ/dF_kL (n,3,3,3,3), all row-major.

    Evaluated in chunks of ``chunk`` points so that the temporaries stay in cache.  With
    ``out=(P, A)`` (C-contiguous float64 arrays of those shapes, e.g. views of the quadrature
    functions' storage) the results are written there, as a C library would do.
    """
    F = np.ascontiguousarray(F, dtype=np.float64).reshape(-1, 3, 3)
    n = F.shape[0]
    if out is None:
        P = np.empty((n, 3, 3))
        A = np.empty((n, 3, 3, 3, 3))
    else:
        P, A = out
        assert P.shape == (n, 3, 3) and A.shape == (n, 3, 3, 3, 3)
    for s in range(0, n, chunk):
        P[s : s + chunk], A[s : s + chunk] = _neo_hooke_PA(F[s : s + chunk], mu, kappa)
    return P, A


def _neo_hooke_PA(F, mu, kappa):
    """Unchunked kernel of neo_hooke_PA.

    With a = mu J^{-2/3}, P_iso = a (F - I1/3 F^{-T}), using dJ/dF = J F^{-T},
    d(F^{-T})_iJ/dF_kL = -F^{-T}_iL F^{-T}_kJ and dI1/dF = 2F:

      A_iJkL = a d_ik d_JL - 2/3 a F^{-T}_iJ F_kL - 2/3 P_iso_iJ F^{-T}_kL + kappa J^2 F^{-T}_iJ F^{-T}_kL
               + (a I1/3 - kappa/2 (J^2 - 1)) F^{-T}_iL F^{-T}_kJ
    """
    F = np.ascontiguousarray(F, dtype=np.float64).reshape(-1, 3, 3)
    n = F.shape[0]
    J, FiT = _det_invT(F)
    I1 = np.einsum("nij,nij->n", F, F)
    a = mu * J ** (-2.0 / 3.0)
    P_iso = a[:, None, None] * (F - (I1 / 3.0)[:, None, None] * FiT)
    P = P_iso + (0.5 * kappa * (J * J - 1.0))[:, None, None] * FiT
    # the three rank-one terms X_iJ Y_kL as one (n,9,1) x (n,1,9) product
    Y = (-(2.0 / 3.0) * a)[:, None, None] * F + (kappa * J * J)[:, None, None] * FiT
    A = FiT.reshape(n, 9, 1) * Y.reshape(n, 1, 9)
    A -= (2.0 / 3.0) * P_iso.reshape(n, 9, 1) * FiT.reshape(n, 1, 9)
    A = A.reshape(n, 3, 3, 3, 3)
    # c F^{-T}_iL F^{-T}_kJ
    c = a * I1 / 3.0 - 0.5 * kappa * (J * J - 1.0)
    A += (c[:, None, None] * FiT)[:, :, None, None, :] * FiT.transpose(0, 2, 1)[:, None, :, :, None]
    # a d_ik d_JL
    i = np.arange(3)
    A[:, i[:, None], i[None, :], i[:, None], i[None, :]] += a[:, None, None]
    return P, A


def check_tangent(n=50, h=1e-6, seed=0):
    """Central finite differences of neo_hooke_P against neo_hooke_PA's A; returns max rel. error."""
    rng = np.random.default_rng(seed)
    F = np.eye(3)[None] + 0.3 * rng.standard_normal((n, 3, 3))
    F[np.linalg.det(F) < 0.2] = np.eye(3)
    P, A = neo_hooke_PA(F)
    assert np.allclose(P, neo_hooke_P(F), rtol=1e-14, atol=1e-14)
    Afd = np.empty_like(A)
    for k in range(3):
        for L in range(3):
            dF = np.zeros((3, 3))
            dF[k, L] = h
            Afd[:, :, :, k, L] = (neo_hooke_P(F + dF) - neo_hooke_P(F - dF)) / (2 * h)
    return np.abs(A - Afd).max() / np.abs(A).max()


class TimedMaterial:
    """Wraps material(F (n,3,3)) -> (P, A) and records calls, points and time."""

    def __init__(self, fn=neo_hooke_PA, fn_P=neo_hooke_P):
        self.fn, self.fn_P = fn, fn_P
        self.calls = 0
        self.points = 0
        self.seconds = 0.0

    def PA(self, F, out=None):
        t0 = time.perf_counter()
        out = self.fn(F) if out is None else self.fn(F, out=out)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        self.points += F.shape[0]
        return out

    def P(self, F):
        t0 = time.perf_counter()
        out = self.fn_P(F)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        self.points += F.shape[0]
        return out


class ExternalStress:
    """P(F) as a FEMExternalOperator on a (3,3) quadrature space, plus the Newton update hook.

    The package calls ``external_function(derivatives)(*operand_arrays)``; the operand array
    for F = I + grad(u) has shape (num_cells, num_points, 3, 3).  The returned values are
    assigned with ``ref_coefficient.x.array[:] = values``, so they must be 1-D, of length
    num_cells * num_points * 9 (the operator) or * 81 (its derivative), in C order
    (cell, point, i, J[, k, L]).  An (n, 9, 9) or (n, 3, 3, 3, 3) array is rejected by numpy
    broadcasting; ``.reshape(-1)`` of a C-contiguous (n,3,3,3,3) A is exactly right.
    """

    def __init__(
        self,
        msh,
        F_expr,
        material: TimedMaterial,
        cells: str = "all",
        timers=None,
        poison_ghosts: bool = False,
    ):
        self.msh = msh
        self.material = material
        self.cells = cells
        self.timers = timers if timers is not None else cc.Timers()
        self.poison_ghosts = poison_ghosts
        Qe = basix.ufl.quadrature_element(
            msh.basix_cell(), value_shape=(3, 3), degree=cc.QUAD_DEGREE, scheme="default"
        )
        self.Q = fem.functionspace(msh, Qe)
        self.nq = self.Q.element.interpolation_points.shape[0]  # 8 for hexahedra, degree 2
        self.P = FEMExternalOperator(
            F_expr, function_space=self.Q, external_function=self._external_function, name="P"
        )
        self.F_expr = F_expr
        cmap = msh.topology.index_map(msh.topology.dim)
        self.n_owned, self.n_ghost = cmap.size_local, cmap.num_ghosts
        self._expr = None
        self.R_ops = self.J_ops = None

    # what the package calls: one callable per derivative multi-index
    def _external_function(self, derivatives):
        if derivatives == (0,):
            return lambda Fq: self.material.P(Fq.reshape(-1, 3, 3)).reshape(-1)
        if derivatives == (1,):

            def tangent_and_stress(Fq):
                P, A = self.material.PA(Fq.reshape(-1, 3, 3))  # (n_cells, nq, 3, 3) -> (n, 3, 3): a view
                return A.reshape(-1), P.reshape(-1)  # values of dP/dF first, P as extra output

            return tangent_and_stress
        raise NotImplementedError(f"derivative {derivatives}")

    def forms(self, R, J):
        R_rep, self.R_ops = replace_external_operators(R)
        J_rep, self.J_ops = replace_external_operators(J)
        assert len(self.J_ops) == 1 and self.J_ops[0].derivatives == (1,)
        self.dP = self.J_ops[0]
        if self.poison_ghosts:
            nP, nA = self.n_owned * self.nq * 9, self.n_owned * self.nq * 81
            self.P.ref_coefficient.x.array[nP:] = np.nan
            self.dP.ref_coefficient.x.array[nA:] = np.nan
        return R_rep, J_rep

    def update(self):
        """Evaluate P and dP/dF at the current u (called before each residual assembly)."""
        t0 = time.perf_counter()
        if self.cells == "all":
            ev = evaluate_operands(self.R_ops)  # all local cells: owned + ghost
            t1 = time.perf_counter()
            ((_, P_new),) = evaluate_external_operators(self.J_ops, ev)  # assigns + scatters dP/dF
            t2 = time.perf_counter()
            self.P.ref_coefficient.x.array[:] = P_new
            self.timers.add("operands", t1 - t0)
            self.timers.add("material+assign+scatter", t2 - t1)  # callable, copy into x.array, scatter
            self.timers.add("assign", time.perf_counter() - t2)
            return
        if self._expr is None:
            self._expr = fem.Expression(self.F_expr, self.Q.element.interpolation_points)
            self._owned = np.arange(self.n_owned, dtype=np.int32)
        Fq = self._expr.eval(self.msh, self._owned)  # (n_owned, nq, 3, 3)
        t1 = time.perf_counter()
        n = Fq.shape[0] * Fq.shape[1]
        # write straight into the owned part of the two quadrature functions (no copy)
        P_out = self.P.ref_coefficient.x.array[: n * 9].reshape(n, 3, 3)
        A_out = self.dP.ref_coefficient.x.array[: n * 81].reshape(n, 3, 3, 3, 3)
        self.material.PA(Fq.reshape(n, 3, 3), out=(P_out, A_out))
        t2 = time.perf_counter()
        if not self.poison_ghosts:
            self.P.ref_coefficient.x.scatter_forward()
            self.dP.ref_coefficient.x.scatter_forward()
        self.timers.add("operands", t1 - t0)
        self.timers.add("material+assign+scatter", time.perf_counter() - t1)  # no copy here
        self.timers.add("scatter", time.perf_counter() - t2)

    def ghost_nans(self):
        """Number of NaN entries in the ghost part of P and dP/dF (for --poison-ghosts)."""
        nP, nA = self.n_owned * self.nq * 9, self.n_owned * self.nq * 81
        owned_nan = (
            np.isnan(self.P.ref_coefficient.x.array[:nP]).sum()
            + np.isnan(self.dP.ref_coefficient.x.array[:nA]).sum()
        )
        ghost_nan = (
            np.isnan(self.P.ref_coefficient.x.array[nP:]).sum()
            + np.isnan(self.dP.ref_coefficient.x.array[nA:]).sum()
        )
        return int(owned_nan), int(ghost_nan)


def build_external_problem(
    u,
    v,
    du,
    dx,
    F_expr,
    external_work,
    bcs,
    msh,
    rtol,
    atol,
    cells="all",
    timers=None,
    poison_ghosts=False,
    prefix="ext_",
    petsc_options=None,
):
    material = TimedMaterial()
    ext = ExternalStress(msh, F_expr, material, cells=cells, timers=timers, poison_ghosts=poison_ghosts)
    R = ufl.inner(ext.P, ufl.grad(v)) * dx
    if external_work is not None:
        R = R - external_work
    J = ufl.derivative(R, u, du)
    R_rep, J_rep = ext.forms(R, J)
    problem = NonlinearProblem(
        R_rep,
        u,
        bcs=bcs,
        J=J_rep,
        petsc_options_prefix=prefix,
        petsc_options=petsc_options or cc.snes_options(rtol, atol),
    )
    # residual callback: copy x -> u, scatter, evaluate the material, then assemble
    residual = partial(assemble_residual_with_callback, problem.u, problem.F, problem.J, bcs, ext.update, [])
    problem.solver.setFunction(residual, problem.b)
    return problem, ext


def main(argv=None):
    import cook_ufl

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", "--elements", type=int, default=16)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--thickness", type=float, default=1.0)
    p.add_argument("--rtol", type=float, default=1e-11)
    p.add_argument("--atol", type=float, default=1e-12)
    p.add_argument("--ghost-mode", choices=["shared_facet", "none"], default="shared_facet")
    p.add_argument("--uz-free", action="store_true")
    p.add_argument("--cells", choices=["all", "owned"], default="all")
    p.add_argument(
        "--poison-ghosts",
        action="store_true",
        help="with --cells owned: fill ghost entries with NaN and never scatter",
    )
    p.add_argument(
        "--compare-ufl", action="store_true", help="also solve with cook_ufl on the same mesh and compare"
    )
    p.add_argument("--check-tangent", action="store_true", help="finite-difference check of A, then exit")
    p.add_argument("--save")
    p.add_argument("--output")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    comm = MPI.COMM_WORLD

    if args.check_tangent:
        err = check_tangent()
        if comm.rank == 0:
            print(f"max relative error of A vs central differences of P: {err:.2e}")
        return 0 if err < 1e-7 else 1
    if args.poison_ghosts and args.cells != "owned":
        p.error("--poison-ghosts needs --cells owned")

    gm = mesh.GhostMode.shared_facet if args.ghost_mode == "shared_facet" else mesh.GhostMode.none
    setup = cc.CookSetup(comm, args.elements, args.thickness, ghost_mode=gm, uz_free=args.uz_free)
    cmap = setup.msh.topology.index_map(3)
    counts = comm.gather((cmap.size_local, cmap.num_ghosts), root=0)
    if comm.rank == 0:
        print(f"cells (owned, ghost) per rank: {counts}; evaluating on {args.cells} cells")

    ref = None
    if args.compare_ufl:
        uproblem = cook_ufl.build_ufl_problem(setup, args.rtol, args.atol)
        ures = cc.run_load_steps(setup, uproblem, args.steps, verbose=False)
        ref = (setup.u.x.array.copy(), ures)
        cc.report(setup, ures, "ufl")

    timers = cc.Timers()
    problem, ext = build_external_problem(
        setup.u,
        setup.v,
        setup.du,
        setup.dx,
        setup.F,
        setup.external_work(),
        setup.bcs,
        setup.msh,
        args.rtol,
        args.atol,
        cells=args.cells,
        timers=timers,
        poison_ghosts=args.poison_ghosts,
    )
    cc.instrument(problem, timers)
    res = cc.run_load_steps(setup, problem, args.steps, verbose=not args.quiet, timers=timers)
    cc.report(setup, res, "external")

    if args.poison_ghosts:
        counts = comm.gather(ext.ghost_nans(), root=0)
        if comm.rank == 0:
            print(
                f"[external] NaN entries (owned, ghost) per rank after the run: {counts} "
                "(ghost values never computed nor scattered, yet assembly is unaffected)"
            )
    nit = sum(res["iterations"])
    mat = ext.material
    tmat = comm.allreduce(mat.seconds, op=MPI.MAX)
    pts = comm.allreduce(mat.points, op=MPI.SUM)
    if comm.rank == 0:
        t = res["timers"]
        print(
            f"[external] material calls {mat.calls} (= residual evaluations), points per call (all ranks) "
            f"{pts // max(mat.calls, 1)}"
        )
        print(
            f"[external] per Newton iteration: loop {res['wall'] / nit * 1e3:.2f} ms, residual(with update) "
            f"{t.get('residual', 0) / nit * 1e3:.2f} ms, jacobian {t.get('jacobian', 0) / nit * 1e3:.2f} ms, "
            f"operand eval {t.get('operands', 0) / nit * 1e3:.2f} ms, material {tmat / nit * 1e3:.2f} ms "
            f"({100 * tmat / res['wall']:.1f}% of the loop)"
        )

    if ref is not None:
        du_max = comm.allreduce(float(np.abs(setup.u.x.array - ref[0]).max()), op=MPI.MAX)
        dtip = max(abs(a[k] - b[k]) for a, b in zip(res["tips"], ref[1]["tips"], strict=True) for k in a)
        same = res["iterations"] == ref[1]["iterations"]
        ok = du_max <= 1e-10 and dtip <= 1e-10 and same
        if comm.rank == 0:
            print(
                f"[compare] max |u_ext - u_ufl| = {du_max:.3e}, max tip difference over steps = {dtip:.3e}, "
                f"iterations {'identical' if same else 'DIFFER'} -> {'PASS' if ok else 'FAIL'}"
            )
        if not ok:
            return 1
    if args.save:
        cc.save_npz(args.save, setup, res)
    if args.output:
        cc.write_output(args.output, setup, "vtx" if args.output.endswith(".bp") else "xdmf")
    return 0


if __name__ == "__main__":
    sys.exit(main())
