"""Stage 1 runner (the seed's documented command): audio folder -> one-shot library.

    python pipeline/run_preprocess.py
    python pipeline/run_preprocess.py --dataset_root ~/music --output_root dummy_dataset

Edit the two settings below to point at your audio once; the flags override them.
Same as `drumgenx preprocess`.
"""

from __future__ import annotations

import argparse
import sys

import _bootstrap  # noqa: F401  (makes `drumgenx` importable from a checkout)

from drumgenx.cli import guarded
from drumgenx.preprocess import cli_args as preprocess

# --- user settings -------------------------------------------------------------------------
DATASET_ROOT = "examples/input_samples"  # the folder of audio to turn into one-shots
OUTPUT_ROOT = "dummy_dataset"  # where dummy_NNNNN.wav and manifest_N.json go
# -------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    preprocess.add_arguments(parser, dataset_root=DATASET_ROOT, output_root=OUTPUT_ROOT)
    return guarded(preprocess.main, parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
