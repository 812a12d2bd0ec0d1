"""The command line: instant help, lazy heavy imports, README and CI kept in step."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from drumgenx.cli import build_parser


def test_help_imports_no_heavy_module(repo_root: Path) -> None:
    """`drumgenx --help` must not import numpy/soundfile/jsonschema/torch (that makes it slow)."""
    code = (
        "import sys\n"
        "from drumgenx.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'numpy', 'soundfile', 'jsonschema', 'torch', 'librosa', 'mido', 'soxr'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_stage_subcommand_is_listed() -> None:
    help_text = build_parser().format_help()
    for command in ("skeleton", "edit", "kit"):
        assert command in help_text


def _readme_commands(repo_root: Path) -> list[str]:
    text = (repo_root / "README.md").read_text()
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_two_commands_and_ci_runs_the_test_one(repo_root: Path) -> None:
    commands = _readme_commands(repo_root)
    assert len(commands) == 2
    assert "drumgenx" in commands[0] and "pytest" in commands[1]
    assert commands[1] in (repo_root / ".ci" / "run").read_text()
