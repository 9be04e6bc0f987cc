"""Where CPU-heavy pure work runs.

In Lambda, inline: one invocation, one photo. In the local runtime, the Step Functions interpreter runs
our handlers on threads of one process, so Python-level work serialises on the GIL and native libraries
each start their own thread pools and oversubscribe the cores. `shoebox ingest` and backfill therefore
start a pool of single-threaded worker processes, one per core, and the heavy pure functions (render a
thumbnail, run the label and face models) go there; orchestration stays in the main process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from shoebox.config import setting

T = TypeVar("T")

_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _die_with_parent() -> None:
    """A worker must not outlive its parent (a kill -9 of the service would otherwise leave orphans of
    ~350 MB each): Linux delivers SIGKILL to it when the parent dies. It follows the parent *thread*
    that started the worker, so pools are started from threads that live as long as the process."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the executor's own shutdown still ends workers
        return
    if os.getppid() == 1:  # the parent died before the prctl
        os._exit(0)


def _init_worker() -> None:
    _die_with_parent()
    # photos are processed in the background of someone's machine: the commands they type (a search
    # during a long ingest) come first
    os.nice(10)
    # One busy thread per worker process: the pool itself provides the parallelism.
    os.environ["SHOEBOX_WORKER"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"


def _warm() -> None:
    import shoebox.imaging  # noqa: F401 - Pillow, pillow-heif and rawpy, loaded once per worker


def in_worker() -> bool:
    return setting("SHOEBOX_WORKER") == "1"


def start_pool(workers: int | None = None) -> None:
    """Start the worker processes (idempotent). Uses `spawn`: forking a process that runs moto's
    interpreter threads could copy held locks."""
    global _pool
    with _lock:
        if _pool is None:
            workers = workers or os.cpu_count() or 1
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker)
            # Start every worker now (the executor would only as work arrives): the import cost is paid
            # up front, and the processes are forked while this one is still small.
            for future in [_pool.submit(_warm) for _ in range(workers)]:
                future.result()


def stop_pool() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def pool_active() -> bool:
    return _pool is not None


def run(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker process when a pool is running, else inline. ``fn`` must be a
    module-level function and its arguments and result picklable; exceptions come back as raised."""
    pool = _pool
    if pool is None:
        return fn(*args, **kwargs)
    return pool.submit(fn, *args, **kwargs).result()
