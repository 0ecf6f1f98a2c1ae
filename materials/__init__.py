"""The model library: hyperelastic materials by name.

>>> import materials
>>> mat = materials.get("neo-hooke", mu=1.0, lmbda=10.0)
>>> materials.available()  # doctest: +SKIP
['neo-hooke', ...]
"""

from __future__ import annotations

from ._registry import available, get, model_class, register
from .neo_hooke import NeoHooke

__all__ = ["available", "get", "model_class", "register", "NeoHooke"]
