"""A new run from the studio: the uploads checked and saved, the four stages in the background.

`NewRuns.start` makes a new folder in OUT (``new_<time>/``), saves each upload that passes
`check_upload` into its ``input/`` (a bad one is a listed skip, as stage 1 lists skips, and
the others go on), and runs `drumgenx.chain.run.run_chain` on a thread with its
``progress``, ``on_stage`` and ``notify`` callbacks; each call becomes an event in the run's
`RunJob`, which the page reads as server-sent events (`RunJob.events_since`). One run at a
time per studio: a second start while one runs is refused (`Busy`, 409). `NewRuns.stop`
asks a run to stop: it stops at its next file or stage (`RunStopped`, raised from those
callbacks), and the stages clean up as on Ctrl-C: the unfinished stage's files are removed,
the finished stages' files stay (and the next run on the same input reuses them).

Light (stdlib and the package): the routes that parse the upload form are in
`drumgenx.studio.app`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from drumgenx.core.audio import AUDIO_EXTENSIONS, AudioReadError, audio_seconds
from drumgenx.core.errors import DrumgenxError, OutputExistsError
from drumgenx.core.versioning import write_new_files
from drumgenx.studio.api import BadRequest, NotFound, RequestError, checked_field
from drumgenx.studio.paths import relative_name

__all__ = [
    "INPUT_FOLDER",
    "MAX_FILE_BYTES",
    "MAX_TOTAL_BYTES",
    "Busy",
    "NewRuns",
    "RunJob",
    "RunStopped",
    "Upload",
    "chain_params",
    "check_upload",
    "safe_upload_name",
]

# A long song as 16-bit 44.1 kHz stereo WAV is about 10 MB a minute: 200 MB holds ~19
# minutes. Bigger is more likely a mistake (a video, a disk image) than drums to slice.
MAX_FILE_BYTES = 200 * 1024 * 1024
# The server spools uploads to disk before checking them; this keeps one drop of a whole
# music collection from filling it. For more, name the folder on this machine instead.
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
MAX_NAME_CHARS = 120  # of a saved name: well under every file system's 255 bytes
INPUT_FOLDER = "input"  # the uploads, inside the new run's folder (outside its outputs)
END_EVENTS = ("done", "failed", "stopped")  # a run's last event
_UNSAFE_CHARS = re.compile(r"[^\w\-. ()+,&@']")  # \w: letters and digits of any script


class Busy(RequestError):
    """A new run was asked for while one is still running (one at a time per studio)."""

    status = 409


class RunStopped(DrumgenxError):
    """Raised inside a run's callbacks when the page asked it to stop (`NewRuns.stop`)."""


class UploadSkip(DrumgenxError):
    """Why one upload is left out (the answer lists it; the other uploads go on)."""


@dataclass
class Upload:
    """One uploaded file as the form gave it: the browser's name, its size and its bytes."""

    name: str
    size: int
    file: BinaryIO


def safe_upload_name(given: str) -> str:
    """The name an upload is saved under: the last part of ``given`` (no folders), letters,
    digits and a few signs kept, anything else (controls, separators) made ``_``.

    Raises
    ------
    UploadSkip
        No name is left, the name is hidden (``.name``), or it is no audio type by its
        extension (`AUDIO_EXTENSIONS`).
    """
    name = unicodedata.normalize("NFC", given.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name.strip("."):
        raise UploadSkip("no file name")
    if name.startswith("."):
        raise UploadSkip("a hidden file name (starts with '.')")
    path = Path(_UNSAFE_CHARS.sub("_", name))
    suffix = path.suffix.lower()
    if suffix not in AUDIO_EXTENSIONS:
        kinds = ", ".join(sorted(AUDIO_EXTENSIONS))
        raise UploadSkip(f"not an audio file by its name (the studio takes {kinds})")
    return path.stem[: MAX_NAME_CHARS - len(suffix)] + suffix


def check_upload(data: bytes, suffix: str, *, scratch: Path) -> None:
    """Raise `UploadSkip` unless ``data`` decodes as audio: its header read by the package's
    reader (`core.audio.audio_seconds`, which also refuses a WAV cut short), from a file in
    ``scratch`` named with ``suffix`` (the decoder goes by it for some formats)."""
    probe = scratch / f"probe{suffix}"
    probe.write_bytes(data)
    try:
        seconds = audio_seconds(probe)
    except AudioReadError as exc:
        raise UploadSkip(str(exc).removeprefix(f"{probe}: ")) from None
    finally:
        probe.unlink(missing_ok=True)
    if not seconds > 0:
        raise UploadSkip("holds no audio frames")


def chain_params(body: Mapping[str, Any]):  # -> drumgenx.chain.run.ChainParams
    """The run's settings from the page (``bars``, ``bpm`` "auto" or a number, ``mode``,
    ``temperature``, ``seed``; each optional), checked as ``drumgenx run`` checks them.

    Raises
    ------
    BadRequest, ParameterError
        A field of the wrong type; a value the run refuses (the message names it).
    """
    from drumgenx.chain.run import ChainParams

    numbers = (int, float)
    given = {
        "bars": checked_field(body, "bars", int, optional=True),
        "bpm": checked_field(body, "bpm", (str, *numbers), optional=True),
        "mode": checked_field(body, "mode", str, optional=True),
        "temperature": checked_field(body, "temperature", numbers, optional=True),
        "seed": checked_field(body, "seed", int, optional=True),
    }
    params = ChainParams(**{name: value for name, value in given.items() if value is not None})
    params.validate()
    return params


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, DrumgenxError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split()) or type(exc).__name__


@dataclass
class RunJob:
    """One new run: its folder and the events its stream sends, in order.

    Each event is ``{"id": n, "type": ..., ...}``: ``stage`` (``stage``, ``index`` 1..4,
    ``state`` started / done / reused, ``seconds``), ``progress`` (``stage``, ``done``,
    ``total``, ``item``: a file's name), ``notice`` (``line``); the last is ``done``
    (``record``: the new ``run_N.json``), ``failed`` (``error``: one line, ``stage``) or
    ``stopped`` (``stage``: the one stopped, its files removed; ``kept``: the stages
    finished, whose files stay).
    """

    folder: str  # relative to OUT: the run's id in URLs
    events: list[dict[str, Any]] = field(default_factory=list)
    stop_asked: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, **data: Any) -> None:
        with self._lock:
            self.events.append({"id": len(self.events) + 1, "type": kind, **data})

    def events_since(self, last_id: int) -> list[dict[str, Any]]:
        """The events after the one numbered ``last_id`` (0: all of them)."""
        with self._lock:
            return self.events[max(last_id, 0) :]

    @property
    def finished(self) -> bool:
        with self._lock:
            return bool(self.events) and self.events[-1]["type"] in END_EVENTS

    def stop_here(self) -> None:
        """Raise `RunStopped` if the page asked this run to stop (called between files and
        between stages, where the stages clean up after themselves)."""
        if self.stop_asked.is_set():
            raise RunStopped("stopped from the page")


class NewRuns:
    """Starts new runs in OUT, one at a time, and keeps each run's events.

    Parameters
    ----------
    out
        OUT, resolved.
    """

    def __init__(self, out: Path) -> None:
        self.out = out
        self.jobs: dict[str, RunJob] = {}
        self._running: RunJob | None = None
        self._slot = threading.Lock()  # who may start: one run at a time

    def job(self, folder: str) -> RunJob | None:
        return self.jobs.get(folder)

    @property
    def running(self) -> RunJob | None:
        return self._running

    def claim(self) -> None:
        """Take the one run slot before reading an upload; `release` if nothing starts.

        Raises
        ------
        Busy
            A run is under way (or being started).
        """
        if not self._slot.acquire(blocking=False):
            running = self._running.folder if self._running else "one"
            raise Busy(f"a run is under way ({running}): wait for it to finish, then start again")

    def release(self) -> None:
        self._running = None
        self._slot.release()

    def stop(self, folder: str) -> dict[str, Any]:
        """Ask the run in ``folder`` to stop at its next file or stage (`RunJob.stop_here`);
        its stream ends with a ``stopped`` event when it has.

        Raises
        ------
        NotFound
            No run of that name was started by this studio.
        Busy
            It has ended already (409).
        """
        job = self.jobs.get(folder)
        if job is None:
            raise NotFound(f"no run {folder!r} started by this studio")
        if job.finished:
            raise Busy(f"the run in {folder} has ended already: nothing to stop")
        job.stop_asked.set()
        return {"run": folder, "stopping": True}

    def start(
        self,
        uploads: Sequence[Upload],
        *,
        folder: str | None,
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Save ``uploads`` into a new run folder and start the run there (the slot must be
        `claim`\\ ed; it is released when the run ends, or here when nothing starts).

        Parameters
        ----------
        uploads
            The uploaded files; each is saved or listed as skipped.
        folder
            A folder of audio on this machine to read as well (never copied), or None.
        params
            As `chain_params`.

        Returns
        -------
        dict
            ``run``: the new folder (relative to OUT; its events stream is
            ``/api/new-run/events?run=...``); ``saved``: the files saved; ``skipped``:
            ``[{"name", "reason"}]``, one per upload left out.

        Raises
        ------
        BadRequest
            No input left (every upload skipped, no folder), the folder is no folder or
            holds OUT.
        """
        try:
            chain = chain_params(params)
            inputs = [self._source_folder(folder)] if folder else []
            if not uploads and not inputs:
                raise BadRequest("nothing to run on: add audio files or name a folder of audio")
            run_folder = self._new_folder()
            saved, skipped = self._save_uploads(uploads, run_folder / INPUT_FOLDER)
            if saved:
                inputs.insert(0, run_folder / INPUT_FOLDER)
            if not inputs:
                shutil.rmtree(run_folder, ignore_errors=True)  # made here, holds nothing
                reasons = "; ".join(f"{s['name']}: {s['reason']}" for s in skipped)
                raise BadRequest(f"no upload is audio the studio can read ({reasons})"[:600])
        except BaseException:
            self.release()
            raise
        job = RunJob(self._name(run_folder))
        self.jobs[job.folder], self._running = job, job
        threading.Thread(
            target=self._work, args=(job, inputs, run_folder, chain), daemon=True
        ).start()
        return {
            "run": job.folder,
            "saved": [self._name(path) for path in saved],
            "skipped": skipped,
        }

    # --- the parts of `start` -----------------------------------------------------------

    def _name(self, path: Path) -> str:
        return relative_name(self.out, path) or str(path)

    def _source_folder(self, given: str) -> Path:
        folder = Path(given).expanduser()
        if not folder.is_absolute() or not folder.is_dir():
            raise BadRequest(f"{given!r} is not a folder on this machine (give its full path)")
        if self.out.is_relative_to(folder.resolve()):
            raise BadRequest(
                f"{given} holds the studio's folder {self.out}: the run's own files would "
                "become its inputs; name a folder outside it"
            )
        return folder

    def _new_folder(self) -> Path:
        """``OUT/new_<date>-<time>[_k]/``, created here (exclusively: never an old one)."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for k in range(1, 1000):
            folder = self.out / (f"new_{stamp}" if k == 1 else f"new_{stamp}_{k}")
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
            except OSError as exc:
                raise DrumgenxError(f"cannot create {folder}: {exc.strerror}") from None
        raise DrumgenxError(f"cannot find a free name for a new run in {self.out}")

    def _save_uploads(
        self, uploads: Sequence[Upload], input_dir: Path
    ) -> tuple[list[Path], list[dict[str, str]]]:
        """Each upload checked (`safe_upload_name`, size, `check_upload`) and written
        atomically under a free name (``kick.wav``, then ``kick_2.wav``: never over one)."""
        saved: list[Path] = []
        skipped: list[dict[str, str]] = []
        input_dir.mkdir()
        with tempfile.TemporaryDirectory(prefix=".uploads-", dir=input_dir.parent) as scratch:
            for upload in uploads:
                try:
                    name = safe_upload_name(upload.name)
                    if upload.size > MAX_FILE_BYTES:
                        raise UploadSkip(
                            f"{upload.size / 2**20:.0f} MB is over the {MAX_FILE_BYTES // 2**20} "
                            "MB a file may have (name its folder instead)"
                        )
                    data = upload.file.read()
                    check_upload(data, Path(name).suffix, scratch=Path(scratch))
                    saved.append(_write_free_name(input_dir, name, data))
                except UploadSkip as exc:
                    skipped.append({"name": upload.name[:200], "reason": str(exc)})
        return saved, skipped

    # --- the run, on its thread ---------------------------------------------------------

    def _work(self, job: RunJob, inputs: list[Path], folder: Path, chain: Any) -> None:
        from drumgenx.chain.run import STAGES, run_chain

        current = {"stage": STAGES[0]}
        kept: list[str] = []

        def stage_started(index: int) -> None:
            if index < len(STAGES):
                current["stage"] = STAGES[index]
                job.add("stage", stage=STAGES[index], index=index + 1, state="started")

        def progress(stage: str, done: int, total: int, item: str) -> None:
            job.add("progress", stage=stage, done=done, total=total, item=Path(item).name)
            job.stop_here()  # between files: the stage removes what it wrote so far

        def on_stage(result: Any) -> None:
            index = STAGES.index(result.stage)
            state = "reused" if result.reused else "done"
            job.add("stage", stage=result.stage, index=index + 1, state=state,
                    seconds=result.seconds)  # fmt: skip
            kept.append(result.stage)
            stage_started(index + 1)
            if index + 1 < len(STAGES):
                job.stop_here()  # between stages: the one finished is recorded and stays

        try:
            stage_started(0)
            result = run_chain(
                inputs,
                out=folder,
                params=chain,
                progress=progress,
                on_stage=on_stage,
                notify=lambda line: job.add("notice", line=line),
            )
            job.add("done", record=self._name(result.record))
        except RunStopped:
            job.add("stopped", stage=current["stage"], kept=kept)
        except Exception as exc:  # every failure ends the stream with its one line
            job.add("failed", error=_one_line(exc), stage=current["stage"])
        finally:
            self.release()


def _write_free_name(folder: Path, name: str, data: bytes) -> Path:
    """``folder/name`` written atomically (`write_new_files`); ``stem_2`` and on if taken."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for k in range(1, 10_000):
        target = folder / (name if k == 1 else f"{stem}_{k}{suffix}")
        try:
            return write_new_files({target: data})[0]
        except OutputExistsError:
            continue
    raise UploadSkip(f"no free name for {name} in {folder}")
