"""Stress units: the table, spelling, conversion factors, and materials converted between units.

Parameters carry no units inside the engine (the user's unit system is kept consistent, e.g.
MPa with mm); each declared parameter says which *kind* of quantity it is (``"stress"``,
``"1/stress"``, ``"-"``, ``"direction"``). That is enough to convert a material from one stress
unit to another, for an Abaqus card written in the analyst's units or a fit made in kPa used
in an MPa model.

>>> from constitutive.units import unit_factor
>>> unit_factor("kPa", "MPa")
0.001
"""

from __future__ import annotations

#: stress units and their value in Pa
UNITS = {
    "Pa": 1.0, "N/m^2": 1.0, "kPa": 1e3, "MPa": 1e6, "N/mm^2": 1e6, "GPa": 1e9,
    "psi": 6894.757293168361, "ksi": 6894757.293168361, "kgf/cm^2": 98066.5, "bar": 1e5,
}


def normalise_units(units: str) -> str:
    """Canonical unit spelling from :data:`UNITS` (case-insensitive)."""
    if not isinstance(units, str):
        raise TypeError(f"units: expected a string, got {type(units).__name__}")
    for k in UNITS:
        if k.lower() == units.strip().lower():
            return k
    raise ValueError(f"units: unknown stress unit {units!r}; expected one of {list(UNITS)}")


def unit_factor(src: str, dst: str) -> float:
    """Factor converting a stress in ``src`` units to ``dst`` units."""
    return UNITS[normalise_units(src)] / UNITS[normalise_units(dst)]


def convert_material(material, src: str, dst: str):
    """The same material with its parameters expressed in stress unit ``dst`` instead of ``src``.

    Parameters of unit kind ``"stress"`` are multiplied by ``f = unit_factor(src, dst)``, those
    of kind ``"1/stress"`` divided by it; dimensionless ones and directions are kept. The
    result's ``stress_unit`` attribute is ``dst``.
    """
    f = unit_factor(src, dst)
    values = {}
    for name, spec in material.parameters.items():
        v = getattr(material, name).detach()
        values[name] = v * f if spec.unit == "stress" else (v / f if spec.unit == "1/stress" else v)
    out = material.replace(**values)
    out.stress_unit = normalise_units(dst)
    return out
