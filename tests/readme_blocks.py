"""The README's command blocks, as the tests that run them read them (not a test module)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"


def section(name: str) -> str:
    """The text of the README's ``## name`` section."""
    text = README.read_text(encoding="utf-8")
    _, found, rest = text.partition(f"\n## {name}\n")
    assert found, f"README.md has no '## {name}' section"
    return rest.split("\n## ", 1)[0]


def readme_commands(sections: Iterable[str]) -> list[str]:
    """Each command of the ``bash`` blocks of ``sections``, in README order, as its exact
    text: continuation lines joined, the comment dropped, the words joined by single spaces."""
    commands = []
    for name in sections:
        for block in section(name).split("```bash\n")[1:]:
            code = block.split("```", 1)[0].replace("\\\n", " ")
            for line in code.splitlines():
                argv = shlex.split(line, comments=True)
                if argv:
                    commands.append(" ".join(argv))
    return commands
