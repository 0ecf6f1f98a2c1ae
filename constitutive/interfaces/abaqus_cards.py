"""Abaqus input-deck material cards (``*HYPERELASTIC``) from our fitted parameters.

Abaqus conventions (Abaqus Analysis User's Guide, "Hyperelastic behavior of rubberlike
materials"; Abaqus Keywords Reference, ``*HYPERELASTIC``), with ``I1b``, ``I2b`` the invariants of
``bbar = J^(-2/3) b`` and ``lb_k`` the isochoric principal stretches:

* ``NEO HOOKE``      ``U = C10 (I1b - 3) + (J - 1)^2 / D1``                 data: C10, D1
* ``MOONEY-RIVLIN``  ``U = C10 (I1b - 3) + C01 (I2b - 3) + (J - 1)^2 / D1``  data: C10, C01, D1
* ``YEOH``           ``U = sum_i Ci0 (I1b - 3)^i + sum_i (J - 1)^(2i) / Di``  data: C10, C20, C30, D1, D2, D3
* ``OGDEN, N=n``     ``U = sum_i 2 mu_i / alpha_i^2 (lb1^a_i + lb2^a_i + lb3^a_i - 3)
  + sum_i (J - 1)^(2i) / Di``                        data: mu1, alpha1, ..., mu_n, alpha_n, D1..Dn
* ``ARRUDA-BOYCE``   ``U = mu sum_{i=1}^5 C_i / lambda_m^(2i-2) (I1b^i - 3^i)
  + ((J^2 - 1)/2 - ln J) / D``, ``C = 1/2, 1/20, 11/1050, 19/7000, 519/673750``   data: mu, lambda_m, D
* ``*ANISOTROPIC HYPERELASTIC, HOLZAPFEL, LOCAL DIRECTIONS=2`` (Holzapfel-Gasser-Ogden form)
  ``U = C10 (I1b - 3) + ((J^2 - 1)/2 - ln J) / D + k1/(2 k2) sum_a (exp(k2 <E_a>^2) - 1)``,
  ``E_a = kappa (I1b - 3) + (1 - 3 kappa)(I4b_aa - 1)``, ``I4b_aa = A_a . Cb A_a``
  data: C10, D, k1, k2, kappa; the fibre directions ``A_1, A_2`` are the local directions of
  the section's ``*ORIENTATION`` (written as comments in the card)

Conversions: ``C10 = c10`` (ours already in Abaqus form; neo-Hooke and HGO ``C10 = mu/2``),
``D1 = 2/K`` (``D2 = D3 = 0``; ``D = 0`` for incompressible models), Ogden
``mu_i(Abaqus) = mu_p alpha_p / 2`` (ours: ``W = sum mu_p/alpha_p (...)``). At most 8 values per
data line. By default (``strict=True``) the card is checked by evaluating both energies at test
deformations; a model whose energy is not exactly an Abaqus form is refused.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from constitutive import kinematics as kin
from constitutive.hyperelastic import Hyperelastic
from materials.ogden_conventions import ogden_to_abaqus

AB_COEFFS = (1 / 2, 1 / 20, 11 / 1050, 19 / 7000, 519 / 673750)
_TOL = 1e-9
_SERIES_TOL = 1e-3  # accepted series-truncation difference (Arruda-Boyce)


# ----------------------------------------------------------------------------- Abaqus energies
def _isochoric(F: np.ndarray):
    J = np.linalg.det(F)
    bbar = J[..., None, None] ** (-2.0 / 3.0) * (F @ np.swapaxes(F, -1, -2))
    I1b = np.trace(bbar, axis1=-2, axis2=-1)
    I2b = 0.5 * (I1b**2 - np.trace(bbar @ bbar, axis1=-2, axis2=-1))
    lb = np.sqrt(np.linalg.eigvalsh(bbar))
    return J, I1b, I2b, lb


def _vol(J, Ds) -> np.ndarray:
    return sum((J - 1.0) ** (2 * (i + 1)) / D for i, D in enumerate(Ds) if D > 0)


HOLZAPFEL = "ANISOTROPIC HYPERELASTIC, HOLZAPFEL, LOCAL DIRECTIONS=2"


def _holzapfel(v, F: np.ndarray, J, I1b, directions) -> np.ndarray:
    C10, D, k1, k2, kappa = v
    Cb = J[..., None, None] ** (-2.0 / 3.0) * (np.swapaxes(F, -1, -2) @ F)
    U = C10 * (I1b - 3) + ((0.5 * (J**2 - 1) - np.log(J)) / D if D > 0 else 0.0)
    for a in directions:
        a = np.asarray(a, dtype=np.float64) / np.linalg.norm(a)
        Ea = kappa * (I1b - 3) + (1 - 3 * kappa) * (np.einsum("i,...ij,j->...", a, Cb, a) - 1)
        Ea = np.maximum(Ea, 0.0)
        U = U + k1 / (2 * k2) * np.expm1(k2 * Ea**2) if k2 > 0 else U + 0.5 * k1 * Ea**2
    return U


def abaqus_energy(keyword: str, values, F, directions=None) -> np.ndarray:
    """Abaqus strain energy ``U`` of a ``*HYPERELASTIC`` card at ``F`` (..., 3, 3).

    ``keyword`` is ``"NEO HOOKE"``, ``"MOONEY-RIVLIN"``, ``"YEOH"``, ``"OGDEN, N=n"``,
    ``"ARRUDA-BOYCE"`` or :data:`HOLZAPFEL` (then ``directions``: the two fibre directions);
    ``values`` the data-line values in Abaqus order. ``D = 0`` (incompressible) drops the
    volumetric term.
    """
    v = [float(x) for x in values]
    F = np.asarray(F, dtype=np.float64)
    J, I1b, I2b, lb = _isochoric(F)
    if keyword == HOLZAPFEL:
        if directions is None or len(directions) != 2:
            raise ValueError("directions: the HOLZAPFEL form needs the two fibre directions")
        return _holzapfel(v, F, J, I1b, directions)
    if keyword == "NEO HOOKE":
        return v[0] * (I1b - 3) + _vol(J, v[1:2])
    if keyword == "MOONEY-RIVLIN":
        return v[0] * (I1b - 3) + v[1] * (I2b - 3) + _vol(J, v[2:3])
    if keyword == "YEOH":
        return sum(c * (I1b - 3) ** (i + 1) for i, c in enumerate(v[:3])) + _vol(J, v[3:6])
    if keyword.startswith("OGDEN"):
        n = int(keyword.split("N=")[1])
        iso = sum(2 * v[2 * i] / v[2 * i + 1] ** 2 * ((lb ** v[2 * i + 1]).sum(-1) - 3) for i in range(n))
        return iso + _vol(J, v[2 * n:3 * n])
    if keyword == "ARRUDA-BOYCE":
        mu, lm, D = v
        iso = mu * sum(c / lm ** (2 * i) * (I1b ** (i + 1) - 3.0 ** (i + 1)) for i, c in enumerate(AB_COEFFS))
        return iso + ((0.5 * (J**2 - 1) - np.log(J)) / D if D > 0 else 0.0)
    raise ValueError(f"keyword: unknown Abaqus hyperelastic form {keyword!r}")


# ----------------------------------------------------------------------------- conversions
def _d(K, incompressible: bool) -> float:
    return 0.0 if incompressible else 2.0 / float(K)


def abaqus_parameters(material: Hyperelastic) -> tuple[str, list[float], str]:
    """``(keyword, values, note)`` of the Abaqus form for ``material`` (no equivalence check)."""
    name = (material.name or "").removesuffix("-incompressible")
    inc = bool(material.incompressible)
    p = material.parameter_values()
    K = p.get("K")
    if name == "neo-hooke":  # coupled ln J form: no Abaqus equivalent; same initial moduli
        G, Kin = material.initial_moduli()
        return "NEO HOOKE", [G / 2, _d(Kin, inc)], "C10 = mu/2, D1 = 2/K with K = lmbda + 2 mu/3"
    if name == "neo-hooke-decoupled":
        return "NEO HOOKE", [p["mu"] / 2, _d(K, inc)], "C10 = mu/2, D1 = 2/K"
    if name == "mooney-rivlin":
        return "MOONEY-RIVLIN", [p["c10"], p["c01"], _d(K, inc)], "C10 = c10, C01 = c01, D1 = 2/K"
    if name == "yeoh":
        return ("YEOH", [p["c10"], p["c20"], p["c30"], _d(K, inc), 0.0, 0.0],
                "Ci0 = ci0, D1 = 2/K, D2 = D3 = 0")
    if name == "ogden":
        mus, alphas = p["mu"], p["alpha"]
        mu_abq, _ = ogden_to_abaqus(mus, alphas)
        vals = [x for m, a in zip(mu_abq, alphas, strict=True) for x in (m, a)]
        vals += [_d(K, inc)] + [0.0] * (len(mus) - 1)
        return f"OGDEN, N={len(mus)}", vals, "mu_i(Abaqus) = mu_p alpha_p / 2, D1 = 2/K, D2.. = 0"
    if name == "holzapfel-gasser-ogden":
        return (HOLZAPFEL, [p["mu"] / 2, _d(K, inc), p["k1"], p["k2"], p["kappa"]],
                "C10 = mu/2, D = 2/K, k1, k2, kappa as ours")
    if name == "arruda-boyce":
        return ("ARRUDA-BOYCE", [p["mu"], p["lambda_m"], _d(K, inc)],
                "mu, lambda_m as ours (mu = n k T, lambda_m locking stretch), D = 2/K")
    raise ValueError(f"material: no Abaqus *HYPERELASTIC form for model {material.name!r} "
                     "(supported: neo-hooke[-decoupled], mooney-rivlin, yeoh, ogden, arruda-boyce, "
                     "holzapfel-gasser-ogden)")


def fibre_directions(material: Hyperelastic) -> list[list[float]] | None:
    """The normalised fibre directions ``a1, a2`` of an HGO material (``None`` otherwise)."""
    if (material.name or "") != "holzapfel-gasser-ogden":
        return None
    return [getattr(material, n).detach().cpu().tolist() for n in ("a1", "a2")]


def _test_deformations(incompressible: bool, scale: float = 1.0) -> np.ndarray:
    G = [np.diag([0.4, -0.1, -0.15]), np.array([[0.1, 0.3, 0.0], [0.05, -0.05, 0.1], [0.0, -0.2, 0.2]]),
         np.diag([-0.3, 0.1, 0.05]), np.array([[0.0, 0.5, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])]
    F = np.eye(3) + scale * np.stack(G)
    if incompressible:
        F = F / np.cbrt(np.linalg.det(F))[:, None, None]
    return F


def _energy(material: Hyperelastic, F: np.ndarray) -> np.ndarray:
    Ft = torch.as_tensor(F, dtype=material.dtype, device=material.device)
    return material.energy_mandel(kin.strain_mandel_from_F(Ft)).detach().cpu().numpy()


def energy_mismatch(material: Hyperelastic, keyword: str, values) -> float:
    """Largest relative difference between our ``W`` and the card's ``U`` at test deformations.

    The test deformations (stretches up to 1.4, shear 0.5) are scaled down when the model
    cannot be evaluated there (e.g. beyond the locking stretch of a limiting-chain model).
    """
    for scale in (1.0, 0.5, 0.25, 0.1):
        F = _test_deformations(bool(material.incompressible), scale)
        try:
            W = _energy(material, F)
        except ValueError:
            continue
        U = abaqus_energy(keyword, values, F, fibre_directions(material))
        return float(np.max(np.abs(W - U)) / max(np.max(np.abs(W)), 1e-300))
    raise ValueError(f"material: {material.name!r} cannot be evaluated at the test deformations")


def volumetric_mismatch(material: Hyperelastic, keyword: str, values) -> float:
    """Relative difference of ``W`` and ``U`` under pure dilatation (``I1b = 3``, ``J != 1``)."""
    if material.incompressible:
        return 0.0
    F = np.stack([np.cbrt(J) * np.eye(3) for J in (0.8, 0.95, 1.1, 1.3)])
    W, U = _energy(material, F), abaqus_energy(keyword, values, F, fibre_directions(material))
    return float(np.max(np.abs(W - U)) / np.max(np.abs(W)))


def card_number(x: float) -> str:
    """``x`` with the most significant digits (17 down to 12) that fit in 20 characters.

    Input-deck readers take numbers as 20-character fields: CalculiX reads
    ``textpart(i)(1:20)`` with ``f20.0`` and drops the rest without a message, so
    ``6.666666666666667e-08`` (21 characters) would be read as 6.67.
    """
    x = float(x)
    if len(repr(x)) <= 20:  # the shortest text that reads back exactly
        return repr(x)
    for digits in (16, 15, 14, 13, 12):
        text = f"{x:.{digits}g}"
        if len(text) <= 20:
            return text
    return f"{x:.10e}"


def _fmt_lines(values, per_line: int = 8) -> list[str]:
    vals = [card_number(v) for v in values]
    return [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]


def abaqus_material_card(material: Hyperelastic, name: str = "MATERIAL", strict: bool = True,
                         units: str | None = None) -> str:
    """``*MATERIAL`` / ``*HYPERELASTIC`` card text for ``material``.

    Parameters
    ----------
    material : a supported model (see :func:`abaqus_parameters`).
    name : Abaqus material name.
    strict : refuse (``ValueError``) when the Abaqus energy differs from ours at the test
        deformations by more than 1e-9 relative (e.g. coupled neo-Hooke, or a volumetric function
        other than Abaqus's); with ``strict=False`` the card is written with a warning comment
        (same initial shear and bulk moduli).
    units : stress unit of the card (e.g. ``"MPa"`` for an N-mm model): the parameters are
        converted from ``material.stress_unit`` (:func:`constitutive.units.convert_material`),
        which must then be known (it is for materials from ``materials.from_fit``). The card
        states its stress unit in a comment whenever it is known.
    """
    from constitutive.units import convert_material, normalise_units

    source_unit = material.stress_unit
    if units is not None:
        if source_unit is None:
            raise ValueError("units: the material's stress unit is unknown, so it cannot be converted to "
                             f"{units!r}; set material.stress_unit (a fit result carries it)")
        material = convert_material(material, source_unit, units)
    keyword, values, note = abaqus_parameters(material)
    err = energy_mismatch(material, keyword, values)
    header = [f"** constitutive: {material.name} {json.dumps(material.parameter_values())} "
              f"{json.dumps(material.option_values())}", f"** {note}"]
    if material.stress_unit is not None:
        converted = f" (converted from {normalise_units(source_unit)})" if units is not None and \
            normalise_units(units) != normalise_units(source_unit) else ""
        header.append(f"** stress unit: {material.stress_unit}{converted}; D in 1/{material.stress_unit}")
    else:
        header.append("** stress unit: that of the parameters (not recorded); D in its inverse")
    series = keyword == "ARRUDA-BOYCE"
    if series:  # Abaqus: 5-term series of the inverse Langevin function; ours: exact
        err_vol = volumetric_mismatch(material, keyword, values)
        header.append(f"** Abaqus uses the 5-term series of the 8-chain energy, this model the exact "
                      f"inverse Langevin function: relative energy difference {err:.2g} at stretches "
                      "up to 1.4 (larger near locking)")
        err = max(err_vol, err if err > _SERIES_TOL else 0.0)
    if err > _TOL:
        msg = (f"the Abaqus {keyword} energy differs from {material.name!r} by {err:.3g} (relative) at "
               "test deformations; Abaqus volumetric terms are (J-1)^2/D (polynomial, Ogden) and "
               "((J^2-1)/2 - ln J)/D (Arruda-Boyce)")
        if strict:
            raise ValueError(f"material: {msg}; pass strict=False for an approximate card")
        header.append(f"** WARNING: approximate card: {msg}; initial moduli agree")
    if material.incompressible:
        header.append("** incompressible (D = 0): use hybrid elements")
    dirs = fibre_directions(material)
    if dirs is not None:
        header += ["** fibre directions in the reference configuration (global axes):"] + [
            f"**   A{k} = {', '.join(repr(float(c)) for c in a)}" for k, a in enumerate(dirs, start=1)] + [
            "** give them as local directions 1 and 2 of the section's *ORIENTATION "
            "(LOCAL DIRECTIONS=2)"]
    option = keyword if keyword == HOLZAPFEL else f"HYPERELASTIC, {keyword}"
    lines = header + [f"*MATERIAL, NAME={name}", f"*{option}"] + _fmt_lines(values)
    return "\n".join(lines) + "\n"
