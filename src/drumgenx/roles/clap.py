"""CLAP zero-shot role scores (``p_clap``) from text prompts, always offline.

A CLAP model (Hugging Face ``transformers.ClapModel``; default ``laion/clap-htsat-unfused``)
embeds audio and text in one space. Each role has several prompts (shipped as
``roles/defaults/prompts.yaml``; `trace_prompts` says which file is read); at load, every
prompt is embedded once and the role's text embedding is the normalised mean of its
prompts' normalised embeddings::

    t_r = normalize(mean_k normalize(text(prompt_{r,k})))

A one-shot's audio embedding ``a = normalize(audio(x))`` then gives, over the five roles
(in ``drumgenx.core.roles.ROLES`` order)::

    p_clap[r] = softmax_r(s * cos(a, t_r)),   s = exp(logit_scale_a)

where ``s`` is the model's own learned audio-to-text logit scale (the one ``ClapModel``
applies to ``logits_per_audio``), so with one prompt per role ``p_clap`` equals
``softmax(ClapModel(...).logits_per_audio)``.

Audio goes in as the model was trained: mono, resampled to the feature extractor's rate
(48 kHz), log-mel with ``truncation="rand_trunc"`` (the default ``"fusion"`` of
``ClapFeatureExtractor()`` feeds 4-channel input an unfused model cannot take). To be
deterministic, each clip is cut to its first ``max_length_s`` (10 s; one-shots are shorter,
and the attack is at the start) so the random crop never happens, and shorter clips are
repeated and zero-padded to 10 s (``padding="repeatpad"``, CLAP's training padding).

Weights are never downloaded: a hub name loads only from the local Hugging Face cache
(``local_files_only=True``), a folder from the folder. When nothing loads,
:meth:`ClapScorer.load` says so in one notice and returns None; stage 2 then fuses without
CLAP. ``torch`` and ``transformers`` are imported only when a model is loaded.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from drumgenx.core.audio import resample
from drumgenx.core.config import Traced, load_config, load_defaults, trace
from drumgenx.core.errors import DrumgenxError, Notice
from drumgenx.core.roles import ROLES
from drumgenx.roles.settings import SHIPPED_PROMPTS_PATH, RolesSettings, prompts_file

DEFAULT_CLAP_MODEL = RolesSettings.clap_model

_INSTALL_HINT = "install torch and transformers: pip install torch==2.13.0 -e '.[clap]'"


@dataclasses.dataclass(frozen=True)
class PromptsFile:
    """The schema of ``prompts.yaml``: one list of prompts per role.

    The shipped file (`shipped_prompts`) names every role; a file laid over it only needs
    the roles it changes. ``load_config`` rejects unknown keys (roles) and items that are
    not strings, naming the file and the key.
    """

    CORE: tuple[str, ...]
    ACCENT: tuple[str, ...]
    MOTION: tuple[str, ...]
    FILL: tuple[str, ...]
    TEXTURE: tuple[str, ...]


@functools.cache
def shipped_prompts() -> PromptsFile:
    """The prompts the package ships (``roles/defaults/prompts.yaml``), read once.

    Raises
    ------
    DrumgenxError
        The package data is missing or damaged (e.g. a role left out), naming the file.
    """
    parsed = load_defaults(SHIPPED_PROMPTS_PATH, PromptsFile)
    _check_prompts(_by_role(parsed), str(SHIPPED_PROMPTS_PATH))
    return parsed


def _by_role(parsed: PromptsFile) -> dict[str, tuple[str, ...]]:
    return {role: getattr(parsed, role) for role in ROLES}


@dataclasses.dataclass(frozen=True)
class Prompts:
    """CLAP text prompts per role.

    Parameters
    ----------
    by_role
        Every role in ``ROLES`` -> a non-empty tuple of non-empty prompts. Default: the
        shipped prompts (`shipped_prompts`).

    Raises
    ------
    DrumgenxError
        A role missing or unknown, or a role without prompts.
    """

    by_role: dict[str, tuple[str, ...]] = dataclasses.field(
        default_factory=lambda: _by_role(shipped_prompts())
    )

    def __post_init__(self) -> None:
        _check_prompts(self.by_role, "prompts")

    @property
    def texts(self) -> list[str]:
        """All prompts, role by role in ``ROLES`` order."""
        return [text for role in ROLES for text in self.by_role[role]]


def _check_prompts(by_role: dict[str, Sequence[str]], where: str) -> None:
    unknown = sorted(set(by_role) - set(ROLES))
    if unknown:
        raise DrumgenxError(f"{where}: unknown role(s) {unknown}; known: {list(ROLES)}")
    for role in ROLES:
        if role not in by_role:
            raise DrumgenxError(f"{where}.{role}: missing; every role needs prompts")
        texts = by_role[role]
        if isinstance(texts, str) or not isinstance(texts, Sequence) or len(texts) == 0:
            raise DrumgenxError(f"{where}.{role}: expected a non-empty list of prompts")
        for i, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise DrumgenxError(f"{where}.{role}[{i}]: expected a non-empty string")


def trace_prompts(path: str | Path | None = None) -> Traced[PromptsFile]:
    """The prompts stage 2 uses, and where each role's came from.

    Parameters
    ----------
    path
        ``--prompts``: a YAML mapping role -> list of prompts, laid over the shipped prompts
        (roles it leaves out keep theirs). None: the checkout's
        ``stage2_role_assignment/prompts/prompts.yaml`` (found from the package's place,
        whatever the working directory), or the shipped prompts alone where there is no
        checkout (`drumgenx.roles.settings.prompts_file`).

    Returns
    -------
    Traced
        The prompts (a `PromptsFile`); each role the file changed is attributed to it.

    Raises
    ------
    DrumgenxError
        The file is missing or not YAML, names an unknown role, or gives a role an empty
        list or a prompt that is not a non-empty string; the message names the file and key.
    """
    default = shipped_prompts()
    file = prompts_file(path)
    if file is None:
        return trace(default)
    parsed = load_config(file, PromptsFile, base=default)
    _check_prompts(_by_role(parsed), str(file))
    return trace(default, (str(file), parsed))


def load_prompts(path: str | Path | None = None) -> Prompts:
    """The prompts stage 2 uses, schema-checked (`trace_prompts` documents the parameter
    and the errors)."""
    return Prompts(_by_role(trace_prompts(path).config))


def _pooled(output: Any) -> Any:
    """The embedding tensor of ``get_*_features``: a tensor in transformers 4, an output in 5."""
    return output if hasattr(output, "dim") else output.pooler_output


def _reason(exc: BaseException) -> str:
    """An exception as a short single line for the notice."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _resolve_source(model: str | Path) -> str:
    """The folder or cached hub name to load from; FileNotFoundError with a plain reason.

    Checked here rather than left to ``from_pretrained``, whose errors for a missing folder or
    an uncached hub name are long and misleading (they talk about repo-id syntax or
    huggingface.co).
    """
    folder = Path(model).expanduser()
    if folder.is_dir():
        return str(folder)
    text = str(model)
    # a Path, or a string no hub name could be ("./x", "/x", "~/x", "a/b/c"), is a folder
    if isinstance(model, Path) or text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise FileNotFoundError(f"no such folder: {folder}")
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.constants import HF_HUB_CACHE

    if not isinstance(try_to_load_from_cache(text, "config.json"), str):
        raise FileNotFoundError(
            f"not a folder, and not in the local Hugging Face cache ({HF_HUB_CACHE})"
        )
    return text


def checkpoint_identity(model: str | Path = DEFAULT_CLAP_MODEL) -> str | None:
    """What loading ``model`` would read, found without loading it.

    ``drumgenx run`` keys stage 2 on it, so a CLAP that becomes loadable (installed, or its
    checkpoint put in place) or a changed checkpoint redoes the roles.

    Parameters
    ----------
    model
        As for :meth:`ClapScorer.load`.

    Returns
    -------
    str or None
        None when nothing would load (torch or transformers not installed, no such folder,
        a hub name not in the local cache); for a folder, a hash of its files' names, sizes
        and modification times; for a cached hub name, its snapshot folder (which names the
        revision).
    """
    import hashlib
    import importlib.util
    import json

    if any(importlib.util.find_spec(name) is None for name in ("torch", "transformers")):
        return None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # as `ClapScorer.load`: never the network
    try:
        source = _resolve_source(model)
    except (FileNotFoundError, ImportError):
        return None
    folder = Path(source)
    if folder.is_dir():
        listing = [
            (p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        ]
        text = json.dumps([str(folder.resolve()), listing])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    from huggingface_hub import try_to_load_from_cache

    return str(Path(str(try_to_load_from_cache(source, "config.json"))).parent)


class ClapScorer:
    """A loaded CLAP model with its role text embeddings; :meth:`score` gives ``p_clap``.

    Build it with :meth:`load`. Attributes: ``name`` (what was loaded: the folder or hub
    name), ``device`` (``"cuda"`` or ``"cpu"``), ``logit_scale`` (``s`` in the module formula).
    """

    def __init__(
        self,
        *,
        name: str,
        model: Any,
        feature_extractor: Any,
        role_text: Any,
        logit_scale: float,
        truncation: str,
        device: str,
    ) -> None:
        self.name = name
        self.device = device
        self.logit_scale = logit_scale
        self._model = model
        self._feature_extractor = feature_extractor
        self._role_text = role_text  # (5, dim) torch tensor on `device`, rows unit-length
        self._truncation = truncation

    @classmethod
    def load(
        cls,
        model: str | Path = DEFAULT_CLAP_MODEL,
        *,
        prompts: Prompts,
        device: str | None = None,
        notify: Callable[[str], None],
    ) -> ClapScorer | None:
        """Load a CLAP checkpoint offline and embed the prompts, or say why not.

        Parameters
        ----------
        model
            A folder written by ``ClapModel.save_pretrained`` and
            ``ClapProcessor.save_pretrained``, or a hub name found in the local Hugging Face
            cache. Nothing is ever downloaded.
        prompts
            The role prompts; embedded once here.
        device
            ``"cuda"``, ``"cpu"``, ...; None: CUDA when available.
        notify
            Called once, with one line (why, and how to provide the weights), when the model
            cannot be loaded.

        Returns
        -------
        ClapScorer or None
            None when transformers is missing or the checkpoint cannot be loaded.
        """
        try:
            return cls._load(model, prompts=prompts, device=device)
        except ImportError as exc:
            notify(f"CLAP not used: {_reason(exc)}; to use it, {_INSTALL_HINT}")
        # why catch everything: a missing, partial or incompatible checkpoint surfaces as
        # OSError, ValueError, KeyError, RuntimeError... and must never stop stage 2, which
        # runs without CLAP.
        except Exception as exc:
            notify(
                Notice(
                    "CLAP not used: cannot load {model!r} offline ({reason}); fusing without "
                    "it. To use CLAP, point {0} at a folder saved with "
                    "ClapModel/ClapProcessor.save_pretrained or put the checkpoint in the "
                    "local Hugging Face cache (`hf download {default}` where online)",
                    "clap_model",
                    model=str(model),
                    reason=_reason(exc),
                    default=DEFAULT_CLAP_MODEL,
                )
            )
        return None

    @classmethod
    def _load(cls, model: str | Path, *, prompts: Prompts, device: str | None) -> ClapScorer:
        # why: huggingface_hub reads this when first imported; with it set a cache miss fails
        # at once instead of after minutes of retries. local_files_only is the real guard.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        # before importing torch/transformers (seconds): an absent model costs nothing
        source = _resolve_source(model)
        import torch
        import torch.nn.functional as F
        from transformers import ClapModel, ClapProcessor
        from transformers.utils import logging as hf_logging

        # why: stage 2 reports its own progress; transformers' weight-loading bars are noise
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            processor = ClapProcessor.from_pretrained(source, local_files_only=True)
            net = ClapModel.from_pretrained(source, local_files_only=True)
        finally:
            if bars:
                hf_logging.enable_progress_bar()

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        net = net.to(device).eval()
        # A fused checkpoint takes the 4-channel "fusion" input; an unfused one (the default)
        # the single-channel "rand_trunc" one. `score` keeps both deterministic.
        fused = bool(getattr(net.config.audio_config, "enable_fusion", False))
        truncation = "fusion" if fused else "rand_trunc"

        texts = prompts.texts
        tokens = processor.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        with torch.inference_mode():
            embedded = _pooled(
                net.get_text_features(
                    input_ids=tokens["input_ids"].to(device),
                    attention_mask=tokens["attention_mask"].to(device),
                )
            )
            embedded = F.normalize(embedded.float(), dim=-1)
            rows, start = [], 0
            for role in ROLES:
                count = len(prompts.by_role[role])
                rows.append(F.normalize(embedded[start : start + count].mean(dim=0), dim=-1))
                start += count
            role_text = torch.stack(rows)
            logit_scale = float(net.logit_scale_a.exp())
        return cls(
            name=source,
            model=net,
            feature_extractor=processor.feature_extractor,
            role_text=role_text,
            logit_scale=logit_scale,
            truncation=truncation,
            device=device,
        )

    def _prepare(self, y: np.ndarray, sr: int) -> np.ndarray:
        """Mono, at the extractor's rate, at most ``max_length_s`` long, at least 1 sample."""
        y = np.nan_to_num(np.asarray(y, dtype=np.float32))
        if y.ndim == 2:
            y = y.mean(axis=1)
        elif y.ndim != 1:
            raise ValueError(f"audio must be (frames,) or (frames, channels), got {y.shape}")
        rate = int(self._feature_extractor.sampling_rate)
        if y.size and int(sr) != rate:
            y = resample(y[:, None], int(sr), rate)[:, 0]
        # why cut here: longer input would get rand_trunc's (or fusion's) random crop
        y = y[: int(self._feature_extractor.nb_max_samples)]
        # why: repeatpad divides by the length; an empty clip scores as silence
        return y if y.size else np.zeros(1, dtype=np.float32)

    def score(self, clips: list[tuple[np.ndarray, int]], *, batch_size: int = 16) -> np.ndarray:
        """``p_clap`` for each clip (see the module docstring for the formula).

        Parameters
        ----------
        clips
            ``(audio, sample_rate)`` pairs; audio ``(frames,)`` or ``(frames, channels)``, any
            rate (resampled), mixed to mono.
        batch_size
            Clips per forward pass.

        Returns
        -------
        numpy.ndarray
            ``(len(clips), 5)`` float64, rows summing to 1, columns in ``ROLES`` order.
            Deterministic: the same clips give the same scores.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        out = np.empty((len(clips), len(ROLES)), dtype=np.float64)
        if not clips:
            return out
        import torch
        import torch.nn.functional as F

        extractor = self._feature_extractor
        for start in range(0, len(clips), batch_size):
            waves = [self._prepare(y, sr) for y, sr in clips[start : start + batch_size]]
            features = extractor(
                waves,
                sampling_rate=extractor.sampling_rate,
                truncation=self._truncation,
                padding="repeatpad",
                return_tensors="pt",
            )
            # why all False: no clip is longer than max_length after `_prepare`, and the
            # extractor would otherwise flag a random one as longer in "fusion" mode
            is_longer = torch.zeros((len(waves), 1), dtype=torch.bool, device=self.device)
            with torch.inference_mode():
                audio = _pooled(
                    self._model.get_audio_features(
                        input_features=features["input_features"].to(self.device),
                        is_longer=is_longer,
                    )
                )
                audio = F.normalize(audio.float(), dim=-1)
                logits = self.logit_scale * (audio @ self._role_text.T)
            logits = logits.double().cpu().numpy()
            logits -= logits.max(axis=1, keepdims=True)  # stable softmax
            probs = np.exp(logits)
            out[start : start + len(waves)] = probs / probs.sum(axis=1, keepdims=True)
        return out
