"""Library map: the PCA projection, the feature matrix, and the PNG for 1, 2 and 500 samples."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from matplotlib.image import imread

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES
from drumgenx.pictures.library_map import _pca, feature_matrix, library_map_png, project_2d

FEATURES = ("attack_time_ms", "spectral_centroid_hz", "spectral_flatness", "low_band_ratio")


def _library(n: int, *, seed: int = 0) -> list[dict]:
    """``n`` per_sample records: a kick-like and a hat-like family, roles by family."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        hat = i % 2 == 1
        out.append(
            {
                "sample_id": f"dummy_{i:05d}",
                "role": "MOTION" if hat else ROLES[(i // 2) % 2 * 4],  # CORE or TEXTURE
                "features": {
                    "attack_time_ms": float(rng.uniform(1, 3) if hat else rng.uniform(5, 9)),
                    "spectral_centroid_hz": float(8000 + rng.normal(0, 500) if hat else 150),
                    "spectral_flatness": float(rng.uniform(0.6, 0.9) if hat else 0.05),
                    "low_band_ratio": float(0.01 if hat else rng.uniform(0.7, 0.9)),
                },
            }
        )
    return out


def _decode(png: bytes) -> np.ndarray:
    return imread(io.BytesIO(png), format="png")


def test_two_obviously_different_clusters_separate_on_the_first_axis() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0.0, 1.0, (40, 6))
    b = rng.normal(0.0, 1.0, (40, 6))
    b[:, :3] += 12.0  # far apart on three features, alike on the others
    xy, explained = project_2d(np.vstack([a, b]))
    first_a, first_b = xy[:40, 0], xy[40:, 0]
    assert first_a.max() < first_b.min() or first_b.max() < first_a.min()
    assert explained[0] > 0.4 and explained[0] >= explained[1] >= 0
    assert explained.sum() <= 1 + 1e-9


def test_sign_and_result_do_not_depend_on_sample_order_or_units() -> None:
    x = np.random.default_rng(2).normal(size=(30, 5))
    xy, _ = project_2d(x)
    assert project_2d(x[::-1])[0] == pytest.approx(xy[::-1])
    scaled = x * np.array([1000.0, 1.0, 0.001, 5.0, 1.0]) + 7.0  # z-scored away
    assert project_2d(scaled)[0] == pytest.approx(xy)
    _, _, components = _pca(x)
    for comp in components:
        assert comp[np.argmax(np.abs(comp))] > 0  # the largest loading is positive


def test_constant_and_missing_features_neither_break_nor_move_the_map() -> None:
    x = np.random.default_rng(3).normal(size=(20, 3))
    padded = np.column_stack([x, np.full(20, 4.2), np.full(20, np.nan)])
    assert project_2d(padded)[0] == pytest.approx(project_2d(x)[0])
    holes = x.copy()
    holes[0, 1] = np.nan
    holes[5, 2] = np.inf
    xy, explained = project_2d(holes)
    assert np.isfinite(xy).all() and np.isfinite(explained).all()


def test_one_and_two_samples_lie_on_a_line() -> None:
    xy, explained = project_2d(np.array([[1.0, 2.0, 3.0]]))
    assert xy.tolist() == [[0.0, 0.0]] and explained.tolist() == [0.0, 0.0]
    xy, explained = project_2d(np.array([[1.0, 2.0, 3.0], [2.0, 0.0, 3.0]]))
    assert xy[:, 1].tolist() == [0.0, 0.0] and xy[0, 0] != xy[1, 0]
    assert explained.tolist() == pytest.approx([1.0, 0.0])
    xy, explained = project_2d(np.ones((4, 3)))  # all alike: all at the origin
    assert not xy.any() and not explained.any()


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(0, 5)),
        elements=st.floats(-1e6, 1e6) | st.just(np.nan),
    )
)
def test_any_matrix_projects_to_finite_points(x: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stray numpy warnings for a user to puzzle over
        xy, explained = project_2d(x)
    assert xy.shape == (x.shape[0], 2) and np.isfinite(xy).all()
    assert np.isfinite(explained).all() and 0 <= explained.sum() <= 1 + 1e-9


def test_feature_matrix_unions_names_and_logs_times_and_frequencies() -> None:
    samples = [
        {"features": {"spectral_centroid_hz": 999.0, "crest_factor_db": -3.0}},
        {"features": {"spectral_flatness": 0.5}},
    ]
    matrix, names = feature_matrix(samples)
    assert names == ["crest_factor_db", "spectral_centroid_hz", "spectral_flatness"]
    assert matrix[0].tolist()[:2] == [-3.0, pytest.approx(np.log1p(999.0))]
    assert np.isnan(matrix[1, 0]) and matrix[1, 2] == 0.5


@pytest.mark.parametrize("n", [1, 2, 500])
def test_map_draws_any_library_size_at_its_fixed_size(n: int) -> None:
    samples = _library(n)
    image = _decode(library_map_png(samples, chosen=[samples[0]["sample_id"]], dpi=50))
    assert image.shape[:2] == (340, 425)  # 6.8 x 8.5 inches at 50 dpi


def test_chosen_samples_are_ringed_in_black() -> None:
    samples = _library(500)  # too many to name, so only the chosen are drawn differently
    ids = [s["sample_id"] for s in samples[:30]]  # too many chosen to name: rings only
    plain = _decode(library_map_png(samples))
    marked = _decode(library_map_png(samples, chosen=ids))

    def dark(image: np.ndarray) -> int:
        return int((image[..., :3].max(axis=-1) < 0.15).sum())

    assert dark(marked) > dark(plain) + 1000  # rings, not just the legend entry (~250 px)


def test_same_library_gives_the_same_bytes() -> None:
    samples = _library(40)
    first = library_map_png(samples, chosen=["dummy_00003"], title="kit")
    assert first == library_map_png(samples, chosen=["dummy_00003"], title="kit")


def test_bad_libraries_are_user_errors() -> None:
    with pytest.raises(DrumgenxError, match="no samples"):
        library_map_png([])
    with pytest.raises(DrumgenxError, match="unknown role"):
        library_map_png([{"sample_id": "a", "role": "COWBELL", "features": {}}])
    with pytest.raises(DrumgenxError, match="sample_id"):
        library_map_png([{"role": "CORE", "features": {}}])
    with pytest.raises(DrumgenxError, match="dpi"):
        library_map_png(_library(3), dpi=10_000)
