"""Public verifiers of a hyperelastic material: each returns numbers and a pass/fail.

Use them in tests (``assert result.passed, result``) and from ``constitutive check MODEL``.

* :func:`check_stress_fd` -- stress vs central differences of the energy;
* :func:`check_tangent_fd` -- Mandel tangent vs central differences of the stress;
* :func:`check_dPdF_fd` -- ``A = dP/dF`` vs central differences of ``P(F)``;
* :func:`check_symmetries` -- major symmetry of the Mandel tangent, minor and major symmetry of
  the fourth-order tensor;
* :func:`check_reference_state` -- stress-free at ``E = 0`` and positive-definite tangent there;
* :func:`check_objectivity` -- ``W(QF) = W(F)`` and ``P(QF) = Q P(F)`` for random rotations;
* :func:`check_small_strain` -- tangent at ``E = 0`` equals ``3K P_vol + 2G P_dev`` with the
  model's declared initial moduli.

Random deformations are drawn from a seeded generator: ``F = R U`` with a random rotation ``R``
and a symmetric positive-definite stretch ``U`` of moderate size (principal stretches within
about 0.75-1.35).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import kinematics as kin
from . import mandel


@dataclass
class CheckResult:
    """Outcome of one verifier: the measured error, its tolerance and whether it passed."""

    name: str
    error: float
    tolerance: float
    passed: bool
    detail: str = ""
    op: str = "<="  # how error is compared with tolerance, for display

    def __str__(self) -> str:
        flag = "PASS" if self.passed else "FAIL"
        return (
            f"{self.name:<22} {self.error:10.2e} {self.op:>2} {self.tolerance:8.1e}  {flag}  "
            f"{self.detail}"
        )


def _result(name: str, error: float, tol: float, detail: str = "") -> CheckResult:
    error = float(error)
    return CheckResult(name, error, tol, bool(math.isfinite(error) and error <= tol), detail)


def random_rotations(n: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """``n`` random proper rotations (n,3,3) from normalised quaternions."""
    q = torch.randn(n, 4, generator=generator, dtype=dtype)
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    R = torch.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ],
        dim=-1,
    )
    return R.reshape(n, 3, 3)


def random_deformations(
    n: int = 8, seed: int = 0, amplitude: float = 0.15, dtype=torch.float64
) -> torch.Tensor:
    """``n`` random deformation gradients ``F = R U`` (n,3,3), seeded, ``det F > 0``."""
    g = torch.Generator().manual_seed(seed)
    H = amplitude * torch.randn(n, 3, 3, generator=g, dtype=dtype)
    U = torch.linalg.matrix_exp(0.5 * (H + H.transpose(-1, -2)))  # SPD stretch
    return random_rotations(n, g, dtype) @ U


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-300))


def _mat_on(material, x: torch.Tensor) -> torch.Tensor:
    return x.to(dtype=material.dtype, device=material.device)


def check_stress_fd(material, F: torch.Tensor, h: float = 1e-6, tol: float = 1e-6) -> CheckResult:
    """Mandel stress vs central differences of the energy in each Mandel direction."""
    e = kin.strain_mandel_from_F(_mat_on(material, F))
    s = material.stress_mandel(e)
    fd = torch.zeros_like(s)
    for i in range(6):
        de = torch.zeros_like(e)
        de[..., i] = h
        fd[..., i] = (material.energy_mandel(e + de) - material.energy_mandel(e - de)) / (2 * h)
    scale = max(float(s.abs().max()), _modulus_scale(material) * 1e-3)
    return _result("stress_fd", float((s - fd).abs().max()) / scale, tol, f"h={h:g}")


def check_tangent_fd(material, F: torch.Tensor, h: float = 1e-6, tol: float = 1e-6) -> CheckResult:
    """Mandel tangent vs central differences of the Mandel stress."""
    e = kin.strain_mandel_from_F(_mat_on(material, F))
    _, D = material.stress_tangent_mandel(e)
    fd = torch.zeros_like(D)
    for j in range(6):
        de = torch.zeros_like(e)
        de[..., j] = h
        fd[..., :, j] = (material.stress_mandel(e + de) - material.stress_mandel(e - de)) / (2 * h)
    return _result("tangent_fd", _rel(D, fd), tol, f"h={h:g}")


def check_dPdF_fd(material, F: torch.Tensor, h: float = 1e-6, tol: float = 1e-6) -> CheckResult:
    """``A = dP/dF`` vs central differences of ``P(F)`` in all nine directions."""
    F = _mat_on(material, F)
    _, A = material.pk1_tangent(F)
    fd = torch.zeros_like(A)
    for k in range(3):
        for L in range(3):
            dF = torch.zeros_like(F)
            dF[..., k, L] = h
            fd[..., k, L] = (material.pk1(F + dF) - material.pk1(F - dF)) / (2 * h)
    return _result("dPdF_fd", _rel(A, fd), tol, f"h={h:g}")


def check_symmetries(material, F: torch.Tensor, tol: float = 1e-10) -> CheckResult:
    """Major symmetry of ``D`` and minor/major symmetry of ``CC`` and ``c``."""
    F = _mat_on(material, F)
    e = kin.strain_mandel_from_F(F)
    _, D = material.stress_tangent_mandel(e)
    CC = mandel.from_mandel4(D)
    _, c = material.spatial_tangent(F)
    scale = D.abs().max().clamp_min(1e-300)
    errs = [
        (D - D.transpose(-1, -2)).abs().max() / scale,
        (CC - CC.transpose(-3, -4)).abs().max() / scale,
        (CC - CC.transpose(-1, -2)).abs().max() / scale,
        (c - c.permute(*range(c.ndim - 4), -2, -1, -4, -3)).abs().max() / c.abs().max().clamp_min(1e-300),
        (c - c.transpose(-3, -4)).abs().max() / c.abs().max().clamp_min(1e-300),
    ]
    return _result("symmetries", max(float(x) for x in errs), tol, "major+minor")


def check_reference_state(material, tol: float = 1e-12) -> list[CheckResult]:
    """Stress-free reference (|s(0)| relative to the modulus) and positive-definite D(0).

    For an incompressible material (``material.incompressible``; ``K = inf``, the volumetric
    mode is carried by the pressure, not by ``W``) positive-definiteness is required on the
    five-dimensional deviatoric subspace only.
    """
    e0 = torch.zeros(6, dtype=material.dtype, device=material.device)
    s0, D0 = material.stress_tangent_mandel(e0)
    scale = _modulus_scale(material)
    stress_free = _result("stress_free", float(s0.abs().max()) / scale, tol)
    D0 = 0.5 * (D0 + D0.T)
    where = "D(0)"
    if getattr(material, "incompressible", False):
        B = _deviatoric_basis(material.dtype, material.device)
        D0 = B.T @ D0 @ B
        where = "D(0) on the deviatoric subspace"
    eig = torch.linalg.eigvalsh(D0)
    pd = CheckResult(
        "positive_definite", float(eig.min()), 0.0, bool(eig.min() > 0),
        f"min eigenvalue of {where}; max {float(eig.max()):.4g}", op=">",
    )
    return [stress_free, pd]


def _deviatoric_basis(dtype, device) -> torch.Tensor:
    """Orthonormal basis (6,5) of the deviatoric Mandel subspace (orthogonal to [1,1,1,0,0,0])."""
    Pd = mandel.projector_deviatoric_mandel(dtype, device)
    w, V = torch.linalg.eigh(Pd)
    return V[:, w > 0.5]


def check_objectivity(material, F: torch.Tensor, seed: int = 1, tol: float = 1e-12) -> CheckResult:
    """``W(QF) = W(F)`` and ``P(QF) = Q P(F)`` for random rotations ``Q``."""
    F = _mat_on(material, F)
    Q = _mat_on(material, random_rotations(F.shape[0], torch.Generator().manual_seed(seed)))
    QF = Q @ F
    eW = kin.strain_mandel_from_F
    W1, W2 = material.energy_mandel(eW(F)), material.energy_mandel(eW(QF))
    P1, P2 = material.pk1(F), material.pk1(QF)
    err_w = float((W1 - W2).abs().max() / W1.abs().max().clamp_min(_modulus_scale(material)))
    err_p = _rel(Q @ P1, P2)
    return _result("objectivity", max(err_w, err_p), tol, "W(QF)=W(F), P(QF)=QP(F)")


def check_small_strain(material, tol: float = 1e-10) -> CheckResult:
    """Tangent at ``E = 0`` vs ``3K P_vol + 2G P_dev`` from ``material.initial_moduli()``."""
    try:
        G, K = material.initial_moduli()
    except NotImplementedError as exc:
        return CheckResult("small_strain", math.nan, tol, False, str(exc))
    D0 = material.tangent_at_reference()
    if math.isinf(float(K)):
        # incompressible: compare the deviatoric part only
        Pd = mandel.projector_deviatoric_mandel(material.dtype, material.device)
        err = _rel(Pd @ D0 @ Pd, 2.0 * float(G) * Pd)
        return _result("small_strain", err, tol, f"G={float(G):.6g}, K=inf (deviatoric part)")
    ref = mandel.isotropic_stiffness_mandel(float(G), float(K), material.dtype, material.device)
    return _result("small_strain", _rel(D0, ref), tol, f"G={float(G):.6g}, K={float(K):.6g}")


def _modulus_scale(material) -> float:
    D0 = material.tangent_at_reference()
    return max(float(D0.abs().max()), 1e-300)


def run_all_checks(material, n: int = 8, seed: int = 0, amplitude: float = 0.15) -> list[CheckResult]:
    """Run every verifier on ``n`` seeded random deformations; returns the list of results.

    ``amplitude`` (0 < amplitude <= 1) scales the random logarithmic stretches; beyond 1 the
    states reach principal stretches of e^+-3 and more, where central differences with steps of
    1e-6 leave the set of admissible strains and a correct model would fail its checks.
    """
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n: expected a positive number of random deformations, got {n!r}")
    if not (isinstance(amplitude, (int, float)) and 0.0 < amplitude <= 1.0):
        raise ValueError(f"amplitude: expected 0 < amplitude <= 1 (random stretches exp(amplitude N(0, 1))), "
                         f"got {amplitude!r}: larger states leave the range the finite-difference checks "
                         "can verify")
    F = random_deformations(n, seed, amplitude, material.dtype)
    results = [
        check_stress_fd(material, F),
        check_tangent_fd(material, F),
        check_dPdF_fd(material, F),
        check_symmetries(material, F),
        *check_reference_state(material),
        check_objectivity(material, F, seed + 1),
        check_small_strain(material),
    ]
    return results


def format_table(results: list[CheckResult]) -> str:
    """Plain-text table of results (one line each) with a summary line."""
    head = f"{'check':<22} {'error':>10}    {'tol':>8}  result  detail"
    lines = [head, "-" * len(head)] + [str(r) for r in results]
    n_ok = sum(r.passed for r in results)
    lines.append(f"{n_ok} passed, {len(results) - n_ok} failed")
    return "\n".join(lines)
