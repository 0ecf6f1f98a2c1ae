"""Safe file writing shared by every room: atomic writes (a complete file or none).

>>> from constitutive.files import write_text_atomic
>>> write_text_atomic("card.inp", "*MATERIAL, NAME=RUBBER\n")   # doctest: +SKIP
"""

from __future__ import annotations

from .atomic import atomic_write, write_text_atomic

__all__ = ["atomic_write", "write_text_atomic"]
