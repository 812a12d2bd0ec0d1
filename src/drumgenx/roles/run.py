"""Stage 2 with disk I/O: one-shots in; ``pools_N.json`` and ``per_sample_N.json`` out.

Per file: 11 DSP features (cached by content hash), rule probabilities, the learned scorer.
Then, batched over all files, CLAP when its weights load offline; then the fusion
(`roles.fusion`), the guards on the fused result, and the pools, each sorted by confidence.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from drumgenx import __version__
from drumgenx.core.audio import AudioReadError, find_audio_files, read_audio
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import dump_json
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.core.versioning import write_versioned
from drumgenx.roles.features import FeatureCache, extract_features
from drumgenx.roles.fusion import fuse
from drumgenx.roles.rules import apply_guards, load_role_config, rule_probabilities

Progress = Callable[[int, int, str], None]


@dataclass
class SampleScore:
    """Everything stage 2 knows about one one-shot; one entry of ``per_sample_N.json``."""

    sample_id: str
    filepath: str
    features: dict[str, float]
    p_rule: np.ndarray
    p_model: np.ndarray | None
    guard_actions: list[str] = field(default_factory=list)
    p_clap: np.ndarray | None = None
    weights: dict[str, float] = field(default_factory=dict)
    p_fused: np.ndarray | None = None

    @property
    def role(self) -> str:
        return ROLES[int(np.argmax(self.p_fused))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.p_fused))

    def to_json(self) -> dict[str, object]:
        def probs(p: np.ndarray | None) -> dict[str, float] | None:
            return (
                None
                if p is None
                else {r: round(float(v), 6) for r, v in zip(ROLES, p, strict=True)}
            )

        return {
            "sample_id": self.sample_id,
            "filepath": self.filepath,
            "features": {k: round(float(v), 6) for k, v in self.features.items()},
            "p_rule": probs(self.p_rule),
            "p_clap": probs(self.p_clap),
            "p_model": probs(self.p_model),
            "weights": {k: round(v, 6) for k, v in self.weights.items()},
            "p_fused": probs(self.p_fused),
            "guard_actions": self.guard_actions,
            "role": self.role,
            "confidence": round(self.confidence, 6),
        }


@dataclass
class RolesRun:
    version: int
    pools_path: Path
    per_sample_path: Path
    scores: list[SampleScore]
    skipped: list[tuple[str, str]]
    clap: str


def choose_files(files: list[Path], *, limit: int, seed: int) -> list[Path]:
    """``limit`` files drawn at random with ``seed`` (0: all), kept in path order."""
    if limit < 0:
        raise DrumgenxError(f"--limit must be >= 0, got {limit}")
    if limit == 0 or limit >= len(files):
        return list(files)
    chosen = random.Random(f"drumgenx:{seed}:roles_limit").sample(range(len(files)), limit)
    return [files[i] for i in sorted(chosen)]


def run_roles(
    *,
    input_dir: str | Path,
    out_dir: str | Path,
    limit: int = 10,
    seed: int = 42,
    config_path: str | Path | None = None,
    prompts_path: str | Path | None = None,
    alpha: float | None = None,
    clap_model: str | None = None,
    use_model: bool = True,
    progress: Progress | None = None,
    notify: Callable[[str], None] = print,
) -> RolesRun:
    """Give every one-shot in ``input_dir`` a role; write pools and per-sample records.

    Parameters
    ----------
    input_dir
        Folder of one-shots (stage 1's ``dummy_dataset``), searched recursively.
    out_dir
        Where ``pools_N.json`` and ``per_sample_N.json`` go (one new N).
    limit
        Files to score, drawn at random with ``seed``: 10 by default (the seed's quick
        look), 0 for all.
    config_path, prompts_path
        ``role_assignment.yaml`` and ``prompts.yaml`` (defaults: the shipped ones).
    alpha
        Overrides the config's fusion alpha (0.9).
    clap_model
        Hub name (from the local cache only) or folder of a CLAP checkpoint; default
        ``laion/clap-htsat-unfused``. Without loadable weights stage 2 runs without CLAP,
        with one notice, and every record says so (``p_clap: null``).
    use_model
        Use the learned scorer as a third source.
    """
    from drumgenx.roles.clap import DEFAULT_CLAP_MODEL, ClapScorer, load_prompts

    input_dir, out_dir = Path(input_dir), Path(out_dir)
    if not input_dir.is_dir():
        raise DrumgenxError(f"--input_dir {input_dir}: no such folder")
    config = load_role_config(config_path)
    fusion = config.fusion
    alpha = fusion.alpha if alpha is None else alpha
    if not 0.0 <= alpha <= 1.0:
        raise DrumgenxError(f"--alpha must be 0..1, got {alpha:g}")
    prompts = load_prompts(prompts_path)
    files = choose_files(find_audio_files(input_dir), limit=limit, seed=seed)
    if not files:
        raise DrumgenxError(f"--input_dir {input_dir}: no audio files found")

    learned = None
    if use_model:
        from drumgenx.roles.learned import LearnedRoleScorer

        learned = LearnedRoleScorer.load()
    cache = FeatureCache(out_dir / ".drumgenx-cache", params=config.features)
    scores: list[SampleScore] = []
    clips: list[tuple[np.ndarray, int]] = []
    skipped: list[tuple[str, str]] = []
    for done, path in enumerate(files, 1):
        try:
            y, sr = read_audio(path)
        except AudioReadError as exc:
            skipped.append((str(path), str(exc).removeprefix(f"{path}: ")))
            continue
        features = cache.get(path)
        if features is None:
            features = extract_features(y.mean(axis=1), sr=sr, params=config.features)
            cache.put(path, features)
        p_rule = rule_probabilities(features, config)
        p_model = learned.predict_proba(y, sr=sr) if learned is not None else None
        sample_id = path.relative_to(input_dir).with_suffix("").as_posix()
        scores.append(SampleScore(sample_id, str(path), features, p_rule, p_model))
        clips.append((y, sr))
        if progress:
            progress(done, len(files), str(path))

    clap = ClapScorer.load(clap_model or DEFAULT_CLAP_MODEL, prompts=prompts, notify=notify)
    p_claps = clap.score(clips) if clap is not None and clips else [None] * len(scores)
    for score, p_clap in zip(scores, p_claps, strict=True):
        score.p_clap = p_clap
        fused, score.weights = fuse(
            p_rule=score.p_rule,
            p_clap=p_clap,
            p_model=score.p_model,
            alpha=alpha,
            model_weight=fusion.model_weight,
        )
        score.p_fused, score.guard_actions = apply_guards(score.features, fused, config)

    by_role: dict[str, list[PoolItem]] = {role: [] for role in ROLES}
    for score in scores:
        by_role[score.role].append(
            PoolItem(score.sample_id, score.filepath, round(score.confidence, 6))
        )
    for items in by_role.values():
        items.sort(key=lambda item: (-item.confidence, item.sample_id))
    clap_name = clap.name if clap is not None else "not loaded"
    per_sample = {
        "drumgenx_version": __version__,
        "input_dir": str(input_dir),
        "config": {"config": str(config_path or "default"), "alpha": alpha, **asdict(fusion)},
        "clap": clap_name,
        "samples": [s.to_json() for s in scores],
        "skipped": [{"filepath": p, "reason": r} for p, r in skipped],
    }
    version, paths = write_versioned(
        out_dir,
        {
            "pools": (".json", dump_json(Pools(by_role).to_json())),
            "per_sample": (".json", dump_json(per_sample)),
        },
    )
    return RolesRun(version, paths["pools"], paths["per_sample"], scores, skipped, clap_name)
