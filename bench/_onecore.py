"""Benchmarks measure one core: import this before numpy (it sets the thread pools to 1)."""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_var] = "1"


def pin_one_core() -> str:
    """Restrict this process to its first allowed CPU; returns a description."""
    if hasattr(os, "sched_setaffinity"):
        first = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {first})
        return f"pinned to cpu {first}"
    return "not pinned (no sched_setaffinity)"
