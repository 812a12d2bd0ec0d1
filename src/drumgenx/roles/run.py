"""Stage 2 with disk I/O: one-shots in; ``pools_N.json`` and ``per_sample_N.json`` out.

Per file (:func:`score_file`, mapped over ``workers`` processes): 11 DSP features and the
learned scorer's input, both cached by content hash, rule probabilities and the learned
scorer's. Then, batched over all files, CLAP when its weights load offline; then the fusion
(`roles.fusion`), the guards on the fused result, and the pools, each sorted by confidence.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from drumgenx import __version__
from drumgenx.core.audio import AudioReadError, find_audio_files, read_audio
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.formats import dump_json
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.core.versioning import write_versioned
from drumgenx.roles.features import FeatureCache, extract_features

if TYPE_CHECKING:
    from drumgenx.roles.clap import ClapScorer
from drumgenx.roles.fusion import fuse
from drumgenx.roles.rules import RoleConfig, apply_guards, load_role_config, rule_probabilities

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


def score_file(
    path: Path,
    *,
    sample_id: str,
    config: RoleConfig,
    cache: FeatureCache,
    use_model: bool,
) -> SampleScore:
    """DSP features, ``p_rule`` and ``p_model`` of one file (features from ``cache`` if there).

    Raises
    ------
    drumgenx.core.audio.AudioReadError
        The file cannot be decoded.
    """
    from drumgenx.roles.learned import LearnedRoleScorer, role_features

    cached = cache.get(path)
    if cached is None or (use_model and cached[1] is None):
        y, sr = read_audio(path)
        mono = y.mean(axis=1)
        features = extract_features(mono, sr=sr, params=config.features)
        learned_input = None
        if use_model:
            # Silent or too short to analyse: the other sources decide.
            with contextlib.suppress(ValueError):
                learned_input = role_features(mono, sr=sr)
        cache.put(path, features, learned_input)
    else:
        features, learned_input = cached
    p_rule = rule_probabilities(features, config)
    p_model = None
    if learned_input is not None:
        p_model = LearnedRoleScorer.load().predict_proba_features(learned_input[None, :])[0]
    return SampleScore(sample_id, str(path), features, p_rule, p_model)


_worker: dict[str, object] = {}


def _init_worker(config: RoleConfig, cache: FeatureCache, use_model: bool) -> None:
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = "1"  # one thread per process: --workers is the core count
    _worker.update(config=config, cache=cache, use_model=use_model)


def _score_job(job: tuple[Path, str]) -> SampleScore | tuple[str, str]:
    path, sample_id = job
    try:
        return score_file(
            path,
            sample_id=sample_id,
            config=_worker["config"],  # type: ignore[arg-type]
            cache=_worker["cache"],  # type: ignore[arg-type]
            use_model=bool(_worker["use_model"]),
        )
    except AudioReadError as exc:
        return (str(path), str(exc).removeprefix(f"{path}: "))


def _map_files(
    jobs: list[tuple[Path, str]],
    *,
    config: RoleConfig,
    cache: FeatureCache,
    use_model: bool,
    workers: int,
) -> Iterator[SampleScore | tuple[str, str]]:
    if workers == 1 or len(jobs) <= 1:
        _worker.update(config=config, cache=cache, use_model=use_model)
        yield from map(_score_job, jobs)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, like stage 1: never fork a process that may hold torch's thread pools (CLAP).
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(config, cache, use_model),
    ) as pool:
        # Chunks: one-shots take milliseconds each, so per-task messaging would dominate.
        yield from pool.map(_score_job, jobs, chunksize=max(1, min(64, len(jobs) // (4 * workers))))


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
    workers: int = 1,
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
    workers
        Processes for the per-file work (features and scores); 1 runs in this process.
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
    if workers < 1:
        raise DrumgenxError(f"--workers must be at least 1, got {workers}")
    prompts = load_prompts(prompts_path)
    files = choose_files(find_audio_files(input_dir), limit=limit, seed=seed)
    if not files:
        raise DrumgenxError(f"--input_dir {input_dir}: no audio files found")

    from drumgenx.roles.learned import FEATURE_VERSION as LEARNED_VERSION
    from drumgenx.roles.learned import LearnedRoleScorer

    if use_model:
        LearnedRoleScorer.load()  # a missing or stale weights file fails here, not per file

    cache = FeatureCache(
        out_dir / ".drumgenx-cache", params=config.features, tag=f"learned{LEARNED_VERSION}"
    )
    jobs = [(path, path.relative_to(input_dir).with_suffix("").as_posix()) for path in files]
    scores: list[SampleScore] = []
    skipped: list[tuple[str, str]] = []
    mapped = _map_files(jobs, config=config, cache=cache, use_model=use_model, workers=workers)
    for done, ((path, _), result) in enumerate(zip(jobs, mapped, strict=True), 1):
        if isinstance(result, SampleScore):
            scores.append(result)
        else:
            skipped.append(result)
        if progress:
            progress(done, len(files), str(path))

    clap = ClapScorer.load(clap_model or DEFAULT_CLAP_MODEL, prompts=prompts, notify=notify)
    p_claps = _clap_scores(clap, scores) if clap is not None else [None] * len(scores)
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


CLAP_CHUNK = 256
"""Files decoded at a time for CLAP: bounds memory on large libraries."""


def _clap_scores(clap: ClapScorer, scores: list[SampleScore]) -> list[np.ndarray]:
    """CLAP probabilities of every scored file, decoding ``CLAP_CHUNK`` files at a time."""
    out: list[np.ndarray] = []
    for start in range(0, len(scores), CLAP_CHUNK):
        chunk = scores[start : start + CLAP_CHUNK]
        out.extend(clap.score([read_audio(s.filepath) for s in chunk]))
    return out
