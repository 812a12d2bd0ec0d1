"""The shipped transcriber's corpus manifests: no frozen-test kit, no GMD test beat."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from drumgenx.training.kits import (
    FROZEN_TEST_DEBIAN_KITS,
    FROZEN_TEST_FAMILIES,
    VALIDATION_FAMILIES,
)
from drumgenx.transcribe.model import DEFAULT_WEIGHTS, load_model

CORPUS = DEFAULT_WEIGHTS.parent / "corpus"
GMD_INFO = Path(__file__).resolve().parents[3] / "shared" / "data" / "gmd" / "info.csv"


def _rows(split: str) -> list[dict[str, str]]:
    with gzip.open(CORPUS / f"{split}_manifest.csv.gz", "rt", newline="") as fh:
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


def test_training_and_validation_kits_are_disjoint_groups() -> None:
    """Validation items come from the held-out font only; training items (and their donor
    kits) never do, so the choices made on validation measure unheard kits."""
    validation = _rows("validation")
    assert {r["kit_family"] for r in validation} <= set(VALIDATION_FAMILIES)
    assert all(r["accompaniment_font"] in ("", *VALIDATION_FAMILIES) for r in validation)
    assert not any(r["donor_kit_id"] for r in validation)
    train = _rows("train")
    assert not {r["kit_family"] for r in train} & set(VALIDATION_FAMILIES)
    donors = {r["donor_kit_id"] for r in train if r["donor_kit_id"]}
    assert donors and not any(d.split(":")[1] in VALIDATION_FAMILIES for d in donors)
    assert not any(d.split(":")[1] in FROZEN_TEST_FAMILIES for d in donors if d.startswith("sf:"))
    assert not any(d.endswith("/" + kit) for d in donors for kit in FROZEN_TEST_DEBIAN_KITS)
    assert not {r["accompaniment_font"] for r in train} & {*VALIDATION_FAMILIES, "TimGM6mb"}


def test_no_gmd_test_performance_and_the_counts_match_the_weights() -> None:
    if not GMD_INFO.is_file():
        pytest.skip(f"GMD info.csv not found at {GMD_INFO} (the ../shared checkout)")
    with open(GMD_INFO, newline="") as fh:
        split_of = {r["id"]: r["split"] for r in csv.DictReader(fh)}
    for split in ("train", "validation"):
        assert {split_of[r["gmd_id"]] for r in _rows(split)} == {split}
    meta = load_model().meta
    assert meta["corpus_items"] == {s: len(_rows(s)) for s in ("train", "validation")}
