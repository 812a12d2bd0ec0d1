"""``drumgenx preprocess``: stage 1's flags, declared beside its code, and the command.

Light (argparse and `preprocess.settings`): ``drumgenx --help`` imports this; the stage
itself is imported when the command runs. ``drumgenx run`` reuses the flags it shares
(`add_separator_argument`, `add_onset_arguments`).
"""

from __future__ import annotations

import argparse

from drumgenx.core.config import Given
from drumgenx.core.console import Command, flag_notice, notice, progress_printer
from drumgenx.core.engine import add_engine_arguments
from drumgenx.preprocess.settings import (
    DEMUCS_MODEL,
    ONSET_METHOD,
    ONSET_METHODS,
    SEPARATOR,
    SEPARATORS,
    PreprocessRunSettings,
)

__all__ = [
    "CONFIG_FLAGS",
    "PREPROCESS",
    "add_arguments",
    "add_onset_arguments",
    "add_separator_argument",
    "main",
]

CONFIG_FLAGS = {
    "onsets.method": "--onset_method",
    "onsets.transcriber_weights": "--transcriber_weights",
}
"""The config keys these flags set, where a message names the key (`Command.flags`)."""


def add_separator_argument(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """``--separator`` and ``--demucs_repo`` (None: the config's; ``prefix`` names the stage in
    ``drumgenx run``)."""
    parser.add_argument(
        "--separator",
        action=Given,
        choices=SEPARATORS,
        help=f"{prefix}drum-stem separation: auto tries Demucs and falls back to HPSS "
        f"(default: {SEPARATOR})",
    )
    parser.add_argument(
        "--demucs_repo",
        action=Given,
        metavar="DIR",
        help=f"{prefix}folder of local Demucs weights (<model>.yaml and its .th files), for "
        "offline use (default: the Hugging Face and torch hub caches)",
    )


def add_onset_arguments(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """``--onset_method`` and ``--transcriber_weights`` (None: the config's)."""
    parser.add_argument(
        "--onset_method",
        action=Given,
        choices=ONSET_METHODS,
        help=f"{prefix}hit detector (the transcriber listens to the original audio and records "
        "each hit's drum class probabilities): flux (multi-band spectral flux), learned (an "
        "activation trained on GMD renders) or transcribe (the drum transcriber) "
        f"(default: {ONSET_METHOD})",
    )
    parser.add_argument(
        "--transcriber_weights",
        action=Given,
        metavar="WEIGHTS.npz",
        help="--onset_method transcribe: the transcriber's weights (default: the shipped ones)",
    )


def add_arguments(
    parser: argparse.ArgumentParser,
    *,
    dataset_root: str | None = None,
    output_root: str = PreprocessRunSettings.output_root,
) -> None:
    """Stage-1 flags; the seed's runner passes its DATASET_ROOT / OUTPUT_ROOT as defaults."""
    d = PreprocessRunSettings()
    parser.add_argument(
        "--dataset_root",
        default=dataset_root,
        required=dataset_root is None,
        help="folder of audio, searched recursively"
        + (f" (default: {dataset_root})" if dataset_root else ""),
    )
    parser.add_argument(
        "--output_root",
        default=output_root,
        help="one-shot library folder (default: %(default)s)",
    )
    add_separator_argument(parser)
    parser.add_argument("--demucs_model", help=f"Demucs model name (default: {DEMUCS_MODEL})")
    add_onset_arguments(parser)
    parser.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        help="files in parallel, 1 or more (default: %(default)s)",
    )
    add_engine_arguments(parser)
    parser.add_argument(
        "--force", action="store_true", help="re-process files an earlier run already processed"
    )
    parser.add_argument("--config", help="YAML overriding any setting (see --print_config)")
    parser.add_argument(
        "--print_config", action="store_true", help="print every setting as YAML and exit"
    )


def main(args: argparse.Namespace) -> None:
    """Run stage 1 on the parsed flags and print its summary."""
    from drumgenx.core.config import config_to_yaml, load_config
    from drumgenx.preprocess.config import PreprocessConfig, with_overrides
    from drumgenx.preprocess.run import run_preprocess

    separation = {
        "method": args.separator,
        "demucs_model": args.demucs_model,
        "demucs_repo": args.demucs_repo,
    }
    config = with_overrides(
        load_config(args.config, PreprocessConfig),
        separation={k: v for k, v in separation.items() if v is not None},
        onset_method=args.onset_method,
        transcriber_weights=args.transcriber_weights,
    )
    if args.print_config:
        print(config_to_yaml(config), end="")
        return
    summary = run_preprocess(
        dataset_root=args.dataset_root,
        output_root=args.output_root,
        config=config,
        workers=args.workers,
        engine=args.engine,
        scheduler=args.scheduler,
        force=args.force,
        progress=progress_printer("preprocess"),
        notify=flag_notice(args),
    )
    for report in summary.reports:
        if report.status == "skipped":
            notice(f"skipped {report.source}: {report.reason}")
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped.items()) or "none"
    print(f"[DONE] preprocess in {summary.seconds:.1f} s")
    print(
        f" - files read: {summary.files_read}; skipped: {skipped}; "
        f"already processed: {summary.already_processed}"
    )
    print(
        f" - hits found: {summary.hits_found}; duplicates removed: "
        f"{summary.duplicates_removed}; samples written: {len(summary.samples)}"
    )
    if summary.manifest:
        print(f" - manifest: {summary.manifest}")


PREPROCESS = Command(
    "preprocess",
    help="stage 1: audio folder -> de-duplicated one-shots (dummy_NNNNN.wav)",
    description="Stage 1: separate drums, detect hits, slice, de-duplicate; write "
    "dummy_NNNNN.wav and manifest_N.json under --output_root.",
    add_arguments=add_arguments,
    run=main,
    flags=CONFIG_FLAGS,
)
