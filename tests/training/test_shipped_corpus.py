"""The shipped transcriber's corpus manifests: no frozen-test kit, no GMD test beat."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from drumgenx.training.kits import FROZEN_TEST_DEBIAN_KITS, FROZEN_TEST_FAMILIES
from drumgenx.transcribe.model import DEFAULT_WEIGHTS, load_model

CORPUS = DEFAULT_WEIGHTS.parent / "corpus"
GMD_INFO = Path(__file__).resolve().parents[3] / "shared" / "data" / "gmd" / "info.csv"


def _rows(split: str) -> list[dict[str, str]]:
    with open(CORPUS / f"{split}_manifest.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("split", ["train", "validation"])
def test_no_frozen_kit_and_only_its_own_split(split: str) -> None:
    rows = _rows(split)
    assert rows and all(r["split"] == split for r in rows)
    for r in rows:
        assert r["kit_family"] not in FROZEN_TEST_FAMILIES, r["item_id"]
        assert not any(r["kit_id"].endswith("/" + kit) for kit in FROZEN_TEST_DEBIAN_KITS)
        assert "TimGM6mb" not in r["accompaniment_font"]
        assert r["kit_package"] and r["kit_path"] and r["seed"]


def test_no_gmd_test_performance_and_the_counts_match_the_weights() -> None:
    if not GMD_INFO.is_file():
        pytest.skip(f"GMD info.csv not found at {GMD_INFO} (the ../shared checkout)")
    with open(GMD_INFO, newline="") as fh:
        split_of = {r["id"]: r["split"] for r in csv.DictReader(fh)}
    for split in ("train", "validation"):
        assert {split_of[r["gmd_id"]] for r in _rows(split)} == {split}
    meta = load_model().meta
    assert meta["corpus_items"] == {s: len(_rows(s)) for s in ("train", "validation")}
