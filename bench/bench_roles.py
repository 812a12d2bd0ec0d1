"""Stage-2 role accuracy: rules alone, learned alone, and fused, side by side in one run.

Usage (by hand, never by CI; needs ../shared and the Debian kits, see bench/ONSETS.md)::

    .venv/bin/python bench/bench_roles.py

On the 670 labelled Debian one-shots (confidence high/medium, role set). The learned
scorer's probabilities are leave-one-kit-out (a model trained without the clip's kit, with
the shipped settings); the rules have no training. Fused = `roles.fusion.fuse` of the two
(CLAP weights are not available here) with the shipped config, then the guards: what
`drumgenx roles` does. "Found sounds": class fx/other/percussion or role TEXTURE.
"""

from __future__ import annotations

import numpy as np

from drumgenx.core.audio import read_audio
from drumgenx.core.roles import ROLES
from drumgenx.roles.features import extract_features
from drumgenx.roles.fusion import fuse
from drumgenx.roles.learned import LearnedRoleScorer
from drumgenx.roles.rules import apply_guards, load_role_config, rule_probabilities
from drumgenx.training import roles as trs  # the trainer's data and leave-one-kit-out
from drumgenx.training.settings import RoleTrainSettings


def main() -> int:
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
    dsp = []
    for row in rows:
        y, sr = read_audio(row.path)
        dsp.append(extract_features(y.mean(axis=1), sr=sr, params=config.features))
    p_rule = np.array([rule_probabilities(f, config) for f in dsp])

    def fused(model_weight: float) -> np.ndarray:
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

    p_fused = fused(config.fusion.model_weight)
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
    print("\n=== fusion.model_weight (the config's value is chosen from this sweep)")
    for weight in MODEL_WEIGHTS:
        _, res = trs.report(fused(weight), rows)
        print(
            f"  {weight:4g}: accuracy {res['all']['accuracy']:.3f} "
            f"macro-F1 {res['all']['macro_f1']:.3f} found {res['found_sounds']['accuracy']:.3f}"
        )
    return 0


MODEL_WEIGHTS = (0.5, 1.0, 2.0, 4.0, 8.0)


if __name__ == "__main__":
    raise SystemExit(main())
