"""Audio I/O and resampling: the only module that touches soundfile and soxr."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
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
    """All audio files under ``root`` (recursive), sorted so runs are reproducible.

    A broken link with an audio name is included: reading it fails, and the caller lists it
    as skipped, rather than the file silently not existing.
    """
    root = Path(root)
    return sorted(
        p
        for p in root.rglob("*")
        if (p.is_file() or p.is_symlink()) and p.suffix.lower() in AUDIO_EXTENSIONS
    )


def read_audio(
    path: str | Path, *, max_seconds: float | None = None, start_s: float = 0.0
) -> tuple[np.ndarray, int]:
    """Decode a file to float32 samples of shape ``(frames, channels)`` and its rate.

    Parameters
    ----------
    path
        Any format libsndfile reads.
    max_seconds
        Decode only this many seconds (default: all; fewer at the file's end).
    start_s
        Where to start decoding (default: the beginning), for reading a long file in blocks.

    Raises
    ------
    AudioReadError
        Not decodable, a WAV cut short, NaN or infinite samples, or zero frames (at
        ``start_s`` 0: a block past a file's end is just empty).
    """
    import soundfile

    _refuse_truncated(path)
    try:
        with _decoder_quiet(path), soundfile.SoundFile(str(path)) as handle:
            sr = handle.samplerate
            if start_s:
                handle.seek(min(round(start_s * sr), handle.frames))
            frames = -1 if max_seconds is None else max(1, round(max_seconds * sr))
            data = handle.read(frames, dtype="float32", always_2d=True)
    except Exception as exc:  # libsndfile raises several types for bad files
        raise AudioReadError(f"{path}: cannot decode audio ({exc})") from None
    if data.shape[0] == 0 and not start_s:
        raise AudioReadError(f"{path}: holds no audio frames")
    _check_finite(path, data)
    return data, int(sr)


def _check_finite(path: str | Path, data: np.ndarray) -> None:
    # A float file can hold NaN or infinity; mixed in, one such sample silences a render or
    # sends it to full scale, so such a file is unreadable for every stage.
    if not np.isfinite(data).all():
        raise AudioReadError(f"{path}: holds non-finite samples (NaN or infinity)")


@contextlib.contextmanager
def _decoder_quiet(path: str | Path) -> Iterator[None]:
    """Keep libmpg123's own diagnostics ("Note: Illegal Audio-MPEG-Header ...", written
    straight to file descriptor 2) off the terminal while an MP3 is opened and read: the
    file's fate is reported once, as a skip with its reason, like every other format's."""
    if Path(path).suffix.lower() != ".mp3":
        yield
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _refuse_truncated(path: str | Path) -> None:
    problem = truncated_wav(path)
    if problem:
        raise AudioReadError(f"{path}: {problem}")


def truncated_wav(path: str | Path) -> str | None:
    """Why a RIFF/WAVE file is cut short (its data chunk runs past the file's end), or None.

    libsndfile decodes such a file as far as it goes without a word, so a download or copy
    that stopped half-way would pass as a shorter sound; the callers list it as skipped.
    Only WAV says in its header how long it is meant to be; other formats return None.
    """
    import struct

    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = os.fstat(handle.fileno()).st_size
            while True:
                chunk = handle.read(8)
                if len(chunk) < 8:
                    return None
                name, length = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if name == b"data":
                    if length == 0xFFFFFFFF:  # streamed: length unknown by design
                        return None
                    present = size - handle.tell()
                    if length > present:
                        return (
                            f"truncated: the header promises {length} bytes of audio, "
                            f"the file holds {present}"
                        )
                    return None
                handle.seek(length + (length & 1), os.SEEK_CUR)
    except OSError:
        return None  # reading it will fail, with its own reason


def audio_seconds(path: str | Path) -> float:
    """A file's duration from its header, without decoding it.

    Raises
    ------
    AudioReadError
        Not a file libsndfile can open.
    """
    import soundfile

    _refuse_truncated(path)
    try:
        with _decoder_quiet(path):
            info = soundfile.info(str(path))
    except Exception as exc:  # libsndfile raises several types for bad files
        raise AudioReadError(f"{path}: cannot decode audio ({exc})") from None
    return info.frames / info.samplerate if info.samplerate else 0.0


def downmix(y: np.ndarray) -> np.ndarray:
    """Mono float32 of 1-D or ``(frames, channels)`` audio; refuses empty or non-finite input.

    Raises
    ------
    ValueError
        Empty, not 1-D/2-D, or holding NaN or infinity.
    """
    x = np.asarray(y, dtype=np.float32)
    if x.ndim == 2 and x.shape[1] > 0:
        # Channel by channel: numpy's mean over a short last axis is several times slower.
        mono = x[:, 0].copy()
        for c in range(1, x.shape[1]):
            mono += x[:, c]
        x = mono / np.float32(x.shape[1])
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected non-empty 1-D or (frames, channels) audio, got {np.shape(y)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("audio holds NaN or infinity")
    return x


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
