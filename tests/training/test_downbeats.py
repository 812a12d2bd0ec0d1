"""The downbeat model's trainer: truth from GMD's bar grid, the fit, the weights file."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.cli import main
from drumgenx.core.errors import FormatError
from drumgenx.core.tempo import (
    DOWNBEAT_FEATURES,
    downbeat_features,
    load_downbeat_weights,
    track_beats,
)
from drumgenx.training.downbeats import examples, fit_weights, phase_accuracy, save_weights

BPM = 100.0
BEAT = 60.0 / BPM


def _excerpt(start_beats: int, *, bars: int = 10, seed: int = 0):
    """An excerpt from ``start_beats`` beats into a GMD-like file (bar 1 at its start): kick
    on 1, snare on 2 and 4, hats on the eighths, a crash on every bar's 1; hit times from
    the excerpt's start. Returns the manifest row and the hits as `transcribed` gives them."""
    rng = np.random.default_rng(seed)
    times, strengths, probs = [], [], []
    for i in range(bars * 4):
        on = i * BEAT
        beat_of_bar = (i + start_beats) % 4
        row = [beat_of_bar == 0, beat_of_bar in (1, 3), True, False, beat_of_bar == 0]
        times += [on, on + BEAT / 2]
        strengths += [1.0, 0.6]
        probs += [np.array(row, float) * 0.9, [0.0, 0.0, 0.9, 0.0, 0.0]]
    times = np.asarray(times) + rng.uniform(-0.005, 0.005, len(times))
    row = {"bpm": str(BPM), "start_s": str(start_beats * BEAT), "gmd_id": f"drummer{seed}/s/1"}
    return row, (times, np.asarray(strengths), np.asarray(probs, dtype=float))


@pytest.mark.parametrize("start_beats", [0, 1, 2, 3, 5])
def test_the_true_phase_comes_from_the_files_bar_grid(start_beats: int) -> None:
    [(features, phase, group)] = examples([_excerpt(start_beats)], classes=True)
    # the excerpt's first downbeat is the file's next whole bar
    assert phase == (-start_beats) % 4
    assert features.shape == (4, len(DOWNBEAT_FEATURES))
    assert group == "drummer0"


def test_an_excerpt_off_the_files_beats_or_tempo_teaches_nothing() -> None:
    row, (times, strengths, probs) = _excerpt(0)
    half_beat_off = dict(row, start_s=str(0.5 * BEAT))
    wrong_tempo = dict(row, bpm=str(BPM * 1.1))
    hits = (times, strengths, probs)
    assert examples([(half_beat_off, hits), (wrong_tempo, hits)], classes=True) == []


def test_the_fit_learns_where_bars_start() -> None:
    train = examples([_excerpt(s, seed=s) for s in range(8)], classes=True)
    held_out = examples([_excerpt(s, seed=10 + s) for s in range(4)], classes=True)
    zero = np.zeros(len(DOWNBEAT_FEATURES))
    weights = fit_weights(train, l2=1.0)
    assert phase_accuracy(held_out, weights) == 1.0
    assert phase_accuracy(held_out, zero) < 1.0  # ties go to phase 0: not always right


def test_weights_round_trip_and_a_wrong_file_is_one_line(tmp_path) -> None:
    weights = np.linspace(-1, 1, len(DOWNBEAT_FEATURES))
    save_weights(tmp_path / "d.npz", weights, {"command": "test"})
    assert np.array_equal(load_downbeat_weights(tmp_path / "d.npz"), weights)
    np.savez(tmp_path / "bad.npz", features=np.array(["x"]), weights=np.zeros(1))
    with pytest.raises(FormatError, match="not this version's DOWNBEAT_FEATURES"):
        load_downbeat_weights(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(FormatError, match="not a downbeat model"):
        load_downbeat_weights(tmp_path / "junk.npz")


def test_the_tracker_places_bars_where_the_weights_say() -> None:
    _, (times, strengths, probs) = _excerpt(0, seed=3)
    kick, snare, hihat, tom, cymbal = probs.T
    classes = {"kick": kick, "snare": snare, "hihat": hihat, "tom": tom, "cymbal": cymbal}
    # a model that only likes a crash on the bar's 1 finds the file's bars ...
    crash_on_one = np.zeros(len(DOWNBEAT_FEATURES))
    crash_on_one[DOWNBEAT_FEATURES.index("beat1_cymbal")] = 1.0
    grid = track_beats(times, strengths=strengths, **classes, downbeat_weights=crash_on_one)
    assert grid is not None
    assert np.abs(grid.downbeats[0] - 0.0) < 0.02
    # ... and one that wants the crash on the bar's 3 puts bars two beats later
    crash_on_three = np.zeros(len(DOWNBEAT_FEATURES))
    crash_on_three[DOWNBEAT_FEATURES.index("beat3_cymbal")] = 1.0
    grid = track_beats(times, strengths=strengths, **classes, downbeat_weights=crash_on_three)
    assert grid is not None
    assert np.abs(grid.downbeats[0] - 2 * BEAT) < 0.02
    # the features of a phase are the bar read from that beat
    features = downbeat_features(grid.beats, times, strengths, probs, beat_s=BEAT)
    cymbal_on_one = features[:, DOWNBEAT_FEATURES.index("beat1_cymbal")]
    assert int(np.argmax(cymbal_on_one)) == 0 and cymbal_on_one[0] > 0


def test_the_command_without_a_corpus_is_one_line(capsys, tmp_path) -> None:
    out = tmp_path / "d.npz"
    argv = ["train", "downbeats", "--corpus", str(tmp_path / "none"), "--out", str(out)]
    assert main([*argv, "--cache_dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("drumgenx: error: ") and "build the corpus first" in err
    assert "\n" not in err and not out.exists()
    assert main([*argv, "--workers", "0"]) == 2
    assert capsys.readouterr().err.strip() == "drumgenx: error: --workers must be at least 1"


def test_only_long_four_four_beats_are_read(tmp_path) -> None:
    from drumgenx.training.downbeats import _rows

    head = "item_id,midi_path,beat_type,duration_s\n"
    rows = [
        "a,drummer1/s/1_rock_120_beat_4-4.mid,beat,20.0",
        "b,drummer1/s/2_jazz_100_beat_3-4.mid,beat,20.0",  # bars of three beats
        "c,drummer1/s/3_rock_120_fill_4-4.mid,fill,20.0",
        "d,drummer1/s/4_rock_120_beat_4-4.mid,beat,3.0",  # too short
    ]
    (tmp_path / "manifest.csv").write_text(head + "\n".join(rows) + "\n")
    assert [r["item_id"] for r in _rows(tmp_path)] == ["a"]
