"""Stage 2 on a Dask cluster (issue #17): the same pools and per-sample records as the local
engine, a bad file a listed skip, each worker's state built once, Ctrl-C.

Skipped only where the ``cluster`` extra (dask[distributed]) is not installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drumgenx.roles import run as roles_run
from drumgenx.roles.run import run_roles

distributed = pytest.importorskip(
    "distributed",
    reason="the cluster extra is not installed (pip install -e '.[cluster]')",
)

NO_CLAP = "no-such-org/no-such-clap"  # a hub name that is not in the local cache


@pytest.fixture
def kit_dir(tmp_path: Path, repo_root: Path) -> Path:
    """The bundled kit, four times over (40 one-shots), and one file that is not audio."""
    folder = tmp_path / "kit"
    for copy in range(4):
        shutil.copytree(repo_root / "examples" / "input_samples", folder / str(copy))
    (folder / "broken.wav").write_bytes(b"not a wav file")
    return folder


def _written(run: roles_run.RolesRun) -> tuple[str, dict]:
    per_sample = json.loads(run.per_sample_path.read_text())
    return run.pools_path.read_text(), per_sample


def test_dask_writes_the_same_pools_as_local(
    kit_dir: Path, tmp_path: Path, scheduler: str, monkeypatch
) -> None:
    states: list[roles_run._Worker] = []
    build = roles_run._Worker.__init__

    def counted(self, *args) -> None:  # on the class: tasks name it, never copy it
        states.append(self)
        build(self, *args)

    monkeypatch.setattr(roles_run._Worker, "__init__", counted)
    common = {"input_dir": kit_dir, "limit": 0, "clap_model": NO_CLAP}
    local = run_roles(out_dir=tmp_path / "a", **common)
    done: list[int] = []
    dask = run_roles(
        out_dir=tmp_path / "b",
        engine="dask",
        scheduler=scheduler,
        progress=lambda n, total, _: done.append(n),
        **common,
    )
    assert 1 + 1 <= len(states) <= 1 + 2  # once per worker that took files, not per file
    assert done == list(range(1, 42))  # every file, in input order
    assert _written(dask) == _written(local)
    assert dask.skipped == local.skipped and [Path(p).name for p, _ in dask.skipped] == [
        "broken.wav"
    ]


def test_ctrl_c_cancels_the_work_and_writes_nothing(
    kit_dir: Path, tmp_path: Path, scheduler: str
) -> None:
    def interrupt(done: int, total: int, item: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_roles(
            input_dir=kit_dir,
            out_dir=tmp_path / "out",
            limit=0,
            clap_model=NO_CLAP,
            engine="dask",
            scheduler=scheduler,
            progress=interrupt,
        )
    assert not list((tmp_path / "out").glob("*.json"))  # no pools, no per-sample records
    with distributed.Client(scheduler) as client:  # and no task left running or queued
        assert not any(client.processing().values())
        assert not client.who_has()
