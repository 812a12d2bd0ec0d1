"""``drumgenx run``: the four stages in order, each stage's files under one output folder.

The layout under ``out`` (``library_K/``, ``roles/``, ``skeleton/``, ``groove/``,
``run_N.json``, ``.drumgenx-run/``) is defined, and documented, in `drumgenx.core.layout`;
the editor finds a run's pools and library through it.

The input is one folder of audio, or any mix of audio files and folders: stage 1 reads the
files named and every file under the folders named (the audio itself is never copied).

Reuse: a stage's key hashes every setting that changes its output, the key of the stage
before it (so a change upstream redoes everything after it) and, for stage 1, the input
files' names, sizes and modification times (as make and rsync judge change). The settings
include what lives in files: stage 1's learned weights (the transcriber's or the learned
onset detector's, whichever is used), stage 2's role config and prompts (their values,
wherever they were read from), its learned scorer's weights and the CLAP checkpoint that
would load, stage 4's GrooVAE weights. A stage whose key has a record whose files all still
exist is reused, not redone; ``from_stage`` re-runs that stage and the rest.

Every stage writes its files atomically under a new N, and the run record is written last,
so an error or Ctrl-C part-way leaves the finished stages reusable and no half-written file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from drumgenx import __version__
from drumgenx.core.console import silent
from drumgenx.core.engine import EngineSettings
from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.formats import dump_json, schema_problem
from drumgenx.core.layout import (
    RUN_FAMILY,
    STATE_DIR,
    library_folder,
    library_numbers,
    stage_folder,
)
from drumgenx.core.roles import ROLES
from drumgenx.core.skips import SkipKind
from drumgenx.core.versioning import (
    make_output_folder,
    missing_folders,
    remove_if_empty,
    weights_sha256,
    write_versioned,
)
from drumgenx.groove.settings import GrooveSettings
from drumgenx.render.settings import RenderSettings
from drumgenx.skeleton.settings import PatternSettings

STAGES: tuple[str, ...] = ("preprocess", "roles", "skeleton", "groove")
Progress = Callable[[str, int, int, str], None]  # (stage, done, total, current item)


@dataclass(frozen=True)
class ChainParams:
    """The settings of a whole run; every other setting is its stage's default.

    Defaults: ``bpm`` auto and ``pattern`` auto (the input's own pattern at its tempo where
    it has a steady one, else a GMD style's; `skeleton.origin`), ``seed`` 42 as stage 3's
    examples, ``bars`` 8 (a loop long enough for GrooVAE's 2-bar windows to vary), ``mode``
    humanize, ``temperature`` 0.5, ``feel`` 0, ``drummer`` 0, ``style`` "" (any) and
    ``played`` keep (the input's own pattern keeps its velocity and micro-timing) as stage 4
    (`GrooveSettings`). ``separator`` /
    ``demucs_repo`` / ``onset_method`` / ``clap_model`` None: the stage's own default (Demucs
    with the HPSS fallback, its weights from the local caches, the drum transcriber, the
    cached CLAP checkpoint);
    ``transcriber_weights`` None: the shipped weights (``onset_method`` transcribe only).
    ``role_config`` / ``prompts`` None: stage 2's (the checkout's
    ``stage2_role_assignment`` files, else the shipped defaults); a file in their format
    changes only the keys it names (`drumgenx.roles.settings`).
    ``loop`` as the render stage (`RenderSettings.loop`: each render exactly its bars long,
    tails wrapped to the start; False, ``--tails``, keeps them after the end).
    ``workers``, ``engine`` and ``scheduler`` (where stages 1 and 2 map their per-file
    work: `core.engine.EngineSettings`) change speed only, so they are in no stage's key.
    ``motion_mode`` / ``motion_keep`` / ``fill_prob`` / ``texture``: stage 3's
    (`PatternSettings`; they shape the seed's rules); ``drumgenx run`` has no flags for them,
    only ``--skeleton_config``.
    """

    bpm: float | str = "auto"
    pattern: str = "auto"
    bars: int = 8
    seed: int = PatternSettings.seed
    mode: str = GrooveSettings.mode
    temperature: float = GrooveSettings.temperature
    feel: float = GrooveSettings.feel
    drummer: int = GrooveSettings.drummer
    style: str = GrooveSettings.style
    played: str = GrooveSettings.played
    swing: float = RenderSettings.swing
    loop: bool = RenderSettings.loop
    separator: str | None = None
    demucs_repo: str | None = None
    onset_method: str | None = None
    transcriber_weights: str | None = None
    role_config: str | None = None
    prompts: str | None = None
    clap_model: str | None = None
    workers: int = 1
    engine: str = EngineSettings.engine
    scheduler: str | None = EngineSettings.scheduler
    motion_mode: str = PatternSettings.motion_mode
    motion_keep: int = PatternSettings.motion_keep
    fill_prob: float = PatternSettings.fill_prob
    texture: bool = PatternSettings.texture

    def validate(self) -> None:
        """Fail before stage 1 spends minutes, not at stage 3."""
        from drumgenx.groove.run import MODES, PLAYED_CHOICES
        from drumgenx.render.timing import check_swing
        from drumgenx.skeleton.grid import build_grid
        from drumgenx.skeleton.origin import DEFAULT_BPM, parse_bpm

        build_grid(bpm=parse_bpm(self.bpm) or DEFAULT_BPM, num_bars=max(self.bars, 1))
        self.skeleton_params().validate()
        check_swing(self.swing)
        if self.mode not in MODES:
            raise ParameterError("mode", f"must be {' or '.join(MODES)}, got {self.mode!r}")
        if self.played not in PLAYED_CHOICES:
            raise ParameterError(
                "played", f"must be {' or '.join(PLAYED_CHOICES)}, got {self.played!r}"
            )
        if not (math.isfinite(self.temperature) and self.temperature >= 0):
            raise ParameterError("temperature", f"must be a number >= 0, got {self.temperature:g}")
        self.check_groove_feel()
        self.engine_settings().validate()
        self.roles_identity()  # a bad role config or prompts file

    def check_groove_feel(self) -> None:
        """Stage 4's feel, drummer and style, checked as stage 4 checks them (a feel outside
        0..1; a drummer or style the shipped humanizer does not know)."""
        from drumgenx.groove.humanizer import Humanizer, check_feel

        check_feel(self.feel)
        if self.mode == "humanize" and (self.drummer or self.style):
            Humanizer.load().condition(drummer=self.drummer or None, style=self.style or None)

    def engine_settings(self) -> EngineSettings:
        """Where stages 1 and 2 map their per-file work."""
        return EngineSettings(self.engine, self.scheduler, self.workers)

    def roles_identity(self) -> dict[str, Any]:
        """What stage 2's output depends on besides its input (`roles.run.roles_identity`)."""
        from drumgenx.roles.run import roles_identity

        return roles_identity(
            config_path=self.role_config, prompts_path=self.prompts, clap_model=self.clap_model
        )

    def skeleton_params(self):  # -> skeleton.patterns.SkeletonParams
        from drumgenx.skeleton.patterns import SkeletonParams

        pattern = {f.name: getattr(self, f.name) for f in fields(PatternSettings)}
        return SkeletonParams(**pattern)

    def preprocess_config(self):  # -> preprocess.config.PreprocessConfig
        from drumgenx.preprocess.config import PreprocessConfig, with_overrides

        config = with_overrides(
            PreprocessConfig(),
            separation={
                key: value
                for key, value in (("method", self.separator), ("demucs_repo", self.demucs_repo))
                if value
            },
            onset_method=self.onset_method,
        )
        # only where it is used: a weights path does not change what flux finds
        if config.onsets.method != "transcribe":
            return config
        return with_overrides(config, transcriber_weights=self.transcriber_weights)


@dataclass
class StageResult:
    """One stage of a run: its key, whether it was reused, what it wrote (paths under out)."""

    stage: str
    key: str
    reused: bool
    seconds: float
    outputs: dict[str, str]
    summary: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChainRun:
    """What `run_chain` did; ``record`` is ``run_N.json``."""

    out: Path
    record: Path
    stages: list[StageResult]

    def output(self, stage: str, name: str) -> Path:
        result = next(s for s in self.stages if s.stage == stage)
        return self.out / result.outputs[name]

    @property
    def wav(self) -> Path:
        return self.output("groove", "render")

    @property
    def midi(self) -> Path:
        return self.output("groove", "midi")


def _groove_label(mode: str, events: Path) -> str:
    """The step grid's stage-4 panel: the model that made it, and whether the played hits
    kept their own feel (`GrooveSettings.played`)."""
    from drumgenx.core.formats import load_events
    from drumgenx.core.records import PLAYED

    model = "humanizer" if mode == "humanize" else f"GrooVAE {mode}"
    sources = {e.source for e in load_events(events) if e.role != "TEXTURE"}
    if sources == {PLAYED}:
        return f"{model}: every hit kept as played"
    return f"{model}, played hits kept" if PLAYED in sources else model


def _skeleton_label(skeleton_meta: Path) -> str:
    """The step grid's skeleton panel, named by where its pattern came from: the input's
    own section (file and seconds), a GMD style's pattern, or the seed's rules."""
    from drumgenx.core.formats import read_json

    pattern = read_json(skeleton_meta, "skeleton_meta").get("pattern", {"kind": "seed"})
    if pattern["kind"] == "source":
        return (
            f"skeleton: {Path(pattern['file']).name}'s own {pattern['section_bars']}-bar "
            f"pattern, {pattern['section_start_s']:g}-{pattern['section_end_s']:g} s"
        )
    if pattern["kind"] == "style":
        return f"skeleton: GMD {pattern['style']} pattern ({pattern['gmd_id']})"
    return "skeleton: the seed's rules"


def _key(*parts: Any) -> str:
    text = json.dumps([__version__, *parts], sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def input_listing(input_dir: Path) -> list[tuple[str, int, int]]:
    """(path under input_dir, size, mtime_ns) of every file: what stage 1's key depends on."""
    listing = []
    for path in sorted(input_dir.rglob("*")):
        if path.is_file():
            stat = path.stat()
            listing.append((path.relative_to(input_dir).as_posix(), stat.st_size, stat.st_mtime_ns))
    return listing


def _listed_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (sorted), as stage 1 lists a folder (broken links too)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


class Inputs:
    """What a run reads: one folder (stage 1's own case), or several files and/or folders."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)

    @property
    def folder(self) -> Path | None:
        """The one input folder, where that is the whole input."""
        only = self.paths[0]
        return only if len(self.paths) == 1 and only.is_dir() else None

    @property
    def root(self) -> Path:
        """The folder stage 1 records: the input folder, or the one holding every input."""
        if self.folder is not None:
            return self.folder
        homes = [os.path.abspath(p if p.is_dir() else p.parent) for p in self.paths]
        return Path(os.path.commonpath(homes))

    def files(self) -> list[Path] | None:
        """The files stage 1 reads (each once, in input order); None: all of `folder`."""
        if self.folder is not None:
            return None
        files: dict[str, Path] = {}
        for path in self.paths:
            for file in _listed_files(path) if path.is_dir() else [path]:
                files.setdefault(os.path.realpath(file), file)
        return list(files.values())

    def listing(self) -> Any:
        """Every input file's name, size and mtime: what stage 1's key depends on."""
        if self.folder is not None:
            return input_listing(self.folder)  # as before several inputs: old keys still hold
        listing = []
        for path in self.paths:
            if path.is_dir():
                listing.append([os.path.abspath(path), input_listing(path)])
            else:
                stat = path.stat()
                listing.append([os.path.abspath(path), stat.st_size, stat.st_mtime_ns])
        return listing

    def __str__(self) -> str:
        first = str(self.paths[0])
        return first if len(self.paths) == 1 else f"{first} and {len(self.paths) - 1} more"


def _record_path(out: Path, stage: str, key: str) -> Path:
    return out / STATE_DIR / f"{stage}-{key}.json"


def _cached(out: Path, stage: str, key: str) -> StageResult | None:
    """The finished stage with this key, if its record and every file it names still exist."""
    path = _record_path(out, stage, key)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        result = StageResult(**{**data, "reused": True, "seconds": 0.0})
    except (OSError, ValueError, TypeError):
        return None  # never written, or damaged: the stage simply runs again
    if result.stage != stage or result.key != key:
        return None
    if not all((out / p).exists() for p in result.outputs.values()):
        return None
    return result


def _remember(out: Path, result: StageResult) -> None:
    """Store a finished stage's record (atomically: a reader sees all of it or none)."""
    path = _record_path(out, result.stage, result.key)
    path.parent.mkdir(exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(dump_json(result.to_json()))
        os.replace(temp, path)  # an index, not an output: replacing a stale one is right
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise DrumgenxError(f"cannot write {path}: {exc.strerror}") from None


def _new_library_dir(out: Path) -> Path:
    """``out/library_K``, K one past the highest there, created exclusively."""
    k = 1 + max(library_numbers(out), default=0)
    while True:
        folder = library_folder(out, k)
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            k += 1
        except OSError as exc:
            raise DrumgenxError(f"cannot create {folder}: {exc.strerror}") from None


def _relative(out: Path, paths: dict[str, Path]) -> dict[str, str]:
    return {name: Path(os.path.relpath(path, out)).as_posix() for name, path in paths.items()}


class _Chain:
    """The state one run shares between its stages."""

    def __init__(
        self,
        inputs: Inputs | Path,
        out: Path,
        params: ChainParams,
        progress: Progress | None,
        notify: Callable[[str], None],
    ) -> None:
        self.inputs = inputs if isinstance(inputs, Inputs) else Inputs([inputs])
        self.out, self.params = out, params
        self.progress, self.notify = progress, notify
        self.results: dict[str, StageResult] = {}

    def path(self, stage: str, name: str) -> Path:
        return self.out / self.results[stage].outputs[name]

    def reporter(self, stage: str) -> Callable[[int, int, str], None] | None:
        if self.progress is None:
            return None
        progress = self.progress
        return lambda done, total, item: progress(stage, done, total, item)

    # --- one method per stage: returns (outputs, summary) ------------------------------

    def preprocess(self) -> tuple[dict[str, Path], dict[str, Any]]:
        from drumgenx.preprocess.run import run_preprocess

        library = _new_library_dir(self.out)
        try:
            summary = run_preprocess(
                dataset_root=self.inputs.root,
                files=self.inputs.files(),
                output_root=library,
                config=self.params.preprocess_config(),
                workers=self.params.workers,
                engine=self.params.engine,
                scheduler=self.params.scheduler,
                progress=self.reporter("preprocess"),
                notify=self.notify,
            )
            if not summary.samples:
                skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped.items())
                raise DrumgenxError(
                    f"no drum hits found in {self.inputs} ({summary.files_read} files "
                    f"read; skipped: {skipped or 'none'})"
                )
        except BaseException:
            shutil.rmtree(library, ignore_errors=True)  # this run's folder, no samples in it
            raise
        not_audio = 0
        for report in summary.reports:
            if report.skip is SkipKind.NOT_AUDIO:
                not_audio += 1  # notes, cover art, the demo's truth file: no news
            elif report.status == "skipped":
                self.notify(f"skipped {report.source}: {report.reason}")
        if not_audio:
            self.notify(f"{not_audio} file(s) that are not audio were left out (see the manifest)")
        return {"library": library, "manifest": summary.manifest}, {
            "files_read": summary.files_read,
            "skipped": summary.skipped,
            "hits_found": summary.hits_found,
            "duplicates_removed": summary.duplicates_removed,
            "samples": len(summary.samples),
        }

    def roles(self) -> tuple[dict[str, Path], dict[str, Any]]:
        from drumgenx.roles.run import run_roles

        result = run_roles(
            input_dir=self.path("preprocess", "library").resolve(),
            out_dir=stage_folder(self.out, "roles"),
            limit=0,
            config_path=self.params.role_config,
            prompts_path=self.params.prompts,
            clap_model=self.params.clap_model,
            workers=self.params.workers,
            engine=self.params.engine,
            scheduler=self.params.scheduler,
            progress=self.reporter("roles"),
            notify=self.notify,
        )
        for path, reason in result.skipped:
            self.notify(f"skipped {path}: {reason}")
        counts = dict.fromkeys(ROLES, 0)
        for score in result.scores:
            counts[score.role] += 1
        outputs = {"pools": result.pools_path, "per_sample": result.per_sample_path}
        return outputs, {"roles": counts, "clap": result.clap, "skipped": len(result.skipped)}

    def skeleton(self) -> tuple[dict[str, Path], dict[str, Any]]:
        from drumgenx.render.run import export_midi_file
        from drumgenx.skeleton.run import run_skeleton

        report = self.reporter("skeleton")
        run = run_skeleton(
            out_dir=stage_folder(self.out, "skeleton"),
            bpm=self.params.bpm,
            pools_json=self.path("roles", "pools"),
            params=self.params.skeleton_params(),
            sample_root=self.path("preprocess", "library"),
            swing=self.params.swing,
            loop=self.params.loop,
            notify=self.notify,
        )
        if report:
            report(1, 2, "pattern and render")
        midi = export_midi_file(
            run.paths["event_grid"], run.paths["grid"], swing=self.params.swing, notify=self.notify
        )
        if report:
            report(2, 2, "MIDI")
        return {**run.paths, "midi": midi.path}, {"version": run.version}

    def groove(self) -> tuple[dict[str, Path], dict[str, Any]]:
        from drumgenx.groove.run import run_groove
        from drumgenx.pictures.run import plot_library_file, plot_step_grid_file
        from drumgenx.render.run import export_midi_file

        grid = self.path("skeleton", "grid")
        events = self.path("skeleton", "event_grid")
        out = stage_folder(self.out, "groove")
        result = run_groove(
            grid_json=grid,
            events_json=events,
            pools_json=self.path("roles", "pools"),
            out_dir=out,
            mode=self.params.mode,
            temperature=self.params.temperature,
            seed=self.params.seed,
            feel=self.params.feel,
            drummer=self.params.drummer or None,
            style=self.params.style or None,
            played=self.params.played,
            render=True,
            sample_root=self.path("preprocess", "library"),
            swing=self.params.swing,
            loop=self.params.loop,
            progress=self.reporter("groove"),
            notify=self.notify,
        )
        midi = export_midi_file(
            result.events_path, grid, swing=self.params.swing, notify=self.notify
        )
        step_grid = plot_step_grid_file(
            grid,
            [
                (_skeleton_label(self.path("skeleton", "skeleton_meta")), events),
                (_groove_label(self.params.mode, result.events_path), result.events_path),
            ],
            out_dir=out,
        )
        library_map = plot_library_file(
            self.path("roles", "per_sample"),
            out_dir=out,
            skeleton_meta_json=self.path("skeleton", "skeleton_meta"),
        )
        outputs = {
            "event_grid": result.events_path,
            "render": result.render_path,
            "midi": midi.path,
            "grid_picture": step_grid,
            "library_map": library_map,
        }
        return outputs, {
            "version": result.version,
            "added": result.added,
            "removed": result.removed,
        }

    def key(self, stage: str) -> str:
        p = self.params
        before = self.results[STAGES[STAGES.index(stage) - 1]].key if stage != STAGES[0] else None
        if stage == "preprocess":
            config = p.preprocess_config()
            parts: list[Any] = [stage, asdict(config), self.inputs.listing()]
            if config.onsets.method == "transcribe":  # the same path may hold new weights
                from drumgenx.preprocess.onsets_transcribe import transcriber_identity

                parts.append(transcriber_identity(config.onsets))
            elif config.onsets.method == "learned":
                from drumgenx.preprocess.onsets_learned import DEFAULT_WEIGHTS

                parts.append(weights_sha256(DEFAULT_WEIGHTS, "learned onset weights"))
            return _key(*parts)
        if stage == "roles":
            return _key(stage, before, p.clap_model, p.roles_identity())
        if stage == "skeleton":
            parts = [stage, before, p.bpm, asdict(p.skeleton_params()), p.swing, p.loop]
            if p.pattern != "seed":  # style, and auto's and source's fallback, read it
                from drumgenx.skeleton import styles

                parts.append(weights_sha256(styles.LIBRARY_PATH, "GMD style library"))
            return _key(*parts)
        from drumgenx.groove.files import model_identity

        groove = model_identity(p.mode)
        feel = (p.feel, p.drummer, p.style, p.played)
        return _key(stage, before, p.mode, p.temperature, p.seed, *feel, p.swing, p.loop, groove)


def run_chain(
    inputs: str | Path | Sequence[str | Path],
    *,
    out: str | Path,
    params: ChainParams | None = None,
    from_stage: str | None = None,
    progress: Progress | None = None,
    on_stage: Callable[[StageResult], None] | None = None,
    notify: Callable[[str], None] | None = None,
) -> ChainRun:
    """Run preprocess → roles → skeleton → groove on ``inputs``; every file under ``out``.

    Parameters
    ----------
    inputs
        A folder of audio (songs, loops, one-shots, found sounds), searched recursively; or
        an audio file; or a list of files and/or folders.
    out
        Output folder (created if needed); must not be an input folder or inside one, or the
        run's own renders would become next run's inputs. A run that fails leaves no folder
        it created empty behind.
    params
        `ChainParams` (defaults documented there).
    from_stage
        Re-run this stage and every later one even if reusable; the earlier ones are reused
        when they can be (and run when they cannot).
    progress
        ``progress(stage, done, total, item)`` during each stage's work.
    on_stage
        Called with each `StageResult` as its stage finishes (or is reused).
    notify
        Receives notices (skipped files, fallbacks) as single lines; None: they are dropped
        (the command line passes its printer).

    Raises
    ------
    DrumgenxError
        A bad option or input (a missing path, ``out`` a file); a stage that cannot go on (e.g.
        no hits in the audio). The stages finished before it keep their files and are reused
        by the next run.
    """
    params = params or ChainParams()
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    paths, out = [Path(p).expanduser() for p in inputs], Path(out).expanduser()
    if not paths:
        raise DrumgenxError("no INPUT: name an audio file or a folder of audio")
    for path in paths:
        if not path.exists():
            raise DrumgenxError(f"INPUT {path}: no such file or folder")
    if from_stage is not None and from_stage not in STAGES:
        raise ParameterError(
            "from_stage", f"must be one of {', '.join(STAGES)}, got {from_stage!r}"
        )
    created = missing_folders(out, parameter="out")
    for folder in (p for p in paths if p.is_dir()):
        if out.resolve().is_relative_to(folder.resolve()):
            raise ParameterError(
                "out",
                f"{out} is inside the input folder {folder}: the run's own renders would "
                "become inputs; choose an output folder outside it",
            )
    params.validate()
    make_output_folder(out)

    try:
        return _run_stages(
            Inputs(paths), out, params, from_stage, progress, on_stage, notify or silent
        )
    except BaseException:
        remove_if_empty(created)  # e.g. no hits: the run leaves no empty folder behind
        raise


def _run_stages(
    inputs: Inputs,
    out: Path,
    params: ChainParams,
    from_stage: str | None,
    progress: Progress | None,
    on_stage: Callable[[StageResult], None] | None,
    notify: Callable[[str], None],
) -> ChainRun:
    chain = _Chain(inputs, out, params, progress, notify)
    redo_from = STAGES.index(from_stage) if from_stage else len(STAGES)
    for index, stage in enumerate(STAGES):
        key = chain.key(stage)
        result = _cached(out, stage, key) if index < redo_from else None
        if result is None:
            started = time.perf_counter()
            outputs, summary = getattr(chain, stage)()
            result = StageResult(
                stage, key, False, round(time.perf_counter() - started, 3),
                _relative(out, outputs), summary,
            )  # fmt: skip
            _remember(out, result)
        chain.results[stage] = result
        if on_stage:
            on_stage(result)

    stages = [chain.results[s] for s in STAGES]
    record = {
        "drumgenx_version": __version__,
        "input_dir": str(inputs.root),
        "inputs": [str(p) for p in inputs.paths],
        "params": asdict(params),
        "from_stage": from_stage,
        "stages": [s.to_json() for s in stages],
        "final": {"wav": stages[-1].outputs["render"], "midi": stages[-1].outputs["midi"]},
    }
    problem = schema_problem(record, "run")
    if problem:  # a bug, not a user error: the record must match its own schema
        raise AssertionError(f"run record off its schema: {problem}")
    _, paths = write_versioned(out, {RUN_FAMILY: (".json", dump_json(record))})
    return ChainRun(out, paths[RUN_FAMILY], stages)
