"""Stage 2's fourth source: the transcriber's class probabilities from stage 1's manifest.

A one-shot whose manifest entry says "tom" leans to FILL; without class probabilities (no
manifest, or a flux run's manifest) every output is exactly what it was before.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from drumgenx.core.formats import read_json
from drumgenx.kit.synth import KIT_VOICES
from drumgenx.roles.run import run_roles

NO_CLAP = "no-such-org/no-such-clap"
VOICES = [voice.name for voice in KIT_VOICES]
TOM = {"kick": 0.04, "snare": 0.02, "hihat": 0.01, "tom": 0.96, "cymbal": 0.03}


@pytest.fixture
def library(tmp_path: Path, repo_root: Path) -> Path:
    """The bundled kit as stage 1 names its one-shots: dummy_00001.wav ... (voice order)."""
    folder = tmp_path / "library"
    folder.mkdir()
    for i, name in enumerate(VOICES, 1):
        shutil.copy(repo_root / "examples" / "input_samples" / f"{name}.wav", folder / _file(i))
    return folder


def _file(i: int) -> str:
    return f"dummy_{i:05d}.wav"


def _write_manifest(folder: Path, class_probs: dict[str, dict[str, float]], n: int = 1) -> Path:
    """A stage-1 manifest naming every one-shot; ``class_probs`` by voice where given."""
    samples = []
    for i, name in enumerate(VOICES, 1):
        sample = {
            "sample_id": _file(i)[:-4],
            "file": _file(i),
            "source": f"/music/{name}.wav",
            "source_sha256": "0" * 64,
            "start_s": 0.0,
            "end_s": 0.5,
            "onset_strength": 1.0,
            "onset_s": 0.005,
            "absorbed": [],
        }
        if name in class_probs:
            sample["class_probs"] = class_probs[name]
        samples.append(sample)
    manifest = {
        "drumgenx_version": "0.1.0",
        "dataset_root": "/music",
        "separator": "none",
        "config": {"onsets": {"method": "transcribe"}},
        "samples": samples,
        "files": [],
        "summary": {},
    }
    path = folder / f"manifest_{n}.json"
    path.write_text(json.dumps(manifest))
    read_json(path, "manifest")  # the test's manifest is a valid one
    return path


def _run(folder: Path, out: Path, said: list[str] | None = None):  # -> RolesRun
    notify = said.append if said is not None else lambda _: None
    return run_roles(input_dir=folder, out_dir=out, limit=0, clap_model=NO_CLAP, notify=notify)


def _by_voice(run) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    samples = read_json(run.per_sample_path, "per_sample")["samples"]
    return {VOICES[int(s["sample_id"].removeprefix("dummy_")) - 1]: s for s in samples}


def test_a_tom_reading_makes_an_ambiguous_hit_fill(library: Path, tmp_path: Path) -> None:
    before = _by_voice(_run(library, tmp_path / "before"))
    kick = before["kick"]
    assert kick["role"] == "CORE" and kick["p_fused"]["FILL"] > 0.05  # leans CORE, not only
    _write_manifest(library, {"kick": TOM})
    after = _by_voice(_run(library, tmp_path / "after"))
    assert after["kick"]["role"] == "FILL"
    assert after["kick"]["p_fused"]["FILL"] > kick["p_fused"]["FILL"] + 0.3
    assert after["kick"]["p_hits"]["FILL"] > 0.8
    weights = after["kick"]["weights"]
    assert set(weights) == {"rule", "clap", "model", "hits"}
    assert weights["hits"] > weights["model"] and sum(weights.values()) == pytest.approx(1.0)
    for voice in VOICES:  # the other one-shots had no class probabilities: untouched
        if voice != "kick":
            assert after[voice] == before[voice]


def test_without_class_probs_the_output_is_unchanged(library: Path, tmp_path: Path) -> None:
    """No manifest, a flux run's manifest (no class_probs), and transcriber_weight 0 with
    class probabilities: the same roles, probabilities and pools."""
    plain = _run(library, tmp_path / "plain")
    _write_manifest(library, {})
    flux = _run(library, tmp_path / "flux")
    assert plain.pools_path.read_bytes() == flux.pools_path.read_bytes()
    assert _by_voice(plain) == _by_voice(flux)
    assert all("p_hits" not in s and "hits" not in s["weights"] for s in _by_voice(flux).values())

    (library / "manifest_1.json").unlink()
    _write_manifest(library, dict.fromkeys(VOICES, TOM))
    config = tmp_path / "zero.yaml"
    config.write_text("fusion:\n  transcriber_weight: 0.0\n")
    zero = run_roles(
        input_dir=library,
        out_dir=tmp_path / "zero",
        limit=0,
        clap_model=NO_CLAP,
        config_path=config,
        notify=lambda _: None,
    )
    assert plain.pools_path.read_bytes() == zero.pools_path.read_bytes()
    for voice, record in _by_voice(zero).items():
        assert record["p_fused"] == _by_voice(plain)[voice]["p_fused"]
        assert record["weights"]["hits"] == 0.0


def test_a_broken_manifest_is_a_notice_and_the_run_goes_on(library: Path, tmp_path: Path) -> None:
    path = _write_manifest(library, {"kick": TOM})
    data = json.loads(path.read_text())
    data["samples"][0]["class_probs"]["tom"] = "high"
    path.write_text(json.dumps(data))
    said: list[str] = []
    run = _run(library, tmp_path / "out", said)
    assert len(run.scores) == len(VOICES)
    assert [m for m in said if "manifest_1.json: not a valid manifest file" in m]
    assert _by_voice(run)["kick"]["role"] == "CORE"  # as without the source


def test_the_guards_spare_the_role_the_transcriber_heard(library: Path, tmp_path: Path) -> None:
    """The kick one-shot has no highs, so a guard vetoes MOTION for it; heard as a hi-hat
    (a hat under a song's bass looks like that), it keeps MOTION and says why."""
    hat = {"kick": 0.03, "snare": 0.02, "hihat": 0.97, "tom": 0.01, "cymbal": 0.02}
    before = _by_voice(_run(library, tmp_path / "before"))["kick"]
    assert before["p_fused"]["MOTION"] == 0.0
    assert any(a.startswith("no_highs_not_motion: vetoed") for a in before["guard_actions"])
    _write_manifest(library, {"kick": hat})
    after = _by_voice(_run(library, tmp_path / "after"))["kick"]
    assert after["role"] == "MOTION"
    assert any(a.startswith("no_highs_not_motion: spared MOTION") for a in after["guard_actions"])
