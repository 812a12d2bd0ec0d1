"""Stage 2's settings: where its role config and prompts are read from, and the run's own.

Kept free of heavy imports, so the command line reads its defaults from here at start-up.

The role config (``role_assignment.yaml``) and the CLAP prompts (``prompts.yaml``) ship with
the package as data (``roles/defaults/``): those files are the defaults. A checkout keeps the
same two files where the seed documented them (``stage2_role_assignment/configs/`` and
``stage2_role_assignment/prompts/``; a test keeps them equal to the shipped ones); stage 2
run from a checkout reads them, found from this file's place, not the working directory, so
editing them changes the defaults of that checkout. A file given with ``--config`` or
``--prompts`` is read instead; every file is laid over the shipped defaults, so it only needs
the keys it changes (`drumgenx.core.config.load_config`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from drumgenx.core.engine import EngineSettings

__all__ = [
    "CHECKOUT_CONFIG_PATH",
    "CHECKOUT_PROMPTS_PATH",
    "SHIPPED_CONFIG_PATH",
    "SHIPPED_PROMPTS_PATH",
    "RolesSettings",
    "config_file",
    "prompts_file",
]

_HERE = Path(__file__).resolve().parent
SHIPPED_CONFIG_PATH = _HERE / "defaults" / "role_assignment.yaml"
"""The default role config, shipped as package data."""
SHIPPED_PROMPTS_PATH = _HERE / "defaults" / "prompts.yaml"
"""The default CLAP prompts, shipped as package data."""

_CHECKOUT = _HERE.parents[2]  # src/drumgenx/roles -> the repository root, in a checkout
CHECKOUT_CONFIG_PATH = _CHECKOUT / "stage2_role_assignment" / "configs" / "role_assignment.yaml"
"""The seed's role config in a checkout (an installed package has none)."""
CHECKOUT_PROMPTS_PATH = _CHECKOUT / "stage2_role_assignment" / "prompts" / "prompts.yaml"
"""The seed's prompts in a checkout (an installed package has none)."""


def config_file(path: str | Path | None = None) -> Path | None:
    """The role config file stage 2 reads over the shipped defaults.

    Parameters
    ----------
    path
        ``--config``; None: the checkout's file when there is one.

    Returns
    -------
    pathlib.Path or None
        None: the shipped defaults alone (an installed package without ``--config``).
    """
    if path is not None:
        return Path(path)
    return CHECKOUT_CONFIG_PATH if CHECKOUT_CONFIG_PATH.is_file() else None


def prompts_file(path: str | Path | None = None) -> Path | None:
    """The prompts file stage 2 reads over the shipped prompts (as `config_file`)."""
    if path is not None:
        return Path(path)
    return CHECKOUT_PROMPTS_PATH if CHECKOUT_PROMPTS_PATH.is_file() else None


@dataclass(frozen=True)
class RolesSettings:
    """How ``drumgenx roles`` runs (`roles.run.run_roles`), besides the role config.

    Attributes
    ----------
    limit
        Files scored, drawn at random with ``seed`` (10: the seed's quick look; 0 = all,
        which ``drumgenx run`` always uses).
    seed
        For ``limit`` (42, as the seed).
    workers
        Processes for the per-file work (1: this process).
    engine
        Where the per-file work runs: ``local`` or ``dask`` (`core.engine.EngineSettings`).
    scheduler
        ``engine`` dask: the scheduler's address (None: ``$DASK_SCHEDULER_ADDRESS``, else a
        local cluster).
    clap_model
        The CLAP checkpoint: a folder, or a hub name found in the local Hugging Face cache
        (never downloaded); without one stage 2 fuses the other sources.
    unsure_below
        A sample whose calibrated confidence is below this is marked ``unsure`` in
        ``per_sample_N.json`` and the pools, and drawn after every sure sample of its role
        (0 marks none). 0.5: with calibrated confidences (issue #15), below it a role is
        likelier wrong than right; chosen by that reasoning, not tuned (bench/ROLES.md gives
        what it marks on leave-one-family-out predictions).
    """

    limit: int = 10
    seed: int = 42
    workers: int = 1
    clap_model: str = "laion/clap-htsat-unfused"
    unsure_below: float = 0.5
    engine: str = EngineSettings.engine
    scheduler: str | None = EngineSettings.scheduler
