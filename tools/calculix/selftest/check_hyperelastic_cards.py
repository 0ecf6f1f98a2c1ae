"""Check the data layout and energy convention of CalculiX's *HYPERELASTIC models.

For each model a unit cube (ccx.unit_cube_deck, all nodes prescribed) follows
a general deformation-gradient path (stretch + shear + rotation); the first
Piola-Kirchhoff stress from the face reactions is compared with dW/dF of the
energy written in NOTES.md (numerical derivative), with the card data exactly
as written below.  The .dat prints 7 significant digits, so agreement to
about 1e-6 confirms the convention.

Usage::

    python3 tools/calculix/selftest/check_hyperelastic_cards.py [workdir]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import ccx  # noqa: E402


def kin(F):
    J = np.linalg.det(F)
    Cb = J ** (-2.0 / 3.0) * F.T @ F
    I1 = np.trace(Cb)
    I2 = 0.5 * (I1 * I1 - np.trace(Cb @ Cb))
    lam = np.sqrt(np.linalg.eigvalsh(Cb))  # isochoric principal stretches
    return J, I1, I2, lam


def vol(J, D):
    return sum((J - 1.0) ** (2 * (k + 1)) / d for k, d in enumerate(D))


def poly(C, D):
    """C: {(i, j): Cij}"""

    def W(F):
        J, I1, I2, _ = kin(F)
        return sum(c * (I1 - 3) ** i * (I2 - 3) ** j for (i, j), c in C.items()) + vol(J, D)

    return W


def ogden(mu, al, D):
    def W(F):
        J, _, _, lam = kin(F)
        return sum(2 * m / a**2 * (np.sum(lam**a) - 3) for m, a in zip(mu, al, strict=False)) + vol(J, D)

    return W


def arruda_boyce(mu, lm, D):
    c = [0.5, 1 / 20, 11 / 1050, 19 / 7000, 519 / 673750]

    def W(F):
        J, I1, _, _ = kin(F)
        w = mu * sum(ci / lm ** (2 * i) * (I1 ** (i + 1) - 3 ** (i + 1)) for i, ci in enumerate(c))
        return w + ((J * J - 1) / 2 - np.log(J)) / D

    return W


MODELS = {
    # name: (card, energy)
    "NEO HOOKE": ("*HYPERELASTIC, NEO HOOKE\n0.4, 0.2", poly({(1, 0): 0.4}, [0.2])),
    "MOONEY-RIVLIN": ("*HYPERELASTIC, MOONEY-RIVLIN\n0.4, 0.1, 0.2", poly({(1, 0): 0.4, (0, 1): 0.1}, [0.2])),
    "POLYNOMIAL N=2": (
        "*HYPERELASTIC, POLYNOMIAL, N=2\n0.4, 0.1, 0.05, 0.02, 0.03, 0.2, 0.5",
        poly({(1, 0): 0.4, (0, 1): 0.1, (2, 0): 0.05, (1, 1): 0.02, (0, 2): 0.03}, [0.2, 0.5]),
    ),
    "POLYNOMIAL N=3": (
        "*HYPERELASTIC, POLYNOMIAL, N=3\n"
        "0.4, 0.1, 0.05, 0.02, 0.03, 0.004, 0.003, 0.002\n0.001, 0.2, 0.5, 0.7",
        poly(
            {
                (1, 0): 0.4,
                (0, 1): 0.1,
                (2, 0): 0.05,
                (1, 1): 0.02,
                (0, 2): 0.03,
                (3, 0): 0.004,
                (2, 1): 0.003,
                (1, 2): 0.002,
                (0, 3): 0.001,
            },
            [0.2, 0.5, 0.7],
        ),
    ),
    "REDUCED POLYNOMIAL N=3": (
        "*HYPERELASTIC, REDUCED POLYNOMIAL, N=3\n0.4, -0.02, 0.003, 0.2, 0.5, 0.7",
        poly({(1, 0): 0.4, (2, 0): -0.02, (3, 0): 0.003}, [0.2, 0.5, 0.7]),
    ),
    "REDUCED POLYNOMIAL N=2": (
        "*HYPERELASTIC, REDUCED POLYNOMIAL, N=2\n0.4, 0.05, 0.2, 0.5",
        poly({(1, 0): 0.4, (2, 0): 0.05}, [0.2, 0.5]),
    ),
    "YEOH": (
        "*HYPERELASTIC, YEOH\n0.4, -0.02, 0.003, 0.2, 0.5, 0.7",
        poly({(1, 0): 0.4, (2, 0): -0.02, (3, 0): 0.003}, [0.2, 0.5, 0.7]),
    ),
    "OGDEN N=1": ("*HYPERELASTIC, OGDEN, N=1\n0.8, 3.0, 0.2", ogden([0.8], [3.0], [0.2])),
    "OGDEN N=2": (
        "*HYPERELASTIC, OGDEN, N=2\n0.8, 3.0, -0.1, -2.0, 0.2, 0.5",
        ogden([0.8, -0.1], [3.0, -2.0], [0.2, 0.5]),
    ),
    "OGDEN N=3": (
        "*HYPERELASTIC, OGDEN, N=3\n0.6, 1.3, 0.01, 5.0, -0.1, -2.0, 0.2, 0.5\n0.7",
        ogden([0.6, 0.01, -0.1], [1.3, 5.0, -2.0], [0.2, 0.5, 0.7]),
    ),
    "ARRUDA-BOYCE": ("*HYPERELASTIC, ARRUDA-BOYCE\n0.8, 2.5, 0.2", arruda_boyce(0.8, 2.5, 0.2)),
}


def dWdF(W, F, h=1e-6):
    P = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            dF = np.zeros((3, 3))
            dF[i, j] = h
            P[i, j] = (W(F + dF) - W(F - dF)) / (2 * h)
    return P


def path(n=8):
    out = []
    for t in np.linspace(0, 1, n + 1):
        c, s = np.cos(0.7 * t), np.sin(0.7 * t)
        R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
        A = np.array(
            [[1 + 0.6 * t, 0.3 * t, 0.0], [0.0, 1 - 0.2 * t, 0.1 * t], [0.05 * t, 0.0, 1 + 0.15 * t]]
        )
        out.append(R @ A)
    out[0] = np.eye(3)
    return np.array(out)


def main(workdir: Path) -> None:
    F = path()
    worst = 0.0
    for name, (card, W) in MODELS.items():
        mat = f"*MATERIAL, NAME=RUBBER\n{card}\n"
        job = name.replace(" ", "_").replace("=", "")
        r = ccx.run_deck(ccx.unit_cube_deck(F, mat), workdir / job)
        t, P = ccx.cube_first_piola(r.read_dat())
        Pex = np.array([dWdF(W, f) for f in F[1:]])
        err = np.abs(P - Pex).max() / np.abs(Pex).max()
        worst = max(worst, err)
        print(f"{name:24s} max|P_ccx - dW/dF| / max|P| = {err:.2e}")
    print("all models match to print precision" if worst < 1e-5 else "MISMATCH")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "runs" / "hyperelastic_cards")
