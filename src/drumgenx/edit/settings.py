"""The editor's defaults, importable without numpy (the CLI reads them to build its flags)."""

from __future__ import annotations

POOL_SEED = 42
"""Default seed of `edit.operations.draw_pool_sample`, as the skeleton's and groove's."""
OFFSET_MS = 0.0
"""Default micro-timing of a hit the editor sets (`edit.operations.set_hit`), in ms."""
