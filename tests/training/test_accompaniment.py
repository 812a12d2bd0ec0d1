"""Composed accompaniment: deterministic, at tempo, melodic programs only; FluidSynth render."""

from __future__ import annotations

import io
import shutil

import mido
import numpy as np
import pytest

from drumgenx.training import accompaniment as acc
from drumgenx.training import kits as kitlib

SKIP_FLUIDSYNTH = "fluidsynth not installed: apt-get install fluidsynth timgm6mb-soundfont"


def _bytes(mid: mido.MidiFile) -> bytes:
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def test_melodic_programs() -> None:
    fams = acc.melodic_programs()
    assert set(fams) == {"piano", "organ", "guitar", "bass", "strings", "brass"} | {
        "synth_lead",
        "synth_pad",
    }
    progs = [p for ps in fams.values() for p in ps]
    assert len(progs) == len(set(progs)) and 47 not in progs
    assert all(0 <= p < 128 for p in progs)


@pytest.mark.parametrize("seed", range(6))
def test_compose_is_deterministic_and_well_formed(seed) -> None:
    bpm = 80 + 17 * seed
    a = acc.compose_accompaniment(bpm=bpm, duration_s=12.0, seed=seed)
    b = acc.compose_accompaniment(bpm=bpm, duration_s=12.0, seed=seed)
    assert _bytes(a) == _bytes(b)
    info = acc.accompaniment_info(a)
    assert 2 <= len(info["parts"]) <= 5
    allowed = {p for ps in acc.melodic_programs().values() for p in ps}
    programs = [m.program for t in a.tracks for m in t if m.type == "program_change"]
    assert programs == [p["program"] for p in info["parts"]] and set(programs) <= allowed
    channels = {m.channel for t in a.tracks for m in t if hasattr(m, "channel")}
    assert 9 not in channels
    tempos = [m.tempo for m in a.tracks[0] if m.type == "set_tempo"]
    assert tempos == [mido.bpm2tempo(bpm)]
    assert a.length >= 12.0
    n_on = sum(1 for t in a.tracks for m in t if m.type == "note_on" and m.velocity > 0)
    assert n_on > 10


def test_different_seeds_differ() -> None:
    a = acc.compose_accompaniment(bpm=100, duration_s=8, seed=1)
    b = acc.compose_accompaniment(bpm=100, duration_s=8, seed=2)
    assert _bytes(a) != _bytes(b)


def test_missing_fluidsynth_names_the_package(monkeypatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    mid = acc.compose_accompaniment(bpm=100, duration_s=2, seed=0)
    with pytest.raises(RuntimeError, match="apt-get install fluidsynth"):
        acc.render_midi(mid, font="/nonexistent.sf2", n_samples=100)


def test_render_midi_with_timgm6mb() -> None:
    if shutil.which("fluidsynth") is None:
        pytest.skip(SKIP_FLUIDSYNTH)
    font = kitlib.soundfont_path("TimGM6mb")
    if font is None:
        pytest.skip(SKIP_FLUIDSYNTH)
    mid = acc.compose_accompaniment(bpm=120, duration_s=3.0, seed=4)
    y = acc.render_midi(mid, font=font, n_samples=3 * 44100)
    z = acc.render_midi(mid, font=font, n_samples=3 * 44100)
    assert y.dtype == np.float32 and y.shape == (3 * 44100,)
    assert np.sqrt(np.mean(y**2)) > 1e-3
    np.testing.assert_array_equal(y, z)
