"""Stage 1 on a Dask cluster (issue #17): the same library as the local engine, a bad file a
listed skip, the separator built once per worker, a worker killed mid-run, Ctrl-C.

Skipped only where the ``cluster`` extra (dask[distributed]) is not installed.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx.core.parallel import THREAD_VARIABLES
from drumgenx.kit.synth import synthesize_voice
from drumgenx.preprocess import run as preprocess_run
from drumgenx.preprocess.config import PreprocessConfig
from drumgenx.preprocess.run import run_preprocess
from drumgenx.preprocess.separation import SeparationParams

distributed = pytest.importorskip(
    "distributed",
    reason="the cluster extra is not installed (pip install -e '.[cluster]')",
)

NO_SEPARATION = PreprocessConfig(separation=SeparationParams(method="none"))
SR = 44100
VOICES = [["kick", "snare"], ["tom_low", "clap"], ["hat_open", "crash"], ["kick", "tom_mid"]]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """Four short loops, a file that is not audio inside, and a silent one."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i, voices in enumerate(VOICES):
        y = np.zeros(int(1.5 * SR), np.float32)
        for k, voice in enumerate(voices):
            hit = synthesize_voice(voice, sr=SR)[: int(0.45 * SR)]
            y[int((0.2 + 0.6 * k) * SR) :][: len(hit)] += 0.8 * hit
        soundfile.write(str(folder / f"{i}.wav"), y, SR)
    (folder / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    soundfile.write(str(folder / "silent.wav"), np.zeros(SR, np.float32), SR)
    return folder


def _library(folder: Path) -> dict[str, object]:
    """Every file of a library by name: WAV bytes, the manifest without its timing and
    its dataset path, the fingerprints' arrays."""
    out: dict[str, object] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".wav":
            out[path.name] = path.read_bytes()
        elif path.suffix == ".json":
            manifest = json.loads(path.read_text())
            del manifest["summary"]["seconds"]
            out[path.name] = manifest
        elif path.suffix == ".npz":
            with np.load(path) as data:
                out[path.name] = {k: data[k].tolist() for k in data.files}
        else:
            out[path.name] = "unexpected"  # a staging folder left behind
    return out


def test_dask_writes_the_same_library_as_local(
    dataset: Path, tmp_path: Path, scheduler: str, monkeypatch
) -> None:
    builds: list[SeparationParams] = []
    make_separator = preprocess_run.make_separator

    def counted(params, **kwargs):
        builds.append(params)
        return make_separator(params, **kwargs)

    monkeypatch.setattr(preprocess_run, "make_separator", counted)
    local = run_preprocess(dataset_root=dataset, output_root=tmp_path / "a", config=NO_SEPARATION)
    assert len(builds) == 1
    said: list[str] = []
    done: list[int] = []
    dask = run_preprocess(
        dataset_root=dataset,
        output_root=tmp_path / "b",
        config=NO_SEPARATION,
        engine="dask",
        scheduler=scheduler,
        notify=said.append,
        progress=lambda n, total, _: done.append(n),
    )
    # once per worker that took files (two at most), never once per file
    assert 1 + 1 <= len(builds) <= 1 + 2 < 1 + len(VOICES) + 2
    assert done == list(range(1, len(VOICES) + 3))  # every file read, in input order
    assert [p.name for p in dask.samples] == [p.name for p in local.samples]
    assert len(local.samples) >= 2 * len(VOICES) - 2  # hits, less the near-duplicates
    assert _library(tmp_path / "b") == _library(tmp_path / "a")
    skipped = {Path(r.source).name: r.reason for r in dask.reports if r.status == "skipped"}
    assert set(skipped) == {"broken.wav", "silent.wav"}  # a bad file on a worker: a skip
    assert any(m.startswith("Dask dashboard: http") for m in said)


def test_ctrl_c_cancels_the_work_and_writes_nothing(
    dataset: Path, tmp_path: Path, scheduler: str
) -> None:
    def interrupt(done: int, total: int, item: str) -> None:
        raise KeyboardInterrupt

    out = tmp_path / "library"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        run_preprocess(
            dataset_root=dataset,
            output_root=out,
            config=NO_SEPARATION,
            engine="dask",
            scheduler=scheduler,
            progress=interrupt,
        )
    assert list(out.iterdir()) == []  # no sample, no manifest, no staging folder
    with distributed.Client(scheduler) as client:  # and no task left running or queued
        assert not any(client.processing().values())
        assert not client.who_has()


def test_a_worker_killed_mid_run_loses_and_repeats_nothing(dataset: Path, tmp_path: Path) -> None:
    """Worker processes, one of them killed (SIGKILL) when the first file is in: its tasks,
    and the results it held, are computed again on the workers left (or its restart).

    Compared with two local processes: the workers' BLAS threads as theirs (the float32
    fingerprints' last bits depend on them; the WAVs and manifest do not)."""
    local = run_preprocess(
        dataset_root=dataset, output_root=tmp_path / "a", config=NO_SEPARATION, workers=2
    )
    blas = dict.fromkeys(THREAD_VARIABLES, str(max(1, (os.cpu_count() or 1) // 2)))
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", env=blas
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        pids = list(client.run(os.getpid).values())
        killed: list[int] = []

        def kill_one(done: int, total: int, item: str) -> None:
            if not killed:
                killed.append(pids[-1])
                os.kill(pids[-1], signal.SIGKILL)

        dask = run_preprocess(
            dataset_root=dataset,
            output_root=tmp_path / "b",
            config=NO_SEPARATION,
            engine="dask",
            scheduler=cluster.scheduler_address,
            progress=kill_one,
        )
        assert killed
    assert [p.name for p in dask.samples] == [p.name for p in local.samples]
    assert _library(tmp_path / "b") == _library(tmp_path / "a")
