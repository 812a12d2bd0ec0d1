"""drumgenx export-kit: SFZ and Hydrogen kits from role pools, never overwriting; a loop's kit
holds every sample the loop plays and its MIDI plays each hit with its own sample."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumgenx.cli import main
from drumgenx.core.errors import MissingSamplesError
from drumgenx.core.formats import dump_json, load_grid, load_pools
from drumgenx.core.midi import velocity_to_midi
from drumgenx.core.records import Event, PoolItem, Pools, events_to_json
from drumgenx.core.roles import ROLES
from drumgenx.kit.export import HYDROGEN_NS, ROLE_KEYS, choose_kit_samples, export_kit
from drumgenx.kit.run import write_kit_and_pools
from drumgenx.kit.synth import KIT_VOICES
from drumgenx.render.midi import GM_DRUM_NOTES, events_to_midi
from drumgenx.skeleton.grid import build_grid

NS = {"h": HYDROGEN_NS}


@pytest.fixture
def pools_json(tmp_path: Path) -> Path:
    return write_kit_and_pools(kit_dir=tmp_path / "kit", out_dir=tmp_path / "out").pools_path


def test_kit_holds_every_pool_sample_in_both_formats(pools_json: Path, tmp_path: Path) -> None:
    kit = export_kit(pools_json=pools_json, out_dir=tmp_path / "export")
    assert kit.folder == tmp_path / "export" / "drumgenx_kit_1"
    per_role: dict[str, int] = {}
    for voice in KIT_VOICES:
        per_role[voice.role] = per_role.get(voice.role, 0) + 1
    assert {role: len(s) for role, s in kit.samples.items()} == per_role
    copied = sorted(p.name for p in (kit.folder / "samples").iterdir())
    assert copied == sorted(s for samples in kit.samples.values() for s in samples)

    sfz = kit.sfz.read_text(encoding="utf-8")
    for role, samples in kit.samples.items():
        assert f"<group> key={ROLE_KEYS[role]} seq_length={len(samples)}" in sfz
        for i, sample in enumerate(samples, 1):
            assert f"<region> sample=samples/{sample} seq_position={i}" in sfz

    root = ET.parse(kit.hydrogen).getroot()
    assert root.tag == f"{{{HYDROGEN_NS}}}drumkit_info"
    instruments = root.findall("h:instrumentList/h:instrument", NS)
    assert [i.findtext("h:name", namespaces=NS) for i in instruments] == list(kit.samples)
    for instrument in instruments:
        role = instrument.findtext("h:name", namespaces=NS)
        assert int(instrument.findtext("h:midiOutNote", namespaces=NS)) == ROLE_KEYS[role]
        layers = instrument.findall("h:instrumentComponent/h:layer/h:filename", NS)
        assert [f.text for f in layers] == [f"samples/{s}" for s in kit.samples[role]]
        assert all((kit.folder / f.text).is_file() for f in layers)


def test_a_second_export_is_a_new_folder_and_per_role_caps(
    pools_json: Path, tmp_path: Path
) -> None:
    first = export_kit(pools_json=pools_json, out_dir=tmp_path / "e")
    second = export_kit(pools_json=pools_json, out_dir=tmp_path / "e", per_role=1)
    assert second.folder.name == "drumgenx_kit_2" and first.sfz.is_file()
    assert all(len(s) == 1 for s in second.samples.values())
    assert not [p for p in (tmp_path / "e").iterdir() if p.name.startswith(".")]  # no staging


def test_missing_samples_are_listed_and_nothing_is_written(
    pools_json: Path, tmp_path: Path
) -> None:
    (pools_json.parent.parent / "kit" / "kick.wav").unlink()
    with pytest.raises(MissingSamplesError, match="kick"):
        export_kit(pools_json=pools_json, out_dir=tmp_path / "e")
    assert not (tmp_path / "e").exists() or not list((tmp_path / "e").iterdir())


def test_cli_export_kit_and_its_errors(pools_json: Path, tmp_path: Path, capsys) -> None:
    args = ["export-kit", "--pools_json", str(pools_json), "--out_dir", str(tmp_path / "c")]
    assert main([*args, "--name", "mykit"]) == 0
    out = capsys.readouterr().out
    assert "mykit_kit_1" in out and (tmp_path / "c" / "mykit_kit_1" / "mykit.sfz").is_file()
    assert main([*args, "--name", "../x"]) == 2
    assert "--name" in capsys.readouterr().err
    empty = tmp_path / "empty_pools.json"
    data = json.loads(pools_json.read_text())
    empty.write_text(
        json.dumps(
            {k: ([] if isinstance(v, list) else dict.fromkeys(v, 0)) for k, v in data.items()}
        )
    )
    assert main(["export-kit", "--pools_json", str(empty), "--out_dir", str(tmp_path)]) == 2
    assert "every pool is empty" in capsys.readouterr().err


# --- a loop's kit ------------------------------------------------------------------------

KIT_NAME = re.compile(r"^(CORE|ACCENT|MOTION|FILL|TEXTURE)_(\d{2})\.wav$")


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Pools of 14 samples per role (``CORE_s00`` the most confident), each file distinct."""
    folder = tmp_path / "lib"
    folder.mkdir()
    by_role = {}
    for r, role in enumerate(ROLES):
        items = []
        for k in range(14):
            sample_id = f"{role}_s{k:02d}"
            audio = np.full((200, 1), (r * 14 + k + 1) / 100.0, dtype=np.float32)
            soundfile.write(folder / f"{sample_id}.wav", audio, 44100, subtype="PCM_16")
            items.append(PoolItem(sample_id, f"{sample_id}.wav", 1.0 - k / 20))
        by_role[role] = items
    (folder / "pools_1.json").write_bytes(dump_json(Pools(by_role).to_json()))
    return folder


def _hit(bar: int, step: int, role: str, sample_id: str, vel: float) -> Event:
    return Event(bar, step, role, sample_id, vel, 2.0, micro_offset_ms=3.5 * (step % 3 - 1))


# The loop plays low-ranked samples: CORE three of them (more than --per_role 2), ACCENT one,
# FILL_s07 once as FILL and twice as ACCENT (so it goes under ACCENT), MOTION none.
LOOP = [  # every hit its own velocity, so the test can tell them apart in a MIDI file
    _hit(0, 0, "CORE", "CORE_s11", 0.8),
    _hit(0, 8, "CORE", "CORE_s09", 0.7),
    _hit(1, 0, "CORE", "CORE_s11", 1.0),
    _hit(1, 6, "CORE", "CORE_s03", 0.6),
    _hit(1, 7, "CORE", "CORE_s09", 0.85),  # an off-beat 16th: swing moves it
    _hit(0, 4, "ACCENT", "ACCENT_s10", 0.75),
    _hit(0, 12, "ACCENT", "FILL_s07", 0.5),
    _hit(1, 4, "ACCENT", "FILL_s07", 0.65),
    _hit(1, 14, "FILL", "FILL_s07", 0.9),
    _hit(1, 12, "ACCENT", "ACCENT_s10", 0.3),
]


@pytest.fixture
def loop_files(tmp_path: Path) -> tuple[Path, Path]:
    events, grid = tmp_path / "event_grid_1.json", tmp_path / "grid_1.json"
    events.write_bytes(dump_json(events_to_json(LOOP)))
    grid.write_bytes(dump_json(build_grid(bpm=100, num_bars=2).to_json()))
    return events, grid


def test_choose_kit_samples_puts_the_loop_first_then_the_best_of_each_pool(library) -> None:
    pools = load_pools(library / "pools_1.json")
    chosen = choose_kit_samples(pools, LOOP, per_role=2)
    assert chosen == {
        "CORE": ["CORE_s11", "CORE_s09", "CORE_s03"],  # most played (a tie: first heard)
        "ACCENT": ["FILL_s07", "ACCENT_s10"],  # 3 hits, then 2 (heard first)
        "MOTION": ["MOTION_s00", "MOTION_s01"],
        "FILL": ["FILL_s00", "FILL_s01"],
        "TEXTURE": ["TEXTURE_s00", "TEXTURE_s01"],
    }
    assert choose_kit_samples(pools, LOOP, per_role=4)["ACCENT"] == [
        "FILL_s07", "ACCENT_s10", "ACCENT_s00", "ACCENT_s01",
    ]  # fmt: skip
    assert choose_kit_samples(pools, per_role=1)["CORE"] == ["CORE_s00"]  # no loop: as before


def test_a_loops_kit_holds_every_sample_it_plays_named_by_role(
    library: Path, loop_files, tmp_path: Path
) -> None:
    events, grid = loop_files
    kit = export_kit(
        pools_json=library / "pools_1.json",
        out_dir=tmp_path / "e",
        per_role=2,
        events_json=events,
        grid_json=grid,
    )
    assert {e.sample_id for e in LOOP} <= set(kit.sample_ids.values())
    assert kit.loop_samples == 5
    for role, files in kit.samples.items():
        assert files == [f"{role}_{i:02d}.wav" for i in range(1, len(files) + 1)]
        assert all(KIT_NAME.match(f) for f in files)
    assert [kit.sample_ids[f] for f in kit.samples["CORE"]] == ["CORE_s11", "CORE_s09", "CORE_s03"]
    assert sorted(p.name for p in (kit.folder / "samples").iterdir()) == sorted(kit.sample_ids)
    for file, sample_id in kit.sample_ids.items():  # each file is its sample, byte for byte
        assert (kit.folder / "samples" / file).read_bytes() == (
            library / f"{sample_id}.wav"
        ).read_bytes()
    assert kit.midi == kit.folder / "drumgenx_loop.mid"
    assert sorted(kit.keys.values()) == list(range(60, 60 + len(kit.sample_ids)))


def _sfz_sample_keys(sfz: str) -> dict[int, str]:
    """The SFZ's one-sample keys: ``{key: file}`` (the role groups' regions have no key)."""
    return {int(k): f for f, k in re.findall(r"<region> sample=samples/(\S+) key=(\d+)", sfz)}


def test_the_loop_midi_through_the_kit_plays_every_hit_with_its_own_sample(
    library: Path, loop_files, tmp_path: Path, capsys
) -> None:
    """The kit's MIDI, played through the SFZ's keys, sounds each hit with the file of the
    sample it has in the loop, at the tick and velocity `edit export-midi` gives it."""
    import mido

    events, grid = loop_files
    argv = ["export-kit", "--pools_json", str(library / "pools_1.json"), "--out_dir"]
    argv += [str(tmp_path / "c"), "--events", str(events), "--grid", str(grid), "--swing", "0.25"]
    assert main(argv) == 0
    assert "drumgenx_loop.mid (5 samples, each on its own key 60..99" in capsys.readouterr().out
    folder = tmp_path / "c" / "drumgenx_kit_1"
    files = _sfz_sample_keys((folder / "drumgenx.sfz").read_text())

    def notes(data: bytes) -> list[tuple[int, int, int]]:
        song, found = mido.MidiFile(file=io.BytesIO(data)), []
        for track in song.tracks:
            tick = 0
            for message in track:
                tick += message.time
                if message.type == "note_on" and message.velocity > 0:
                    found.append((tick, message.note, message.velocity))
        return sorted(found)

    played: dict[tuple[int, int], list[bytes]] = {}
    for tick, key, velocity in notes((folder / "drumgenx_loop.mid").read_bytes()):
        sound = (folder / "samples" / files[key]).read_bytes()
        played.setdefault((tick, velocity), []).append(sound)
    expected: dict[tuple[int, int], list[bytes]] = {}
    by_role = events_to_midi(LOOP, load_grid(grid), swing=0.25)  # export-midi's file
    wanted = {(GM_DRUM_NOTES[e.role], velocity_to_midi(e.vel)): e for e in LOOP}
    assert len(wanted) == len(LOOP)
    for tick, key, velocity in notes(by_role):
        sample_id = wanted.pop((key, velocity)).sample_id
        expected.setdefault((tick, velocity), []).append(
            (library / f"{sample_id}.wav").read_bytes()
        )
    assert not wanted
    assert {k: sorted(v) for k, v in played.items()} == {k: sorted(v) for k, v in expected.items()}


def test_loop_kit_errors(library: Path, loop_files, tmp_path: Path, capsys) -> None:
    events, grid = loop_files
    base = ["export-kit", "--pools_json", str(library / "pools_1.json"), "--out_dir", str(tmp_path)]
    for argv, message in (
        ([*base, "--events", str(events)], "--events and --grid go together"),
        (
            [*base, "--events", str(events), "--grid", str(grid), "--per_role", "14"],
            "lower --per_role",
        ),
        (["export-kit", "--out_dir", str(tmp_path)], "--pools_json FILE, or --run OUT"),
        ([*base, "--run", str(tmp_path)], "drop --pools_json"),
        (["export-kit", "--run", str(tmp_path), "--out_dir", str(tmp_path)], "no run_N.json"),
    ):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err
    assert not list(tmp_path.glob("drumgenx_kit_*"))


def test_a_loop_hit_before_time_0_is_a_notice(library: Path, tmp_path: Path, capsys) -> None:
    """The loop MIDI's notice goes to ``notify`` (the kit carries none); the command line
    prints it as a ``drumgenx: notice:`` line."""
    early = [Event(0, 0, "CORE", "CORE_s00", 0.8, 2.0, micro_offset_ms=-20.0)]
    events, grid = tmp_path / "event_grid_1.json", tmp_path / "grid_1.json"
    events.write_bytes(dump_json(events_to_json(early)))
    grid.write_bytes(dump_json(build_grid(bpm=100, num_bars=1).to_json()))
    loop = {"events_json": events, "grid_json": grid, "pools_json": library / "pools_1.json"}
    said: list[str] = []
    kit = export_kit(**loop, out_dir=tmp_path / "e", notify=said.append)
    assert len(said) == 1 and "it starts at 0" in said[0] and not hasattr(kit, "notices")
    argv = ["export-kit", "--pools_json", str(loop["pools_json"]), "--out_dir", str(tmp_path)]
    assert main([*argv, "--events", str(events), "--grid", str(grid)]) == 0
    assert capsys.readouterr().err == f"drumgenx: notice: {said[0]}\n"
