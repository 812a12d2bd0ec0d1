"""``drumgenx studio``: the command serves, stops cleanly on Ctrl-C, and its errors are one line."""

from __future__ import annotations

import json
import signal
import sys
import urllib.request
from pathlib import Path

import pytest
from studio.studio_run import start_studio

from drumgenx.cli import main


def test_the_command_serves_out_and_ctrl_c_stops_it_cleanly(out: Path) -> None:
    process, url = start_studio(out)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(f"{url}api/runs", timeout=10) as response:
            assert json.load(response)["runs"][0]["record"] == "run_1.json"
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert stdout.strip().endswith("[DONE] studio stopped") and "Traceback" not in stderr


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["studio", "{tmp}/missing", "--no-browser"], "does not exist; name the folder"),
        (["studio", "{tmp}", "--port", "70000", "--no-browser"], "--port must be 0..65535"),
    ],
)
def test_bad_flags_are_one_error_line(tmp_path: Path, capsys, argv: list[str], says: str) -> None:
    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    error = capsys.readouterr().err
    assert says in error and error.count("\n") == 1


def test_another_address_is_served_only_after_a_plain_warning(tmp_path: Path, capsys) -> None:
    assert main(["studio", str(tmp_path / "missing"), "--host", "0.0.0.0", "--no-browser"]) == 2
    warning = capsys.readouterr().out
    assert "listening on 0.0.0.0: anyone who can reach this machine" in warning
    assert "read and edit the files in" in warning


def test_a_port_in_use_is_one_line(out: Path, capsys) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        port = str(taken.getsockname()[1])
        assert main(["studio", str(out), "--port", port, "--no-browser"]) == 2
    finally:
        taken.close()
    assert "cannot listen on 127.0.0.1 port" in capsys.readouterr().err


def test_without_the_extra_the_error_says_what_to_install(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn -> ModuleNotFoundError
    assert main(["studio", str(tmp_path), "--no-browser"]) == 2
    error = capsys.readouterr().err
    assert error == "drumgenx: error: drumgenx studio needs uvicorn: pip install -e '.[studio]'\n"
