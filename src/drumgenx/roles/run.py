"""Stage 2 with disk I/O: one-shots in; ``pools_N.json`` and ``per_sample_N.json`` out.

Per file (:func:`analyse_file`, mapped over ``workers`` processes): 11 DSP features and the
learned scorer's input, both cached by content hash. Then rule probabilities per file, the
learned scorer's in one batch, CLAP (batched) when its weights load offline; then the fusion
(`roles.fusion`), the guards on the fused result, and the pools, each sorted by confidence.

Stage 1's manifests in the input folder (``manifest_N.json``) are read for one thing: a
one-shot whose entry carries the transcriber's ``class_probs`` (``--onset_method
transcribe``) gets them as a fourth fusion source (`manifest_class_probs`).
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drumgenx import __version__
from drumgenx.core.audio import (
    AudioReadError,
    downmix,
    find_audio_files,
    read_audio,
    resample,
)
from drumgenx.core.console import silent
from drumgenx.core.engine import EngineSettings, map_files
from drumgenx.core.errors import DrumgenxError, FormatError, ParameterError
from drumgenx.core.formats import dump_json, read_json
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.core.versioning import weights_sha256, write_versioned
from drumgenx.roles.features import FeatureCache, extract_features
from drumgenx.roles.fusion import class_probs_to_roles, fuse, heard_role
from drumgenx.roles.rules import (
    FusionConfig,
    RoleConfig,
    apply_guards,
    load_role_config,
    rule_probabilities,
)
from drumgenx.roles.settings import RolesSettings, config_file, prompts_file

if TYPE_CHECKING:
    from drumgenx.roles.clap import ClapScorer

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
    p_hits: np.ndarray | None = None  # the transcriber's classes as roles, when known
    unsure: bool = False  # calibrated confidence below the run's unsure_below

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

        hits = {} if self.p_hits is None else {"p_hits": probs(self.p_hits)}
        return {
            "sample_id": self.sample_id,
            "filepath": self.filepath,
            "features": {k: round(float(v), 6) for k, v in self.features.items()},
            "p_rule": probs(self.p_rule),
            "p_clap": probs(self.p_clap),
            "p_model": probs(self.p_model),
            **hits,
            "weights": {k: round(v, 6) for k, v in self.weights.items()},
            "p_fused": probs(self.p_fused),
            "guard_actions": self.guard_actions,
            "role": self.role,
            "confidence": round(self.confidence, 6),
            "unsure": self.unsure,
        }


@dataclass
class RolesRun:
    version: int
    pools_path: Path
    per_sample_path: Path
    scores: list[SampleScore]
    skipped: list[tuple[str, str]]
    clap: str


SILENCE_DBFS = -60.0  # as stage 1: a file that never gets louder is no sound, not a role


def choose_files(files: list[Path], *, limit: int, seed: int) -> list[Path]:
    """``limit`` files drawn at random with ``seed`` (0: all), kept in path order."""
    if limit < 0:
        raise ParameterError("limit", f"must be >= 0, got {limit}")
    if limit == 0 or limit >= len(files):
        return list(files)
    chosen = random.Random(f"drumgenx:{seed}:roles_limit").sample(range(len(files)), limit)
    return [files[i] for i in sorted(chosen)]


Analysis = tuple[dict[str, float], np.ndarray | None]
"""The 11 DSP features of a file and the learned scorer's input (see `analyse_file`)."""


def analyse_file(
    path: Path, *, config: RoleConfig, cache: FeatureCache, use_model: bool
) -> Analysis:
    """The 11 DSP features of one file and the learned scorer's input (None when not used;
    empty when the sound is too short or silent for it), from ``cache`` when there.

    Only the first ``config.features.max_duration_s`` seconds, or the learned scorer's
    window plus a second of lead-in if longer, are decoded: neither feature set reads
    further. The clip is mixed to mono and resampled once for both.

    Raises
    ------
    drumgenx.core.audio.AudioReadError
        The file cannot be decoded, or holds NaN or infinite samples.
    """
    from drumgenx.roles.learned import FEATURE_SR, MAX_SECONDS, role_features

    cached = cache.get(path)
    if cached is not None and (cached[1] is not None or not use_model):
        return cached
    params = config.features
    y, sr = read_audio(path, max_seconds=max(params.max_duration_s, MAX_SECONDS + 1.0))
    mono = downmix(y)  # read_audio has refused empty and non-finite audio
    if not np.max(np.abs(mono)) > 10 ** (SILENCE_DBFS / 20):
        raise AudioReadError(f"{path}: silent (peak below {SILENCE_DBFS:g} dBFS)")
    mono = resample(mono[:, None], sr, params.analysis_sr)[:, 0]
    features = extract_features(mono, sr=params.analysis_sr, params=params)
    learned_input = None
    if use_model:
        # Silent or too short to analyse: empty (cached as such), the other sources decide.
        learned_input = np.zeros(0)
        with contextlib.suppress(ValueError):
            if params.analysis_sr == FEATURE_SR:
                learned_input = role_features(mono, sr=FEATURE_SR)
            else:
                learned_input = role_features(y, sr=sr)
    cache.put(path, features, learned_input)
    return features, learned_input


@dataclass(frozen=True)
class _Worker:
    """What the per-file analysis needs on every worker, sent once per worker."""

    config: RoleConfig
    cache: FeatureCache
    use_model: bool


def _analyse_job(worker: _Worker, path: Path) -> Analysis | AudioReadError:
    """One file on a worker (any engine): its analysis, or why it cannot be read."""
    try:
        return analyse_file(
            path, config=worker.config, cache=worker.cache, use_model=worker.use_model
        )
    except AudioReadError as exc:
        return exc


def run_roles(
    *,
    input_dir: str | Path,
    out_dir: str | Path,
    limit: int = RolesSettings.limit,
    seed: int = RolesSettings.seed,
    config_path: str | Path | None = None,
    prompts_path: str | Path | None = None,
    alpha: float | None = None,
    clap_model: str | None = None,
    use_model: bool = True,
    workers: int = RolesSettings.workers,
    engine: str = RolesSettings.engine,
    scheduler: str | None = RolesSettings.scheduler,
    unsure_below: float = RolesSettings.unsure_below,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
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
        A role config and prompts in the format of ``role_assignment.yaml`` and
        ``prompts.yaml``, each laid over the shipped defaults (only the keys it changes);
        None: the checkout's files, or the shipped defaults alone where there is no checkout
        (`drumgenx.roles.settings`).
    alpha
        Overrides the config's ``fusion.alpha``.
    clap_model
        Hub name (from the local cache only) or folder of a CLAP checkpoint; default
        ``laion/clap-htsat-unfused``. Without loadable weights stage 2 runs without CLAP,
        with one notice, and every record says so (``p_clap: null``).
    use_model
        Use the learned scorer as a third source.
    workers
        Processes for the per-file work (features and scores); 1 runs in this process.
        With ``engine`` dask and no scheduler, the local cluster's workers (1: one per core).
    engine, scheduler
        Where the per-file work runs: ``local`` or ``dask`` (the ``cluster`` extra) and,
        for dask, the scheduler's address (`core.engine.EngineSettings`); the same pools
        either way. Every worker must see the one-shots at the same paths.
    unsure_below
        A calibrated confidence below this marks a sample unsure: ``"unsure": true`` in
        ``per_sample_N.json`` and its pool, drawn after the sure ones
        (`RolesSettings.unsure_below`; 0 marks none).
    notify
        Receives notices (CLAP not used, a manifest left out) as single lines; None: they
        are dropped (the command line passes its printer).
    """
    from drumgenx.roles.clap import DEFAULT_CLAP_MODEL, ClapScorer, load_prompts

    notify = notify or silent
    input_dir, out_dir = Path(input_dir), Path(out_dir)
    if not input_dir.is_dir():
        raise ParameterError("input_dir", f"{input_dir}: no such folder")
    config = load_role_config(config_path)
    fusion = config.fusion
    alpha = fusion.alpha if alpha is None else alpha
    if not 0.0 <= alpha <= 1.0:
        raise ParameterError("alpha", f"must be 0..1, got {alpha:g}")
    if not 0.0 <= unsure_below <= 1.0:
        raise ParameterError("unsure_below", f"must be 0..1, got {unsure_below:g}")
    engine_settings = EngineSettings(engine, scheduler, workers)
    engine_settings.validate()
    prompts = load_prompts(prompts_path)
    files = choose_files(find_audio_files(input_dir), limit=limit, seed=seed)
    if not files:
        raise ParameterError("input_dir", f"{input_dir}: no audio files found")

    from drumgenx.roles.learned import FEATURE_VERSION as LEARNED_VERSION
    from drumgenx.roles.learned import LearnedRoleScorer

    temperature = 1.0  # the rules alone are not calibrated: left as they are
    if use_model:
        try:  # a missing or stale weights file fails here, once, not per file
            temperature = LearnedRoleScorer.load().temperature
        except (OSError, ValueError) as exc:
            raise DrumgenxError(f"learned role scorer: {exc}") from None

    class_probs = manifest_class_probs(input_dir, notify=notify)
    with FeatureCache(
        out_dir / ".drumgenx-cache", params=config.features, tag=f"learned{LEARNED_VERSION}"
    ) as cache:
        scores, skipped = _score_files(
            files,
            input_dir,
            config=config,
            cache=cache,
            class_probs=class_probs,
            use_model=use_model,
            engine=engine_settings,
            progress=progress,
            notify=notify,
        )

    clap = ClapScorer.load(clap_model or DEFAULT_CLAP_MODEL, prompts=prompts, notify=notify)
    p_claps = _clap_scores(clap, scores) if clap is not None else [None] * len(scores)
    _fuse_scores(scores, p_claps, config=config, alpha=alpha, temperature=temperature)
    for score in scores:
        score.unsure = score.confidence < unsure_below

    by_role = _pools(scores)
    clap_name = clap.name if clap is not None else "not loaded"
    per_sample = _per_sample_record(
        input_dir,
        scores,
        skipped,
        config_path=config_path,
        prompts_path=prompts_path,
        alpha=alpha,
        fusion=config.fusion,
        clap_name=clap_name,
        calibration={"temperature": temperature, "unsure_below": unsure_below},
    )
    version, paths = write_versioned(
        out_dir,
        {
            "pools": (".json", dump_json(Pools(by_role).to_json())),
            "per_sample": (".json", dump_json(per_sample)),
        },
    )
    return RolesRun(version, paths["pools"], paths["per_sample"], scores, skipped, clap_name)


def _score_files(
    files: list[Path],
    input_dir: Path,
    *,
    config: RoleConfig,
    cache: FeatureCache,
    class_probs: dict[Path, dict[str, float]],
    use_model: bool,
    engine: EngineSettings,
    progress: Progress | None,
    notify: Callable[[str], None],
) -> tuple[list[SampleScore], list[tuple[str, str]]]:
    """Features and rule, transcriber and learned scores of each file; the unreadable ones.

    The per-file analysis runs on ``engine``; progress counts the files done, in input
    order. Returns the scores in ``files``' order and ``(filepath, reason)`` per skipped
    file.
    """
    scores: list[SampleScore] = []
    learned_inputs: list[np.ndarray | None] = []
    skipped: list[tuple[str, str]] = []
    mapped = map_files(
        _analyse_job,
        files,
        initializer=_Worker,
        initargs=(config, cache, use_model),
        settings=engine,
        # One-shots take milliseconds each: single-file messages would dominate. Small
        # chunks all the same, so no worker idles long while another ends the last one.
        chunksize=max(1, min(16, len(files) // (8 * engine.workers))),
        notify=notify,
    )
    # closing: an exception here (Ctrl-C in progress) stops the workers at once
    with contextlib.closing(mapped):
        for done, (path, result) in enumerate(zip(files, mapped, strict=True), 1):
            if isinstance(result, AudioReadError):
                skipped.append((str(path), str(result).removeprefix(f"{path}: ")))
            else:
                features, learned_input = result
                sample_id = path.relative_to(input_dir).with_suffix("").as_posix()
                p_rule = rule_probabilities(features, config)
                score = SampleScore(sample_id, str(path), features, p_rule, None)
                if class_probs and (hit := class_probs.get(path.resolve())) is not None:
                    score.p_hits = class_probs_to_roles(hit)
                scores.append(score)
                learned_inputs.append(learned_input)
            if progress:
                progress(done, len(files), str(path))
    if use_model:
        _add_model_scores(scores, learned_inputs)
    return scores, skipped


def _fuse_scores(
    scores: list[SampleScore],
    p_claps: list[Any],
    *,
    config: RoleConfig,
    alpha: float,
    temperature: float = 1.0,
) -> None:
    """Set each score's CLAP probabilities, its fused probabilities (after the guards, then
    calibrated by ``temperature``, `roles.calibration.temper`) and guard actions."""
    from drumgenx.roles.calibration import temper

    for score, p_clap in zip(scores, p_claps, strict=True):
        score.p_clap = p_clap
        guarded, score.weights, score.guard_actions = guarded_fusion(score, config, alpha=alpha)
        score.p_fused = temper(guarded, temperature)


def guarded_fusion(
    score: SampleScore, config: RoleConfig, *, alpha: float | None = None
) -> tuple[np.ndarray, dict[str, float], list[str]]:
    """One score's sources fused with ``config``'s fusion weights (`roles.fusion.fuse`;
    ``alpha`` default the config's), then guarded, sparing the role the transcriber clearly
    heard (`roles.fusion.heard_role`): the probabilities, each source's weight and the
    guards' actions. Uncalibrated; the benches call it as stage 2 does."""
    fusion = config.fusion
    fused, weights = fuse(
        p_rule=score.p_rule,
        p_clap=score.p_clap,
        p_model=score.p_model,
        alpha=fusion.alpha if alpha is None else alpha,
        model_weight=fusion.model_weight,
        p_hits=score.p_hits,
        hits_weight=fusion.transcriber_weight,
    )
    guarded, actions = apply_guards(
        score.features,
        fused,
        config,
        spare=heard_role(score.p_hits, above=fusion.spare_heard_above),
    )
    return guarded, weights, actions


def _pools(scores: list[SampleScore]) -> dict[str, list[PoolItem]]:
    """Each role's samples: sure ones first, then unsure; most confident first within each
    (ties by sample id)."""
    by_role: dict[str, list[PoolItem]] = {role: [] for role in ROLES}
    for score in scores:
        by_role[score.role].append(
            PoolItem(score.sample_id, score.filepath, round(score.confidence, 6), score.unsure)
        )
    for items in by_role.values():
        items.sort(key=lambda item: (item.unsure, -item.confidence, item.sample_id))
    return by_role


def _per_sample_record(
    input_dir: Path,
    scores: list[SampleScore],
    skipped: list[tuple[str, str]],
    *,
    config_path: str | Path | None,
    prompts_path: str | Path | None,
    alpha: float,
    fusion: FusionConfig,
    clap_name: str,
    calibration: dict[str, float] | None = None,
) -> dict[str, Any]:
    """``per_sample_N.json``'s content: version, settings, CLAP, samples and skipped files."""
    return {
        "drumgenx_version": __version__,
        "input_dir": str(input_dir),
        "config": {
            "config": str(config_file(config_path) or "default"),
            "prompts": str(prompts_file(prompts_path) or "default"),
            "alpha": alpha,
            **asdict(fusion),
            **(calibration or {}),
        },
        "clap": clap_name,
        "samples": [s.to_json() for s in scores],
        "skipped": [{"filepath": p, "reason": r} for p, r in skipped],
    }


def roles_identity(
    *,
    config_path: str | Path | None = None,
    prompts_path: str | Path | None = None,
    clap_model: str | None = None,
    use_model: bool = True,
) -> dict[str, Any]:
    """Everything besides its input folder that decides what `run_roles` writes.

    ``drumgenx run`` keys stage 2 on it: the role config and prompts in effect (their
    values, wherever they were read from), the feature code's versions, the learned
    scorer's weights (SHA-256; ``use_model`` only) and the CLAP checkpoint that would load
    (`roles.clap.checkpoint_identity`). The parameters are `run_roles`'s.

    Raises
    ------
    DrumgenxError
        A bad role config or prompts file; unreadable learned weights.
    """
    from drumgenx.roles.clap import DEFAULT_CLAP_MODEL, checkpoint_identity, load_prompts
    from drumgenx.roles.features import FEATURE_VERSION
    from drumgenx.roles.learned import DEFAULT_WEIGHTS
    from drumgenx.roles.learned import FEATURE_VERSION as LEARNED_VERSION

    identity: dict[str, Any] = {
        "config": asdict(load_role_config(config_path)),
        "prompts": load_prompts(prompts_path).by_role,
        "features": FEATURE_VERSION,
        "clap": checkpoint_identity(clap_model or DEFAULT_CLAP_MODEL),
    }
    if use_model:
        weights = weights_sha256(DEFAULT_WEIGHTS, "learned role scorer")
        identity["learned"] = {"version": LEARNED_VERSION, "weights": weights}
    return identity


MANIFEST_NAME = re.compile(r"^manifest_\d+\.json$")


def manifest_class_probs(
    input_dir: Path, *, notify: Callable[[str], None] | None = None
) -> dict[Path, dict[str, float]]:
    """The transcriber's ``class_probs`` of every one-shot a stage-1 manifest under
    ``input_dir`` names, by the one-shot's resolved path.

    Only manifests that mention ``class_probs`` are parsed and checked (a flux run's, the
    default, costs one read). A manifest off its schema is left out with a notice: it only
    adds a fusion source, so the run goes on without it.
    """
    notify = notify or silent
    out: dict[Path, dict[str, float]] = {}
    for manifest in sorted(input_dir.rglob("manifest_*.json")):
        if not MANIFEST_NAME.match(manifest.name):
            continue
        try:
            if '"class_probs"' not in manifest.read_text(encoding="utf-8", errors="replace"):
                continue
            data = read_json(manifest, "manifest")
        except OSError as exc:
            notify(
                f"{manifest}: cannot read ({exc.strerror}); its class probabilities are not used"
            )
            continue
        except FormatError as exc:
            notify(f"{exc}; its class probabilities are not used")
            continue
        for sample in data["samples"]:
            if "class_probs" in sample:
                out[(manifest.parent / sample["file"]).resolve()] = sample["class_probs"]
    return out


def _add_model_scores(scores: list[SampleScore], inputs: list[np.ndarray | None]) -> None:
    """``p_model`` of every score with a learned input, in one batch (the trees are
    evaluated level by level over all samples at once)."""
    from drumgenx.roles.learned import LearnedRoleScorer

    have = [i for i, x in enumerate(inputs) if x is not None and x.size]
    if not have:
        return
    scorer = LearnedRoleScorer.load()
    for start in range(0, len(have), MODEL_BATCH):
        batch = have[start : start + MODEL_BATCH]
        proba = scorer.predict_proba_features(np.stack([inputs[i] for i in batch]))
        for i, p in zip(batch, proba, strict=True):
            scores[i].p_model = p


MODEL_BATCH = 2048
"""Samples scored at a time: the trees' level-by-level arrays grow ~21 kB per sample (a
10,000-file batch peaked at 300 MiB); batches keep that flat at any library size."""


CLAP_CHUNK = 256
"""Files decoded at a time for CLAP: bounds memory on large libraries."""


def _clap_scores(clap: ClapScorer, scores: list[SampleScore]) -> list[np.ndarray]:
    """CLAP probabilities of every scored file, decoding ``CLAP_CHUNK`` files at a time."""
    out: list[np.ndarray] = []
    for start in range(0, len(scores), CLAP_CHUNK):
        chunk = scores[start : start + CLAP_CHUNK]
        out.extend(clap.score([read_audio(s.filepath) for s in chunk]))
    return out
