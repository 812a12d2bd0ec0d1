"""Scale run of both stages on synthesized inputs: wall time, throughput, peak RSS, skips.

Usage (by hand, never by CI; the default run took 4 minutes on 2 idle cores, half of it
making the inputs, which a rerun reuses)::

    .venv/bin/python bench/bench_scale.py [--oneshots 10000] [--audio_minutes 120]
        [--workers 2] [--separator auto] [--stages roles preprocess]
        [--work_dir /tmp/drumgenx-bench-scale]

Quick try: ``--oneshots 500 --audio_minutes 5``.

Inputs, made here from the kit voices (`drumgenx.kit.synth.synthesize_voice`) and kept in
``--work_dir`` (a marker file holds the parameters; a later run with the same ones reuses them):

- stage 2: ``--oneshots`` one-shots in nested folders, each a kit voice or a "found" sound
  (layered, reversed, noise burst, click) with random gain, pitch shift (resampling), decay,
  noise, lead-in and length; 16/24-bit, mono/stereo, 22.05/44.1/48 kHz WAV. Mixed in:
  ``--bad_share`` of bad files (truncated, zero-byte, not audio, silent, header only, NaN
  floats; at least one of each) and ``--huge`` WAVs of ``--huge_minutes`` each.
- stage 1: ``--audio_minutes`` of drum performances (kit voices on random patterns at 80-160
  BPM, velocity, swing and timing variation) under a bass/pad/noise bed, in
  ``--audio_files`` files (WAV, plus one MP3, FLAC and OGG when libsndfile writes them), and
  bad files (truncated, zero-byte, not audio, silent, a text file, a byte-identical copy).

Each stage runs in a fresh Python process started by this script, so one stage's peak memory
does not hide the other's: "main" is that process's ``ru_maxrss``, "worker" the largest of its
worker processes (``RUSAGE_CHILDREN``). Wall time is the API call alone (`run_roles` with
``limit=0`` and a CLAP path that does not exist, `run_preprocess`), worker start-up included,
interpreter start-up and imports not. Output folders are emptied first, so every run is cold.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import resource
import shlex
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import _onecore  # first: one thread per pool, before numpy loads
import numpy as np
import soundfile
from _fresh import run_fresh, stage_main

from drumgenx.kit.synth import KIT_VOICES, synthesize_voice

GEN_VERSION = 1  # bump when the generators change, so cached inputs are rebuilt
MARKER = ".bench_scale.json"  # beside the input folder: inside, stage 1 would list it
ONESHOT_RATES = (22050, 44100, 48000)
AUDIO_RATES = (44100, 48000)
VOICE_NAMES = tuple(v.name for v in KIT_VOICES)
VOICE_SEEDS = 24  # renders per voice and rate; the per-file treatment gives the variety
LIBRARY_BAD = (
    "truncated_data",
    "truncated_header",
    "zero_byte",
    "not_audio",
    "silence",
    "header_only",
    "nan_float",
)
AUDIO_BAD = ("truncated_data", "zero_byte", "not_audio", "silence", "text_file", "copy")
PROBES = 10  # memory/time checkpoints per stage (through the progress callback)

assert _onecore  # imported for its side effect (thread variables)


# --- shared helpers -------------------------------------------------------------------------


def _rss_mib(pid: int | str = "self") -> float:
    """Current resident set size of a process in MiB (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _children_rss_mib() -> list[float]:
    """RSS of this process's children (the workers; /proc/PID/task/*/children may be absent)."""
    me = os.getpid()
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == me:
            out.append(_rss_mib(entry.name))
    return out


def _marker_path(folder: Path) -> Path:
    return folder.with_name(folder.name + MARKER)


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads(_marker_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _finished_input(folder: Path, params: dict) -> dict | None:
    """The marker of an input set made earlier with these parameters and finished, if any."""
    marker = _read_marker(folder)
    if marker is not None and marker["params"] == params and marker.get("complete"):
        return marker
    return None


def _fresh_folder(folder: Path, params: dict) -> None:
    """Empty ``folder`` for a new input set; refuse one this script did not make."""
    if folder.exists():
        if _read_marker(folder) is None and any(folder.iterdir()):
            raise SystemExit(f"{folder} holds files but has no {MARKER}: not deleting it")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    # marks the folder as ours while it fills; reused only once "complete" is written
    _marker_path(folder).write_text(json.dumps({"params": params}), encoding="utf-8")


def _wav_bytes(y: np.ndarray, sr: int, subtype: str) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, y, sr, format="WAV", subtype=subtype)
    return buffer.getvalue()


def _pool(workers: int) -> ProcessPoolExecutor:
    # spawn: the same start method the package uses; workers re-import this module only
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))


# --- stage-2 input: a library of one-shots ----------------------------------------------------


@lru_cache(maxsize=512)
def _voice(name: str, sr: int, seed: int) -> np.ndarray:
    return synthesize_voice(name, sr=sr, seed=seed)


def _pitch(y: np.ndarray, semitones: float) -> np.ndarray:
    """Resample by linear interpolation: up is shorter and higher, like a sampler's tune knob."""
    ratio = 2.0 ** (semitones / 12.0)
    positions = np.arange(0.0, len(y) - 1, ratio)
    return np.interp(positions, np.arange(len(y)), y).astype(np.float32)


def _found_sound(rng: np.random.Generator, sr: int) -> tuple[str, np.ndarray]:
    kind = str(rng.choice(["layer", "reversed", "noise", "click"]))
    if kind == "layer":  # two voices a few ms apart: a stacked sample pack hit
        a, b = rng.choice(VOICE_NAMES, size=2, replace=False)
        x = _voice(str(a), sr, int(rng.integers(VOICE_SEEDS)))
        y = _voice(str(b), sr, int(rng.integers(VOICE_SEEDS)))
        shift = int(rng.uniform(0, 0.03) * sr)
        out = np.zeros(max(len(x), len(y) + shift), np.float32)
        out[: len(x)] += x
        out[shift : shift + len(y)] += rng.uniform(0.3, 1.0) * y
        return kind, out
    if kind == "reversed":  # a swell with no attack: onset detectors see no rise
        return kind, _voice(str(rng.choice(VOICE_NAMES)), sr, int(rng.integers(VOICE_SEEDS)))[::-1]
    if kind == "noise":  # a band of noise, e.g. a door or a shaker
        n = int(rng.uniform(0.05, 1.5) * sr)
        spectrum = np.fft.rfft(rng.standard_normal(n))
        freqs = np.fft.rfftfreq(n, 1.0 / sr)
        centre, width = rng.uniform(100, 0.4 * sr), rng.uniform(0.2, 2.0)
        spectrum *= np.exp(-0.5 * (np.log(np.maximum(freqs, 1.0) / centre) / width) ** 2)
        return kind, np.fft.irfft(spectrum, n=n).astype(np.float32)
    n = int(rng.uniform(0.001, 0.006) * sr)  # click: a few ms, then nothing
    return kind, (rng.uniform(-1, 1, n) * np.linspace(1, 0, n)).astype(np.float32)


def _make_oneshot(job: tuple[int, int, str]) -> tuple[str, float]:
    """Write one-shot ``index``; returns its path relative to the library and its seconds."""
    index, seed, root = job
    rng = np.random.default_rng([seed, index, 2])
    sr = int(rng.choice(ONESHOT_RATES))
    if rng.random() < 0.8:
        name = str(rng.choice(VOICE_NAMES))
        y = _voice(name, sr, int(rng.integers(VOICE_SEEDS)))
    else:
        name, y = _found_sound(rng, sr)
    if rng.random() < 0.7:
        y = _pitch(y, rng.uniform(-7, 7))
    t = np.arange(len(y)) / sr
    if rng.random() < 0.6:  # shorter decay: a choked or gated version
        y = y * np.exp(-t / rng.uniform(0.03, 1.5))
    length = int(rng.uniform(0.03, 3.0) * sr)
    lead = int(rng.uniform(0, 0.05) * sr) if rng.random() < 0.2 else 0
    out = np.zeros(max(1, length), np.float32)
    body = y[: max(0, length - lead)]
    out[lead : lead + len(body)] = body
    peak = float(np.max(np.abs(out)))
    out *= 10 ** (rng.uniform(-30, -0.5) / 20) / peak if peak > 0 else 1.0
    out += 10 ** (rng.uniform(-90, -45) / 20) * rng.standard_normal(len(out)).astype(np.float32)
    if rng.random() < 0.5:  # stereo: pan and a sub-millisecond spread
        pan = rng.uniform(0.2, 0.8)
        delay = int(rng.integers(0, max(1, sr // 2000)))
        right = np.concatenate([np.zeros(delay, np.float32), out[: len(out) - delay]])
        out = np.stack([out * math.sqrt(1 - pan), right * math.sqrt(pan)], axis=1)
    subtype = "PCM_16" if rng.random() < 0.55 else "PCM_24"
    relative = f"pack_{index % 23:02d}/{name}/{'sub_' + str(index % 3) + '/' if index % 4 else ''}"
    relative += f"{index:05d}_{name}_{sr // 1000}k.wav"
    path = Path(root) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), np.clip(out, -1, 1), sr, subtype=subtype)
    return relative, len(out) / sr


def _bad_file(kind: str, path: Path, rng: np.random.Generator) -> None:
    """Write a file of one of the broken kinds (LIBRARY_BAD and AUDIO_BAD)."""
    sr = 44100
    good = _wav_bytes(
        0.3 * rng.standard_normal((int(0.8 * sr), 2)).astype(np.float32), sr, "PCM_16"
    )
    if kind == "truncated_data":  # header promises more frames than the file holds
        path.write_bytes(good[: len(good) // 3])
    elif kind == "truncated_header":
        path.write_bytes(good[:22])
    elif kind == "zero_byte":
        path.write_bytes(b"")
    elif kind == "not_audio":
        path.write_bytes(b"<html><body>404 Not Found</body></html>\n" + rng.bytes(3000))
    elif kind == "silence":
        path.write_bytes(_wav_bytes(np.zeros((sr, 1), np.float32), sr, "PCM_16"))
    elif kind == "header_only":
        path.write_bytes(_wav_bytes(np.zeros((0, 1), np.float32), sr, "PCM_16"))
    elif kind == "nan_float":
        y = rng.standard_normal(sr // 2).astype(np.float32) * 0.3
        y[100:200] = np.nan
        path.write_bytes(_wav_bytes(y, sr, "FLOAT"))
    elif kind == "text_file":
        path.write_text("Session notes: takes 3 and 7 are the good ones.\n", encoding="utf-8")
    else:
        raise ValueError(kind)


def _write_huge(path: Path, minutes: float, rng: np.random.Generator) -> float:
    """A long bounce saved among one-shots: hits every second over noise, written in blocks."""
    sr, block = 44100, 44100 * 10
    kick = _voice("kick", sr, 0)
    frames = int(minutes * 60 * sr)
    with soundfile.SoundFile(str(path), "w", sr, 2, subtype="PCM_16") as handle:
        for start in range(0, frames, block):
            n = min(block, frames - start)
            y = 0.01 * rng.standard_normal((n, 2)).astype(np.float32)
            for hit in range(0, n - len(kick), sr):
                y[hit : hit + len(kick)] += 0.7 * kick[:, None]
            handle.write(y)
    return frames / sr


def make_library(root: Path, args: argparse.Namespace) -> dict:
    """The stage-2 input (cached by its parameters); returns the marker's contents."""
    params = {
        "version": GEN_VERSION,
        "oneshots": args.oneshots,
        "bad_share": args.bad_share,
        "huge": args.huge,
        "huge_minutes": args.huge_minutes,
        "seed": args.seed,
    }
    marker = _finished_input(root, params)
    if marker is not None:
        print(f"library: reusing {root} ({marker['files']} files)")
        return marker
    started = time.perf_counter()
    _fresh_folder(root, params)
    jobs = [(i, args.seed, str(root)) for i in range(args.oneshots)]
    with _pool(args.workers) as pool:
        made = list(pool.map(_make_oneshot, jobs, chunksize=64))
    rng = np.random.default_rng([args.seed, 3])
    n_bad = max(len(LIBRARY_BAD), round(args.oneshots * args.bad_share))
    bad: dict[str, str] = {}
    for k in range(n_bad):
        kind = LIBRARY_BAD[k % len(LIBRARY_BAD)]
        # named like its neighbours, so nothing but its content gives it away
        relative = f"pack_{k % 23:02d}/{VOICE_NAMES[k % len(VOICE_NAMES)]}/{90000 + k:05d}.wav"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        _bad_file(kind, root / relative, rng)
        bad[relative] = kind
    huge_seconds = 0.0
    for k in range(args.huge):
        relative = f"pack_{k:02d}/kick/{95000 + k:05d}_kick_long.wav"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        huge_seconds += _write_huge(root / relative, args.huge_minutes, rng)
        bad[relative] = "huge"
    marker = {
        "params": params,
        "complete": True,
        "files": len(made) + len(bad),
        "seconds": sum(s for _, s in made) + huge_seconds,
        "bad": bad,
        "generated_s": round(time.perf_counter() - started, 1),
    }
    _marker_path(root).write_text(json.dumps(marker, indent=1), encoding="utf-8")
    print(f"library: {marker['files']} files written in {marker['generated_s']} s")
    return marker


# --- stage-1 input: long drum performances under a bed --------------------------------------


def _kit_for(rng: np.random.Generator, sr: int) -> dict[str, list[np.ndarray]]:
    """Two tunings of every voice: one kit per performance, a little variety inside it."""
    base = rng.uniform(-3, 3)
    return {
        name: [
            _pitch(_voice(name, sr, int(rng.integers(VOICE_SEEDS))), base + rng.uniform(-1, 1))
            for _ in range(2)
        ]
        for name in VOICE_NAMES
        if name != "pad"
    }


def _bar_pattern(rng: np.random.Generator) -> list[tuple[int, str, float]]:
    """(16th step, voice, velocity) of one bar; a groove repeats for a section."""
    hits = [(0, "kick", 1.0), (8, "kick", 0.95), (4, "snare", 1.0), (12, "snare", 1.0)]
    hits += [(s, "kick", 0.8) for s in range(16) if s not in (0, 8) and rng.random() < 0.15]
    hits += [(s, "snare", 0.25) for s in range(16) if s % 4 and rng.random() < 0.08]  # ghosts
    if rng.random() < 0.3:
        hits += [(4, "clap", 0.7), (12, "clap", 0.7)]
    sixteenths = rng.random() < 0.5
    for s in range(16):
        if sixteenths or s % 2 == 0:
            name = "hat_open" if s == 14 and rng.random() < 0.4 else "hat_closed"
            hits.append((s, name, 0.8 if s % 4 == 0 else 0.5))
    return hits


def _fill(rng: np.random.Generator) -> list[tuple[int, str, float]]:
    toms = ("tom_high", "tom_mid", "tom_low")
    return [(s, toms[min(2, (s - 8) // 3)], 0.9) for s in range(8, 16) if rng.random() < 0.7]


def _bed(rng: np.random.Generator, sr: int, n: int, bar_s: float, beat_s: float) -> np.ndarray:
    """Bass on the beat, a pad changing every bar, and noise: what separation must remove."""
    progression = np.array(rng.choice([[45, 41, 48, 43], [40, 43, 45, 38], [50, 46, 41, 48]]))
    t = np.arange(n) / sr
    bar = (t // bar_s).astype(np.int64) % len(progression)
    root_hz = 440.0 * 2 ** ((progression[bar] - 69) / 12)
    phase = 2 * np.pi * np.cumsum(root_hz) / sr
    bass = (np.sin(phase) + 0.3 * np.sin(2 * phase)) * np.exp(-(t % beat_s) / 0.25)
    pad = np.zeros(n)
    for interval, detune in ((12, 1.003), (15, 0.997), (19, 1.001)):
        pad += np.sin(phase * 2 ** (interval / 12) * detune)
    pad *= 0.15 * (1 - np.exp(-(t % bar_s) / 0.4))  # slow attack on every chord change
    noise = 0.02 * rng.standard_normal(n)
    return (0.35 * bass + pad + noise).astype(np.float32)


def _performance(index: int, seed: int, seconds: float) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng([seed, index, 5])
    sr = int(rng.choice(AUDIO_RATES))
    n = int(seconds * sr)
    bpm = rng.uniform(80, 160)
    beat_s = 60.0 / bpm
    step_s, bar_s = beat_s / 4, beat_s * 4
    swing = rng.uniform(0, 0.12) * step_s
    kit = _kit_for(rng, sr)
    pans = {name: rng.uniform(0.3, 0.7) for name in kit}
    drums = np.zeros((n, 2), np.float32)
    pattern = _bar_pattern(rng)
    for bar in range(int(n / sr / bar_s) + 1):
        if bar % 8 == 0:
            pattern = _bar_pattern(rng)
        hits = pattern + ([(0, "crash", 0.9)] if bar % 8 == 0 else [])
        if bar % 8 == 7:
            hits = [h for h in hits if h[0] < 8] + _fill(rng)
        for step, name, velocity in hits:
            at = bar * bar_s + step * step_s + (swing if step % 2 else 0.0)
            start = int((at + rng.normal(0, 0.004)) * sr)
            if not 0 <= start < n:
                continue
            sound = kit[name][int(rng.integers(2))] * velocity * rng.uniform(0.6, 1.0)
            sound = sound[: n - start]
            drums[start : start + len(sound), 0] += sound * math.sqrt(1 - pans[name])
            drums[start : start + len(sound), 1] += sound * math.sqrt(pans[name])
    bed_gain = 10 ** (rng.uniform(-18, -4) / 20) if index % 6 else 0.0  # some: drums only
    if bed_gain:
        bed = _bed(rng, sr, n, bar_s, beat_s) * bed_gain
        drums[:, 0] += bed
        drums[:, 1] += bed
    drums *= 0.9 / max(1e-9, float(np.max(np.abs(drums))))
    if index % 5 == 4:  # a few mono bounces
        drums = drums.mean(axis=1, keepdims=True)
    return drums, sr


def _make_performance(job: tuple[int, int, float, str, str]) -> float:
    index, seed, seconds, path, kind = job
    y, sr = _performance(index, seed, seconds)
    formats = {
        "MP3": ("MP3", "MPEG_LAYER_III"),
        "FLAC": ("FLAC", "PCM_24"),
        "OGG": ("OGG", "VORBIS"),
        "WAV16": ("WAV", "PCM_16"),
        "WAV24": ("WAV", "PCM_24"),
    }
    file_format, subtype = formats[kind]
    # In blocks: libsndfile 1.2.2 segfaulted (SIGSEGV in the pool worker) writing 5 min of
    # OGG Vorbis in one call.
    with soundfile.SoundFile(path, "w", sr, y.shape[1], subtype, format=file_format) as handle:
        for start in range(0, len(y), 1 << 16):
            handle.write(y[start : start + (1 << 16)])
    return len(y) / sr


def make_audio(root: Path, args: argparse.Namespace) -> dict:
    """The stage-1 input (cached by its parameters); returns the marker's contents."""
    params = {
        "version": GEN_VERSION,
        "audio_minutes": args.audio_minutes,
        "audio_files": args.audio_files,
        "seed": args.seed,
    }
    marker = _finished_input(root, params)
    if marker is not None:
        print(f"audio: reusing {root} ({len(marker['tracks'])} tracks)")
        return marker
    started = time.perf_counter()
    _fresh_folder(root, params)
    available = soundfile.available_formats()
    compressed = [k for k in ("MP3", "FLAC", "OGG") if k in available]
    seconds = args.audio_minutes * 60 / args.audio_files
    jobs = []
    for i in range(args.audio_files):
        kind = compressed[i // 7] if i % 7 == 3 and i // 7 < len(compressed) else "WAV16"
        kind = "WAV24" if kind == "WAV16" and i % 3 == 2 else kind
        suffix = {"MP3": ".mp3", "FLAC": ".flac", "OGG": ".ogg"}.get(kind, ".wav")
        folder = root / f"session_{i % 4}" / ("bounces" if i % 2 else "")
        folder.mkdir(parents=True, exist_ok=True)
        jobs.append((i, args.seed, seconds, str(folder / f"take_{i:02d}{suffix}"), kind))
    with _pool(args.workers) as pool:
        durations = list(pool.map(_make_performance, jobs))
    rng = np.random.default_rng([args.seed, 6])
    bad: dict[str, str] = {}
    for kind in AUDIO_BAD:
        suffix = {"not_audio": ".mp3", "text_file": ".txt"}.get(kind, ".wav")
        relative = f"session_0/misc/{kind}{suffix}"
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        if kind == "copy":  # byte-identical to take_00: one of the two is skipped by hash
            shutil.copyfile(jobs[0][3], root / relative)
        else:
            _bad_file(kind, root / relative, rng)
        bad[relative] = kind
    marker = {
        "params": params,
        "complete": True,
        "tracks": {str(Path(j[3]).relative_to(root)): j[4] for j in jobs},
        "seconds": sum(durations),
        "bad": bad,
        "generated_s": round(time.perf_counter() - started, 1),
    }
    _marker_path(root).write_text(json.dumps(marker, indent=1), encoding="utf-8")
    print(f"audio: {len(jobs)} tracks + {len(bad)} bad files written in {marker['generated_s']} s")
    return marker


# --- the stages, each in its own process ------------------------------------------------------


class Probe:
    """Progress callback: prints and records time and RSS at PROBES checkpoints."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self.points: list[dict] = []
        self.last_progress = self.started

    def __call__(self, done: int, total: int, _path: str) -> None:
        self.last_progress = time.perf_counter()
        every = max(1, math.ceil(total / PROBES))
        if done % every and done != total:
            return
        workers = _children_rss_mib()
        point = {
            "done": done,
            "total": total,
            "s": round(self.last_progress - self.started, 2),
            "main_mib": round(_rss_mib(), 1),
            "worker_mib": round(max(workers, default=0.0), 1),
        }
        self.points.append(point)
        print(
            f"[{self.label}] {done}/{total} after {point['s']:.1f} s; RSS main "
            f"{point['main_mib']:.0f} MiB, largest worker {point['worker_mib']:.0f} MiB",
            flush=True,
        )


def _peaks() -> dict[str, float]:
    return {
        "main_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def _stage_roles(spec: dict) -> dict:
    from drumgenx.core.formats import load_pools
    from drumgenx.roles.run import run_roles

    notices: list[str] = []
    probe = Probe("roles")
    base = _rss_mib()
    started = time.perf_counter()
    result = run_roles(
        input_dir=spec["input"],
        out_dir=spec["out"],
        limit=0,
        workers=spec["workers"],
        clap_model=spec["clap_model"],
        progress=probe,
        notify=notices.append,
    )
    wall = time.perf_counter() - started
    pools = load_pools(result.pools_path)
    roles = {role: len(items) for role, items in pools.by_role.items()}
    scored = {s.filepath: s.role for s in result.scores}
    return {
        "wall_s": wall,
        "after_map_s": time.perf_counter() - probe.last_progress,
        "base_mib": base,
        **_peaks(),
        "points": probe.points,
        "notices": notices,
        "scored": len(result.scores),
        "skipped": [list(item) for item in result.skipped],
        "roles": roles,
        "clap": result.clap,
        "pools": str(result.pools_path),
        "pools_bytes": result.pools_path.stat().st_size,
        "per_sample_bytes": result.per_sample_path.stat().st_size,
        "bad_roles": {p: scored.get(str(Path(spec["input"]) / p)) for p in spec["bad"]},
    }


def _stage_preprocess(spec: dict) -> dict:
    from drumgenx.preprocess.config import PreprocessConfig
    from drumgenx.preprocess.run import run_preprocess
    from drumgenx.preprocess.separation import SeparationParams

    config = PreprocessConfig(separation=SeparationParams(method=spec["separator"]))
    notices: list[str] = []
    probe = Probe("preprocess")
    base = _rss_mib()
    started = time.perf_counter()
    summary = run_preprocess(
        dataset_root=spec["input"],
        output_root=spec["out"],
        config=config,
        workers=spec["workers"],
        progress=probe,
        notify=notices.append,
    )
    wall = time.perf_counter() - started
    processed = [r for r in summary.reports if r.status == "processed"]
    return {
        "wall_s": wall,
        "after_map_s": time.perf_counter() - probe.last_progress,
        "base_mib": base,
        **_peaks(),
        "points": probe.points,
        "notices": notices,
        "files_read": summary.files_read,
        "processed_audio_s": sum(r.duration_s for r in processed),
        "separators": dict(Counter(r.separator for r in processed)),
        "skipped": summary.skipped,
        "hits": summary.hits_found,
        "samples": len(summary.samples),
        "duplicates": summary.duplicates_removed,
        "manifest": str(summary.manifest),
        "reports": [[r.source, r.status, r.reason, r.hits] for r in summary.reports],
    }


STAGES: dict[str, Callable[[dict], dict]] = {
    "roles": _stage_roles,
    "preprocess": _stage_preprocess,
}


# --- report -----------------------------------------------------------------------------------


def _reason_group(reason: str | None) -> str:
    return (reason or "?").split(" (")[0].split(" as ")[0]


def _memory_line(result: dict) -> str:
    points = result.get("points", [])
    return ", ".join(f"{p['done']}: {p['main_mib']:.0f}/{p['worker_mib']:.0f}" for p in points)


def report(
    args: argparse.Namespace, library: dict | None, audio: dict | None, results: dict
) -> None:
    rows = []
    if "roles" in results:
        r = results["roles"]
        n_bad = sum(kind != "huge" for kind in library["bad"].values())
        source = (
            f"{library['files']:,} files ({n_bad} bad, {args.huge} x {args.huge_minutes:g} min), "
            f"{library['seconds'] / 3600:.2f} h"
        )
        if "failed" in r:
            rows.append(["2 roles", source, "-", "-", "-", "-", "-", f"FAILED: {r['failed']}"])
        else:
            n = r["scored"] + len(r["skipped"])
            outputs = ", ".join(f"{k} {v:,}" for k, v in r["roles"].items())
            rows.append(
                [
                    "2 roles",
                    source,
                    f"{r['wall_s']:.1f}",
                    f"{n / r['wall_s']:.0f} files/s",
                    f"{r['main_peak_mib']:.0f}",
                    f"{r['worker_peak_mib']:.0f}",
                    str(len(r["skipped"])),
                    f"{r['scored']:,} scored: {outputs}",
                ]
            )
    if "preprocess" in results:
        r = results["preprocess"]
        source = (
            f"{len(audio['tracks'])} tracks + {len(audio['bad'])} bad, "
            f"{audio['seconds'] / 60:.1f} min"
        )
        if "failed" in r:
            rows.append(["1 preprocess", source, "-", "-", "-", "-", "-", f"FAILED: {r['failed']}"])
        else:
            rows.append(
                [
                    "1 preprocess",
                    source,
                    f"{r['wall_s']:.1f}",
                    f"{r['processed_audio_s'] / r['wall_s']:.1f}x realtime",
                    f"{r['main_peak_mib']:.0f}",
                    f"{r['worker_peak_mib']:.0f}",
                    str(sum(r["skipped"].values())),
                    f"{r['hits']:,} hits -> {r['samples']:,} samples "
                    f"({r['duplicates']:,} duplicates removed)",
                ]
            )
    header = [
        "stage",
        "input",
        "wall s",
        "items/s or x realtime",
        "peak RSS main MiB",
        "peak RSS worker MiB",
        "skipped",
        "outputs",
    ]
    print()
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"command: {shlex.join(sys.orig_argv)}")
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.1f} GiB RAM, "
        f"load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} at the end; Python "
        f"{platform.python_version()}, numpy {np.__version__}, libsndfile "
        f"{soundfile.__libsndfile_version__}; workers {args.workers}"
    )
    for name, r in results.items():
        if "failed" in r:
            continue
        print(f"\n{name}:")
        print(
            f"  RSS after imports {r['base_mib']:.0f} MiB; wall after the last file "
            f"(scoring/dedup/writing) {r['after_map_s']:.1f} s"
        )
        print(f"  RSS main/largest worker MiB by files done: {_memory_line(r)}")
        for message in r["notices"]:
            print(f"  notice: {message}")
        if name == "roles":
            print(f"  CLAP: {r['clap']}; {r['pools']} loads with load_pools")
            print(
                f"  pools {r['pools_bytes'] / 1e6:.1f} MB, "
                f"per_sample {r['per_sample_bytes'] / 1e6:.1f} MB"
            )
            skipped = {p: reason for p, reason in r["skipped"]}
            print("  skip reasons:", dict(Counter(_reason_group(x) for x in skipped.values())))
            root = Path(args.work_dir) / "oneshots"
            outcome: Counter[tuple[str, str]] = Counter()
            for relative, kind in library["bad"].items():
                path = str(root / relative)
                if path in skipped:
                    outcome[(kind, "skipped: " + _reason_group(skipped[path]))] += 1
                else:
                    outcome[(kind, f"scored as {r['bad_roles'].get(relative)}")] += 1
            for (kind, what), count in sorted(outcome.items()):
                print(f"  planted {kind} x{count}: {what}")
            unplanned = [p for p in skipped if str(Path(p).relative_to(root)) not in library["bad"]]
            print(f"  skipped but not planted: {len(unplanned)} {unplanned[:5]}")
        else:
            print(f"  separators used: {r['separators']}; skip reasons: {r['skipped']}")
            root = Path(args.work_dir) / "audio"
            by_source = {src: (status, reason, hits) for src, status, reason, hits in r["reports"]}
            for relative, kind in audio["bad"].items():
                names = [relative, *(t for t in audio["tracks"] if "take_00" in t)]
                for name in names if kind == "copy" else [relative]:
                    status, reason, hits = by_source.get(str(root / name), ("absent", None, 0))
                    print(f"  planted {kind}: {name} {status} {reason or ''} ({hits} hits)")
            per_track = [(Path(src).name, hits) for src, status, _, hits in r["reports"] if hits]
            print(f"  hits per track: {per_track}")


def add_workload_arguments(
    parser: argparse.ArgumentParser, *, stages: list[str], work_dir: Path, workers_help: str
) -> None:
    """The workload's flags (sizes, workers, separator, stages, seed, folder), shared with
    bench_cluster.py, which makes its inputs with this bench's generators."""
    parser.add_argument("--oneshots", type=int, default=10000, help="good one-shots (stage 2)")
    parser.add_argument("--audio_minutes", type=float, default=120.0, help="stage-1 audio")
    parser.add_argument("--audio_files", type=int, default=24, help="files it is split into")
    parser.add_argument("--workers", type=int, default=2, help=workers_help)
    parser.add_argument("--separator", default="auto", choices=("auto", "demucs", "hpss", "none"))
    parser.add_argument("--stages", nargs="+", default=stages)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work_dir", type=Path, default=work_dir, help="inputs, outputs")
    parser.add_argument("--_stage", type=Path, help=argparse.SUPPRESS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_workload_arguments(
        parser,
        stages=["roles", "preprocess"],
        work_dir=Path("/tmp/drumgenx-bench-scale"),
        workers_help="processes (generation, stages)",
    )
    parser.add_argument("--bad_share", type=float, default=0.01, help="bad files per one-shot")
    parser.add_argument("--huge", type=int, default=2, help="long WAVs among the one-shots")
    parser.add_argument("--huge_minutes", type=float, default=10.0)
    args = parser.parse_args()
    if args._stage is not None:
        return stage_main(args._stage, STAGES)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be fetched; fail fast
    work_dir = args.work_dir.resolve()
    args.work_dir = work_dir
    work_dir.mkdir(parents=True, exist_ok=True)
    print(f"work dir {work_dir}; load average {os.getloadavg()[0]:.2f} at the start", flush=True)
    library = audio = None
    results: dict[str, dict] = {}
    if "roles" in args.stages:
        library = make_library(work_dir / "oneshots", args)
        spec = {
            "input": str(work_dir / "oneshots"),
            "out": str(work_dir / "out_roles"),
            "workers": args.workers,
            "clap_model": str(work_dir / "no-such-clap-model"),
            "bad": sorted(library["bad"]),
        }
        results["roles"] = run_fresh(__file__, "roles", spec, work_dir, label="roles")
    if "preprocess" in args.stages:
        audio = make_audio(work_dir / "audio", args)
        spec = {
            "input": str(work_dir / "audio"),
            "out": str(work_dir / "out_preprocess"),
            "workers": args.workers,
            "separator": args.separator,
        }
        results["preprocess"] = run_fresh(
            __file__, "preprocess", spec, work_dir, label="preprocess"
        )
    report(args, library, audio, results)
    return 0 if all("failed" not in r for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
