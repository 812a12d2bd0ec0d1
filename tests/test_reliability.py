"""Bad input through every runner and `drumgenx run`.

Each case must end in one of two ways: a listed skip (bad audio among good audio; the run
goes on), or one ``drumgenx: error:`` line and exit status 2 (a bad JSON file, a missing
sample, a full disk). Never a traceback, and never a new, half-written or changed file in
the output folder. Ctrl-C exits 130 with one line, and leaves nothing behind either.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx import cli
from drumgenx.core.formats import dump_json
from drumgenx.kit.run import write_kit, write_kit_and_pools

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


# --- shared inputs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> dict[str, Path]:
    """A consistent set of every stage's files, built once from the bundled kit."""
    root = tmp_path_factory.mktemp("valid")
    kit = write_kit_and_pools(kit_dir=root / "kit", out_dir=root)
    assert cli.main(
        ["skeleton", "--pools_json", str(kit.pools_path), "--out_dir", str(root), "--bpm", "120",
         "--bars", "1", "--no_render"]
    ) == 0  # fmt: skip
    return {
        "kit": root / "kit",
        "pools": kit.pools_path,
        "grid": root / "grid_1.json",
        "events": root / "event_grid_1.json",
    }


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file (hidden ones too) with its size and modification time."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


def assert_one_line_error(rc: int, err: str, *, contains: str = "") -> None:
    assert rc == 2, err
    assert "Traceback" not in err
    # notices and the progress display ("[1/4 preprocess]: 3/10") may come before it
    lines = [line for line in err.splitlines() if not line.startswith(("drumgenx: notice:", "["))]
    assert len(lines) == 1 and lines[0].startswith("drumgenx: error: "), err
    assert contains in lines[0], err


# Every runner that reads JSON, as (name, argv builder) over a dict of input paths.
Argv = Callable[[dict[str, Path], Path], list[str]]
JSON_RUNNERS: dict[str, Argv] = {
    "skeleton": lambda f, out: [
        "skeleton", "--pools_json", str(f["pools"]), "--out_dir", str(out), "--bpm", "100",
        "--bars", "1", "--sample_root", str(f["kit"]),
    ],
    "groove": lambda f, out: [
        "groove", "--grid_json", str(f["grid"]), "--events_json", str(f["events"]),
        "--pools_json", str(f["pools"]), "--out_dir", str(out), "--render",
    ],
    "edit-set": lambda f, out: [
        "edit", "set", "--events", str(f["events"]), "--bar", "0", "--step", "3",
        "--role", "CORE", "--out_dir", str(out),
    ],
    "edit-render": lambda f, out: [
        "edit", "render", "--events", str(f["events"]), "--grid", str(f["grid"]),
        "--pools_json", str(f["pools"]), "--out_dir", str(out),
    ],
    "edit-export-midi": lambda f, out: [
        "edit", "export-midi", "--events", str(f["events"]), "--grid", str(f["grid"]),
        "--out_dir", str(out),
    ],
    "export-kit": lambda f, out: [
        "export-kit", "--pools_json", str(f["pools"]), "--out_dir", str(out),
    ],
}  # fmt: skip
READS = {  # which inputs each runner reads
    "skeleton": {"pools"},
    "groove": {"grid", "events", "pools"},
    "edit-set": {"events"},
    "edit-render": {"grid", "events", "pools"},
    "edit-export-midi": {"grid", "events"},
    "export-kit": {"pools"},
}


def _bad_json(kind: str, valid: dict[str, Path], which: str) -> bytes:
    text = valid[which].read_text()
    data = json.loads(text)
    if kind == "malformed":
        return b"{this is not json"
    if kind == "truncated":
        return text[: len(text) // 2].encode()
    if kind == "empty":
        return b""
    if kind == "other-stage":  # a file of the stage before (or after) in its place
        other = {"pools": "grid", "grid": "events", "events": "pools"}[which]
        return valid[other].read_bytes()
    if kind == "unknown-role":
        if which == "events":
            data[0]["role"] = "COWBELL"
        elif which == "pools":
            data["COWBELL_POOL"] = data.pop("CORE_POOL")
        else:
            data["meter"] = 7
        return dump_json(data)
    raise AssertionError(kind)


BAD_JSON = ("malformed", "truncated", "empty", "other-stage", "unknown-role")


@pytest.mark.parametrize("kind", BAD_JSON)
@pytest.mark.parametrize(
    ("runner", "which"), [(r, w) for r in JSON_RUNNERS for w in sorted(READS[r])]
)
def test_bad_json_is_one_line_exit_2_and_writes_nothing(
    valid, tmp_path: Path, capsys, runner: str, which: str, kind: str
) -> None:
    files = dict(valid)
    files[which] = tmp_path / f"bad_{which}.json"
    files[which].write_bytes(_bad_json(kind, valid, which))
    out = tmp_path / "out"
    out.mkdir()
    rc = cli.main(JSON_RUNNERS[runner](files, out))
    assert_one_line_error(rc, capsys.readouterr().err, contains=str(files[which].name))
    assert snapshot(out) == {}


@pytest.mark.parametrize("runner", ["skeleton", "groove", "edit-render", "export-kit"])
def test_missing_sample_files_are_one_line_exit_2_and_write_nothing(
    valid, tmp_path: Path, capsys, runner: str
) -> None:
    pools = json.loads(valid["pools"].read_text())
    for pool in ("CORE_POOL", "ACCENT_POOL", "MOTION_POOL"):
        for item in pools[pool]:
            item["filepath"] = f"gone/{item['sample_id']}.wav"
            item["sample_id"] = f"gone_{item['sample_id']}"
    events = json.loads(valid["events"].read_text())
    for event in events:
        event["sample_id"] = f"gone_{event['sample_id']}"
    files = dict(valid, pools=tmp_path / "pools_1.json", events=tmp_path / "event_grid_1.json")
    files["pools"].write_bytes(dump_json(pools))
    files["events"].write_bytes(dump_json(events))
    files["kit"] = tmp_path / "nowhere"
    out = tmp_path / "out"
    out.mkdir()
    rc = cli.main(JSON_RUNNERS[runner](files, out))
    assert_one_line_error(rc, capsys.readouterr().err, contains="gone")
    assert snapshot(out) == {}


# --- bad audio -----------------------------------------------------------------------------


def _bad_audio_folder(folder: Path, *, huge: bool) -> list[str]:
    """The kit plus every kind of bad file; returns the bad files' names."""
    write_kit(folder / "kit")
    bad = folder / "bad"
    bad.mkdir()
    kick = (folder / "kit" / "kick.wav").read_bytes()
    (bad / "truncated.wav").write_bytes(kick[: len(kick) // 3])
    (bad / "header_only.wav").write_bytes(kick[:44])
    (bad / "zero_bytes.wav").write_bytes(b"")
    (bad / "notes.wav").write_text("a text file with an audio name\n" * 40)
    (bad / "picture.mp3").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    (bad / "readme.txt").write_text("not audio at all")
    (bad / "unreadable.wav").symlink_to(bad / "no_such_target.wav")
    soundfile.write(bad / "silent.wav", np.zeros(44100, np.float32), 44100)
    soundfile.write(bad / "nan.wav", np.full(4410, np.nan, np.float32), 44100, subtype="FLOAT")
    names = [p.name for p in bad.iterdir()]
    if huge:  # ten minutes "one-shot": decoded only as far as a one-shot can last
        noise = np.random.default_rng(0).uniform(-0.3, 0.3, 600 * 8000).astype(np.float32)
        soundfile.write(bad / "huge.wav", noise, 8000, subtype="PCM_16")
    return names


def test_bad_audio_is_a_listed_skip_in_preprocess_and_the_run_goes_on(
    tmp_path: Path, capsys
) -> None:
    bad_names = _bad_audio_folder(tmp_path / "in", huge=False)
    rc = cli.main(
        [
            "preprocess",
            "--dataset_root",
            str(tmp_path / "in"),
            "--output_root",
            str(tmp_path / "lib"),
        ]
    )
    captured = capsys.readouterr()
    assert rc == 0 and "Traceback" not in captured.err
    assert len(list((tmp_path / "lib").glob("dummy_*.wav"))) >= 8
    skipped_lines = [line for line in captured.err.splitlines() if "skipped" in line]
    for name in bad_names:
        assert any(name in line for line in skipped_lines), name


def test_bad_audio_is_a_listed_skip_in_roles(tmp_path: Path, capsys) -> None:
    bad_names = _bad_audio_folder(tmp_path / "in", huge=True)
    rc = cli.main(
        ["roles", "--input_dir", str(tmp_path / "in"), "--out_dir", str(tmp_path / "out"),
         "--limit", "0"]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 0 and "Traceback" not in captured.err
    pools = json.loads(next((tmp_path / "out").glob("pools_*.json")).read_text())
    placed = {i["sample_id"] for key, items in pools.items() if key != "counts" for i in items}
    assert "kit/kick" in placed and "bad/huge" in placed  # a long file is still a sound
    for name in set(bad_names) - {"readme.txt"}:  # stage 2 looks at audio names only
        assert any(name in line for line in captured.err.splitlines() if "skipped" in line), name


def test_bad_audio_is_a_listed_skip_in_run_and_a_loop_comes_out(tmp_path: Path, capsys) -> None:
    _bad_audio_folder(tmp_path / "in", huge=False)
    rc = cli.main(["run", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--bars", "1"])
    captured = capsys.readouterr()
    assert rc == 0 and "Traceback" not in captured.err
    assert "skipped" in captured.err and "notes.wav" in captured.err
    assert (tmp_path / "out" / "groove" / "render_groovae_1.wav").exists()


# --- full disk -----------------------------------------------------------------------------


class _FullDisk:
    """``open`` for the versioned writer: the first bytes go out, then ENOSPC, as on a
    disk that fills mid-file."""

    def __init__(self, real_open) -> None:
        self.real_open = real_open

    def __call__(self, path, mode="r", *args, **kwargs):
        handle = self.real_open(path, mode, *args, **kwargs)
        if "w" not in mode and "x" not in mode and "a" not in mode:
            return handle
        real_write = handle.write

        def write(data):
            real_write(data[:16])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        handle.write = write
        return handle


@pytest.mark.parametrize("runner", [*JSON_RUNNERS, "run"])
def test_a_full_disk_is_one_line_exit_2_and_leaves_no_file(
    valid, tmp_path: Path, capsys, monkeypatch, runner: str
) -> None:
    import builtins

    import drumgenx.core.versioning as versioning
    import drumgenx.kit.export as export

    monkeypatch.setattr(versioning, "open", _FullDisk(builtins.open), raising=False)

    def copy_to_full_disk(src, dst, **_):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))

    monkeypatch.setattr(export.shutil, "copyfile", copy_to_full_disk)
    out = tmp_path / "out"
    out.mkdir()
    argv = (
        ["run", str(valid["kit"]), "--out", str(out), "--bars", "1"]
        if runner == "run"
        else JSON_RUNNERS[runner](valid, out)
    )
    rc = cli.main(argv)
    assert_one_line_error(rc, capsys.readouterr().err, contains="No space left on device")
    assert snapshot(out) == {}


def _limited_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        # A real file-size limit: writes past it fail with EFBIG, as writes on a full disk
        # fail with ENOSPC. SIGXFSZ ignored, so the write fails instead of killing us.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _drumgenx(*args: str, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [PYTHON, "-m", "drumgenx", *args], capture_output=True, text=True, env=env, **kwargs
    )


def test_a_real_write_limit_mid_run_is_one_line_and_keeps_the_finished_stages(
    valid, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    # 3 MB: stage 1's staged slices (~0.7 MB) and every JSON file fit; the skeleton's
    # render of 16 bars (32 s of 24-bit stereo, ~8.5 MB) does not.
    first = _drumgenx(
        "run", str(valid["kit"]), "--out", str(out), "--bars", "16",
        preexec_fn=_limited_file_size(3_000_000),
    )  # fmt: skip
    assert_one_line_error(first.returncode, first.stderr, contains="File too large")
    assert not list(out.glob("run_*.json"))
    assert not [p for p in out.rglob("*") if p.name.endswith((".tmp", ".reserved"))]
    for wav in out.rglob("*.wav"):  # whatever is there is whole
        soundfile.read(wav)
    second = _drumgenx("run", str(valid["kit"]), "--out", str(out), "--bars", "16")
    assert second.returncode == 0, second.stderr
    assert "preprocess: " in second.stdout and "(reused)" in second.stdout


# --- the seed's runners --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "argv"),
    [
        ("pipeline/run_grid_and_skeleton.py", lambda f, out: JSON_RUNNERS["skeleton"](f, out)[1:]),
        ("pipeline/run_model_groovae.py", lambda f, out: JSON_RUNNERS["groove"](f, out)[1:]),
        ("stage1_drumgenx/editor.py", lambda f, out: JSON_RUNNERS["edit-render"](f, out)[1:]),
    ],
)
def test_the_runners_give_one_line_for_a_truncated_file(
    valid, tmp_path: Path, script: str, argv
) -> None:
    files = dict(valid)
    for which in ("pools", "events"):
        files[which] = tmp_path / f"{which}.json"
        files[which].write_bytes(_bad_json("truncated", valid, which))
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [PYTHON, str(REPO / script), *argv(files, out)], capture_output=True, text=True
    )
    assert_one_line_error(done.returncode, done.stderr, contains="truncated")
    assert snapshot(out) == {}


@pytest.mark.parametrize(
    ("script", "flags"),
    [
        ("pipeline/run_preprocess.py", ["--dataset_root", "{in}", "--output_root", "{out}"]),
        ("pipeline/run_role_assignment.py", ["--input_dir", "{in}", "--out_dir", "{out}"]),
    ],
)
def test_the_audio_runners_list_bad_files_and_go_on(tmp_path: Path, script: str, flags) -> None:
    _bad_audio_folder(tmp_path / "in", huge=False)
    argv = [f.format(**{"in": tmp_path / "in", "out": tmp_path / "out"}) for f in flags]
    done = subprocess.run(
        [PYTHON, str(REPO / script), *argv, *(["--limit", "0"] if "role" in script else [])],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "notes.wav" in done.stderr
    assert "picture.mp3" in done.stderr and "MPEG-Header" not in done.stderr  # no decoder noise


# --- Ctrl-C --------------------------------------------------------------------------------


def test_ctrl_c_in_the_middle_is_one_line_exit_130_and_leaves_nothing(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    (tmp_path / "in").mkdir()
    sr = 22050
    for i in range(12):  # enough stage-1 work that the interrupt lands in the middle of it
        y = 0.01 * rng.standard_normal(sr * 20)
        for start in range(0, len(y) - 2000, sr // 4):
            y[start : start + 2000] += np.exp(-np.arange(2000) / 200) * rng.uniform(0.3, 0.9)
        soundfile.write(tmp_path / "in" / f"take_{i:02d}.wav", y.astype(np.float32), sr)
    out = tmp_path / "out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        [PYTHON, "-m", "drumgenx", "run", str(tmp_path / "in"), "--out", str(out),
         "--workers", "2", "--separator", "hpss"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True,  # its own process group, like a shell's foreground job
    )  # fmt: skip
    assert process.stderr is not None
    lines = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if line.startswith("[1/4 preprocess]") or not line:
            break
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C sends: the whole foreground group
    _, rest = process.communicate(timeout=60)
    err = "".join(lines) + rest
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("drumgenx: interrupted")
    assert not list(out.glob("library_*")) and not list(out.glob("run_*.json"))
    assert not [p for p in out.rglob("*") if p.is_file()]
