"""Run the ``fluidsynth`` CLI offline (private helper of :mod:`.kits` and :mod:`.accompaniment`)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

INSTALL_HINT = "apt-get install fluidsynth"


class FluidSynthMissing(RuntimeError):
    """The ``fluidsynth`` executable is not on PATH."""


def fluidsynth_exe() -> str:
    """Path of the ``fluidsynth`` executable; raises :class:`FluidSynthMissing` if absent."""
    exe = shutil.which("fluidsynth")
    if exe is None:
        raise FluidSynthMissing(f"fluidsynth not found on PATH: {INSTALL_HINT}")
    return exe


def render_to_array(midi: mido.MidiFile, *, font: str | Path, sr: int = 44100) -> np.ndarray:
    """Render ``midi`` through ``font``; stereo float32 ``(n, 2)`` array, untrimmed.

    Reverb and chorus are off (``-R 0 -C 0``), gain 1.0, 32-bit float output (no dither, so
    silence is exactly zero).
    """
    exe = fluidsynth_exe()
    font = Path(font)
    if not font.is_file():
        raise FileNotFoundError(f"SoundFont not found: {font}")
    with tempfile.TemporaryDirectory(prefix="drumgenx-fs-") as tmp:
        mid_path = Path(tmp) / "in.mid"
        wav_path = Path(tmp) / "out.wav"
        midi.save(str(mid_path))
        cmd = [exe, "-ni", "-q", "-R", "0", "-C", "0", "-g", "1.0", "-r", str(sr)]
        cmd += [
            "-o",
            "synth.dynamic-sample-loading=1",
            "-O",
            "float",
            "-F",
            str(wav_path),
            str(font),
            str(mid_path),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not wav_path.is_file():
            raise RuntimeError(
                f"fluidsynth failed (exit {proc.returncode}) on {font.name}: "
                f"{proc.stderr.strip()[-500:]}"
            )
        y, file_sr = sf.read(str(wav_path), dtype="float32", always_2d=True)
    if file_sr != sr:
        raise RuntimeError(f"fluidsynth wrote {file_sr} Hz, asked for {sr} Hz")
    return y
