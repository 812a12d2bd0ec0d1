"""Tests for slicing one-shots out of a recording: bounds, decay trim, fades, drops."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.preprocess.slicing import Slice, SliceParams, peak_normalize, slice_hits

SR = 44100
PARAMS = SliceParams()
PRE_ROLL = round(PARAMS.pre_roll_ms * SR / 1000)


def _burst(n: int, *, tau_s: float, freq: float = 1000.0, amp: float = 0.8) -> np.ndarray:
    """A sine burst with an exponential decay ``amp * exp(-t / tau)``, starting at full level."""
    t = np.arange(n) / SR
    return (amp * np.sin(2 * np.pi * freq * t + np.pi / 2) * np.exp(-t / tau_s)).astype(np.float32)


def _track(attacks_s: list[float], *, length_s: float, tau_s: float = 0.03) -> np.ndarray:
    """Mono ``(frames, 1)`` track with one decaying burst starting at each attack time."""
    y = np.zeros(round(length_s * SR), dtype=np.float32)
    for a in attacks_s:
        i = round(a * SR)
        burst = _burst(y.size - i, tau_s=tau_s)
        y[i:] += burst
    return y[:, None]


def _slice(y: np.ndarray, attacks: list[float], params: SliceParams = PARAMS) -> list[Slice]:
    starts = np.asarray(attacks, dtype=np.float64)
    return slice_hits(y, sr=SR, starts=starts, strengths=np.linspace(1, 2, starts.size),
                      params=params)  # fmt: skip


def _frames(seconds: float) -> int:
    return round(seconds * SR)


# --- bounds ---------------------------------------------------------------------------------


def test_bounds_never_overlap_start_at_pre_roll_and_respect_next_hit() -> None:
    attacks = [0.002, 0.25, 0.40, 0.41, 0.9]  # the first is closer to 0 than the pre-roll
    y = _track(attacks, length_s=1.5, tau_s=0.2)  # slow decay: ends set by the next hit
    slices = _slice(y, attacks)
    begins = [max(0, _frames(a) - PRE_ROLL) for a in attacks]
    by_begin = {_frames(s.start_s): s for s in slices}
    assert sorted(by_begin) == [b for b in begins if b in by_begin]
    assert _frames(slices[0].start_s) == 0  # attack - pre-roll clipped at 0
    for s in slices:
        begin, end = _frames(s.start_s), _frames(s.end_s)
        i = begins.index(begin)
        assert begin == max(0, _frames(attacks[i]) - PRE_ROLL)
        assert end - begin == s.audio.shape[0]
        assert end - begin <= _frames(PARAMS.max_length_s)
        if i + 1 < len(begins):
            assert end <= begins[i + 1]  # never past the next hit's slice start
    ends = [_frames(s.end_s) for s in slices]
    assert all(e <= b for e, b in zip(ends, [_frames(s.start_s) for s in slices[1:]], strict=False))
    # 0.40 -> 0.41 is 10 ms: shorter than min_length_ms, so that hit is dropped.
    assert _frames(0.40) - PRE_ROLL not in by_begin
    assert len(slices) == 4


def test_slice_ends_at_max_length_when_nothing_stops_it_earlier() -> None:
    y = np.full((_frames(5.0), 1), 0.5, dtype=np.float32)  # a sustained level: never decays
    params = SliceParams(max_length_s=1.0)
    (s,) = _slice(y, [1.0], params)
    assert s.audio.shape[0] == _frames(1.0)
    assert s.start_s == pytest.approx(1.0 - PRE_ROLL / SR)


def test_last_hit_runs_to_the_end_of_the_file() -> None:
    y = np.full((_frames(1.2), 1), 0.5, dtype=np.float32)
    slices = _slice(y, [0.1, 0.8])
    assert _frames(slices[-1].end_s) == y.shape[0]
    assert _frames(slices[0].end_s) == _frames(0.8) - PRE_ROLL


def test_a_hit_the_file_was_cut_into_is_dropped_a_whole_last_hit_kept() -> None:
    # a loop cut 40 ms into its next downbeat: that fragment still sounds at the file's end
    y = _track([0.0, 0.5, 1.0], length_s=1.04, tau_s=0.2)
    assert [round(s.start_s, 3) for s in _slice(y, [0.0, 0.5, 1.0])] == [0.0, 0.495]
    assert len(_slice(y, [0.0, 0.5, 1.0], SliceParams(cut_tail_ms=0.0))) == 3
    # the same fragment as a file's only hit (a one-shot trimmed tight) is kept
    (only,) = _slice(y[_frames(1.0) :], [0.0])
    assert only.audio.shape[0] == _frames(0.04)
    # a short last hit that dies away before the end is a whole hit: kept
    short = _track([0.0, 0.5, 1.0], length_s=1.06, tau_s=0.007)
    assert len(_slice(short, [0.0, 0.5, 1.0])) == 3
    with pytest.raises(ValueError, match="cut_tail_ms"):
        SliceParams(cut_tail_ms=-1.0)


# --- decay trim and fades -------------------------------------------------------------------


@pytest.mark.parametrize(("tau_s", "decay_db"), [(0.02, 50.0), (0.05, 50.0), (0.05, 30.0)])
def test_decay_trim_lands_on_the_computed_threshold_point(tau_s: float, decay_db: float) -> None:
    attack = 0.1
    y = _track([attack], length_s=2.0, tau_s=tau_s)
    (s,) = _slice(y, [attack], SliceParams(decay_db=decay_db))
    # amp * exp(-t / tau) reaches peak - decay_db at t = tau * ln(10 ** (decay_db / 20)).
    expected_end = attack + tau_s * np.log(10.0 ** (decay_db / 20.0))
    assert s.end_s == pytest.approx(expected_end, abs=0.002)  # within 2 ms (a 1 kHz period)


def test_fades_start_and_end_at_exact_zero_and_keep_the_middle_untouched() -> None:
    attack = 0.1
    y = _track([attack], length_s=1.0, tau_s=0.05)
    (s,) = _slice(y, [attack])
    assert s.audio[0, 0] == 0.0
    assert s.audio[-1, 0] == 0.0
    begin = _frames(s.start_s)
    fade_out = _frames(PARAMS.fade_out_ms / 1000)
    source = y[begin : begin + s.audio.shape[0]]
    # Between the fades the slice is the source itself: not normalised, not filtered.
    np.testing.assert_array_equal(s.audio[PRE_ROLL:-fade_out], source[PRE_ROLL:-fade_out])
    # The fade-out only ever attenuates, more and more towards the end.
    tail_gain = s.audio[-fade_out:-1, 0] / np.where(
        source[-fade_out:-1, 0] == 0, 1, source[-fade_out:-1, 0]
    )
    assert np.all(np.diff(tail_gain) <= 1e-6)
    assert np.all((tail_gain >= 0) & (tail_gain <= 1))


def test_fade_in_never_touches_an_attack_at_the_files_first_sample() -> None:
    y = _track([0.0], length_s=0.5)
    (s,) = _slice(y, [0.0])
    assert s.start_s == 0.0
    assert s.audio[0, 0] == y[0, 0] != 0.0


def test_fade_out_when_cut_by_the_next_hit() -> None:
    y = _track([0.1, 0.3], length_s=1.0, tau_s=0.5)  # still loud when the next hit comes
    first = _slice(y, [0.1, 0.3])[0]
    assert _frames(first.end_s) == _frames(0.3) - PRE_ROLL
    assert first.audio[-1, 0] == 0.0
    assert abs(first.audio[-_frames(0.02), 0]) > 0.1  # 20 ms before the end: not faded


# --- drops ----------------------------------------------------------------------------------


def test_too_quiet_slices_are_dropped_and_quiet_but_audible_ones_kept() -> None:
    y = np.zeros((_frames(1.0), 1), dtype=np.float32)
    for attack, dbfs in ((0.1, -60.0), (0.5, -40.0)):
        i = _frames(attack)
        y[i : i + _frames(0.3), 0] = _burst(_frames(0.3), tau_s=0.03, amp=10 ** (dbfs / 20))
    slices = _slice(y, [0.1, 0.5])
    assert [round(s.start_s + PRE_ROLL / SR, 3) for s in slices] == [0.5]
    assert 20 * np.log10(np.abs(slices[0].audio).max()) == pytest.approx(-40.0, abs=0.1)


def test_too_short_slices_are_dropped_after_the_trim() -> None:
    attack = 0.1
    y = _track([attack], length_s=1.0, tau_s=0.003)  # decays by 50 dB in ~17 ms
    assert _slice(y, [attack]) == []
    assert len(_slice(y, [attack], SliceParams(min_length_ms=10.0))) == 1


def test_silence_and_no_hits_give_no_slices() -> None:
    silent = np.zeros((SR, 2), dtype=np.float32)
    assert _slice(silent, [0.1, 0.5]) == []
    assert _slice(_track([0.1], length_s=0.5), []) == []


# --- channels, strengths, validation --------------------------------------------------------


def test_stereo_is_kept_channel_for_channel() -> None:
    left = _track([0.1], length_s=0.8, tau_s=0.05)[:, 0]
    y = np.stack([left, 0.25 * left], axis=1)
    (s,) = slice_hits(y, sr=SR, starts=np.array([0.1]), strengths=np.array([0.7]))
    assert s.audio.shape[1] == 2 and s.audio.dtype == np.float32
    np.testing.assert_allclose(s.audio[:, 1], 0.25 * s.audio[:, 0], rtol=1e-6, atol=1e-9)
    assert s.onset_strength == 0.7


def test_mono_1d_input_is_accepted() -> None:
    y = _track([0.1], length_s=0.5)[:, 0]
    (s,) = slice_hits(y, sr=SR, starts=np.array([0.1]), strengths=np.array([1.0]))
    assert s.audio.ndim == 2 and s.audio.shape[1] == 1


@pytest.mark.parametrize(
    ("starts", "strengths"),
    [([0.2, 0.1], [1, 1]), ([0.1, 0.2], [1]), ([np.nan], [1.0])],
)
def test_bad_starts_are_rejected(starts: list[float], strengths: list[float]) -> None:
    with pytest.raises(ValueError):
        slice_hits(_track([0.1], length_s=0.5), sr=SR, starts=np.array(starts),
                   strengths=np.array(strengths))  # fmt: skip


def test_params_refuse_a_fade_in_longer_than_the_pre_roll() -> None:
    with pytest.raises(ValueError, match="attack"):
        SliceParams(pre_roll_ms=2.0, fade_in_ms=3.0)
    with pytest.raises(ValueError):
        SliceParams(decay_db=-50.0)


# --- peak_normalize -------------------------------------------------------------------------


def test_peak_normalize_sets_the_peak_and_copies() -> None:
    y = np.array([[0.1, -0.2], [0.05, 0.0]], dtype=np.float32)
    out = peak_normalize(y, peak_dbfs=-6.0)
    assert np.abs(out).max() == pytest.approx(10 ** (-6 / 20), rel=1e-6)
    assert y[1, 0] == np.float32(0.05)  # input untouched
    np.testing.assert_allclose(out / out[0, 1], y / y[0, 1], rtol=1e-6)
    silent = np.zeros(4, dtype=np.float32)
    np.testing.assert_array_equal(peak_normalize(silent), silent)
