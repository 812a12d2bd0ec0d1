"""Map a pure per-file function over many files: a local process pool or a Dask cluster.

A stage hands `map_files` two functions: an *initializer*, run once per worker, that builds
what every file needs (a separator, a transcriber, a role config and feature cache) and
returns it as the worker's state, and a per-file function ``fn(state, item)`` that reads
one input and returns its result without writing anything the run keeps. The results come
back to the caller in input order, whichever engine computed them, so the caller alone
writes the outputs, in the same order: a run gives the same bytes on either engine.

Engines (`EngineSettings.engine`):

* ``local``: ``workers`` spawned processes (`core.parallel.map_in_processes`), or this
  process for one worker.
* ``dask``: a ``distributed.Client`` on the scheduler at ``scheduler`` (or
  ``$DASK_SCHEDULER_ADDRESS``), else on a ``LocalCluster`` started for the call. Each worker
  builds its state on its first task and keeps it for the run (a per-worker cache), so
  models load once per worker, not once per file. Tasks that raise are retried `RETRIES`
  times; a worker that dies has its tasks (held results too) run again elsewhere by the
  scheduler. At most `window` tasks are in flight, so neither the scheduler nor the client
  holds a whole library's results at once.

Dask is imported only inside the dask engine (``pip install 'drumgenx[cluster]'``), so
importing this module, and ``drumgenx --help``, stays light.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import importlib.util
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from drumgenx.core.config import Given
from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.parallel import THREAD_VARIABLES, map_in_processes

__all__ = [
    "CLUSTER_EXTRA",
    "ENGINES",
    "RETRIES",
    "SCHEDULER_VARIABLE",
    "EngineSettings",
    "add_engine_arguments",
    "map_files",
]

S = TypeVar("S")  # a worker's state, built once per worker
T = TypeVar("T")
R = TypeVar("R")

ENGINES: tuple[str, ...] = ("local", "dask")
"""``--engine``'s choices."""
SCHEDULER_VARIABLE = "DASK_SCHEDULER_ADDRESS"
"""The scheduler address read when ``scheduler`` is not given (Dask's own name for it)."""
CLUSTER_EXTRA = "pip install 'drumgenx[cluster]'"
"""What installs the dask engine's dependencies."""
RETRIES = 2
"""Times a task that raised is run again. A task whose worker died is run again by the
scheduler regardless, up to Dask's ``distributed.scheduler.allowed-failures`` (3) deaths."""


@dataclass(frozen=True)
class EngineSettings:
    """Where a stage maps its per-file work; it changes speed only, never the outputs.

    Attributes
    ----------
    engine : str
        ``local`` (a process pool) or ``dask`` (a Dask cluster).
    scheduler : str or None
        ``dask``: the scheduler's address (``tcp://host:8786``); None: the
        ``DASK_SCHEDULER_ADDRESS`` environment variable, else a ``LocalCluster`` on this
        machine, started for the run.
    workers : int
        ``local``: processes (1: this process). ``dask`` without a scheduler: the
        ``LocalCluster``'s workers (1: one per core). A running cluster's size is its own.
    """

    engine: str = "local"
    scheduler: str | None = None
    workers: int = 1

    def validate(self) -> None:
        """Refuse a setting before any work starts (each error names its parameter)."""
        if self.workers < 1:
            raise ParameterError("workers", f"must be at least 1, got {self.workers}")
        if self.engine not in ENGINES:
            raise ParameterError("engine", f"must be {' or '.join(ENGINES)}, got {self.engine!r}")
        if self.engine == "local" and self.scheduler:
            raise ParameterError.about(
                "{0} is for the dask engine: add {1} dask", "scheduler", "engine"
            )
        if self.engine == "dask" and importlib.util.find_spec("distributed") is None:
            raise ParameterError("engine", f"dask needs the cluster extra: {CLUSTER_EXTRA}")


def add_engine_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--engine`` and ``--scheduler``: declared here once for every stage that maps files
    (``preprocess``, ``roles`` and ``run``)."""
    parser.add_argument(
        "--engine",
        action=Given,
        choices=ENGINES,
        default=EngineSettings.engine,
        help="where the per-file work runs: local (a process pool of --workers) or dask "
        f"(a Dask cluster; needs {CLUSTER_EXTRA}) (default: %(default)s)",
    )
    parser.add_argument(
        "--scheduler",
        action=Given,
        metavar="ADDRESS",
        help=f"--engine dask: the Dask scheduler's address, e.g. tcp://host:8786 (default: "
        f"${SCHEDULER_VARIABLE}, else a local cluster of --workers, or one per core)",
    )


def map_files(
    fn: Callable[[S, T], R],
    items: Sequence[T],
    *,
    initializer: Callable[..., S],
    initargs: tuple[Any, ...] = (),
    settings: EngineSettings = EngineSettings(),  # frozen: one shared default is safe
    chunksize: int = 1,
    notify: Callable[[str], None] | None = None,
) -> Iterator[R]:
    """``fn(state, item)`` for every item, in input order, on the engine ``settings`` names.

    Parameters
    ----------
    fn
        The per-file function: a module-level function (workers import it by name) that
        writes nothing the run keeps; its result travels back to the caller.
    items
        The inputs (paths, or small tuples holding them), each readable from every worker.
    initializer, initargs
        ``initializer(*initargs)`` builds a worker's state, once per worker.
    settings
        Which engine, where, how many workers (`EngineSettings`; validated by the caller).
    chunksize
        Items per message to a worker: more for inputs that take milliseconds each.
    notify
        Receives notices (the Dask dashboard's link) as single lines.

    Yields
    ------
    object
        ``fn``'s result for each item, in the order of ``items``. Close the iterator (or
        let the exception that stops the caller reach it) to cancel the work still queued.
    """
    if settings.engine == "dask":
        yield from _map_on_dask(
            fn, items, initializer=initializer, initargs=initargs, settings=settings,
            chunksize=chunksize, notify=notify or silent,
        )  # fmt: skip
    elif settings.workers == 1 or len(items) <= 1:
        state = initializer(*initargs)
        for item in items:
            yield fn(state, item)
    else:
        yield from map_in_processes(
            partial(_call_with_state, fn),
            items,
            workers=settings.workers,
            initializer=_keep_state,
            initargs=(initializer, initargs),
            chunksize=chunksize,
        )


# --- the local process pool: one state per process ---------------------------------------

_process_state: list[Any] = []  # this worker process's state (empty: not built)


def _keep_state(initializer: Callable[..., Any], initargs: tuple[Any, ...]) -> None:
    _process_state[:] = [initializer(*initargs)]


def _call_with_state(fn: Callable[[Any, T], R], item: T) -> R:
    return fn(_process_state[0], item)


# --- the dask engine ----------------------------------------------------------------------

# worker id -> {run token -> state}: several in-process workers may share this module.
_worker_states: dict[str, dict[str, Any]] = {}
_worker_states_lock = threading.Lock()


def _run_chunk(
    token: str,
    initializer: Callable[..., Any],
    initargs: tuple[Any, ...],
    fn: Callable[[Any, T], R],
    chunk: list[T],
) -> list[R]:
    """One task on a Dask worker: the worker's state for this run (built on its first
    task), then ``fn`` over the chunk."""
    from distributed import get_worker

    worker_id = get_worker().id
    with _worker_states_lock:  # a worker with several threads builds its state once
        states = _worker_states.setdefault(worker_id, {})
        if token not in states:
            states.clear()  # one run's models per worker: an earlier run's go
            states[token] = initializer(*initargs)
        state = states[token]
    return [fn(state, item) for item in chunk]


def _forget_state(token: str, dask_worker: Any = None) -> None:
    """Run on every worker at the end of a run: drop its state (its models)."""
    with _worker_states_lock:
        _worker_states.get(getattr(dask_worker, "id", ""), {}).pop(token, None)


def _map_on_dask(
    fn: Callable[[Any, T], R],
    items: Sequence[T],
    *,
    initializer: Callable[..., Any],
    initargs: tuple[Any, ...],
    settings: EngineSettings,
    chunksize: int,
    notify: Callable[[str], None],
) -> Iterator[R]:
    """`map_files` on a Dask cluster: the one given, or a ``LocalCluster`` for this call."""
    try:
        from distributed import Client
    except ImportError:  # EngineSettings.validate says so first; a direct caller learns here
        raise ParameterError("engine", f"dask needs the cluster extra: {CLUSTER_EXTRA}") from None
    address = settings.scheduler or os.environ.get(SCHEDULER_VARIABLE) or None
    with contextlib.ExitStack() as stack:
        if address:
            try:
                client = stack.enter_context(Client(address, set_as_default=False))
            except (OSError, TimeoutError) as exc:
                raise ParameterError("scheduler", f"cannot reach {address} ({exc})") from None
        else:
            cluster = stack.enter_context(_local_cluster(settings.workers))
            client = stack.enter_context(Client(cluster, set_as_default=False))
        link = _dashboard_link(client)
        if link:
            notify(f"Dask dashboard: {link}")
        token = uuid.uuid4().hex
        try:
            task = partial(_run_chunk, token, initializer, initargs, fn)
            name = f"{getattr(fn, '__name__', 'task').strip('_')}-{token}"
            yield from _in_order(client, task, items, name=name, chunksize=chunksize)
        finally:
            with contextlib.suppress(Exception):  # a worker gone or the client closing
                client.run(_forget_state, token)


def _local_cluster(workers: int) -> Any:  # -> distributed.LocalCluster
    """A cluster of processes on this machine: ``workers`` (1: one per core), one task
    thread each, their BLAS pools splitting the cores (as `map_in_processes`)."""
    from distributed import LocalCluster

    cores = os.cpu_count() or 1
    count = workers if workers > 1 else cores
    threads = str(max(1, cores // count))
    return LocalCluster(
        n_workers=count,
        threads_per_worker=1,
        processes=True,
        # set for every worker the nanny starts, a restarted one too
        env=dict.fromkeys(THREAD_VARIABLES, threads),
    )


def _dashboard_link(client: Any) -> str | None:
    """The scheduler's dashboard, when it serves one (it needs bokeh)."""
    with contextlib.suppress(Exception):
        if "dashboard" in client.scheduler_info().get("services", {}):
            return client.dashboard_link
    return None


def _in_order(
    client: Any,
    task: Callable[[list[T]], list[R]],
    items: Sequence[T],
    *,
    name: str,
    chunksize: int,
) -> Iterator[R]:
    """Submit the chunks of ``items`` a window at a time; yield their results in order.

    The window (4 tasks per worker thread, at least 16) keeps every worker busy while the
    client waits for the oldest task, and bounds what waits on the workers and the client.
    Anything that stops the iteration (an error, Ctrl-C, the caller closing it) cancels the
    tasks still in flight.
    """
    from distributed import KilledWorker

    chunks = enumerate(items[i : i + chunksize] for i in range(0, len(items), chunksize))
    threads = sum(client.nthreads().values())
    window = max(16, 4 * threads)
    pending: collections.deque[tuple[Any, Sequence[T]]] = collections.deque()

    def submit_next() -> None:
        index, chunk = next(chunks, (None, None))
        if chunk is not None:
            key = f"{name}-{index}"  # what the dashboard shows
            future = client.submit(task, list(chunk), key=key, retries=RETRIES, pure=False)
            pending.append((future, chunk))

    try:
        for _ in range(window):
            submit_next()
        while pending:
            future, chunk = pending[0]
            try:
                results = future.result()
            except KilledWorker as exc:
                raise DrumgenxError(
                    f"{', '.join(map(str, chunk))}: the Dask workers running it died "
                    f"repeatedly ({exc})"
                ) from None
            pending.popleft()
            future.release()
            submit_next()
            yield from results
    finally:
        if pending:
            client.cancel([future for future, _ in pending])
