"""The kit commands' settings (``kit``, ``export-kit``, ``demo``): frozen dataclasses, the one
place their defaults live.

Kept free of heavy imports, so the command line reads its defaults from here at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FIRST_SAMPLE_KEY", "DemoSettings", "KitExportSettings", "KitSettings"]

FIRST_SAMPLE_KEY = 60
"""A loop's kit gives each sample its own key from here (middle C) up to 127, clear of the
General MIDI drum keys the roles sit on (35..81 in GM, 36..52 here), so at most 68 samples."""


@dataclass(frozen=True)
class KitExportSettings:
    """How a kit is exported (`kit.export.export_kit`).

    Attributes
    ----------
    name
        The kit's name: ``NAME_kit_N/`` with ``NAME.sfz`` (default ``drumgenx``).
    per_role
        Samples per role at most (8: a round robin longer than this is rarely heard as more
        varied). Exported from a loop, a role holds every sample the loop plays even where
        that is more: the cap is then ``max(per_role, samples the loop plays in the role)``.
    """

    name: str = "drumgenx"
    per_role: int = 8


@dataclass(frozen=True)
class KitSettings:
    """Where ``drumgenx kit`` synthesizes the bundled kit (`kit.run.write_kit_and_pools`).

    Attributes
    ----------
    kit_dir
        The bundled kit's folder in a checkout (``examples/input_samples``).
    """

    kit_dir: str = "examples/input_samples"


@dataclass(frozen=True)
class DemoSettings:
    """How ``drumgenx demo`` builds the demo audio (`kit.demo.build_demo`).

    Attributes
    ----------
    seed
        0 or more; the same seed gives byte-identical files (0).
    """

    seed: int = 0
