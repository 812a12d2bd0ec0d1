"""Train a GrooVAE (`groove.model`) on the Groove MIDI Dataset: seeded, logged, selected on
the validation split.

Data (`load_gmd_windows`): the files of one ``split`` of GMD's ``info.csv`` whose time
signature is 4-4 (Magenta's converter drops every bar that is not 16 steps), each read with
`representation.midi_to_groove` and cut into 2-bar windows every bar (tensorflow_datasets
``groove/2bar-midionly``). A window whose second bar has no hit is dropped, as Magenta's
converter drops it (it pads only to the last note's bar, so such a window is 16 steps, not
32). The windows are cached as ``.npz`` outside the repository (``~/.cache/drumgenx``).

Training (`train_groovae`): Adam, Magenta's learning-rate decay, KL weight schedule, global
norm clipping; the encoder reads hits only for ``humanize``, the whole groove for ``vary``.
After every epoch the model is scored on the validation split and the best one is written to
``model.pt`` at once (so an interrupted run leaves its best model), beside ``config.json``
(settings, their sources, scores, data sizes, command, date) and ``train_log.jsonl`` (one
JSON line per update and per validation).

Run: ``drumgenx train groove --gmd ../shared/data/gmd --task humanize --out DIR`` (defaults:
`training.settings.GrooveTrainSettings`, the shipped weights' settings).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from drumgenx.core.errors import DrumgenxError, OutputExistsError
from drumgenx.groove.model import (
    CONFIG_FILE,
    FORMAT,
    FORMAT_VERSION,
    LOG_FILE,
    MODEL_FILE,
    SOURCES,
    TASKS,
    GrooVAE,
    GrooVAEConfig,
)
from drumgenx.groove.representation import (
    NUM_CLASSES,
    STEPS_PER_BAR,
    WINDOW_STEPS,
    groove_to_tensor,
    midi_to_groove,
    split_windows,
)
from drumgenx.training.flags import new_run_dir, settings_from
from drumgenx.training.settings import GrooveTrainSettings, command_line, default_cache_dir

SPLITS: tuple[str, ...] = ("train", "validation", "test")
HOP_BARS = 1  # tensorflow_datasets groove/2bar: 2-bar windows slid by one bar
CACHE_VERSION = 1  # bump when the windows' making changes
EVAL_BATCH = 1024  # windows per validation batch (memory only)

Progress = Callable[[dict[str, Any]], None]

# What we train and ship where it is not Magenta's (`GrooVAEConfig` defaults), and why.
CPU_SETTINGS: dict[str, Any] = {"enc_rnn_size": 256, "batch_size": 128}
CPU_REASONS: dict[str, str] = {
    "enc_rnn_size": "the encoder is 2/3 of the compute at Magenta's 512; at 256 a model trains "
    "twice as many updates in the hour on 2 CPU cores and humanizes 8 bars well under 50 ms",
    "batch_size": "4 times as many updates per epoch as Magenta's 512 in a CPU hour",
}


VARIANT_SETTINGS: dict[str, dict[str, Any]] = {"humanize": {"value_loss": "hits"}}
"""Per task, what we ship where it differs from Magenta's objective (each measured)."""
VARIANT_REASONS: dict[str, str] = {
    "value_loss": "ours for humanize: it always knows its hits, so velocity and offset are "
    "fitted where a hit is played, not pulled towards 0 where none is; on the validation "
    "split it beat Magenta's objective on both MAEs (0.196 vs 0.200 velocity, 0.148 vs 0.151 "
    "steps offset, same data, seed and 50 minutes)",
}


def default_config(task: str) -> GrooVAEConfig:
    """What `train_groovae` trains by default: Magenta's settings with `CPU_SETTINGS` and
    the task's `VARIANT_SETTINGS`."""
    return GrooVAEConfig(task=task, **CPU_SETTINGS, **VARIANT_SETTINGS.get(task, {}))


def config_sources(config: GrooVAEConfig) -> dict[str, str]:
    """Where each of ``config``'s values came from, for config.json."""
    magenta = GrooVAEConfig(task=config.task)
    sources = {}
    for name, source in SOURCES.items():
        value = getattr(config, name)
        if name != "task" and value != getattr(magenta, name):
            chosen = name in CPU_SETTINGS and CPU_SETTINGS[name] == value
            reason = CPU_REASONS[name] if chosen else VARIANT_REASONS.get(name, "set for this run")
            source = f"ours: {value}, {reason} (default: {source})"
        sources[name] = source
    return sources


@dataclass(frozen=True)
class GmdWindows:
    """One GMD split as model tensors.

    Attributes
    ----------
    tensors : numpy.ndarray
        (windows, 32, 27) float32, `representation.groove_to_tensor` of each window.
    bpm : numpy.ndarray
        (windows,) the tempo of each window's file (offsets in steps -> milliseconds).
    file_index : numpy.ndarray
        (windows,) index into ``files``.
    files : tuple of str
        The MIDI files, relative to the GMD folder.
    """

    tensors: np.ndarray
    bpm: np.ndarray
    file_index: np.ndarray
    files: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.tensors.shape[0])


@dataclass(frozen=True)
class TrainResult:
    """What `train_groovae` did: where it wrote, the chosen epoch and its validation scores."""

    out_dir: Path
    task: str
    best_epoch: int
    epochs_run: int
    updates: int
    minutes: float
    validation: dict[str, float]
    train_windows: int
    validation_windows: int


def load_gmd_windows(gmd_root: Path, split: str, *, cache_dir: Path | None = None) -> GmdWindows:
    """The 2-bar windows of one GMD split (see the module docstring), cached.

    Raises
    ------
    DrumgenxError
        ``gmd_root`` has no ``info.csv`` or the split lists no readable 4-4 file.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    gmd_root = Path(gmd_root)
    info = gmd_root / "info.csv"
    if not info.is_file():
        raise DrumgenxError(f"{gmd_root}: not the Groove MIDI Dataset (no info.csv)")
    info_bytes = info.read_bytes()
    key = hashlib.sha1(
        f"{CACHE_VERSION} {HOP_BARS} {STEPS_PER_BAR} {WINDOW_STEPS} {split} ".encode()
        + str(gmd_root.resolve()).encode()
        + info_bytes
    ).hexdigest()[:16]
    cache = (cache_dir or default_cache_dir()) / f"gmd_{split}_{key}.npz"
    if cache.is_file():
        with np.load(cache) as data:
            return GmdWindows(
                data["tensors"], data["bpm"], data["file_index"], tuple(data["files"].tolist())
            )
    rows = [
        r
        for r in csv.DictReader(io.StringIO(info_bytes.decode("utf-8")))
        if r["split"] == split and r["time_signature"] == "4-4"
    ]
    tensors, bpms, index, files = [], [], [], []
    for row in rows:
        groove, bpm = midi_to_groove(gmd_root / row["midi_filename"])
        windows = [
            w for w in split_windows(groove, hop_bars=HOP_BARS) if w.hits[STEPS_PER_BAR:].any()
        ]
        if not windows:
            continue
        tensors += [groove_to_tensor(w) for w in windows]
        bpms += [bpm] * len(windows)
        index += [len(files)] * len(windows)
        files.append(row["midi_filename"])
    if not tensors:
        raise DrumgenxError(f"{gmd_root}: the {split} split has no 4-4 file with 2 bars of drums")
    result = GmdWindows(
        np.stack(tensors).astype(np.float32),
        np.asarray(bpms, np.float32),
        np.asarray(index, np.int32),
        tuple(files),
    )
    cache.parent.mkdir(parents=True, exist_ok=True)
    temp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp.npz")
    np.savez(
        temp,
        tensors=result.tensors,
        bpm=result.bpm,
        file_index=result.file_index,
        files=np.asarray(files),
    )
    os.replace(temp, cache)
    return result


def encoder_input(target: torch.Tensor, task: str) -> torch.Tensor:
    """What the encoder reads: hits only for ``humanize`` (Magenta zeroes the input's
    velocities and offsets), the whole groove for ``vary``."""
    if task == "humanize":
        return torch.cat(
            [target[..., :NUM_CLASSES], torch.zeros_like(target[..., NUM_CLASSES:])], dim=-1
        )
    return target


@torch.no_grad()
def evaluate(net: GrooVAE, windows: np.ndarray) -> dict[str, float]:
    """Validation scores of ``net`` on (windows, 32, 27) tensors, deterministic (z = mean).

    ``loss`` is the training objective at full KL weight with teacher forcing
    (``r_loss``, ``kl`` its parts). Then the model's own decoding: ``humanize`` reads the
    true hits back and is scored on them (``velocity_mae`` 0..1, ``offset_mae`` in steps;
    ``score`` their sum, lower is better); ``vary`` decodes at temperature 0 and is scored
    by hit F1 against the input (``hit_f1``; ``score`` the loss).
    """
    was_training = net.training
    net.eval()
    config = net.config
    sums: dict[str, float] = {}
    predicted, truth = [], []
    for start in range(0, len(windows), EVAL_BATCH):
        target = torch.from_numpy(windows[start : start + EVAL_BATCH])
        inputs = encoder_input(target, config.task)
        _, parts = net.loss(inputs, target, beta=config.max_beta, sample=False)
        for k, v in parts.items():
            sums[k] = sums.get(k, 0.0) + v * len(target)
        mu = net.encode(inputs).mu
        hits = target[..., :NUM_CLASSES]
        out = net.generate(mu, hits=hits if config.task == "humanize" else None)
        predicted.append(torch.stack(out, 0).numpy())
        truth.append(target.numpy())
    net.train(was_training)
    scores = {k: v / len(windows) for k, v in sums.items() if k in ("loss", "r_loss", "kl")}
    p, t = np.concatenate(predicted, axis=1), np.concatenate(truth, axis=0)
    t_hits = t[..., :NUM_CLASSES] > 0.5
    if config.task == "humanize":
        scores["velocity_mae"] = float(
            np.abs(p[1] - t[..., NUM_CLASSES:-NUM_CLASSES])[t_hits].mean()
        )
        scores["offset_mae"] = float(np.abs(p[2] - t[..., -NUM_CLASSES:] / 2)[t_hits].mean())
        scores["score"] = scores["velocity_mae"] + scores["offset_mae"]
    else:
        p_hits = p[0] > 0.5
        true_positive = float((p_hits & t_hits).sum())
        scores["hit_f1"] = 2 * true_positive / max(float(p_hits.sum() + t_hits.sum()), 1.0)
        scores["score"] = scores["loss"]
    return scores


def train_groovae(
    *,
    gmd_root: Path,
    task: str,
    out_dir: Path,
    settings: GrooveTrainSettings | None = None,
    config: GrooVAEConfig | None = None,
    cache_dir: Path | None = None,
    max_train_windows: int | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
) -> TrainResult:
    """Train a GrooVAE for ``task`` on GMD's train split, choose it on validation, write it.

    Parameters
    ----------
    gmd_root : Path
        The Groove MIDI Dataset folder (``info.csv`` and the drummer folders).
    task : str
        ``"humanize"`` or ``"vary"``.
    out_dir : Path
        Where ``model.pt``, ``config.json`` and ``train_log.jsonl`` go (created).
    settings : GrooveTrainSettings
        Seed, epochs, time limit and torch threads (default: the shipped weights'). The
        seed seeds initialisation, shuffling, dropout and ``z`` draws: the same seed, data,
        torch version and thread count give the same model. At most ``epochs`` passes over
        the train windows (200: the time limit ends first); ``max_minutes`` is the
        wall-clock limit, the epoch under way at the limit is stopped and scored (50: the
        one-hour-per-model budget on a 2-core CPU, with room for data and scoring).
    config : GrooVAEConfig, optional
        Hyperparameters (default `default_config`: Magenta's with `CPU_SETTINGS` and
        `VARIANT_SETTINGS`); its
        ``task`` is replaced by ``task``.
    cache_dir : Path, optional
        Where the parsed windows are cached (default `default_cache_dir`).
    max_train_windows : int, optional
        Train on the first this many (shuffled) train windows only: for smoke runs and tests.
    overwrite : bool
        Replace a model already in ``out_dir`` (default: refuse).
    progress : callable, optional
        Called with a dict per event: ``{"event": "data" | "update" | "validation" |
        "done", ...}`` (the same dicts as the log's lines).

    Returns
    -------
    TrainResult

    Raises
    ------
    OutputExistsError
        ``out_dir`` already holds a model and ``overwrite`` is off.
    DrumgenxError
        ``task`` is unknown or GMD is missing.
    """
    if task not in TASKS:
        raise DrumgenxError(f"GrooVAE task must be one of {', '.join(TASKS)}: {task!r}")
    out_dir = Path(out_dir)
    if (out_dir / MODEL_FILE).exists() and not overwrite:
        raise OutputExistsError(f"{out_dir / MODEL_FILE} exists; pass overwrite to replace it")
    config = replace(config or default_config(task), task=task)
    settings = settings or GrooveTrainSettings()
    torch.set_num_threads(settings.threads_for(task))
    started = time.monotonic()
    train = load_gmd_windows(gmd_root, "train", cache_dir=cache_dir)
    validation = load_gmd_windows(gmd_root, "validation", cache_dir=cache_dir)

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    windows = train.tensors
    if max_train_windows is not None:
        windows = windows[rng.permutation(len(windows))[:max_train_windows]]
    net = GrooVAE(config)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.learning_rate)

    out_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "train_files": len(train.files),
        "train_windows": len(windows),
        "validation_files": len(validation.files),
        "validation_windows": len(validation),
    }
    with _event_log(out_dir / LOG_FILE, progress) as emit:
        emit({"event": "data", **data, "seconds": round(time.monotonic() - started, 1)})
        best, epoch, update = _fit(
            net,
            optimizer,
            windows,
            validation.tensors,
            rng,
            settings=settings,
            model_path=out_dir / MODEL_FILE,
            started=started,
            emit=emit,
        )

    minutes = _minutes(started)
    meta = _run_metadata(
        net,
        settings,
        best=best,
        epochs_run=epoch,
        updates=update,
        minutes=minutes,
        data=data,
    )
    _write_json(out_dir / CONFIG_FILE, meta)
    result = TrainResult(
        out_dir=out_dir,
        task=task,
        best_epoch=best["epoch"],
        epochs_run=epoch,
        updates=update,
        minutes=minutes,
        validation=best["scores"],
        train_windows=data["train_windows"],
        validation_windows=data["validation_windows"],
    )
    if progress is not None:
        progress({"event": "done", "best_epoch": best["epoch"], "minutes": minutes})
    return result


@contextmanager
def _event_log(path: Path, progress: Progress | None) -> Iterator[Callable[[dict[str, Any]], None]]:
    """``emit(record)``: a line of JSON in ``path`` (flushed) and the record to ``progress``."""
    with path.open("w", encoding="utf-8") as log:

        def emit(record: dict[str, Any]) -> None:
            log.write(json.dumps(record) + "\n")
            log.flush()
            if progress is not None:
                progress(record)

        yield emit


def _fit(
    net: GrooVAE,
    optimizer: Any,
    windows: Any,
    validation: Any,
    rng: np.random.Generator,
    *,
    settings: GrooveTrainSettings,
    model_path: Path,
    started: float,
    emit: Callable[[dict[str, Any]], None],
) -> tuple[dict[str, Any], int, int]:
    """Epochs until `settings.epochs` or `settings.max_minutes` (the epoch under way at the
    limit is stopped and scored), each scored on ``validation`` and the best written to
    ``model_path``; returns the best's record, the epochs run and the updates made."""
    best: dict[str, Any] = {"score": math.inf, "epoch": 0, "scores": {}}
    update = epoch = 0
    out_of_time = False
    while epoch < settings.epochs and not out_of_time:
        epoch += 1
        update, out_of_time = _train_epoch(
            net,
            optimizer,
            windows,
            rng,
            epoch=epoch,
            update=update,
            started=started,
            max_minutes=settings.max_minutes,
            emit=emit,
        )
        best = _validate_and_keep(
            net,
            validation,
            best,
            model_path=model_path,
            epoch=epoch,
            update=update,
            started=started,
            emit=emit,
        )
    return best, epoch, update


def _train_epoch(
    net: GrooVAE,
    optimizer: torch.optim.Optimizer,
    windows: np.ndarray,
    rng: np.random.Generator,
    *,
    epoch: int,
    update: int,
    started: float,
    max_minutes: float,
    emit: Callable[[dict[str, Any]], None],
) -> tuple[int, bool]:
    """One shuffled pass over ``windows``, one logged update per batch.

    Returns the update count after the pass and whether the time limit stopped it.
    """
    config = net.config
    net.train()
    order = rng.permutation(len(windows))
    for start in range(0, len(order), config.batch_size):
        target = torch.from_numpy(windows[order[start : start + config.batch_size]])
        for group in optimizer.param_groups:
            group["lr"] = config.learning_rate_at(update)
        beta = config.beta(update)
        loss, parts = net.loss(encoder_input(target, config.task), target, beta=beta)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = float(torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip))
        # Magenta: a global norm above grad_norm_clip_to_zero zeroes the update
        if math.isfinite(norm) and norm <= config.grad_norm_clip_to_zero:
            optimizer.step()
        update += 1
        emit(
            {
                "event": "update",
                "epoch": epoch,
                "update": update,
                **{k: round(v, 5) for k, v in parts.items()},
                "beta": round(beta, 5),
                "lr": config.learning_rate_at(update - 1),
                "grad_norm": round(norm, 4),
                "minutes": _minutes(started),
            }
        )
        if _minutes(started) >= max_minutes:
            return update, True
    return update, False


def _validate_and_keep(
    net: GrooVAE,
    validation: np.ndarray,
    best: dict[str, Any],
    *,
    model_path: Path,
    epoch: int,
    update: int,
    started: float,
    emit: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Score ``net`` on validation, write it to ``model_path`` if it beats ``best``, log it.

    Returns the best so far (``score``, ``epoch``, ``scores``).
    """
    scores = evaluate(net, validation)
    if scores["score"] < best["score"]:
        best = {"score": scores["score"], "epoch": epoch, "scores": scores}
        _save_state(net, model_path)
    emit(
        {
            "event": "validation",
            "epoch": epoch,
            "update": update,
            **{k: round(v, 5) for k, v in scores.items()},
            "best_epoch": best["epoch"],
            "minutes": _minutes(started),
        }
    )
    return best


def _run_metadata(
    net: GrooVAE,
    settings: GrooveTrainSettings,
    *,
    best: dict[str, Any],
    epochs_run: int,
    updates: int,
    minutes: float,
    data: dict[str, int],
) -> dict[str, Any]:
    """``config.json``'s content: settings, their sources, scores, data sizes, command, date."""
    config = net.config
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "task": config.task,
        "config": config.to_dict(),
        "sources": config_sources(config),
        "selection": "the epoch with the lowest validation score (humanize: velocity MAE + "
        "offset MAE in steps, decoding with the true hits; vary: validation loss)",
        "validation": {k: round(v, 6) for k, v in best["scores"].items()},
        "best_epoch": best["epoch"],
        "epochs_run": epochs_run,
        "updates": updates,
        "train_minutes": minutes,
        "seed": settings.seed,
        "settings": asdict(settings),
        "data": {
            **data,
            "source": "Groove MIDI Dataset v1.0.0 info.csv splits, 4-4 files, 2-bar windows "
            "every bar, windows with an empty second bar dropped",
        },
        "command": command_line(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "parameters": sum(p.numel() for p in net.parameters()),
    }


def _minutes(started: float) -> float:
    return round((time.monotonic() - started) / 60, 3)


def _save_state(net: GrooVAE, path: Path) -> None:
    """The state dict in float32, written to a temporary file and renamed (atomic)."""
    temp = path.with_name(f".{path.name}.tmp")
    torch.save({k: v.detach().to("cpu").clone() for k, v in net.state_dict().items()}, temp)
    os.replace(temp, path)


def _write_json(path: Path, value: dict[str, Any]) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    os.replace(temp, path)


def _print_progress(record: dict[str, Any]) -> None:
    """`train_groovae`'s progress records as lines on stderr; per-update ones are too many."""
    if record.get("event") != "update":
        details = " ".join(f"{k}={v}" for k, v in record.items() if k != "event")
        print(f"train groove: {record.get('event')} {details}", file=sys.stderr, flush=True)


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train groove`` (flags: `training.flags`)."""
    settings = settings_from(args, GrooveTrainSettings)
    config = None
    if args.config:
        try:
            config = replace(default_config(args.task), **args.config)
        except TypeError as exc:
            raise DrumgenxError(f"--config: {exc}") from None
    out_dir = Path(args.out) if args.out else new_run_dir(Path("output") / f"groovae_{args.task}")
    train_groovae(
        gmd_root=Path(args.gmd),
        task=args.task,
        out_dir=out_dir,
        settings=settings,
        config=config,
        overwrite=args.overwrite,
        progress=_print_progress,
    )
    print(f"[DONE] GrooVAE ({args.task}) trained: {out_dir}")
    print(f" - use it with: drumgenx groove --mode {args.task} --model {out_dir} ...")
