"""How many BLAS threads a question may use.

A question's work is small matrix products (the answer model, the query embedding). With NumPy's default
of one BLAS thread per core, those threads spin waiting for each other whenever another process holds a
core, and `ask` on a shared 2-core server took twice as long (p95 411 ms busy vs 174 ms idle); on one
thread it is the same busy or idle (233 vs 218 ms). So the query path runs on `QUERY_THREADS` BLAS
threads, limited only while a question is answered: indexing in the same process keeps every core.
"""
from __future__ import annotations

import contextlib

QUERY_THREADS = 1


def query_threads(threads: int | None = QUERY_THREADS):
    """A context in which the BLAS libraries loaded so far use at most `threads` threads (None: as they
    are). Looked up on each call (~0.7 ms), so a library loaded after the first question is limited too."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")
