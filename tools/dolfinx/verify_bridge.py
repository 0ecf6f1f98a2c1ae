"""The verification table of docs/dolfinx.md: Cook's membrane with the compiled material through
constitutive.interfaces.dolfinx.PK1Operator against the energy in UFL, owned cells against all
cells, and (under mpiexec) N ranks against one.

    VENV=$(bash tools/dolfinx/setup.sh | tail -n1)
    $VENV/bin/python tools/dolfinx/verify_bridge.py build/nh/NH.json -n 8 16
    $VENV/bin/mpiexec -n 2 $VENV/bin/python tools/dolfinx/verify_bridge.py build/nh/NH.json -n 8 16
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from constitutive.interfaces.dolfinx import require_dolfinx

require_dolfinx()

# isort: split
import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _example():
    path = ROOT / "examples" / "dolfinx_cook_membrane.py"
    spec = importlib.util.spec_from_file_location("dolfinx_cook_membrane", path)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    return ex


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("material")
    p.add_argument("-n", type=int, nargs="+", default=[8, 16])
    args = p.parse_args(argv)
    ex, comm = _example(), MPI.COMM_WORLD
    params = {"mu": ex.MU, "K": ex.K}

    def run(c, n, material, cells="owned", msh=None):
        cook = ex.Cook(msh if msh is not None else ex.cook_mesh(c, n), material,
                       params=params if material else None, cells=cells)
        res = cook.solve(10)
        res["u"], (res["X"], res["U"]) = cook.u.x.array.copy(), cook.gathered()
        return res

    def dmax(a, b):
        return comm.allreduce(float(np.abs(a - b).max()), op=MPI.MAX)

    for n in args.n:
        msh = ex.cook_mesh(comm, n)
        ufl_, own, full = (run(comm, n, None, msh=msh), run(comm, n, args.material, "owned", msh),
                           run(comm, n, args.material, "all", msh))
        line = (f"N={n:2d} ranks={comm.size}: u_y(48,52)={own['tips'][-1]['u_y(48,52)']:.6f}  "
                f"its/step {sorted(set(own['iterations']))} (UFL {sorted(set(ufl_['iterations']))})  "
                f"max|u_compiled-u_UFL|={dmax(own['u'], ufl_['u']):.1e}  "
                f"max|u_owned-u_all|={dmax(own['u'], full['u']):.1e}")
        if comm.size > 1:
            ser = run(MPI.COMM_SELF, n, args.material)
            line += f"  max|u_{comm.size}ranks-u_serial|={dmax(own['U'], ser['U']):.1e}"
        if comm.rank == 0:
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
