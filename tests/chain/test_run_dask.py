"""``drumgenx run`` with stages 1 and 2 on a Dask cluster (issue #17): the engine changes
speed only, so it is in no stage's key and a local run reuses what a cluster run made.

Skipped only where the ``cluster`` extra (dask[distributed]) is not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drumgenx import cli
from drumgenx.chain.run import ChainParams, run_chain
from drumgenx.kit.run import write_kit

pytest.importorskip(
    "distributed",
    reason="the cluster extra is not installed (pip install -e '.[cluster]')",
)


def test_a_local_run_reuses_every_stage_a_cluster_run_made(tmp_path: Path, scheduler) -> None:
    write_kit(tmp_path / "in" / "kit")
    out = tmp_path / "out"
    on_dask = ChainParams(bars=1, engine="dask", scheduler=scheduler)
    said: list[str] = []
    first = run_chain(tmp_path / "in", out=out, params=on_dask, notify=said.append)
    assert not any(s.reused for s in first.stages) and first.wav.exists()
    assert sum(m.startswith("Dask dashboard") for m in said) == 2  # one per stage on it
    local = run_chain(tmp_path / "in", out=out, params=ChainParams(bars=1, workers=2))
    assert [s.reused for s in local.stages] == [True, True, True, True]


def test_a_scheduler_without_the_dask_engine_fails_before_any_stage(tmp_path: Path, capsys) -> None:
    write_kit(tmp_path / "in")
    argv = ["run", str(tmp_path / "in"), "--out", str(tmp_path / "out")]
    assert cli.main([*argv, "--scheduler", "tcp://head:8786"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--scheduler is for the dask engine: add --engine dask" in err
    assert not (tmp_path / "out").exists()
