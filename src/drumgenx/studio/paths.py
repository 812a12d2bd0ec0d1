"""Confinement: every path a request names is resolved and checked to lie inside OUT.

A request names files by their path relative to OUT, in ``/`` form (``groove/x.json``). What
is refused, before the file system is asked anything: an empty path, a NUL, a backslash,
an absolute path (``/etc``, ``C:``), a ``..`` part (also once percent-decoded: the server
decodes the URL before the route sees it), a hidden part (``.drumgenx-run/``, temporary
files, reservations). Then the path is resolved, symlinks followed, and must still lie
inside OUT: a symlink in OUT that points out of it is refused too.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from drumgenx.core.errors import DrumgenxError

__all__ = ["OutsideError", "relative_name", "resolve_inside"]

_DRIVE = re.compile(r"^[A-Za-z]:")


class OutsideError(DrumgenxError):
    """A path a request names is not a plain path inside OUT (the message says why)."""


def resolve_inside(root: Path, relative: str) -> Path:
    """``root / relative``, resolved, when it is a plain path inside ``root``.

    Parameters
    ----------
    root
        OUT, already resolved (`Path.resolve`).
    relative
        The path as the request gave it, ``/``-separated, relative to ``root``.

    Raises
    ------
    OutsideError
        ``relative`` is empty, absolute, climbs (``..``), is hidden, holds a backslash or a
        NUL, or resolves (through a symlink) outside ``root``.
    """
    if not relative or "\x00" in relative or "\\" in relative:
        raise OutsideError(f"not a path inside the studio's folder: {relative!r}")
    if relative.startswith("/") or _DRIVE.match(relative):
        raise OutsideError(f"absolute paths are refused; give a path inside OUT: {relative!r}")
    parts = PurePosixPath(relative).parts
    if any(part == ".." for part in parts):
        raise OutsideError(f"paths that climb out with '..' are refused: {relative!r}")
    if any(part.startswith(".") for part in parts):
        raise OutsideError(f"hidden files are not served: {relative!r}")
    resolved = (root / relative).resolve()
    if not resolved.is_relative_to(root):
        raise OutsideError(f"{relative!r} leads outside the studio's folder (a symlink?)")
    return resolved


def relative_name(root: Path, path: Path) -> str | None:
    """``path`` as requests name it: relative to ``root``, ``/``-separated; None outside it."""
    resolved = path.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else None
