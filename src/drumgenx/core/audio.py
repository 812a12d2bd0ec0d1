"""Audio I/O and resampling: the only module that touches soundfile and soxr."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from drumgenx.core.errors import DrumgenxError

# What libsndfile (bundled with soundfile >= 0.12) decodes; MP3 and Opus need libsndfile >= 1.1.
AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc"}
)


class AudioReadError(DrumgenxError):
    """A file that cannot be decoded as audio, or holds none."""


def find_audio_files(root: str | Path) -> list[Path]:
    """All audio files under ``root`` (recursive), sorted so runs are reproducible."""
    root = Path(root)
    return sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
    )


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode a file to float32 samples of shape ``(frames, channels)`` and its rate.

    Raises
    ------
    AudioReadError
        Not decodable, or zero frames.
    """
    import soundfile

    try:
        data, sr = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises several types for bad files
        raise AudioReadError(f"{path}: cannot decode audio ({exc})") from None
    if data.shape[0] == 0:
        raise AudioReadError(f"{path}: holds no audio frames")
    return data, int(sr)


def resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Band-limited resampling with soxr's "HQ" preset; ``y`` is ``(frames, channels)``."""
    if sr_in == sr_out:
        return y
    import soxr

    return np.asarray(soxr.resample(y, sr_in, sr_out, quality="HQ"), dtype=np.float32)


def encode_wav(y: np.ndarray, sr: int, *, subtype: str = "PCM_24") -> bytes:
    """Encode ``(frames, channels)`` or mono float audio as WAV bytes (24-bit PCM by default)."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, y, sr, format="WAV", subtype=subtype)
    return buffer.getvalue()
