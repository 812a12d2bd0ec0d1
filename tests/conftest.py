"""Shared test set-up: no network for model hubs, paths to the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights are never downloaded in tests

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


# --- a tiny transcriber (tests must not need the shipped weights) --------------------------


def build_tiny_transcriber():  # -> drumgenx.transcribe.model.TranscriberModel
    """A hand-set transcriber of the shipped architecture's layer kinds, built in numpy.

    The 3x3 convolution passes the spectral rises channel through, pooling keeps the largest
    rise of each 3 filters, and a 1x1 convolution over time reads "any hit" from the mean
    rise (a spectral-flux detector: ~0.3-0.8 at a kit hit, below 0.05 between hits) and each
    class from where in frequency the rise is (kick: below 150 Hz, tom: 150-500 Hz, snare:
    0.5-3 kHz, cymbal: above 3 kHz, hi-hat: above 6 kHz). The rise peaks one frame before
    the attack, hence ``time_offset_s``. Deterministic; it needs no training.
    """
    import numpy as np

    from drumgenx.transcribe.features import FPS, N_FFT, SR, _filterbank, n_filters
    from drumgenx.transcribe.model import Layer, TranscriberModel

    filters = n_filters()
    w2 = np.zeros((1, 2, 3, 3), np.float32)
    w2[0, 1, 1, 1] = 1.0  # the rises channel, centre tap
    pooled = filters // 3
    fb = _filterbank()
    centre_hz = (fb * np.arange(fb.shape[0])[:, None]).sum(axis=0) * SR / N_FFT
    pooled_hz = centre_hz[: pooled * 3].reshape(pooled, 3).mean(axis=1)
    bands = {  # the order of CLASSES
        "kick": pooled_hz < 150,
        "snare": (pooled_hz >= 500) & (pooled_hz < 3000),
        "hihat": pooled_hz >= 6000,
        "tom": (pooled_hz >= 150) & (pooled_hz < 500),
        "cymbal": pooled_hz >= 3000,
    }
    w1 = np.zeros((6, pooled, 1), np.float32)
    b1 = np.zeros(6, np.float32)
    for k, band in enumerate(bands.values()):
        w1[k, band, 0] = 8.0 / band.sum()
        w1[k, :, 0] -= 8.0 / pooled  # the band's mean rise against the overall mean
    w1[5, :, 0] = 20.0 / pooled
    b1[5] = -20.0 * 0.25
    return TranscriberModel(
        layers=(
            Layer("conv2d", w2, np.zeros(1, np.float32)),
            Layer("pool", size=3),
            Layer("flatten"),
            Layer("conv1d", w1, b1, dilation=1),
        ),
        mean=np.zeros((2, filters), np.float32),
        std=np.ones((2, filters), np.float32),
        thresholds=(0.5,) * 6,
        time_offset_s=1.0 / FPS,
        meta={"version": "tiny-test", "date": "2026-12-07", "note": "tests/conftest.py"},
    )


@pytest.fixture(scope="session")
def tiny_transcriber():  # -> TranscriberModel
    return build_tiny_transcriber()


@pytest.fixture(scope="session")
def tiny_transcriber_path(tmp_path_factory: pytest.TempPathFactory, tiny_transcriber) -> Path:
    """The tiny transcriber saved as weights (``--model`` / ``transcriber_weights``)."""
    from drumgenx.transcribe.model import save_model

    path = tmp_path_factory.mktemp("transcriber") / "tiny_transcriber.npz"
    save_model(path, tiny_transcriber)
    return path


@pytest.fixture
def one_torch_thread(request) -> None:
    """Tiny tensors: extra threads only add synchronisation (10x slower on a busy 2-core box)."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    request.addfinalizer(lambda: torch.set_num_threads(threads))


@pytest.fixture(scope="session")
def scheduler() -> str:
    """The address of a 2-worker Dask cluster in this process (threads; starts in a second),
    shared by the tests of ``--engine dask``."""
    distributed = pytest.importorskip(
        "distributed", reason="the cluster extra is not installed (pip install -e '.[cluster]')"
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address
