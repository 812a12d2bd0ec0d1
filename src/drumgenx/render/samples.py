"""Find and decode the sample files an event grid names."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from drumgenx.core.audio import AUDIO_EXTENSIONS, AudioReadError, read_audio
from drumgenx.core.errors import MissingSamplesError
from drumgenx.core.records import Pools


def resolve_sample_path(
    sample_id: str,
    *,
    pools: Pools | None,
    pools_dir: Path | None,
    sample_root: Path | None,
) -> Path | None:
    """Where the file of ``sample_id`` is, or None.

    Tried in order: the pool's ``filepath`` as given (absolute, or relative to the current
    folder), relative to the pools file's folder, under ``sample_root`` as given or by file
    name; then ``sample_root/<sample_id>.<audio extension>`` (stage 1 names files by id).
    """
    candidates: list[Path] = []
    item = pools.find(sample_id) if pools else None
    if item is not None:
        given = Path(item.filepath)
        candidates.append(given)
        if not given.is_absolute():
            if pools_dir is not None:
                candidates.append(pools_dir / given)
            if sample_root is not None:
                candidates.append(sample_root / given)
        if sample_root is not None:
            candidates.append(sample_root / given.name)
    if sample_root is not None:
        candidates += [sample_root / f"{sample_id}{ext}" for ext in sorted(AUDIO_EXTENSIONS)]
    return next((c for c in candidates if c.is_file()), None)


def load_samples(
    sample_ids: Iterable[str],
    *,
    pools: Pools | None,
    pools_dir: Path | None,
    sample_root: Path | None,
    skip_missing: bool = False,
) -> tuple[dict[str, tuple[np.ndarray, int]], list[str]]:
    """Decode every sample once.

    Returns
    -------
    samples
        ``{sample_id: (audio (frames, channels) float32, sample rate)}``.
    notices
        One line per skipped sample (only with ``skip_missing``).

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
        where = f" under --sample_root {sample_root}" if sample_root else ""
        raise MissingSamplesError(
            f"{len(problems)} sample(s) missing or unreadable{where}: "
            + "; ".join(problems)
            + " (pass --skip_missing to render without them)"
        )
    return samples, [f"skipped sample {p}: its hits are silent" for p in problems]


def _shown(sample_id: str) -> str:
    """The id as written, or quoted with escapes when it holds a line break (so an error
    stays one line)."""
    return sample_id if sample_id.isprintable() else repr(sample_id)
