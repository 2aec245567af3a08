"""How many BLAS threads a question may use.

A question's work is small matrix products (the answer model, the query embedding). With NumPy's default
of one BLAS thread per core, those threads spin waiting for each other whenever another process holds a
core, and `ask` on a shared 2-core server took twice as long (p95 411 ms busy vs 174 ms idle); on one
thread it is the same busy or idle (233 vs 218 ms). So the query path runs on `QUERY_THREADS` BLAS
threads, limited only while a question is answered: indexing in the same process keeps every core.
"""
from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

QUERY_THREADS = 1
# Threads one question's independent pieces run on: FAISS scans and the answer model's products release the
# GIL, so two cores halve them, each on one BLAS thread (more than the cores would only take turns).
WORKERS = min(2, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def query_threads(threads: int | None = QUERY_THREADS):
    """A context in which the BLAS libraries loaded so far use at most `threads` threads (None: as they
    are). Looked up on each call (~0.7 ms), so a library loaded after the first question is limited too."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")


def worker_pool() -> ThreadPoolExecutor:
    """The process's pool of WORKERS threads for a question's pieces (made on first use). A piece must not wait
    on another piece of the pool: with every worker waiting, none would be left to run it."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="qa-worker")
        return _pool
