"""Drum separation before hit detection: Demucs in-process, or harmonic-percussive fallback.

``make_separator(params)`` returns a callable that maps ``(frames, channels)`` float32 audio to
its drum part, same shape. Methods (``--separator``):

- ``demucs``: the Demucs package (Défossez 2021; default model ``htdemucs``) run in this
  process, the model loaded once per separator; only the ``drums`` source is kept. Weights
  are never downloaded: they come from ``--demucs_repo DIR`` (a local model repo, loaded by
  ``demucs.pretrained.get_model(name, repo=DIR)``) or, without it, from what an earlier online
  Demucs run left in the Hugging Face cache (Demucs >= 4.1) or the torch hub cache
  (``~/.cache/torch/hub/checkpoints``). A model that cannot be loaded is a ``DrumgenxError``.
- ``hpss``: harmonic-percussive separation by median filtering (Fitzgerald 2010), numpy and
  scipy only: the percussive part.
- ``none``: the input unchanged.
- ``auto`` (default): Demucs when torch, demucs and the weights load offline, else HPSS at
  once with one notice saying why and how to get Demucs.

Importing this module imports neither torch, demucs nor scipy; they load on first use.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from drumgenx.core.console import silent
from drumgenx.core.errors import Notice, ParameterError
from drumgenx.core.spectral import frame_signal, hann_window, stft
from drumgenx.preprocess.settings import DEMUCS_MODEL, SEPARATOR, SEPARATORS

METHODS: tuple[str, ...] = SEPARATORS
HPSS_MASKS: tuple[str, ...] = ("soft", "binary")

# Demucs's own default chunk overlap (demucs.apply.apply_model, `--overlap` of its CLI).
_DEMUCS_OVERLAP = 0.25
# Where users can get weights; named in the fallback notice and in errors.
_HOW_TO_GET_DEMUCS = Notice(
    "point {0} at a folder with <model>.yaml and its <sig>-<sha256[:8]>.th files, "
    "or run Demucs once online so its weights are cached",
    "demucs_repo",
)


class SeparationError(ParameterError):
    """Demucs (or its weights) cannot be loaded, or the options are invalid."""


@dataclass(frozen=True)
class SeparationParams:
    """Options of the separation step (the ``separation:`` block of stage 1's config).

    ``method``, ``demucs_model`` and ``demucs_repo`` are also the flags ``--separator``,
    ``--demucs_model`` and ``--demucs_repo``.

    Parameters
    ----------
    method
        ``auto``, ``demucs``, ``hpss`` or ``none`` (``--separator``); see the module docstring.
    demucs_model
        Demucs model (bag) name or signature; ``htdemucs`` is Demucs 4's default.
    demucs_repo
        Folder of a local Demucs model repo (``--demucs_repo``); None: the caches only.
    device
        Torch device for Demucs, e.g. ``"cpu"``, ``"cuda"``, ``"cuda:1"``; None: ``cuda`` when
        available, else ``cpu``.
    chunk_seconds
        Longest piece of audio processed at once, which bounds working memory for long files
        (beyond it, memory grows with file length only through a few arrays the size of the
        input). Demucs: the length of its overlapping segments, capped at the model's own
        segment (7.8 s for htdemucs), since a transformer model takes no more than it was
        trained on; shorter pieces cost time (each is padded to the model's segment) and some
        quality (less context). The result equals ``demucs.apply.apply_model(split=True,
        shifts=0)`` with that segment. HPSS: blocks of STFT frames, with enough context that
        the result equals processing the whole file at once; 30 s of 44.1 kHz stereo takes
        about 200 MB.
    hpss_n_fft, hpss_hop
        STFT frame and hop in samples; ``hpss_n_fft`` must be a multiple of ``hpss_hop``.
        2048 / 512 are librosa's defaults (46 ms / 11.6 ms at 44.1 kHz).
    hpss_kernel_harmonic
        Median filter length along time, in frames (odd): a partial steadier than this is
        harmonic. 31 frames (0.36 s at the defaults) is librosa's ``hpss`` default.
    hpss_kernel_percussive
        Median filter length along frequency, in bins (odd): a frame broader than this is
        percussive. 31 bins (670 Hz at the defaults) is librosa's ``hpss`` default.
    hpss_margin
        ``>= 1``; the harmonic median is scaled by it before the masks are made (Driedger
        et al. 2014). 1.0 is librosa's default and keeps a drum's tonal body (a kick's boom, a
        tom's pitch); 2.0 suppresses a sustained chord ~10 dB more, and some of that body.
    hpss_mask
        ``soft`` (Wiener-like ``P^p / (P^p + (margin H)^p)``, fewer artifacts) or ``binary``.
    hpss_power
        Exponent ``p`` of the soft mask; 2.0 as in librosa.
    """

    method: str = SEPARATOR
    demucs_model: str = DEMUCS_MODEL
    demucs_repo: str | None = None
    device: str | None = None
    chunk_seconds: float = 30.0
    hpss_n_fft: int = 2048
    hpss_hop: int = 512
    hpss_kernel_harmonic: int = 31
    hpss_kernel_percussive: int = 31
    hpss_margin: float = 1.0
    hpss_mask: str = "soft"
    hpss_power: float = 2.0

    def __post_init__(self) -> None:
        problems = []
        if self.method not in METHODS:
            problems.append(f"separator must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not (self.chunk_seconds > 0 and math.isfinite(self.chunk_seconds)):
            problems.append(f"chunk_seconds must be > 0, got {self.chunk_seconds}")
        if not (self.hpss_hop >= 1 and self.hpss_n_fft >= 2 * self.hpss_hop):
            problems.append("hpss_n_fft must be at least twice hpss_hop")
        elif self.hpss_n_fft % self.hpss_hop:
            problems.append("hpss_n_fft must be a multiple of hpss_hop")
        for name in ("hpss_kernel_harmonic", "hpss_kernel_percussive"):
            size = getattr(self, name)
            if size < 1 or size % 2 == 0:
                problems.append(f"{name} must be an odd number >= 1, got {size}")
        if not self.hpss_margin >= 1:
            problems.append(f"hpss_margin must be >= 1, got {self.hpss_margin}")
        if self.hpss_mask not in HPSS_MASKS:
            problems.append(f"hpss_mask must be soft or binary, got {self.hpss_mask!r}")
        if not self.hpss_power > 0:
            problems.append(f"hpss_power must be > 0, got {self.hpss_power}")
        if problems:
            raise SeparationError.about("{problems}", problems="; ".join(problems))


@runtime_checkable
class DrumSeparator(Protocol):
    """Maps audio to its drum part: ``(frames, channels)`` float32 in, the same shape out."""

    name: str  # "demucs:<model>", "hpss" or "none"; recorded in stage 1's metadata

    def __call__(self, y: np.ndarray, sr: int) -> tuple[np.ndarray, int]: ...


def make_separator(
    params: SeparationParams = SeparationParams(),
    *,
    notify: Callable[[str], None] | None = None,
) -> DrumSeparator:
    """Build the separator ``params.method`` asks for, loading any model once, here.

    Parameters
    ----------
    params
        The options; see `SeparationParams`.
    notify
        Receives the one notice ``auto`` gives when it falls back to HPSS (None: dropped).

    Returns
    -------
    DrumSeparator
        ``auto``: Demucs when torch and demucs import and the weights load offline, else
        HPSS, with one notice saying why and how to get Demucs. ``demucs``, ``hpss``,
        ``none``: as named.

    Raises
    ------
    SeparationError
        (a `DrumgenxError`) ``method="demucs"`` and Demucs or its weights cannot be loaded;
        one line saying why.
    """
    if params.method == "none":
        return _NoSeparation()
    if params.method == "hpss":
        return _HpssSeparator(params)
    try:
        return _DemucsSeparator(params)
    except _DemucsUnavailable as exc:
        if params.method == "demucs":
            raise SeparationError.about(
                "cannot use Demucs model {model!r}: {why}; {how}",
                model=params.demucs_model,
                why=exc.why,
                how=_HOW_TO_GET_DEMUCS,
            ) from None
        (notify or silent)(
            Notice(
                "Demucs model {model!r} not used ({why}); separating drums by harmonic-"
                "percussive separation (HPSS) instead. For Demucs, {how}.",
                model=params.demucs_model,
                why=exc.why,
                how=_HOW_TO_GET_DEMUCS,
            )
        )
        return _HpssSeparator(params)


# --------------------------------------------------------------------------- trivial cases


class _NoSeparation:
    name = "none"

    def __call__(self, y: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        return np.asarray(y, dtype=np.float32), sr


class _HpssSeparator:
    name = "hpss"

    def __init__(self, params: SeparationParams) -> None:
        self.params = params

    def __call__(self, y: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        return hpss_percussive(y, sr=sr, params=self.params), sr


# --------------------------------------------------------------------------- Demucs


class _DemucsUnavailable(Exception):
    """Why Demucs cannot be used; one line (`why`: the same, naming its parameters)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


def _one_line(exc: BaseException, limit: int = 200) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


@contextlib.contextmanager
def _hub_offline() -> Iterator[None]:
    """Hugging Face hub offline for the duration, even if huggingface_hub is already imported.

    huggingface_hub reads HF_HUB_OFFLINE once, at import, into ``constants``; the env var is
    set too for versions that read it elsewhere. Both are restored afterwards.
    """
    old_env = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"
    constants: Any = None
    old_const = None
    try:
        from huggingface_hub import constants  # type: ignore[no-redef]

        old_const = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = True
    except Exception:  # not installed, or a version without the constant: env var only
        constants = None
    try:
        yield
    finally:
        if constants is not None:
            constants.HF_HUB_OFFLINE = old_const
        if old_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = old_env


def _load_demucs_model(name: str, repo: str | None) -> Any:
    """The Demucs model or bag ``name``, from ``repo`` or the local caches; never the network.

    Raises
    ------
    _DemucsUnavailable
        torch or demucs missing, or no loadable weights.
    """
    try:
        import torch
        from demucs import pretrained
        from demucs.repo import AnyModelRepo, BagOnlyRepo, LocalRepo
    except ImportError as exc:
        raise _DemucsUnavailable(
            f"torch and demucs are not installed ({_one_line(exc)}); "
            "pip install torch==2.13.0 demucs"
        ) from None

    def load(what: str, fn: Callable[[], Any]) -> Any:
        try:
            with _hub_offline():
                model = fn()
        except (Exception, SystemExit) as exc:  # demucs calls sys.exit() on some errors
            # A missing file is the expected case offline: say so, not the hub's paragraph.
            missing = isinstance(exc, FileNotFoundError) or "NotFound" in type(exc).__name__
            reason = "not there" if missing else _one_line(exc)
            raise _DemucsUnavailable(Notice("{what}: {reason}", what=what, reason=reason)) from None
        model.eval()
        return model

    if repo is not None:
        root = Path(repo).expanduser()
        if not root.is_dir():
            raise _DemucsUnavailable(Notice("{0} {repo}: no such folder", "demucs_repo", repo=repo))
        pattern = glob.escape(name)
        if not any(root.glob(f"{pattern}.yaml")) and not any(root.glob(f"{pattern}[.-]*th")):
            raise _DemucsUnavailable(
                Notice(
                    "{0} {repo} has neither {name}.yaml nor {name}-<sha256[:8]>.th",
                    "demucs_repo",
                    repo=repo,
                    name=name,
                )
            )
        # The real loader; with a repo it reads only that folder (sha256-checked .th files).
        named = Notice("{0} {repo}", "demucs_repo", repo=repo)
        return load(named, lambda: pretrained.get_model(name, repo=root))

    # No repo: what an earlier online run cached. get_model(name) would try the network when
    # the weights are missing (Hugging Face, then torch.hub downloads, ~25 s of retries
    # offline), so its two sources are read here directly, offline by construction.
    reasons = []
    hf_name = name.removeprefix("hf://")  # get_model's prefix for "always from the hub"
    try:  # Demucs >= 4.1 downloads to the Hugging Face cache (repo adefossez/<Name>)
        from demucs.hf import get_hf_model
    except ImportError:  # Demucs 4.0: torch hub only
        reasons.append("Hugging Face cache: needs demucs >= 4.1")
    else:
        try:
            return load(f"Hugging Face cache {_hf_cache_dir()}", lambda: get_hf_model(hf_name))
        except _DemucsUnavailable as exc:
            reasons.append(str(exc))
    if name.startswith("hf://"):
        raise _DemucsUnavailable(f"no weights for {name!r} offline [{reasons[0]}]")
    # Older Demucs and torch.hub put `<sig>-<sha256[:8]>.th` files here: a local repo in all
    # but the bag files, which ship inside the demucs package (remote/<name>.yaml).
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
    if checkpoints.is_dir():

        def from_torch_hub() -> Any:
            models = LocalRepo(checkpoints)
            return AnyModelRepo(models, BagOnlyRepo(pretrained.REMOTE_ROOT, models)).get_model(name)

        try:
            return load(f"torch hub cache {checkpoints}", from_torch_hub)
        except _DemucsUnavailable as exc:
            reasons.append(str(exc))
    else:
        reasons.append(f"torch hub cache {checkpoints}: not there")
    raise _DemucsUnavailable(f"no weights for {name!r} offline [{'; '.join(reasons)}]")


def _hf_cache_dir() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # not installed, or moved: the message just loses the path
        return ""


def _model_segment_seconds(model: Any) -> Any:
    """The longest segment every model of a bag accepts (HTDemucs: its training segment).

    Kept as the model has it (HTDemucs: a Fraction, 39/5 s) so segment lengths in samples
    round exactly as in demucs.apply.
    """
    models = list(getattr(model, "models", [model]))
    segments = [m.segment for m in models if getattr(m, "segment", None)]
    return min(segments) if segments else None


class _DemucsSeparator:
    """Demucs loaded once; each call separates one file and keeps its drums."""

    def __init__(self, params: SeparationParams) -> None:
        model = _load_demucs_model(params.demucs_model, params.demucs_repo)
        import torch

        sources = list(model.sources)
        if "drums" not in sources:
            raise _DemucsUnavailable(
                f"model {params.demucs_model!r} has no 'drums' source (it has: "
                f"{', '.join(sources)})"
            )
        device = params.device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            self.device = torch.device(device)
            model.to(self.device)
        except Exception as exc:  # e.g. cuda asked for on a machine without it
            raise _DemucsUnavailable(f"device {device!r}: {_one_line(exc)}") from None
        self.model = model
        self.name = f"demucs:{params.demucs_model}"
        self.drums_index = sources.index("drums")
        self.samplerate = int(model.samplerate)
        self.audio_channels = int(model.audio_channels)
        model_segment = _model_segment_seconds(model)
        self.segment = (
            params.chunk_seconds
            if model_segment is None or params.chunk_seconds < model_segment
            else model_segment
        )

    def __call__(self, y: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        from drumgenx.core.audio import resample

        y = np.asarray(y, dtype=np.float32)
        if y.ndim != 2:
            raise ValueError(f"expected audio of shape (frames, channels), got {y.shape}")
        frames, channels = y.shape
        if frames == 0:
            return y.copy(), sr
        x = resample(np.ascontiguousarray(y), sr, self.samplerate)
        if channels == self.audio_channels:
            drums = self._separate(x)
        else:  # mono (or more channels than the model): each channel alone, copied to all
            drums = np.stack(
                [
                    self._separate(np.repeat(x[:, c : c + 1], self.audio_channels, axis=1)).mean(
                        axis=1
                    )
                    for c in range(channels)
                ],
                axis=1,
            )
        out = resample(np.ascontiguousarray(drums), self.samplerate, sr)
        return _fit_length(out, frames), sr

    def _separate(self, x: np.ndarray) -> np.ndarray:
        """Drums of ``x`` (frames, model channels) at the model's rate.

        The segment loop of ``demucs.apply.apply_model(split=True, shifts=0)``, with the same
        segments, overlap and triangular weights, so the result is the same; but only the
        drums are accumulated, where apply_model holds every source of the whole file.
        """
        import torch
        from demucs.apply import TensorChunk, apply_model

        # Demucs's own input normalisation (demucs.separate / demucs.api), over the whole file.
        ref = x.mean(axis=1)
        mean, std = float(ref.mean()), float(ref.std())
        std = std if std > 1e-8 else 1.0  # silence: nothing to scale
        mix = torch.from_numpy(np.ascontiguousarray(((x - mean) / std).T))[None]  # (1, C, T)
        length = mix.shape[-1]
        seg_len = max(1, int(self.samplerate * self.segment))
        stride = max(1, int((1 - _DEMUCS_OVERLAP) * seg_len))
        ramp = torch.cat(
            [torch.arange(1, seg_len // 2 + 1), torch.arange(seg_len - seg_len // 2, 0, -1)]
        ).to(torch.float32)
        weight = ramp / ramp.max()
        out = torch.zeros(self.audio_channels, length)
        total = torch.zeros(length)
        with torch.inference_mode():
            for offset in range(0, length, stride):
                chunk = TensorChunk(mix, offset, seg_len)
                est = apply_model(
                    self.model,
                    chunk,
                    shifts=0,  # the shift trick averages random offsets: slower, not reproducible
                    split=False,
                    segment=self.segment,
                    device=self.device,
                )
                drums = est[0, self.drums_index].to("cpu", torch.float32)
                n = drums.shape[-1]
                out[:, offset : offset + n] += weight[:n] * drums
                total[offset : offset + n] += weight[:n]
        out /= total
        return (out.numpy().T * std + mean).astype(np.float32)


def _fit_length(y: np.ndarray, frames: int) -> np.ndarray:
    """Trim or zero-pad ``y`` (frames, channels) to ``frames`` (resampling rounds lengths)."""
    if y.shape[0] >= frames:
        return np.ascontiguousarray(y[:frames], dtype=np.float32)
    pad = np.zeros((frames - y.shape[0], y.shape[1]), dtype=np.float32)
    return np.concatenate([y.astype(np.float32, copy=False), pad])


# --------------------------------------------------------------------------- HPSS


def _median_last_axis(x: np.ndarray, size: int) -> np.ndarray:
    """Median filter of length ``size`` along the last axis, edges mirrored.

    scipy >= 1.15 has a fast O(n log k) median for 1-D arrays only, ~10x its n-D filter (older
    scipy: same result, slower); so every row is mirror-padded by ``size // 2`` and all rows
    run as one 1-D array. A window centred in a row sees only that row and its own padding.
    """
    from scipy import ndimage

    half = size // 2
    if half == 0:
        return x.copy()
    rows = x.reshape(-1, x.shape[-1])
    padded = np.pad(rows, ((0, 0), (half, half)), mode="symmetric")  # = ndimage's "reflect"
    filtered = ndimage.median_filter(padded.ravel(), size=size, mode="reflect")
    return filtered.reshape(padded.shape)[:, half:-half].reshape(x.shape)


def hpss_percussive(
    y: np.ndarray,
    *,
    sr: int,
    params: SeparationParams = SeparationParams(),
) -> np.ndarray:
    """The percussive part of ``y`` by median-filtering harmonic-percussive separation.

    Fitzgerald (2010): in a magnitude spectrogram, harmonic sounds are horizontal ridges
    and drums vertical ones; a median along time estimates the harmonic part ``H``, a median
    along frequency the percussive part ``P``, and a mask built from them (soft:
    ``P^p / (P^p + (margin H)^p)``, or binary: ``P > margin H``) is applied to the STFT, which
    is then inverted. All channels share one mask, made from their mean magnitude. Frames
    are centred and the inverse STFT is normalised by the summed squared window, so the
    output is time-aligned with the input, sample for sample, and an all-pass mask returns
    the input exactly.

    Processed in blocks of ``params.chunk_seconds`` with ``hpss_kernel_harmonic // 2`` frames
    of context each side, so memory is bounded and the result equals whole-file processing.

    Parameters
    ----------
    y
        Audio, ``(frames, channels)`` (or ``(frames,)``), any float type.
    sr
        Sample rate of ``y`` (sets the block length only).
    params
        STFT, filter and mask settings (the ``hpss_*`` fields) and ``chunk_seconds``.

    Returns
    -------
    numpy.ndarray
        float32, the same shape as ``y``.
    """
    import scipy.fft  # the inverse FFT; the forward one is drumgenx.core.spectral's

    p = params
    x = np.asarray(y, dtype=np.float32)
    shape = x.shape
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"expected audio of shape (frames, channels), got {shape}")
    n, channels = x.shape
    if n == 0:
        return np.zeros(shape, dtype=np.float32)

    n_fft, hop = p.hpss_n_fft, p.hpss_hop
    overlap = n_fft // hop  # frames covering each sample
    half = n_fft // 2
    n_frames = 1 + n // hop  # frame t is centred on sample t * hop
    # Centred frames over the zero-padded signal (librosa's centring since 0.10).
    frames_view = frame_signal(x.T, n_fft=n_fft, hop=hop)  # (channels, n_frames, n_fft)
    window = hann_window(n_fft)

    out = np.zeros((channels, (n_frames + overlap - 1) * hop), dtype=np.float32)
    norm = np.zeros(out.shape[-1], dtype=np.float32)
    # Squared-window sum at every sample: the inverse STFT's normalisation.
    w2 = (window * window).reshape(overlap, hop)
    for r in range(overlap):
        norm[r * hop : (r + n_frames) * hop] += np.tile(w2[r], n_frames)

    context = p.hpss_kernel_harmonic // 2
    block = max(1, math.ceil(p.chunk_seconds * sr / hop))
    for t0 in range(0, n_frames, block):
        t1 = min(n_frames, t0 + block)
        a0, a1 = max(0, t0 - context), min(n_frames, t1 + context)
        own = slice(t0 - a0, t1 - a0)
        spec = stft(frames_view[:, a0:a1], window=window)  # (ch, frames, bins)
        # One mask for all channels, from their mean magnitude: half the median work of
        # per-channel masks, and the stereo image cannot wobble between channels.
        mag = np.abs(spec).mean(axis=0) if channels > 1 else np.abs(spec[0])  # (frames, bins)
        # Harmonic: median along time (uses the context frames); percussive: along frequency.
        harm = _median_last_axis(np.ascontiguousarray(mag.T), p.hpss_kernel_harmonic).T[own]
        harm *= np.float32(p.hpss_margin)
        perc = _median_last_axis(np.ascontiguousarray(mag[own]), p.hpss_kernel_percussive)
        if p.hpss_mask == "binary":
            mask = (perc > harm).astype(np.float32)
        else:
            perc_p = perc * perc if p.hpss_power == 2 else perc**p.hpss_power
            harm_p = harm * harm if p.hpss_power == 2 else harm**p.hpss_power
            denom = perc_p + harm_p
            # 0/0 (digital silence) -> 0, as librosa's softmask(split_zeros=False).
            mask = np.divide(perc_p, denom, out=np.zeros_like(denom), where=denom > 0)
        frames_out = scipy.fft.irfft(spec[:, own] * mask, n=n_fft, axis=-1)
        frames_out *= window
        # Overlap-add: n_fft = overlap * hop, so frame t's r-th hop lands on hop slot t + r.
        nt = t1 - t0
        pieces = frames_out.reshape(channels, nt, overlap, hop)
        for r in range(overlap):
            start = (t0 + r) * hop
            out[:, start : start + nt * hop] += pieces[:, :, r].reshape(channels, nt * hop)

    del frames_view  # long files: free the padded input copy before the output copy
    body = slice(half, half + n)
    out = out[:, body]
    out /= np.maximum(norm[body], np.float32(1e-8))  # in place: one array of the file less
    return np.ascontiguousarray(out.T).reshape(shape)
