"""Cook's membrane in DOLFINx on a given mesh (a helper of tests/interfaces/test_dolfinx.py,
which solves the same problem with constitutive.fem and compares):

    $VENV/bin/[mpiexec -n 2] python tests/dolfinx/solve_cook_mesh.py MESH.npz NH.json OUT.npz

``MESH.npz``: ``points`` (np, 3), VTK-ordered hexahedra ``cells`` (ne, 8), ``mu``, ``K``,
``steps``, ``traction``, ``rtol``, ``atol``. ``OUT.npz`` (rank 0): ``X`` (np, 3) and ``U``
(np, 3) sorted by coordinates, ``iterations`` per step, ``tips`` u_y(48,52) per step.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from constitutive.interfaces.dolfinx import require_dolfinx

require_dolfinx()

# isort: split
import numpy as np  # noqa: E402
from mpi4py import MPI  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main(mesh_path: str, material: str, out_path: str) -> int:
    spec = importlib.util.spec_from_file_location("dolfinx_cook_membrane",
                                                  ROOT / "examples" / "dolfinx_cook_membrane.py")
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    d = np.load(mesh_path)
    comm = MPI.COMM_WORLD
    msh = ex.cook_mesh(comm, points=d["points"], cells=d["cells"])
    cook = ex.Cook(msh, material, params={"mu": float(d["mu"]), "K": float(d["K"])},
                   rtol=float(d["rtol"]), atol=float(d["atol"]))
    res = cook.solve(int(d["steps"]), load=float(d["traction"]))
    X, U = cook.gathered()
    if comm.rank == 0:
        np.savez(out_path, X=X, U=U, iterations=np.array(res["iterations"]),
                 tips=np.array([t["u_y(48,52)"] for t in res["tips"]]), ranks=comm.size)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
