"""Corpus planning, items, files, manifest, determinism, resume and the CLI's test-split refusal."""

from __future__ import annotations

import collections
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from drumgenx.training import corpus
from drumgenx.training import kits as kitlib
from drumgenx.training.gmd import CLASS_OF_PITCH, DRUM_CLASSES, load_performances

SR = 44100


def _fake_kits(n: int) -> list[kitlib.Kit]:
    return [
        kitlib.Kit(f"debian:test/K{i}", "test/fam", "debian", "test", Path("/"), None, f"K{i}")
        for i in range(n)
    ]


def test_cli_refuses_the_test_split(tmp_path, capsys) -> None:
    argv = ["--gmd", str(tmp_path), "--out", str(tmp_path / "o"), "--split", "test", "--n", "3"]
    assert corpus.main(argv) == 2
    assert "held out" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    proc = subprocess.run(
        [sys.executable, "-m", "drumgenx.training.corpus", *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "test split" in proc.stderr


def test_plan_excerpts_kits_and_prefix_stability(fake_gmd) -> None:
    perfs = load_performances(fake_gmd, "validation")
    kits = _fake_kits(7)
    plan = corpus.plan_items(
        perfs, split="validation", n_items=30, seed=3, kits=kits, fonts=("A", "B"), excerpt_s=20
    )
    excerpts = {(it.perf.gmd_id, it.start_s, it.duration_s) for it in plan}
    assert excerpts == {
        ("drummer1/session1/1", 0.0, 20.0),
        ("drummer1/session1/1", 20.0, 20.0),
        ("drummer1/session1/1", 40.0, 5.0),
        ("drummer1/session1/2", 0.0, 2.6),  # a fill is one item (last note + 0.5 s)
    }
    counts = collections.Counter(it.kit.kit_id for it in plan)
    assert len(counts) == 7 and max(counts.values()) - min(counts.values()) <= 1
    assert len({it.seed for it in plan}) == 30
    assert [it.item_id for it in plan[:2]] == ["validation-000000", "validation-000001"]
    short = corpus.plan_items(
        perfs, split="validation", n_items=10, seed=3, kits=kits, fonts=("A", "B"), excerpt_s=20
    )
    assert short == plan[:10]
    other = corpus.plan_items(
        perfs, split="validation", n_items=10, seed=4, kits=kits, fonts=("A", "B"), excerpt_s=20
    )
    assert other != short


def test_plan_ratios(fake_gmd) -> None:
    perfs = load_performances(fake_gmd, "validation")
    plan = corpus.plan_items(
        perfs, split="validation", n_items=600, seed=0, kits=_fake_kits(3), fonts=("A", "B")
    )
    alone = [it for it in plan if it.drum_to_rest_db is None]
    assert 0.06 < len(alone) / len(plan) < 0.14
    assert all(it.accompaniment_font is None for it in alone)
    ratios = np.array([it.drum_to_rest_db for it in plan if it.drum_to_rest_db is not None])
    assert ratios.min() >= -12 and ratios.max() <= 12 and abs(ratios.mean()) < 1.5
    fonts = collections.Counter(it.accompaniment_font for it in plan if it not in alone)
    assert set(fonts) == {"A", "B"}


def test_plan_varies_a_share_of_kits_with_another_kit_as_donor(fake_gmd) -> None:
    perfs = load_performances(fake_gmd, "validation")
    kw = dict(split="validation", n_items=400, seed=0, kits=_fake_kits(5), fonts=("A",))
    plain = corpus.plan_items(perfs, **kw)
    varied = corpus.plan_items(perfs, kit_variation=0.6, **kw)
    assert all(it.donor_kit is None for it in plain)
    donors = [it for it in varied if it.donor_kit is not None]
    assert 0.5 < len(donors) / len(varied) < 0.7
    assert all(it.donor_kit != it.kit for it in donors)
    # variation is drawn after the other choices: kits, ratios and fonts do not move
    assert [(it.kit, it.drum_to_rest_db) for it in plain] == [
        (it.kit, it.drum_to_rest_db) for it in varied
    ]


def test_render_item_with_a_donor_records_the_variation(fake_gmd, synth_kit, synth_donor) -> None:
    kit, cache = synth_kit
    donor = synth_donor
    perf = load_performances(fake_gmd, "validation")[0]
    kw = dict(kit=kit, accompaniment_font=None, start_s=0.0, duration_s=5.0, drum_to_rest_db=None)
    plain = corpus.render_item(perf, seed=4, cache_dir=cache, **kw)
    varied = corpus.render_item(perf, seed=4, cache_dir=cache, donor_kit=donor, **kw)
    assert plain.description["kit_variation"] is None
    var = varied.description["kit_variation"]
    assert var["donor_kit_id"] == donor.kit_id and set(var["classes"]) <= set(DRUM_CLASSES)
    assert varied.labels == plain.labels  # same notes, same exact onsets
    assert not np.array_equal(varied.drums, plain.drums)
    row = corpus._manifest_row({**varied.description, "item_id": "x"}, "validation")
    assert row["donor_kit_id"] == donor.kit_id and json.loads(row["kit_variation"]) == var


def test_frozen_and_training_kits_never_mix(synth_kit) -> None:
    kit, _ = synth_kit
    tim = kitlib.Kit("sf:TimGM6mb:128-000", "TimGM6mb", "soundfont", "t", Path("/"), 0, "S")
    with pytest.raises(ValueError):
        corpus.resolve_kits([kit, tim])


def test_render_item_is_deterministic_on_synthetic_one_shots(fake_gmd, synth_kit) -> None:
    kit, cache = synth_kit
    perf = load_performances(fake_gmd, "validation")[0]
    kw = dict(kit=kit, accompaniment_font=None, start_s=20.0, duration_s=5.0, drum_to_rest_db=None)
    a = corpus.render_item(perf, seed=11, cache_dir=cache, **kw)
    b = corpus.render_item(perf, seed=11, cache_dir=cache, **kw)
    np.testing.assert_array_equal(a.mix, b.mix)
    np.testing.assert_array_equal(a.drums, b.drums)
    assert a.labels == b.labels and a.description == b.description
    assert a.mix.shape == a.drums.shape == (5 * SR,) and a.mix.dtype == np.float32
    assert all(lab.drum_class == CLASS_OF_PITCH[lab.pitch] for lab in a.labels)
    assert all(0 <= lab.time_s < 5.0 for lab in a.labels)
    assert {lab.pitch for lab in a.labels} == {36, 38, 42, 46}
    plain = corpus.render_item(perf, seed=11, cache_dir=cache, augment=False, **kw)
    np.testing.assert_array_equal(plain.mix, plain.drums)  # drums alone, no augmentation
    assert plain.description["accompaniment"] is None
    peak_db = 20 * np.log10(np.abs(plain.drums).max())
    assert -6.01 <= peak_db <= -0.99
    c = corpus.render_item(perf, seed=12, cache_dir=cache, **kw)
    assert not np.array_equal(a.mix, c.mix)


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "cache" not in p.parts
    }


def test_build_corpus_end_to_end(tmp_path, fake_gmd, tim_kit, session_cache) -> None:
    kw = dict(gmd_dir=fake_gmd, split="validation", seed=5, excerpt_s=8.0, kits=[tim_kit])
    kw["cache_dir"] = session_cache
    calls = []
    out1 = tmp_path / "c1"
    summary = corpus.build_corpus(
        out_dir=out1, n_items=4, progress=lambda *a: calls.append(a), **kw
    )
    assert summary["items"] == 4 and summary["rendered"] == 4 and summary["kept"] == 0
    assert [c[0] for c in calls] == [1, 2, 3, 4]
    sdir = out1 / "validation"
    with open(sdir / "manifest.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["item_id"] for r in rows] == [f"validation-{i:06d}" for i in range(4)]
    assert list(rows[0]) == list(corpus.MANIFEST_COLUMNS)
    optional = {"kit_preset", "accompaniment_font", "accompaniment_package"}
    optional |= {"accompaniment_path", "drum_to_rest_db", "donor_kit_id"}
    for r in rows:
        assert all(r[c] != "" for c in corpus.MANIFEST_COLUMNS if c not in optional), r
        assert r["kit_id"] == tim_kit.kit_id and r["kit_package"] == "timgm6mb-soundfont"
        assert r["midi_path"].endswith(".mid") and not r["midi_path"].startswith("/")
        json.loads(r["augmentations"])
        if r["drums_alone"] == "0":
            assert r["accompaniment_font"] == "TimGM6mb" and json.loads(r["programs"])
            assert -12 <= float(r["drum_to_rest_db"]) <= 12
        item = r["item_id"]
        mix, sr = sf.read(sdir / "audio" / f"{item}.flac", dtype="float32")
        drums, _ = sf.read(sdir / "drums" / f"{item}.flac", dtype="float32")
        info = sf.info(sdir / "audio" / f"{item}.flac")
        assert sr == SR and info.subtype == "PCM_16" and info.channels == 1
        assert len(mix) == len(drums) == round(float(r["duration_s"]) * SR)
        with open(sdir / "labels" / f"{item}.csv", newline="") as fh:
            labels = list(csv.DictReader(fh))
        assert list(labels[0]) == ["time_s", "pitch", "velocity", "class"]
        assert len(labels) == int(r["n_notes"]) > 0
        assert all(int(lab["class"]) == CLASS_OF_PITCH[int(lab["pitch"])] for lab in labels)
        if float(r["start_s"]) == 0.0:  # no pre-roll: silence until the first label
            first = round(float(labels[0]["time_s"]) * SR)
            assert not np.any(drums[:first]) and np.abs(drums[first : first + 44]).max() > 0

    # same seed -> same bytes, also with 2 worker processes
    out2 = tmp_path / "c2"
    corpus.build_corpus(out_dir=out2, n_items=4, workers=2, **kw)
    assert _tree_bytes(out1) == _tree_bytes(out2)

    # resume: finished items are kept (even a changed file), missing ones rendered
    junk = sdir / "audio" / "validation-000001.flac"
    junk.write_bytes(b"kept as is")
    (sdir / "meta" / "validation-000002.json").unlink()
    summary = corpus.build_corpus(out_dir=out1, n_items=5, **kw)
    assert summary["kept"] == 3 and summary["rendered"] == 2
    assert junk.read_bytes() == b"kept as is"
    assert not list(sdir.rglob("*.tmp"))
    with open(sdir / "manifest.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 5
    with pytest.raises(ValueError, match="other parameters"):
        corpus.build_corpus(out_dir=out1, n_items=5, **{**kw, "seed": 6})
