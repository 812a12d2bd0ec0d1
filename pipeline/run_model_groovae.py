"""Stage 4 runner (the seed's documented command): GrooVAE humanizes or varies an event grid.

    python pipeline/run_model_groovae.py --grid_json output/grid_1.json \
        --events_json output/event_grid_1.json --pools_json output/pools_1.json --out_dir output/

Writes event_grid_groovae_N.json (and with --render, render_groovae_N.wav, same N) in
--out_dir. Same as `drumgenx groove`, which adds --swing, --tails, --skip_missing.
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (makes `drumgenx` importable from a checkout)

from drumgenx.cli import guarded
from drumgenx.groove import cli_args as groove


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    groove.add_arguments(parser, extended=False)
    return guarded(groove.main, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
