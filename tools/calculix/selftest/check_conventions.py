"""Measure CalculiX's @ABAQUSNL conventions with the self-test UMAT.

Runs a 3x3x3 C3D8 cube whose boundary nodes follow a large rotation combined
with an inhomogeneous stretch/shear (the 8 interior nodes are free), with

* CalculiX's built-in ``*HYPERELASTIC, NEO HOOKE`` (reference),
* the external UMAT, mode 0: STRESS = R^T sigma R, DDSDDE = U4 : dS/dE : U4,
* mode 1: same stress, Abaqus' Jaumann tangent C^MJ,
* mode 2: STRESS = global Cauchy sigma,

all with tight ``*CONTROLS``, and prints the largest displacement difference
to the built-in run and the Newton iterations per increment.

Usage::

    python3 tools/calculix/selftest/check_conventions.py [workdir]
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import ccx  # noqa: E402

# Moduli in Pa-like units: CalculiX zeroes a largest residual force below 1e-6
# (absolute, nonlingeo.c:3329), so O(1) forces would end the iterations early.
C10, D1 = 0.5e6, 0.1e-6
N = 3  # elements per edge
NINC = 10  # increments
THETA = np.pi / 2


def rot(th):
    c, s = np.cos(th), np.sin(th)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def placement(X, t):
    """Boundary motion: rotation by THETA*t of an inhomogeneous deformation."""
    x, y, z = X
    y2 = np.array([x + 0.5 * t * x + 0.3 * t * y * y, y - 0.1 * t * y + 0.2 * t * x * z, z + 0.2 * t * z])
    return rot(THETA * t) @ y2


def deck(material: str, name: str) -> str:
    h = 1.0 / N
    nodes = {}
    k = 0
    for kz in range(N + 1):
        for ky in range(N + 1):
            for kx in range(N + 1):
                k += 1
                nodes[(kx, ky, kz)] = (k, np.array([kx * h, ky * h, kz * h]))
    lines = ["*HEADING", "check_conventions", "*NODE, NSET=NALL"]
    lines += [f"{i}, {X[0]:.17g}, {X[1]:.17g}, {X[2]:.17g}" for i, X in nodes.values()]
    lines.append("*ELEMENT, TYPE=C3D8, ELSET=EALL")
    e = 0
    for kz in range(N):
        for ky in range(N):
            for kx in range(N):
                e += 1
                c = [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]
                ids = [nodes[(kx + a, ky + b, kz + d)][0] for a, b, d in c]
                lines.append(f"{e}, " + ", ".join(map(str, ids)))
    ts = np.linspace(0, 1, NINC + 1)
    amps, bcs = [], []
    for (kx, ky, kz), (i, X) in nodes.items():
        if 0 < kx < N and 0 < ky < N and 0 < kz < N:
            continue  # interior node: free
        u = np.array([placement(X, t) - X for t in ts])
        for d in range(3):
            if np.all(u[:, d] == 0):
                bcs.append(f"*BOUNDARY\n{i}, {d + 1}, {d + 1}, 0.0")
                continue
            amps.append(
                f"*AMPLITUDE, NAME=A{i}_{d + 1}\n"
                + "\n".join(f"{t:.17g}, {v:.17g}" for t, v in zip(ts, u[:, d], strict=False))
            )
            bcs.append(f"*BOUNDARY, AMPLITUDE=A{i}_{d + 1}\n{i}, {d + 1}, {d + 1}, 1.0")
    lines += amps
    lines.append(material.strip())
    lines.append(f"*SOLID SECTION, ELSET=EALL, MATERIAL={name}")
    lines.append(f"*STEP, NLGEOM, INC=1000\n*STATIC, DIRECT\n{1.0 / NINC:.17g}, 1.0")
    lines.append(ccx.TIGHT_CONTROLS.strip())
    lines += bcs
    lines.append("*NODE PRINT, NSET=NALL\nU")
    lines.append("*END STEP")
    return "\n".join(lines) + "\n"


def main(workdir: Path) -> None:
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
    cases = {
        "builtin": (
            f"*MATERIAL, NAME=RUBBER\n*HYPERELASTIC, NEO HOOKE\n{ccx._num(C10)}, {ccx._num(D1)}\n",
            "RUBBER",
        )
    }
    ext = "@ABAQUSNL_SELFTEST_NEOHOOKE"
    for mode in (0, 1, 2):
        cases[f"external mode {mode}"] = (
            f"*MATERIAL, NAME={ext}@M{mode}\n*USER MATERIAL, CONSTANTS=3\n"
            f"{ccx._num(C10)}, {ccx._num(D1)}, {mode}\n*DEPVAR\n2\n",
            f"{ext}@M{mode}",
        )
    ref = None
    for label, (mat, name) in cases.items():
        job = label.replace(" ", "_")
        try:
            r = ccx.run_deck(deck(mat, name), workdir / job, lib_dirs=[workdir], timeout=600)
        except ccx.CCXError as exc:
            print(f"{label:16s} FAILED: {exc}")
            continue
        _, _, U = r.read_dat().get("U", "NALL")
        it = r.iterations()
        if ref is None:
            ref = U
        err = np.abs(U - ref).max()
        print(
            f"{label:16s} max|U-U_builtin| = {err:.3e}   iterations/increment = "
            f"{[int(i) for i in it.per_increment()]}  (total {it.total}, cutbacks "
            f"{int((~it.converged).sum())}, {r.seconds:.1f} s)"
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "runs" / "conventions")
