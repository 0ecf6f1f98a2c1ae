"""Native code shared by the fast path, the FE element kernel and compiled material libraries:
C compiler detection, the on-disk build cache and the worker-thread pool.

>>> from constitutive.native import compiler, compile_source
>>> compiler()                        # doctest: +SKIP
'/usr/bin/cc'
"""

from __future__ import annotations

from .compiler import FLAGS, cache_dir, compile_source, compiler, machine_tag
from .pool import run_split, worker_pool

__all__ = ["FLAGS", "cache_dir", "compile_source", "compiler", "machine_tag", "run_split",
           "worker_pool"]
