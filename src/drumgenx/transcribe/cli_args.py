"""``drumgenx transcribe``: its flags, declared beside its code, and the command.

Light (argparse only): ``drumgenx --help`` imports this; the transcriber is imported when
the command runs.
"""

from __future__ import annotations

import argparse

from drumgenx.core.console import Command, notice, progress_printer

__all__ = ["TRANSCRIBE", "add_arguments", "main"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("audio", nargs="+", metavar="AUDIO", help="audio files or folders")
    parser.add_argument("--out", required=True, help="output folder (created if needed)")
    parser.add_argument(
        "--model", metavar="WEIGHTS.npz", help="transcriber weights (default: the shipped ones)"
    )


def main(args: argparse.Namespace) -> None:
    """Transcribe the parsed inputs and print what was written."""
    from drumgenx.core.errors import DrumgenxError
    from drumgenx.transcribe.run import transcribe_files

    summary = transcribe_files(
        args.audio,
        out_dir=args.out,
        model_path=args.model,
        progress=progress_printer("transcribe"),
    )
    for source, reason in summary.skipped:
        notice(f"skipped {source}: {reason}")
    if not summary.files:
        raise DrumgenxError(
            f"no input could be transcribed ({len(summary.skipped)} skipped, reasons above)"
        )
    skipped = ", ".join(f"{n} {why}" for why, n in summary.skipped_counts.items()) or "none"
    print(f"[DONE] transcribe in {summary.seconds:.1f} s")
    print(f" - files transcribed: {len(summary.files)}; skipped: {skipped}")
    for done in summary.files:
        tempo = f"{done.tempo_bpm:.1f} bpm" if done.tempo_bpm else "tempo unknown (120 in MIDI)"
        hits = f"{done.hits} hit" + ("" if done.hits == 1 else "s")
        print(f" - {done.source}: {hits}, {tempo} -> {done.midi}, {done.hits_json}")


TRANSCRIBE = Command(
    "transcribe",
    help="transcribe drums: audio -> General MIDI drums (.mid) and hits (.hits.json)",
    description="Find every drum hit in each audio file (a drum track or a full mix) "
    "with the drum transcriber; write OUT/<name>.mid (channel 10, the estimated tempo) "
    "and OUT/<name>.hits.json (times, strengths, class probabilities). Existing files "
    "are never replaced: a new <name>_N pair is written instead.",
    add_arguments=add_arguments,
    run=main,
    flags={"model_path": "--model"},  # transcribe_files's parameter
)
