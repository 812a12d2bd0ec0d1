"""Stage 1's onset detection: one entry point, `detect_onsets`, for three detectors.

``OnsetParams.method`` picks the detector:

* ``"flux"`` (:mod:`~drumgenx.preprocess.onsets_flux`): hand-tuned multi-band log spectral
  flux, adaptive peak picking and backtracked attack starts; its module docstring describes
  the pipeline and ``OnsetParams`` every setting;
* ``"learned"`` (:mod:`~drumgenx.preprocess.onsets_learned`): a small learned activation
  over the flux detector's log filterbank;
* ``"transcribe"`` (:mod:`~drumgenx.preprocess.onsets_transcribe`): the drum transcriber's
  hits (stage 1 calls it with the mix and the stem; here it hears ``y`` alone).

`OnsetParams`, `Onsets` and `onset_strength` are the flux module's, named here too. This
module imports the three detectors and none of them imports it, so they form no import cycle.
"""

from __future__ import annotations

import numpy as np

from drumgenx.preprocess.onsets_flux import (
    OnsetParams,
    Onsets,
    detect_onsets_flux,
    onset_strength,
)
from drumgenx.preprocess.onsets_learned import detect_onsets_learned
from drumgenx.preprocess.onsets_transcribe import detect_onsets_transcribe

__all__ = ["OnsetParams", "Onsets", "detect_onsets", "onset_strength"]

_DEFAULTS = OnsetParams()


def detect_onsets(y: np.ndarray, *, sr: int, params: OnsetParams = _DEFAULTS) -> Onsets:
    """Detect drum onsets with the detector ``params.method`` names.

    Parameters
    ----------
    y : np.ndarray
        Mono audio, 1-D float32/float64 (callers downmix; 2-D input raises ``ValueError``).
    sr : int
        Sample rate of ``y`` (any; the analysis settings are in seconds and Hz).
    params : OnsetParams
        Detector settings; the defaults (``method="flux"``) are tuned for drum stems.

    Returns
    -------
    Onsets
        ``times`` (the onsets), ``starts`` (attack starts, for slicing) and ``strengths``
        (0..1), all sorted by time. Silence gives empty arrays.

    Raises
    ------
    ValueError
        ``params.method`` is none of ``flux``, ``learned`` and ``transcribe``.
    """
    if params.method == "flux":
        return detect_onsets_flux(y, sr=sr, params=params)
    if params.method == "learned":
        return detect_onsets_learned(y, sr=sr, params=params)
    if params.method == "transcribe":  # here on y alone; stage 1 passes the mix too
        return detect_onsets_transcribe(y, sr=sr, params=params).onsets
    raise ValueError(f"method must be 'flux', 'learned' or 'transcribe', got {params.method!r}")
