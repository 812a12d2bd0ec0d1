"""Stage 1 with disk I/O: an audio folder in; ``dummy_NNNNN.wav`` one-shots and a manifest out.

The work on one source file is the pure function `process_file` (one file in; its slices,
fingerprints and report out), so a process pool or a Dask cluster maps it unchanged.
Around it, `run_preprocess`:

1. finds files recursively (the output folder excluded) and hashes them; files whose
   content an earlier run processed are skipped unless ``force``;
2. maps `process_file` over the files on an engine (`core.engine`: ``workers``
   processes, or a Dask cluster); each file's normalised slices come back to this
   process, which alone writes them, to a hidden staging file so memory stays bounded;
3. de-duplicates all new slices against each other and against the library's earlier
   fingerprints (`dedup.find_duplicates`);
4. links the kept slices to ``dummy_NNNNN.wav`` after the highest existing number (never
   replacing a file), then writes ``manifest_N.json`` and ``fingerprints_N.npz``.

A Ctrl-C or error removes what the run had linked, so the library is as before.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

import numpy as np

from drumgenx import __version__
from drumgenx.core.audio import (
    AUDIO_EXTENSIONS,
    AudioReadError,
    audio_seconds,
    downmix,
    encode_wav,
    read_audio,
)
from drumgenx.core.console import silent
from drumgenx.core.engine import EngineSettings, map_files
from drumgenx.core.errors import OutputExistsError, ParameterError
from drumgenx.core.formats import dump_json, read_json
from drumgenx.core.skips import SkipKind
from drumgenx.core.versioning import (
    file_sha256,
    make_output_folder,
    missing_folders,
    remove_if_empty,
    write_new_files,
    write_versioned,
)
from drumgenx.preprocess.config import PreprocessConfig
from drumgenx.preprocess.dedup import find_duplicates, mfcc_fingerprints
from drumgenx.preprocess.onsets import Onsets, detect_onsets
from drumgenx.preprocess.separation import DrumSeparator, make_separator
from drumgenx.preprocess.settings import PreprocessRunSettings
from drumgenx.preprocess.slicing import Slice, peak_normalize, slice_hits
from drumgenx.transcribe.model import CLASSES

SAMPLE_PATTERN = re.compile(r"^dummy_(\d{5,})\.wav$")
Progress = Callable[[int, int, str], None]  # (files done, files in all, current file)


@dataclass
class FileReport:
    """One source file's line in the run report."""

    source: str
    sha256: str | None
    status: str  # processed | skipped | already_processed
    reason: str | None = None  # why it was skipped, for people
    duration_s: float = 0.0
    hits: int = 0
    separator: str | None = None  # which separator made the stem the slices come from
    # every hit detected in the file: {time_s, strength, level_db, class_probs and classes
    # (transcribe only)}
    hit_list: list[dict] = field(default_factory=list)
    skip: SkipKind | None = None  # why it was skipped, for programs (not in the manifest)


@dataclass
class FileResult:
    """What `process_file` returns: the report, the slices and their fingerprints."""

    report: FileReport
    sr: int = 0
    slices: list[Slice] = field(default_factory=list)
    fingerprints: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # (n, d)


@dataclass
class StagedSlice:
    """A slice written to the staging folder, waiting for de-duplication."""

    staged: Path  # the run's staging file: raw float32, slices back to back
    offset: int  # byte offset of this slice in it
    shape: tuple[int, int]  # (frames, channels)
    sr: int
    source: str
    source_sha256: str
    start_s: float
    end_s: float
    onset_strength: float
    onset_s: float | None = None  # its hit's detected onset (None: sound before the first)
    class_probs: tuple[float, ...] | None = None  # the transcriber's, in CLASSES order


@dataclass
class PreprocessSummary:
    """The run's result: where things went and the counts the user sees."""

    manifest: Path | None
    samples: list[Path]
    files_read: int
    skipped: dict[str, int]
    already_processed: int
    hits_found: int
    duplicates_removed: int
    seconds: float
    reports: list[FileReport]


def process_file(
    path: str | Path,
    *,
    config: PreprocessConfig,
    separator: DrumSeparator,
    sha256: str | None = None,
) -> FileResult:
    """Separate, detect, slice and fingerprint one file. Reads the file; writes nothing.

    A file that cannot be decoded, holds no audio, or is silent comes back with status
    ``skipped`` and the reason; the caller goes on with the next file.
    """
    source = str(path)
    try:
        total_s = audio_seconds(path)
        if total_s <= config.block_s:
            blocks = [(0.0, True, *read_audio(path))]
        else:
            blocks = _blocks(path, total_s=total_s, config=config)
        report = FileReport(source, sha256, "processed", duration_s=total_s)
        slices: list[Slice] = []
        fingerprints: list[np.ndarray] = []
        stem_sr, silent = 0, True
        for offset_s, last, y, sr in blocks:
            if not len(y):  # a header that promised more frames than the file holds
                break
            if float(np.max(np.abs(y))) <= 10 ** (config.silence_dbfs / 20):
                continue
            silent = False
            drums, stem_sr = separator(y, sr)
            report.separator = separator.name
            block_slices, hits, hit_list = _slice_block(
                drums, stem_sr, offset_s=offset_s, last=last, config=config, mix=(y, sr)
            )
            report.hits += hits
            report.hit_list += hit_list
            slices += block_slices
            fingerprints.append(
                mfcc_fingerprints([s.audio for s in block_slices], sr=sr, params=config.dedup)
            )
    except AudioReadError as exc:
        reason = str(exc).removeprefix(f"{path}: ")
        return FileResult(FileReport(source, sha256, "skipped", reason, skip=SkipKind.UNDECODABLE))
    if silent:
        report.status = "skipped"
        report.skip = SkipKind.SILENT
        report.reason = f"silent (peak below {config.silence_dbfs:g} dBFS)"
        return FileResult(report)
    return FileResult(report, sr=stem_sr, slices=slices, fingerprints=np.concatenate(fingerprints))


BLOCK_CONTEXT_S = 1.0
"""Audio read before a block's start, so a sound ringing across the edge is not taken for a
new attack there, and the detector's first frames have a past."""


def _blocks(
    path: str | Path, *, total_s: float, config: PreprocessConfig
) -> Iterator[tuple[float, bool, np.ndarray, int]]:
    """``(offset_s, is_last, audio, sr)`` for each ``block_s`` block of a long file.

    Each read starts `BLOCK_CONTEXT_S` before its block (``offset_s`` is where the read
    starts) and goes on past its end by one longest slice, so a hit near the end keeps its
    tail; a last block too short to hold an attack is left to its predecessor's overhang.
    """
    overhang = config.slicing.max_length_s + 0.5
    start = 0.0
    while True:
        last = start + config.block_s + MIN_BLOCK_S >= total_s
        offset = max(0.0, start - BLOCK_CONTEXT_S)
        seconds = start - offset + config.block_s + overhang
        y, sr = read_audio(path, start_s=offset, max_seconds=seconds)
        yield offset, last, y, sr
        if last:
            return
        start += config.block_s


MIN_BLOCK_S = 0.1  # a block this short at a file's end holds no hit worth slicing alone


def _slice_block(
    drums: np.ndarray,
    sr: int,
    *,
    offset_s: float,
    last: bool,
    config: PreprocessConfig,
    mix: tuple[np.ndarray, int] | None = None,
) -> tuple[list[Slice], int, list[dict]]:
    """The slices of one block's drum stem, timed in the file, its hit count and its hits.

    A block keeps its own hits only: those in its context belong to the block before, those
    in its overhang to the block after. ``mix`` is the block's original audio and rate: the
    transcriber (``onsets.method == "transcribe"``) listens to it, not to the stem. Each
    slice carries its hit's onset (and class probabilities, from the transcriber); the hit
    list holds every detected hit the block owns, sliced or not.
    """
    mono = downmix(drums)
    probs = classes = None
    if config.onsets.method == "transcribe":
        from drumgenx.preprocess.onsets_transcribe import detect_onsets_transcribe

        y_mix, mix_sr = mix if mix is not None else (drums, sr)
        found = detect_onsets_transcribe(
            downmix(y_mix), sr=mix_sr, stem=mono, stem_sr=sr, params=config.onsets
        )
        onsets, probs, classes = found.onsets, found.class_probs, found.classes
    else:
        onsets = detect_onsets(mono, sr=sr, params=config.onsets)
    if offset_s == 0.0:
        starts, strengths = with_lead_in(mono, sr=sr, onsets=onsets, config=config)
        first = 0.0
    else:
        starts, strengths = onsets.starts, onsets.strengths
        first = BLOCK_CONTEXT_S
    lead = len(starts) - len(onsets.starts)  # 1 when sound before the first onset leads
    own = (starts >= first) & ((starts < first + config.block_s) | last)
    hit_of = np.flatnonzero(own) - lead  # each own start's onset (-1: the lead-in)
    starts, strengths = starts[own], strengths[own]
    pieces = slice_hits(drums, sr=sr, starts=starts, strengths=strengths, params=config.slicing)
    out = []
    for piece in pieces:
        k = int(hit_of[piece.hit_index])
        out.append(
            replace(
                piece,
                start_s=piece.start_s + offset_s,
                end_s=piece.end_s + offset_s,
                onset_s=None if k < 0 else float(onsets.times[k]) + offset_s,
                class_probs=None if k < 0 or probs is None else tuple(map(float, probs[k])),
            )
        )
    hit_list = [
        {
            "time_s": round(float(onsets.times[k]) + offset_s, 6),
            "strength": round(float(onsets.strengths[k]), 6),
            "level_db": hit_level_db(mono, sr=sr, time_s=float(onsets.times[k])),
            **(
                {}
                if probs is None or classes is None
                else {
                    "class_probs": class_probs_json(probs[k]),
                    "classes": [c for c, on in zip(CLASSES, classes[k], strict=True) if on],
                }
            ),
        }
        for k in hit_of[hit_of >= 0].tolist()
    ]
    return out, len(starts), hit_list


HIT_LEVEL_S = 0.03
"""A hit's level is the drum stem's peak in this long after it (an attack's peak)."""


def hit_level_db(mono: np.ndarray, *, sr: int, time_s: float) -> float:
    """The drum stem's peak in the `HIT_LEVEL_S` after ``time_s``, in dB re full scale
    (-120 for silence): how hard the hit was struck, on the file's own scale. The detectors'
    strengths are not that (the transcriber's saturates near 1 for most hits)."""
    a = max(0, round(time_s * sr))
    segment = np.abs(mono[a : a + max(1, round(HIT_LEVEL_S * sr))])
    peak = float(segment.max()) if segment.size else 0.0
    return round(20.0 * np.log10(max(peak, 1e-6)), 2)


def class_probs_json(probs: Sequence[float]) -> dict[str, float]:
    """The manifest's ``class_probs`` object: each class name with its probability."""
    return {name: round(float(p), 6) for name, p in zip(CLASSES, probs, strict=True)}


def with_lead_in(
    mono: np.ndarray, *, sr: int, onsets: Onsets, config: PreprocessConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Slice starts and strengths, with the sound before the first onset kept.

    A one-shot whose attack is the file's first sample, a slow swell or an ambience has no
    detectable rise; without this they would never become samples. A lead-in slice has
    strength 0 (no onset measured), so in de-duplication any detected copy outranks it.
    """
    peak = float(np.max(np.abs(mono))) if mono.size else 0.0
    loud = np.flatnonzero(np.abs(mono) >= peak * 10 ** (config.lead_in_db / 20))
    starts, strengths = onsets.starts.copy(), onsets.strengths.copy()
    if peak == 0.0 or not loud.size:
        return starts, strengths
    sound_start = loud[0] / sr
    if starts.size and starts[0] - sound_start <= config.lead_in_merge_s:
        starts[0] = min(starts[0], sound_start)
        return starts, strengths
    return np.concatenate([[sound_start], starts]), np.concatenate([[0.0], strengths])


# --- the per-file work, on any engine -----------------------------------------------------


@dataclass
class _Worker:
    """What one worker builds once and keeps between files: the separator (loading Demucs
    is the slow part) and the notices it gave since the last file."""

    config: PreprocessConfig
    separator: DrumSeparator
    notices: list[str]


def _start_worker(config: PreprocessConfig) -> _Worker:
    """Build a worker's separator; its notices (e.g. the Demucs fallback) are kept and
    handed back with the next result, so the client shows each one once, however many
    workers said it."""
    notices: list[str] = []
    return _Worker(config, make_separator(config.separation, notify=notices.append), notices)


Processed = tuple[FileResult, list[str]]
"""A file's result, its slices peak-normalised float32, and the worker's new notices."""


def _process_job(worker: _Worker, job: tuple[str, str]) -> Processed:
    """One job on a worker (any engine): the file's result travels back with its slices'
    audio, ready to write, so only the client writes (workers may be on other machines)."""
    path, sha256 = job
    config = worker.config
    result = process_file(path, config=config, separator=worker.separator, sha256=sha256)
    result.slices = [
        replace(
            piece,
            audio=np.ascontiguousarray(
                peak_normalize(piece.audio, peak_dbfs=config.output_peak_dbfs), dtype=np.float32
            ),
        )
        for piece in result.slices
    ]
    said, worker.notices[:] = list(worker.notices), []
    return result, said


def _stage_slices(result: FileResult, handle: BinaryIO) -> list[StagedSlice]:
    """Append a file's slices to the client's staging file (one append-only file: many small
    files cost more in file-system work than the slices themselves; only kept slices become
    WAVs) and describe where each one is."""
    staged = []
    for piece in result.slices:
        offset = handle.tell()
        handle.write(piece.audio.tobytes())
        staged.append(
            StagedSlice(
                Path(handle.name),
                offset,
                piece.audio.shape,
                result.sr,
                result.report.source,
                result.report.sha256 or "",
                piece.start_s,
                piece.end_s,
                piece.onset_strength,
                piece.onset_s,
                piece.class_probs,
            )
        )
    return staged


# --- the library on disk ------------------------------------------------------------------


def _fingerprint_key(config: PreprocessConfig) -> str:
    """What makes fingerprints comparable: stored with them, checked before reuse."""
    return json.dumps(asdict(config.dedup), sort_keys=True)


def _existing_library(
    output_root: Path, config: PreprocessConfig, notify: Callable[[str], None]
) -> tuple[set[str], list[str], np.ndarray, int]:
    """Processed source hashes, fingerprinted sample ids + vectors, highest sample number."""
    hashes: set[str] = set()
    for manifest in sorted(output_root.glob("manifest_*.json")):
        data = read_json(manifest, "manifest")
        hashes.update(f["sha256"] for f in data["files"] if f["status"] == "processed")
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    for archive in sorted(output_root.glob("fingerprints_*.npz")):
        with np.load(archive) as stored:
            if str(stored["key"]) != _fingerprint_key(config):
                notify(
                    f"{archive.name} was made with other de-duplication settings: "
                    "new slices are not compared with its samples"
                )
            elif len(stored["sample_ids"]):
                ids += [str(i) for i in stored["sample_ids"]]
                vectors.append(stored["fingerprints"])
    numbers = [
        int(m.group(1)) for p in output_root.iterdir() if (m := SAMPLE_PATTERN.match(p.name))
    ]
    present = [i for i, sid in enumerate(ids) if (output_root / f"{sid}.wav").exists()]
    matrix = np.concatenate(vectors)[present] if vectors else np.zeros((0, 0), np.float32)
    return hashes, [ids[i] for i in present], matrix, max(numbers, default=0)


def _candidates(
    dataset_root: Path, output_root: Path, files: Sequence[Path] | None = None
) -> Iterator[Path]:
    """Every file under ``dataset_root`` (sorted), or ``files`` (in their order) where given,
    except the output folder's own files."""
    output = output_root.resolve()
    # a broken link too: it is listed as unreadable rather than silently not there
    if files is None:
        files = sorted(p for p in dataset_root.rglob("*") if p.is_file() or p.is_symlink())
    for path in files:
        if output not in path.resolve().parents:
            yield path


def _link_samples(
    kept: list[StagedSlice], output_root: Path, first_number: int
) -> list[tuple[StagedSlice, Path]]:
    """Give each kept slice the next free ``dummy_NNNNN.wav`` (exclusive; all-or-nothing)."""
    linked: list[tuple[StagedSlice, Path]] = []
    number = first_number
    try:
        for piece in kept:
            frames, channels = piece.shape
            audio = np.fromfile(
                piece.staged, dtype=np.float32, count=frames * channels, offset=piece.offset
            )
            data = encode_wav(audio.reshape(frames, channels), piece.sr)
            while True:
                target = output_root / f"dummy_{number:05d}.wav"
                number += 1
                try:
                    # one os.sync() for the whole library below: an fsync per file is slow
                    write_new_files({target: data}, fsync=False)
                    break
                except OutputExistsError:
                    continue  # another run took this number: take the next one
            linked.append((piece, target))
    except BaseException:
        for _, path in linked:
            path.unlink(missing_ok=True)
        raise
    os.sync()  # before the manifest names them
    return linked


def run_preprocess(
    *,
    dataset_root: str | Path,
    output_root: str | Path,
    config: PreprocessConfig | None = None,
    workers: int = PreprocessRunSettings.workers,
    engine: str = PreprocessRunSettings.engine,
    scheduler: str | None = PreprocessRunSettings.scheduler,
    force: bool = False,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
    files: Sequence[str | Path] | None = None,
) -> PreprocessSummary:
    """Turn every audio file under ``dataset_root`` into one-shots in ``output_root``.

    Parameters
    ----------
    dataset_root
        Folder searched recursively (WAV, FLAC, OGG/Vorbis, Opus, MP3, AIFF).
    output_root
        Library folder: ``dummy_NNNNN.wav``, ``manifest_N.json``, ``fingerprints_N.npz``.
    config
        All thresholds (`PreprocessConfig`; defaults documented there).
    workers
        Processes working on files in parallel (each loads its own separator); with
        ``engine`` dask and no scheduler, the local cluster's workers (1: one per core).
    engine
        ``local`` (processes on this machine) or ``dask`` (a Dask cluster; the
        ``cluster`` extra): the same library either way (`core.engine`).
    scheduler
        ``engine`` dask: the scheduler's address (None: ``$DASK_SCHEDULER_ADDRESS``, else
        a local cluster). Every worker must see the input files at the same paths.
    force
        Re-process files whose content an earlier run already processed.
    progress
        Called after each file with (done, total, file).
    notify
        Receives notices (a separator fallback, a library entry left out) as single
        lines; None: they are dropped (the command line passes its printer).
    files
        Read only these files (e.g. the ones a user named), not every file under
        ``dataset_root``; ``dataset_root`` is then the folder the manifest records.
    """
    started = time.perf_counter()
    notify = notify or silent
    config = config or PreprocessConfig()
    dataset_root, output_root = Path(dataset_root), Path(output_root)
    if not dataset_root.is_dir():
        raise ParameterError("dataset_root", f"{dataset_root}: no such folder")
    engine_settings = EngineSettings(engine, scheduler, workers)
    engine_settings.validate()
    if config.onsets.method == "transcribe":  # missing weights: one line, before any work
        from drumgenx.preprocess.onsets_transcribe import load_transcriber

        load_transcriber(config.onsets)
    created = missing_folders(output_root, parameter="output_root")
    make_output_folder(output_root)
    try:
        return _preprocess_into(
            dataset_root, output_root, config, engine=engine_settings, force=force,
            progress=progress, notify=notify, files=files, started=started,
        )  # fmt: skip
    except BaseException:
        remove_if_empty(created)  # a failed run leaves no empty folder behind
        raise


def _preprocess_into(
    dataset_root: Path,
    output_root: Path,
    config: PreprocessConfig,
    *,
    engine: EngineSettings,
    force: bool,
    progress: Progress | None,
    notify: Callable[[str], None],
    files: Sequence[str | Path] | None,
    started: float,
) -> PreprocessSummary:
    """`run_preprocess` once its arguments are checked and ``output_root`` exists."""

    known_hashes, library_ids, library_fps, highest = _existing_library(output_root, config, notify)
    chosen = None if files is None else [Path(f) for f in files]
    reports, jobs = _plan_files(
        _candidates(dataset_root, output_root, chosen), known_hashes, force=force
    )

    staging = Path(tempfile.mkdtemp(prefix=".drumgenx-staging-", dir=output_root))
    try:
        done, staged, new = _process_files(
            jobs, config, staging, engine=engine, notify=notify, progress=progress
        )
        reports += done
        kept, absorbed, by_existing = _deduplicate(staged, new, library_ids, library_fps, config)
        linked = _link_samples([staged[i] for i in kept], output_root, highest + 1)
        pairs = zip(kept, linked, strict=True)
        try:
            manifest = _write_manifest(
                output_root, dataset_root, config, reports,
                samples=[(staged[i], path, absorbed.get(i, [])) for i, (_, path) in pairs],
                by_existing=by_existing,
                fingerprints=new[kept] if kept else np.zeros((0, 0), np.float32),
                seconds=time.perf_counter() - started,
            )  # fmt: skip
        except BaseException:
            for _, path in linked:
                path.unlink(missing_ok=True)
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    return PreprocessSummary(
        manifest=manifest,
        samples=[path for _, path in linked],
        **_file_counts(reports),
        duplicates_removed=len(staged) - len(kept),
        seconds=time.perf_counter() - started,
        reports=reports,
    )


def _plan_files(
    candidates: Iterable[Path], known_hashes: set[str], *, force: bool
) -> tuple[list[FileReport], list[tuple[str, str]]]:
    """Reports for the candidates that will not be read (not audio, unreadable, the same
    content twice, processed before) and ``(path, sha256)`` jobs for the rest."""
    reports: list[FileReport] = []
    jobs: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for path in candidates:
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            reports.append(
                FileReport(
                    str(path), None, "skipped", "not an audio file type", skip=SkipKind.NOT_AUDIO
                )
            )
            continue
        try:
            digest = file_sha256(path)
        except OSError as exc:
            reason = f"cannot read ({exc.strerror})"
            reports.append(FileReport(str(path), None, "skipped", reason, skip=SkipKind.UNREADABLE))
            continue
        if digest in seen:
            reports.append(
                FileReport(
                    str(path),
                    digest,
                    "skipped",
                    f"same content as {seen[digest]}",
                    skip=SkipKind.DUPLICATE,
                )
            )
        elif digest in known_hashes and not force:
            reports.append(FileReport(str(path), digest, "already_processed"))
        else:
            seen[digest] = str(path)
            jobs.append((str(path), digest))
    return reports, jobs


def _process_files(
    jobs: list[tuple[str, str]],
    config: PreprocessConfig,
    staging: Path,
    *,
    engine: EngineSettings,
    notify: Callable[[str], None],
    progress: Progress | None,
) -> tuple[list[FileReport], list[StagedSlice], np.ndarray | None]:
    """Find and slice the hits of every job (on ``engine``) and stage the slices in
    ``staging``: the files' reports, the staged slices and their fingerprints (None without
    slices). Each notice is passed on once, however many files raise it. Progress counts
    the files done, in input order."""
    reports: list[FileReport] = []
    staged: list[StagedSlice] = []
    fingerprints: list[np.ndarray] = []
    said: set[str] = set()
    results = map_files(
        _process_job, jobs, initializer=_start_worker, initargs=(config,), settings=engine,
        notify=notify,
    )  # fmt: skip
    # closing: an exception here (Ctrl-C in progress) stops the workers at once
    with contextlib.closing(results), open(staging / "slices.f32", "ab") as handle:
        for done, (result, notices) in enumerate(results, 1):
            for message in notices:
                if message not in said:
                    said.add(message)
                    notify(message)
            reports.append(result.report)
            if result.slices:  # skipped files have no fingerprint matrix of the right width
                staged += _stage_slices(result, handle)
                fingerprints.append(result.fingerprints)
            if progress:
                progress(done, len(jobs), result.report.source)
    return reports, staged, np.concatenate(fingerprints) if staged else None


def _file_counts(reports: list[FileReport]) -> dict[str, object]:
    """The per-file part of the run summary (manifest and CLI alike)."""
    # Skip reasons grouped: "cannot decode audio (...)" -> "cannot decode audio".
    skipped = Counter(
        (r.reason or "unknown").split(" (")[0].split(" as ")[0]
        for r in reports
        if r.status == "skipped"
    )
    return {
        "files_read": sum(r.status == "processed" for r in reports),
        "skipped": dict(skipped),
        "already_processed": sum(r.status == "already_processed" for r in reports),
        "hits_found": sum(r.hits for r in reports),
    }


def _deduplicate(
    staged: list[StagedSlice],
    new: np.ndarray | None,
    library_ids: list[str],
    library_fps: np.ndarray,
    config: PreprocessConfig,
) -> tuple[list[int], dict[int, list[dict]], list[dict]]:
    """Keep one slice per group of near-duplicates; the library's samples always win.

    Returns the indices (into ``staged``) of the kept slices, what each kept slice
    absorbed, and the new slices absorbed by samples already in the library.
    """
    if not staged or new is None:
        return [], {}, []
    old = library_fps if len(library_ids) and library_fps.shape[1] == new.shape[1] else None
    everything = new if old is None else np.concatenate([old, new])
    n_old = 0 if old is None else len(old)
    # Earlier samples outrank every new slice, so a new slice never replaces one of them;
    # among new slices the strongest onset (the cleanest, least masked hit) is kept.
    scores = np.concatenate(
        [np.full(n_old, np.inf), np.array([s.onset_strength for s in staged], np.float64)]
    )
    representative = find_duplicates(
        everything,
        scores=scores,
        threshold=config.dedup.threshold,
        block_size=config.dedup.block_size,
    )
    kept: list[int] = []
    absorbed: dict[int, list[dict]] = {}
    by_existing: list[dict] = []
    for i, piece in enumerate(staged):
        rep = int(representative[n_old + i])
        if rep == n_old + i:
            kept.append(i)
            continue
        hit = {
            "source": piece.source,
            "start_s": round(piece.start_s, 6),
            "end_s": round(piece.end_s, 6),
            "similarity": round(float(everything[rep] @ everything[n_old + i]), 6),
            **_hit_fields(piece),
        }
        if rep < n_old:
            by_existing.append({"sample_id": library_ids[rep], **hit})
        else:
            absorbed.setdefault(rep - n_old, []).append(hit)
    return kept, absorbed, by_existing


def _hit_fields(piece: StagedSlice) -> dict[str, object]:
    """A slice's hit in the manifest: ``onset_s`` (null for sound before the first onset)
    and, when the transcriber found it, ``class_probs``."""
    fields: dict[str, object] = {
        "onset_s": None if piece.onset_s is None else round(piece.onset_s, 6)
    }
    if piece.class_probs is not None:
        fields["class_probs"] = class_probs_json(piece.class_probs)
    return fields


def _report_record(report: FileReport) -> dict[str, object]:
    """A file's report as the manifest lists it: every field but ``skip`` (its reason says it)."""
    record = asdict(report)
    del record["skip"]
    return record


def _write_manifest(
    output_root: Path,
    dataset_root: Path,
    config: PreprocessConfig,
    reports: list[FileReport],
    *,
    samples: list[tuple[StagedSlice, Path, list[dict]]],
    by_existing: list[dict],
    fingerprints: np.ndarray,
    seconds: float,
) -> Path | None:
    """Write ``manifest_N.json`` and ``fingerprints_N.npz`` (one N) unless nothing happened."""
    if not any(r.status != "already_processed" for r in reports):
        return None
    records = [
        {
            "sample_id": path.stem,
            "file": path.name,
            "source": piece.source,
            "source_sha256": piece.source_sha256,
            "start_s": round(piece.start_s, 6),
            "end_s": round(piece.end_s, 6),
            "onset_strength": round(piece.onset_strength, 6),
            **_hit_fields(piece),
            "absorbed": absorbed,
        }
        for piece, path, absorbed in samples
    ]
    manifest = {
        "drumgenx_version": __version__,
        "dataset_root": str(dataset_root),
        "separator": ", ".join(sorted({r.separator for r in reports if r.separator})) or "none",
        "config": asdict(config),
        "samples": records,
        "absorbed_by_existing": by_existing,
        "files": [_report_record(r) for r in reports],
        "summary": {
            **_file_counts(reports),
            "duplicates_removed": sum(len(s["absorbed"]) for s in records) + len(by_existing),
            "samples_written": len(records),
            "seconds": round(seconds, 3),
        },
    }
    buffer = io.BytesIO()
    np.savez(
        buffer,
        key=np.array(_fingerprint_key(config)),
        sample_ids=np.array([s["sample_id"] for s in records]),
        fingerprints=fingerprints.astype(np.float32),
    )
    _, paths = write_versioned(
        output_root,
        {"manifest": (".json", dump_json(manifest)), "fingerprints": (".npz", buffer.getvalue())},
    )
    return paths["manifest"]
