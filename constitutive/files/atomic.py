"""Atomic file writes: a reader never sees a half-written file under the final name.

The content goes to a temporary file in the destination directory (same file system), which
then replaces the destination with ``os.replace`` (atomic on POSIX and Windows). On any error,
including ``KeyboardInterrupt``, the temporary file is removed and the destination is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, writer: Callable[[str], object]) -> None:
    """Call ``writer(tmp)`` on a temporary file in the directory of ``path``, then ``os.replace``.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; use the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_text_atomic(path, text: str) -> None:
    """Write a text file atomically."""
    def writer(tmp):
        with open(tmp, "w") as fh:
            fh.write(text)
    atomic_write(path, writer)
