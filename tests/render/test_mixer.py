"""Tests for the mixer: onsets, velocity, ceiling, gating, tails and loops, rates, channels.

Most tests mix plain arrays (no disk); the click-kit round trip also goes through
`render_wav_bytes` and `render_file` to a 24-bit WAV. A "click" is a one-frame impulse, so
where it lands in the mix is exactly where the renderer put the hit.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.events import velocity_gain
from drumgenx.core.formats import dump_json
from drumgenx.core.records import Event, Grid, events_to_json
from drumgenx.render.mixer import CEILING_DBFS, RELEASE_MS, render_events
from drumgenx.render.run import render_file, render_wav_bytes
from drumgenx.render.settings import RenderSettings
from drumgenx.render.timing import loop_frames
from drumgenx.skeleton.grid import build_grid

SR = 44100
CEILING = 10.0 ** (CEILING_DBFS / 20.0)
NO_CEILING = 60.0  # dBFS: high enough that the safety gain never engages
# Fractional, positive and negative micro-offsets (ms), cycled over the hits.
OFFSETS_MS = (0.0, 3.7, -2.25, 12.5, -7.125, 0.013, -0.49, 19.9, -15.3, 0.5)

Samples = dict[str, tuple[np.ndarray, int]]


def click(amp: float = 0.5, frames: int = 100) -> np.ndarray:
    """A one-frame impulse of height ``amp`` followed by silence, shape ``(frames, 1)``."""
    y = np.zeros((frames, 1), dtype=np.float32)
    y[0, 0] = amp
    return y


def dc(value: float, seconds: float, sr: int = SR) -> np.ndarray:
    """A constant ``(frames, 1)`` signal: easy to read its gain at any frame."""
    return np.full((round(seconds * sr), 1), value, dtype=np.float32)


def hit(
    bar: int,
    step: int,
    *,
    sample_id: str = "click",
    vel: float = 1.0,
    dur_steps: float = 4.0,
    offset_ms: float = 0.0,
    role: str = "CORE",
) -> Event:
    return Event(
        bar=bar,
        step=step,
        role=role,
        sample_id=sample_id,
        vel=vel,
        dur_steps=dur_steps,
        micro_offset_ms=offset_ms,
    )


def expected_frame(event: Event, grid: Grid, swing: float, sr: int = SR) -> int:
    """Onset frame from first principles: grid step + swing on odd steps + micro-offset."""
    steps = (
        event.bar * grid.steps_per_bar
        + event.step
        + (swing if event.step % 2 == 1 else 0.0)
        + event.micro_offset_ms / 1000.0 / grid.tstep
    )
    return round(steps * grid.tstep * sr)


def click_pattern(grid: Grid) -> list[Event]:
    """A hit on every step of ``grid``, each with one of `OFFSETS_MS` (bar 0 step 0 on time)."""
    return [
        hit(i // grid.steps_per_bar, i % grid.steps_per_bar, offset_ms=OFFSETS_MS[i % 10])
        for i in range(grid.num_steps)
    ]


def click_frames(audio: np.ndarray) -> np.ndarray:
    """Frames where a click sounds (any channel nonzero)."""
    return np.flatnonzero(np.any(audio != 0.0, axis=1))


def assert_clicks_at(audio: np.ndarray, expected: list[int]) -> None:
    found = click_frames(audio)
    assert len(found) == len(expected), f"{len(found)} clicks found, {len(expected)} expected"
    error = np.abs(found - np.sort(expected))
    assert error.max() <= 1, f"click up to {error.max()} frames off"


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


# --- timing -------------------------------------------------------------------------------


@pytest.mark.parametrize("bpm", [120.0, 123.4])
@pytest.mark.parametrize("swing", [0.0, 1 / 3, 0.33, 0.75])
def test_click_onsets_match_grid_swing_and_offsets(bpm: float, swing: float) -> None:
    """Every hit starts within 1 frame of (step + swing on odd steps + offset) * tstep * sr."""
    grid = build_grid(bpm=bpm, num_bars=3)
    events = click_pattern(grid)
    mix = render_events(events, grid, {"click": (click(), SR)}, sr=SR, swing=swing)
    assert mix.gain_db == 0.0
    assert_clicks_at(mix.audio, [expected_frame(e, grid, swing) for e in events])


def test_swing_outside_range_is_rejected() -> None:
    """Swing past 0.75 (an off-beat landing on the next step) is a user error."""
    grid = build_grid(bpm=120, num_bars=1)
    with pytest.raises(DrumgenxError, match="swing"):
        render_events([hit(0, 0)], grid, {"click": (click(), SR)}, swing=0.8)


def test_click_onsets_through_wav_bytes_are_24_bit_and_exact(tmp_path: Path) -> None:
    """`render_wav_bytes` loads the click from disk and writes 24-bit PCM, onsets intact."""
    soundfile.write(tmp_path / "click.wav", click()[:, 0], SR, subtype="PCM_24")
    grid = build_grid(bpm=123.4, num_bars=2)
    events = click_pattern(grid)
    said: list[str] = []
    data = render_wav_bytes(
        events,
        grid,
        pools=None,
        pools_dir=None,
        sample_root=tmp_path,
        swing=0.33,
        notify=said.append,
    )
    assert said == []
    info = soundfile.info(io.BytesIO(data))
    assert (info.format, info.subtype, info.samplerate) == ("WAV", "PCM_24", SR)
    audio, _ = soundfile.read(io.BytesIO(data), always_2d=True)
    assert_clicks_at(audio, [expected_frame(e, grid, 0.33) for e in events])


def test_click_onsets_through_render_file(tmp_path: Path) -> None:
    """`render_file` (JSON in, versioned WAV out) puts the same clicks at the same frames."""
    sample_root = tmp_path / "samples"
    sample_root.mkdir()
    soundfile.write(sample_root / "click.wav", click()[:, 0], SR, subtype="FLOAT")
    grid = build_grid(bpm=97.0, num_bars=2)
    events = click_pattern(grid)
    (tmp_path / "grid_1.json").write_bytes(dump_json(grid.to_json()))
    (tmp_path / "event_grid_1.json").write_bytes(dump_json(events_to_json(events)))

    out = render_file(
        tmp_path / "event_grid_1.json",
        tmp_path / "grid_1.json",
        sample_root=sample_root,
        out_dir=tmp_path / "out",
        swing=0.5,
    )
    assert out.path == tmp_path / "out" / "render_1.wav"
    assert soundfile.info(out.path).subtype == "PCM_24"
    audio, rate = soundfile.read(out.path, always_2d=True)
    assert rate == SR
    assert_clicks_at(audio, [expected_frame(e, grid, 0.5) for e in events])


# --- velocity and ceiling -----------------------------------------------------------------


def test_velocity_gain_is_square_law() -> None:
    """vel**2: 0.5 is -12 dB, 0.71 is about -6 dB, 0.1 is -40 dB, 0 is silent."""
    assert velocity_gain(1.0) == 1.0
    assert velocity_gain(0.5) == 0.25
    assert 20 * math.log10(velocity_gain(0.71)) == pytest.approx(-6.0, abs=0.1)
    assert 20 * math.log10(velocity_gain(0.1)) == pytest.approx(-40.0, abs=1e-9)
    assert velocity_gain(0.0) == 0.0
    np.testing.assert_allclose(velocity_gain(np.array([0.5, 1.0])), [0.25, 1.0])


def test_velocity_scales_hit_amplitude_by_vel_squared() -> None:
    """Isolated quiet clicks at vel 1, 0.5 and 0.71 come out at 1, 0.25 and about -6 dB."""
    grid = build_grid(bpm=120, num_bars=1)
    events = [hit(0, 0, vel=1.0), hit(0, 4, vel=0.5), hit(0, 8, vel=0.71)]
    mix = render_events(events, grid, {"click": (click(0.2), SR)})
    assert mix.gain_db == 0.0  # the ceiling is not involved
    peaks = [float(mix.audio[expected_frame(e, grid, 0.0), 0]) for e in events]
    assert peaks[0] == pytest.approx(0.2)
    assert peaks[1] / peaks[0] == pytest.approx(0.25, rel=1e-6)
    assert 20 * math.log10(peaks[2] / peaks[0]) == pytest.approx(-6.0, abs=0.1)


def noise_kit(seed: int = 0) -> Samples:
    rng = np.random.default_rng(seed)
    return {
        name: (rng.uniform(-0.8, 0.8, (round(seconds * SR), 1)).astype(np.float32), SR)
        for name, seconds in (("a", 0.3), ("b", 0.2), ("c", 0.5))
    }


def dense_events(grid: Grid) -> list[Event]:
    return [
        hit(b, s, sample_id=sid, vel=0.9, offset_ms=2.5 if (b, s) != (0, 0) else 0.0)
        for b in range(grid.num_bars)
        for s in range(grid.steps_per_bar)
        for sid in ("a", "b", "c")
    ]


def test_loud_mix_is_scaled_under_ceiling_not_clipped() -> None:
    """A mix past -1 dBFS is turned down as a whole to peak at the ceiling; gain_db says by how
    much."""
    grid = build_grid(bpm=140, num_bars=2)
    events, kit = dense_events(grid), noise_kit()
    raw = render_events(events, grid, kit, ceiling_dbfs=NO_CEILING)
    raw_peak = float(np.max(np.abs(raw.audio)))
    assert raw_peak > 1.0 and raw.gain_db == 0.0

    mix = render_events(events, grid, kit)
    assert mix.audio.dtype == np.float32
    assert float(np.max(np.abs(mix.audio))) <= CEILING * (1 + 1e-6)
    assert float(np.max(np.abs(mix.audio))) == pytest.approx(CEILING, rel=1e-5)
    assert mix.gain_db == pytest.approx(20 * math.log10(CEILING / raw_peak), abs=1e-6)
    assert mix.gain_db < 0
    # Same waveform, uniformly scaled: nothing clipped.
    np.testing.assert_allclose(mix.audio, raw.audio * (CEILING / raw_peak), atol=1e-6)


def test_negative_peak_also_triggers_ceiling() -> None:
    """The ceiling is on |sample|: a loud negative-going hit is turned down too."""
    grid = build_grid(bpm=120, num_bars=1)
    mix = render_events([hit(0, 0)], grid, {"click": (click(-2.0), SR)})
    assert float(mix.audio.min()) == pytest.approx(-CEILING, rel=1e-6)
    assert mix.gain_db == pytest.approx(CEILING_DBFS - 20 * math.log10(2.0), abs=1e-6)


def test_quiet_mix_is_untouched() -> None:
    """Below the ceiling the mix is the plain sum of vel**2-scaled samples, bit for bit."""
    grid = build_grid(bpm=120, num_bars=1)
    y = dc(0.25, 0.05)
    events = [hit(0, 0, sample_id="dc", vel=1.0), hit(0, 8, sample_id="dc", vel=0.5)]
    mix = render_events(events, grid, {"dc": (y, SR)})
    assert mix.gain_db == 0.0
    expected = np.zeros((mix.loop_frames, 1), dtype=np.float32)
    for event in events:
        start = expected_frame(event, grid, 0.0)
        expected[start : start + len(y)] += event.vel**2 * y
    np.testing.assert_array_equal(mix.audio, expected)


# --- gating and holding -------------------------------------------------------------------


def test_dur_steps_gates_after_one_step_plus_release() -> None:
    """A 2 s sample with dur_steps=1 plays untouched for one step, fades over RELEASE_MS, then
    is silent."""
    grid = build_grid(bpm=120, num_bars=1)
    mix = render_events([hit(0, 0, sample_id="dc", dur_steps=1)], grid, {"dc": (dc(0.1, 2.0), SR)})
    x = mix.audio[:, 0]
    step = grid.tstep * SR
    release = RELEASE_MS / 1000.0 * SR
    np.testing.assert_array_equal(x[: math.floor(step) - 1], np.float32(0.1))
    fade = x[math.floor(step) - 1 : math.ceil(step + release) + 1]
    assert np.all(np.diff(fade) <= 0), "release is not a monotonic fade"
    assert np.all(x[math.ceil(step + release) + 1 :] == 0.0)
    assert len(x) == mix.loop_frames  # the gated hit ends well inside the loop


@pytest.mark.parametrize("dur_steps", [0.5, 2.0, 3.25])
def test_gate_length_follows_dur_steps(dur_steps: float) -> None:
    """The sounding length is dur_steps * tstep plus the release, for fractional steps too."""
    grid = build_grid(bpm=110, num_bars=1)
    mix = render_events(
        [hit(0, 0, sample_id="dc", dur_steps=dur_steps)], grid, {"dc": (dc(0.1, 2.0), SR)}
    )
    last = int(np.flatnonzero(mix.audio[:, 0])[-1])
    full = int(np.flatnonzero(mix.audio[:, 0] == np.float32(0.1))[-1])
    assert abs(full - dur_steps * grid.tstep * SR) <= 1  # the fade's first frame is unity
    end = (dur_steps * grid.tstep + RELEASE_MS / 1000.0) * SR
    assert end - 2 <= last + 1 <= end + 1  # the fade's own last frame is exactly 0


def test_sample_shorter_than_gate_plays_whole() -> None:
    """A sample that ends before dur_steps is neither cut nor faded."""
    grid = build_grid(bpm=120, num_bars=1)
    y = np.linspace(0.3, 0.1, 1000, dtype=np.float32)[:, None]
    mix = render_events([hit(0, 0, sample_id="s", dur_steps=4)], grid, {"s": (y, SR)})
    np.testing.assert_array_equal(mix.audio[:1000], y)
    assert np.all(mix.audio[1000:] == 0.0)


def test_texture_holds_a_short_sample_for_its_whole_length() -> None:
    """A TEXTURE hit of 16 steps repeats a 0.3 s sample to last about one bar; another role
    with the same sample stops when the sample does."""
    grid = build_grid(bpm=120, num_bars=1)  # one bar = 2 s
    t = np.arange(round(0.3 * SR)) / SR
    pad = (0.3 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)[:, None]
    level = rms(pad)

    def window(x: np.ndarray, t0: float, t1: float) -> np.ndarray:
        return x[round(t0 * SR) : round(t1 * SR)]

    held = render_events(
        [hit(0, 0, sample_id="pad", dur_steps=16, role="TEXTURE")], grid, {"pad": (pad, SR)}
    ).audio
    for t0 in (0.3, 0.9, 1.5, 1.8):
        assert rms(window(held, t0, t0 + 0.15)) > 0.5 * level, f"texture gap at {t0} s"
    assert np.all(window(held, 2.0 + RELEASE_MS / 1000.0 + 0.001, 3.0) == 0.0)

    plain = render_events(
        [hit(0, 0, sample_id="pad", dur_steps=16, role="MOTION")], grid, {"pad": (pad, SR)}
    ).audio
    np.testing.assert_array_equal(plain[: len(pad)], pad)
    assert np.all(plain[len(pad) :] == 0.0)


# --- tails and loops ----------------------------------------------------------------------


def ramp(frames: int) -> np.ndarray:
    """Distinct values at every frame, so any misplaced slice shows."""
    return np.linspace(0.05, 0.5, frames, dtype=np.float32)[:, None]


def test_tails_are_kept_past_loop_end() -> None:
    """loop=False (--tails): a last hit whose sample outlasts the loop makes it longer."""
    grid = build_grid(bpm=120, num_bars=1)
    y = ramp(round(0.5 * SR))
    event = hit(0, 15, sample_id="r", dur_steps=8)
    mix = render_events([event], grid, {"r": (y, SR)}, loop=False)
    start = expected_frame(event, grid, 0.0)
    assert mix.loop_frames == 88200  # 2 s
    assert len(mix.audio) == start + len(y) > mix.loop_frames
    np.testing.assert_array_equal(mix.audio[start:], y)


def test_loop_wraps_tail_to_start_by_default() -> None:
    """The default (`RenderSettings.loop`): exactly one loop long; the part past the end plays
    from frame 0."""
    assert RenderSettings().loop is True
    grid = build_grid(bpm=120, num_bars=1)
    y = ramp(round(0.5 * SR))
    event = hit(0, 15, sample_id="r", dur_steps=8)
    mix = render_events([event], grid, {"r": (y, SR)})
    start = expected_frame(event, grid, 0.0)
    head = mix.loop_frames - start
    assert mix.audio.shape == (mix.loop_frames, 1) == (88200, 1)
    np.testing.assert_array_equal(mix.audio[start:], y[:head])
    np.testing.assert_array_equal(mix.audio[: len(y) - head], y[head:])
    assert np.all(mix.audio[len(y) - head : start] == 0.0)


# (bpm, bars, sr) -> frames, worked out by hand: bars * 4 * 60 / bpm * sr, to the nearest
# sample, a tie to the even one.
LOOP_LENGTHS = [
    (120, 8, 44100, 705600),  # the loop: exactly 16 s, not 16.146 s
    (90, 2, 44100, 235200),
    (174, 4, 44100, 243310),  # 243310.34...
    (97, 3, 48000, 356289),  # 356288.659...
    (128, 1, 44100, 82688),  # 82687.5: a tie, to the even sample
    (128, 3, 44100, 248062),  # 248062.5: a tie, to the even sample
    (133.7, 5, 22050, 197906),  # 197905.759...
]


@pytest.mark.parametrize(("bpm", "bars", "sr", "frames"), LOOP_LENGTHS)
def test_a_loop_is_exactly_its_bars_long(bpm: float, bars: int, sr: int, frames: int) -> None:
    """Whatever rings past the end, the file is bars * 4 beats long, to the sample; with
    --tails it is longer by the last tail."""
    grid = build_grid(bpm=bpm, num_bars=bars)
    assert loop_frames(grid, sr=sr) == frames
    long = np.full((round(0.7 * sr), 1), 0.01, dtype=np.float32)  # outlasts a step
    last = hit(bars - 1, 15, sample_id="long", dur_steps=16)
    events = [hit(0, 0, sample_id="long"), last]
    mix = render_events(events, grid, {"long": (long, sr)}, sr=sr)
    assert mix.audio.shape == (frames, 1) and mix.loop_frames == frames
    tails = render_events(events, grid, {"long": (long, sr)}, sr=sr, loop=False)
    assert len(tails.audio) == expected_frame(last, grid, 0.0, sr) + len(long) > frames


@pytest.mark.parametrize(("bpm", "bars"), [(120, 1), (97, 3), (174, 2)])
def test_the_loop_is_the_tails_render_with_its_tail_added_to_its_head(
    bpm: float, bars: int
) -> None:
    """Wrapping loses and adds nothing: the loop equals the --tails render's first loop length
    plus everything after it, added back from frame 0 (long samples wrap more than once), so
    the sum of the samples (the signal's DC content) is the same."""
    grid = build_grid(bpm=bpm, num_bars=bars)
    kit = noise_kit(1)
    kit["long"] = (np.full((round(3.1 * SR), 1), 0.01, dtype=np.float32), SR)
    events = [*dense_events(grid), hit(0, 3, sample_id="long", dur_steps=64, role="TEXTURE")]
    tails = render_events(events, grid, kit, loop=False, ceiling_dbfs=NO_CEILING).audio
    looped = render_events(events, grid, kit, ceiling_dbfs=NO_CEILING).audio
    n = len(looped)
    assert len(tails) > n + SR  # a tail past the end long enough to matter
    expected = tails[:n].astype(np.float64)
    rest = tails[n:]
    while len(rest):
        expected[: min(n, len(rest))] += rest[:n]
        rest = rest[n:]
    np.testing.assert_allclose(looped, expected, atol=1e-5)
    assert np.abs(looped - tails[:n]).max() > 0.005  # the tail did land on the head
    np.testing.assert_allclose(looped.sum(), tails.sum(dtype=np.float64), rtol=1e-5)


def test_early_first_hit_wraps_to_loop_end_or_plays_at_zero() -> None:
    """A hit pulled before bar 0 step 0: looped its head sounds at the loop's end and the
    rest at the start; with loop=False it plays from frame 0."""
    grid = build_grid(bpm=120, num_bars=1)
    y = ramp(441)
    event = hit(0, 0, sample_id="r", offset_ms=-4.0)  # -176.4 frames
    early = 176

    looped = render_events([event], grid, {"r": (y, SR)}).audio
    np.testing.assert_array_equal(looped[-early:], y[:early])
    np.testing.assert_array_equal(looped[: len(y) - early], y[early:])
    assert np.all(looped[len(y) - early : -early] == 0.0)

    tails = render_events([event], grid, {"r": (y, SR)}, loop=False).audio
    np.testing.assert_array_equal(tails[: len(y)], y)


# --- rates and channels -------------------------------------------------------------------


def test_resampled_sample_keeps_duration_and_pitch() -> None:
    """A 22.05 kHz sample rendered at 44.1 kHz lasts as long and a 1 kHz sine stays 1 kHz."""
    sr_in, seconds = 22050, 0.5
    t = np.arange(round(seconds * sr_in)) / sr_in
    sine = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)[:, None]
    grid = build_grid(bpm=120, num_bars=1)
    mix = render_events([hit(0, 0, sample_id="s", dur_steps=16)], grid, {"s": (sine, sr_in)})
    x = mix.audio[:, 0]
    sounding = np.flatnonzero(np.abs(x) > 0.05)
    duration = (sounding[-1] - sounding[0] + 1) / SR
    assert duration == pytest.approx(seconds, rel=0.01)
    body = x[: round(seconds * SR)].astype(np.float64) * np.hanning(round(seconds * SR))
    freqs = np.fft.rfftfreq(len(body), 1.0 / SR)
    assert freqs[np.argmax(np.abs(np.fft.rfft(body)))] == pytest.approx(1000.0, abs=2.0)


def test_stereo_sample_makes_stereo_mix_and_mono_is_duplicated() -> None:
    """One stereo sample makes the mix 2-channel; mono hits then sound in both channels."""
    grid = build_grid(bpm=120, num_bars=1)
    stereo = np.tile(np.float32([0.3, -0.2]), (1000, 1))
    mono = dc(0.1, 1000 / SR)
    events = [hit(0, 0, sample_id="st"), hit(0, 8, sample_id="mo")]
    mix = render_events(events, grid, {"st": (stereo, SR), "mo": (mono, SR)})
    assert mix.audio.shape == (mix.loop_frames, 2)
    np.testing.assert_array_equal(mix.audio[:1000], stereo)
    start = expected_frame(events[1], grid, 0.0)
    np.testing.assert_array_equal(mix.audio[start : start + 1000], np.tile(mono, (1, 2)))


def test_mono_samples_make_mono_mix() -> None:
    """Only mono samples: a 1-channel mix."""
    grid = build_grid(bpm=120, num_bars=1)
    mix = render_events([hit(0, 0)], grid, {"click": (click(), SR)})
    assert mix.audio.shape == (mix.loop_frames, 1)


def test_multichannel_sample_keeps_first_two_channels() -> None:
    """More than two channels: the mix is stereo from the first two."""
    grid = build_grid(bpm=120, num_bars=1)
    quad = np.tile(np.float32([0.1, 0.2, 0.3, 0.4]), (500, 1))
    mix = render_events([hit(0, 0, sample_id="q")], grid, {"q": (quad, SR)})
    assert mix.audio.shape[1] == 2
    np.testing.assert_array_equal(mix.audio[:500], quad[:, :2])


# --- missing samples ----------------------------------------------------------------------


def test_missing_sample_is_silent() -> None:
    """A hit whose sample is not in ``samples`` is skipped; the rest still sound."""
    grid = build_grid(bpm=120, num_bars=1)
    only_missing = render_events([hit(0, 0, sample_id="ghost")], grid, {})
    assert only_missing.audio.shape == (only_missing.loop_frames, 1)
    assert not np.any(only_missing.audio)
    assert only_missing.gain_db == 0.0

    events = [hit(0, 0, sample_id="ghost"), hit(0, 4)]
    mix = render_events(events, grid, {"click": (click(), SR)}, loop=True)
    assert_clicks_at(mix.audio, [expected_frame(events[1], grid, 0.0)])
