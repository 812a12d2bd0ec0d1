"""What the role features' extractor and the role config both need: the features' names and
their analysis settings (the config's ``features`` section).

`drumgenx.roles.features` computes the features; `drumgenx.roles.rules` holds the role config
(these settings among its sections) and scores the features by name. Both import these from
here, so the extractor can take its default settings from the shipped role config without
the two modules importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FEATURE_NAMES", "FeatureParams"]

FEATURE_NAMES: tuple[str, ...] = (
    "attack_time_ms",
    "decay_time_ms",
    "effective_duration_s",
    "sustain_fraction",
    "crest_factor_db",
    "spectral_centroid_hz",
    "spectral_flatness",
    "low_band_ratio",
    "mid_band_ratio",
    "high_band_ratio",
    "low_peak_hz",
)
"""The eleven features, in the order every table and vector uses."""


@dataclass(frozen=True)
class FeatureParams:
    """Analysis settings (config section ``features``), the shipped values and why.

    The values are the role config's (`drumgenx.roles.rules.RoleConfig`, shipped as package
    data); `drumgenx.roles.features.default_feature_params` gives the shipped ones.

    Attributes
    ----------
    analysis_sr : int
        Rate every input is resampled to, Hz. 22.05 kHz keeps content up to 11 kHz: enough for
        the > 5 kHz hat band, and half the work of 44.1 kHz (stage 1's fingerprint rate).
    max_duration_s : float
        Only the first this-many seconds are analysed. Beds and long cymbals are recognisably
        long well before 4 s (every duration threshold of the rules is at most 2 s), and the
        cap bounds the work per file: the Debian kits' cymbals run to 12 s. 4 s scored
        slightly better than 8 s on ``bench/bench_roles.py`` (rules 81.0 % vs 80.4 %) and
        matches the learned scorer's window.
    envelope_hop_ms : float
        Envelope sample spacing, ms. 1 ms resolves the fastest drum attacks (1-5 ms).
    envelope_smooth_ms : float
        Moving-average length over the Hilbert magnitude, ms: removes the noise envelope's
        random spikes (and beating of close partials) without blurring a 5 ms attack.
    attack_low, attack_high : float
        Envelope fractions of the peak bounding the attack (10 % to 90 %, the usual
        rise-time definition).
    decay_db : float
        Drop below the peak that ends the decay, dB (20 dB: well above noise floors of
        8-bit and lossy sources, so it measures the sound, not the hiss).
    duration_db : float
        Drop below the peak bounding the effective duration, dB. 40 dB: stage 1 trims slices
        where they stay 50 dB down, so 40 dB sits inside every slice's kept tail.
    sustain_db : float
        Drop below the peak still counted as "sustained", dB (10 dB).
    n_fft, hop : int
        Spectral frame length and hop in samples at ``analysis_sr`` (46 ms, 11.6 ms): a
        100 ms hit still gets several frames to average, so a noise burst's flatness is
        near 1.
    flatness_min_hz, flatness_max_hz : float
        Range of the octave bands flatness is measured in: excludes DC/rumble and (capped at
        95 % of Nyquist) the resampler's roll-off, which would make any noise look coloured.
    low_band_hz, mid_band_hz, high_band_hz : float
        Band edges: below ``low_band_hz`` is "low" (kick sub, 150 Hz), ``low_band_hz`` to
        ``mid_band_hz`` is "mid" (drum bodies, to 2 kHz), above ``high_band_hz`` is "high"
        (cymbal/hat sheen, 5 kHz). 2-5 kHz (snare crack) belongs to none, on purpose.
    peak_min_hz, peak_max_hz : float
        Search range of ``low_peak_hz`` (30 Hz-1 kHz: the fundamentals of every drum head).
    """

    analysis_sr: int
    max_duration_s: float
    envelope_hop_ms: float
    envelope_smooth_ms: float
    attack_low: float
    attack_high: float
    decay_db: float
    duration_db: float
    sustain_db: float
    n_fft: int
    hop: int
    flatness_min_hz: float
    flatness_max_hz: float
    low_band_hz: float
    mid_band_hz: float
    high_band_hz: float
    peak_min_hz: float
    peak_max_hz: float
