"""Stage-2 role accuracy: rules alone, learned alone, and fused, side by side in one run.

Usage (by hand, never by CI; needs ../shared and the Debian kits, see bench/ONSETS.md)::

    .venv/bin/python bench/bench_roles.py

On the 670 labelled Debian one-shots (confidence high/medium, role set). The learned
scorer's probabilities are leave-one-kit-out (a model trained without the clip's kit, with
the shipped settings); the rules have no training. Fused = `roles.fusion.fuse` of the two
(CLAP weights are not available here) with the shipped config, then the guards: what
`drumgenx roles` does. "Found sounds": class fx/other/percussion or role TEXTURE.

On the role data of issue #15 (``drumgenx train role-data --out role_data``)::

    .venv/bin/python bench/bench_roles.py --role-data role_data [--clap_model DIR]

the final report, run once: the shipped scorer's own configuration retrained without each
fold (leave-one-family-out, `training.roles.fold_of`, non-frozen rows only) beside the
frozen test group (`training.role_data`) scored by the shipped scorer as it is; learned
alone and fused (calibrated), accuracy, macro-F1, ECE (15 bins) and the share marked
unsure, with confusion matrices. With ``--clap_model DIR`` (a CLAP checkpoint folder) CLAP
is fused too, as ``drumgenx roles --clap_model DIR`` does, and scored alone. (The baseline
of issue #15, the previous scorer on the same rows, is in bench/ROLES.md.)

The user's path for a folder of one-shots, stage 1 (its default ``transcribe``) then stage 2::

    .venv/bin/python bench/bench_roles.py --through-stage1

on the labelled one-shots outside the frozen group (symlinked into a temporary folder): the
role of each file's first slice, fused with the transcriber's classes as ``drumgenx roles``
does, for a sweep of ``fusion.spare_heard_above`` (the guards spare the role the transcriber
heard when it holds at least that much of ``p_hits``; above 1, never).
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np

from drumgenx.core.audio import read_audio
from drumgenx.core.roles import ROLES
from drumgenx.roles.learned import LearnedRoleScorer
from drumgenx.roles.rules import load_role_config
from drumgenx.roles.settings import RolesSettings
from drumgenx.training import roles as trs  # the trainer's data and leave-one-kit-out
from drumgenx.training.role_data import FROZEN_KINDS, LABELS_NAME
from drumgenx.training.settings import RoleTrainSettings


def rule_scores(rows: list[trs.Row], config) -> tuple[list, np.ndarray]:
    """Stage 2's DSP features of each row's file and the rules' probabilities."""
    return trs.rule_scores(rows, config)


def fused(dsp: list, p_rule: np.ndarray, p_model: np.ndarray, config, model_weight: float):
    """Rules and learned scorer fused (no CLAP), then the guards: `drumgenx roles`
    (uncalibrated: the sweep below compares fusion weights, not confidences)."""
    return trs.fuse_rows(dsp, p_rule, p_model, config, model_weight=model_weight)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role-data", type=Path, help="a drumgenx train role-data folder")
    parser.add_argument(
        "--clap_model",
        metavar="DIR",
        help="with --role-data: a CLAP checkpoint folder, fused as drumgenx roles does",
    )
    parser.add_argument(
        "--through-stage1",
        action="store_true",
        help="stage 1 then 2 on the non-frozen one-shots: the spare_heard_above sweep",
    )
    args = parser.parse_args()
    if args.through_stage1:
        return through_stage1()
    if args.role_data is not None:
        return role_data_report(args.role_data, clap_model=args.clap_model)
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
SPARE_SWEEP = (0.0, 0.5, 0.7, 0.8, 0.9, 2.0)


def through_stage1() -> int:
    """Stages 1 and 2 on the non-frozen one-shots; the first slice of each file scored."""
    import tempfile
    from dataclasses import replace

    from drumgenx.core.formats import read_json
    from drumgenx.preprocess.config import PreprocessConfig
    from drumgenx.preprocess.run import run_preprocess
    from drumgenx.roles.run import guarded_fusion, run_roles

    rows = [r for r in trs.load_rows() if r.path.is_file() and r.group != "frozen"]
    if not rows:
        print("SKIP: the Debian one-shots are not installed (see bench/setup_bench_venv.sh)")
        return 0
    config = load_role_config(None)
    with tempfile.TemporaryDirectory(prefix="bench-roles-") as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        row_of = {}
        for i, row in enumerate(rows):
            name = f"f{i:04d}{row.path.suffix}"
            (folder / name).symlink_to(row.path)
            row_of[name] = row
        lib = Path(tmp) / "lib"
        run_preprocess(
            dataset_root=folder, output_root=lib, config=PreprocessConfig(), notify=lambda m: None
        )
        scores = run_roles(
            input_dir=lib, out_dir=Path(tmp) / "roles", limit=0, notify=lambda m: None
        ).scores
        manifest = read_json(sorted(lib.glob("manifest_*.json"))[-1], "manifest")
    slice_of = {s["sample_id"]: (Path(s["source"]).name, s["start_s"]) for s in manifest["samples"]}
    first: dict[str, tuple[float, object]] = {}
    for score in scores:
        name, start = slice_of[Path(score.filepath).stem]
        if name not in first or start < first[name][0]:
            first[name] = (start, score)
    print(
        f"{len(rows)} non-frozen labelled one-shots; {len(first)} gave a slice "
        f"({sum(s.p_hits is not None for _, s in first.values())} with class probabilities)"
    )
    print("\n| spare_heard_above | accuracy | drum kits | found sounds |\n|---|---|---|---|")
    for above in SPARE_SWEEP:
        swept = replace(config, fusion=replace(config.fusion, spare_heard_above=above))
        right = {True: [], False: []}
        for name, (_, score) in first.items():
            p, _, _ = guarded_fusion(score, swept)
            row = row_of[name]
            right[trs.is_found(row)].append(ROLES[int(np.argmax(p))] == row.role)
        every = right[True] + right[False]
        shipped = " (shipped)" if above == config.fusion.spare_heard_above else ""
        print(
            f"| {above:g}{shipped} | {np.mean(every):.1%} | {np.mean(right[False]):.1%} "
            f"| {np.mean(right[True]):.1%} (of {len(right[True])}) |"
        )
    return 0


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


def _subsets(rows: list[trs.Row]) -> dict[str, np.ndarray]:
    """The report's rows: leave-one-family-out subsets of the training rows, then the frozen
    group's members, its drum kits together and all of it."""
    train = np.array([r.group == "train" for r in rows])
    frozen = ~train
    source = np.array([_source(r) for r in rows])
    member = np.array([_member(r) for r in rows])
    out = {
        "LOFO all training rows": train,
        "LOFO SoundFont kits": train & (source == "soundfont"),
        "LOFO Debian kits": train & (source == "debian"),
        "LOFO found sounds": train & (source == "found"),
    }
    for name, kind in FROZEN_KINDS.items():
        out[f"frozen {kind}: {name}"] = frozen & (member == name)
    out["frozen drum kits (the three above kits)"] = frozen & (source != "found")
    out["frozen all"] = frozen
    return out


def clap_probs(rows: list[trs.Row], model: str) -> np.ndarray | None:
    """CLAP's role probabilities of every row (`roles.clap.ClapScorer`, the shipped
    prompts), or None when ``model`` does not load (said once)."""
    from drumgenx.roles.clap import ClapScorer, load_prompts

    clap = ClapScorer.load(model, prompts=load_prompts(None), notify=print)
    if clap is None:
        return None
    out: list[np.ndarray] = []
    for start in range(0, len(rows), 256):  # decoded a chunk at a time, as stage 2
        out.extend(clap.score([read_audio(r.path) for r in rows[start : start + 256]]))
    return np.asarray(out)


def role_data_report(folder: Path, *, clap_model: str | None = None) -> int:
    """The shipped scorer on a role-data folder: leave-one-family-out figures of its own
    configuration retrained without each fold, beside the frozen group scored once; with
    ``clap_model``, CLAP is fused too and scored alone."""
    from drumgenx.roles.calibration import expected_calibration_error

    labels = folder / LABELS_NAME
    if not labels.is_file():
        print(f"SKIP: {labels} missing (drumgenx train role-data --out {folder})")
        return 0
    rows = [r for r in trs.load_rows(labels) if r.path.is_file()]
    train_rows = [r for r in rows if r.group == "train"]
    frozen_rows = [r for r in rows if r.group == "frozen"]
    rows = train_rows + frozen_rows
    config = load_role_config(None)
    scorer = LearnedRoleScorer.load()
    cfg = trs.Config(**scorer.meta["config"])
    settings = scorer.meta.get("settings", {})
    seed, n_aug = int(scorer.meta["seed"]), int(settings.get("n_aug", RoleTrainSettings.n_aug))
    feats = trs.extract(train_rows, n_aug=n_aug, seed=seed)
    p_model = np.concatenate(
        [
            trs.loko(feats, train_rows, cfg, seed=seed),  # each fold retrained without it
            scorer.predict_proba_features(trs.extract(frozen_rows, n_aug=0, seed=0)[:, 0]),
        ]
    )
    dsp, p_rule = rule_scores(rows, config)
    p_clap = clap_probs(rows, clap_model) if clap_model else None
    p_fused = trs.fuse_rows(
        dsp, p_rule, p_model, config, temperature=scorer.temperature, p_clap=p_clap
    )
    y = np.array([ROLES.index(r.role) for r in rows])
    same = scorer.meta.get("labels_sha256") == hashlib.sha256(labels.read_bytes()).hexdigest()
    print(
        f"{len(rows)} one-shots of {labels}; the shipped role scorer "
        f"(trained on {'this' if same else 'ANOTHER'} labels CSV, frozen rows left out: "
        f"{scorer.meta.get('folds', 'no')}); config {cfg}, n_aug {n_aug}, calibration "
        f"temperature {scorer.temperature:.3f}. LOFO: leave-one-family-out, the shipped "
        "configuration retrained without each fold (its temperature was fitted on these "
        "LOFO rows); frozen: the shipped scorer, never trained, tuned or calibrated on them. "
        f"Fused = drumgenx roles {'with CLAP' if p_clap is not None else 'without CLAP'}. "
        "ECE: 15 equal-width bins, fused confidence; "
        f"unsure: fused confidence < {RolesSettings.unsure_below} (RolesSettings.unsure_below)"
    )
    head = f"{'subset':<46}{'n':>6}{'learned':>9}{'F1':>7}{'fused':>8}{'F1':>7}{'ECE':>7}"
    print(f"\n{head}{'unsure':>8}{'acc.':>7}")
    results = {}
    for name, sel in _subsets(rows).items():
        learned = trs.metrics(y[sel], p_model[sel].argmax(axis=1))
        m = results[name] = trs.metrics(y[sel], p_fused[sel].argmax(axis=1))
        conf, right = p_fused[sel].max(axis=1), p_fused[sel].argmax(axis=1) == y[sel]
        unsure = conf < RolesSettings.unsure_below
        unsure_acc = f"{right[unsure].mean():>7.3f}" if unsure.any() else f"{'-':>7}"
        print(
            f"{name:<46}{int(sel.sum()):>6}{learned['accuracy']:>9.3f}{learned['macro_f1']:>7.3f}"
            f"{m['accuracy']:>8.3f}{m['macro_f1']:>7.3f}"
            f"{expected_calibration_error(conf, right):>7.3f}{unsure.mean():>8.3f}{unsure_acc}"
        )
    if p_clap is not None:
        print(f"\nCLAP alone ({clap_model}):")
        for name, sel in _subsets(rows).items():
            m = trs.metrics(y[sel], p_clap[sel].argmax(axis=1))
            print(f"{name:<46}{int(sel.sum()):>6}{m['accuracy']:>9.3f}{m['macro_f1']:>7.3f}")
    for name in ("LOFO all training rows", *[n for n in results if n.startswith("frozen")]):
        print("\n".join(_confusion(f"{name}, fused", results[name])))
    return 0


def _source_of(member: str, rows: list[trs.Row]) -> str:
    return next((_source(r) for r in rows if _member(r) == member), "")


if __name__ == "__main__":
    raise SystemExit(main())
