"""One process-wide pool of worker threads for compiled loops (fast path, FE element kernel).

Compiled kernels release the GIL (they are called through ctypes), so threads give real
parallelism. The pool is recreated after ``fork``: a child process inherits no worker threads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_PID = 0


def worker_pool(n: int) -> ThreadPoolExecutor:
    """The shared pool with ``n`` workers (created or resized on demand, fork-safe)."""
    global _POOL, _POOL_SIZE, _POOL_PID
    with _LOCK:
        if _POOL is None or _POOL_SIZE != n or _POOL_PID != os.getpid():
            if _POOL is not None and _POOL_PID == os.getpid():
                _POOL.shutdown(wait=False)
            _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="constitutive-native")
            _POOL_SIZE, _POOL_PID = n, os.getpid()
        return _POOL


def run_split(fn: Callable[[int, int], None], n: int, threads: int, align: int = 1) -> None:
    """Run ``fn(i, j)`` over ``[0, n)`` split into ``threads`` contiguous ranges.

    Range starts are multiples of ``align`` (e.g. 64 points, so that each thread's output
    starts on a cache line); with one thread ``fn(0, n)`` runs in the calling thread. Exceptions
    of the workers are re-raised here.
    """
    threads = max(1, int(threads))
    if threads == 1 or n <= align:
        fn(0, n)
        return
    bounds = [min(n, (n * t // threads) // align * align) for t in range(threads)] + [n]
    pool = worker_pool(threads)
    futures = [pool.submit(fn, bounds[t], bounds[t + 1]) for t in range(threads)
               if bounds[t + 1] > bounds[t]]
    for f in futures:
        f.result()
