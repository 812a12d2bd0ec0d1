"""Let the runners work from a checkout even before ``pip install -e .``."""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import drumgenx  # noqa: F401
except ModuleNotFoundError:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
