"""Tests for finding and decoding the samples an event grid names (`render.samples`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx.core.errors import DrumgenxError, MissingSamplesError
from drumgenx.core.pools import resolve_sample_path
from drumgenx.core.records import PoolItem, Pools
from drumgenx.render.samples import load_samples

SR = 44100


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty folder, so relative pool paths never hit the checkout by chance."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


def write_wav(path: Path, frames: int = 64, channels: int = 1, sr: int = SR) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = np.full((frames, channels), 0.25, dtype=np.float32)
    soundfile.write(path, data, sr, subtype="FLOAT")
    return path


def pools_with(sample_id: str, filepath: str | Path, role: str = "MOTION") -> Pools:
    return Pools(by_role={role: [PoolItem(sample_id, str(filepath), 0.9)]})


def resolve(
    sample_id: str,
    *,
    pools: Pools | None = None,
    pools_dir: Path | None = None,
    sample_root: Path | None = None,
) -> Path | None:
    return resolve_sample_path(sample_id, pools=pools, pools_dir=pools_dir, sample_root=sample_root)


# --- resolve_sample_path ------------------------------------------------------------------


def test_absolute_pool_filepath_wins(tmp_path: Path) -> None:
    """An existing absolute ``filepath`` is used even if the sample root has a same-id file."""
    given = write_wav(tmp_path / "library" / "kick_07.wav")
    root = tmp_path / "root"
    write_wav(root / "s1.wav")
    write_wav(root / "kick_07.wav")
    found = resolve("s1", pools=pools_with("s1", given), pools_dir=tmp_path, sample_root=root)
    assert found == given


def test_relative_filepath_is_tried_from_cwd_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative ``filepath`` that exists from the current folder beats the pools folder."""
    cwd, pools_dir = tmp_path / "cwd", tmp_path / "pools"
    write_wav(cwd / "x" / "hat.wav")
    write_wav(pools_dir / "x" / "hat.wav")
    monkeypatch.chdir(cwd)
    found = resolve("s1", pools=pools_with("s1", "x/hat.wav"), pools_dir=pools_dir)
    assert found is not None and found.resolve() == (cwd / "x" / "hat.wav").resolve()


def test_relative_filepath_resolves_against_pools_dir(tmp_path: Path) -> None:
    """Relative to the pools file's folder, before anything under the sample root."""
    pools_dir, root = tmp_path / "pools", tmp_path / "root"
    expected = write_wav(pools_dir / "sub" / "hat.wav")
    write_wav(root / "sub" / "hat.wav")
    write_wav(root / "hat.wav")
    write_wav(root / "s1.wav")
    pools = pools_with("s1", "sub/hat.wav")
    assert resolve("s1", pools=pools, pools_dir=pools_dir, sample_root=root) == expected


def test_relative_filepath_under_sample_root_before_file_name(tmp_path: Path) -> None:
    """Without it next to the pools file: ``sample_root/filepath``, then
    ``sample_root/<file name>``."""
    root = tmp_path / "root"
    pools = pools_with("s1", "sub/hat.wav")
    by_name = write_wav(root / "hat.wav")
    assert resolve("s1", pools=pools, pools_dir=tmp_path, sample_root=root) == by_name
    by_path = write_wav(root / "sub" / "hat.wav")
    assert resolve("s1", pools=pools, pools_dir=tmp_path, sample_root=root) == by_path


def test_moved_absolute_filepath_found_by_name_under_sample_root(tmp_path: Path) -> None:
    """A pool made on another machine: its absolute path is gone, its file name is in the
    sample root (preferred over ``<sample_id>.wav``)."""
    root = tmp_path / "root"
    by_name = write_wav(root / "snare_03.wav")
    write_wav(root / "s1.wav")
    pools = pools_with("s1", tmp_path / "elsewhere" / "snare_03.wav")
    assert resolve("s1", pools=pools, pools_dir=tmp_path, sample_root=root) == by_name


def test_sample_id_file_under_sample_root(tmp_path: Path) -> None:
    """No pools (or the id is in none): ``sample_root/<sample_id>.<ext>``, any audio type."""
    wav = write_wav(tmp_path / "s000001.wav")
    assert resolve("s000001", sample_root=tmp_path) == wav
    assert resolve("s000001", pools=pools_with("other", "x.wav"), sample_root=tmp_path) == wav
    flac = tmp_path / "s000002.flac"
    soundfile.write(flac, np.zeros(32, dtype=np.float32), SR)
    assert resolve("s000002", sample_root=tmp_path) == flac


def test_unresolvable_is_none(tmp_path: Path) -> None:
    """Nothing anywhere: None (not an exception); a folder named like the sample is no file."""
    (tmp_path / "s1.wav").mkdir()
    assert resolve("s1", sample_root=tmp_path) is None
    assert resolve("s1") is None
    assert resolve("s1", pools=pools_with("s1", tmp_path / "gone.wav"), pools_dir=tmp_path) is None


# --- load_samples -------------------------------------------------------------------------


def test_load_samples_decodes_each_id_once_as_float32_frames_by_channels(tmp_path: Path) -> None:
    """Every id decodes to ``((frames, channels) float32, rate)``; repeated ids load once."""
    write_wav(tmp_path / "mono.wav", frames=100)
    write_wav(tmp_path / "stereo.wav", frames=50, channels=2, sr=22050)
    said: list[str] = []
    samples = load_samples(
        ["mono", "stereo", "mono"],
        pools=None,
        pools_dir=None,
        sample_root=tmp_path,
        notify=said.append,
    )
    assert said == []
    assert sorted(samples) == ["mono", "stereo"]
    mono, mono_sr = samples["mono"]
    stereo, stereo_sr = samples["stereo"]
    assert (mono.shape, mono.dtype, mono_sr) == ((100, 1), np.float32, SR)
    assert (stereo.shape, stereo.dtype, stereo_sr) == ((50, 2), np.float32, 22050)
    np.testing.assert_array_equal(mono, 0.25)


def broken_root(tmp_path: Path) -> Path:
    """A sample root with one good sample, one missing, one text file and one empty WAV."""
    write_wav(tmp_path / "good.wav")
    (tmp_path / "notes.wav").write_text("this is not audio\n", encoding="utf-8")
    soundfile.write(tmp_path / "empty.wav", np.zeros((0, 1), dtype=np.float32), SR)
    return tmp_path


def test_load_samples_lists_every_missing_or_unreadable_id(tmp_path: Path) -> None:
    """One error naming all problem samples (not just the first), with the flag to skip."""
    root = broken_root(tmp_path)
    ids = ["good", "absent", "notes", "empty", "absent"]  # a repeated id is one problem
    with pytest.raises(MissingSamplesError) as caught:
        load_samples(ids, pools=None, pools_dir=None, sample_root=root)
    message = str(caught.value)
    assert isinstance(caught.value, DrumgenxError)  # a user error: one line, exit status 2
    assert "\n" not in message
    assert message.startswith("3 sample(s) missing or unreadable")
    assert str(root) in message
    assert "absent (file not found)" in message
    assert "notes (" in message and "cannot decode audio" in message
    assert "empty (" in message and "no audio frames" in message
    assert "good" not in message
    assert "under sample_root " in message and "pass skip_missing" in message  # parameters


def test_load_samples_skip_missing_notifies(tmp_path: Path) -> None:
    """With ``skip_missing`` the good samples load and each bad one gets a notice."""
    root = broken_root(tmp_path)
    said: list[str] = []
    samples = load_samples(
        ["good", "absent", "notes", "empty", "absent"],
        pools=None,
        pools_dir=None,
        sample_root=root,
        skip_missing=True,
        notify=said.append,
    )
    assert list(samples) == ["good"]
    assert len(said) == 3
    for sample_id in ("absent", "notes", "empty"):
        assert sum(f"skipped sample {sample_id} (" in n for n in said) == 1
    assert all(n.endswith("its hits are silent") for n in said)


def test_load_samples_uses_pools(tmp_path: Path) -> None:
    """Samples are found through the pools file's ``filepath`` with no sample root at all."""
    path = write_wav(tmp_path / "pools" / "audio" / "k.wav", frames=10)
    pools = pools_with("k1", "audio/k.wav", role="CORE")
    samples = load_samples(["k1"], pools=pools, pools_dir=path.parent.parent, sample_root=None)
    assert samples["k1"][0].shape == (10, 1)
