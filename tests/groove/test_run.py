"""Stage 4 on disk: `run_groove`, `drumgenx groove`, the seed's runner, `drumgenx train-groovae`.

A deterministic stand-in replaces the model (passed as ``model=``, or put in place of
`drumgenx.groove.model` for the command line), so no trained weights are needed.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import types
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf

import drumgenx
from drumgenx.cli import main
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import load_events
from drumgenx.groove.run import run_groove
from drumgenx.kit.run import write_kit_and_pools
from drumgenx.skeleton.patterns import SkeletonParams
from drumgenx.skeleton.run import run_skeleton

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "pipeline" / "run_model_groovae.py"


class FakeModel:
    """humanize: timing from the step; vary: seeded coin flips that add and remove hits."""

    def humanize(self, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.arange(hits.shape[1])[None, :, None]
        return 0.6 + 0.3 * np.sin(t + hits.sum()) * hits, 0.2 * np.cos(t) * hits

    def vary(self, hits, velocities, offsets, *, temperature, seed):
        rng = np.random.default_rng(seed)
        flip = rng.random(hits.shape) < 0.2 * temperature
        return np.where(flip, 1 - hits, hits), rng.random(hits.shape), rng.random(hits.shape) - 0.5


@pytest.fixture
def fake_model_module(monkeypatch) -> type:
    """`drumgenx.groove.model` replaced by a module whose GrooveModel.load gives a FakeModel."""

    class GrooveModel:
        loads: ClassVar[list[tuple[Path | None, str]]] = []

        @classmethod
        def load(cls, model_dir: Path | None = None, *, task: str = "humanize", device=None):
            cls.loads.append((model_dir, task))
            return FakeModel()

    module = types.ModuleType("drumgenx.groove.model")
    module.GrooveModel = GrooveModel
    monkeypatch.setitem(sys.modules, "drumgenx.groove.model", module)
    return GrooveModel


@pytest.fixture
def stage3(tmp_path: Path) -> dict[str, Path]:
    """A 3-bar skeleton (odd bar count, a fill, the texture bed) on the bundled kit."""
    kit = write_kit_and_pools(kit_dir=REPO / "examples" / "input_samples", out_dir=tmp_path)
    run = run_skeleton(
        out_dir=tmp_path,
        bpm=110,
        pools_json=kit.pools_path,
        params=SkeletonParams(bars=3, fill_prob=1.0),
        render=False,
        sample_root=None,
    )
    return {
        "grid_json": run.paths["grid"],
        "events_json": run.paths["event_grid"],
        "pools_json": kit.pools_path,
    }


def listing(folder: Path) -> set[str]:
    """Every name in the folder, hidden ones included (temporary files, reservations)."""
    return set(os.listdir(folder)) if folder.exists() else set()


def test_humanize_writes_events_and_render_under_one_new_n(stage3, tmp_path: Path) -> None:
    before = listing(tmp_path)
    steps = []
    result = run_groove(
        **stage3,
        out_dir=tmp_path,
        render=True,
        model=FakeModel(),
        progress=lambda done, total, what: steps.append((done, total, what)),
    )
    assert listing(tmp_path) - before == {"event_grid_groovae_1.json", "render_groovae_1.wav"}
    assert result.version == 1 and result.events_path.name == "event_grid_groovae_1.json"
    assert [what for _, _, what in steps] == ["inputs", "model", "humanize", "render", "write"]
    assert [(done, total) for done, total, _ in steps] == [(n, 5) for n in range(1, 6)]
    source, grooved = load_events(stage3["events_json"]), load_events(result.events_path)
    assert [(e.bar, e.step, e.role, e.sample_id) for e in grooved] == [
        (e.bar, e.step, e.role, e.sample_id) for e in source
    ]
    assert {e.source for e in grooved} == {"groovae"}
    assert any(e.micro_offset_ms != 0 for e in grooved)
    info = sf.info(str(result.render_path))
    assert info.subtype == "PCM_24" and info.samplerate == 44100 and info.frames > 0


def test_played_hits_are_kept_unless_replace_is_asked(stage3, tmp_path: Path) -> None:
    events = json.loads(stage3["events_json"].read_text())
    for e in events[::2]:  # as stage 3 marks an input's own hits
        e.update(source="played", vel=0.37, micro_offset_ms=-4.5)
    played_path = tmp_path / "played.json"
    played_path.write_text(json.dumps(events))
    inputs = {**stage3, "events_json": played_path}
    said: list[str] = []
    kept = run_groove(**inputs, out_dir=tmp_path / "k", model=FakeModel(), notify=said.append)
    grooved = load_events(kept.events_path)
    played = [e for e in load_events(played_path) if e.source == "played"]
    assert [e for e in grooved if e.source == "played"] == played
    assert {e.source for e in grooved} == {"played", "groovae"}
    assert [m for m in said if "played with" in m] == [
        f"{len(played)} hit(s) keep the velocity and micro-timing they were played with (the "
        "input's own pattern, or a GMD drummer's); --played replace gives them the model's"
    ]
    said.clear()
    out = run_groove(
        **inputs, out_dir=tmp_path / "r", model=FakeModel(), played="replace", notify=said.append
    )
    assert {e.source for e in load_events(out.events_path)} == {"groovae"} and not said
    with pytest.raises(DrumgenxError, match="played must be keep or replace"):
        run_groove(**inputs, out_dir=tmp_path / "x", model=FakeModel(), played="blend")
    assert not (tmp_path / "x").exists()


def test_same_seed_gives_byte_identical_files_and_nothing_is_overwritten(
    stage3, tmp_path: Path
) -> None:
    def vary(seed: int):
        return run_groove(
            **stage3, out_dir=tmp_path / "out", mode="vary", seed=seed, model=FakeModel()
        )

    first = vary(7)
    data = first.events_path.read_bytes()
    second = vary(7)
    assert second.version == 2 and second.events_path.read_bytes() == data
    assert first.events_path.read_bytes() == data  # the first file is untouched
    assert vary(8).events_path.read_bytes() != data
    assert first.added > 0 and first.removed > 0


def _bad_events(path: Path, stage3) -> dict[str, Path]:
    events = json.loads(stage3["events_json"].read_text())
    events[1]["role"] = "COWBELL"
    path.write_text(json.dumps(events))
    return {**stage3, "events_json": path}


def _other_grid(path: Path, stage3) -> dict[str, Path]:
    grid = json.loads(stage3["grid_json"].read_text())
    grid.update(num_bars=2, bar_start=grid["bar_start"][:2], t_step=grid["t_step"][:32])
    path.write_text(json.dumps(grid))
    return {**stage3, "grid_json": path}


@pytest.mark.parametrize(
    ("make_inputs", "options", "message"),
    [
        (_other_grid, {}, "but the grid has 2 bars"),
        (_bad_events, {}, "not a valid event_grid file: field '[1].role'"),
        (lambda p, s: {**s, "pools_json": p}, {}, "pools.json: no such file"),
        (lambda p, s: {**s, "events_json": s["grid_json"]}, {}, "(it looks like a grid file)"),
        (lambda p, s: s, {"mode": "shuffle"}, "mode must be humanize or vary"),
        (lambda p, s: s, {"temperature": -0.1}, "temperature must be a number >= 0"),
        (lambda p, s: s, {"temperature": float("nan")}, "temperature must be a number >= 0"),
    ],
)
def test_bad_inputs_are_one_clear_error_and_write_nothing(
    stage3, tmp_path: Path, make_inputs, options, message
) -> None:
    (tmp_path / "bad").mkdir()
    inputs = make_inputs(tmp_path / "bad" / "pools.json", stage3)  # a file name to write or miss
    out = tmp_path / "out"
    with pytest.raises(DrumgenxError) as error:
        run_groove(**inputs, out_dir=out, render=True, model=FakeModel(), **options)
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not out.exists()


def tiny_model_dir(folder: Path, task: str) -> Path:
    """An untrained GrooVAE, a few thousand weights, saved as `train_groovae` saves one."""
    import torch

    from drumgenx.groove import model

    config = model.GrooVAEConfig(task=task, enc_rnn_size=16, dec_rnn_size=(16,), z_size=8)
    torch.manual_seed(0)
    folder.mkdir()
    torch.save(model.GrooVAE(config).state_dict(), folder / model.MODEL_FILE)
    info = {"format": model.FORMAT, "format_version": model.FORMAT_VERSION}
    (folder / model.CONFIG_FILE).write_text(json.dumps({**info, "config": config.to_dict()}))
    return folder


def test_the_real_model_loads_from_model_dir_and_runs_both_modes(
    stage3, tmp_path: Path, one_torch_thread
) -> None:
    source = load_events(stage3["events_json"])
    humanize = tiny_model_dir(tmp_path / "humanize", "humanize")
    result = run_groove(**stage3, out_dir=tmp_path / "out", model_dir=humanize)
    grooved = load_events(result.events_path)
    assert [(e.bar, e.step, e.sample_id) for e in grooved] == [
        (e.bar, e.step, e.sample_id) for e in source
    ]
    vary = tiny_model_dir(tmp_path / "vary", "vary")
    runs = [
        run_groove(**stage3, out_dir=tmp_path / "out", mode="vary", model_dir=vary, seed=1)
        for _ in range(2)
    ]
    assert runs[0].events_path.read_bytes() == runs[1].events_path.read_bytes()
    with pytest.raises(DrumgenxError, match="holds a GrooVAE vary model, not humanize"):
        run_groove(**stage3, out_dir=tmp_path / "out", model_dir=vary)
    assert listing(tmp_path / "out") == {f"event_grid_groovae_{n}.json" for n in (1, 2, 3)}


def test_a_missing_or_corrupt_model_is_a_clear_error_and_writes_nothing(
    stage3, tmp_path: Path, one_torch_thread
) -> None:
    corrupt = tiny_model_dir(tmp_path / "corrupt", "humanize")
    (corrupt / "model.pt").write_bytes(b"not a checkpoint")
    bad_config = tiny_model_dir(tmp_path / "bad_config", "humanize")
    (bad_config / "config.json").write_text("{")
    (tmp_path / "empty").mkdir()
    out = tmp_path / "out"
    for model_dir in (tmp_path / "nowhere", tmp_path / "empty", corrupt, bad_config):
        with pytest.raises(DrumgenxError) as error:
            run_groove(**stage3, out_dir=out, model_dir=model_dir)
        assert str(model_dir) in str(error.value) and "\n" not in str(error.value)
    assert not out.exists()


def _flags(stage3, out_dir: Path) -> list[str]:
    return [
        *("--grid_json", str(stage3["grid_json"]), "--events_json", str(stage3["events_json"])),
        *("--pools_json", str(stage3["pools_json"]), "--out_dir", str(out_dir)),
    ]


def test_cli_groove_runs_the_model_for_the_mode(
    stage3, tmp_path: Path, fake_model_module, capsys
) -> None:
    out = tmp_path / "out"
    argv = ["groove", *_flags(stage3, out), "--mode", "vary", "--seed", "3", "--model", "m"]
    assert main([*argv, "--temperature", "0.9", "--render", "--loop"]) == 0
    assert fake_model_module.loads == [(Path("m"), "vary")]
    printed = capsys.readouterr()
    assert "[DONE] groove (vary), version 1: " in printed.out and "hits added" in printed.out
    assert str(out / "render_groovae_1.wav") in printed.out
    assert main(["groove", *_flags(stage3, out)]) == 0  # humanize: the humanizer, numpy
    assert fake_model_module.loads == [(Path("m"), "vary")]
    assert (out / "event_grid_groovae_2.json").is_file()
    groovae = tmp_path / "groovae"
    groovae.mkdir()
    (groovae / "model.pt").write_bytes(b"")  # a GrooVAE folder: loaded as one
    assert main(["groove", *_flags(stage3, out), "--model", str(groovae)]) == 0
    assert fake_model_module.loads[-1] == (groovae, "humanize")


def test_cli_errors_are_one_line_and_exit_2(stage3, tmp_path: Path, capsys) -> None:
    pytest.importorskip("torch")
    out = tmp_path / "out"
    flags = _flags(stage3, out)
    no_model = ["groove", *flags, "--model", str(tmp_path / "no_model")]
    flags[flags.index("--pools_json") + 1] = str(tmp_path / "nope.json")
    for argv, name in ((["groove", *flags], "nope.json"), (no_model, "no_model")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("drumgenx: error: ") and err.count("\n") == 1 and name in err
    assert not out.exists()


def test_the_seed_runner_takes_the_documented_flags(
    stage3, tmp_path: Path, fake_model_module, monkeypatch, capsys
) -> None:
    helped = subprocess.run(
        [sys.executable, str(RUNNER), "--help"], capture_output=True, text=True, check=True
    )
    for flag in (
        *("--grid_json", "--events_json", "--pools_json", "--out_dir", "--render"),
        *("--sample_root", "--seed", "--mode", "--temperature", "--model"),
    ):
        assert flag in helped.stdout
    bad = _flags(stage3, tmp_path / "o1")
    bad[bad.index("--grid_json") + 1] = str(tmp_path / "missing.json")
    failed = subprocess.run([sys.executable, str(RUNNER), *bad], capture_output=True, text=True)
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1, failed.stderr
    assert not (tmp_path / "o1").exists()

    out = tmp_path / "o2"
    root = REPO / "examples" / "input_samples"
    argv = [*_flags(stage3, out), "--render", "--sample_root", str(root), "--seed", "123"]
    monkeypatch.setattr(sys, "argv", [str(RUNNER), *argv])
    monkeypatch.syspath_prepend(str(RUNNER.parent))
    with pytest.raises(SystemExit) as exit_status:
        runpy.run_path(str(RUNNER), run_name="__main__")
    assert exit_status.value.code == 0, capsys.readouterr().err
    assert listing(out) == {"event_grid_groovae_1.json", "render_groovae_1.wav"}


def test_train_groovae_is_a_deprecated_alias_of_train_groove(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    pytest.importorskip("torch")
    from drumgenx.training import groove as trainer
    from drumgenx.training.settings import GrooveTrainSettings

    calls: list[dict] = []

    def train_groovae(**kwargs) -> None:
        calls.append(kwargs)
        for event in ("data", "update", "validation", "done"):
            kwargs["progress"]({"event": event, "epoch": 1})

    monkeypatch.setattr(trainer, "train_groovae", train_groovae)
    monkeypatch.chdir(tmp_path)
    assert main(["train-groovae", "--gmd", "gmd", "--task", "vary", "--epochs", "2"]) == 0
    (tmp_path / "output" / "groovae_vary" / "run_1").mkdir(parents=True)
    assert main(["train", "groove", "--gmd", "gmd", "--task", "vary", "--seed", "5"]) == 0
    assert main(["train", "groove", "--gmd", "g", "--task", "humanize", "--out", "m"]) == 0
    for call in calls:
        del call["progress"]
    common = {"config": None, "overwrite": False}
    assert calls == [
        dict(gmd_root=Path("gmd"), task="vary", out_dir=Path("output/groovae_vary/run_1"),
             settings=GrooveTrainSettings(epochs=2), **common),
        dict(gmd_root=Path("gmd"), task="vary", out_dir=Path("output/groovae_vary/run_2"),
             settings=GrooveTrainSettings(seed=5), **common),
        dict(gmd_root=Path("g"), task="humanize", out_dir=Path("m"),
             settings=GrooveTrainSettings(), **common),  # the shipped weights' seed 0
    ]  # fmt: skip
    shown = capsys.readouterr()
    assert shown.err.count("train groove: validation epoch=1\n") == 3 and "update" not in shown.err
    assert shown.err.count("train-groovae is deprecated; use drumgenx train groove") == 1
    assert "[DONE] GrooVAE (vary) trained: output/groovae_vary/run_2" in shown.out
    assert main(["train", "groove", "--gmd", "g", "--task", "vary", "--epochs", "0"]) == 2
    assert "--epochs must be at least 1, got 0" in capsys.readouterr().err
    assert len(calls) == 3


def test_the_facade_and_help_list_stage_4() -> None:
    assert drumgenx.apply_groove is run_groove
    from drumgenx.cli import build_parser

    help_text = build_parser().format_help()
    assert "groove" in help_text and "train-groovae" in help_text


def test_notices_go_to_notify_and_the_cli_prints_them(
    stage3, tmp_path: Path, fake_model_module, capsys
) -> None:
    """A sample skipped by the render is a notice: to ``notify`` in the library (the result
    carries none), a ``drumgenx: notice:`` line before ``[DONE]`` on the command line."""
    pools = json.loads(stage3["pools_json"].read_text())
    pools["CORE_POOL"][0]["filepath"] = str(tmp_path / "gone.wav")
    broken = tmp_path / "pools_broken.json"
    broken.write_text(json.dumps(pools))
    inputs = {**stage3, "pools_json": broken}
    said: list[str] = []
    result = run_groove(
        **inputs, out_dir=tmp_path / "lib", render=True, skip_missing=True, model=FakeModel(),
        notify=said.append,
    )  # fmt: skip
    assert said and all(line.startswith("skipped sample ") for line in said)
    assert not hasattr(result, "notices")
    groovae = tmp_path / "groovae"  # the same FakeModel on the command line
    groovae.mkdir()
    (groovae / "model.pt").write_bytes(b"")
    argv = ["groove", *_flags(inputs, tmp_path / "cli"), "--render", "--skip_missing"]
    assert main([*argv, "--model", str(groovae)]) == 0
    printed = capsys.readouterr()
    assert printed.err.splitlines() == [f"drumgenx: notice: {line}" for line in said]
    assert printed.out.startswith("[DONE] groove (humanize), version 1")


def _offsets(path: Path) -> list[float]:
    return [e.micro_offset_ms for e in load_events(path)]


def test_feel_draws_with_the_seed_and_feel_0_ignores_it(stage3, tmp_path: Path) -> None:
    runs = {
        name: run_groove(**stage3, out_dir=tmp_path / name, **kwargs).events_path
        for name, kwargs in {
            "0a": {"seed": 1},
            "0b": {"seed": 2},
            "1a": {"feel": 1.0, "seed": 1},
            "1b": {"feel": 1.0, "seed": 1},
            "1c": {"feel": 1.0, "seed": 2},
            "drummer": {"drummer": 5, "style": "funk"},
        }.items()
    }
    assert runs["0a"].read_bytes() == runs["0b"].read_bytes()
    assert runs["1a"].read_bytes() == runs["1b"].read_bytes()
    assert _offsets(runs["1a"]) != _offsets(runs["1c"]) != _offsets(runs["0a"])
    assert _offsets(runs["drummer"]) != _offsets(runs["0a"])


def test_feel_drummer_and_style_errors_name_the_flag(stage3, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    for flags, named in (
        (["--drummer", "11"], "--drummer"),
        (["--style", "polka"], "--style"),
        (["--feel", "1.5"], "--feel"),
    ):
        assert main(["groove", *_flags(stage3, out), *flags]) == 2
        err = capsys.readouterr().err.strip()
        assert named in err and "\n" not in err
    assert not out.exists()


def test_feel_with_a_groovae_model_is_refused(stage3, tmp_path: Path) -> None:
    with pytest.raises(DrumgenxError, match="feel, drummer and style need the humanizer"):
        run_groove(**stage3, out_dir=tmp_path / "out", feel=0.5, model=FakeModel())
