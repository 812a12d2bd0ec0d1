"""A small run folder for the studio's tests, laid out as `drumgenx run` lays one out, and
the studio's command started on it (`start_studio`).

The bundled kit synthesized into ``library_1/`` (so every sample is inside OUT), its pools in
``roles/`` with stage 2's ``per_sample_1.json`` for it (its features place the library map),
a 2-bar skeleton at 120 bpm in ``skeleton/`` (every role: fills and the bed on), an empty
``groove/`` and a ``run_1.json`` naming them. Built in about a second.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from drumgenx.core.audio import encode_wav
from drumgenx.core.formats import dump_json, read_json
from drumgenx.core.layout import STATE_DIR, library_folder, stage_folder
from drumgenx.kit.run import write_kit_and_pools
from drumgenx.kit.synth import KIT_SR, synthesize_voice
from drumgenx.render.run import export_midi_file
from drumgenx.roles.run import run_roles
from drumgenx.skeleton.patterns import SkeletonParams
from drumgenx.skeleton.run import run_skeleton

BPM = 120
BARS = 2


def build_studio_run(out: Path) -> Path:
    """Write the run into ``out`` (created); return its ``run_1.json``."""
    kit = write_kit_and_pools(kit_dir=library_folder(out, 1), out_dir=stage_folder(out, "roles"))
    per_sample = stage_folder(out, "roles") / "per_sample_1.json"
    with tempfile.TemporaryDirectory() as scratch:  # stage 2's features, for the library map
        scored = run_roles(input_dir=library_folder(out, 1), out_dir=scratch, limit=0)
        per_sample.write_bytes(scored.per_sample_path.read_bytes())
    skeleton = run_skeleton(
        out_dir=stage_folder(out, "skeleton"),
        bpm=BPM,
        pools_json=kit.pools_path,
        params=SkeletonParams(bars=BARS, fill_prob=1.0),
        render=True,
        sample_root=None,
    )
    midi = export_midi_file(skeleton.paths["event_grid"], skeleton.paths["grid"]).path
    stage_folder(out, "groove").mkdir()
    (out / STATE_DIR).mkdir()
    outputs = {
        "preprocess": {"library": "library_1"},
        "roles": {
            "pools": kit.pools_path.relative_to(out).as_posix(),
            "per_sample": per_sample.relative_to(out).as_posix(),
        },
        "skeleton": {
            name: p.relative_to(out).as_posix()
            for name, p in {**skeleton.paths, "midi": midi}.items()
        },
        "groove": {},
    }
    params = {"bpm": BPM, "bars": BARS, "seed": 42, "mode": "humanize", "temperature": 0.5}
    record = {
        "drumgenx_version": "0.1.0",
        "input_dir": "kit",
        "inputs": ["kit"],
        "params": {**params, "swing": 0.0, "workers": 1},
        "from_stage": None,
        "stages": [
            {
                "stage": stage,
                "key": f"{i:020x}",
                "reused": False,
                "seconds": 0.1,
                "outputs": files,
                "summary": {},
            }
            for i, (stage, files) in enumerate(outputs.items())
        ],
        "final": {"wav": outputs["skeleton"]["render"], "midi": outputs["skeleton"]["midi"]},
    }
    path = out / "run_1.json"
    path.write_bytes(dump_json(record))
    read_json(path, "run")  # off the schema, this fails here rather than in a test
    return path


TINY_RUN = {"bars": 1, "bpm": 120}  # a new run's settings in tests: one bar, no tempo search
TINY_RUN_VOICES = ("kick", "snare", "hat_closed")  # enough for every stage, a few seconds


def voice_wav(name: str) -> bytes:
    """One of the bundled kit's voices as 16-bit WAV bytes: an upload that is good audio."""
    return encode_wav(synthesize_voice(name), KIT_SR, subtype="PCM_16")


def tiny_groove_model(folder: Path, task: str) -> Path:
    """An untrained GrooVAE of a few thousand weights for ``task``, as training saves one."""
    import torch

    from drumgenx.groove import model

    config = model.GrooVAEConfig(task=task, enc_rnn_size=16, dec_rnn_size=(16,), z_size=8)
    torch.manual_seed(0)
    folder.mkdir(parents=True)
    torch.save(model.GrooVAE(config).state_dict(), folder / model.MODEL_FILE)
    info = {"format": model.FORMAT, "format_version": model.FORMAT_VERSION}
    (folder / model.CONFIG_FILE).write_text(json.dumps({**info, "config": config.to_dict()}))
    return folder


def start_studio(out: Path, *flags: str) -> tuple[subprocess.Popen, str]:
    """``drumgenx studio OUT --port 0 --no-browser`` in a subprocess, and its page's URL."""
    drumgenx = str(Path(sys.executable).with_name("drumgenx"))
    process = subprocess.Popen(
        [drumgenx, "studio", str(out), "--port", "0", "--no-browser", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()  # printed once the server listens
    found = re.search(r"http://\S+", line)
    if found is None:
        process.kill()
        pytest.fail(f"the studio did not start: {line}{process.communicate()[1]}")
    return process, found.group(0)
