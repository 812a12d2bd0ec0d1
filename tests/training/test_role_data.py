"""The role data builder (issue #15): the key -> role table, the frozen group, a real build on
two tiny TimGM6mb presets (deterministic from its seed), and the role trainer refusing the
frozen rows."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES
from drumgenx.training import kits as kitlib
from drumgenx.training import role_data
from drumgenx.training.role_data import KEY_ROLES, LABEL_COLUMNS, build_role_data, role_group
from drumgenx.training.settings import RoleDataSettings


def test_the_key_role_table_follows_the_gm_map_and_leaves_unclear_keys_out() -> None:
    assert KEY_ROLES[36] == ("kick", "CORE", "high")
    assert KEY_ROLES[38][1:] == ("ACCENT", "high") and KEY_ROLES[39][1] == "ACCENT"
    assert KEY_ROLES[42][1] == KEY_ROLES[51][1] == "MOTION"
    assert KEY_ROLES[45][1] == KEY_ROLES[49][1] == "FILL"
    assert KEY_ROLES[55] == ("cymbal", "FILL", "medium")
    # side stick, vibraslap, cowbell, conga, whistle: no clear role, left out
    for key in (37, 58, 56, 63, 71):
        assert key not in KEY_ROLES
    assert set(role_data.LEFT_OUT_KEYS) == {37, 58}
    assert {role for _, role, _ in KEY_ROLES.values()} == set(ROLES) - {"TEXTURE"}


def test_the_frozen_group_has_three_kinds_of_kit_and_a_found_package() -> None:
    assert role_group(family="TimGM6mb") == "frozen"
    assert role_group(debian_kit="BJA_Pacific") == role_group(debian_kit="TR808EmulationKit")
    assert role_group(debian_kit="TR808EmulationKit") == "frozen"
    assert role_group(package="frozen-bubble-data") == "frozen"
    assert role_group(family="FluidR3_GM") == role_group(debian_kit="GMRockKit") == "train"
    kinds = set(role_data.FROZEN_KINDS.values())
    assert {"SoundFont family", "acoustic kit", "drum machine", "found sounds"} <= kinds


def test_the_found_sounds_csv_is_metadata_with_a_role_and_a_reason() -> None:
    with open(role_data.FOUND_SOUNDS_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 30
    assert {r["role"] for r in rows} == set(ROLES)
    assert all(r["confidence"] in ("high", "medium") and r["basis"] for r in rows)
    assert all(r["package"] and r["version"] and not r["path"].startswith("/") for r in rows)
    assert {r["package"] for r in rows} > set(role_data.FROZEN_FOUND_PACKAGES)


@pytest.fixture(scope="module")
def two_tim_kits() -> list[kitlib.Kit]:
    """TimGM6mb's Standard and TR 808 presets (skips without fluidsynth or the font)."""
    import shutil

    if shutil.which("fluidsynth") is None:
        pytest.skip("fluidsynth not installed: apt-get install fluidsynth timgm6mb-soundfont")
    if kitlib.soundfont_path("TimGM6mb") is None:
        pytest.skip("TimGM6mb SoundFont not installed: apt-get install timgm6mb-soundfont")
    wanted = ("sf:TimGM6mb:128-000", "sf:TimGM6mb:128-025")
    return [k for k in kitlib.soundfont_kits() if k.kit_id in wanted]


def _sources(root: Path) -> tuple[Path, Path]:
    """A made-up ``labels.csv`` (a frozen and a training Debian kit) and found-sounds CSV
    (a frozen and a training package), their audio under ``root``."""
    for rel in ("kits/BJA_Pacific/snare.wav", "kits/Other/kick.wav", "fx/a.wav", "fx/b.wav"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / rel, np.zeros(100, dtype=np.float32), 44100)
    labels = root / "labels.csv"
    with labels.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path_in_package", "kit", "instrument_name", "proposed_class"])
        w.writerow(["kits/BJA_Pacific/snare.wav", "BJA_Pacific", "Snare", "snare"])
        w.writerow(["kits/Other/kick.wav", "Other", "Kick", "kick"])
        w.writerow(["kits/Other/gone.wav", "Other", "Kick", "kick"])
    text = labels.read_text().splitlines()
    extra = ["proposed_role,package,confidence", "ACCENT,hydrogen-drumkits,high"]
    extra += ["CORE,pkg,medium", "CORE,pkg,high"]
    labels.write_text("\n".join(f"{a},{b}" for a, b in zip(text, extra, strict=True)) + "\n")
    found = root / "found.csv"
    found.write_text(
        "package,version,path,role,confidence,duration_s,basis\n"
        "frozen-bubble-data,1,fx/a.wav,FILL,high,0.1,a hit\n"
        "other-data,2,fx/b.wav,TEXTURE,medium,0.1,a drone\n"
    )
    return labels, found


def _read(csv_path: Path) -> list[dict[str, str]]:
    with open(csv_path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_builder_renders_two_presets_and_labels_every_file(
    two_tim_kits: list[kitlib.Kit], tmp_path: Path
) -> None:
    labels, found = _sources(tmp_path / "share")
    settings = RoleDataSettings(velocities="60,110", seed=3)
    built = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        built.append(
            build_role_data(
                tmp_path / name,
                RoleDataSettings(velocities="60,110", seed=seed),
                kits=two_tim_kits,
                labels=labels,
                found=found,
                audio_root=tmp_path / "share",
            )
        )
    with open(built[0], newline="") as fh:
        assert tuple(next(csv.reader(fh))) == LABEL_COLUMNS
    rows = _read(built[0])
    rendered = [r for r in rows if r["source"] == "soundfont"]
    assert {r["kit"] for r in rendered} == {k.kit_id for k in two_tim_kits}
    for r in rendered:
        key = int(r["key"])
        assert (r["class"], r["role"], r["confidence"]) == KEY_ROLES[key]
        assert r["group"] == "frozen" and r["package"] == "timgm6mb-soundfont"
        assert abs(int(r["velocity"]) - (60 if "_l0_" in r["path"] else 110)) <= 4
        y, sr = sf.read(tmp_path / "a" / r["path"])
        assert sr == kitlib.SR and y.ndim == 1 and np.abs(y).max() > 0
    assert "37" not in {r["key"] for r in rendered} and len(rendered) > 20
    others = {(r["source"], r["kit"]): r["group"] for r in rows if r["source"] != "soundfont"}
    assert others == {
        ("debian", "BJA_Pacific"): "frozen",
        ("debian", "Other"): "train",  # its missing file is left out, the manifest says so
        ("found", "frozen-bubble-data"): "frozen",
        ("found", "other-data"): "train",
    }
    manifest = (tmp_path / "a" / role_data.MANIFEST_NAME).read_text()
    assert '"debian": 1' in manifest and '"velocities": "60,110"' in manifest
    # deterministic from the seed: the same bytes again, other velocities from another seed
    assert built[1].read_bytes() == built[0].read_bytes()
    first = rendered[0]["path"]
    assert (tmp_path / "b" / first).read_bytes() == (tmp_path / "a" / first).read_bytes()
    assert [r["velocity"] for r in _read(built[2])] != [r["velocity"] for r in rows]
    assert settings.velocity_list() == (60, 110)


@pytest.mark.parametrize("bad", ["", "40,x", "0,80", "80,80", "40,128"])
def test_bad_velocities_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="velocities"):
        RoleDataSettings(velocities=bad)


def _role_data_csv(root: Path) -> Path:
    """A role-data labels CSV: two training kits (files present) and frozen rows whose
    files do not exist (reading them would fail)."""
    rows = []
    for kit, group in (("KitA", "train"), ("KitB", "train"), ("TimKit", "frozen")):
        for role in ROLES:
            path = root / kit / f"{role}.wav"
            if group == "train":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.touch()
            rows.append({c: "" for c in LABEL_COLUMNS} | {"path": f"{kit}/{role}.wav"})
            rows[-1].update(kit=kit, role=role, confidence="high", group=group, package="p")
    out = root / role_data.LABELS_NAME
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=LABEL_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    return out


def test_the_role_trainer_never_trains_or_chooses_on_frozen_rows(tmp_path: Path, monkeypatch):
    trs = pytest.importorskip("drumgenx.training.roles", reason="needs scikit-learn ([train])")
    labels = _role_data_csv(tmp_path)
    rows = trs.load_rows(labels)
    assert {r.kit for r in rows if r.group == "frozen"} == {"TimKit"}
    assert rows[0].path == tmp_path / "KitA" / "CORE.wav"
    feats = np.zeros((len(rows), 1, 4))
    with pytest.raises(DrumgenxError, match=r"refusing to choose a configuration.*TimKit"):
        trs.select_config(feats, rows)

    seen: list = []

    class Stop(Exception):
        pass

    def extract(rows, **_):
        seen.extend(rows)
        raise Stop

    monkeypatch.setattr(trs, "extract", extract)
    with pytest.raises(Stop):
        trs.train_role_scorer(out=tmp_path / "w.npz", labels=labels)
    assert len(seen) == 10 and all(r.group == "train" for r in seen)
