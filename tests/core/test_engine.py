"""core.engine (issue #17): one map over files on a local process pool or a Dask cluster.

The tests needing Dask skip, saying why, only where the ``cluster`` extra is absent; the
stages' own tests on a cluster are tests/preprocess/test_run_dask.py and
tests/roles/test_run_dask.py.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from drumgenx.cli import main
from drumgenx.core.engine import CLUSTER_EXTRA, RETRIES, EngineSettings, map_files
from drumgenx.core.errors import ParameterError

NO_EXTRA = "the cluster extra is not installed (pip install -e '.[cluster]')"


@pytest.fixture(scope="module")
def scheduler() -> str:
    """A 2-worker cluster in this process (threads): starts in a second."""
    distributed = pytest.importorskip("distributed", reason=NO_EXTRA)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


class _State:
    """A worker's state: its identity says how often it was built."""


def _where(state: _State, item: int) -> tuple[int, int, str]:
    """The item squared, the state it saw and the worker (process) that computed it."""
    try:
        from distributed import get_worker

        worker = get_worker().id
    except (ImportError, ValueError):  # not on a Dask worker
        worker = str(os.getpid())
    return item * item, id(state), worker


def _fail_on_three(log: Path, item: int) -> int:
    with log.open("a") as handle:
        handle.write(f"{item}\n")
    if item == 3:
        raise RuntimeError("three is bad")
    return item


@pytest.mark.parametrize(
    ("settings", "parameter"),
    [
        (EngineSettings(workers=0), "workers"),
        (EngineSettings(engine="ray"), "engine"),
        (EngineSettings(scheduler="tcp://h:8786"), "scheduler"),
    ],
)
def test_bad_settings_name_their_parameter(settings: EngineSettings, parameter: str) -> None:
    with pytest.raises(ParameterError) as caught:
        settings.validate()
    assert caught.value.parameters[0] == parameter


def test_dask_without_the_extra_is_one_line_with_the_pip_command(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "distributed" else find_spec(name, *a),
    )
    assert main(["preprocess", "--dataset_root", str(tmp_path), "--engine", "dask"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "--engine" in error and CLUSTER_EXTRA in error, error


def test_local_results_come_in_order_with_one_state_per_process() -> None:
    items = list(range(12))
    for workers in (1, 2):
        out = list(
            map_files(_where, items, initializer=_State, settings=EngineSettings(workers=workers))
        )
        assert [r[0] for r in out] == [i * i for i in items]
        states = {worker: {state for _, state, w in out if w == worker} for *_, worker in out}
        assert all(len(ids) == 1 for ids in states.values()), states


def test_dask_results_come_in_order_with_one_state_per_worker(scheduler: str) -> None:
    items = list(range(40))
    said: list[str] = []
    out = list(
        map_files(
            _where, items, initializer=_State, settings=EngineSettings("dask", scheduler),
            chunksize=3, notify=said.append,
        )
    )  # fmt: skip
    assert [r[0] for r in out] == [i * i for i in items]
    by_worker: dict[str, set[int]] = {}
    for _, state, worker in out:
        by_worker.setdefault(worker, set()).add(state)
    assert len(by_worker) == 2 and all(len(ids) == 1 for ids in by_worker.values()), by_worker
    assert said and said[0].startswith("Dask dashboard: http")


def test_the_scheduler_variable_is_read(scheduler: str, monkeypatch) -> None:
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", scheduler)
    out = list(map_files(_where, [1, 2, 3], initializer=_State, settings=EngineSettings("dask")))
    assert all(worker.startswith("Worker-") for *_, worker in out)  # the fixture's workers


def test_a_task_that_raises_is_retried_then_raised(scheduler: str, tmp_path: Path) -> None:
    log = tmp_path / "attempts.txt"
    with pytest.raises(RuntimeError, match="three is bad"):
        list(
            map_files(
                _fail_on_three,
                [1, 2, 3],
                initializer=lambda: log,
                settings=EngineSettings("dask", scheduler),
            )
        )
    assert log.read_text().split().count("3") == 1 + RETRIES


def test_dask_without_a_scheduler_starts_a_local_cluster(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason=NO_EXTRA)
    settings = EngineSettings("dask", workers=2)
    out = list(map_files(_where, [1, 2, 3, 4], initializer=_State, settings=settings))
    assert [r[0] for r in out] == [1, 4, 9, 16]
