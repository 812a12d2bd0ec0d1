"""The bundled kit on disk: synthesize missing voices, write a pools file for them."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from drumgenx.core.audio import encode_wav
from drumgenx.core.formats import dump_json
from drumgenx.core.records import PoolItem, Pools
from drumgenx.core.roles import ROLES
from drumgenx.core.versioning import write_new_files, write_versioned
from drumgenx.kit.synth import KIT_SR, KIT_VOICES, synthesize_voice

KIT_CONFIDENCE = 1.0  # roles are known by construction


@dataclass
class KitResult:
    pools_path: Path
    created: list[Path] = field(default_factory=list)


def write_kit(kit_dir: str | Path) -> list[Path]:
    """Synthesize every voice missing from ``kit_dir`` as 16-bit WAV; existing files are kept.

    Returns the files created.
    """
    kit_dir = Path(kit_dir)
    kit_dir.mkdir(parents=True, exist_ok=True)
    missing = {
        kit_dir / f"{v.name}.wav": encode_wav(synthesize_voice(v.name), KIT_SR, subtype="PCM_16")
        for v in KIT_VOICES
        if not (kit_dir / f"{v.name}.wav").exists()
    }
    return write_new_files(missing) if missing else []


def kit_pools(kit_dir: str | Path, *, relative_to: str | Path) -> Pools:
    """Pools for the kit, file paths relative to ``relative_to`` (the pools file's folder)."""
    by_role: dict[str, list[PoolItem]] = {role: [] for role in ROLES}
    for voice in KIT_VOICES:
        path = os.path.relpath(Path(kit_dir) / f"{voice.name}.wav", relative_to)
        by_role[voice.role].append(PoolItem(voice.name, Path(path).as_posix(), KIT_CONFIDENCE))
    return Pools(by_role)


def write_kit_and_pools(*, kit_dir: str | Path, out_dir: str | Path) -> KitResult:
    """Make sure the kit exists in ``kit_dir``, then write ``pools_N.json`` for it."""
    created = write_kit(kit_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pools = kit_pools(kit_dir, relative_to=out_dir)
    _, paths = write_versioned(out_dir, {"pools": (".json", dump_json(pools.to_json()))})
    return KitResult(paths["pools"], created)
