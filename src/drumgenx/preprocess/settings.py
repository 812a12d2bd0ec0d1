"""Stage 1's command-line settings: the choices of its flags and the defaults they state.

Kept free of heavy imports, so the command line reads its defaults from here at start-up;
the stage's dataclasses (`SeparationParams`, `PreprocessConfig`) take their defaults from
these names, so each lives in one place. Every other stage-1 setting is in
`drumgenx.preprocess.config` (``drumgenx preprocess --print_config`` prints them all).
"""

from __future__ import annotations

from dataclasses import dataclass

from drumgenx.core.engine import EngineSettings

__all__ = [
    "DEMUCS_MODEL",
    "ONSET_METHOD",
    "ONSET_METHODS",
    "SEPARATOR",
    "SEPARATORS",
    "PreprocessRunSettings",
]

SEPARATORS: tuple[str, ...] = ("auto", "demucs", "hpss", "none")
"""``--separator``'s choices (`SeparationParams.method`)."""
SEPARATOR = "auto"
"""The default separation: Demucs, with the HPSS fallback (`SeparationParams.method`)."""
DEMUCS_MODEL = "htdemucs"
"""Demucs 4's default model (`SeparationParams.demucs_model`)."""
ONSET_METHODS: tuple[str, ...] = ("flux", "learned", "transcribe")
"""``--onset_method``'s choices (`OnsetParams.method`)."""
ONSET_METHOD = "transcribe"
"""Stage 1's hit detector, the drum transcriber (`PreprocessConfig.onsets.method`)."""


@dataclass(frozen=True)
class PreprocessRunSettings:
    """How ``drumgenx preprocess`` runs (`preprocess.run.run_preprocess`), besides its config.

    Attributes
    ----------
    output_root
        The one-shot library folder (``dummy_dataset``, as the seed).
    workers
        Files processed in parallel (1: this process).
    engine
        Where the per-file work runs: ``local`` or ``dask`` (`core.engine.EngineSettings`).
    scheduler
        ``engine`` dask: the scheduler's address (None: ``$DASK_SCHEDULER_ADDRESS``, else a
        local cluster).
    """

    output_root: str = "dummy_dataset"
    workers: int = 1
    engine: str = EngineSettings.engine
    scheduler: str | None = EngineSettings.scheduler
