"""Compare two .npz results written by cook_ufl.py / cook_external.py --save.

    python tools/dolfinx/compare_npz.py a.npz b.npz [--tol 1e-10]

Nodes are matched by their (sorted) reference coordinates, so results from different
numbers of MPI ranks (different dof numberings) can be compared.  Exits 1 when the
iteration counts differ or any difference exceeds --tol.  Needs only numpy.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--tol", type=float, default=1e-10)
    args = p.parse_args(argv)
    a, b = np.load(args.a), np.load(args.b)
    ok = True
    if a["coords"].shape != b["coords"].shape or np.abs(a["coords"] - b["coords"]).max() > 1e-9:
        print("meshes differ")
        return 1
    du = np.abs(a["u"] - b["u"]).max()
    dtc = np.abs(a["tip_corner"] - b["tip_corner"]).max()
    mid_a, mid_b = a["tip_mid"], b["tip_mid"]
    dtm = np.nanmax(np.abs(mid_a - mid_b)) if np.isfinite(mid_a).any() else 0.0
    same_its = np.array_equal(a["iterations"], b["iterations"])
    print(f"{args.a} (ranks {int(a['ranks'])}) vs {args.b} (ranks {int(b['ranks'])}), N={int(a['n'])}")
    print(f"  max |u_a - u_b| over all nodes/components: {du:.3e}  (max |u| = {np.abs(a['u']).max():.3f})")
    print(f"  max |tip_a - tip_b| over the load steps: corner {dtc:.3e}, mid-edge {dtm:.3e}")
    print(f"  final u_y(48,60): {a['tip_corner'][-1]:.12f} vs {b['tip_corner'][-1]:.12f}")
    print(
        f"  newton iterations: {a['iterations'].tolist()} vs {b['iterations'].tolist()} "
        f"-> {'same' if same_its else 'DIFFERENT'}"
    )
    ok = same_its and du <= args.tol and dtc <= args.tol and dtm <= args.tol
    print("  PASS" if ok else f"  FAIL (tol {args.tol:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
