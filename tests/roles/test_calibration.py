"""ECE and temperature scaling on constructed sets with known answers (issue #15)."""

from __future__ import annotations

import numpy as np
import pytest

from drumgenx.roles.calibration import expected_calibration_error, fit_temperature, temper


def test_ece_of_a_constructed_set() -> None:
    # 10 at 0.9 with 9 right (gap 0), 10 at 0.6 with 3 right (gap 0.3): ECE = 0.5 * 0.3
    conf = np.r_[np.full(10, 0.9), np.full(10, 0.6)]
    correct = np.r_[np.ones(9), 0, np.ones(3), np.zeros(7)]
    assert expected_calibration_error(conf, correct, n_bins=10) == pytest.approx(0.15)
    # gaps of opposite sign in different bins do not cancel
    over = np.r_[np.full(10, 0.85), np.full(10, 0.15)]
    right = np.r_[np.zeros(10), np.ones(10)]
    assert expected_calibration_error(over, right, n_bins=15) == pytest.approx(0.85)


def test_ece_is_zero_when_calibrated_and_bins_matter() -> None:
    conf = np.r_[np.full(4, 0.75), np.full(5, 0.4)]
    correct = np.r_[1, 1, 1, 0, 1, 1, 0, 0, 0]
    assert expected_calibration_error(conf, correct, n_bins=10) == pytest.approx(0.0)
    # one bin holds both groups: gap |(5/9) - mean conf| = |0.5556 - 0.5556| = 0
    assert expected_calibration_error(conf, correct, n_bins=1) == pytest.approx(0.0, abs=1e-12)
    # 0.6 right 1 of 2 in its bin, 1.0 right 2 of 2: ECE = 2/4 * 0.1
    assert expected_calibration_error([0.6, 0.6, 1.0, 1.0], [1, 0, 1, 1]) == pytest.approx(0.05)


def test_ece_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        expected_calibration_error([0.5, 1.2], [1, 0])
    with pytest.raises(ValueError):
        expected_calibration_error([0.5], [1, 0])
    assert np.isnan(expected_calibration_error([], []))


def test_temper_keeps_the_argmax_and_zeros() -> None:
    p = np.array([[0.6, 0.3, 0.1, 0.0, 0.0]])
    for t in (0.3, 1.0, 3.0):
        q = temper(p, t)
        assert q.sum() == pytest.approx(1.0)
        assert q.argmax() == 0 and q[0, 3] == 0.0
    assert temper(p, 0.3)[0, 0] > 0.6 > temper(p, 3.0)[0, 0]
    with pytest.raises(ValueError):
        temper(p, 0.0)


def test_fit_temperature_recovers_a_known_overconfidence() -> None:
    # labels drawn from softmax(z); the model reports softmax(2.5 z): T = 2.5 undoes it
    rng = np.random.default_rng(0)
    z = rng.normal(size=(20000, 5)) * 1.5
    p_true = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(5, p=row) for row in p_true])
    over = np.exp(2.5 * z) / np.exp(2.5 * z).sum(axis=1, keepdims=True)
    t = fit_temperature(over, y)
    assert t == pytest.approx(2.5, rel=0.08)
    before = expected_calibration_error(over.max(axis=1), over.argmax(axis=1) == y)
    q = temper(over, t)
    after = expected_calibration_error(q.max(axis=1), q.argmax(axis=1) == y)
    assert before > 0.1 and after < 0.02
