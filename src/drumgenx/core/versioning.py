"""Versioned, never-overwritten, atomically written outputs.

Every run writes files named ``<family>_<N>.<ext>``, with N one higher than any existing N of
its families in the output folder. A run that writes several families (``grid``,
``event_grid``, ``skeleton_meta``, ``render``) gives them all the same N, so the files of one
run are easy to pair.

Concurrency: N is claimed by creating hidden marker files ``.<family>_<N>.reserved`` with
``O_EXCL``, so two runs started at the same moment get different N. Atomicity: each file is
written to a hidden temporary file, fsynced, then hard-linked to its final name (``link``
fails if the name exists, so nothing is ever replaced) — no reader ever sees half a file.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from drumgenx.core.errors import DrumgenxError, OutputExistsError, ParameterError


def _numbers(out_dir: Path, family: str) -> Iterator[int]:
    pattern = re.compile(rf"^\.?{re.escape(family)}_(\d+)\.[A-Za-z0-9]+$")
    for name in os.listdir(out_dir):
        match = pattern.match(name)
        if match:
            yield int(match.group(1))


def latest_version(out_dir: str | Path, families: Sequence[str]) -> int:
    """Highest N in use (or reserved) by any of ``families`` in ``out_dir``; 0 if none."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return 0
    return max((n for family in families for n in _numbers(out_dir, family)), default=0)


def missing_folders(folder: Path, *, parameter: str) -> list[Path]:
    """``folder`` and each of its parents that does not exist yet, deepest first: what
    `make_output_folder` will create, and a failed run may remove (`remove_if_empty`).

    Raises
    ------
    ParameterError
        ``folder``, or one of its parents, is a file (named as ``parameter``).
    """
    missing = []
    for path in (folder, *folder.parents):
        if path.exists() or path.is_symlink():
            if not path.is_dir():
                what = " is a file" if path == folder else f": {path} is a file"
                raise ParameterError(
                    parameter, f"{folder}{what}, not a folder; name a folder for the files"
                )
            break
        missing.append(path)
    return missing


def make_output_folder(folder: Path) -> None:
    """Create ``folder`` and its parents (one `DrumgenxError` line if the system refuses)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DrumgenxError(f"cannot create output folder {folder}: {exc.strerror}") from None


def remove_if_empty(folders: Sequence[Path]) -> None:
    """Remove the folders a failed run created (deepest first), as long as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return  # something is in it (or it is gone): it and its parents stay


def _taken(out_dir: Path, families: Sequence[str], n: int) -> bool:
    return any(
        re.match(rf"^{re.escape(f)}_{n}\.[A-Za-z0-9]+$", name)
        for name in os.listdir(out_dir)
        for f in families
    )


@contextmanager
def reserve_version(out_dir: str | Path, families: Sequence[str]) -> Iterator[int]:
    """Claim the next free N for ``families`` in ``out_dir`` for the duration of a write.

    Yields
    ------
    int
        A number no other run (finished or running) uses for any of ``families``.
    """
    out_dir = Path(out_dir)
    make_output_folder(out_dir)
    while True:
        n = latest_version(out_dir, families) + 1
        markers: list[Path] = []
        try:
            for family in families:
                marker = out_dir / f".{family}_{n}.reserved"
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
                markers.append(marker)
        except FileExistsError:
            for marker in markers:
                marker.unlink(missing_ok=True)
            continue
        # A run that finished between our scan and our claim has its files in place by now.
        if _taken(out_dir, families, n):
            for marker in markers:
                marker.unlink(missing_ok=True)
            continue
        break
    try:
        yield n
    finally:
        for marker in markers:
            marker.unlink(missing_ok=True)


def write_new_files(contents: Mapping[str | Path, bytes], *, fsync: bool = True) -> list[Path]:
    """Create several new files all-or-nothing; never replace an existing file.

    All contents go to hidden temporary files first (fsynced unless ``fsync=False``, for
    callers writing many small files that flush once with ``os.sync()`` instead), then each
    is linked to its final name. If any final name exists, the files this call already
    created are removed and `OutputExistsError` is raised.

    Returns
    -------
    list of Path
        The final paths, in the order given.
    """
    temps: dict[Path, Path] = {}
    created: list[Path] = []
    try:
        for target, data in contents.items():
            target = Path(target)
            temp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
            temps[target] = temp
            try:
                with open(temp, "xb") as handle:
                    handle.write(data)
                    handle.flush()
                    if fsync:
                        os.fsync(handle.fileno())
            except OSError as exc:
                raise DrumgenxError(f"cannot write {target}: {exc.strerror}") from None
        for target, temp in temps.items():
            _link_exclusive(temp, target)
            created.append(target)
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    return created


def _link_exclusive(temp: Path, target: Path) -> None:
    try:
        os.link(temp, target)
    except FileExistsError:
        raise OutputExistsError(f"{target} already exists; outputs are never overwritten") from None
    except OSError:
        # A file system without hard links: claim the name exclusively, then move over it.
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise OutputExistsError(
                f"{target} already exists; outputs are never overwritten"
            ) from None
        os.replace(temp, target)


def write_versioned(
    out_dir: str | Path, files: Mapping[str, tuple[str, bytes]]
) -> tuple[int, dict[str, Path]]:
    """Write one run's files under the next free N.

    Parameters
    ----------
    out_dir
        Output folder (created if needed).
    files
        ``{family: (extension, content)}``, e.g. ``{"grid": (".json", b"...")}``.

    Returns
    -------
    (N, {family: path})
    """
    out_dir = Path(out_dir)
    with reserve_version(out_dir, list(files)) as n:
        targets = {family: out_dir / f"{family}_{n}{ext}" for family, (ext, _) in files.items()}
        write_new_files({targets[f]: data for f, (_, data) in files.items()})
    return n, targets


def replace_file(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temp file moved over it): for files
    a command is asked to replace, like trained weights, never for versioned outputs."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(data)
    os.replace(temp, path)


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks (any size, flat memory)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_sha256(path: str | Path, what: str) -> str:
    """`file_sha256` of a weights file, which identifies the model in a run's keys.

    Parameters
    ----------
    path
        The file.
    what
        The weights' name for the error, e.g. ``"learned role scorer"``.

    Raises
    ------
    DrumgenxError
        The file is missing or unreadable: one line naming ``what`` and ``path``.
    """
    try:
        return file_sha256(path)
    except OSError as exc:
        raise DrumgenxError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
