"""The README's picture of the studio: the file its Studio section shows is in the repository,
a PNG small enough to keep there, and the command that re-takes it is the bench's."""

from __future__ import annotations

import re

from readme_blocks import REPO_ROOT, section

MAX_PICTURE_BYTES = 200 * 1024  # a README picture, not a build artefact
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_studio_sections_picture_is_in_the_repository_and_small() -> None:
    text = section("Studio")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)
    assert pictures == ["docs/studio_step_grid.png"]
    path = REPO_ROOT / pictures[0]
    assert path.is_file(), f"{pictures[0]} is missing: re-take it (see the Studio section)"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) <= MAX_PICTURE_BYTES
    retake = f"bench/bench_studio.py --screenshot {pictures[0]}"
    assert retake in " ".join(text.split())
    assert (REPO_ROOT / "bench" / "bench_studio.py").is_file()
