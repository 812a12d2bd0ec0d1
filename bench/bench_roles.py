"""Stage-2 role accuracy: rules alone, learned alone, and fused, side by side in one run.

Usage (by hand, never by CI; needs ../shared and the Debian kits, see bench/ONSETS.md)::

    .venv/bin/python bench/bench_roles.py

On the 670 labelled Debian one-shots (confidence high/medium, role set). The learned
scorer's probabilities are leave-one-kit-out (a model trained without the clip's kit, with
the shipped settings); the rules have no training. Fused = `roles.fusion.fuse` of the two
(CLAP weights are not available here) with the shipped config, then the guards: what
`drumgenx roles` does. "Found sounds": class fx/other/percussion or role TEXTURE.

Baseline on the role data of issue #15 (``drumgenx train role-data --out role_data``)::

    .venv/bin/python bench/bench_roles.py --role-data role_data

measures the SHIPPED scorer as it is (no retraining, no tuning, nothing chosen): learned
alone and fused, on (a) the SoundFont kits outside the frozen group, (b) each member of the
frozen test group (`training.role_data`), (c) the found sounds outside it; confusion
matrices of the fused roles. The frozen group is reported here once, as the baseline.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from drumgenx.core.audio import read_audio
from drumgenx.core.roles import ROLES
from drumgenx.roles.features import extract_features
from drumgenx.roles.fusion import fuse
from drumgenx.roles.learned import LearnedRoleScorer
from drumgenx.roles.rules import apply_guards, load_role_config, rule_probabilities
from drumgenx.training import roles as trs  # the trainer's data and leave-one-kit-out
from drumgenx.training.role_data import FROZEN_KINDS, LABELS_NAME
from drumgenx.training.settings import RoleTrainSettings


def rule_scores(rows: list[trs.Row], config) -> tuple[list, np.ndarray]:
    """Stage 2's DSP features of each row's file and the rules' probabilities."""
    dsp = []
    for row in rows:
        y, sr = read_audio(row.path)
        dsp.append(extract_features(y.mean(axis=1), sr=sr, params=config.features))
    return dsp, np.array([rule_probabilities(f, config) for f in dsp])


def fused(dsp: list, p_rule: np.ndarray, p_model: np.ndarray, config, model_weight: float):
    """Rules and learned scorer fused (no CLAP), then the guards: `drumgenx roles`."""
    out = np.zeros_like(p_model)
    for i, features in enumerate(dsp):
        p, _ = fuse(
            p_rule=p_rule[i],
            p_clap=None,
            p_model=p_model[i],
            alpha=config.fusion.alpha,
            model_weight=model_weight,
        )
        out[i], _ = apply_guards(features, p, config)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role-data", type=Path, help="a drumgenx train role-data folder")
    args = parser.parse_args()
    if args.role_data is not None:
        return baseline(args.role_data)
    missing = [r.path for r in trs.load_rows() if not r.path.is_file()]
    rows = [r for r in trs.load_rows() if r.path.is_file()]
    if not rows:
        print("SKIP: the Debian one-shots are not installed (see bench/setup_bench_venv.sh)")
        return 0
    config = load_role_config(None)
    scorer = LearnedRoleScorer.load()
    cfg = trs.Config(**scorer.meta["config"])
    seed = int(scorer.meta["seed"])
    feats = trs.extract(rows, n_aug=RoleTrainSettings().n_aug, seed=seed)
    p_model = trs.loko(feats, rows, cfg, seed=seed)
    dsp, p_rule = rule_scores(rows, config)
    p_fused = fused(dsp, p_rule, p_model, config, config.fusion.model_weight)
    print(f"{len(rows)} labelled one-shots ({len(missing)} missing); roles {', '.join(ROLES)}")
    for title, proba in (
        ("rules alone", p_rule),
        ("learned alone (leave-one-kit-out)", p_model),
        (
            f"fused: alpha {config.fusion.alpha}, model_weight {config.fusion.model_weight}, "
            "no CLAP, guards",
            p_fused,
        ),
    ):
        text, _ = trs.report(proba, rows)
        print(f"\n=== {title}\n{text.split('per kit')[0].rstrip()}")
    # A choice: never on the frozen test group (training.role_data).
    tune = np.array([r.group != "frozen" for r in rows])
    tune_rows = [r for r, t in zip(rows, tune, strict=True) if t]
    print(
        "\n=== fusion.model_weight (the config's value is chosen from this sweep; "
        f"{len(tune_rows)} rows, the frozen test group left out)"
    )
    for weight in MODEL_WEIGHTS:
        proba = fused(dsp, p_rule, p_model, config, weight)[tune]
        _, res = trs.report(proba, tune_rows)
        print(
            f"  {weight:4g}: accuracy {res['all']['accuracy']:.3f} "
            f"macro-F1 {res['all']['macro_f1']:.3f} found {res['found_sounds']['accuracy']:.3f}"
        )
    return 0


MODEL_WEIGHTS = (0.5, 1.0, 2.0, 4.0, 8.0)


def _member(row: trs.Row) -> str:
    """The frozen group's member a row belongs to: font family, Debian kit or package."""
    if row.cls == "found":
        return row.package
    return row.kit.split(":")[1] if row.kit.startswith("sf:") else row.kit


def _source(row: trs.Row) -> str:
    return "found" if row.cls == "found" else "soundfont" if row.kit.startswith("sf:") else "debian"


def _confusion(title: str, m: dict) -> list[str]:
    lines = [f"\n{title}: confusion (rows: label, columns: predicted)"]
    lines.append(" " * 9 + "".join(f"{r:>8}" for r in ROLES) + f"{'F1':>8}")
    for i, role in enumerate(ROLES):
        cells = "".join(f"{v:>8}" for v in m["confusion"][i])
        lines.append(f"{role:<9}{cells}{m['f1'][i]:>8.3f}")
    return lines


def baseline(folder: Path) -> int:
    """The shipped scorer on a role-data folder: nothing retrained, tuned or chosen."""
    labels = folder / LABELS_NAME
    if not labels.is_file():
        print(f"SKIP: {labels} missing (drumgenx train role-data --out {folder})")
        return 0
    rows = [r for r in trs.load_rows(labels) if r.path.is_file()]
    subsets: dict[str, np.ndarray] = {
        "(a) SoundFont kits, not frozen": np.array(
            [_source(r) == "soundfont" and r.group == "train" for r in rows]
        ),
    }
    for member, kind in FROZEN_KINDS.items():
        seen = " [in the shipped scorer's training]" if _source_of(member, rows) == "debian" else ""
        subsets[f"(b) frozen {kind}: {member}{seen}"] = np.array(
            [r.group == "frozen" and _member(r) == member for r in rows]
        )
    subsets["(c) found sounds, not frozen"] = np.array(
        [_source(r) == "found" and r.group == "train" for r in rows]
    )
    keep = np.any(list(subsets.values()), axis=0)
    rows = [r for r, k in zip(rows, keep, strict=True) if k]
    subsets = {name: sel[keep] for name, sel in subsets.items()}
    config = load_role_config(None)
    scorer = LearnedRoleScorer.load()
    feats = trs.extract(rows, n_aug=0, seed=0)
    p_model = scorer.predict_proba_features(feats[:, 0])
    dsp, p_rule = rule_scores(rows, config)
    p_fused = fused(dsp, p_rule, p_model, config, config.fusion.model_weight)
    y = np.array([ROLES.index(r.role) for r in rows])
    print(
        f"{len(rows)} one-shots of {labels}; the SHIPPED role scorer as it is (learned alone, "
        "and fused as drumgenx roles without CLAP): nothing retrained, tuned or chosen"
    )
    print(f"\n{'subset':<72}{'n':>6}{'learned acc':>13}{'F1':>7}{'fused acc':>11}{'F1':>7}")
    results = {}
    for name, sel in subsets.items():
        learned = trs.metrics(y[sel], p_model[sel].argmax(axis=1))
        results[name] = trs.metrics(y[sel], p_fused[sel].argmax(axis=1))
        print(
            f"{name:<72}{int(sel.sum()):>6}{learned['accuracy']:>13.3f}"
            f"{learned['macro_f1']:>7.3f}{results[name]['accuracy']:>11.3f}"
            f"{results[name]['macro_f1']:>7.3f}"
        )
    for name, m in results.items():
        print("\n".join(_confusion(f"{name}, fused", m)))
    return 0


def _source_of(member: str, rows: list[trs.Row]) -> str:
    return next((_source(r) for r in rows if _member(r) == member), "")


if __name__ == "__main__":
    raise SystemExit(main())
