"""Drum separation: HPSS on synthetic signals; Demucs through its real loading code, offline.

The Demucs tests build a tiny HTDemucs (random weights), save it the way Demucs's own tools
do, and load it through the same code path as real weights: a local model repo
(``--demucs_repo``), the torch hub cache and the Hugging Face cache. The network is cut for
them (socket calls raise and are counted), and both caches point at empty temporary folders,
so weights a developer has cached never leak in.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drumgenx.core.errors import DrumgenxError
from drumgenx.preprocess.separation import (
    DrumSeparator,
    SeparationError,
    SeparationParams,
    hpss_percussive,
    make_separator,
)

SR = 44100
SOURCES = ["drums", "bass", "other", "vocals"]
# A tiny HTDemucs: 67 k parameters, 1 s segments at 16 kHz (the real one: 26.9 M, 7.8 s at
# 44.1 kHz), so the tests also cover resampling to and from the model's rate.
TINY = {"channels": 8, "depth": 3, "nfft": 1024, "t_layers": 0, "segment": 1}
TINY_SR = 16000

pytestmark = pytest.mark.filterwarnings(
    # Tiny-model construction warnings from torch (a zero-width layer's init), not ours.
    "ignore:Initializing zero-element tensors:UserWarning",
    "ignore:std\\(\\):UserWarning",
)


# --------------------------------------------------------------------------- helpers


def _chord_and_clicks(seconds: float = 3.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A sustained A-major chord (3 harmonics per note) plus 3 ms noise clicks every 250 ms.

    Returns ``(mix (frames, 1), clicks (frames,), click start indices)``.
    """
    n = int(SR * seconds)
    t = np.arange(n) / SR
    chord = sum(
        0.2 / h * np.sin(2 * np.pi * f * h * t) for f in (220.0, 277.18, 329.63) for h in (1, 2, 3)
    )
    period = SR // 4
    starts = np.arange(period // 2, n - period // 2, period)
    burst_len = int(0.003 * SR)
    burst = np.random.default_rng(1).standard_normal(burst_len)
    burst *= 0.8 * np.exp(-np.arange(burst_len) / (0.0008 * SR))
    clicks = np.zeros(n)
    for s in starts:
        clicks[s : s + burst_len] += burst
    return (chord + clicks).astype(np.float32)[:, None], clicks, starts


@pytest.fixture
def network_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to resolve a name or open a connection fails, and is recorded."""
    calls: list[str] = []

    def refuse(name: str):
        def fn(*args, **kwargs):
            calls.append(f"{name}{args[1:3] if name == 'connect' else args[:2]}")
            raise OSError("network disabled in this test")

        return fn

    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    return calls


@pytest.fixture
def demucs_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> dict[str, Path]:
    """torch and demucs installed, with empty torch hub and Hugging Face caches."""
    pytest.importorskip("torch", reason="torch is not installed (pip install torch==2.13.0 demucs)")
    pytest.importorskip(
        "demucs", reason="demucs is not installed (pip install torch==2.13.0 demucs)"
    )
    import torch
    from huggingface_hub import constants

    # Tiny tensors: extra threads only add synchronisation (10x slower on a busy 2-core box).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    request.addfinalizer(lambda: torch.set_num_threads(threads))

    torch_home = tmp_path / "torch_home"
    hf_cache = tmp_path / "hf_cache"
    monkeypatch.setenv("TORCH_HOME", str(torch_home))  # torch.hub.get_dir() reads it per call
    monkeypatch.setenv("HF_HUB_CACHE", str(hf_cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hf_cache))  # read at import otherwise
    return {"checkpoints": torch_home / "hub" / "checkpoints", "hf": hf_cache}


def _tiny_model(sources: list[str] = SOURCES):
    import torch
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(0)
    return HTDemucs(sources=sources, samplerate=TINY_SR, **TINY)


def _save_model(model, folder: Path, sig: str) -> Path:
    """``folder/<sig>-<sha256[:8]>.th``, as demucs's export does (demucs.states)."""
    from demucs.states import save_with_checksum

    args, kwargs = model._init_args_kwargs  # recorded by demucs's @capture_init
    package = {"klass": type(model), "args": args, "kwargs": kwargs, "state": model.state_dict()}
    folder.mkdir(parents=True, exist_ok=True)
    save_with_checksum(package, folder / f"{sig}.th")
    (path,) = folder.glob(f"{sig}-*.th")
    return path


@pytest.fixture
def tiny_repo(tmp_path: Path, demucs_caches: dict[str, Path]) -> Path:
    """A local model repo: ``tinysig-<sha256[:8]>.th`` and the bag ``tinybag.yaml``."""
    repo = tmp_path / "demucs_repo"
    path = _save_model(_tiny_model(), repo, "tinysig")
    assert len(path.stem.split("-")[1]) == 8
    (repo / "tinybag.yaml").write_text("models: ['tinysig']\n")
    return repo


# --------------------------------------------------------------------------- params, trivial


def test_import_loads_no_heavy_module() -> None:
    code = (
        "import sys, drumgenx.preprocess.separation; "
        "print(sorted(m for m in ('torch', 'demucs', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "bad",
    [
        {"method": "spleeter"},
        {"chunk_seconds": 0},
        {"hpss_n_fft": 2000, "hpss_hop": 512},
        {"hpss_kernel_harmonic": 30},
        {"hpss_margin": 0.5},
        {"hpss_mask": "hard"},
    ],
)
def test_invalid_params_are_user_errors(bad: dict) -> None:
    with pytest.raises(DrumgenxError) as info:
        SeparationParams(**bad)
    assert "\n" not in str(info.value)


def test_none_and_hpss_separators() -> None:
    y = np.random.default_rng(0).standard_normal((SR, 2)).astype(np.float32) * 0.1
    none = make_separator(SeparationParams(method="none"))
    hpss = make_separator(SeparationParams(method="hpss"))
    assert isinstance(none, DrumSeparator) and isinstance(hpss, DrumSeparator)
    assert (none.name, hpss.name) == ("none", "hpss")
    out, sr = none(y, SR)
    assert sr == SR and np.array_equal(out, y)
    out, sr = hpss(y, SR)
    assert sr == SR and out.shape == y.shape and out.dtype == np.float32


# --------------------------------------------------------------------------- HPSS


@pytest.mark.parametrize("mask", ["soft", "binary"])
def test_hpss_keeps_clicks_and_suppresses_chord(mask: str) -> None:
    mix, clicks, starts = _chord_and_clicks()
    out = hpss_percussive(mix, sr=SR, params=SeparationParams(hpss_mask=mask))
    assert out.shape == mix.shape and out.dtype == np.float32
    out = out[:, 0].astype(np.float64)
    n = len(out)

    # Between clicks (40 ms clear of each) the input is chord only: >= 10 dB less there.
    between = np.zeros(n, bool)
    period = SR // 4
    for s in starts:
        between[s + int(0.04 * SR) : s + period - int(0.04 * SR)] = True
    suppression_db = 10 * np.log10(np.sum(mix[between, 0] ** 2) / np.sum(out[between] ** 2))
    assert suppression_db >= 10, suppression_db  # measured: soft 27 dB, binary 38 dB

    # The clicks keep their energy (the chord under them is ~25 dB weaker than a click).
    at_clicks = clicks != 0
    kept_db = 10 * np.log10(np.sum(out[at_clicks] ** 2) / np.sum(clicks[at_clicks] ** 2))
    assert kept_db > -3, kept_db  # measured: -0.1 dB

    # Time-aligned: the output correlates best with the clicks at lag 0 (within 1 ms).
    size = 2 * n  # zero-padded: a linear, not circular, correlation
    xcorr = np.fft.irfft(np.fft.rfft(out, size) * np.conj(np.fft.rfft(clicks, size)), size)
    lag = int(np.argmax(np.concatenate([xcorr[-200:], xcorr[:201]]))) - 200
    assert abs(lag) <= SR // 1000, lag


def test_hpss_all_pass_mask_returns_input_sample_for_sample() -> None:
    # Kernels of 1 make H = P = |X|: the soft mask is exactly 1/2 everywhere, so the output
    # is the input halved, which checks the STFT round trip, its edges and its alignment.
    y = np.random.default_rng(2).standard_normal((SR + 123, 2)).astype(np.float32)
    params = SeparationParams(hpss_kernel_harmonic=1, hpss_kernel_percussive=1, hpss_margin=1.0)
    out = hpss_percussive(y, sr=SR, params=params)
    np.testing.assert_allclose(out, y / 2, atol=2e-6)
    mono = hpss_percussive(y[:, 0], sr=SR, params=params)  # 1-D in, 1-D out
    np.testing.assert_allclose(mono, y[:, 0] / 2, atol=2e-6)


def test_hpss_blocks_equal_whole_file() -> None:
    y = np.random.default_rng(3).standard_normal((3 * SR + 77, 2)).astype(np.float32)
    whole = hpss_percussive(y, sr=SR, params=SeparationParams(chunk_seconds=60))
    blocks = hpss_percussive(y, sr=SR, params=SeparationParams(chunk_seconds=0.1))
    np.testing.assert_allclose(blocks, whole, atol=1e-5)


def test_hpss_edge_cases() -> None:
    assert hpss_percussive(np.zeros((0, 2), np.float32), sr=SR).shape == (0, 2)
    silent = hpss_percussive(np.zeros((1000, 1), np.float32), sr=SR)
    assert silent.shape == (1000, 1) and not silent.any()
    short = hpss_percussive(np.ones((5, 2), np.float32), sr=SR)
    assert short.shape == (5, 2) and np.isfinite(short).all()


# --------------------------------------------------------------------------- Demucs, loading


def test_demucs_from_local_repo(tiny_repo: Path, network_calls: list[str]) -> None:
    params = SeparationParams(method="demucs", demucs_model="tinybag", demucs_repo=str(tiny_repo))
    sep = make_separator(params)
    assert isinstance(sep, DrumSeparator) and sep.name == "demucs:tinybag"
    assert sep.segment == 1  # the model's own: 1 s < chunk_seconds

    y = np.random.default_rng(4).standard_normal((2 * SR, 2)).astype(np.float32) * 0.1
    drums, sr = sep(y, SR)
    assert sr == SR and drums.shape == y.shape and drums.dtype == np.float32
    assert np.isfinite(drums).all() and np.abs(drums).max() > 0
    mono, sr = sep(y[: SR // 2, :1], SR)  # mono: copied to the model's 2 channels and back
    assert sr == SR and mono.shape == (SR // 2, 1) and np.isfinite(mono).all()
    assert network_calls == []


def test_demucs_chunks_equal_apply_model_on_whole_file(tiny_repo: Path) -> None:
    import torch
    from demucs.apply import apply_model

    chunk = 0.4  # shorter than the model's 1 s segment: many overlapping pieces
    params = SeparationParams(
        method="demucs", demucs_model="tinybag", demucs_repo=str(tiny_repo), chunk_seconds=chunk
    )
    sep = make_separator(params)
    assert sep.segment == chunk
    y = np.random.default_rng(5).standard_normal((int(2.5 * TINY_SR), 2)).astype(np.float32)
    drums, sr = sep(y, TINY_SR)  # at the model's rate: no resampling in between
    assert sr == TINY_SR

    # Demucs's own whole-file path (demucs.separate: normalise, apply_model, undo).
    ref = y.mean(axis=1)
    mean, std = ref.mean(), ref.std()
    mix = torch.from_numpy(((y - mean) / std).T.copy())[None]
    with torch.no_grad():
        est = apply_model(sep.model, mix, shifts=0, split=True, overlap=0.25, segment=chunk)
    expected = est[0, SOURCES.index("drums")].numpy().T * std + mean
    np.testing.assert_allclose(drums, expected, atol=1e-5)


def test_demucs_from_torch_hub_cache(demucs_caches: dict[str, Path]) -> None:
    # What older Demucs and torch.hub downloads leave: <sig>-<sha256[:8]>.th files.
    _save_model(_tiny_model(), demucs_caches["checkpoints"], "abcd1234")
    sep = make_separator(SeparationParams(method="demucs", demucs_model="abcd1234"))
    assert sep.name == "demucs:abcd1234"
    drums, _ = sep(np.zeros((SR // 4, 2), np.float32), SR)
    assert drums.shape == (SR // 4, 2)


def test_demucs_from_hugging_face_cache(
    demucs_caches: dict[str, Path], network_calls: list[str]
) -> None:
    # What Demucs >= 4.1 downloads leave (demucs.hf): <bag>.yaml and <sig>.safetensors in the
    # hub's cache layout, models--<namespace>--<repo>/{refs/main, snapshots/<commit>/...}.
    from demucs.hf import DEFAULT_NAMESPACE, hf_repo_name
    from safetensors.torch import save_file

    model = _tiny_model()
    args, kwargs = model._init_args_kwargs
    commit = "0123456789abcdef0123456789abcdef01234567"
    entry = demucs_caches["hf"] / f"models--{DEFAULT_NAMESPACE}--{hf_repo_name('tinyhf')}"
    snapshot = entry / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (entry / "refs").mkdir()
    (entry / "refs" / "main").write_text(commit)
    (snapshot / "tinyhf.yaml").write_text("models: ['ef567890']\n")
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()},
        str(snapshot / "ef567890.safetensors"),
        metadata={
            "klass": "demucs.htdemucs.HTDemucs",
            "args": json.dumps(list(args)),
            "kwargs": json.dumps(kwargs),
        },
    )
    sep = make_separator(SeparationParams(method="demucs", demucs_model="tinyhf"))
    assert sep.name == "demucs:tinyhf"
    assert network_calls == []


# --------------------------------------------------------------------------- Demucs, failing


def test_auto_without_weights_falls_back_at_once_with_one_notice(
    demucs_caches: dict[str, Path], network_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    # Offline must not depend on the user's settings (tests/conftest.py sets the variable).
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    notices: list[str] = []
    sep = make_separator(SeparationParams(method="auto"), notify=notices.append)
    assert sep.name == "hpss"
    assert len(notices) == 1
    assert (
        "htdemucs" in notices[0] and "point demucs_repo at" in notices[0] and "HPSS" in notices[0]
    )
    assert "\n" not in notices[0]
    # the command line says the same with its flag (core.console.flag_notice)
    assert "point --demucs_repo at" in notices[0].named({"demucs_repo": "--demucs_repo"})
    assert network_calls == []  # no download attempt, so no retries
    assert "HF_HUB_OFFLINE" not in os.environ and constants.HF_HUB_OFFLINE is False  # restored


@pytest.mark.parametrize("where", ["caches", "empty repo", "missing repo", "wrong name"])
def test_demucs_without_weights_is_a_one_line_error(
    where: str, tiny_repo: Path, tmp_path: Path, network_calls: list[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    repo, name = {
        "caches": (None, "htdemucs"),
        "empty repo": (str(empty), "htdemucs"),
        "missing repo": (str(tmp_path / "nope"), "htdemucs"),
        "wrong name": (str(tiny_repo), "htdemucs"),
    }[where]
    params = SeparationParams(method="demucs", demucs_model=name, demucs_repo=repo)
    with pytest.raises(DrumgenxError) as info:
        make_separator(params, notify=pytest.fail)
    message = str(info.value)
    assert isinstance(info.value, SeparationError)
    assert "\n" not in message and "htdemucs" in message and "demucs_repo" in message
    flagged = str(info.value.named({"demucs_repo": "--demucs_repo"}))
    assert "point --demucs_repo at" in flagged and "--" not in message
    if where == "missing repo":
        assert f"--demucs_repo {tmp_path / 'nope'}: no such folder" in flagged
    assert network_calls == []


@pytest.mark.parametrize("module", ["demucs", "torch"])
def test_without_torch_or_demucs(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now raises ImportError
    notices: list[str] = []
    sep = make_separator(SeparationParams(method="auto"), notify=notices.append)
    assert sep.name == "hpss" and len(notices) == 1 and "not installed" in notices[0]
    with pytest.raises(SeparationError, match="not installed"):
        make_separator(SeparationParams(method="demucs"))


def test_model_without_drums_source(tmp_path: Path, demucs_caches: dict[str, Path]) -> None:
    repo = tmp_path / "repo"
    _save_model(_tiny_model(["bass", "other"]), repo, "nodrums")
    params = SeparationParams(method="demucs", demucs_model="nodrums", demucs_repo=str(repo))
    with pytest.raises(SeparationError, match="no 'drums' source"):
        make_separator(params)
    notices: list[str] = []
    auto = make_separator(dataclasses.replace(params, method="auto"), notify=notices.append)
    assert auto.name == "hpss" and len(notices) == 1 and "no 'drums' source" in notices[0]


def test_unusable_device(tiny_repo: Path) -> None:
    params = SeparationParams(
        method="demucs", demucs_model="tinybag", demucs_repo=str(tiny_repo), device="cuda:99"
    )
    with pytest.raises(SeparationError, match="cuda:99"):
        make_separator(params)
