"""Tests for the numpy-only drum-kit synthesizer."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from drumgenx.kit.synth import KIT_SR, KIT_VOICES, KitVoice, synthesize_voice

NAMES = [voice.name for voice in KIT_VOICES]
NOISE_VOICES = ["snare", "clap", "hat_closed", "hat_open", "crash"]
PEAK = 10.0 ** (-1.0 / 20.0)

# Allowed duration ranges (seconds), from the sound-design brief.
DURATION_RANGE = {
    "kick": (0.45, 0.75),
    "snare": (0.3, 0.5),
    "clap": (0.3, 0.5),
    "hat_closed": (0.08, 0.16),
    "hat_open": (0.45, 0.75),
    "tom_low": (0.4, 0.6),
    "tom_mid": (0.4, 0.6),
    "tom_high": (0.4, 0.6),
    "crash": (1.2, 1.8),
    "pad": (2.0, 2.0),
}


@cache
def _render(name: str, seed: int = 0, sr: int = KIT_SR) -> np.ndarray:
    out = synthesize_voice(name, sr=sr, seed=seed)
    out.flags.writeable = False  # cached: guard against a test mutating a shared array
    return out


def _power_spectrum(x: np.ndarray, sr: int = KIT_SR) -> tuple[np.ndarray, np.ndarray]:
    power = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    return np.fft.rfftfreq(x.size, d=1.0 / sr), power


def _centroid(x: np.ndarray, sr: int = KIT_SR) -> float:
    freqs, power = _power_spectrum(x, sr)
    return float(np.sum(freqs * power) / np.sum(power))


def _energy_fraction_below(x: np.ndarray, cutoff_hz: float, sr: int = KIT_SR) -> float:
    freqs, power = _power_spectrum(x, sr)
    return float(power[freqs < cutoff_hz].sum() / power.sum())


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def _time_to_fall(x: np.ndarray, drop_db: float, sr: int = KIT_SR) -> float:
    """Seconds from the loudest 5 ms frame until the frame level first drops by ``drop_db``."""
    hop = int(0.005 * sr)
    frames = x[: x.size // hop * hop].astype(np.float64).reshape(-1, hop)
    level = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    loudest = int(np.argmax(level))
    below = np.nonzero(level[loudest:] < level[loudest] - drop_db)[0]
    assert below.size, "signal never decays by the requested amount"
    return float(below[0] * hop / sr)


def test_voice_table_order_and_roles() -> None:
    assert [(v.name, v.role) for v in KIT_VOICES] == [
        ("kick", "CORE"),
        ("snare", "ACCENT"),
        ("clap", "ACCENT"),
        ("hat_closed", "MOTION"),
        ("hat_open", "MOTION"),
        ("tom_low", "FILL"),
        ("tom_mid", "FILL"),
        ("tom_high", "FILL"),
        ("crash", "FILL"),
        ("pad", "TEXTURE"),
    ]
    assert all(isinstance(v, KitVoice) for v in KIT_VOICES)


@pytest.mark.parametrize("voice", KIT_VOICES, ids=NAMES)
def test_raw_synthesize_returns_float32_mono(voice: KitVoice) -> None:
    raw = voice.synthesize(KIT_SR, np.random.default_rng(0))
    assert raw.dtype == np.float32
    assert raw.ndim == 1
    assert np.all(np.isfinite(raw))


@pytest.mark.parametrize("name", NAMES)
def test_output_format_and_peak(name: str) -> None:
    x = _render(name)
    assert x.dtype == np.float32
    assert x.ndim == 1
    assert np.all(np.isfinite(x))
    assert abs(float(np.max(np.abs(x))) - PEAK) < 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_seed(name: str) -> None:
    a = synthesize_voice(name, seed=7)
    b = synthesize_voice(name, seed=7)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", NOISE_VOICES)
def test_different_seeds_differ_for_noise_voices(name: str) -> None:
    a, b = _render(name, seed=0), _render(name, seed=1)
    assert a.shape == b.shape
    # Not just a tiny perturbation: the noise realisation itself must change.
    assert _rms(a - b) > 0.1 * _rms(a)


@pytest.mark.parametrize("name", NAMES)
def test_starts_and_ends_at_zero(name: str) -> None:
    x = _render(name)
    one_ms = int(0.001 * KIT_SR)
    assert x[0] == 0.0
    assert x[-1] == 0.0
    assert np.max(np.abs(x[-one_ms:])) < 0.01


@pytest.mark.parametrize("name", ["kick", "snare", "clap", "hat_closed", "tom_mid", "crash"])
def test_fade_in_keeps_the_attack(name: str) -> None:
    # The fade-in must be <= 1 ms: percussive voices are already loud 3 ms in.
    x = _render(name)
    first_3ms = x[: int(0.003 * KIT_SR)]
    assert np.max(np.abs(first_3ms)) > 0.25 * PEAK


@pytest.mark.parametrize("name", NAMES)
def test_duration_in_range(name: str) -> None:
    lo, hi = DURATION_RANGE[name]
    seconds = _render(name).size / KIT_SR
    assert lo - 1e-9 <= seconds <= hi + 1e-9


@pytest.mark.parametrize("name", ["kick", "hat_closed", "pad"])
def test_duration_scales_with_sample_rate(name: str) -> None:
    at_native = _render(name).size / KIT_SR
    at_22k = _render(name, sr=22050).size / 22050
    assert at_22k == pytest.approx(at_native, abs=1e-4)
    assert abs(float(np.max(np.abs(_render(name, sr=22050)))) - PEAK) < 1e-4


def test_spectral_centroid_ordering() -> None:
    kick, snare, hat = (_centroid(_render(n)) for n in ("kick", "snare", "hat_closed"))
    assert kick < 200.0
    assert kick < snare < hat
    assert snare > 1000.0
    assert hat > 5000.0


def test_kick_energy_is_sub_bass() -> None:
    assert _energy_fraction_below(_render("kick"), 150.0) > 0.8


def _zero_crossing_hz(x: np.ndarray, sr: int = KIT_SR) -> float:
    crossings = np.count_nonzero(np.diff(np.signbit(x)))
    return crossings / 2.0 / (x.size / sr)


def test_kick_pitch_sweeps_down_to_sub() -> None:
    x = _render("kick")
    early = _zero_crossing_hz(x[int(0.005 * KIT_SR) : int(0.03 * KIT_SR)])
    late = _zero_crossing_hz(x[int(0.2 * KIT_SR) : int(0.45 * KIT_SR)])
    assert 40.0 < late < 60.0
    assert early > 1.5 * late


@pytest.mark.parametrize("name", ["hat_closed", "hat_open", "crash"])
def test_cymbals_have_no_low_end(name: str) -> None:
    assert _energy_fraction_below(_render(name), 3000.0) < 0.05


@pytest.mark.parametrize(
    ("name", "f0"), [("tom_low", 90.0), ("tom_mid", 130.0), ("tom_high", 180.0)]
)
def test_tom_pitches(name: str, f0: float) -> None:
    freqs, power = _power_spectrum(_render(name))
    dominant = float(freqs[np.argmax(power)])
    assert dominant == pytest.approx(f0, rel=0.1)


def test_closed_hat_decays_much_faster_than_open_hat() -> None:
    closed = _time_to_fall(_render("hat_closed"), 40.0)
    open_ = _time_to_fall(_render("hat_open"), 40.0)
    assert closed < 0.1
    assert open_ > 0.25
    assert open_ > 4.0 * closed


def test_crash_rings_longer_than_open_hat() -> None:
    assert _time_to_fall(_render("crash"), 30.0) > _time_to_fall(_render("hat_open"), 30.0)


def test_pad_is_two_seconds_with_slow_attack() -> None:
    x = _render("pad")
    assert x.size == 2 * KIT_SR
    first_50ms = _rms(x[: int(0.05 * KIT_SR)])
    around_half_second = _rms(x[int(0.475 * KIT_SR) : int(0.525 * KIT_SR)])
    assert first_50ms < 0.1 * around_half_second
    # The bed is gently low-passed: almost nothing above 4 kHz.
    assert _energy_fraction_below(x, 4000.0) > 0.99


def test_unknown_name_raises_listing_valid_names() -> None:
    with pytest.raises(ValueError, match="unknown kit voice") as excinfo:
        synthesize_voice("cowbell")
    message = str(excinfo.value)
    assert all(name in message for name in NAMES)


def test_too_low_sample_rate_raises() -> None:
    with pytest.raises(ValueError, match="sr"):
        synthesize_voice("kick", sr=100)
