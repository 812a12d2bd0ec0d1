"""CLAP scoring: prompts files, a tiny random CLAP loaded through the real path, no-CLAP path.

The tiny model (random weights, ~15 k parameters) and its byte-level BPE tokenizer are built
and saved to a folder once per module, then loaded with ``ClapScorer.load(folder)`` exactly as
a real checkpoint folder would be. Nothing touches the network (tests/conftest.py sets
HF_HUB_OFFLINE=1; the no-CLAP tests also make any socket connect fail).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES
from drumgenx.roles.clap import (
    DEFAULT_CLAP_MODEL,
    ClapScorer,
    Prompts,
    load_prompts,
    shipped_prompts,
)
from drumgenx.roles.settings import CHECKOUT_PROMPTS_PATH, SHIPPED_PROMPTS_PATH

needs_transformers = pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None,
    reason="transformers is not installed (pip install -e '.[clap]'): tiny-CLAP tests skipped",
)

SR = 48_000


# --- prompts -------------------------------------------------------------------------------


def test_the_seeds_prompts_file_equals_the_shipped_defaults(repo_root: Path) -> None:
    path = repo_root / "stage2_role_assignment" / "prompts" / "prompts.yaml"
    assert path == CHECKOUT_PROMPTS_PATH
    assert path.read_bytes() == SHIPPED_PROMPTS_PATH.read_bytes()
    assert load_prompts(path) == Prompts() == load_prompts(None)
    assert Prompts().by_role == {role: getattr(shipped_prompts(), role) for role in ROLES}
    assert list(Prompts().by_role) == list(ROLES)
    assert all(len(texts) >= 3 for texts in Prompts().by_role.values())  # several per role


def test_installed_package_without_checkout_uses_the_shipped_prompts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drumgenx.roles.settings as settings

    monkeypatch.setattr(settings, "CHECKOUT_PROMPTS_PATH", tmp_path / "absent.yaml")
    assert load_prompts() == Prompts()


def test_the_checkouts_prompts_are_read_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edited checkout file changes the defaults wherever the command is started."""
    import drumgenx.roles.settings as settings

    edited = tmp_path / "checkout" / "prompts.yaml"
    edited.parent.mkdir()
    edited.write_text("FILL: [a door slam]\n", encoding="utf-8")
    monkeypatch.setattr(settings, "CHECKOUT_PROMPTS_PATH", edited)
    monkeypatch.chdir(tmp_path)
    prompts = load_prompts()
    assert prompts.by_role["FILL"] == ("a door slam",)
    assert prompts.by_role["CORE"] == Prompts().by_role["CORE"]
    given = tmp_path / "mine.yaml"
    given.write_text("CORE: [a kick]\n", encoding="utf-8")
    instead = load_prompts(given)  # --prompts is read instead of the checkout's file
    assert instead.by_role["CORE"] == ("a kick",)
    assert instead.by_role["FILL"] == Prompts().by_role["FILL"]


def test_prompts_file_may_change_only_some_roles(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("CORE: [a kick]\nTEXTURE: [rain, wind]\n", encoding="utf-8")
    prompts = load_prompts(path)
    assert prompts.by_role["CORE"] == ("a kick",)
    assert prompts.by_role["TEXTURE"] == ("rain", "wind")
    assert prompts.by_role["ACCENT"] == Prompts().by_role["ACCENT"]
    assert prompts.texts[0] == "a kick"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("KICK: [a kick]\n", "KICK"),  # unknown role
        ("CORE: []\n", "CORE"),  # empty list
        ("ACCENT: [a snare, '  ']\n", "ACCENT[1]"),  # blank prompt
        ("MOTION: [a hat, 3]\n", "MOTION[1]"),  # not a string
        ("FILL: a tom\n", "FILL"),  # a string, not a list
        ("- CORE\n", "mapping"),  # not a mapping
        ("CORE: [a kick\n", "not valid YAML"),
    ],
)
def test_prompts_file_errors_name_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad_prompts.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DrumgenxError) as err:
        load_prompts(path)
    assert "bad_prompts.yaml" in str(err.value)
    assert key in str(err.value)


def test_missing_prompts_file(tmp_path: Path) -> None:
    with pytest.raises(DrumgenxError, match=r"no_such\.yaml"):
        load_prompts(tmp_path / "no_such.yaml")


def test_prompts_object_is_checked() -> None:
    by_role = dict(Prompts().by_role)
    del by_role["FILL"]
    with pytest.raises(DrumgenxError, match="FILL"):
        Prompts(by_role)
    with pytest.raises(dataclasses.FrozenInstanceError):
        Prompts().by_role = {}  # type: ignore[misc]


def test_importing_the_module_imports_neither_torch_nor_transformers() -> None:
    code = (
        "import sys, drumgenx.roles.clap; "
        "print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- a tiny CLAP checkpoint ----------------------------------------------------------------


def _save_tiny_clap(folder: Path) -> None:
    """A random ~15 k-parameter CLAP + tokenizer + feature extractor, saved like a checkpoint."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import (
        ClapConfig,
        ClapFeatureExtractor,
        ClapModel,
        ClapProcessor,
        RobertaTokenizer,
    )

    folder.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        Prompts().texts * 4,
        vocab_size=300,
        min_frequency=1,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    )
    bpe.save_model(str(folder))
    # transformers 5 ignores the old vocab_file=/merges_file= keywords (a 5-token vocabulary)
    tokenizer = RobertaTokenizer(
        vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"), model_max_length=64
    )
    assert len(tokenizer) > 256
    config = ClapConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 32,
            "max_position_embeddings": 66,
        },
        # why patch 8 and two stages: 8x8 patches of the 256x256 mel image keep a forward
        # pass ~100x cheaper than the real 4x4 patches; the input (1001x64 mel) is the real one
        audio_config={
            "patch_embeds_hidden_size": 8,
            "hidden_size": 16,
            "depths": [1, 1],
            "num_attention_heads": [1, 1],
            "patch_size": 8,
            "patch_stride": [8, 8],
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    ClapModel(config).save_pretrained(folder)
    # the default extractor's truncation="fusion" does not fit an unfused config
    extractor = ClapFeatureExtractor(truncation="rand_trunc")
    ClapProcessor(feature_extractor=extractor, tokenizer=tokenizer).save_pretrained(folder)


@pytest.fixture(scope="module")
def tiny_clap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_clap")
    _save_tiny_clap(folder)
    return folder


@pytest.fixture(scope="module")
def scorer(tiny_clap: Path) -> ClapScorer:
    notices: list[str] = []
    loaded = ClapScorer.load(tiny_clap, prompts=Prompts(), device="cpu", notify=notices.append)
    assert loaded is not None and notices == []
    return loaded


def _clips() -> list[tuple[np.ndarray, int]]:
    rng = np.random.default_rng(0)
    t = np.arange(int(0.3 * 44_100)) / 44_100
    kick = np.sin(2 * np.pi * 55 * t) * np.exp(-t / 0.08)
    hat = rng.standard_normal(2_000) * np.exp(-np.arange(2_000) / 300)
    stereo = np.stack([kick, 0.5 * kick], axis=1)
    long_bed = 0.1 * rng.standard_normal(12 * 16_000)  # longer than CLAP's 10 s window
    return [
        (kick.astype(np.float32), 44_100),
        (hat, SR),
        (stereo, 44_100),
        (long_bed, 16_000),
        (np.zeros(0, dtype=np.float32), SR),  # empty: scores as silence
    ]


@needs_transformers
def test_tiny_clap_scores_are_distributions(scorer: ClapScorer, tiny_clap: Path) -> None:
    p = scorer.score(_clips(), batch_size=2)
    assert p.shape == (5, len(ROLES)) and p.dtype == np.float64
    assert np.isfinite(p).all() and (p > 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)
    assert scorer.name == str(tiny_clap) and scorer.device == "cpu"
    assert scorer.score([]).shape == (0, len(ROLES))


@needs_transformers
def test_tiny_clap_is_deterministic_and_batch_independent(scorer: ClapScorer) -> None:
    np.random.seed(1)
    first = scorer.score(_clips(), batch_size=16)
    np.random.seed(2)  # the extractor's random paths (crops, fusion) must not be taken
    again = scorer.score(_clips(), batch_size=16)
    np.testing.assert_array_equal(first, again)
    one_by_one = scorer.score(_clips(), batch_size=1)
    np.testing.assert_allclose(one_by_one, first, atol=1e-6)


@needs_transformers
def test_formula_matches_clap_logits_per_audio(tiny_clap: Path) -> None:
    # with one prompt per role, p_clap = softmax(ClapModel's own logits_per_audio)
    import torch
    from transformers import ClapModel, ClapProcessor

    texts = ["a kick", "a snare", "a hat", "a tom", "rain"]
    prompts = Prompts({role: (text,) for role, text in zip(ROLES, texts, strict=True)})
    scorer = ClapScorer.load(tiny_clap, prompts=prompts, device="cpu", notify=pytest.fail)
    assert scorer is not None
    wave = (0.5 * np.sin(2 * np.pi * 200 * np.arange(SR // 4) / SR)).astype(np.float32)
    p = scorer.score([(wave, SR)])

    processor = ClapProcessor.from_pretrained(tiny_clap)
    model = ClapModel.from_pretrained(tiny_clap).eval()
    inputs = processor.tokenizer(texts, padding=True, return_tensors="pt")
    audio = processor.feature_extractor(
        [wave], sampling_rate=SR, truncation="rand_trunc", return_tensors="pt"
    )
    with torch.inference_mode():
        logits = model(
            input_ids=inputs["input_ids"],
            attention_mask=inputs["attention_mask"],
            input_features=audio["input_features"],
        ).logits_per_audio
    np.testing.assert_allclose(p, torch.softmax(logits.double(), dim=-1).numpy(), atol=1e-5)


# --- no CLAP -------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any socket connect fails and is recorded."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


@needs_transformers
@pytest.mark.parametrize(
    "model",
    [
        "missing_folder",  # a Path that does not exist
        "drumgenx-tests/no-such-clap",  # a hub name not in the local cache
        DEFAULT_CLAP_MODEL,  # the default is not in this machine's cache either
    ],
)
def test_unloadable_clap_gives_none_and_one_notice(
    tmp_path: Path, no_network: list[object], model: str
) -> None:
    if model == DEFAULT_CLAP_MODEL and importlib.util.find_spec("huggingface_hub"):
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(model, "config.json"), str):
            pytest.skip("laion/clap-htsat-unfused is in the local cache here")
    target: str | Path = tmp_path / model if model == "missing_folder" else model
    notices: list[str] = []
    start = time.perf_counter()
    scorer = ClapScorer.load(target, prompts=Prompts(), notify=notices.append)
    assert scorer is None
    assert time.perf_counter() - start < 5.0  # no retries
    assert len(notices) == 1 and "\n" not in notices[0]
    assert "point clap_model at" in notices[0] and "cache" in notices[0]
    assert "point --clap_model at" in notices[0].named({"clap_model": "--clap_model"})
    assert no_network == []


def test_missing_transformers_gives_none_and_one_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)  # import fails as if not installed
    notices: list[str] = []
    assert ClapScorer.load(tmp_path, prompts=Prompts(), notify=notices.append) is None
    assert len(notices) == 1 and "transformers" in notices[0]
