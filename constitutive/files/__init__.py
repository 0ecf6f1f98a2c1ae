"""Safe file writing shared by every room: atomic writes (a complete file or none), stale
temporaries of killed writers removed, output paths checked before long work.

>>> from constitutive.files import write_text_atomic
>>> write_text_atomic("card.inp", "*MATERIAL, NAME=RUBBER\n")   # doctest: +SKIP
"""

from __future__ import annotations

from .atomic import atomic_write, remove_stale_temporaries, write_text_atomic
from .paths import check_output_dir, check_output_path

__all__ = ["atomic_write", "check_output_dir", "check_output_path", "remove_stale_temporaries",
           "write_text_atomic"]
