"""Fixtures of the training-corpus tests: synthetic kits and GMD files, real fonts when present."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import mido
import numpy as np
import pytest

from drumgenx.training import kits as kitlib

SR = 44100
SKIP_FLUIDSYNTH = "fluidsynth not installed: apt-get install fluidsynth timgm6mb-soundfont"
SKIP_TIMGM = "TimGM6mb SoundFont not installed: apt-get install fluidsynth timgm6mb-soundfont"
SKIP_DEBIAN = (
    "Hydrogen kits or ../shared/data/drum_oneshots/labels.csv missing: "
    "apt-get install hydrogen-data hydrogen-drumkits"
)


def synthetic_one_shots(seed: int = 0) -> kitlib.OneShots:
    """Decaying noise bursts on a few GM keys, 2 layers each, starting loud at sample 0."""
    rng = np.random.default_rng(seed)
    shots: kitlib.OneShots = {}
    for key, length in ((36, 4000), (38, 3000), (42, 1500), (44, 1200), (46, 9000), (49, 12000)):
        layers = []
        for vel, amp in ((64, 0.4), (127, 0.8)):
            t = np.arange(length)
            y = rng.standard_normal(length) * np.exp(-t / (length / 5)) * amp
            y[0] = amp  # loud first sample: the onset is sample 0
            layers.append((vel, y.astype(np.float32)))
        shots[key] = layers
    return shots


def synthetic_kit(tmp: Path, name: str = "SynthKit") -> kitlib.Kit:
    """A Debian-kind kit whose one-shot cache is pre-filled with :func:`synthetic_one_shots`."""
    folder = tmp / "kits" / name
    folder.mkdir(parents=True, exist_ok=True)
    return kitlib.Kit(
        kit_id=f"debian:test/{name}",
        family="test/synthetic",
        kind="debian",
        package="test",
        path=folder,
        preset=None,
        name=name,
    )


def fill_cache(kit: kitlib.Kit, cache_dir: Path, seed: int = 0) -> None:
    kitlib._save_cache(kitlib._cache_file(kit, cache_dir), synthetic_one_shots(seed))


def write_drum_midi(path: Path, notes: list[tuple[float, int, int]], *, bpm: float = 120) -> None:
    """A GMD-like type-0 MIDI file: ``(time_s, pitch, velocity)`` on channel 10."""
    tpb = 480
    mid = mido.MidiFile(type=0, ticks_per_beat=tpb)
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=0))
    ticks_per_s = tpb * bpm / 60
    events = []
    for t, p, v in notes:
        on = round(t * ticks_per_s)
        events.append((on, 1, mido.Message("note_on", channel=9, note=p, velocity=v)))
        events.append((on + 40, 0, mido.Message("note_on", channel=9, note=p, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    last = 0
    for tick, _, msg in events:
        tr.append(msg.copy(time=tick - last))
        last = tick
    mid.save(str(path))


def make_fake_gmd(root: Path) -> Path:
    """A GMD folder: a 45 s beat, a 2.5 s fill (validation), a test-split beat."""
    rows = []
    specs = [
        ("drummer1/session1/1", "1_rock_120_beat_4-4.mid", "rock", 120, "beat", 45.0, "validation"),
        ("drummer1/session1/2", "2_funk_100_fill_4-4.mid", "funk", 100, "fill", 2.5, "validation"),
        ("drummer2/session1/3", "3_jazz_90_beat_4-4.mid", "jazz", 90, "beat", 10.0, "test"),
    ]
    for gid, fname, style, bpm, bt, dur, split in specs:
        folder = root / gid.rsplit("/", 1)[0]
        folder.mkdir(parents=True, exist_ok=True)
        beat = 60 / bpm
        notes = []
        k = 0
        while k * beat / 2 < dur - 0.3:
            t = k * beat / 2
            notes.append((t, 42 if k % 3 else 46, 60 + (k * 7) % 60))
            if k % 4 == 0:
                notes.append((t, 36, 100))
            if k % 4 == 2:
                notes.append((t, 38, 90 + k % 30))
            k += 1
        write_drum_midi(folder / fname, notes, bpm=bpm)
        rows.append(
            {
                "drummer": gid.split("/")[0],
                "session": gid.rsplit("/", 1)[0],
                "id": gid,
                "style": style,
                "bpm": bpm,
                "beat_type": bt,
                "time_signature": "4-4",
                "midi_filename": f"{gid.rsplit('/', 1)[0]}/{fname}",
                "audio_filename": "",
                "duration": dur,
                "split": split,
            }
        )
    write_info_csv(root, rows)
    return root


def write_info_csv(root: Path, rows: list[dict]) -> None:
    """``root/info.csv`` with ``rows`` (GMD's columns, the first row's order)."""
    with open(root / "info.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def fake_gmd(tmp_path: Path) -> Path:
    return make_fake_gmd(tmp_path / "gmd")


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One one-shot cache for the session (a real kit renders once)."""
    return tmp_path_factory.mktemp("oneshot-cache")


@pytest.fixture(scope="session")
def tim_kit() -> kitlib.Kit:
    """TimGM6mb's Standard kit (skips without fluidsynth or the font)."""
    if shutil.which("fluidsynth") is None:
        pytest.skip(SKIP_FLUIDSYNTH)
    if kitlib.soundfont_path("TimGM6mb") is None:
        pytest.skip(SKIP_TIMGM)
    return next(k for k in kitlib.soundfont_kits() if k.kit_id == "sf:TimGM6mb:128-000")


@pytest.fixture(scope="session")
def tim_shots(tim_kit: kitlib.Kit, session_cache: Path) -> kitlib.OneShots:
    return kitlib.load_one_shots(tim_kit, cache_dir=session_cache)


@pytest.fixture(scope="session")
def debian_kit() -> kitlib.Kit:
    """GMRockKit (skips without the Hydrogen kits or labels.csv)."""
    found = [k for k in kitlib.debian_kits() if k.name == "GMRockKit"]
    if not found:
        pytest.skip(SKIP_DEBIAN)
    return found[0]


@pytest.fixture
def synth_shots() -> kitlib.OneShots:
    return synthetic_one_shots()


@pytest.fixture
def synth_kit(tmp_path: Path) -> tuple[kitlib.Kit, Path]:
    """A synthetic kit and the one-shot cache folder that holds it."""
    kit = synthetic_kit(tmp_path)
    cache = tmp_path / "cache"
    fill_cache(kit, cache)
    return kit, cache


@pytest.fixture
def synth_donor(synth_kit, tmp_path: Path) -> kitlib.Kit:
    """A second synthetic kit (other noise) in the cache of :func:`synth_kit`."""
    donor = synthetic_kit(tmp_path, "Donor")
    fill_cache(donor, synth_kit[1], seed=1)
    return donor


@pytest.fixture
def drum_midi():
    """``drum_midi(path, [(time_s, pitch, velocity), ...], bpm=120)`` writes a GMD-like file."""
    return write_drum_midi


@pytest.fixture
def info_csv():
    """``info_csv(root, rows)`` writes a GMD ``info.csv``."""
    return write_info_csv
