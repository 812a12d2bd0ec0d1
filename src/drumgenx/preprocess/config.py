"""Every stage-1 setting in one place; each default is documented where it is defined.

Print the whole config with ``drumgenx preprocess --print_config``; a YAML file passed with
``--config`` overrides only the keys it names, e.g.::

    onsets:
      delta: 0.08
    slicing:
      max_length_s: 1.5
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from drumgenx.preprocess.dedup import DedupParams
from drumgenx.preprocess.onsets import OnsetParams
from drumgenx.preprocess.separation import SeparationParams
from drumgenx.preprocess.settings import ONSET_METHOD
from drumgenx.preprocess.slicing import SliceParams


@dataclass(frozen=True)
class PreprocessConfig:
    """Stage-1 settings: one block per step of the pipeline."""

    separation: SeparationParams = field(default_factory=SeparationParams)
    # The drum transcriber finds hits (and their drum classes) in songs and on drums alone
    # better than flux and learned: bench/bench_transcriber.py, GMD validation beats through
    # the training kits (the choice set), reported on the frozen kits in the README.
    onsets: OnsetParams = field(default_factory=lambda: OnsetParams(method=ONSET_METHOD))
    slicing: SliceParams = field(default_factory=SliceParams)
    dedup: DedupParams = field(default_factory=DedupParams)
    output_peak_dbfs: float = -1.0  # written one-shots peak here: headroom as in the renderer
    silence_dbfs: float = -60.0  # a file whose peak stays below this is reported as silent
    # Sound before the first detected onset (a one-shot file, a swell, an ambience) starts
    # where the level first reaches lead_in_db below the file's peak. Closer than
    # lead_in_merge_s to the first onset it just moves that slice's start back (a clap's
    # first slap); farther, it becomes a slice of its own.
    lead_in_db: float = -40.0
    lead_in_merge_s: float = 0.05
    # Longer files are worked through in blocks of this length, so a worker's memory stays
    # bounded whatever the file (HPSS of 5 min of 44.1 kHz stereo peaks near 1 GiB); each
    # block reads on past its end by one longest slice, so a hit near the edge keeps its tail.
    block_s: float = 300.0


def with_overrides(
    config: PreprocessConfig,
    *,
    separation: dict[str, object] | None = None,
    onset_method: str | None = None,
    transcriber_weights: str | None = None,
) -> PreprocessConfig:
    """``config`` with the command-line choices applied (a None or empty value changes
    nothing): shared by ``drumgenx preprocess`` and ``drumgenx run``."""
    if separation:
        config = replace(config, separation=replace(config.separation, **separation))
    if onset_method:
        config = replace(config, onsets=replace(config.onsets, method=onset_method))
    if transcriber_weights:
        config = replace(
            config, onsets=replace(config.onsets, transcriber_weights=str(transcriber_weights))
        )
    return config
