"""Progress of long work (multi-start fits, FE solves, large exports), shown with tqdm.

On a terminal a progress bar updates in place; when the output is not a terminal (a log file,
CI) each stage writes one line when it starts and one when it ends, instead of a line per
chunk.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """``with Progress(total, "fitting") as p: ... p.update(k)``; ``p.note(text)`` shows a
    status (bar postfix on a terminal, nothing otherwise)."""

    def __init__(self, total: float, desc: str, unit: str = "it", stream=None, enabled: bool = True):
        self.stream = stream or sys.stderr
        self.desc, self.total, self.enabled = desc, total, enabled
        self.t0 = time.perf_counter()
        self._bar = None
        if enabled and getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, leave=True,
                             dynamic_ncols=True)
        elif enabled:
            print(f"{desc}: started ({total:g} {unit})", file=self.stream, flush=True)
        self.done = 0.0

    def update(self, n: float = 1.0) -> None:
        """Advance by ``n``."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def note(self, text: str) -> None:
        """Show a short status next to the bar (terminal only)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)

    def close(self, status: str = "done") -> None:
        """Finish: close the bar, or print the stage's end line with its duration."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled:
            print(f"{self.desc}: {status} in {time.perf_counter() - self.t0:.1f} s", file=self.stream,
                  flush=True)
        self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close("done" if exc_type is None else f"stopped ({exc_type.__name__})")
