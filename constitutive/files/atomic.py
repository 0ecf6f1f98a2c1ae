"""Atomic file writes: a reader never sees a half-written file under the final name.

The content goes to a temporary file in the destination directory (same file system), which
then replaces the destination with ``os.replace`` (atomic on POSIX and Windows). On any error,
including ``KeyboardInterrupt``, the temporary file is removed and the destination is untouched.
A process killed outright (SIGKILL, power loss) cannot clean up: its temporary file is named
``.<name>.<pid>.<random>.tmp``, and the next write to the same path removes such files whose
process no longer runs.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Callable


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, writer: Callable[[str], object], fresh: bool = False) -> None:
    """Call ``writer(tmp)`` on a temporary file in the directory of ``path``, then ``os.replace``.

    On any error the temporary file is removed and ``path`` is left as it was. ``fresh=True``:
    the temporary name is reserved and its empty file removed again, so ``writer`` creates it
    (exclusively, e.g. HDF5 mode ``"w-"``, ``open(tmp, "xb")``); ext4 flushes a file that was
    opened with truncation at its close (``auto_da_alloc``), which for large files costs more
    than writing them.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path!r} is a directory; expected a file name")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{path!r}: the directory {directory!r} does not exist")
    remove_stale_temporaries(path)
    prefix = f".{os.path.basename(path)}.{os.getpid()}."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        if fresh:
            os.remove(tmp)
        writer(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; use the usual permissions
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(path) -> list[str]:
    """Remove temporaries of :func:`atomic_write` for ``path`` left by processes that no longer
    run (killed during a write); returns the removed paths."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    pattern = os.path.join(glob.escape(directory), "." + glob.escape(os.path.basename(path)) + ".*.tmp")
    removed = []
    for tmp in glob.glob(pattern):
        pid = os.path.basename(tmp)[len(os.path.basename(path)) + 2:].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
                removed.append(tmp)
    return removed


def write_text_atomic(path, text: str) -> None:
    """Write a text file atomically."""
    def writer(tmp):
        with open(tmp, "w") as fh:
            fh.write(text)
    atomic_write(path, writer)
