"""core.audio (capped decoding, downmix) and core.parallel (worker thread limits)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx.core.audio import AudioReadError, downmix, read_audio
from drumgenx.core.parallel import THREAD_VARIABLES, map_in_processes


def test_read_audio_decodes_only_what_is_asked(tmp_path: Path) -> None:
    y = np.random.default_rng(0).uniform(-0.5, 0.5, (22050, 2)).astype(np.float32)
    soundfile.write(tmp_path / "a.wav", y, 11025, subtype="FLOAT")
    full, sr = read_audio(tmp_path / "a.wav")
    head, _ = read_audio(tmp_path / "a.wav", max_seconds=0.5)
    assert sr == 11025 and full.shape == (22050, 2) and head.shape == (5512, 2)
    np.testing.assert_array_equal(head, full[:5512])
    (tmp_path / "b.wav").write_bytes(b"RIFF")
    with pytest.raises(AudioReadError, match=r"b\.wav"):
        read_audio(tmp_path / "b.wav", max_seconds=1.0)


def test_downmix_is_the_channel_mean_and_refuses_bad_audio() -> None:
    y = np.array([[1.0, 0.0, 0.5], [0.25, -0.25, 0.0]], dtype=np.float32)
    np.testing.assert_allclose(downmix(y), [0.5, 0.0])
    np.testing.assert_array_equal(downmix(y[:, :1]), y[:, 0])
    for bad in (np.zeros((0, 2)), np.array([np.inf, 0.0]), np.zeros((2, 2, 2))):
        with pytest.raises(ValueError):
            downmix(bad)


def _thread_settings(_: int) -> tuple[str | None, ...]:
    return tuple(os.environ.get(name) for name in THREAD_VARIABLES)


def test_workers_start_with_their_share_of_threads_and_the_parent_keeps_its_own() -> None:
    before = _thread_settings(0)
    share = str(max(1, (os.cpu_count() or 1) // 2))
    got = list(map_in_processes(_thread_settings, range(4), workers=2))
    assert got == [(share,) * len(THREAD_VARIABLES)] * 4
    assert _thread_settings(0) == before


def test_a_wav_cut_short_is_refused_and_a_whole_one_is_not(tmp_path: Path) -> None:
    from drumgenx.core.audio import audio_seconds, truncated_wav

    y = np.random.default_rng(0).uniform(-0.5, 0.5, (4410, 2)).astype(np.float32)
    soundfile.write(tmp_path / "whole.wav", y, 44100, subtype="PCM_24")
    soundfile.write(tmp_path / "whole.flac", y, 44100)
    data = (tmp_path / "whole.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    assert truncated_wav(tmp_path / "whole.wav") is None
    assert truncated_wav(tmp_path / "whole.flac") is None  # no length in its header to check
    assert "truncated" in (truncated_wav(tmp_path / "cut.wav") or "")
    for read in (read_audio, audio_seconds):
        with pytest.raises(AudioReadError, match=r"cut\.wav: truncated"):
            read(tmp_path / "cut.wav")
    assert read_audio(tmp_path / "whole.wav")[0].shape == (4410, 2)


_STOP_WHILE_WRITING = """
import time
import numpy as np
from drumgenx.core.parallel import map_in_processes

def big(i):
    return np.ones(40_000_000 if i else 1, dtype=np.uint8).tobytes()

if __name__ == "__main__":
    try:
        for result in map_in_processes(big, range(8), workers=2):
            time.sleep(0.05)
            raise KeyboardInterrupt  # Ctrl-C while the other worker writes 40 MB
    except KeyboardInterrupt:
        print("interrupted")
"""


def test_stopping_while_a_worker_writes_its_result_exits_promptly(tmp_path: Path) -> None:
    """A worker stopped halfway through writing its result left the pool's manager thread
    waiting for the rest, and the interpreter's exit waited on it (2 runs in 5 hung)."""
    import subprocess
    import sys

    script = tmp_path / "stop.py"
    script.write_text(_STOP_WHILE_WRITING)
    for _ in range(3):
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0 and done.stdout.strip() == "interrupted", done.stderr
