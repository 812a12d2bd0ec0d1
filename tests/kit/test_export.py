"""drumgenx export-kit: SFZ and Hydrogen kits from role pools, never overwriting."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from drumgenx.cli import main
from drumgenx.core.errors import MissingSamplesError
from drumgenx.kit.export import HYDROGEN_NS, ROLE_KEYS, export_kit
from drumgenx.kit.run import write_kit_and_pools
from drumgenx.kit.synth import KIT_VOICES

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
