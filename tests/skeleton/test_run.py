"""Stage 3 end to end: the seed's runner commands, files written, reproducibility, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from drumgenx.cli import main
from drumgenx.core.errors import MissingSamplesError
from drumgenx.core.formats import load_events, load_grid, read_json
from drumgenx.kit.synth import KIT_VOICES
from drumgenx.skeleton.patterns import SkeletonParams
from drumgenx.skeleton.run import random_pools, run_skeleton


@pytest.fixture
def workdir(tmp_path: Path, repo_root: Path) -> Path:
    """A working folder like a checkout: examples/ is the repo's bundled kit."""
    (tmp_path / "examples").symlink_to(repo_root / "examples")
    return tmp_path


def _run(workdir: Path, repo_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(repo_root / "src")}
    return subprocess.run(
        [sys.executable, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_three_documented_commands_work_verbatim(workdir: Path, repo_root: Path) -> None:
    runner = str(repo_root / "pipeline" / "run_grid_and_skeleton.py")
    first = _run(workdir, repo_root, runner, "--out_dir", "output/", "--bpm", "120")
    assert first.returncode == 0, first.stderr
    kit = _run(workdir, repo_root, "-m", "drumgenx", "kit", "--out_dir", "output/")
    assert kit.returncode == 0 and "synthesized" not in kit.stdout  # the kit is bundled
    second = _run(
        workdir, repo_root, runner, "--pools_json", "output/pools_1.json", "--out_dir",
        "output/", "--bpm", "140", "--bars", "8", "--seed", "42", "--motion_mode", "B",
        "--motion_keep", "6", "--fill_prob", "0.25", "--texture", "1",
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    third = _run(
        workdir, repo_root, runner, "--pools_json", "output/pools_1.json", "--out_dir",
        "output/", "--bpm", "120", "--sample_root", "dummy_dataset/",
    )  # fmt: skip
    assert third.returncode == 0, third.stderr
    out = workdir / "output"
    for n in (1, 2, 3):
        for name in (f"grid_{n}.json", f"event_grid_{n}.json", f"skeleton_meta_{n}.json"):
            assert (out / name).is_file()
        info = soundfile.info(str(out / f"render_{n}.wav"))
        assert info.subtype == "PCM_24" and info.samplerate == 44100 and info.frames > 0
    assert load_grid(out / "grid_2.json").num_bars == 8
    assert load_grid(out / "grid_2.json").bpm == 140


def test_outputs_are_valid_and_render_holds_the_loop(tmp_path: Path, repo_root: Path) -> None:
    from drumgenx.kit.run import write_kit_and_pools

    pools = write_kit_and_pools(kit_dir=repo_root / "examples/input_samples", out_dir=tmp_path)
    run = run_skeleton(out_dir=tmp_path, bpm=120, pools_json=pools.pools_path)
    grid = load_grid(run.paths["grid"])
    events = load_events(run.paths["event_grid"])
    meta = read_json(run.paths["skeleton_meta"], "skeleton_meta")
    assert meta["seed"] == 42 and meta["params"]["motion_keep"] == 6
    assert {i["sample_id"] for i in meta["chosen"]["CORE"]} == {"kick"}
    audio, sr = soundfile.read(str(run.paths["render"]))
    assert len(audio) >= grid.duration * sr
    assert 0.1 < abs(audio).max() <= 10 ** (-1 / 20) + 1e-6
    used = {e.sample_id for e in events}
    assert used <= {v.name for v in KIT_VOICES} and "kick" in used


def test_same_inputs_and_seed_give_byte_identical_json(tmp_path: Path, repo_root: Path) -> None:
    kwargs = dict(bpm=128, params=SkeletonParams(bars=8, seed=7), render=False)
    root = repo_root / "examples/input_samples"
    a = run_skeleton(out_dir=tmp_path / "a", sample_root=root, **kwargs)
    b = run_skeleton(out_dir=tmp_path / "b", sample_root=root, **kwargs)
    for family in ("grid", "event_grid", "skeleton_meta"):
        assert a.paths[family].read_bytes() == b.paths[family].read_bytes()
    c = run_skeleton(out_dir=tmp_path / "a", sample_root=root, **kwargs)
    assert (
        c.version == 2 and c.paths["event_grid"].read_bytes() == a.paths["event_grid"].read_bytes()
    )


def test_random_pools_deal_every_file_seeded(repo_root: Path) -> None:
    root = repo_root / "examples/input_samples"
    pools = random_pools(root, seed=1)
    ids = sorted(i.sample_id for items in pools.by_role.values() for i in items)
    assert ids == sorted(v.name for v in KIT_VOICES)
    assert all(pools.pool(role) for role in pools.by_role)
    assert random_pools(root, seed=1) == pools and random_pools(root, seed=2) != pools


def test_random_pools_with_fewer_files_than_roles(tmp_path: Path, repo_root: Path) -> None:
    (tmp_path / "only.wav").symlink_to(repo_root / "examples/input_samples/kick.wav")
    pools = random_pools(tmp_path, seed=0)
    assert all(pools.pool(r)[0].sample_id == "only" for r in pools.by_role)


def test_errors_are_one_line_exit_2_and_write_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    cases = [
        ["--bpm", "120", "--sample_root", str(tmp_path / "missing")],
        ["--bpm", "120", "--pools_json", str(tmp_path / "nope.json")],
        ["--bpm", "120", "--motion_keep", "9"],
        ["--bpm", "0"],
    ]
    for args in cases:
        assert main(["skeleton", "--out_dir", str(out), *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("drumgenx: error:") and err.count("\n") == 1, err
    assert not out.exists() or not list(out.iterdir())


def test_missing_sample_files_fail_listed_or_skip(tmp_path: Path, capsys) -> None:
    pools = {
        "CORE_POOL": [{"sample_id": "k", "filepath": "gone/kick.wav", "confidence": 1.0}],
        "ACCENT_POOL": [{"sample_id": "s", "filepath": "gone/snare.wav", "confidence": 1.0}],
        "MOTION_POOL": [],
        "FILL_POOL": [],
        "TEXTURE_POOL": [],
        "counts": {"CORE": 1, "ACCENT": 1},
    }
    path = tmp_path / "pools_1.json"
    path.write_text(json.dumps(pools))
    args = ["skeleton", "--out_dir", str(tmp_path / "o"), "--bpm", "100", "--pools_json", str(path)]
    args += ["--sample_root", str(tmp_path)]  # not the bundled kit, which has a kick.wav
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "2 sample(s) missing" in err and "k (file not found)" in err and "s (" in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())
    assert main([*args, "--skip_missing"]) == 0
    assert "skipped sample k" in capsys.readouterr().err


def test_skeleton_cli_swing_and_tails(tmp_path: Path, repo_root: Path, capsys) -> None:
    """By default the render is exactly one loop (tails wrapped); --tails keeps them after
    it; --loop, the flag from before wrapping was the default, is still accepted."""
    root = str(repo_root / "examples/input_samples")
    args = ["skeleton", "--out_dir", str(tmp_path), "--bpm", "90", "--sample_root", root]
    assert main([*args, "--swing", "0.33", "--bars", "2"]) == 0
    info = soundfile.info(str(tmp_path / "render_1.wav"))
    assert info.frames == 235200  # 2 bars at 90 bpm: 5.333 s, exactly one loop
    meta = read_json(tmp_path / "skeleton_meta_1.json", "skeleton_meta")
    assert meta["params"]["swing"] == 0.33 and meta["params"]["loop"] is True
    assert main([*args, "--swing", "0.33", "--bars", "2", "--tails"]) == 0
    assert soundfile.info(str(tmp_path / "render_2.wav")).frames >= 235200  # gated hits end
    assert read_json(tmp_path / "skeleton_meta_2.json", "skeleton_meta")["params"]["loop"] is False
    assert main([*args, "--bars", "2", "--loop"]) == 0
    assert soundfile.info(str(tmp_path / "render_3.wav")).frames == 235200


def test_notices_reach_notify_once_written_as_the_meta_keeps_them(
    tmp_path: Path, repo_root: Path, capsys
) -> None:
    """An empty pool is a notice: ``notify`` gets the lines ``skeleton_meta_N.json`` keeps,
    after the files are written (a run that fails tells nothing); the command line prints
    them before ``[DONE]``."""
    kick = str(repo_root / "examples/input_samples/kick.wav")
    pools = {f"{role}_POOL": [] for role in ("CORE", "ACCENT", "MOTION", "FILL", "TEXTURE")}
    pools["CORE_POOL"] = [{"sample_id": "k", "filepath": kick, "confidence": 1.0}]
    pools["counts"] = {"CORE": 1}
    path = tmp_path / "pools_1.json"
    path.write_text(json.dumps(pools))
    said: list[str] = []
    run = run_skeleton(
        out_dir=tmp_path / "o", bpm=100, pools_json=path, sample_root=None, notify=said.append
    )
    meta = read_json(run.paths["skeleton_meta"], "skeleton_meta")
    assert said == meta["notices"] and "ACCENT_POOL is empty" in said[0]
    assert not hasattr(run, "notices")
    pools["CORE_POOL"][0]["filepath"] = str(tmp_path / "gone.wav")
    gone = tmp_path / "pools_2.json"
    gone.write_text(json.dumps(pools))
    with pytest.raises(MissingSamplesError):  # the render fails: no notice is told
        run_skeleton(out_dir=tmp_path / "bad", bpm=100, pools_json=gone, notify=said.append)
    assert said == meta["notices"]
    args = ["skeleton", "--out_dir", str(tmp_path / "cli"), "--bpm", "100"]
    assert main([*args, "--pools_json", str(path), "--sample_root", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    assert printed.err.splitlines() == [f"drumgenx: notice: {line}" for line in said]
    assert printed.out.startswith("[DONE] grid & skeleton, version 1")
