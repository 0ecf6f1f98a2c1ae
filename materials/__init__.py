"""The model library: hyperelastic materials by name or by class.

>>> import materials
>>> mat = materials.get("ogden")               # defaults: Ogden (1972) rubber
>>> mat = materials.get("mooney-rivlin", c10=0.4, c01=0.1, K=100.0, volumetric="lnJ")
>>> materials.available()  # doctest: +SKIP
['arruda-boyce', 'arruda-boyce-incompressible', ...]

See docs/materials.md for the list of models, parameters, formulas and references.
"""

from __future__ import annotations

from . import discovered  # noqa: F401  (registers the discovered and icnn models)
from ._registry import available, catalogue, get, model_class, register
from .anisotropic import HolzapfelGasserOgden, TransverselyIsotropic
from .decoupled import BULK_MODULUS, Decoupled, Incompressible
from .fits import from_fit
from .limiting_chain import ArrudaBoyce, ArrudaBoyceIncompressible, Gent, GentIncompressible
from .linear import LinearElastic, SaintVenantKirchhoff
from .mullins import Mullins
from .neo_hooke import (
    NeoHooke,
    NeoHookeDecoupled,
    NeoHookeDecoupledIncompressible,
    NeoHookeIncompressible,
)
from .ogden import Ogden, OgdenIncompressible
from .ogden_conventions import ogden_from_abaqus, ogden_from_felupe, ogden_to_abaqus, ogden_to_felupe
from .polynomial import MooneyRivlin, MooneyRivlinIncompressible, Yeoh, YeohIncompressible
from .viscoelastic import (
    Viscoelastic,
    available_state_models,
    get_state_model,
    register_state_model,
    state_model_class,
)
from .volumetric import VOLUMETRIC_FUNCTIONS

__all__ = [
    "available", "catalogue", "from_fit", "get", "model_class", "register",
    "BULK_MODULUS", "Decoupled", "Incompressible", "VOLUMETRIC_FUNCTIONS",
    "LinearElastic", "SaintVenantKirchhoff",
    "NeoHooke", "NeoHookeDecoupled", "NeoHookeIncompressible", "NeoHookeDecoupledIncompressible",
    "MooneyRivlin", "MooneyRivlinIncompressible", "Yeoh", "YeohIncompressible",
    "Gent", "GentIncompressible", "ArrudaBoyce", "ArrudaBoyceIncompressible",
    "Ogden", "OgdenIncompressible", "ogden_from_abaqus", "ogden_from_felupe", "ogden_to_abaqus",
    "ogden_to_felupe",
    "HolzapfelGasserOgden", "TransverselyIsotropic",
    "Viscoelastic", "Mullins", "available_state_models", "get_state_model", "register_state_model",
    "state_model_class",
]

# help(materials.get) lists every registered model with its parameters (units, bounds, defaults)
get.__doc__ = (get.__doc__ or "") + "\n" + "\n".join("    " + ln for ln in catalogue().splitlines()) + "\n"
