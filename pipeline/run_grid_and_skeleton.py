"""Stage 3 runner (the seed's documented command): beat grid, skeleton events, WAV render.

    python pipeline/run_grid_and_skeleton.py --out_dir output/ --bpm 120

Writes grid_N.json, event_grid_N.json, skeleton_meta_N.json and render_N.wav (one new N) in
--out_dir. Same as `drumgenx skeleton`, which adds --swing, --tails, --skip_missing.
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (makes `drumgenx` importable from a checkout)

from drumgenx.cli import guarded
from drumgenx.skeleton import cli_args as skeleton


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    skeleton.add_arguments(parser, extended=False)
    return guarded(skeleton.main, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
