"""The role scorer's trainer: a tiny real run on made-up labelled one-shots writes a scorer that
stage 2 loads, with its settings and leave-one-kit-out scores in ``meta``."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from drumgenx.cli import main
from drumgenx.core.roles import ROLES
from drumgenx.roles.learned import LearnedRoleScorer, role_features

pytest.importorskip("sklearn", reason="training the role scorer needs scikit-learn ([train])")

SR = 44100


def _clip(role: str, rng: np.random.Generator) -> np.ndarray:
    """A one-shot that sounds roughly like ``role``: a low thump, a snap, a tick, a tom, a bed."""
    spec = {  # (seconds, tone Hz or 0 for noise, decay s)
        "CORE": (0.4, 55.0, 0.12),
        "ACCENT": (0.3, 0.0, 0.08),
        "MOTION": (0.15, 0.0, 0.02),
        "FILL": (0.6, 140.0, 0.25),
        "TEXTURE": (2.0, 0.0, 3.0),
    }[role]
    seconds, tone, decay = spec
    t = np.arange(int(seconds * SR)) / SR
    source = np.sin(2 * np.pi * tone * t) if tone else rng.standard_normal(t.size)
    if role == "MOTION":  # bright: a difference of noise
        source = np.diff(source, prepend=0.0)
    y = source * np.exp(-t / decay) * rng.uniform(0.4, 0.9)
    return y.astype(np.float32)


def _labelled(root: Path) -> Path:
    """Three kits, every role twice, as ``labels.csv`` rows under ``root``."""
    rng = np.random.default_rng(0)
    rows = []
    for kit in ("KitA", "KitB", "KitC"):
        for role in ROLES:
            for take in range(2):
                rel = f"kits/{kit}/{role.lower()}_{take}.wav"
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                sf.write(root / rel, _clip(role, rng), SR)
                rows.append(
                    {
                        "path_in_package": rel,
                        "kit": kit,
                        "package": "test",
                        "proposed_class": "fx" if role == "TEXTURE" else "drum",
                        "proposed_role": role,
                        "confidence": "high" if take == 0 else "medium",
                    }
                )
    rows.append({**rows[0], "path_in_package": "kits/none.wav", "confidence": "low"})
    labels = root / "labels.csv"
    with labels.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return labels


def test_drumgenx_train_roles_writes_a_scorer_stage_2_loads(tmp_path: Path, capsys) -> None:
    labels = _labelled(tmp_path / "share")
    out = tmp_path / "scorer.npz"
    argv = ["train", "roles", "--labels", str(labels), "--audio_root", str(tmp_path / "share")]
    argv += ["--out", str(out), "--cache_dir", str(tmp_path / "cache")]
    assert main([*argv, "--n_aug", "1", "--tree_rounds", "3", "--tree_leaves", "3"]) == 0
    shown = capsys.readouterr().out
    assert "30 files, 3 kits" in shown and "leave-one-kit-out, original clips" in shown
    scorer = LearnedRoleScorer.load(out)
    assert scorer.meta["settings"]["n_aug"] == 1 and scorer.meta["seed"] == 0
    assert scorer.meta["config"]["tree_rounds"] == 3
    assert scorer.meta["loko"]["all"]["n"] == 30
    # provenance: the labels file byte for byte, and the calibration fitted on held-out folds
    assert scorer.meta["labels_sha256"] == hashlib.sha256(labels.read_bytes()).hexdigest()
    assert scorer.meta["calibration"]["temperature"] == pytest.approx(scorer.temperature)
    assert scorer.temperature > 0 and scorer.meta["calibration"]["bins"] == 15
    y = _clip("CORE", np.random.default_rng(5)).astype(np.float64)
    proba = scorer.predict_proba_features(role_features(y, sr=SR)[None])
    assert proba.shape == (1, len(ROLES)) and np.isclose(proba.sum(), 1.0)


def test_folds_keep_a_font_and_shared_recordings_together() -> None:
    from drumgenx.training.roles import Row, fold_of

    def row(kit: str) -> Row:
        return Row(Path("x.wav"), kit, "kick", "CORE", "pkg")

    # a font's presets share samples; MuseScore_General's kits are FluidR3_GM's samples
    assert fold_of(row("sf:FluidR3_GM:128-000")) == fold_of(row("sf:FluidR3_GM:128-025"))
    assert fold_of(row("sf:MuseScore_General:128-008")) == fold_of(row("sf:FluidR3_GM:128-000"))
    assert fold_of(row("The Black Pearl 1.0")) == fold_of(row("GMRockKit"))
    assert fold_of(row("sf:sf_GMbank:128-000")) != fold_of(row("sf:FluidR3_GM:128-000"))
    assert fold_of(row("sonic-pi")) == "sonic-pi"


def test_a_missing_labelled_file_is_one_line(tmp_path: Path, capsys) -> None:
    labels = _labelled(tmp_path / "share")
    argv = ["train", "roles", "--labels", str(labels), "--out", str(tmp_path / "s.npz")]
    assert main([*argv, "--audio_root", str(tmp_path / "elsewhere")]) == 2
    err = capsys.readouterr().err
    assert "30 labelled one-shot(s) missing" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s.npz").exists()
