"""Render Groove MIDI Dataset performances through five real Debian drum kits.

The learned onset activation's training data (`training.onsets`) and the audio of the onset
and stage-1 benches (``bench/bench_onsets.py``, ``bench/bench_preprocess.py``); never used at
run time. The point is audio whose onset times are known exactly: every GMD note start becomes
one one-shot starting at that sample, so the reference onsets are the MIDI note starts
themselves. (The transcriber's corpus renders through `training.kits` instead, with more kits
and other layer rules; these renders stay as the shipped onset weights and the benches' figures
were made.)

Sources (see ``../shared/data/gmd/README`` and ``../shared/data/drum_oneshots/README.md``):

- GMD v1.0.0 MIDI (``info.csv`` gives the split). Notes are read with pretty_midi.
- One-shots from the Debian packages ``hydrogen-data`` and ``hydrogen-drumkits``, chosen from
  ``labels.csv`` rows with ``confidence == "high"`` (root ``/usr/share``).

Rendering rules (all deterministic):

- GM/Roland TD-11 drum notes map to kit slots as Magenta's GrooVAE/GMD mapping does (see
  ``GM_TO_SLOT``); notes on other keys are dropped from the audio *and* the reference.
- Each slot is one Hydrogen instrument (``KITS``). An instrument's velocity layers are sorted
  by attack loudness (RMS of the first 50 ms) and a note picks layer
  ``floor(velocity / 128 * n_layers)``; its gain is ``velocity / 127`` on top (Hydrogen's
  own rule: layer by velocity, then linear velocity gain).
- One-shots are downmixed to mono, resampled to 44.1 kHz with soxr if needed, and their
  leading silence is trimmed (first sample above -60 dB re the file's peak; at most ~2 ms in
  these kits), so the sound starts exactly at the note start.
- A closed or pedal hat chokes a ringing open hat (10 ms fade), as in any drum sampler.
- Otherwise each one-shot plays out whole (tails kept). Notes starting in the first
  ``duration`` seconds are rendered; the audio runs 0.5 s past that so the last hits have
  their attack.
- The drum stem is peak-normalised to -1 dBFS.

The "mixed" condition puts the stem under a synthesized non-drum bed (``make_bed``: pad chords,
a bass line and a legato lead with vibrato, one chord per bar at the performance's tempo) at a
drum-to-bed RMS ratio of -6 dB. The bed has note onsets of its own that are *not* in the
reference: that is the point of the condition (no separation is applied yet).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drumgenx.training.kits import DEBIAN_KITS, LABELS_CSV, SHARE
from drumgenx.training.transcriber import merge_onsets  # the one reference merge

SR = 44100
GMD_DIR = LABELS_CSV.parents[1] / "gmd"
"""Default GMD folder: the ``../shared`` checkout's, beside ``labels.csv``'s folder."""

# Magenta's GMD mapping (magenta/music/drums_encoder_decoder.py, ROLAND_DRUM_PITCH_CLASSES
# grouped as in the GMD paper's 9-class reduction), with the hat pedal kept apart so the
# hats sound like hats.
GM_TO_SLOT: dict[int, str] = {
    36: "kick",
    38: "snare",
    40: "snare",
    37: "rim",
    42: "hh_closed",
    22: "hh_closed",
    44: "hh_pedal",
    46: "hh_open",
    26: "hh_open",
    43: "tom_low",
    58: "tom_low",
    47: "tom_mid",
    45: "tom_mid",
    50: "tom_high",
    48: "tom_high",
    49: "crash",
    55: "crash",
    57: "crash",
    52: "crash",
    51: "ride",
    59: "ride",
    53: "ride",
}
CHOKERS = {"hh_closed", "hh_pedal"}  # slots that cut a ringing open hat

# Per kit: slot -> instrument_name in labels.csv: the transcriber's corpus maps
# (`training.kits.DEBIAN_KITS`), in their slot order, except that a kit without a crash plays
# a stand-in there (an onset needs only a hit; the corpus leaves such a slot silent, since
# its labels name the class). "The Black Pearl 1.0" is byte-identical to GMRockKit (same
# author), so Millo's kit replaces it.
_CRASH_STAND_INS = {"TR808EmulationKit": "Open Hat", "ElectricEmpireKit": "Hat Op Dirty"}
_SLOTS = tuple(DEBIAN_KITS["GMRockKit"][2])
KITS: dict[str, dict[str, str]] = {
    name: {
        slot: DEBIAN_KITS[name][2].get(slot) or _CRASH_STAND_INS[name]
        for slot in _SLOTS
        if slot in DEBIAN_KITS[name][2] or (slot == "crash" and name in _CRASH_STAND_INS)
    }
    for name in (
        "GMRockKit",
        "BJA_Pacific",
        "Millo_MultiLayered3",
        "TR808EmulationKit",
        "ElectricEmpireKit",
    )
}
KIT_NAMES = tuple(KITS)
REQUIRED_PACKAGES = ("hydrogen-drumkits", "hydrogen-data")


def missing_inputs(gmd_root: Path = GMD_DIR) -> str | None:
    """Why the renders cannot be made here (``None`` if they can)."""
    if not (Path(gmd_root) / "info.csv").is_file():
        return f"GMD not found at {gmd_root} (no info.csv; the ../shared checkout)"
    if not LABELS_CSV.is_file():
        return f"labels.csv not found at {LABELS_CSV} (the ../shared checkout)"
    for kit in KITS:
        if not (SHARE / "hydrogen/data/drumkits" / kit).is_dir():
            return (
                f"drum kit {kit!r} not installed; run: apt-get install -y "
                "--no-install-recommends " + " ".join(REQUIRED_PACKAGES)
            )
    return None


@dataclass(frozen=True)
class Performance:
    """One GMD row picked for a render."""

    midi_path: Path
    split: str
    bpm: float
    beat_type: str
    kit: str
    seed: int

    @property
    def name(self) -> str:
        return self.midi_path.stem


def select_performances(
    split: str, n: int | None, *, seed: int, gmd_root: Path = GMD_DIR
) -> list[Performance]:
    """A fixed, seeded subset of one GMD split; kits are dealt round-robin after shuffling.

    ``n=None`` takes the whole split.
    """
    gmd_root = Path(gmd_root)
    with open(gmd_root / "info.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == split]
    rows.sort(key=lambda r: r["midi_filename"])
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    if n is not None:
        order = order[:n]
    return [
        Performance(
            midi_path=gmd_root / rows[j]["midi_filename"],
            split=split,
            bpm=float(rows[j]["bpm"]),
            beat_type=rows[j]["beat_type"],
            kit=KIT_NAMES[i % len(KIT_NAMES)],
            seed=seed * 100_003 + int(j),
        )
        for i, j in enumerate(order)
    ]


def _load_mono(path: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        y = soxr.resample(y, sr, SR, quality="HQ").astype(np.float32)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0:
        first = int(np.argmax(np.abs(y) > peak * 10 ** (-60 / 20)))
        y = y[first:]
    return y


@functools.cache
def _labels() -> list[dict[str, str]]:
    with open(LABELS_CSV, newline="") as fh:
        return list(csv.DictReader(fh))


@functools.cache
def load_kit(kit: str) -> dict[str, list[np.ndarray]]:
    """slot -> velocity layers (mono float32 at 44.1 kHz), softest first."""
    out: dict[str, list[np.ndarray]] = {}
    cache: dict[str, list[np.ndarray]] = {}
    for slot, instrument in KITS[kit].items():
        if instrument not in cache:
            rows = [
                r
                for r in _labels()
                if r["kit"] == kit
                and r["confidence"] == "high"
                and instrument in r["instrument_name"].split(" / ")
            ]
            if not rows:
                raise LookupError(f"{kit}: no high-confidence instrument {instrument!r}")
            layers = [_load_mono(SHARE / r["path_in_package"]) for r in rows]
            loud = [float(np.sqrt(np.mean(y[: SR // 20] ** 2))) for y in layers]
            cache[instrument] = [layers[i] for i in np.argsort(loud, kind="stable")]
        out[slot] = cache[instrument]
    return out


def read_notes(midi_path: Path, *, duration: float) -> list[tuple[float, int, int]]:
    """(start s, pitch, velocity) of the mapped drum notes starting before ``duration``."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(midi_path))
    notes = [
        (float(n.start), int(n.pitch), int(n.velocity))
        for inst in pm.instruments
        for n in inst.notes
        if n.pitch in GM_TO_SLOT and n.start < duration and n.velocity > 0
    ]
    notes.sort()
    return notes


def render_performance(
    perf: Performance, *, duration: float = 30.0
) -> tuple[np.ndarray, np.ndarray, int]:
    """Drum stem (mono float32, 44.1 kHz), merged reference onsets (s), number of notes."""
    notes = read_notes(perf.midi_path, duration=duration)
    kit = load_kit(perf.kit)
    last = max((t for t, _, _ in notes), default=0.0)
    n_out = round((min(duration, last) + 0.5) * SR)
    out = np.zeros(n_out, dtype=np.float64)
    starts = np.array([round(t * SR) for t, _, _ in notes], dtype=np.int64)
    choke_times = np.array(
        [s for s, (_, p, _) in zip(starts, notes, strict=True) if GM_TO_SLOT[p] in CHOKERS]
    )
    fade = int(0.010 * SR)
    for s, (_, pitch, vel) in zip(starts, notes, strict=True):
        slot = GM_TO_SLOT[pitch]
        layers = kit[slot]
        y = layers[min(len(layers) - 1, vel * len(layers) // 128)] * (vel / 127.0)
        end = min(n_out, s + len(y))
        if slot == "hh_open" and choke_times.size:
            later = choke_times[choke_times > s]
            if later.size and later[0] < end:
                cut = int(later[0])
                y = y[: cut - s + fade].copy()
                tail = min(fade, len(y) - (cut - s))
                if tail > 0:
                    y[cut - s : cut - s + tail] *= np.linspace(1.0, 0.0, tail)
                end = min(n_out, s + len(y))
        out[s:end] += y[: end - s]
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0:
        out *= 10 ** (-1 / 20) / peak
    ref = merge_onsets(np.array([t for t, _, _ in notes]))
    return out.astype(np.float32), ref, len(notes)


def _adsr(n: int, attack: float, release: float) -> np.ndarray:
    env = np.ones(n)
    a = max(1, min(n, int(attack * SR)))
    r = max(1, min(n - a, int(release * SR))) if n > a else 0
    env[:a] = np.linspace(0.0, 1.0, a) ** 2  # soft, curved rise
    if r:
        env[n - r :] *= np.linspace(1.0, 0.0, r)
    return env


def make_bed(n: int, *, bpm: float, seed: int) -> np.ndarray:
    """A non-drum bed of ``n`` samples: pad chords, bass and a vibrato lead (float64).

    One chord per 4/4 bar (I-vi-IV-V in a seeded key); the bass plays the root on every beat
    with a 15 ms attack; the lead is legato with 5.5 Hz vibrato, changing note every two beats.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    beat = 60.0 / bpm
    bar = 4 * beat
    key = 45 + int(rng.integers(0, 12))  # MIDI root of the key, A2..G#3
    progression = [(0, 4, 7), (9, 12, 16), (5, 9, 12), (7, 11, 14)]
    bed = np.zeros(n)

    def hz(m: float) -> float:
        return 440.0 * 2 ** ((m - 69) / 12)

    n_bars = int(np.ceil(n / (bar * SR)))
    for b in range(n_bars):
        chord = progression[b % 4]
        s0, s1 = int(b * bar * SR), min(n, int((b + 1) * bar * SR))
        seg = t[s0:s1] - t[s0]
        env = _adsr(s1 - s0, 0.25, 0.2)
        for iv in chord:  # pad: detuned saw-ish (4 harmonics, 1/k) two voices
            f = hz(key + 12 + iv)
            for det in (-0.003, 0.003):
                for k in range(1, 5):
                    bed[s0:s1] += 0.05 / k * env * np.sin(2 * np.pi * f * (1 + det) * k * seg)
        for q in range(4):  # bass: root each beat
            q0, q1 = int(s0 + q * beat * SR), min(n, int(s0 + (q + 1) * beat * SR))
            if q0 >= n:
                break
            sq = t[q0:q1] - t[q0]
            f = hz(key - 12 + chord[0])
            env_b = _adsr(q1 - q0, 0.015, 0.03) * np.exp(-sq / (beat * 1.5))
            bed[q0:q1] += (
                0.35 * env_b * (np.sin(2 * np.pi * f * sq) + 0.3 * np.sin(4 * np.pi * f * sq))
            )
        for h in range(2):  # lead: two notes per bar, vibrato
            h0, h1 = int(s0 + h * 2 * beat * SR), min(n, int(s0 + (h + 1) * 2 * beat * SR))
            if h0 >= n:
                break
            sh = t[h0:h1] - t[h0]
            m = key + 24 + chord[int(rng.integers(0, 3))]
            phase = 2 * np.pi * hz(m) * sh + 0.3 * np.sin(2 * np.pi * 5.5 * sh) * 2
            env_l = _adsr(h1 - h0, 0.06, 0.05)
            bed[h0:h1] += 0.08 * env_l * (np.sin(phase) + 0.4 * np.sin(2 * phase))
    return bed


def mix_under_bed(drums: np.ndarray, *, bpm: float, seed: int, drum_to_bed_db: float = -6.0):
    """The drum stem under ``make_bed`` at ``drum_to_bed_db`` (RMS ratio), peak -1 dBFS."""
    bed = make_bed(len(drums), bpm=bpm, seed=seed)
    rms_d = float(np.sqrt(np.mean(drums.astype(np.float64) ** 2)))
    rms_b = float(np.sqrt(np.mean(bed**2)))
    mix = drums + bed * (rms_d / rms_b) * 10 ** (-drum_to_bed_db / 20)
    mix *= 10 ** (-1 / 20) / float(np.max(np.abs(mix)))
    return mix.astype(np.float32)
