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
in the role config the package ships as data (``roles/defaults/role_assignment.yaml``, the
defaults, with the reasoning behind each value; equal to the checkout's
``stage2_role_assignment/configs/role_assignment.yaml``). The dataclasses below are its
schema; `RoleConfig()` is the shipped defaults, and `load_role_config` lays a file over
them (`drumgenx.roles.settings` says which file).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from drumgenx.core.config import Traced, load_config, load_defaults, trace
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES
from drumgenx.roles.feature_params import FEATURE_NAMES, FeatureParams
from drumgenx.roles.settings import SHIPPED_CONFIG_PATH, config_file

__all__ = [
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
    "shipped_role_config",
    "trace_role_config",
]

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
        A name from :data:`drumgenx.roles.feature_params.FEATURE_NAMES`.
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


@dataclass(frozen=True)
class RulesConfig:
    """Config section ``rules``: the softmax temperature and the profiles.

    Attributes
    ----------
    temperature : float
        Softmax temperature over role scores (0-1 each); 0.1 shipped, for the reasons the
        shipped file gives.
    profiles : tuple[Profile, ...]
        Every role needs at least one.
    """

    temperature: float
    profiles: tuple[Profile, ...]


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


@dataclass(frozen=True)
class FusionConfig:
    """Config section ``fusion`` (read by :mod:`drumgenx.roles.fusion`); the shipped values
    and why:

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
        cut from 0 dB mixes in ``bench/bench_transcriber.py --split validation --n 24
        --roles``'s sweep 0-13 (GMD validation beats through the held-out validation kits,
        the guards sparing the heard role: 0 53.7 %, 3 77.2 %, 5 82.1 %, 8 83.7 %, 13
        83.5 %); the hit's classes come from the mix around it, which the slice's own sound
        (rules, learned scorer) cannot hear past.
    spare_heard_above : float
        No guard vetoes the role the transcriber heard when that role holds at least this
        share of the hit's roles (``p_hits``, `roles.fusion.heard_role`): the guards judge
        the slice's whole sound, and a slice cut from a song carries the music under its hit
        (a hat under piano and bass has almost no power above 5 kHz). 0.7: on slices of GMD
        validation beats through the validation kits at 0 dB
        (``bench/bench_transcriber.py --split validation --n 24 --roles``) sparing lifts
        accuracy 80.2 % -> 83.7 % at any value 0-0.8, and from 0.7 up it keeps the guards'
        catches on one-shots (a splash the transcriber takes for a kick: stage 1 -> 2 on the
        non-frozen Debian one-shots, 85.5 % with every guard, 84.0 % sparing at 0, 85.3 % at
        0.7). Above 1: never.
    """

    alpha: float
    model_weight: float
    transcriber_weight: float
    spare_heard_above: float


@dataclass(frozen=True)
class RoleConfig:
    """The whole stage-2 config file ``role_assignment.yaml``.

    A section not given is the shipped file's (`shipped_role_config`): ``RoleConfig()`` is
    the shipped defaults.

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

    features: FeatureParams = field(default_factory=lambda: shipped_role_config().features)
    rules: RulesConfig = field(default_factory=lambda: shipped_role_config().rules)
    guards: tuple[Guard, ...] = field(default_factory=lambda: shipped_role_config().guards)
    fusion: FusionConfig = field(default_factory=lambda: shipped_role_config().fusion)

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
    for key in ("model_weight", "transcriber_weight", "spare_heard_above"):
        value = getattr(config.fusion, key)
        if not value >= 0:
            out.append(f"fusion.{key}: must be >= 0, got {value}")
    return out


_T = TypeVar("_T")


def _naming(path: Path, read: Callable[[], _T]) -> _T:
    """``read()``, its errors naming ``path`` (a bad value is found after the file is read)."""
    try:
        return read()
    except DrumgenxError as exc:
        message = str(exc)
        if not message.startswith(str(path)):
            message = f"{path}: {message}"
        raise DrumgenxError(message) from None


@functools.cache
def shipped_role_config() -> RoleConfig:
    """The defaults the package ships (``roles/defaults/role_assignment.yaml``), read once.

    Raises
    ------
    DrumgenxError
        The package data is missing or damaged (e.g. a section left out), naming the file.
    """
    return _naming(SHIPPED_CONFIG_PATH, lambda: load_defaults(SHIPPED_CONFIG_PATH, RoleConfig))


def trace_role_config(path: str | Path | None = None) -> Traced[RoleConfig]:
    """The role config stage 2 uses, and where each setting came from.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        ``--config``: a file in ``role_assignment.yaml``'s format, laid over the shipped
        defaults (only the keys it sets change; lists such as ``rules.profiles`` and
        ``guards`` are replaced whole). None: the checkout's
        ``stage2_role_assignment/configs/role_assignment.yaml``, found from the package's
        place whatever the working directory, or the shipped defaults alone where there is
        no checkout (`drumgenx.roles.settings.config_file`).

    Returns
    -------
    Traced
        The config; each setting the file changed is attributed to the file.

    Raises
    ------
    DrumgenxError
        Unreadable YAML, an unknown key, a wrong type, or a bad value, naming file and key.
    """
    default = RoleConfig()
    file = config_file(path)
    if file is None:
        return trace(default)
    return trace(default, (str(file), _naming(file, lambda: load_config(file, RoleConfig))))


def load_role_config(path: str | Path | None = None) -> RoleConfig:
    """The role config stage 2 uses: the shipped defaults with ``path`` (or the checkout's
    file) laid over them (`trace_role_config` documents the parameter and the errors)."""
    return trace_role_config(path).config


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
    features: dict[str, float],
    probs: np.ndarray,
    config: RoleConfig,
    *,
    spare: str | None = None,
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
    spare : str, optional
        A role no guard vetoes: stage 2 passes the one the transcriber clearly heard
        (`roles.fusion.heard_role`, `FusionConfig.spare_heard_above`). None (default): every
        guard applies.

    Returns
    -------
    probs : numpy.ndarray
        Renormalised copy (sums to 1; vetoed roles exactly 0).
    actions : list[str]
        One line per guard that fired, e.g. ``"sharp_short_not_texture: vetoed TEXTURE
        (attack_time_ms=2.1 < 10, effective_duration_s=0.4 < 1)"``, that spared ``spare``,
        or that was skipped because it would have vetoed every remaining role.
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
        if spare in guard.veto and p[ROLES.index(spare)] > 0:
            actions.append(f"{guard.name}: spared {spare}, which the transcriber heard ({why})")
        vetoed = [r for r in guard.veto if p[ROLES.index(r)] > 0 and r != spare]
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
