"""Stage 2 end to end: --limit, outputs against their schemas, no-CLAP path, bad files, CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx.cli import main
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import load_pools, read_json
from drumgenx.kit.synth import KIT_VOICES
from drumgenx.roles.run import choose_files, run_roles

EXPECTED = {voice.name: voice.role for voice in KIT_VOICES}
NO_CLAP = "no-such-org/no-such-clap"  # a hub name that is not in the local cache


@pytest.fixture
def kit_dir(tmp_path: Path, repo_root: Path) -> Path:
    folder = tmp_path / "kit"
    shutil.copytree(repo_root / "examples" / "input_samples", folder)
    return folder


def test_limit_semantics() -> None:
    files = [Path(f"{i:02d}.wav") for i in range(30)]
    ten = choose_files(files, limit=10, seed=42)
    assert len(ten) == 10 and ten == sorted(ten) and ten == choose_files(files, limit=10, seed=42)
    assert ten != choose_files(files, limit=10, seed=7)
    assert choose_files(files, limit=0, seed=1) == files
    assert choose_files(files, limit=99, seed=1) == files


def test_bundled_kit_gets_its_roles_without_clap(kit_dir: Path, tmp_path: Path) -> None:
    said: list[str] = []
    run = run_roles(
        input_dir=kit_dir, out_dir=tmp_path / "out", limit=0, clap_model=NO_CLAP, notify=said.append
    )
    assert len([m for m in said if "CLAP" in m]) == 1  # one notice, not one per file
    roles = {s.sample_id: s.role for s in run.scores}
    assert roles == EXPECTED
    pools = load_pools(run.pools_path)  # schema-checked
    for role in EXPECTED.values():
        confidences = [item.confidence for item in pools.pool(role)]
        assert confidences == sorted(confidences, reverse=True)
    per_sample = read_json(run.per_sample_path, "per_sample")
    assert run.pools_path.name == "pools_1.json" and run.per_sample_path.name == "per_sample_1.json"
    record = per_sample["samples"][0]
    assert record["p_clap"] is None and record["weights"]["clap"] == 0.0
    assert len(record["features"]) == 11
    assert set(record) >= {"p_rule", "p_model", "p_fused", "guard_actions", "role", "confidence"}


def test_unreadable_files_are_reported_and_skipped(kit_dir: Path, tmp_path: Path) -> None:
    (kit_dir / "broken.wav").write_text("not audio")
    run = run_roles(
        input_dir=kit_dir,
        out_dir=tmp_path / "o",
        limit=0,
        clap_model=NO_CLAP,
        notify=lambda m: None,
    )
    assert [Path(p).name for p, _ in run.skipped] == ["broken.wav"]
    assert len(run.scores) == len(EXPECTED)


def _outputs(run) -> tuple[dict, list]:  # type: ignore[no-untyped-def]
    per_sample = read_json(run.per_sample_path, "per_sample")
    return read_json(run.pools_path, "pools"), per_sample["samples"]


def test_workers_and_cache_give_the_same_output(kit_dir: Path, tmp_path: Path) -> None:
    common = {"input_dir": kit_dir, "limit": 0, "clap_model": NO_CLAP, "notify": lambda m: None}
    one = run_roles(out_dir=tmp_path / "one", workers=1, **common)
    two = run_roles(out_dir=tmp_path / "two", workers=2, **common)
    cached = run_roles(out_dir=tmp_path / "one", workers=1, **common)  # every file a cache hit
    assert cached.pools_path.name == "pools_2.json"  # a new version, the first one kept
    assert _outputs(one) == _outputs(two) == _outputs(cached)
    with pytest.raises(DrumgenxError, match=r"^workers must be at least 1, got 0$"):
        run_roles(out_dir=tmp_path / "bad", workers=0, **common)


def test_silent_files_are_a_listed_skip(kit_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    soundfile.write(folder / "silence.wav", np.zeros(22050, np.float32), 22050)
    shutil.copy(kit_dir / "kick.wav", folder / "kick.wav")
    result = run_roles(input_dir=folder, out_dir=tmp_path / "out", limit=0, clap_model=NO_CLAP)
    assert [s.sample_id for s in result.scores] == ["kick"]
    assert result.skipped == [(str(folder / "silence.wav"), "silent (peak below -60 dBFS)")]


def test_non_finite_samples_are_a_listed_skip(kit_dir: Path, tmp_path: Path) -> None:
    y = np.zeros(4410, dtype=np.float32)
    y[100] = np.nan
    soundfile.write(kit_dir / "nan.wav", y, 44100, subtype="FLOAT")
    run = run_roles(
        input_dir=kit_dir, out_dir=tmp_path / "o", limit=0, clap_model=NO_CLAP, notify=print
    )
    assert [(Path(p).name, "NaN" in why) for p, why in run.skipped] == [("nan.wav", True)]


def test_cli_and_runner(kit_dir: Path, tmp_path: Path, repo_root: Path, capsys) -> None:
    args = ["roles", "--input_dir", str(kit_dir), "--out_dir", str(tmp_path / "o")]
    assert main([*args, "--limit", "3", "--clap_model", NO_CLAP]) == 0
    out, err = capsys.readouterr()
    assert "roles for 3 one-shots" in out and "pools_1.json" in out
    assert "point --clap_model at" in err  # the CLAP notice names the flag
    assert main([*args, "--alpha", "1.5"]) == 2
    assert "--alpha" in capsys.readouterr().err
    assert main(["roles", "--input_dir", str(tmp_path / "nope"), "--out_dir", str(tmp_path)]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("fusion:\n  alpah: 0.5\n")
    assert main([*args, "--config", str(bad)]) == 2
    assert "alpah" in capsys.readouterr().err
    runner = subprocess.run(
        [sys.executable, str(repo_root / "pipeline/run_role_assignment.py"), "--input_dir",
         str(kit_dir), "--out_dir", str(tmp_path / "r"), "--clap_model", NO_CLAP],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert runner.returncode == 0, runner.stderr
    assert (tmp_path / "r" / "pools_1.json").is_file()


def test_stale_learned_weights_are_one_clear_error(
    kit_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    from drumgenx.roles import learned

    stale = tmp_path / "stale.npz"
    stale.write_bytes(b"not an npz")
    monkeypatch.setattr(learned, "DEFAULT_WEIGHTS", stale)
    learned._load_default.cache_clear()
    try:
        with pytest.raises(DrumgenxError, match="learned role scorer"):
            run_roles(input_dir=kit_dir, out_dir=tmp_path / "o", clap_model=NO_CLAP)
    finally:
        learned._load_default.cache_clear()
    assert not (tmp_path / "o" / "pools_1.json").exists()


def test_a_sound_the_learned_scorer_cannot_read_is_cached_too(tmp_path: Path, monkeypatch) -> None:
    import drumgenx.roles.learned as learned
    from drumgenx.roles import run as roles_run
    from drumgenx.roles.features import FeatureCache
    from drumgenx.roles.rules import load_role_config

    def cannot_read(*_, **__):
        raise ValueError("audio is too short to analyse")

    monkeypatch.setattr(learned, "role_features", cannot_read)
    path = tmp_path / "tick.wav"
    soundfile.write(path, np.full(8, 0.5, dtype=np.float32), 22050)
    config = load_role_config(None)
    cache = FeatureCache(tmp_path / "cache", params=config.features, tag="t")
    features, learned_input = roles_run.analyse_file(
        path, config=config, cache=cache, use_model=True
    )
    assert learned_input is not None and learned_input.size == 0
    monkeypatch.setattr(roles_run, "read_audio", lambda *a, **k: pytest.fail("decoded again"))
    again = roles_run.analyse_file(path, config=config, cache=cache, use_model=True)
    assert again[0] == features and again[1] is not None and again[1].size == 0


def test_unsure_samples_are_marked_and_pooled_last(kit_dir: Path, tmp_path: Path) -> None:
    first = run_roles(input_dir=kit_dir, out_dir=tmp_path / "a", limit=0, clap_model=NO_CLAP)
    confidences = sorted(s.confidence for s in first.scores)
    threshold = (confidences[len(confidences) // 2 - 1] + confidences[len(confidences) // 2]) / 2
    run = run_roles(
        input_dir=kit_dir,
        out_dir=tmp_path / "b",
        limit=0,
        clap_model=NO_CLAP,
        unsure_below=threshold,
    )
    per_sample = read_json(run.per_sample_path, "per_sample")  # schema-checked
    marks = {r["sample_id"]: r["unsure"] for r in per_sample["samples"]}
    assert marks == {r["sample_id"]: r["confidence"] < threshold for r in per_sample["samples"]}
    assert 0 < sum(marks.values()) < len(marks)
    assert per_sample["config"]["unsure_below"] == threshold
    pools = load_pools(run.pools_path)
    for role in set(EXPECTED.values()):
        flags = [item.unsure for item in pools.pool(role)]
        assert flags == sorted(flags)  # every sure sample before every unsure one
        assert all(item.unsure == marks[item.sample_id] for item in pools.pool(role))
    # the threshold only marks: roles and confidences are those of the default run
    assert [(s.role, s.confidence) for s in run.scores] == [
        (s.role, s.confidence) for s in first.scores
    ]
    with pytest.raises(Exception, match="unsure_below"):
        run_roles(input_dir=kit_dir, out_dir=tmp_path / "c", clap_model=NO_CLAP, unsure_below=2)


def test_per_sample_files_without_unsure_still_load(kit_dir: Path, tmp_path: Path) -> None:
    import json

    run = run_roles(input_dir=kit_dir, out_dir=tmp_path, limit=2, clap_model=NO_CLAP)
    data = json.loads(run.per_sample_path.read_text())
    for record in data["samples"]:
        del record["unsure"]  # as written before issue #15
    old = tmp_path / "per_sample_9.json"
    old.write_text(json.dumps(data))
    assert len(read_json(old, "per_sample")["samples"]) == 2
