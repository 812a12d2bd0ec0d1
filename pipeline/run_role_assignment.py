"""Stage 2 runner (the seed's documented command): one-shots -> role pools.

    python pipeline/run_role_assignment.py --input_dir dummy_dataset/ --out_dir output/

Writes pools_N.json and per_sample_N.json (one new N) in --out_dir. Same as `drumgenx roles`.
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (makes `drumgenx` importable from a checkout)

from drumgenx.cli import guarded
from drumgenx.roles import cli_args as roles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    roles.add_arguments(parser)
    return guarded(roles.main, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
