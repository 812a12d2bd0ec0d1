"""``drumgenx roles``: stage 2's flags, declared beside its code, and the command.

Light (argparse and `roles.settings`): ``drumgenx --help`` imports this; the stage itself is
imported when the command runs. ``drumgenx run`` reuses the flags it shares
(`add_role_files_arguments`, `add_clap_model_argument`).
"""

from __future__ import annotations

import argparse

from drumgenx.core.config import Given
from drumgenx.core.console import Command, flag_notice, notice, progress_printer
from drumgenx.core.engine import add_engine_arguments
from drumgenx.core.roles import ROLES
from drumgenx.roles.settings import RolesSettings

__all__ = [
    "PROMPTS_HELP",
    "ROLES_COMMAND",
    "ROLE_CONFIG_HELP",
    "add_arguments",
    "add_clap_model_argument",
    "add_role_files_arguments",
    "main",
]

ROLE_CONFIG_HELP = (
    "a role config in the format of stage2_role_assignment/configs/role_assignment.yaml, "
    "only the keys it changes (default: that file in a checkout, else the same defaults "
    "shipped with the package; drumgenx config show roles prints them)"
)
PROMPTS_HELP = (
    "CLAP prompts in the format of stage2_role_assignment/prompts/prompts.yaml, only the "
    "roles it changes (default: that file in a checkout, else the shipped prompts)"
)


def add_role_files_arguments(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """``--config`` and ``--prompts`` (None: the checkout's files, else the shipped ones)."""
    parser.add_argument(
        "--config", action=Given, metavar="FILE", help=f"{prefix}{ROLE_CONFIG_HELP}"
    )
    parser.add_argument("--prompts", action=Given, metavar="FILE", help=f"{prefix}{PROMPTS_HELP}")


def add_clap_model_argument(parser: argparse.ArgumentParser, *, prefix: str = "") -> None:
    """``--clap_model`` (None: `RolesSettings.clap_model`)."""
    parser.add_argument(
        "--clap_model",
        action=Given,
        help=f"{prefix}CLAP checkpoint folder, or a hub name found in the local cache "
        f"(default: {RolesSettings.clap_model})",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The seed's stage-2 flags (``drumgenx roles`` and the seed's runner)."""
    d = RolesSettings()
    parser.add_argument("--input_dir", required=True, help="folder of one-shots (stage 1's)")
    parser.add_argument("--out_dir", required=True, help="where pools_N.json goes")
    parser.add_argument(
        "--limit",
        type=int,
        default=d.limit,
        help="files to score, 0 or more, drawn at random with --seed; 0 = all "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=d.seed, help="for --limit (default: %(default)s)"
    )
    add_role_files_arguments(parser)
    parser.add_argument(
        "--alpha",
        type=float,
        help="rule weight in the fusion, 0..1 (default: the role config's fusion.alpha)",
    )
    add_clap_model_argument(parser)
    parser.add_argument(
        "--unsure_below",
        type=float,
        default=d.unsure_below,
        help="a calibrated confidence below this, 0..1, marks a sample unsure: drawn after "
        "the sure ones of its role (default: %(default)s; 0 marks none)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        help="processes for the per-file work, 1 or more (default: %(default)s)",
    )
    add_engine_arguments(parser)


def main(args: argparse.Namespace) -> None:
    """Run stage 2 on the parsed flags and print its summary."""
    from drumgenx.roles.run import run_roles

    result = run_roles(
        input_dir=args.input_dir,
        out_dir=args.out_dir,
        limit=args.limit,
        seed=args.seed,
        config_path=args.config,
        prompts_path=args.prompts,
        alpha=args.alpha,
        clap_model=args.clap_model,
        workers=args.workers,
        engine=args.engine,
        scheduler=args.scheduler,
        unsure_below=args.unsure_below,
        progress=progress_printer("roles"),
        notify=flag_notice(args),
    )
    for path, reason in result.skipped:
        notice(f"skipped {path}: {reason}")
    counts: dict[str, int] = {}
    for score in result.scores:
        counts[score.role] = counts.get(score.role, 0) + 1
    summary = ", ".join(f"{role} {counts.get(role, 0)}" for role in ROLES)
    print(f"[DONE] roles for {len(result.scores)} one-shots (CLAP: {result.clap}): {summary}")
    print(f" - pools: {result.pools_path}")
    print(f" - per sample: {result.per_sample_path}")


ROLES_COMMAND = Command(
    "roles",
    help="stage 2: give each one-shot a role (CORE, ACCENT, MOTION, FILL, TEXTURE)",
    description="Stage 2: DSP rules + CLAP + a learned scorer, fused with guards; writes "
    "pools_N.json and per_sample_N.json under --out_dir.",
    add_arguments=add_arguments,
    run=main,
)
