"""Decode the sample files an event grid names (found by `core.pools.resolve_sample_path`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from drumgenx.core.audio import AudioReadError, read_audio
from drumgenx.core.console import silent
from drumgenx.core.errors import MissingSamplesError
from drumgenx.core.pools import resolve_sample_path
from drumgenx.core.records import Pools


def load_samples(
    sample_ids: Iterable[str],
    *,
    pools: Pools | None,
    pools_dir: Path | None,
    sample_root: Path | None,
    skip_missing: bool = False,
    notify: Callable[[str], None] | None = None,
) -> dict[str, tuple[np.ndarray, int]]:
    """Decode every sample once: ``{sample_id: (audio (frames, channels) float32, rate)}``.

    With ``skip_missing``, ``notify`` receives a line per sample skipped (None: dropped).

    Raises
    ------
    MissingSamplesError
        Some samples are missing or unreadable and ``skip_missing`` is False; the message
        lists all of them.
    """
    samples: dict[str, tuple[np.ndarray, int]] = {}
    problems: list[str] = []
    for sample_id in sorted(set(sample_ids)):
        path = resolve_sample_path(
            sample_id, pools=pools, pools_dir=pools_dir, sample_root=sample_root
        )
        if path is None:
            problems.append(f"{_shown(sample_id)} (file not found)")
            continue
        try:
            samples[sample_id] = read_audio(path)
        except AudioReadError as exc:
            problems.append(f"{_shown(sample_id)} ({exc})")
    if problems and not skip_missing:
        where = " under {1} {root}" if sample_root else ""
        # without pools, ids are only looked for under sample_root: the pools say where
        find = "" if pools is not None else "pass {2} (the pools that name them) or "
        raise MissingSamplesError.about(
            f"{len(problems)} sample(s) missing or unreadable{where}: {{problems}} "
            f"({find}pass {{0}} to render without them)",
            "skip_missing",
            "sample_root",
            "pools_json",
            root=sample_root,
            problems="; ".join(problems),
        )
    for problem in problems:
        (notify or silent)(f"skipped sample {problem}: its hits are silent")
    return samples


def _shown(sample_id: str) -> str:
    """The id as written, or quoted with escapes when it holds a line break (so an error
    stays one line)."""
    return sample_id if sample_id.isprintable() else repr(sample_id)
