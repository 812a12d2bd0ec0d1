"""Calibrating stage 2's confidence, and measuring how well it is calibrated (issue #15).

Pools draw samples by confidence, so a confidence of 0.8 should be right 8 times in 10.
The fused distribution (`roles.fusion.fuse`, then the guards) is sharpened or softened by a
single temperature ``T``: ``p_i^(1/T) / sum_j p_j^(1/T)`` (temperature scaling on log
probabilities; it never changes which role is most probable, so accuracy is untouched).
``T`` is fitted by `fit_temperature` on leave-one-family-out predictions of the training rows
(`drumgenx train roles`), stored with the learned scorer's weights, and applied by stage 2.
`expected_calibration_error` is the measure of the goal (ECE <= 0.05 on the frozen group).
Numpy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DEFAULT_BINS", "expected_calibration_error", "fit_temperature", "temper"]

DEFAULT_BINS = 15
"""Equal-width confidence bins of the ECE (15, as Guo et al. 2017, "On calibration of modern
neural networks", who introduced temperature scaling)."""


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, *, n_bins: int = DEFAULT_BINS
) -> float:
    """Expected calibration error: the sample-weighted mean of ``|accuracy - confidence|``
    over equal-width confidence bins.

    Parameters
    ----------
    confidence : numpy.ndarray
        ``(n,)`` predicted probability of the chosen class, each in 0..1.
    correct : numpy.ndarray
        ``(n,)`` whether the chosen class was right (bool or 0/1).
    n_bins : int
        Bins over 0..1 (default `DEFAULT_BINS`); bin ``k`` holds ``(k/n, (k+1)/n]``, bin 0
        also holds 0.

    Returns
    -------
    float
        0 for a perfectly calibrated set; ``nan`` for an empty one.

    Raises
    ------
    ValueError
        Shapes differ, a confidence is outside 0..1, or ``n_bins`` < 1.
    """
    conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
    hit = np.asarray(correct, dtype=np.float64).reshape(-1)
    if conf.shape != hit.shape:
        raise ValueError(f"{conf.size} confidences but {hit.size} outcomes")
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if conf.size == 0:
        return float("nan")
    if conf.min() < 0.0 or conf.max() > 1.0:
        raise ValueError("confidences must lie in 0..1")
    which = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    gap = np.bincount(which, hit - conf, minlength=n_bins)  # per bin: sum(acc - conf)
    return float(np.abs(gap).sum() / conf.size)


def temper(p: np.ndarray, temperature: float) -> np.ndarray:
    """``p ** (1 / temperature)``, renormalised along the last axis (zeros stay zero).

    Raises
    ------
    ValueError
        ``temperature`` is not positive.
    """
    if not temperature > 0.0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
    if temperature == 1.0:
        return p / p.sum(axis=-1, keepdims=True)
    # in log space, relative to each row's largest entry: no underflow at small T
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    z = (logp - logp.max(axis=-1, keepdims=True)) / temperature
    q = np.exp(z)
    return q / q.sum(axis=-1, keepdims=True)


T_RANGE = (0.05, 20.0)
"""Temperatures searched by `fit_temperature`: from 20x sharper to 20x softer."""


def fit_temperature(p: np.ndarray, y: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of labels ``y`` under
    ``temper(p, T)``: a golden-section search on ``log T`` over `T_RANGE` (the NLL is
    convex in ``1/T`` for log-linear scaling, so one minimum).

    Parameters
    ----------
    p : numpy.ndarray
        ``(n, k)`` predicted distributions (held-out predictions, never the training fit's).
    y : numpy.ndarray
        ``(n,)`` class indices.
    """
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=int)
    if p.ndim != 2 or p.shape[0] != y.size or y.size == 0:
        raise ValueError("p must be (n, k) with one label per row, n >= 1")

    def nll(log_t: float) -> float:
        q = temper(p, float(np.exp(log_t)))[np.arange(y.size), y]
        return float(-np.mean(np.log(np.clip(q, 1e-12, 1.0))))

    lo, hi = np.log(T_RANGE[0]), np.log(T_RANGE[1])
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):  # the bracket shrinks 0.618x each step: ~1e-12 of 6 in log T
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2.0))
