"""Ogden parameters in the three conventions users meet, and the converters between them.

* ours (``materials.get("ogden")``, Ogden 1972):
  ``W = sum_p mu_p / alpha_p (lb1^a_p + lb2^a_p + lb3^a_p - 3)``,
  initial shear modulus ``G = sum_p mu_p alpha_p / 2``;
* Abaqus ``*HYPERELASTIC, OGDEN`` and CalculiX: ``W = sum_i 2 mu_i / alpha_i^2 (...)``,
  ``G = sum_i mu_i``;
* felupe ``ogden(C, mu, alpha)``: the Abaqus form (``2 mu_i / alpha_i^2``).

So ``mu_abaqus = mu_ours alpha / 2`` with the same exponents. Reference: Abaqus Analysis
User's Guide, "Hyperelastic behavior of rubberlike materials"; felupe's
``constitution.ogden`` docstring.
"""

from __future__ import annotations


def _pairs(mu, alpha) -> tuple[list[float], list[float]]:
    mu, alpha = [float(m) for m in mu], [float(a) for a in alpha]
    if len(mu) != len(alpha) or not mu:
        raise ValueError(f"mu, alpha: expected lists of the same non-zero length, got {len(mu)} and "
                         f"{len(alpha)}")
    if any(a == 0.0 for a in alpha):
        raise ValueError("alpha: exponents must be non-zero")
    return mu, alpha


def ogden_to_abaqus(mu, alpha) -> tuple[list[float], list[float]]:
    """Our ``(mu_p, alpha_p)`` -> Abaqus/CalculiX ``(mu_i, alpha_i)``: ``mu_i = mu_p alpha_p / 2``."""
    mu, alpha = _pairs(mu, alpha)
    return [m * a / 2.0 for m, a in zip(mu, alpha, strict=True)], alpha


def ogden_from_abaqus(mu, alpha) -> tuple[list[float], list[float]]:
    """Abaqus/CalculiX ``(mu_i, alpha_i)`` -> ours: ``mu_p = 2 mu_i / alpha_i``."""
    mu, alpha = _pairs(mu, alpha)
    return [2.0 * m / a for m, a in zip(mu, alpha, strict=True)], alpha


def ogden_to_felupe(mu, alpha) -> tuple[list[float], list[float]]:
    """Our ``(mu_p, alpha_p)`` -> felupe's ``ogden(C, mu, alpha)`` (the Abaqus form)."""
    return ogden_to_abaqus(mu, alpha)


def ogden_from_felupe(mu, alpha) -> tuple[list[float], list[float]]:
    """felupe's ``(mu, alpha)`` -> ours."""
    return ogden_from_abaqus(mu, alpha)
