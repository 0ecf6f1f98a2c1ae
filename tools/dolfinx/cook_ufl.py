"""Cook's membrane (3d hexahedra, plane strain), compressible neo-Hooke written in UFL.

Reference: deal.II code-gallery "Quasi_static_Finite_strain_Compressible_Elasticity"
(see cook_common.py for the problem definition and the reference values).

    VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
    $VENV/bin/python tools/dolfinx/cook_ufl.py -n 16
    $VENV/bin/mpiexec -n 2 $VENV/bin/python tools/dolfinx/cook_ufl.py -n 16 --save /tmp/ufl_np2.npz

Newton: dolfinx.fem.petsc.NonlinearProblem (PETSc SNES newtonls, full steps, LU by MUMPS),
converged when ||R|| <= max(atol, rtol ||R_0||) per load step.
"""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cook_common as cc  # noqa: E402  (imports dolfinx_solver before dolfinx)

# isort: split

import ufl  # noqa: E402
from dolfinx import mesh  # noqa: E402
from dolfinx.fem.petsc import NonlinearProblem  # noqa: E402
from mpi4py import MPI  # noqa: E402


def neo_hooke_energy(F, mu=cc.MU, kappa=cc.KAPPA):
    """deal.II code-gallery compressible neo-Hooke.

    W = c1 (tr b_bar - 3) + kappa/4 (J^2 - 1 - 2 ln J), c1 = mu/2, b_bar = J^{-2/3} F F^T
    (tr b_bar = J^{-2/3} tr C).
    """
    J = ufl.det(F)
    C = F.T * F
    I1bar = J ** (-2.0 / 3.0) * ufl.tr(C)
    return 0.5 * mu * (I1bar - 3.0) + 0.25 * kappa * (J**2 - 1.0 - 2.0 * ufl.ln(J))


def build_ufl_problem(setup: cc.CookSetup, rtol: float, atol: float, prefix: str = "cook_ufl_"):
    Fv = ufl.variable(setup.F)
    P = ufl.diff(neo_hooke_energy(Fv), Fv)  # first Piola-Kirchhoff stress
    R = ufl.inner(P, ufl.grad(setup.v)) * setup.dx - setup.external_work()
    J = ufl.derivative(R, setup.u, setup.du)
    return NonlinearProblem(
        R, setup.u, bcs=setup.bcs, J=J, petsc_options_prefix=prefix, petsc_options=cc.snes_options(rtol, atol)
    )


def parse_args(argv=None, description=__doc__):
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "-n", "--elements", type=int, default=16, help="elements per edge in the plane (default 16)"
    )
    p.add_argument("--steps", type=int, default=10, help="equal load steps (default 10)")
    p.add_argument("--thickness", type=float, default=1.0, help="thickness in mm (no effect; default 1)")
    p.add_argument(
        "--rtol", type=float, default=1e-11, help="SNES relative residual tolerance (default 1e-11)"
    )
    p.add_argument(
        "--atol", type=float, default=1e-12, help="SNES absolute residual tolerance in N (default 1e-12)"
    )
    p.add_argument("--ghost-mode", choices=["shared_facet", "none"], default="shared_facet")
    p.add_argument(
        "--uz-free",
        action="store_true",
        help="do not constrain u_z (reproduces the pre-2021 deal.II setup; not plane strain)",
    )
    p.add_argument("--save", help="write coordinates, displacement, iterations and tip values to this .npz")
    p.add_argument("--output", help="write the final displacement to this file (.xdmf or .bp)")
    p.add_argument("-q", "--quiet", action="store_true")
    return p.parse_args(argv)


def make_setup(args):
    gm = mesh.GhostMode.shared_facet if args.ghost_mode == "shared_facet" else mesh.GhostMode.none
    return cc.CookSetup(MPI.COMM_WORLD, args.elements, args.thickness, ghost_mode=gm, uz_free=args.uz_free)


def main(argv=None):
    args = parse_args(argv)
    setup = make_setup(args)
    timers = cc.Timers()
    problem = build_ufl_problem(setup, args.rtol, args.atol)
    cc.instrument(problem, timers)
    res = cc.run_load_steps(setup, problem, args.steps, verbose=not args.quiet, timers=timers)
    cc.report(setup, res, "ufl")
    if setup.comm.rank == 0:
        nit = sum(res["iterations"])
        t = res["timers"]
        print(
            f"[ufl] per Newton iteration: residual {t.get('residual', 0) / nit * 1e3:.2f} ms, "
            f"jacobian {t.get('jacobian', 0) / nit * 1e3:.2f} ms, loop {res['wall'] / nit * 1e3:.2f} ms"
        )
    if args.save:
        cc.save_npz(args.save, setup, res)
    if args.output:
        cc.write_output(args.output, setup, "vtx" if args.output.endswith(".bp") else "xdmf")
    return setup, res


if __name__ == "__main__":
    main()
