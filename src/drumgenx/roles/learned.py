"""Learned role scorer: a small MLP ensemble over log-mel segment statistics and envelope shape.

One of the three sources fused by stage 2 (next to the DSP rules and CLAP). It exists because
CLAP weights are often unavailable offline and zero-shot CLAP is untested on drum one-shots.
Pure numpy at inference: no torch, no librosa. The weights
(``weights/role_scorer.npz``, ~100 kB) were trained by ``drumgenx train roles``
(`drumgenx.training.roles`) on the labelled Debian one-shots (``labels.csv``: confidence
high or medium, role set), with augmentation; the file's ``meta`` entry records the
command, the date, the hyperparameters and the leave-one-kit-out scores.

Features (:func:`role_features`)
--------------------------------
The clip is mixed to mono, cut at its onset (first sample above -40 dB of the peak, minus
2 ms), cropped to :data:`MAX_SECONDS`, resampled to :data:`FEATURE_SR` (22.05 kHz, so every
source rate looks the same: 22.05/44.1/48 kHz files all lose everything above 11 kHz) and
peak-normalised (so gain does not matter). A 1024-point STFT (hop 256, ~11.6 ms) feeds a
:data:`N_MELS`-band mel filterbank (30 Hz-11 kHz). Levels are in dB relative to the loudest
frame, floored at -100 dB. Then:

* **segment spectra** (``4 * N_MELS``): mean mel level over the *attack* (0-46 ms), *body*
  (46-232 ms), *tail* (0.23-1.04 s) and *late* (> 1.04 s) segments, measured from the onset.
  A segment the clip does not reach reads as the floor, which itself says "short";
* **spectral shape per segment** (``4 * 3``): centroid (log Hz), flatness (log, tonal vs
  noisy) and the level of the segment's total energy;
* **envelope** (10): attack time to the peak frame, time to fall 10/20/40 dB after the peak,
  last time above -20/-40/-60 dB (how long the sound lasts), temporal centroid, and the
  low (< 150 Hz) and high (> 5 kHz) energy shares over the first 250 ms;
* **texture** (2): zero-crossing rate over the first 100 ms and the frame-to-frame
  fluctuation of the mel levels over the first second (steady drones vs. decaying hits);
* **band decays, body pitch, cymbal crest** (7): per-band decay times, the low peak and its
  glide, the 2-10 kHz crest of the body and the tail;
* **shape** (8, issue #15, `roles.features.shape_features`): extrapolated 30 dB decay times
  (broadband and above 4 kHz) and the decay fit's residual, the high bands' level 0.5 s on,
  the body's pitch glide and salience, its sub share and its click (for the confusions
  crash vs hat, low tom vs kick, impact vs ambience).

Times enter as ``log(1 + ms)`` so 5 ms and 5 s are both resolvable.

Model
-----
Two kinds of member, whose probabilities are averaged (weight ``tree_weight`` for the trees):

* ``members``: MLPs over the features standardised with the training set's mean and
  deviation (one hidden ReLU layer, or none: multinomial logistic regression), each a
  softmax over :data:`~drumgenx.core.roles.ROLES`;
* ``trees``: gradient-boosted decision trees on the raw features (one tree per role per
  boosting round, logits summed, softmax), stored flattened as arrays and evaluated for
  all trees at once (:class:`TreeEnsemble`).

The linear model draws smooth boundaries that transfer to kits never seen in training; the
trees catch the interactions it cannot (a long decay means FILL for a crash but MOTION for
a ride). On leave-one-kit-out their average beats either alone (see ``meta``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drumgenx.core.audio import resample
from drumgenx.core.roles import ROLES
from drumgenx.core.spectral import frame_signal, hann_window, mel_filterbank, power_spectrogram
from drumgenx.roles.features import SHAPE_FEATURE_NAMES, shape_features

__all__ = [
    "DEFAULT_WEIGHTS",
    "FEATURE_NAMES",
    "FEATURE_SR",
    "FEATURE_VERSION",
    "LearnedRoleScorer",
    "TreeEnsemble",
    "forward_reference",
    "role_features",
    "save_scorer",
]

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "role_scorer.npz"

FEATURE_VERSION = 5
"""Bumped whenever :func:`role_features` changes; the weights file must match it (5: the
shape features of `roles.features.SHAPE_FEATURE_NAMES` appended, issue #15)."""
FEATURE_SR = 22050
N_FFT = 1024
HOP = 256
N_MELS = 32
F_MIN = 30.0
MAX_SECONDS = 4.0
"""Only this much after the onset is analysed: longer sounds are 'long' for every role."""
ONSET_DB = -40.0
FLOOR_DB = -100.0
# Segment bounds in frames from the onset (hop 256 at 22.05 kHz: 11.6 ms a frame).
SEGMENTS: tuple[tuple[str, int, int | None], ...] = (
    ("attack", 0, 4),
    ("body", 4, 20),
    ("tail", 20, 90),
    ("late", 90, None),
)
_EPS = 1e-12


def _feature_names() -> tuple[str, ...]:
    names: list[str] = []
    for seg, _, _ in SEGMENTS:
        names += [f"mel_{seg}_{k:02d}" for k in range(N_MELS)]
    for seg, _, _ in SEGMENTS:
        names += [f"centroid_{seg}", f"flatness_{seg}", f"level_{seg}"]
    names += [
        "attack_ms",
        "decay10_ms",
        "decay20_ms",
        "decay40_ms",
        "dur20_ms",
        "dur40_ms",
        "dur60_ms",
        "temporal_centroid_ms",
        "low_share",
        "high_share",
        "zcr",
        "mel_fluctuation",
        "decay_low_ms",
        "decay_mid_ms",
        "decay_high_ms",
        "low_peak_hz",
        "low_peak_glide",
        "high_crest",
        "tail_high_crest",
    ]
    return (*names, *SHAPE_FEATURE_NAMES)


FEATURE_NAMES: tuple[str, ...] = _feature_names()
"""Name of every entry of the :func:`role_features` vector, in order."""


@functools.cache
def _mel_filterbank() -> np.ndarray:
    """``(N_FFT // 2 + 1, N_MELS)`` triangular filters on the HTK mel scale (30 Hz to
    Nyquist), height 1; float32, like the power spectra they are applied to."""
    bank = mel_filterbank(
        sr=FEATURE_SR, n_fft=N_FFT, n_mels=N_MELS, fmin_hz=F_MIN, sum_to_one=False
    )
    return bank.T.astype(np.float32)


def _prepare(y: np.ndarray, sr: int) -> np.ndarray:
    """Validate, mix to mono, resample, cut at the onset, crop and peak-normalise."""
    if not isinstance(sr, (int, np.integer)) or isinstance(sr, bool) or sr <= 0:
        raise ValueError(f"sr must be a positive integer, got {sr!r}")
    x = np.asarray(y)
    if x.ndim == 2:
        x = x.mean(axis=1) if x.shape[1] > 0 else x.reshape(-1)
    elif x.ndim != 1:
        raise ValueError(f"audio must be 1-D or (frames, channels), got shape {x.shape}")
    if x.size == 0:
        raise ValueError("audio is empty")
    x = x.astype(np.float64, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError("audio holds NaN or infinite samples")
    a = np.abs(x)
    peak = float(a.max())
    if peak <= 0.0:
        raise ValueError("audio is silent (all zeros)")
    # Resampled first, so a caller that already holds the clip at FEATURE_SR (stage 2 shares
    # one resampled copy with the DSP features) gets exactly the features training saw.
    if sr != FEATURE_SR:
        x = resample(x[:, None], int(sr), FEATURE_SR)[:, 0].astype(np.float64)
        a = np.abs(x)
        peak = float(a.max()) if x.size else 0.0
        if peak <= 0.0:
            raise ValueError("audio is too short to analyse")
    # Cut at the onset so segment bounds are relative to the hit, whatever leading silence a
    # slicer left; 2 ms of pre-roll keeps the attack's first transient.
    start = int(np.argmax(a > peak * 10 ** (ONSET_DB / 20)))
    start = max(0, start - int(0.002 * FEATURE_SR))
    x = x[start : start + int(MAX_SECONDS * FEATURE_SR)]
    return x / peak


def _frames_power(x: np.ndarray) -> np.ndarray:
    """``(frames, N_FFT // 2 + 1)`` float32 power spectra; frame 0 is centred on the onset."""
    # Centred frames, ceil(size / HOP) of them (one fewer than a whole multiple of HOP gets).
    frames = frame_signal(x, n_fft=N_FFT, hop=HOP)[: max(1, int(np.ceil(x.size / HOP)))]
    # Single precision: levels are floored at -100 dB anyway, and it halves the FFT and the
    # mel product, the two largest costs of the feature vector. The float64 window and frames
    # are multiplied first, then rounded (what the scorer was trained on).
    return power_spectrogram(frames, window=hann_window(N_FFT, dtype=np.float64))


def _log_ms(frames: float) -> float:
    return float(np.log1p(frames * HOP / FEATURE_SR * 1000.0))


def role_features(y: np.ndarray, *, sr: int) -> np.ndarray:
    """The learned scorer's input vector (see the module docstring).

    Parameters
    ----------
    y : numpy.ndarray
        Mono ``(frames,)`` or ``(frames, channels)`` float audio.
    sr : int
        Sample rate in Hz.

    Returns
    -------
    numpy.ndarray
        float64 ``(len(FEATURE_NAMES),)``, not standardised.

    Raises
    ------
    ValueError
        Empty, silent or non-finite audio, a bad shape, or a non-positive rate.
    """
    x = _prepare(y, sr)
    power = _frames_power(x)  # (T, bins)
    n_frames = power.shape[0]
    energy = power.sum(axis=1)
    ref = float(energy.max()) + _EPS
    mel = power @ _mel_filterbank()
    mel_db = np.maximum(10.0 * np.log10(mel / ref + _EPS), FLOOR_DB)
    env_db = np.maximum(10.0 * np.log10(energy / ref + _EPS), FLOOR_DB)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / FEATURE_SR)

    seg_mel: list[np.ndarray] = []
    seg_shape: list[float] = []
    for _, lo, hi in SEGMENTS:
        hi_ = n_frames if hi is None else min(hi, n_frames)
        if lo >= hi_:
            # The clip ended before this segment: it reads as silence.
            seg_mel.append(np.full(N_MELS, FLOOR_DB))
            seg_shape += [np.log(F_MIN), np.log(_EPS) / 10.0, FLOOR_DB]
            continue
        p = power[lo:hi_].sum(axis=0) + _EPS
        seg_mel.append(mel_db[lo:hi_].mean(axis=0))
        centroid = float((p * freqs).sum() / p.sum())
        flatness = float(np.exp(np.mean(np.log(p))) / np.mean(p))
        level = float(max(10.0 * np.log10(energy[lo:hi_].mean() / ref + _EPS), FLOOR_DB))
        # log flatness scaled to stay in a range comparable to the other entries
        seg_shape += [np.log(max(centroid, F_MIN)), np.log(flatness + _EPS) / 10.0, level]

    peak = int(np.argmax(env_db))
    after = env_db[peak:]

    def decay(db: float) -> float:
        below = np.flatnonzero(after < -db)
        return _log_ms(below[0] if below.size else after.size)

    def last_above(db: float) -> float:
        above = np.flatnonzero(env_db > -db)
        return _log_ms(above[-1] + 1)

    lin = energy / ref
    t_centroid = float((np.arange(n_frames) * lin).sum() / (lin.sum() + _EPS))
    early = power[: min(n_frames, 22)].sum(axis=0)  # first ~250 ms
    low_share = float(early[freqs < 150.0].sum() / (early.sum() + _EPS))
    high_share = float(early[freqs > 5000.0].sum() / (early.sum() + _EPS))
    head = x[: int(0.1 * FEATURE_SR)]
    zcr = (
        float(np.mean(np.abs(np.diff(np.signbit(head).astype(np.int8))))) if head.size > 1 else 0.0
    )
    first_s = mel_db[: min(n_frames, 86)]
    fluct = float(np.mean(np.abs(np.diff(first_s, axis=0)))) / 10.0 if first_s.shape[0] > 1 else 0.0

    envelope = [
        _log_ms(peak),
        decay(10.0),
        decay(20.0),
        decay(40.0),
        last_above(20.0),
        last_above(40.0),
        last_above(60.0),
        _log_ms(t_centroid),
        low_share,
        high_share,
        zcr,
        fluct,
        *_band_decays(power, freqs),
        *_low_peak(x),
        _crest(power[4:20], freqs),
        _crest(power[20:90], freqs),
    ]
    shape = shape_features(x, power, freqs, sr=FEATURE_SR, frame_s=HOP / FEATURE_SR)
    # mel levels in dB are scaled by 1/10 so all entries have similar raw ranges (the
    # standardisation fixes scale anyway; this only keeps the raw vector readable).
    return np.concatenate([np.concatenate(seg_mel) / 10.0, seg_shape, envelope, shape]).astype(
        np.float64
    )


BAND_EDGES_HZ = ((0.0, 200.0), (200.0, 2000.0), (4000.0, FEATURE_SR / 2))
"""Low (kick, floor tom body), mid (tom and snare shells), high (cymbals, hats) bands."""


def _band_decays(power: np.ndarray, freqs: np.ndarray) -> list[float]:
    """Per band, time from the band's loudest frame until it falls 20 dB below it.

    Separates what rings where: a tom's mid band rings longer than a kick's, a crash's
    high band longer than an open hat's.
    """
    out = []
    for lo, hi in BAND_EDGES_HZ:
        band = power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) + _EPS
        peak = int(np.argmax(band))
        below = np.flatnonzero(band[peak:] < band[peak] * 0.01)
        out.append(_log_ms(below[0] if below.size else band.size - peak))
    return out


LOW_PEAK_N_FFT = 4096
"""5.4 Hz resolution at 22.05 kHz: enough to tell a 55 Hz kick from a 110 Hz floor tom."""


def _low_peak(x: np.ndarray) -> tuple[float, float]:
    """Strongest partial under 500 Hz (log Hz) in the first 100 ms, and its glide after.

    A kick's pitch is low and drops fast; a tom's is higher and holds.
    """
    freqs = np.fft.rfftfreq(LOW_PEAK_N_FFT, 1.0 / FEATURE_SR)
    band = (freqs >= F_MIN) & (freqs < 500.0)
    n = int(0.1 * FEATURE_SR)

    def peak_hz(seg: np.ndarray) -> float:
        if seg.size < 64:
            return F_MIN
        window = hann_window(seg.size, periodic=False, dtype=np.float64)
        spec = np.abs(np.fft.rfft(seg * window, n=LOW_PEAK_N_FFT))[band]
        return float(freqs[band][int(np.argmax(spec))])

    first = peak_hz(x[:n])
    later = peak_hz(x[n : 3 * n])
    return float(np.log(first)), float(np.log(later) - np.log(first))


def _crest(power: np.ndarray, freqs: np.ndarray) -> float:
    """Peak-to-mean ratio (log) of the 2-10 kHz spectrum: a ride's bell partials vs a
    crash's or a hat's even noise. 0 for segments the clip does not reach."""
    if power.shape[0] == 0:
        return 0.0
    spec = power[:, (freqs >= 2000.0) & (freqs < 10000.0)].mean(axis=0) + _EPS
    return float(np.log(spec.max() / spec.mean()))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """Boosted trees flattened into node arrays (no pickles, no scikit-learn at inference).

    Node ``i`` is a leaf when ``feature[i] < 0``; otherwise a sample goes to ``left[i]`` when
    its raw feature ``feature[i]`` is ``<= threshold[i]``, else to ``right[i]``. Tree ``t``
    starts at ``roots[t]`` and adds its leaf's ``value`` to the logit of role
    ``tree_role[t]``; ``baseline`` is every role's starting logit.
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    tree_role: np.ndarray
    baseline: np.ndarray

    def __post_init__(self) -> None:
        n = self.feature.shape[0]
        for name in ("threshold", "left", "right", "value"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"tree arrays differ in length ({name})")
        if self.roots.shape != self.tree_role.shape:
            raise ValueError("roots and tree_role differ in length")
        inner = self.feature >= 0
        for child in (self.left[inner], self.right[inner], self.roots):
            if child.size and (child.min() < 0 or child.max() >= n):
                raise ValueError("a tree points outside its node arrays")

    @property
    def n_nodes(self) -> int:
        return int(self.feature.shape[0])

    def logits(self, x: np.ndarray) -> np.ndarray:
        """``(n, n_roles)`` summed tree outputs plus the baseline for raw features ``x``."""
        node = np.broadcast_to(self.roots, (x.shape[0], self.roots.size)).copy()
        rows = np.arange(x.shape[0])[:, None]
        # All trees step down one level per pass; leaves stay put. Depth bounds the passes.
        while True:
            feat = self.feature[node]
            inner = feat >= 0
            if not inner.any():
                break
            go_left = x[rows, np.maximum(feat, 0)] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        out = np.tile(self.baseline, (x.shape[0], 1))
        for role in range(self.baseline.size):
            out[:, role] += self.value[node[:, self.tree_role == role]].sum(axis=1)
        return out


@dataclass(frozen=True, eq=False)
class LearnedRoleScorer:
    """Weights, feature standardisation and metadata of the learned role scorer.

    ``members[m]`` is a tuple of ``(W, b)`` layers of one MLP: ``W`` is ``(in, out)``; ReLU
    follows every layer but the last, whose 5 outputs are logits over ``roles``.
    """

    members: tuple[tuple[tuple[np.ndarray, np.ndarray], ...], ...]
    mean: np.ndarray
    """Per-feature mean of the training features (subtracted first)."""
    scale: np.ndarray
    """Per-feature standard deviation of the training features (divided by second)."""
    roles: tuple[str, ...] = ROLES
    feature_version: int = FEATURE_VERSION
    meta: dict = field(default_factory=dict)
    """Provenance: training command, date, hyperparameters, leave-one-kit-out scores."""
    trees: TreeEnsemble | None = None
    """Optional boosted trees, averaged with the MLP members."""
    tree_weight: float = 0.5
    """Share of the trees in the average; the weights file stores the trained one (the
    training grid's choice, ``meta["config"]``)."""
    temperature: float = 1.0
    """Calibration temperature of stage 2's *fused* distribution (`roles.calibration.temper`),
    fitted by ``drumgenx train roles`` on leave-one-family-out predictions fused with the
    shipped role config; stored with the weights it was fitted with. 1 (no change): weights
    files written before issue #15."""

    def __post_init__(self) -> None:
        n_in = self.mean.shape[0]
        if self.scale.shape != (n_in,):
            raise ValueError("mean and scale must have the same length")
        if not self.members:
            raise ValueError("a scorer needs at least one member")
        for layers in self.members:
            if layers[0][0].shape[0] != n_in or layers[-1][0].shape[1] != len(self.roles):
                raise ValueError("member layer shapes do not match the features or roles")
        if self.trees is not None:
            if self.trees.baseline.shape != (len(self.roles),):
                raise ValueError("tree baseline does not match the roles")
            if self.trees.feature.max(initial=-1) >= n_in:
                raise ValueError("a tree splits on a feature the scorer does not have")
        if not 0.0 <= self.tree_weight <= 1.0:
            raise ValueError(f"tree_weight must be 0..1, got {self.tree_weight}")
        if not self.temperature > 0.0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")

    @property
    def n_params(self) -> int:
        """Number of trained parameters (MLP weights, plus a split or leaf value per node)."""
        n = sum(w.size + b.size for layers in self.members for w, b in layers)
        return int(n + (self.trees.n_nodes if self.trees is not None else 0))

    @classmethod
    def load(cls, path: str | Path | None = None) -> LearnedRoleScorer:
        """Load weights; ``None`` gives the shipped ones (cached after the first call).

        Raises
        ------
        FileNotFoundError
            If the weights file is missing (e.g. an install without package data).
        ValueError
            If the file was written for another feature version or role set.
        """
        if path is None:
            if not DEFAULT_WEIGHTS.is_file():
                raise FileNotFoundError(
                    f"learned role weights not found at {DEFAULT_WEIGHTS}; reinstall drumgenx "
                    "with its package data or run drumgenx train roles"
                )
            return _load_default()
        return _load(Path(path))

    def predict_proba_features(self, feats: np.ndarray) -> np.ndarray:
        """Probabilities from ready feature vectors ``(n, n_features)`` -> ``(n, 5)``."""
        x = np.atleast_2d(np.asarray(feats, dtype=np.float64))
        if x.shape[1] != self.mean.shape[0]:
            raise ValueError(f"expected {self.mean.shape[0]} features, got {x.shape[1]}")
        z = (x - self.mean) / self.scale
        out = np.zeros((x.shape[0], len(self.roles)))
        for layers in self.members:
            h = z
            for i, (w, b) in enumerate(layers):
                h = h @ w + b
                if i < len(layers) - 1:
                    h = np.maximum(h, 0.0)
            out += _softmax(h)
        out /= len(self.members)
        if self.trees is None:
            return out
        return (1.0 - self.tree_weight) * out + self.tree_weight * _softmax(self.trees.logits(x))

    def predict_proba(self, y: np.ndarray, *, sr: int) -> np.ndarray:
        """Role probabilities of one clip, ``(5,)`` in ``roles`` order (sums to 1).

        Raises
        ------
        ValueError
            Empty, silent or non-finite audio (see :func:`role_features`).
        """
        return self.predict_proba_features(role_features(y, sr=sr)[None, :])[0]

    def predict_proba_batch(self, clips: Sequence[tuple[np.ndarray, int]]) -> np.ndarray:
        """Role probabilities of many ``(audio, sr)`` clips, ``(n, 5)``."""
        if len(clips) == 0:
            return np.zeros((0, len(self.roles)))
        feats = np.stack([role_features(y, sr=sr) for y, sr in clips])
        return self.predict_proba_features(feats)


def forward_reference(scorer: LearnedRoleScorer, feats: np.ndarray) -> np.ndarray:
    """Loop-based forward pass, one scalar at a time: the test oracle for the vectorised one."""
    x = np.atleast_2d(np.asarray(feats, dtype=np.float64))
    out = np.zeros((x.shape[0], len(scorer.roles)))
    for n in range(x.shape[0]):
        z0 = [(x[n, j] - scorer.mean[j]) / scorer.scale[j] for j in range(x.shape[1])]
        for layers in scorer.members:
            h = z0
            for li, (w, b) in enumerate(layers):
                nxt = []
                for o in range(w.shape[1]):
                    s = float(b[o])
                    for i in range(w.shape[0]):
                        s += h[i] * float(w[i, o])
                    nxt.append(max(s, 0.0) if li < len(layers) - 1 else s)
                h = nxt
            m = max(h)
            e = [np.exp(v - m) for v in h]
            tot = sum(e)
            for r in range(len(e)):
                out[n, r] += e[r] / tot / len(scorer.members)
    return out


def save_scorer(path: str | Path, scorer: LearnedRoleScorer) -> None:
    """Write ``scorer`` as an ``.npz`` that :meth:`LearnedRoleScorer.load` reads (no pickles)."""
    arrays: dict[str, np.ndarray] = {
        "n_members": np.asarray(len(scorer.members)),
        "n_layers": np.asarray([len(layers) for layers in scorer.members]),
        "mean": scorer.mean.astype(np.float32),
        "scale": scorer.scale.astype(np.float32),
        "roles": np.asarray(list(scorer.roles)),
        "feature_version": np.asarray(scorer.feature_version),
        "meta": np.asarray(json.dumps(scorer.meta, sort_keys=True)),
        "temperature": np.asarray(scorer.temperature),
    }
    for m, layers in enumerate(scorer.members):
        for i, (w, b) in enumerate(layers):
            arrays[f"m{m}_w{i}"] = w.astype(np.float32)
            arrays[f"m{m}_b{i}"] = b.astype(np.float32)
    if scorer.trees is not None:
        arrays["tree_weight"] = np.asarray(scorer.tree_weight)
        for name in TREE_FIELDS:
            arrays[f"tree_{name}"] = getattr(scorer.trees, name)
    np.savez_compressed(path, **arrays)


TREE_FIELDS = ("feature", "threshold", "left", "right", "value", "roots", "tree_role", "baseline")


def _load(path: Path) -> LearnedRoleScorer:
    with np.load(path, allow_pickle=False) as z:
        version = int(z["feature_version"])
        roles = tuple(str(r) for r in z["roles"])
        if version != FEATURE_VERSION:
            raise ValueError(
                f"{path}: weights are for feature version {version}, code has "
                f"{FEATURE_VERSION}; retrain with drumgenx train roles"
            )
        if roles != ROLES:
            raise ValueError(f"{path}: role order {roles} differs from {ROLES}")
        n_layers = [int(v) for v in z["n_layers"]]
        members = tuple(
            tuple(
                (z[f"m{m}_w{i}"].astype(np.float64), z[f"m{m}_b{i}"].astype(np.float64))
                for i in range(n)
            )
            for m, n in enumerate(n_layers)
        )
        trees = None
        if "tree_feature" in z:
            trees = TreeEnsemble(**{name: z[f"tree_{name}"] for name in TREE_FIELDS})
        return LearnedRoleScorer(
            members=members,
            mean=z["mean"].astype(np.float64),
            scale=z["scale"].astype(np.float64),
            roles=roles,
            feature_version=version,
            meta=json.loads(str(z["meta"])),
            trees=trees,
            tree_weight=float(z["tree_weight"]) if trees is not None else 0.5,
            temperature=float(z["temperature"]) if "temperature" in z else 1.0,
        )


@functools.cache
def _load_default() -> LearnedRoleScorer:
    return _load(DEFAULT_WEIGHTS)
