"""Output paths checked before long work: a fit or an FE solve must not run to the end and then
fail because its output cannot be written."""

from __future__ import annotations

import os


def check_output_path(path, what: str = "output", suffixes: tuple[str, ...] | None = None) -> str:
    """Return ``path`` as a string after checking that a file can be written there.

    Raises ``ValueError`` naming ``what`` when the path is a directory, its directory does not
    exist or is not writable, or its suffix is not one of ``suffixes`` (case-insensitive).
    """
    p = os.fspath(path)
    if not p:
        raise ValueError(f"{what}: empty path")
    if os.path.isdir(p):
        raise ValueError(f"{what}: {p!r} is a directory; give a file name")
    directory = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(directory):
        raise ValueError(f"{what}: the directory {directory!r} does not exist (create it first)")
    if not os.access(directory, os.W_OK):
        raise ValueError(f"{what}: the directory {directory!r} is not writable")
    if suffixes is not None and not p.lower().endswith(tuple(s.lower() for s in suffixes)):
        raise ValueError(f"{what}: {p!r} should end in one of {', '.join(suffixes)}")
    return p


def check_output_dir(path, what: str = "output directory") -> str:
    """Return ``path`` after checking that it is (or can be made) a writable directory."""
    p = os.fspath(path)
    if os.path.exists(p) and not os.path.isdir(p):
        raise ValueError(f"{what}: {p!r} exists and is not a directory")
    parent = os.path.dirname(os.path.abspath(p))
    if not os.path.exists(p) and not os.path.isdir(parent):
        raise ValueError(f"{what}: the parent directory {parent!r} does not exist")
    return p
