"""The role pools as a kit other software loads: SFZ and Hydrogen's ``drumkit.xml``.

One instrument per role, on the General MIDI drum key the MIDI export uses for it
(`ROLE_KEYS`), its samples played in
turn (round robin), the most confident first. The samples are copied into the kit folder, so
the kit outlives the library it came from.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from drumgenx.core.errors import DrumgenxError, MissingSamplesError
from drumgenx.core.formats import load_pools
from drumgenx.core.roles import ROLES
from drumgenx.render.midi import GM_DRUM_NOTES
from drumgenx.render.samples import resolve_sample_path

__all__ = ["ROLE_KEYS", "ExportedKit", "export_kit"]

ROLE_KEYS = GM_DRUM_NOTES
"""The keys `drumgenx edit export-midi` writes each role on, so its MIDI files play this kit."""

HYDROGEN_NS = "http://www.hydrogen-music.org/drumkit"
DEFAULT_PER_ROLE = 8  # a round robin longer than this is rarely heard as more varied


@dataclass(frozen=True)
class ExportedKit:
    """What `export_kit` wrote: the kit folder, its two files and the samples per role."""

    folder: Path
    sfz: Path
    hydrogen: Path
    samples: dict[str, list[str]]


def export_kit(
    *,
    pools_json: str | Path,
    out_dir: str | Path,
    name: str = "drumgenx",
    sample_root: str | Path | None = None,
    per_role: int = DEFAULT_PER_ROLE,
) -> ExportedKit:
    """Write ``out_dir/<name>_kit_N/`` (a new N) with ``<name>.sfz``, ``drumkit.xml`` and the
    samples under ``samples/``.

    Samples are found as the renderer finds them (`render.samples.resolve_sample_path`).

    Raises
    ------
    DrumgenxError
        A bad name or ``per_role``, empty pools, or a malformed pools file.
    MissingSamplesError
        Sample files cannot be found (all are listed). Nothing is written.
    """
    if not name or any(c in name for c in '/\\:*?"<>|') or name.startswith("."):
        raise DrumgenxError(f"--name must be a plain file name, got {name!r}")
    if per_role < 1:
        raise DrumgenxError(f"--per_role must be at least 1, got {per_role}")
    pools_json = Path(pools_json)
    pools = load_pools(pools_json)
    chosen = {role: pools.pool(role)[:per_role] for role in ROLES if pools.pool(role)}
    if not chosen:
        raise DrumgenxError(f"{pools_json}: every pool is empty; nothing to export")
    sources: dict[str, list[tuple[str, Path]]] = {}
    missing: list[str] = []
    for role, items in chosen.items():
        for item in items:
            path = resolve_sample_path(
                item.sample_id,
                pools=pools,
                pools_dir=pools_json.parent,
                sample_root=Path(sample_root) if sample_root else None,
            )
            if path is None:
                missing.append(item.sample_id)
            else:
                sources.setdefault(role, []).append((item.sample_id, path))
    if missing:
        raise MissingSamplesError(f"sample files not found: {', '.join(missing)}")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}_kit.", dir=out_dir))
    try:
        (staging / "samples").mkdir()
        files: dict[str, list[str]] = {}
        for role, entries in sources.items():
            for i, (sample_id, path) in enumerate(entries, 1):
                stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in sample_id)
                target = f"{role}_{i:02d}_{stem}{path.suffix.lower()}"
                shutil.copyfile(path, staging / "samples" / target)
                files.setdefault(role, []).append(target)
        (staging / f"{name}.sfz").write_text(sfz_text(files, name=name), encoding="utf-8")
        (staging / "drumkit.xml").write_bytes(hydrogen_xml(files, name=name))
        folder = _rename_to_new_version(staging, out_dir, f"{name}_kit_")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportedKit(folder, folder / f"{name}.sfz", folder / "drumkit.xml", files)


def _rename_to_new_version(staging: Path, out_dir: Path, prefix: str) -> Path:
    """Move ``staging`` to ``out_dir/<prefix>N``, N the first free number: the empty folder
    is made first (which fails if it exists, so no kit is ever replaced), then the staged
    one is renamed onto it in one step."""
    taken = [p.name[len(prefix) :] for p in out_dir.glob(f"{prefix}*")]
    n = 1 + max((int(t) for t in taken if t.isdigit()), default=0)
    while True:
        target = out_dir / f"{prefix}{n}"
        try:
            target.mkdir()
        except FileExistsError:
            n += 1
            continue
        os.replace(staging, target)
        return target


def sfz_text(files: dict[str, list[str]], *, name: str) -> str:
    """An SFZ instrument: per role one ``<group>`` on its key, its samples a round robin."""
    lines = [
        f"// {name}: a DrumGen-X kit. One key per role (General MIDI), round robin over each",
        "// role's samples, the most confident first.",
    ]
    for role in ROLES:
        samples = files.get(role, [])
        if not samples:
            continue
        lines += ["", f"// {role}", f"<group> key={ROLE_KEYS[role]} seq_length={len(samples)}"]
        lines += [
            f"<region> sample=samples/{sample} seq_position={i}"
            for i, sample in enumerate(samples, 1)
        ]
    return "\n".join(lines) + "\n"


def hydrogen_xml(files: dict[str, list[str]], *, name: str) -> bytes:
    """Hydrogen's ``drumkit.xml``: an instrument per role, its samples as round-robin layers.

    The sample paths are relative to the kit folder, where Hydrogen looks; the kit is
    installed by copying the folder into Hydrogen's ``drumkits`` folder.
    """
    ET.register_namespace("", HYDROGEN_NS)

    def sub(parent: ET.Element, tag: str, text: object | None = None) -> ET.Element:
        element = ET.SubElement(parent, f"{{{HYDROGEN_NS}}}{tag}")
        if text is not None:
            element.text = str(text)
        return element

    root = ET.Element(f"{{{HYDROGEN_NS}}}drumkit_info")
    sub(root, "name", name)
    sub(root, "author", "DrumGen-X")
    sub(root, "info", "Role pools exported by drumgenx export-kit.")
    sub(root, "license", "the samples' own")
    components = sub(root, "componentList")
    component = sub(components, "drumkitComponent")
    sub(component, "id", 0)
    sub(component, "name", "Main")
    sub(component, "volume", 1)
    instruments = sub(root, "instrumentList")
    for index, role in enumerate(role for role in ROLES if files.get(role)):
        instrument = sub(instruments, "instrument")
        sub(instrument, "id", index)
        sub(instrument, "name", role)
        sub(instrument, "volume", 1)
        sub(instrument, "isMuted", "false")
        sub(instrument, "pan_L", 1)
        sub(instrument, "pan_R", 1)
        sub(instrument, "gain", 1)
        sub(instrument, "applyVelocity", "true")
        sub(instrument, "midiOutNote", ROLE_KEYS[role])
        sub(instrument, "sampleSelectionAlgo", "ROUND_ROBIN")
        part = sub(instrument, "instrumentComponent")
        sub(part, "component_id", 0)
        sub(part, "gain", 1)
        for sample in files[role]:
            layer = sub(part, "layer")
            sub(layer, "filename", f"samples/{sample}")
            sub(layer, "min", 0)
            sub(layer, "max", 1)
            sub(layer, "gain", 1)
            sub(layer, "pitch", 0)
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"
