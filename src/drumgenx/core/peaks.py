"""Peak picking on an activation or novelty curve, shared by the onset detectors of stage 1
and the drum transcriber: a moving maximum, a minimum gap, sub-frame refinement."""

from __future__ import annotations

import numpy as np

__all__ = ["keep_apart", "moving_max", "refine_peaks"]


def moving_max(x: np.ndarray, before: int, after: int) -> np.ndarray:
    """Maximum of ``x[i - before : i + after + 1]`` for every ``i`` (``-inf`` past the ends)."""
    padded = np.pad(x, (before, after), mode="constant", constant_values=-np.inf)
    return np.lib.stride_tricks.sliding_window_view(padded, before + after + 1).max(axis=1)


def keep_apart(candidates: np.ndarray, gap: float) -> np.ndarray:
    """Of sorted frame indices, the first of each plateau run, then each one more than ``gap``
    frames after the previous kept one (the earlier wins: madmom's ``combine``).

    A loop over candidates, not frames: a few hundred iterations for a minute of drums.
    """
    if candidates.size == 0:
        return np.zeros(0, dtype=np.int64)
    # Plateaus give runs of equal maxima: keep the first of each run.
    cand = candidates[np.concatenate([[True], np.diff(candidates) > 1])]
    kept = [int(cand[0])]
    for c in cand[1:]:
        if c - kept[-1] > gap:
            kept.append(int(c))
    return np.asarray(kept, dtype=np.int64)


def refine_peaks(x: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Sub-frame peak positions: vertex of the parabola through each peak and its neighbours
    (the peak itself at either end of ``x``)."""
    i = np.clip(peaks, 1, len(x) - 2)
    a, b, c = x[i - 1], x[i], x[i + 1]
    den = a - 2 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(den < 0, 0.5 * (a - c) / den, 0.0)
    shift = np.clip(shift, -0.5, 0.5)
    return np.where((peaks >= 1) & (peaks <= len(x) - 2), i + shift, peaks.astype(float))
