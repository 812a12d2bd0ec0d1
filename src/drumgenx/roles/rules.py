"""Rule scores over the five roles from DSP features, and the guards that veto unfit roles.

**Scoring.** Each role has one or more *profiles*, a profile being one kind of sound that
plays the role (FILL: a tom, a crash, an impact; MOTION: a hat or shaker, a ride). A
profile is a list of soft conditions ("terms") on the features of
:mod:`drumgenx.roles.features`; each term is a logistic ramp

    m = 1 / (1 + exp(-z)),  z = (x - centre) / width               (scale: linear)
                            z = log2(x / centre) / width           (scale: log, width in octaves)

taken as is for ``direction: above`` and as ``1 - m`` for ``below``. A profile's score is the
weighted *mean* of its terms' memberships (0-1, comparable across profiles of any size); a
role's score is its best profile's (a sound only has to look like one kind of FILL). The
scores become ``p_rule`` by a softmax at ``rules.temperature``: at 0.1 a role scoring 0.2
higher than another is e² ≈ 7.4 times as probable.

**Guards.** A guard names conditions on features (all must hold) and the roles it vetoes:
their probability is set to 0 and the rest renormalised. A guard that would veto every role
still left is skipped (and says so): some role must be chosen. Guards run on any probability
vector, so the fusion applies them to fused scores too.

No number lives in this code: every centre, width, weight, threshold and the temperature are
in ``stage2_role_assignment/configs/role_assignment.yaml``, mirrored by the dataclass
defaults below (a test keeps the two equal), so an installed package without the checkout
behaves exactly like the checkout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drumgenx.core.config import load_config
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES
from drumgenx.roles.features import FEATURE_NAMES, FeatureParams

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "Condition",
    "FusionConfig",
    "Guard",
    "Profile",
    "RoleConfig",
    "RulesConfig",
    "Term",
    "apply_guards",
    "load_role_config",
    "rule_probabilities",
    "rule_scores",
]

DEFAULT_CONFIG_PATH = Path("stage2_role_assignment/configs/role_assignment.yaml")
"""The checkout's config, relative to the working directory (read when it exists)."""

_DIRECTIONS = ("above", "below")
_SCALES = ("linear", "log")
_OPS = {
    "<": float.__lt__,
    "<=": float.__le__,
    ">": float.__gt__,
    ">=": float.__ge__,
}


@dataclass(frozen=True)
class Term:
    """One soft condition: how much a feature is above (or below) ``centre``.

    Attributes
    ----------
    feature : str
        A name from :data:`drumgenx.roles.features.FEATURE_NAMES`.
    direction : str
        ``"above"`` (membership rises with the feature) or ``"below"``.
    centre : float
        Value where membership is 0.5, in the feature's units (> 0 for ``scale: log``).
    width : float
        Ramp softness: feature units for ``linear``, octaves for ``log`` (membership goes
        from 0.27 to 0.73 over ±1 width).
    scale : str
        ``"log"`` for times and frequencies (a 2x change matters alike at any size),
        ``"linear"`` for ratios and dB.
    weight : float
        Importance of this term within its profile (> 0).
    """

    feature: str
    direction: str
    centre: float
    width: float
    scale: str = "linear"
    weight: float = 1.0


@dataclass(frozen=True)
class Profile:
    """One kind of sound playing ``role`` (e.g. a crash for FILL), as weighted terms."""

    name: str
    role: str
    terms: tuple[Term, ...]


def _t(
    feature: str, direction: str, centre: float, width: float, scale: str, weight: float
) -> Term:
    return Term(feature, direction, centre, width, scale, weight)


# Mirrors the YAML file (see the comments there for the reasoning behind each value).
_DEFAULT_PROFILES: tuple[Profile, ...] = (
    Profile(
        "kick",
        "CORE",
        (
            _t("low_band_ratio", "above", 0.6, 0.1, "linear", 3.0),
            _t("low_peak_hz", "below", 85.0, 0.35, "log", 2.0),
            _t("decay_time_ms", "below", 300.0, 0.6, "log", 1.0),
            _t("attack_time_ms", "below", 60.0, 1.0, "log", 1.0),
        ),
    ),
    Profile(
        "backbeat",
        "ACCENT",
        (
            _t("spectral_centroid_hz", "above", 400.0, 0.5, "log", 2.0),
            _t("spectral_centroid_hz", "below", 3500.0, 0.5, "log", 2.0),
            _t("decay_time_ms", "below", 250.0, 0.6, "log", 2.0),
            _t("low_band_ratio", "below", 0.2, 0.1, "linear", 1.0),
            _t("spectral_flatness", "above", 0.25, 0.1, "linear", 1.0),
        ),
    ),
    Profile(
        "hat_shaker",
        "MOTION",
        (
            _t("high_band_ratio", "above", 0.3, 0.1, "linear", 3.0),
            _t("spectral_centroid_hz", "above", 3500.0, 0.5, "log", 2.0),
            _t("decay_time_ms", "below", 700.0, 0.6, "log", 1.0),
            _t("low_band_ratio", "below", 0.2, 0.1, "linear", 1.0),
        ),
    ),
    Profile(
        "ride",
        "MOTION",
        (
            _t("crest_factor_db", "above", 24.0, 2.0, "linear", 2.0),
            _t("sustain_fraction", "below", 0.08, 0.03, "linear", 2.0),
            _t("spectral_centroid_hz", "above", 2500.0, 0.5, "log", 1.0),
            _t("low_band_ratio", "below", 0.05, 0.03, "linear", 1.0),
        ),
    ),
    Profile(
        "tom",
        "FILL",
        (
            _t("low_peak_hz", "above", 85.0, 0.35, "log", 2.0),
            _t("spectral_centroid_hz", "below", 400.0, 0.5, "log", 2.0),
            _t("decay_time_ms", "above", 220.0, 0.6, "log", 2.0),
            _t("high_band_ratio", "below", 0.02, 0.01, "linear", 1.0),
        ),
    ),
    Profile(
        "crash",
        "FILL",
        (
            _t("decay_time_ms", "above", 600.0, 0.5, "log", 2.0),
            _t("spectral_centroid_hz", "above", 1500.0, 0.5, "log", 1.0),
            _t("sustain_fraction", "above", 0.08, 0.03, "linear", 1.0),
            _t("crest_factor_db", "below", 25.0, 2.0, "linear", 1.0),
            _t("low_band_ratio", "below", 0.1, 0.05, "linear", 1.0),
        ),
    ),
    Profile(
        "impact",
        "FILL",
        (
            _t("attack_time_ms", "below", 60.0, 1.0, "log", 1.0),
            _t("decay_time_ms", "above", 300.0, 0.6, "log", 1.0),
            _t("spectral_flatness", "above", 0.6, 0.1, "linear", 1.0),
            _t("high_band_ratio", "below", 0.05, 0.03, "linear", 1.0),
        ),
    ),
    Profile(
        "bed_swell",
        "TEXTURE",
        (
            _t("attack_time_ms", "above", 80.0, 1.0, "log", 2.0),
            _t("sustain_fraction", "above", 0.3, 0.1, "linear", 2.0),
            _t("effective_duration_s", "above", 1.5, 0.6, "log", 1.0),
            _t("crest_factor_db", "below", 15.0, 2.0, "linear", 1.0),
        ),
    ),
)


@dataclass(frozen=True)
class RulesConfig:
    """Config section ``rules``: the softmax temperature and the profiles.

    Attributes
    ----------
    temperature : float
        Softmax temperature over role scores (0-1 each); 0.1 from the YAML's reasoning.
    profiles : tuple[Profile, ...]
        Every role needs at least one.
    """

    temperature: float = 0.1
    profiles: tuple[Profile, ...] = _DEFAULT_PROFILES


@dataclass(frozen=True)
class Condition:
    """``feature op value``, e.g. ``attack_time_ms < 10``; ``op`` one of < <= > >=."""

    feature: str
    op: str
    value: float


@dataclass(frozen=True)
class Guard:
    """Veto ``veto`` roles when every condition in ``when`` holds; ``why`` is for people."""

    name: str
    when: tuple[Condition, ...]
    veto: tuple[str, ...]
    why: str = ""


_DEFAULT_GUARDS: tuple[Guard, ...] = (
    Guard(
        "sharp_short_not_texture",
        (Condition("attack_time_ms", "<", 10.0), Condition("effective_duration_s", "<", 1.0)),
        ("TEXTURE",),
        "a sharp, short hit cannot be a bed",
    ),
    Guard(
        "slow_attack_not_core_or_accent",
        (Condition("attack_time_ms", ">", 100.0),),
        ("CORE", "ACCENT"),
        "a swell cannot carry the downbeat or the backbeat",
    ),
    Guard(
        "long_bed_not_hit",
        (Condition("effective_duration_s", ">", 2.0), Condition("sustain_fraction", ">", 0.5)),
        ("CORE", "ACCENT"),
        "a long, held sound (rain, room tone, drone) is never a kick or a snare",
    ),
    Guard(
        "no_low_end_not_core",
        (Condition("low_band_ratio", "<", 0.1),),
        ("CORE",),
        "a kick has most of its energy below 150 Hz",
    ),
    Guard(
        "no_highs_not_motion",
        (Condition("high_band_ratio", "<", 0.005),),
        ("MOTION",),
        "hats, shakers and rides all have sheen above 5 kHz",
    ),
)


@dataclass(frozen=True)
class FusionConfig:
    """Config section ``fusion`` (read by :mod:`drumgenx.roles.fusion`).

    Attributes
    ----------
    alpha : float
        Base weight of ``p_rule`` against ``p_clap`` (0.9, the seed's value).
    model_weight : float
        Base weight of the learned scorer in the fusion (2.0: the best fused accuracy of
        ``bench/bench_roles.py``'s leave-one-kit-out sweep 0.5-8; the learned scorer is the
        most accurate source on kits it never saw, so it outweighs the rules' 0.9).
    transcriber_weight : float
        Base weight of the drum classes stage 1's transcriber gave the sample's hit (the
        manifest's ``class_probs``, with ``--onset_method transcribe``; mapped to roles by
        :func:`drumgenx.roles.fusion.class_probs_to_roles`). 8.0: the best accuracy of slices
        cut from 0 dB mixes in ``bench/bench_transcriber.py --split validation --roles``'s
        sweep 0-13 (GMD validation beats through the training kits: 0 59.2 %, 3 84.3 %,
        5 86.4 %, 8 87.1 %, 13 87.0 %); the hit's classes come from the mix around it, which
        the slice's own sound (rules, learned scorer) cannot hear past.
    """

    alpha: float = 0.9
    model_weight: float = 2.0
    transcriber_weight: float = 8.0  # bench_transcriber.py --split validation --roles sweep


@dataclass(frozen=True)
class RoleConfig:
    """The whole stage-2 config file ``role_assignment.yaml``.

    Attributes
    ----------
    features : FeatureParams
        DSP analysis settings.
    rules : RulesConfig
        Role profiles and softmax temperature.
    guards : tuple[Guard, ...]
        Vetoes, applied in order.
    fusion : FusionConfig
        Fusion weights.
    """

    features: FeatureParams = field(default_factory=FeatureParams)
    rules: RulesConfig = field(default_factory=RulesConfig)
    guards: tuple[Guard, ...] = _DEFAULT_GUARDS
    fusion: FusionConfig = field(default_factory=FusionConfig)

    def __post_init__(self) -> None:
        for problem in _problems(self):
            raise DrumgenxError(problem)


def _problems(config: RoleConfig) -> list[str]:
    """Every semantic error in ``config``, each naming its key (types are checked on load)."""
    out = []
    features = set(FEATURE_NAMES)
    if not config.rules.temperature > 0:
        out.append(f"rules.temperature: must be > 0, got {config.rules.temperature}")
    for i, profile in enumerate(config.rules.profiles):
        where = f"rules.profiles[{i}] ({profile.name})"
        if profile.role not in ROLES:
            out.append(f"{where}.role: {profile.role!r} is not one of {list(ROLES)}")
        if not profile.terms:
            out.append(f"{where}.terms: needs at least one term")
        for j, term in enumerate(profile.terms):
            at = f"{where}.terms[{j}]"
            if term.feature not in features:
                out.append(f"{at}.feature: unknown feature {term.feature!r}")
            if term.direction not in _DIRECTIONS:
                out.append(f"{at}.direction: {term.direction!r} is not one of {_DIRECTIONS}")
            if term.scale not in _SCALES:
                out.append(f"{at}.scale: {term.scale!r} is not one of {_SCALES}")
            if term.scale == "log" and not term.centre > 0:
                out.append(f"{at}.centre: must be > 0 on a log scale, got {term.centre}")
            if not term.width > 0:
                out.append(f"{at}.width: must be > 0, got {term.width}")
            if not term.weight > 0:
                out.append(f"{at}.weight: must be > 0, got {term.weight}")
    missing = [r for r in ROLES if r not in {p.role for p in config.rules.profiles}]
    if missing:
        out.append(f"rules.profiles: no profile for role(s) {missing}")
    for i, guard in enumerate(config.guards):
        where = f"guards[{i}] ({guard.name})"
        if not guard.when:
            out.append(f"{where}.when: needs at least one condition")
        for j, cond in enumerate(guard.when):
            if cond.feature not in features:
                out.append(f"{where}.when[{j}].feature: unknown feature {cond.feature!r}")
            if cond.op not in _OPS:
                out.append(f"{where}.when[{j}].op: {cond.op!r} is not one of {list(_OPS)}")
        bad = [r for r in guard.veto if r not in ROLES]
        if bad or not guard.veto:
            out.append(f"{where}.veto: needs roles from {list(ROLES)}, got {list(guard.veto)}")
    for key in ("alpha",):
        value = getattr(config.fusion, key)
        if not 0.0 <= value <= 1.0:
            out.append(f"fusion.{key}: must be within 0..1, got {value}")
    for key in ("model_weight", "transcriber_weight"):
        value = getattr(config.fusion, key)
        if not value >= 0:
            out.append(f"fusion.{key}: must be >= 0, got {value}")
    return out


def load_role_config(path: str | Path | None = None) -> RoleConfig:
    """Read the stage-2 config.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A YAML file; only the keys it sets change (lists such as ``rules.profiles`` and
        ``guards`` are replaced whole). None reads :data:`DEFAULT_CONFIG_PATH` when it exists
        in the working directory, else uses the identical built-in defaults.

    Raises
    ------
    DrumgenxError
        Unreadable YAML, an unknown key, a wrong type, or a bad value, naming file and key.
    """
    if path is None:
        path = DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None
    try:
        return load_config(path, RoleConfig)
    except DrumgenxError as exc:
        message = str(exc)
        if path is not None and not message.startswith(str(path)):
            message = f"{path}: {message}"
        raise DrumgenxError(message) from None


def _membership(x: float, term: Term) -> float:
    if term.scale == "log":
        # A zero attack (a hit whose first sample is its peak) is "very short", not an error.
        z = math.log2(max(x, 1e-9 * term.centre) / term.centre) / term.width
    else:
        z = (x - term.centre) / term.width
    z = min(max(z, -60.0), 60.0)  # exp overflow guard; membership is 0 or 1 there anyway
    m = 1.0 / (1.0 + math.exp(-z))
    return m if term.direction == "above" else 1.0 - m


def _check_features(features: dict[str, float]) -> None:
    missing = [name for name in FEATURE_NAMES if name not in features]
    if missing:
        raise DrumgenxError(f"features missing {missing}")


def rule_scores(features: dict[str, float], config: RoleConfig) -> dict[str, float]:
    """Every profile's score (weighted mean membership, 0-1), by profile name."""
    _check_features(features)
    out = {}
    for profile in config.rules.profiles:
        weights = np.array([t.weight for t in profile.terms])
        members = np.array([_membership(float(features[t.feature]), t) for t in profile.terms])
        out[profile.name] = float(np.dot(weights, members) / weights.sum())
    return out


def rule_probabilities(features: dict[str, float], config: RoleConfig) -> np.ndarray:
    """``p_rule``: softmax over roles (in :data:`ROLES` order) of each role's best profile.

    Parameters
    ----------
    features : dict[str, float]
        From :func:`drumgenx.roles.features.extract_features`.
    config : RoleConfig
        Profiles and temperature.

    Returns
    -------
    numpy.ndarray
        Shape ``(5,)``, float64, non-negative, sums to 1. Guards are not applied here.
    """
    scores = rule_scores(features, config)
    best = np.full(len(ROLES), -np.inf)
    for profile in config.rules.profiles:
        i = ROLES.index(profile.role)
        best[i] = max(best[i], scores[profile.name])
    z = best / config.rules.temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def apply_guards(
    features: dict[str, float], probs: np.ndarray, config: RoleConfig
) -> tuple[np.ndarray, list[str]]:
    """Veto unfit roles and renormalise.

    Parameters
    ----------
    features : dict[str, float]
        The sample's features.
    probs : numpy.ndarray
        Probabilities over :data:`ROLES` (any source: rules, fused).
    config : RoleConfig
        The guards, applied in order.

    Returns
    -------
    probs : numpy.ndarray
        Renormalised copy (sums to 1; vetoed roles exactly 0).
    actions : list[str]
        One line per guard that fired, e.g. ``"sharp_short_not_texture: vetoed TEXTURE
        (attack_time_ms=2.1 < 10, effective_duration_s=0.4 < 1)"``, or that was skipped
        because it would have vetoed every remaining role.
    """
    _check_features(features)
    p = np.asarray(probs, dtype=np.float64).copy()
    if p.shape != (len(ROLES),) or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise DrumgenxError(f"probabilities must be {len(ROLES)} non-negative values, got {p}")
    p /= p.sum()
    actions = []
    for guard in config.guards:
        values = [float(features[c.feature]) for c in guard.when]
        if not all(_OPS[c.op](v, c.value) for c, v in zip(guard.when, values, strict=True)):
            continue
        why = ", ".join(
            f"{c.feature}={v:.4g} {c.op} {c.value:g}"
            for c, v in zip(guard.when, values, strict=True)
        )
        vetoed = [r for r in guard.veto if p[ROLES.index(r)] > 0]
        if not vetoed:
            continue
        keep = p.copy()
        for role in vetoed:
            keep[ROLES.index(role)] = 0.0
        if keep.sum() <= 0:
            actions.append(f"{guard.name}: skipped, would veto every remaining role ({why})")
            continue
        p = keep / keep.sum()
        actions.append(f"{guard.name}: vetoed {', '.join(vetoed)} ({why})")
    return p, actions
