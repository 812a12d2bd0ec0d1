"""Train the learned role scorer (``src/drumgenx/roles/weights/role_scorer.npz``).

Data: the labelled Debian one-shots (``labels.csv``, confidence high or medium, role set:
670 files in 19 kits, 588 in 17 without the frozen test group), installed under
``/usr/share`` (``bench/setup_bench_venv.sh`` installs the packages). Every file gives its
original plus ``n_aug`` augmented copies (resampled to 22.05/44.1/48 kHz, a gentle random EQ
tilt, low-level noise, sometimes a shortened tail with a fade): what a slicer hands stage 2
from another kit or another recording chain.

Model: a logistic regression (on standardised features) and gradient-boosted trees, both
from scikit-learn, exported to the package's numpy format (:class:`TreeEnsemble`).

Model selection: leave-one-family-out cross-validation (:func:`fold_of`: a SoundFont's
presets, a Debian kit or a found-sound package, sources that share recordings merged; a
fold's velocity layers and augmented copies are always on one side), on the *original*
clips of the held-out fold only; the logistic member's ``c`` and the trees' share in the
average with the best macro-F1 (:data:`C_GRID` x :data:`TREE_WEIGHTS`) is then retrained on
every training row and written, with its table in the file's ``meta``. (On ``labels.csv``
alone every fold is one kit: the old leave-one-kit-out.)

Calibration (:func:`calibrate`): the held-out probabilities are fused with the rules as
stage 2 does (shipped role config, no CLAP) and one temperature is fitted to them
(`roles.calibration`); it is stored with the weights and applied by stage 2.

Issue #15's weights: ``drumgenx train roles --labels role_data/role_labels.csv --n_aug 2``
on the role data of ``drumgenx train role-data`` (the labels CSV's SHA-256 is in ``meta``;
2 augmented copies, not 4: 5,696 files already vary by velocity and kit, and it keeps a
run near ten minutes on one core).

Run (seeded; the same command rewrites the same weights; defaults:
`training.settings.RoleTrainSettings`, the shipped weights' settings)::

    .venv/bin/pip install -e '.[train]'   # scikit-learn, training only
    drumgenx train roles --out src/drumgenx/roles/weights/role_scorer.npz

Frozen test group (issue #15): the rows of `training.role_data`'s frozen group (TimGM6mb,
BJA_Pacific, TR808EmulationKit, frozen-bubble-data) are never trained or chosen on:
:func:`train_role_scorer` leaves them out before anything is computed, and :func:`select_config`
and the final fit refuse them (:func:`refuse_frozen`). The shipped weights were trained before
that group was set, BJA_Pacific and TR808EmulationKit included, so today's command no longer
rewrites them byte for byte. ``--labels`` also reads the labels CSV of ``drumgenx train
role-data`` (its ``group`` column marks the frozen rows).

Inference in the package is numpy only. ``bench/bench_roles.py`` measures with
:func:`load_rows`, :func:`extract`, :func:`loko` and :func:`report`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from drumgenx.core.audio import read_audio
from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES
from drumgenx.roles.learned import (
    FEATURE_VERSION,
    LearnedRoleScorer,
    TreeEnsemble,
    role_features,
    save_scorer,
)
from drumgenx.roles.rules import RoleConfig
from drumgenx.training.flags import settings_from
from drumgenx.training.kits import LABELS_CSV, SHARE
from drumgenx.training.role_data import CONFIDENT, labelled_one_shots, role_group
from drumgenx.training.settings import RoleTrainSettings, command_line, default_cache_dir

AUDIO_ROOT = SHARE
"""Where ``labels.csv``'s ``path_in_package`` paths are found (the Debian packages)."""
# "Found sounds" in the sense: not drum-kit hits (fx impacts, ambiences, drones,
# hand percussion such as shakers and tambourines).
FOUND_CLASSES = {"fx", "other", "percussion"}


@dataclass(frozen=True)
class Row:
    path: Path
    kit: str
    cls: str
    role: str
    package: str
    group: str = "train"
    """``"train"`` or ``"frozen"`` (`training.role_data.role_group`)."""


def load_rows(labels: Path | None = None, *, audio_root: Path = AUDIO_ROOT) -> list[Row]:
    """Labelled rows of ``labels``, confidence high or medium and a role, each with its group.

    Parameters
    ----------
    labels : Path, optional
        A ``labels.csv`` (default: the ``../shared`` checkout's; its paths are under
        ``audio_root``) or the labels CSV of ``drumgenx train role-data`` (recognised by its
        ``group`` column; relative paths are under the CSV's folder).
    audio_root : Path
        Where a ``labels.csv``'s ``path_in_package`` paths are.
    """
    labels = Path(labels or LABELS_CSV)
    with open(labels, newline="") as f:
        header = next(csv.reader(f), [])
    if "group" not in header:
        return [
            Row(
                Path(audio_root) / r["path_in_package"],
                r["kit"],
                r["proposed_class"],
                r["proposed_role"],
                r["package"],
                role_group(debian_kit=r["kit"]),
            )
            for r in labelled_one_shots(labels)
        ]
    with open(labels, newline="") as f:
        return [
            Row(
                labels.parent / r["path"], r["kit"], r["class"], r["role"], r["package"], r["group"]
            )
            for r in csv.DictReader(f)
            if r["confidence"] in CONFIDENT and r["role"]
        ]


AVL = "AVL Drumkits"
FAMILIES: dict[str, str] = {
    "sf:FluidR3_GM": "Fluid",
    "sf:MuseScore_General": "Fluid",
    "GMRockKit": AVL,
    "The Black Pearl 1.0": AVL,
    "sf:Black_Pearl_4_LV2": AVL,
    "sf:Red_Zeppelin_4_LV2": AVL,
}
"""Sources that share recordings, so one fold: MuseScore_General's drum kits are FluidR3_GM's
samples (rendered keys correlate at 0.985-1.0); hydrogen's "The Black Pearl 1.0" is 81 of 86
byte-identical copies of GMRockKit, and x42's two avldrums fonts share samples with each other
(correlation 1.0) and with those two (up to 0.99): all Glen MacArthur's AVL Drumkits."""


def fold_of(row: Row) -> str:
    """The leave-one-out fold of ``row``: its SoundFont font (a font's numbered presets share
    samples, so all of them), its Debian kit or its found-sound package, merged by
    :data:`FAMILIES` where sources share recordings."""
    key = ":".join(row.kit.split(":")[:2]) if row.kit.startswith("sf:") else row.kit
    return FAMILIES.get(key, key)


def refuse_frozen(rows: list[Row], what: str) -> None:
    """Raise `DrumgenxError` if any of ``rows`` belongs to the frozen test group."""
    frozen = sorted({r.kit for r in rows if r.group == "frozen"})
    if frozen:
        raise DrumgenxError(
            f"refusing to {what} on the frozen test group ({', '.join(frozen)}): it is kept "
            "for the final report only (training.role_data)"
        )


def is_found(row: Row) -> bool:
    return row.cls in FOUND_CLASSES or row.role == "TEXTURE"


def augment(y: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
    """One random variant of a mono clip: another rate, EQ tilt, noise floor, shorter tail."""
    import soxr
    from scipy.signal import lfilter

    new_sr = int(rng.choice([22050, 44100, 48000]))
    x = y if new_sr == sr else np.asarray(soxr.resample(y, sr, new_sr, quality="HQ"))
    # EQ tilt: add or subtract a one-pole high-passed copy (about +-3 dB above 2 kHz): other
    # microphones, other processing.
    a = np.exp(-2 * np.pi * 2000.0 / new_sr)
    hp = x - lfilter([1 - a], [1, -a], x)
    x = x + rng.uniform(-0.4, 0.4) * hp
    # Shortened tail (a slicer cutting at the next hit), never below 80 ms.
    if rng.random() < 0.3 and x.size > int(0.16 * new_sr):
        n = max(int(0.08 * new_sr), int(x.size * rng.uniform(0.4, 1.0)))
        x = x[:n].copy()
        fade = min(n, int(0.01 * new_sr))
        x[-fade:] *= np.linspace(1.0, 0.0, fade)
    peak = float(np.abs(x).max()) or 1.0
    # Noise floor -75..-45 dB under the peak, plus 0-30 ms of it before the hit.
    pre = np.zeros(int(rng.uniform(0, 0.03) * new_sr))
    x = np.concatenate([pre, x])
    x = x + rng.standard_normal(x.size) * peak * 10 ** (rng.uniform(-75, -45) / 20)
    return x * 10 ** (rng.uniform(-20, 0) / 20), new_sr


def extract(rows: list[Row], *, n_aug: int, seed: int, cache_dir: Path | None = None) -> np.ndarray:
    """Features ``(len(rows), 1 + n_aug, F)`` (original first), cached as ``.npy`` in
    ``cache_dir`` (default ``default_cache_dir() / "roles"``)."""
    key = hashlib.sha256(
        json.dumps([FEATURE_VERSION, n_aug, seed, [str(r.path) for r in rows]]).encode()
    ).hexdigest()[:16]
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir() / "roles"
    cache = cache_dir / f"feats_{key}.npy"
    if cache.is_file():
        return np.load(cache)
    out = []
    for i, row in enumerate(rows):
        y, sr = read_audio(row.path)
        y = y.mean(axis=1).astype(np.float64)
        rng = np.random.default_rng([seed, i])
        feats = [role_features(y, sr=sr)]
        for _ in range(n_aug):
            ya, sra = augment(y, sr, rng)
            feats.append(role_features(ya, sr=sra))
        out.append(np.stack(feats))
    arr = np.stack(out)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temp = cache.with_name(f".{cache.name}.tmp.npy")
    np.save(temp, arr)
    temp.replace(cache)
    return arr


@dataclass(frozen=True)
class Config:
    """One scorer's hyperparameters (the grid searches ``c`` and ``tree_weight`` on
    leave-one-kit-out; the trees' are `RoleTrainSettings`')."""

    c: float = 0.03
    """Inverse L2 strength of the logistic regression (strong: kits differ more than hits)."""
    tree_rounds: int = RoleTrainSettings.tree_rounds
    """Boosting rounds (one tree per role each)."""
    tree_leaves: int = RoleTrainSettings.tree_leaves
    tree_lr: float = RoleTrainSettings.tree_lr
    tree_weight: float = 0.5
    """Share of the trees in the scorer's average; 0 trains no trees."""

    @classmethod
    def of(cls, settings: RoleTrainSettings, **chosen: float) -> Config:
        """The trees' settings of ``settings`` with the grid's ``chosen`` values."""
        return cls(
            tree_rounds=settings.tree_rounds,
            tree_leaves=settings.tree_leaves,
            tree_lr=settings.tree_lr,
            **chosen,
        )


def train(x: np.ndarray, y: np.ndarray, cfg: Config, *, seed: int) -> LearnedRoleScorer:
    """Fit the logistic member and the boosted trees on features ``x (n, F)``, roles ``y``.

    The logistic member weights classes by inverse frequency ("balanced"): TEXTURE has ~24
    files against 250 MOTION, and a user's library is not the Debian kits' mix. The trees are
    unweighted: weighted, scikit-learn 1.9 bins features by weighted percentiles, 20x slower,
    and leave-one-kit-out scored no better.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    if set(np.unique(y)) != set(range(len(ROLES))):
        raise ValueError("every role needs training examples")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale < 1e-6, 1.0, scale)  # constant features (never seen varying)
    logistic = LogisticRegression(C=cfg.c, class_weight="balanced", max_iter=5000)
    logistic.fit((x - mean) / scale, y)
    member = ((logistic.coef_.T.astype(np.float64), logistic.intercept_.astype(np.float64)),)
    trees = None
    if cfg.tree_weight > 0:
        boosted = HistGradientBoostingClassifier(
            max_iter=cfg.tree_rounds,
            learning_rate=cfg.tree_lr,
            max_leaf_nodes=cfg.tree_leaves,
            early_stopping=False,
            random_state=seed,
        )
        boosted.fit(x, y)
        trees = export_trees(boosted)
    return LearnedRoleScorer(
        members=(member,), mean=mean, scale=scale, trees=trees, tree_weight=cfg.tree_weight
    )


def export_trees(model) -> TreeEnsemble:
    """Flatten a fitted scikit-learn ``HistGradientBoostingClassifier`` into node arrays."""
    feature, threshold, left, right, value, roots, tree_role = [], [], [], [], [], [], []
    offset = 0
    for round_trees in model._predictors:
        for role, predictor in enumerate(round_trees):
            nodes = predictor.nodes
            leaf = nodes["is_leaf"].astype(bool)
            feature.append(np.where(leaf, -1, nodes["feature_idx"]).astype(np.int32))
            threshold.append(nodes["num_threshold"].astype(np.float64))
            left.append(np.where(leaf, 0, nodes["left"] + offset).astype(np.int32))
            right.append(np.where(leaf, 0, nodes["right"] + offset).astype(np.int32))
            value.append(np.where(leaf, nodes["value"], 0.0).astype(np.float64))
            roots.append(offset)
            tree_role.append(role)
            offset += len(nodes)
    return TreeEnsemble(
        feature=np.concatenate(feature),
        threshold=np.concatenate(threshold),
        left=np.concatenate(left),
        right=np.concatenate(right),
        value=np.concatenate(value),
        roots=np.asarray(roots, dtype=np.int32),
        tree_role=np.asarray(tree_role, dtype=np.int32),
        baseline=np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1),
    )


def metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    k = len(ROLES)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true, y_pred), 1)
    f1 = []
    for c in range(k):
        tp = cm[c, c]
        p = tp / cm[:, c].sum() if cm[:, c].sum() else 0.0
        r = tp / cm[c, :].sum() if cm[c, :].sum() else 0.0
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    return {
        "n": int(y_true.size),
        "accuracy": float((y_true == y_pred).mean()) if y_true.size else float("nan"),
        # macro-F1 over the roles present in the labels: a subset without TEXTURE (e.g. kit
        # hits) must not count TEXTURE's undefined F1 as 0.
        "macro_f1": float(np.mean([f1[c] for c in range(k) if cm[c, :].sum() > 0])),
        "f1": [float(v) for v in f1],
        "confusion": cm.tolist(),
    }


def loko_parts(
    feats: np.ndarray, rows: list[Row], cfg: Config, *, seed: int, cs: tuple[float, ...] = ()
) -> tuple[dict[float, np.ndarray], np.ndarray]:
    """Leave-one-kit-out probabilities of every original clip, ``(n, 5)`` each: the logistic
    member's for ``cfg.c`` and each of ``cs``, and the trees' (so any ``c`` and
    ``tree_weight`` of the grid can be scored from one set of folds)."""
    y = np.array([ROLES.index(r.role) for r in rows])
    kits = np.array([fold_of(r) for r in rows])
    cs = tuple(dict.fromkeys((cfg.c, *cs)))
    p_linear = {c: np.zeros((len(rows), len(ROLES))) for c in cs}
    p_trees = np.zeros((len(rows), len(ROLES)))
    for kit in sorted(set(kits)):
        test = kits == kit
        xtr = feats[~test].reshape(-1, feats.shape[-1])
        ytr = np.repeat(y[~test], feats.shape[1])
        for i, c in enumerate(cs):
            # the trees do not depend on c: train them with the first only
            model = train(xtr, ytr, replace(cfg, c=c, tree_weight=float(i == 0)), seed=seed)
            linear = LearnedRoleScorer(members=model.members, mean=model.mean, scale=model.scale)
            p_linear[c][test] = linear.predict_proba_features(feats[test, 0])
            if i == 0:
                p_trees[test] = model.predict_proba_features(feats[test, 0])
    return p_linear, p_trees


def loko(feats: np.ndarray, rows: list[Row], cfg: Config, *, seed: int) -> np.ndarray:
    """Leave-one-kit-out probabilities of the scorer ``cfg`` trains, ``(n, 5)``."""
    p_linear, p_trees = loko_parts(feats, rows, cfg, seed=seed)
    return (1.0 - cfg.tree_weight) * p_linear[cfg.c] + cfg.tree_weight * p_trees


def report(proba: np.ndarray, rows: list[Row]) -> tuple[str, dict]:
    """The LOKO table (text) and its numbers."""
    y = np.array([ROLES.index(r.role) for r in rows])
    pred = proba.argmax(axis=1)
    found = np.array([is_found(r) for r in rows])
    res = {
        "all": metrics(y, pred),
        "drum_kit_hits": metrics(y[~found], pred[~found]),
        "found_sounds": metrics(y[found], pred[found]),
    }
    lines = [
        f"{'subset':<16}{'n':>5}{'accuracy':>10}{'macro-F1':>10}",
    ]
    for name, m in res.items():
        lines.append(f"{name:<16}{m['n']:>5}{m['accuracy']:>10.3f}{m['macro_f1']:>10.3f}")
    lines.append("")
    lines.append("confusion (rows: label, columns: predicted), all rows")
    lines.append(" " * 9 + "".join(f"{r:>8}" for r in ROLES) + f"{'F1':>8}")
    for i, r in enumerate(ROLES):
        cm_row = res["all"]["confusion"][i]
        lines.append(
            f"{r:<9}" + "".join(f"{v:>8}" for v in cm_row) + f"{res['all']['f1'][i]:>8.3f}"
        )
    lines.append("")
    lines.append("found sounds by class (accuracy)")
    classes = sorted({r.cls for r, f in zip(rows, found, strict=True) if f})
    for c in classes:
        sel = np.array([r.cls == c for r in rows]) & found
        acc = float((pred[sel] == y[sel]).mean())
        lines.append(f"  {c:<12}{int(sel.sum()):>4}{acc:>8.3f}")
    lines.append("")
    lines.append("per kit (accuracy)")
    kits = sorted({r.kit for r in rows})
    for k in kits:
        sel = np.array([r.kit == k for r in rows])
        lines.append(f"  {k:<26}{int(sel.sum()):>4}{float((pred[sel] == y[sel]).mean()):>8.3f}")
    wrong = [
        f"  {r.kit}/{r.path.name} [{r.cls}] {r.role} -> {ROLES[p]}"
        for r, p, t in zip(rows, pred, y, strict=True)
        if p != t and is_found(r)
    ]
    if wrong:
        lines.append("")
        lines.append("found sounds misclassified")
        lines += wrong
    return "\n".join(lines), res


def rule_scores(rows: list[Row], config: RoleConfig) -> tuple[list[dict[str, float]], np.ndarray]:
    """Stage 2's 11 DSP features of each row's file and the rules' probabilities ``(n, 5)``."""
    from drumgenx.roles.features import extract_features
    from drumgenx.roles.rules import rule_probabilities

    dsp = []
    for row in rows:
        y, sr = read_audio(row.path)
        dsp.append(extract_features(y.mean(axis=1), sr=sr, params=config.features))
    return dsp, np.array([rule_probabilities(f, config) for f in dsp])


def fuse_rows(
    dsp: list[dict[str, float]],
    p_rule: np.ndarray,
    p_model: np.ndarray,
    config: RoleConfig,
    *,
    model_weight: float | None = None,
    temperature: float = 1.0,
    p_clap: np.ndarray | None = None,
) -> np.ndarray:
    """What ``drumgenx roles`` makes of the rules and the learned scorer (and CLAP's
    ``p_clap (n, 5)`` when given): fused (`roles.fusion.fuse`, ``model_weight`` default the
    config's), guarded, then calibrated by ``temperature`` (`roles.calibration.temper`)."""
    from drumgenx.roles.calibration import temper
    from drumgenx.roles.fusion import fuse
    from drumgenx.roles.rules import apply_guards

    weight = config.fusion.model_weight if model_weight is None else model_weight
    out = np.zeros_like(p_model)
    for i, features in enumerate(dsp):
        p, _ = fuse(
            p_rule=p_rule[i],
            p_clap=None if p_clap is None else p_clap[i],
            p_model=p_model[i],
            alpha=config.fusion.alpha,
            model_weight=weight,
        )
        out[i], _ = apply_guards(features, p, config)
    return temper(out, temperature)


def calibrate(
    rows: list[Row], proba: np.ndarray, *, log: Log = silent
) -> tuple[float, dict[str, float]]:
    """The temperature of the fused distribution, fitted on leave-one-out predictions.

    ``proba`` are the learned scorer's held-out probabilities of ``rows``; they are fused
    with the rules as stage 2 does (the shipped role config, no CLAP), and the temperature
    minimising their negative log-likelihood (`roles.calibration.fit_temperature`) is
    returned with the fused ECE (15 bins) before and after.
    """
    from drumgenx.roles.calibration import expected_calibration_error, fit_temperature
    from drumgenx.roles.rules import load_role_config

    refuse_frozen(rows, "calibrate")
    config = load_role_config(None)
    dsp, p_rule = rule_scores(rows, config)
    fused = fuse_rows(dsp, p_rule, proba, config)
    y = np.array([ROLES.index(r.role) for r in rows])
    temperature = fit_temperature(fused, y)
    calibrated = fuse_rows(dsp, p_rule, proba, config, temperature=temperature)
    ece = {
        name: expected_calibration_error(p.max(axis=1), p.argmax(axis=1) == y)
        for name, p in (("ece_before", fused), ("ece_after", calibrated))
    }
    log(
        f"calibration: temperature {temperature:.3f}, fused leave-one-out ECE (15 bins) "
        f"{ece['ece_before']:.3f} -> {ece['ece_after']:.3f}"
    )
    return temperature, ece


TREE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
C_GRID = (0.03, 0.1, 0.3)
"""The grid: the logistic member's ``c`` and the trees' share in the average, scored on the
same leave-one-kit-out folds."""
TIE = 0.005
"""Macro-F1 within this of the best is a tie; ties go to the earlier configuration of the
grid (fewer trees, stronger regularisation)."""

Log = Callable[[str], None]


def select_config(
    feats: np.ndarray,
    rows: list[Row],
    settings: RoleTrainSettings | None = None,
    *,
    log: Log = silent,
) -> tuple[Config, np.ndarray]:
    """The grid's configuration with the best leave-one-kit-out macro-F1, and its LOKO
    probabilities ``(n, 5)`` of the original clips."""
    refuse_frozen(rows, "choose a configuration")
    settings = settings or RoleTrainSettings()
    t0 = time.perf_counter()
    p_linear, p_trees = loko_parts(feats, rows, Config.of(settings), seed=settings.seed, cs=C_GRID)
    log(f"leave-one-kit-out: {time.perf_counter() - t0:.0f} s")
    results = []
    for weight in TREE_WEIGHTS:
        for c in C_GRID if weight < 1.0 else C_GRID[:1]:  # trees alone: c plays no part
            proba = (1.0 - weight) * p_linear[c] + weight * p_trees
            _, res = report(proba, rows)
            cfg = Config.of(settings, c=c, tree_weight=weight)
            results.append((res["all"]["macro_f1"], cfg, proba))
            log(
                f"  c {c:<5g} tree_weight {weight:.2f}: acc {res['all']['accuracy']:.3f} "
                f"macro-F1 {res['all']['macro_f1']:.3f} "
                f"found {res['found_sounds']['accuracy']:.3f}"
            )
    best_f1 = max(r[0] for r in results)
    _, cfg, proba = next(r for r in results if r[0] >= best_f1 - TIE)
    return cfg, proba


def train_role_scorer(
    *,
    out: Path,
    settings: RoleTrainSettings | None = None,
    labels: Path | None = None,
    audio_root: Path = AUDIO_ROOT,
    cache_dir: Path | None = None,
    log: Log = silent,
) -> LearnedRoleScorer:
    """Choose the scorer on leave-one-kit-out, retrain it on every row, write it to ``out``.

    Parameters
    ----------
    out : Path
        The ``.npz`` written (`roles.learned.save_scorer`; replaced if it exists).
    settings : RoleTrainSettings
        Seed, augmentation and the trees' settings (default: the shipped weights').
    labels : Path, optional
        ``labels.csv`` (default: the ``../shared`` checkout's, `training.kits.LABELS_CSV`).
    audio_root : Path
        Where its ``path_in_package`` paths are found (default ``/usr/share``).
    cache_dir : Path, optional
        Where the features are cached (see :func:`extract`).
    log : callable
        Called with each line of the training log and the LOKO table.

    Raises
    ------
    DrumgenxError
        ``labels`` is missing, a labelled file is missing, or fewer than two kits are
        labelled.
    """
    settings = settings or RoleTrainSettings()
    labels = Path(labels or LABELS_CSV)
    if not labels.is_file():
        raise DrumgenxError(f"{labels}: no such labels file (the ../shared checkout)")
    rows = load_rows(labels, audio_root=audio_root)
    n_frozen = sum(r.group == "frozen" for r in rows)
    rows = [r for r in rows if r.group != "frozen"]
    log(f"{n_frozen} rows of the frozen test group left out (never trained or chosen on)")
    missing = [r.path for r in rows if not r.path.is_file()]
    if missing:
        raise DrumgenxError(
            f"{len(missing)} labelled one-shot(s) missing, e.g. {missing[0]}: apt-get install "
            "hydrogen-data hydrogen-drumkits (or pass the folder they are under)"
        )
    n_kits = len({fold_of(r) for r in rows})
    if n_kits < 2:
        raise DrumgenxError(f"{labels}: leave-one-kit-out needs 2 kits or more, found {n_kits}")
    t0 = time.perf_counter()
    feats = extract(rows, n_aug=settings.n_aug, seed=settings.seed, cache_dir=cache_dir)
    log(
        f"{len(rows)} files, {n_kits} kits, features {feats.shape} "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    cfg, proba = select_config(feats, rows, settings, log=log)
    text, res = report(proba, rows)
    log(f"\nchosen: {cfg}\n\nleave-one-kit-out, original clips:\n{text}")
    temperature, ece = calibrate(rows, proba, log=log)
    refuse_frozen(rows, "train")
    y = np.array([ROLES.index(r.role) for r in rows])
    model = train(
        feats.reshape(-1, feats.shape[-1]), np.repeat(y, feats.shape[1]), cfg, seed=settings.seed
    )
    meta = {
        "command": command_line(),
        "date": _dt.date.today().isoformat(),
        "data": f"{labels.name} confidence high|medium with role, frozen test group left "
        f"out: {len(rows)} files, {n_kits} folds, n_aug={settings.n_aug}",
        # which file, byte for byte: the labels CSV names every training file's origin
        "labels_sha256": hashlib.sha256(labels.read_bytes()).hexdigest(),
        "folds": "leave-one-family-out (training.roles.fold_of)",
        "calibration": {"temperature": temperature, **ece, "bins": 15},
        "config": asdict(cfg),
        "settings": asdict(settings),
        "seed": settings.seed,
        "loko": {k: {kk: v[kk] for kk in ("n", "accuracy", "macro_f1")} for k, v in res.items()},
        "loko_confusion": res["all"]["confusion"],
    }
    model = replace(model, meta=meta, temperature=temperature)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_scorer(out, model)
    log(f"\nwrote {out} ({out.stat().st_size / 1024:.0f} kB, {model.n_params} params)")
    return model


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train roles`` (flags: `training.flags`)."""
    settings = settings_from(args, RoleTrainSettings)
    labels = args.labels or os.environ.get("DRUMGENX_ONESHOT_LABELS")
    train_role_scorer(
        out=Path(args.out),
        settings=settings,
        labels=Path(labels) if labels else None,
        audio_root=Path(args.audio_root),
        cache_dir=Path(args.cache_dir) if args.cache_dir else None,
        log=_print,
    )
    print(f"[DONE] role scorer trained: {args.out}")


def _print(message: str) -> None:
    print(message, flush=True)
