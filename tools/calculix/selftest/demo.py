"""Demo: uniaxial stretch to 1.5 of one C3D8 with CalculiX's NEO HOOKE and with
the external self-test UMAT (libSELFTEST.so), through tools/calculix/ccx.py.

Runs ``uniaxial_builtin.inp`` and ``uniaxial_external.inp`` (next to this
file; 10 fixed increments, NLGEOM, lateral faces free) and prints the total
reaction force on the face x = 1 per increment next to the analytic first
Piola-Kirchhoff stress P11 of W = C10 (I1bar - 3) + (J - 1)^2 / D1.

Usage::

    python3 tools/calculix/selftest/demo.py [workdir]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import ccx  # noqa: E402

C10, D1 = 0.5, 0.1


def p11_uniaxial(lam: float) -> float:
    """P11 of compressible neo-Hooke in uniaxial stress (sigma22 = sigma33 = 0)."""

    def s22(m):
        J = lam * m * m
        return 2 * C10 * J ** (-5 / 3) * (m * m - (lam * lam + 2 * m * m) / 3) + 2 / D1 * (J - 1)

    lo, hi = 0.2, 1.5  # bisection on the lateral stretch
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if s22(lo) * s22(mid) <= 0:
            hi = mid
        else:
            lo = mid
    m = 0.5 * (lo + hi)
    J = lam * m * m
    s11 = 2 * C10 * J ** (-5 / 3) * (lam * lam - (lam * lam + 2 * m * m) / 3) + 2 / D1 * (J - 1)
    return J * s11 / lam


def main(workdir: Path) -> None:
    exe = ccx.find_ccx() or ccx.build_ccx()
    print(f"ccx: {exe}")
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "cc",
            "-O2",
            "-fPIC",
            "-shared",
            "-o",
            str(workdir / "libSELFTEST.so"),
            str(HERE / "selftest_umat.c"),
            "-lm",
        ],
        check=True,
    )
    runs = {}
    for name in ("builtin", "external"):
        deck = (HERE / f"uniaxial_{name}.inp").read_text()
        runs[name] = ccx.run_deck(deck, workdir / name, jobname=f"uniaxial_{name}", lib_dirs=[workdir])
    called = [ln for ln in runs["external"].stdout.splitlines() if "SELFTEST NEOHOOKE" in ln]
    print(called[0] if called else "external UMAT was NOT called")
    t, _, rf_b = runs["builtin"].read_dat().get("RF", "X1", total=True)
    _, _, rf_e = runs["external"].read_dat().get("RF", "X1", total=True)
    _, _, sdv = runs["external"].read_dat().get("SDV", "EALL")
    it_b = runs["builtin"].iterations().per_increment()
    it_e = runs["external"].iterations().per_increment()
    print(
        f"{'time':>6} {'stretch':>8} {'RF_x builtin':>14} {'RF_x external':>14} "
        f"{'P11 analytic':>14} {'iters b/e':>9}"
    )
    for k in range(len(t)):
        lam = 1.0 + 0.5 * t[k]
        print(
            f"{t[k]:6.2f} {lam:8.3f} {rf_b[k, 0]:14.7e} {rf_e[k, 0]:14.7e} "
            f"{p11_uniaxial(lam):14.7e} {it_b[k]:4d}/{it_e[k]:<4d}"
        )
    print(
        f"max |RF_builtin - RF_external| = {np.abs(rf_b - rf_e).max():.2e}; "
        f"STATEV(1) (converged increments counted by the UMAT) = {sdv[-1, 0, 0]:.0f}, "
        f"STATEV(2) = J = {sdv[-1, 0, 1]:.6f}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "runs" / "demo")
