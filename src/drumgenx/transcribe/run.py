"""``drumgenx transcribe``: audio files in; General MIDI drums and ``.hits.json`` out.

For each input file (files, or folders searched recursively for the formats stage 1
reads), mixed to mono and transcribed in blocks of `BLOCK_S` seconds (:func:`file_hits`;
each block is read with `BLOCK_CONTEXT_S` of audio either side, and the whole file's peak
sets the level, so the hits are those of one pass over the file while memory stays that of
one block), two new files in ``out_dir``:

- ``<name>.mid``: a type-1 Standard MIDI File at `TICKS_PER_BEAT` ticks a beat, the
  estimated tempo (:mod:`drumgenx.core.tempo`; `FALLBACK_BPM` when there are too few hits
  to estimate one) and 4/4 in a conductor track, the hits on channel 10: one note per class a hit is
  transcribed as (`CLASS_NOTES`: kick 36, snare 38, hi-hat 42, tom 45, cymbal 49), at its
  exact time (within half a tick: 0.52 ms at 60 bpm, 0.26 ms at 120), `NOTE_LENGTH_S` long
  (or up to the same key's next hit), velocity ``round(1 + 126 * strength)`` (strength is
  the network's "any hit" activation at the hit, 0..1, so 1..127: the mapping every
  drumgenx MIDI file uses).
- ``<name>.hits.json``: every hit's time, strength, class probabilities and classes, the
  tempo (``null`` when none was estimated), the model (weights file, its SHA-256, version
  and date) and the source; schema ``core/schemas/hits.schema.json``, loaded with
  :func:`drumgenx.core.formats.load_hits`.

Nothing is overwritten: when ``<name>.mid`` or ``<name>.hits.json`` exists (or another
input of the run has the same name), the pair is written as ``<name>_2.*``, ``<name>_3.*``
and so on, each pair all-or-nothing (:func:`drumgenx.core.versioning.write_new_files`).

Files that cannot be transcribed (undecodable, empty, a WAV cut short, NaN samples, silent)
are skipped with their reason, as stage 1 lists them, and the run goes on.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drumgenx import __version__
from drumgenx.core.audio import (
    AUDIO_EXTENSIONS,
    AudioReadError,
    downmix,
    find_audio_files,
    read_audio,
)
from drumgenx.core.errors import DrumgenxError, OutputExistsError
from drumgenx.core.formats import dump_json
from drumgenx.core.midi import bpm_to_tempo, drum_midi_file, velocity_to_midi
from drumgenx.core.versioning import file_sha256, make_output_folder, write_new_files

if TYPE_CHECKING:  # numpy-only modules, imported where a file is transcribed
    from drumgenx.transcribe.detect import Transcription
    from drumgenx.transcribe.model import TranscriberModel

__all__ = [
    "CLASS_NOTES",
    "FALLBACK_BPM",
    "TranscribeSummary",
    "TranscribedFile",
    "file_hits",
    "hits_record",
    "transcribe_files",
    "transcription_to_midi",
]

Progress = Callable[[int, int, str], None]  # (files done, files in all, current file)

CLASS_NOTES: dict[str, int] = {"kick": 36, "snare": 38, "hihat": 42, "tom": 45, "cymbal": 49}
"""General MIDI drum keys: Bass Drum 1, Acoustic Snare, Closed Hi-Hat, Low Tom, Crash 1."""
TICKS_PER_BEAT = 960
"""Fine enough that a note lands within 1 ms of its time at any tempo from 60 bpm up."""
NOTE_LENGTH_S = 0.05
"""Drum notes are triggers; 50 ms is what drum-replacement tools write."""
FALLBACK_BPM = 120.0
"""The MIDI file's tempo when too few hits to estimate one (``tempo_bpm: null``)."""
SILENCE_DBFS = -60.0
"""As stage 1: a file whose peak stays below this is skipped as silent."""
BLOCK_S = 300
"""Seconds of audio transcribed at a time (whole seconds: block edges fall on frames)."""
BLOCK_CONTEXT_S = 1
"""Audio read either side of a block: more than the network's reach (0.18 s) plus half an
STFT window (23 ms), so a block's frames see what one pass over the file would show them."""


def _file_peak(path: Path, *, block_s: int) -> tuple[float, int, int, np.ndarray | None]:
    """(peak of the mono mix, samples, rate, the mono mix if one block held it all)."""
    peak, n, start, sr = 0.0, 0, 0, 0
    while True:
        y, sr = read_audio(path, start_s=start, max_seconds=block_s)
        if y.shape[0] == 0:
            break
        mono = downmix(y)
        peak = max(peak, float(np.max(np.abs(mono))))
        n += len(mono)
        if len(mono) < block_s * sr:
            return peak, n, sr, mono if start == 0 else None
        start += block_s
    return peak, n, sr, None


def file_hits(
    path: str | Path,
    *,
    model: TranscriberModel,
    block_s: int = BLOCK_S,
) -> tuple[Transcription, float, int] | str:
    """Transcribe one audio file block by block.

    Parameters
    ----------
    path
        Any format stage 1 reads; mixed to mono.
    model
        The transcriber (:func:`~drumgenx.transcribe.model.load_model`).
    block_s
        Whole seconds of audio per block (default `BLOCK_S`); a file no longer than one
        block is read once.

    Returns
    -------
    (Transcription, float, int) or str
        The hits, the duration in seconds and the sample rate; or why the file was skipped
        (silent). Undecodable files raise `AudioReadError`.
    """
    from drumgenx.transcribe.detect import framed_activations, hits_from_activations
    from drumgenx.transcribe.features import FPS

    if block_s < 1 or int(block_s) != block_s:
        raise ValueError(f"block_s must be a whole number of seconds >= 1, got {block_s!r}")
    path = Path(path)
    peak, n_samples, sr, whole = _file_peak(path, block_s=block_s)
    if peak <= 10 ** (SILENCE_DBFS / 20):
        return f"silent (peak below {SILENCE_DBFS:g} dBFS)"
    duration = n_samples / sr
    if whole is not None:  # one block held the file: it is decoded once, not twice
        act = framed_activations(whole, sr=sr, model=model, peak=peak)
        return hits_from_activations(act, model=model), duration, sr
    pieces = []
    for start in range(0, max(1, math.ceil(duration / block_s)) * block_s, block_s):
        lo = max(0, start - BLOCK_CONTEXT_S)
        y, _ = read_audio(path, start_s=lo, max_seconds=start + block_s + BLOCK_CONTEXT_S - lo)
        act = framed_activations(downmix(y), sr=sr, model=model, peak=peak)
        first = round((start - lo) * FPS)  # whole seconds: a whole number of frames
        pieces.append(act[first : first + round(block_s * FPS)])
    found = hits_from_activations(np.concatenate(pieces), model=model)
    return found, duration, sr


@dataclass
class TranscribedFile:
    """One input's result: what was written for it."""

    source: str
    midi: Path
    hits_json: Path
    hits: int
    tempo_bpm: float | None
    duration_s: float


@dataclass
class TranscribeSummary:
    """The run: the files written, the inputs skipped (with the reason), the weights used."""

    files: list[TranscribedFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    model: str = ""
    seconds: float = 0.0

    @property
    def skipped_counts(self) -> dict[str, int]:
        """Skip reasons grouped as stage 1 groups them ("cannot decode audio": 2)."""
        return dict(Counter(r.split(" (")[0].split(" as ")[0] for _, r in self.skipped))


def _inputs(paths: Sequence[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """The audio files named or found under ``paths`` (each once), and files refused by name."""
    found: list[Path] = []
    refused: list[tuple[str, str]] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            candidates = find_audio_files(path)
        elif path.is_file() or path.is_symlink():
            if path.suffix.lower() not in AUDIO_EXTENSIONS:
                refused.append((str(path), "not an audio file type"))
                continue
            candidates = [path]
        else:
            raise DrumgenxError(f"AUDIO {path}: no such file or folder")
        for candidate in candidates:
            key = candidate.resolve() if candidate.exists() else candidate.absolute()
            if key not in seen:
                seen.add(key)
                found.append(candidate)
    return found, refused


def _load_model(model_path: str | Path | None):  # -> (Path, model.TranscriberModel)
    from drumgenx.core.errors import Notice
    from drumgenx.transcribe.model import open_model

    if model_path is not None:
        return open_model(model_path)
    return open_model(
        hint=Notice(" (the shipped weights are not installed: set {0})", "model_path")
    )


def transcription_to_midi(
    times: np.ndarray, strengths: np.ndarray, classes: np.ndarray, *, bpm: float
) -> bytes:
    """The ``.mid`` bytes of hits: one note per class of each hit, at its exact time.

    ``classes`` is ``(hits, 5)`` bool in the order of `CLASS_NOTES`; ``bpm`` sets the tempo
    event and so the ticks (`TICKS_PER_BEAT` a beat).
    """
    tempo = bpm_to_tempo(bpm)
    ticks_per_s = 1e6 / tempo * TICKS_PER_BEAT
    length = max(1, round(NOTE_LENGTH_S * ticks_per_s))
    keys = list(CLASS_NOTES.values())
    notes = []
    for t, s, row in zip(times, strengths, classes, strict=True):
        tick = max(0, round(float(t) * ticks_per_s))
        velocity = velocity_to_midi(float(s))
        notes += [(tick, keys[j], velocity, length) for j in np.flatnonzero(row)]
    return drum_midi_file(notes, tempo=tempo, ticks_per_beat=TICKS_PER_BEAT)


def hits_record(
    *,
    source: str,
    sample_rate: int,
    duration_s: float,
    tempo_bpm: float | None,
    model: dict[str, object],
    times: np.ndarray,
    strengths: np.ndarray,
    class_probs: np.ndarray,
    classes: np.ndarray,
) -> dict[str, object]:
    """The ``.hits.json`` content (format ``hits``)."""
    names = list(CLASS_NOTES)
    return {
        "drumgenx_version": __version__,
        "source": source,
        "sample_rate": int(sample_rate),
        "duration_s": round(float(duration_s), 6),
        "tempo_bpm": None if tempo_bpm is None else round(float(tempo_bpm), 3),
        "model": model,
        "classes": names,
        "hits": [
            {
                "time_s": round(float(t), 6),
                "strength": round(float(np.clip(s, 0.0, 1.0)), 6),
                "class_probs": {
                    n: round(float(np.clip(p, 0.0, 1.0)), 6)
                    for n, p in zip(names, probs, strict=True)
                },
                "classes": [n for n, on in zip(names, row, strict=True) if on],
            }
            for t, s, probs, row in zip(times, strengths, class_probs, classes, strict=True)
        ],
    }


def _write_pair(out_dir: Path, stem: str, midi: bytes, record: bytes) -> tuple[Path, Path]:
    """``stem.mid`` + ``stem.hits.json``, or the first free ``stem_N`` pair (N >= 2)."""

    def write(name: str) -> tuple[Path, Path]:
        targets = {out_dir / f"{name}.mid": midi, out_dir / f"{name}.hits.json": record}
        written = write_new_files(targets)
        return written[0], written[1]

    try:
        return write(stem)
    except OutputExistsError:
        pass  # taken by an earlier run, by another input of this run, or by a run beside it
    pattern = re.compile(rf"^{re.escape(stem)}_(\d+)\.(mid|hits\.json)$")
    n = 1 + max([1, *(int(m[1]) for p in out_dir.iterdir() if (m := pattern.match(p.name)))])
    while True:
        try:
            return write(f"{stem}_{n}")
        except OutputExistsError:
            n += 1


def transcribe_files(
    paths: Sequence[str | Path],
    *,
    out_dir: str | Path,
    model_path: str | Path | None = None,
    progress: Progress | None = None,
) -> TranscribeSummary:
    """Transcribe every audio file in ``paths`` to ``out_dir``: a ``.mid`` and a ``.hits.json``.

    Parameters
    ----------
    paths
        Audio files and folders (searched recursively for WAV, FLAC, OGG/Vorbis, Opus, MP3,
        AIFF).
    out_dir
        Where the files go (created if needed); nothing in it is replaced.
    model_path
        Transcriber weights (``.npz``); default the shipped ones.
    progress
        Called after each file with (done, total, file).

    Returns
    -------
    TranscribeSummary
        The files written per input and the inputs skipped, with the reason. It is not an
        error here that nothing could be transcribed; the command line makes it one.

    Raises
    ------
    DrumgenxError
        A path that does not exist, missing or unreadable weights, an output folder that
        cannot be created.
    """
    from drumgenx.core.tempo import estimate_tempo

    started = time.perf_counter()
    files, refused = _inputs(paths)
    weights, model = _load_model(model_path)
    out_dir = Path(out_dir).expanduser()
    make_output_folder(out_dir)
    meta = model.meta or {}
    model_info: dict[str, object] = {
        "weights": weights.name,
        "sha256": file_sha256(weights),
        "version": _plain(meta.get("version")),
        "date": None if meta.get("date") is None else str(meta.get("date")),
    }
    summary = TranscribeSummary(skipped=list(refused), model=str(weights))
    for done, path in enumerate(files, 1):
        source = str(path)
        try:
            result = file_hits(path, model=model)
        except AudioReadError as exc:
            summary.skipped.append((source, str(exc).removeprefix(f"{path}: ")))
        else:
            if isinstance(result, str):
                summary.skipped.append((source, result))
            else:
                found, duration, sr = result
                times = np.clip(found.times, 0.0, duration)
                tempo = estimate_tempo(times, strengths=found.strengths)
                midi = transcription_to_midi(
                    times, found.strengths, found.classes, bpm=tempo or FALLBACK_BPM
                )
                record = hits_record(
                    source=source,
                    sample_rate=sr,
                    duration_s=duration,
                    tempo_bpm=tempo,
                    model=model_info,
                    times=times,
                    strengths=found.strengths,
                    class_probs=found.class_probs,
                    classes=found.classes,
                )
                midi_path, json_path = _write_pair(out_dir, path.stem, midi, dump_json(record))
                summary.files.append(
                    TranscribedFile(source, midi_path, json_path, len(times), tempo, duration)
                )
        if progress:
            progress(done, len(files), source)
    summary.seconds = time.perf_counter() - started
    return summary


def _plain(value: object) -> object:
    """A meta value as JSON allows it in ``model.version``: a string, a number or null."""
    if value is None or (isinstance(value, str | int | float) and not isinstance(value, bool)):
        return value
    return str(value)
