"""The role pools as a kit other software loads: SFZ and Hydrogen's ``drumkit.xml``.

One instrument per role, on the General MIDI drum key the MIDI export uses for it
(`ROLE_KEYS`), its samples played in turn (round robin), the most confident first. The
samples are copied into the kit folder and named by role (``CORE_01.wav``, ...), so the kit
outlives the library it came from.

Exported for a loop (a `drumgenx run`, or an event grid and its grid), the kit holds every
sample the loop plays, then the best of each pool; in the SFZ each sample also has a key of
its own (from `FIRST_SAMPLE_KEY` up), and ``NAME_loop.mid`` is the loop with each hit on its
sample's key, so the loop's MIDI played through the kit sounds like the loop.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from drumgenx.core.errors import DrumgenxError, MissingSamplesError, ParameterError
from drumgenx.core.formats import (
    check_events_fit_grid,
    load_events,
    load_grid,
    load_pools,
    read_json,
)
from drumgenx.core.layout import run_records
from drumgenx.core.pools import resolve_sample_path
from drumgenx.core.records import Event, Pools
from drumgenx.core.roles import ROLES
from drumgenx.kit.settings import FIRST_SAMPLE_KEY, KitExportSettings
from drumgenx.render.midi import GM_DRUM_NOTES, events_to_midi
from drumgenx.render.settings import RenderSettings

__all__ = [
    "ROLE_KEYS",
    "ExportedKit",
    "RunLoop",
    "choose_kit_samples",
    "export_kit",
    "export_run_kit",
    "find_run_loop",
]

ROLE_KEYS = GM_DRUM_NOTES
"""The keys `drumgenx edit export-midi` writes each role on, so its MIDI files play this kit."""

HYDROGEN_NS = "http://www.hydrogen-music.org/drumkit"
DEFAULT_PER_ROLE = KitExportSettings.per_role
LAST_KEY = 127


@dataclass(frozen=True)
class ExportedKit:
    """What `export_kit` wrote.

    ``samples`` lists each role's files in kit order; ``sample_ids`` names the sample each
    file was copied from; ``keys`` is each file's own key and ``midi`` the loop on them
    (``NAME_loop.mid``), both only for a loop's kit; ``loop_samples`` is how many of the
    files the loop plays (the first ones of their roles).
    """

    folder: Path
    sfz: Path
    hydrogen: Path
    samples: dict[str, list[str]]
    sample_ids: dict[str, str] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)
    midi: Path | None = None
    loop_samples: int = 0


def choose_kit_samples(
    pools: Pools,
    events: Sequence[Event] = (),
    *,
    per_role: int = DEFAULT_PER_ROLE,
) -> dict[str, list[str]]:
    """The sample ids of each role's kit instrument, in kit order.

    Every sample ``events`` play comes first, under the role most of its hits have (a tie:
    the first role in `ROLES`), the most played first (a tie: the one heard first). Then each
    role is filled from its pool, most confident first, skipping samples already in the kit,
    up to ``per_role`` samples in all; a role whose loop samples are more than ``per_role``
    keeps them all and takes none from its pool.

    Parameters
    ----------
    pools
        Stage 2's pools (`core.records.Pools`).
    events
        A loop's hits (default: none, the pools alone).
    per_role
        Samples per role at most, 1 or more (default `KitExportSettings.per_role`).

    Returns
    -------
    dict
        ``{role: [sample_id, ...]}`` for the roles with any sample, in `ROLES` order.
    """
    if per_role < 1:
        raise DrumgenxError(f"per_role must be at least 1, got {per_role}")
    roles_of: dict[str, Counter[str]] = {}
    hits: Counter[str] = Counter()
    first: dict[str, int] = {}
    in_time = sorted(events, key=lambda e: (e.bar, e.step, e.micro_offset_ms))
    for i, event in enumerate(in_time):
        roles_of.setdefault(event.sample_id, Counter())[event.role] += 1
        hits[event.sample_id] += 1
        first.setdefault(event.sample_id, i)
    chosen: dict[str, list[str]] = {role: [] for role in ROLES}
    for sample_id in sorted(hits, key=lambda sid: (-hits[sid], first[sid])):
        counts = roles_of[sample_id]
        role = max(ROLES, key=lambda r: (counts[r], -ROLES.index(r)))
        chosen[role].append(sample_id)
    taken = set(hits)
    for role in ROLES:
        for item in pools.pool(role):
            if len(chosen[role]) >= per_role:
                break
            if item.sample_id not in taken:
                chosen[role].append(item.sample_id)
                taken.add(item.sample_id)
    return {role: ids for role, ids in chosen.items() if ids}


@dataclass(frozen=True)
class RunLoop:
    """The files of a `drumgenx run`'s final loop: what `export_run_kit` exports a kit for."""

    record: Path
    pools: Path
    events: Path
    grid: Path
    library: Path
    swing: float


def find_run_loop(run: str | Path) -> RunLoop:
    """The final loop of a `drumgenx run`: ``run`` is its output folder (the newest
    ``run_N.json`` there is read) or one ``run_N.json``.

    Raises
    ------
    DrumgenxError
        No run record there, a malformed one, or a file it names is gone.
    """
    run = Path(run)
    if run.is_dir():
        records = run_records(run)
        if not records:
            raise ParameterError(
                "run", f"{run}: no run_N.json in it; name the output folder of a drumgenx run"
            )
        record_path = records[0]
    else:
        record_path = run
    record = read_json(record_path, "run")
    root = record_path.parent
    outputs = {stage["stage"]: stage["outputs"] for stage in record["stages"]}
    paths = {}
    for what, stage, name in (
        ("pools", "roles", "pools"),
        ("events", "groove", "event_grid"),
        ("grid", "skeleton", "grid"),
        ("library", "preprocess", "library"),
    ):
        relative = outputs.get(stage, {}).get(name)
        if relative is None or not (root / relative).exists():
            raise DrumgenxError(
                f"{record_path}: the run's {stage} file {relative or name!r} is gone"
            )
        paths[what] = root / relative
    return RunLoop(record=record_path, swing=float(record["params"]["swing"]), **paths)


def export_run_kit(
    run: str | Path,
    *,
    out_dir: str | Path,
    name: str = KitExportSettings.name,
    sample_root: str | Path | None = None,
    per_role: int = DEFAULT_PER_ROLE,
    notify: Callable[[str], None] | None = None,
) -> ExportedKit:
    """`export_kit` for the final loop of a `drumgenx run` (`find_run_loop`): its pools, its
    loop and grid, its swing; samples are looked for in ``sample_root`` (if given) and the
    run's library."""
    loop = find_run_loop(run)
    return export_kit(
        pools_json=loop.pools,
        out_dir=out_dir,
        name=name,
        sample_root=sample_root or loop.library,
        per_role=per_role,
        events_json=loop.events,
        grid_json=loop.grid,
        swing=loop.swing,
        notify=notify,
    )


def export_kit(
    *,
    pools_json: str | Path,
    out_dir: str | Path,
    name: str = KitExportSettings.name,
    sample_root: str | Path | None = None,
    per_role: int = DEFAULT_PER_ROLE,
    events_json: str | Path | None = None,
    grid_json: str | Path | None = None,
    swing: float = RenderSettings.swing,
    notify: Callable[[str], None] | None = None,
) -> ExportedKit:
    """Write ``out_dir/<name>_kit_N/`` (a new N) with ``<name>.sfz``, ``drumkit.xml`` and the
    samples under ``samples/``; for a loop also ``<name>_loop.mid``.

    Parameters
    ----------
    pools_json
        Stage 2's ``pools_N.json``.
    out_dir
        Where the kit folder goes (created if needed; no kit is ever replaced).
    name
        The kit's name, a plain file name (default `KitExportSettings.name`).
    sample_root
        Where samples are looked for, as the renderer does
        (`core.pools.resolve_sample_path`).
    per_role
        Samples per role at most (default `KitExportSettings.per_role`); see
        `choose_kit_samples` for a loop's samples.
    events_json, grid_json
        A loop (an event grid) and the grid it was made on, given together: the kit holds
        every sample it plays (`choose_kit_samples`), each sample gets its own key from
        `FIRST_SAMPLE_KEY` up, and ``<name>_loop.mid`` plays the loop on those keys.
    swing
        The loop MIDI's swing, as it was rendered with (default 0, `RenderSettings.swing`).
    notify
        Receives the loop MIDI's notices (`render.midi.events_to_midi`); None: dropped.

    Raises
    ------
    DrumgenxError
        A bad name or ``per_role``, empty pools, a malformed pools, events or grid file, only
        one of ``events_json`` and ``grid_json``, a loop kit of more samples than keys.
    MissingSamplesError
        Sample files cannot be found (all are listed). Nothing is written.
    """
    if not name or any(c in name for c in '/\\:*?"<>|') or name.startswith("."):
        raise ParameterError("name", f"must be a plain file name, got {name!r}")
    if per_role < 1:
        raise ParameterError("per_role", f"must be at least 1, got {per_role}")
    if (events_json is None) != (grid_json is None):
        raise ParameterError.about(
            "{0} and {1} go together: the loop's MIDI needs its grid", "events_json", "grid_json"
        )
    pools_json = Path(pools_json)
    pools = load_pools(pools_json)
    events: list[Event] = []
    if events_json is not None and grid_json is not None:
        events = load_events(events_json)
        grid = load_grid(grid_json)
        check_events_fit_grid(events, grid, events_path=events_json)
    chosen = choose_kit_samples(pools, events, per_role=per_role)
    if not chosen:
        raise DrumgenxError(f"{pools_json}: every pool is empty; nothing to export")
    sources: dict[str, list[tuple[str, Path]]] = {}
    missing: list[str] = []
    for role, sample_ids in chosen.items():
        for sample_id in sample_ids:
            path = resolve_sample_path(
                sample_id,
                pools=pools,
                pools_dir=pools_json.parent,
                sample_root=Path(sample_root) if sample_root else None,
            )
            if path is None:
                missing.append(sample_id)
            else:
                sources.setdefault(role, []).append((sample_id, path))
    if missing:
        raise MissingSamplesError.about("sample files not found: {ids}", ids=", ".join(missing))

    files: dict[str, list[str]] = {}
    sample_ids: dict[str, str] = {}
    for role, entries in sources.items():
        for i, (sample_id, path) in enumerate(entries, 1):
            target = f"{role}_{i:02d}{path.suffix.lower()}"
            files.setdefault(role, []).append(target)
            sample_ids[target] = sample_id
    keys: dict[str, int] = {}
    midi: bytes | None = None
    if events_json is not None:
        keys = sample_keys(files)
        key_of = {sample_ids[f]: key for f, key in keys.items()}
        midi = events_to_midi(events, grid, swing=swing, sample_keys=key_of, notify=notify)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}_kit.", dir=out_dir))
    try:
        (staging / "samples").mkdir()
        for role, entries in sources.items():
            for target, (_, path) in zip(files[role], entries, strict=True):
                shutil.copyfile(path, staging / "samples" / target)
        sfz = sfz_text(files, name=name, keys=keys, sample_ids=sample_ids)
        (staging / f"{name}.sfz").write_text(sfz, encoding="utf-8")
        (staging / "drumkit.xml").write_bytes(hydrogen_xml(files, name=name))
        if midi is not None:
            (staging / f"{name}_loop.mid").write_bytes(midi)
        folder = _rename_to_new_version(staging, out_dir, f"{name}_kit_")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportedKit(
        folder=folder,
        sfz=folder / f"{name}.sfz",
        hydrogen=folder / "drumkit.xml",
        samples=files,
        sample_ids=sample_ids,
        keys=keys,
        midi=folder / f"{name}_loop.mid" if midi is not None else None,
        loop_samples=len({e.sample_id for e in events}),
    )


def sample_keys(files: dict[str, list[str]]) -> dict[str, int]:
    """Each file its own key, in kit order (roles in `ROLES` order) from `FIRST_SAMPLE_KEY`."""
    names = [f for role in ROLES for f in files.get(role, [])]
    room = LAST_KEY - FIRST_SAMPLE_KEY + 1
    if len(names) > room:
        raise ParameterError.about(
            "the kit holds {n} samples but keys {first}..{last} fit {room}; lower {0}",
            "per_role",
            n=len(names),
            first=FIRST_SAMPLE_KEY,
            last=LAST_KEY,
            room=room,
        )
    return {f: FIRST_SAMPLE_KEY + i for i, f in enumerate(names)}


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


def sfz_text(
    files: dict[str, list[str]],
    *,
    name: str,
    keys: dict[str, int] | None = None,
    sample_ids: dict[str, str] | None = None,
) -> str:
    """An SFZ instrument: per role one ``<group>`` on its key, its samples a round robin;
    with ``keys`` (a loop's kit) also each sample alone on its own key."""
    order = "the loop's own first (most played first), then" if keys else "the"
    lines = [
        f"// {name}: a DrumGen-X kit. One key per role (General MIDI), round robin over each",
        f"// role's samples, {order} most confident first.",
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
    if keys:
        lines += [
            "",
            f"// Each sample on a key of its own, from {min(keys.values())} up: {name}_loop.mid",
            "// plays the loop on these keys, every hit with the sample it has in the loop.",
            "<group>",
        ]
        for sample, key in keys.items():
            sid = sample_ids[sample] if sample_ids else None
            origin = "" if sid is None else f" (from {sid if sid.isprintable() else repr(sid)})"
            lines += [f"// {sample}{origin}", f"<region> sample=samples/{sample} key={key}"]
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
