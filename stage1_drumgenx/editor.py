"""The seed's editor path: same as `drumgenx edit`.

python stage1_drumgenx/editor.py set --events output/event_grid_1.json \
        --bar 0 --step 6 --role ACCENT
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "pipeline"))

import _bootstrap  # noqa: F401  (makes `drumgenx` importable from a checkout)

from drumgenx.cli import main

if __name__ == "__main__":
    sys.exit(main(["edit", *sys.argv[1:]]))
