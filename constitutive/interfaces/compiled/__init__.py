"""Compiled material routines: any energy -> a self-contained C library and an Abaqus UMAT.

* :func:`compile_material` (``constitutive compile`` on the command line) writes ``NAME.c``,
  ``NAME.h``, ``libNAME.so`` and ``NAME.json`` (:mod:`.build`);
* :class:`CompiledMaterial` loads the library with NumPy and ctypes, without torch
  (:mod:`.loader`); it is also how the tests compare the library with the engine.

See docs/interfaces.md ("Compiled material routines") for the entry points, the two UMAT
conventions (Abaqus/Standard and CalculiX's ``@ABAQUSNL``), the decks and the build script.
Importing this package does not import torch; :func:`compile_material` does, on first use.
"""

from __future__ import annotations

from .loader import CompiledMaterial, library_environment

__all__ = ["CompiledMaterial", "compile_material", "library_environment"]


def __getattr__(name: str):
    if name == "compile_material":
        from .build import compile_material

        return compile_material
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
