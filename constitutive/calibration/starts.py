"""Start values for a fit: model resolution, data-based modulus scaling, Ogden term lists."""

from __future__ import annotations

import numpy as np

from .experiments import Experiment

#: exponents of successive Ogden terms (term 1-3 as in Ogden's 1972 Treloar fit)
OGDEN_ALPHA = (1.3, 5.0, -2.0, 3.0, -4.0, 7.0, 0.5, -1.0)


def resolve_model(name: str, compressible: bool = False) -> str:
    """Registered name to fit: ``<name>-incompressible`` if it exists (rubber data) unless
    ``compressible``; otherwise ``name`` itself."""
    import materials

    key = name.strip().lower().replace("_", "-")
    known = materials.available()
    if key.endswith("-incompressible") or compressible:
        if key not in known:
            materials.model_class(key)  # raises KeyError listing the names
        return key
    if f"{key}-incompressible" in known:
        return f"{key}-incompressible"
    materials.model_class(key)
    return key


def _neo_hooke_factor(e: Experiment):
    """Closed-form incompressible neo-Hooke response per unit shear modulus (same shape as stress)."""
    if e.mode == "uniaxial":
        lam = e.stretch
        return lam - lam**-2 if e.stress_measure == "nominal" else lam**2 - 1 / lam
    if e.mode == "equibiaxial":
        lam = e.stretch
        return lam - lam**-5 if e.stress_measure == "nominal" else lam**2 - lam**-4
    if e.mode == "pure_shear":
        lam = e.stretch
        return lam - lam**-3 if e.stress_measure == "nominal" else lam**2 - lam**-2
    if e.mode == "simple_shear":
        return e.shear
    if e.mode == "biaxial":
        l1, l2 = e.stretch.T
        l3 = 1 / (l1 * l2)
        if e.stress_measure == "cauchy_difference":
            return l1**2 - l2**2
        if e.stress_measure == "nominal":
            return np.stack([l1 - l3**2 / l1, l2 - l3**2 / l2], -1)
        return np.stack([l1**2 - l3**2, l2**2 - l3**2], -1)
    return None


def estimate_shear_modulus(experiments: list[Experiment], units: str | None = None) -> float:
    """Initial shear modulus from the small-strain data (median of stress / neo-Hooke factor
    over points with stretches within 0.7-1.5, all points if there are none)."""
    units = units or experiments[0].units
    ratios, near = [], []
    for e in experiments:
        f = _neo_hooke_factor(e)
        if f is None:
            continue
        d = e.stress_in(units)
        ok = np.abs(f) > 1e-8
        r = (d[ok] / f[ok]).ravel()
        ratios.append(r)
        ctrl = np.atleast_2d(np.abs(e.control() if e.mode != "simple_shear" else 1 + e.shear).T).T
        small = (np.abs(np.log(ctrl)) < np.log(1.5)).all(-1)
        small = np.broadcast_to(small[:, None] if d.ndim == 2 else small, d.shape)[ok].ravel()
        near.append(r[small])
    pool = np.concatenate(near) if near and np.concatenate(near).size else (
        np.concatenate(ratios) if ratios else np.array([1.0]))
    pool = pool[np.isfinite(pool) & (pool > 0)]
    return float(np.median(pool)) if pool.size else 1.0


def max_I1(experiments: list[Experiment]) -> float:
    """Largest first invariant ``I1 = tr C`` of the (incompressible) data kinematics."""
    out = 3.0
    for e in experiments:
        if e.mode == "general":
            C = np.einsum("nki,nkj->nij", e.F, e.F)
            out = max(out, float(np.trace(C, axis1=1, axis2=2).max()))
            continue
        if e.mode == "simple_shear":
            out = max(out, float(3 + (e.shear**2).max()))
            continue
        lam = np.atleast_2d(e.stretch.T).T
        l1 = lam[:, 0]
        l2 = {"uniaxial": l1**-0.5, "equibiaxial": l1, "pure_shear": np.ones_like(l1)}.get(
            e.mode, lam[:, -1])
        out = max(out, float((l1**2 + l2**2 + (l1 * l2) ** -2).max()))
    return out


def _limiting_starts(cls, experiments, given: dict) -> dict:
    """Start values of limiting-chain parameters safely beyond the data (Arruda-Boyce
    ``lambda_m`` > chain stretch ``sqrt(I1/3)``; Gent ``Jm`` > ``I1 - 3``)."""
    I1 = max_I1(experiments)
    out = {}
    if "lambda_m" in cls.parameters and "lambda_m" not in given:
        out["lambda_m"] = max(float(cls.parameters["lambda_m"].default or 0), 1.3 * np.sqrt(I1 / 3))
    if "Jm" in cls.parameters and "Jm" not in given:
        out["Jm"] = max(float(cls.parameters["Jm"].default or 0), 1.5 * (I1 - 3))
    return out


def start_values(name: str, experiments: list[Experiment], terms: int | None = None,
                 given: dict | None = None, units: str | None = None) -> dict:
    """Start parameters for model ``name``: defaults scaled so that the initial shear modulus
    matches the data; Ogden ``terms`` build ``mu``/``alpha`` lists; ``given`` overrides."""
    import materials

    cls = materials.model_class(name)
    given = {k: ([v] if cls.parameters.get(k) is not None and cls.parameters[k].shape is None
                 and not isinstance(v, (list, tuple)) else v) for k, v in (given or {}).items()}
    given.update(_limiting_starts(cls, experiments, given))
    G = estimate_shear_modulus(experiments, units)
    start = {}
    if terms is not None:
        if "alpha" not in cls.parameters or "mu" not in cls.parameters:
            raise ValueError(f"--terms: model {name!r} has no mu/alpha term lists")
        n = int(terms)
        if not 1 <= n <= len(OGDEN_ALPHA):
            raise ValueError(f"terms: expected 1..{len(OGDEN_ALPHA)}, got {terms}")
        alpha = [2.0] if n == 1 else list(OGDEN_ALPHA[:n])
        frac = [1.0] if n == 1 else [0.9] + [0.1 / (n - 1)] * (n - 1)
        start["alpha"] = given.pop("alpha", alpha)
        start["mu"] = given.pop("mu", [2 * G * f / a for f, a in zip(frac, start["alpha"], strict=False)])
        if "K" in cls.parameters and "K" not in given:
            start["K"] = 100.0 * G
    mat = cls(**start, **{k: v for k, v in given.items() if k not in start})
    try:
        G0 = float(mat.initial_moduli()[0])
    except (NotImplementedError, TypeError, ValueError):
        G0 = None
    if terms is None and G0 and G0 > 0:
        factor = G / G0
        for pname, spec in cls.parameters.items():
            if spec.unit == "stress" and pname not in given:
                v = mat.parameter_values()[pname]
                start[pname] = [x * factor for x in v] if isinstance(v, list) else v * factor
    start.update(given)
    return start
