"""The training corpus: GMD excerpts through many kits, under composed accompaniment.

Items
-----
Every performance of a split gives excerpts: a beat longer than ``excerpt_s`` is cut into
non-overlapping excerpts of ``excerpt_s`` (a last piece shorter than :data:`MIN_EXCERPT_S` is
dropped), a fill or a shorter beat is one item; excerpts without a drum note are dropped.
Item ``i`` takes excerpt ``perm_p[i % C]`` (``C`` excerpts, one seeded permutation per pass
``p = i // C``, so ``n_items > C`` renders excerpts again with other kits), and kit
``perm_b[i % K]`` (``K`` kits, one seeded permutation per block ``b = i // K``: every kit gets
the same share, give or take one). Each item has its own seed; from it come the accompaniment
font, the drum-to-rest ratio (drums alone with probability :data:`DRUMS_ALONE_P`, else uniform
in [-12, +12] dB RMS; never accompaniment alone), whether the kit is varied (probability
``kit_variation``: :func:`drumgenx.training.kits.vary_kit` with another kit of the group as
donor), the accompaniment and the augmentations. An item does not depend on ``n_items``: a
larger build keeps the items of a smaller one.

Kit groups (:func:`drumgenx.training.kits.kit_group`): a corpus renders one group. The
``train`` split takes the training kits (varied by default) under FluidR3_GM, MuseScore_General
and OPL-3 accompaniment; the ``validation`` split takes the held-out validation font
(``sf_GMbank``, kits and accompaniment, not varied), so the choices made on it measure kits
the network never heard.

Files (under ``out_dir/<split>/``)
----------------------------------
``audio/<item_id>.flac`` (the mix), ``drums/<item_id>.flac`` (the drums alone, before
augmentation, at the mix's gain), both 16-bit mono 44.1 kHz; ``labels/<item_id>.csv``
(``time_s, pitch, velocity, class``; ``round(time_s * 44100)`` is the onset sample);
``meta/<item_id>.json`` (the full description; written last, it marks a finished item);
``manifest.csv`` (one row per item) and ``corpus.json`` (the build parameters; a rebuild
with other parameters into the same folder is refused). Files are written under a temporary
name and renamed; finished items are kept on a rerun.

CLI (``python -m drumgenx.training.corpus`` is the same command; defaults:
`training.settings.CorpusSettings`)::

    drumgenx train corpus --gmd ../shared/data/gmd --out DIR --split train \\
        --n 1000 --seed 0 [--excerpt_s 20] [--workers 2] [--kits train|validation] \\
        [--kit_variation 0.6]

The CLI refuses the GMD test split; the held-out bench renders it through :func:`build_corpus`
with ``kits="frozen"``.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.versioning import replace_file
from drumgenx.training import accompaniment as acc
from drumgenx.training import kits as kitlib
from drumgenx.training.augment import augment_mix
from drumgenx.training.flags import settings_from, standalone
from drumgenx.training.gmd import (
    CLASS_OF_PITCH,
    DrumNote,
    Performance,
    load_performances,
    read_drum_notes,
)
from drumgenx.training.settings import KIT_VARIATION, CorpusSettings

SR = 44100
MIN_EXCERPT_S = 4.0
PREROLL_S = 4.0  # notes this long before an excerpt ring into it (tails only, no labels)
DRUMS_ALONE_P = 0.10
RATIO_DB = (-12.0, 12.0)
MIX_PEAK_DBFS = (-6.0, -1.0)
CORPUS_VERSION = 3  # 3: without the Orchestra kits and The Black Pearl 1.0 (see kits)
MANIFEST_COLUMNS = (
    "item_id",
    "split",
    "gmd_id",
    "midi_path",
    "style",
    "bpm",
    "beat_type",
    "start_s",
    "duration_s",
    "n_notes",
    "kit_id",
    "kit_family",
    "kit_package",
    "kit_path",
    "kit_preset",
    "donor_kit_id",
    "kit_variation",
    "accompaniment_font",
    "accompaniment_package",
    "accompaniment_path",
    "programs",
    "drum_to_rest_db",
    "drums_alone",
    "augmentations",
    "seed",
)


class SilentExcerpt(ValueError):
    """The kit sounds none of the excerpt's notes (render_item refuses accompaniment alone)."""


@dataclass(frozen=True)
class CorpusItem:
    """One planned item of a corpus.

    Attributes
    ----------
    item_id : str
        ``"<split>-<index:06d>"``.
    index : int
        Position in the build.
    perf : Performance
    start_s, duration_s : float
        The excerpt of the performance.
    kit : Kit
    accompaniment_font : str or None
        Font family of :data:`drumgenx.training.kits.SOUNDFONTS`; None for drums alone.
    drum_to_rest_db : float or None
        Drum RMS over accompaniment RMS; None for drums alone.
    seed : int
        The item's seed (accompaniment and augmentations).
    donor_kit : Kit or None
        When set, the kit is varied (:func:`drumgenx.training.kits.vary_kit`) with this donor.
    """

    item_id: str
    index: int
    perf: Performance
    start_s: float
    duration_s: float
    kit: kitlib.Kit
    accompaniment_font: str | None
    drum_to_rest_db: float | None
    seed: int
    donor_kit: kitlib.Kit | None = None


@dataclass(frozen=True)
class Label:
    """A labelled onset: a note that sounds in the item (``drum_class`` indexes DRUM_CLASSES)."""

    time_s: float
    pitch: int
    velocity: int
    drum_class: int


@dataclass
class RenderedItem:
    """The audio and labels of one item.

    Attributes
    ----------
    mix : ndarray
        float32 mono 44.1 kHz (augmented when asked).
    drums : ndarray
        The drums alone, same length, before accompaniment and augmentation, scaled by the
        mix's gain.
    labels : list of Label
        Sounding notes, times relative to the excerpt start (exact sample / 44100).
    description : dict
        Every source: GMD file, kit (package, file, preset), accompaniment (font, package,
        programs, composition), ratio, gain, seeds, augmentations.
    """

    mix: np.ndarray
    drums: np.ndarray
    labels: list[Label]
    description: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# One item


def _font_source(font: str | Path) -> tuple[str, str, Path]:
    """(family, package, path) of an accompaniment font given by family name or path."""
    for family, package, _ in kitlib.SOUNDFONTS:
        if str(font) == family:
            path = kitlib.soundfont_path(family)
            if path is None:
                raise FileNotFoundError(
                    f"SoundFont {family} not installed: apt-get install {package}"
                )
            return family, package, path
    path = Path(font)
    for family, package, paths in kitlib.SOUNDFONTS:
        if any(path.resolve() == p.resolve() for p in paths if p.exists()):
            return family, package, path
    return path.stem, "", path


def _seeds(seed: int) -> tuple[int, int, int]:
    s = np.random.SeedSequence(int(seed)).generate_state(3)
    return int(s[0]), int(s[1]), int(s[2])


def render_item(
    perf: Performance,
    *,
    kit: kitlib.Kit,
    accompaniment_font: str | Path | None,
    start_s: float,
    duration_s: float,
    drum_to_rest_db: float | None,
    seed: int,
    cache_dir: str | Path,
    augment: bool = True,
    donor_kit: kitlib.Kit | None = None,
) -> RenderedItem:
    """Render one excerpt of a performance through a kit, under accompaniment.

    Parameters
    ----------
    perf : Performance
    kit : Kit
    accompaniment_font : str, Path or None
        A font family name (``"FluidR3_GM"``) or file; None for drums alone.
    start_s, duration_s : float
        The excerpt. Notes up to 4 s before ``start_s`` ring into it (no labels).
    drum_to_rest_db : float or None
        Drum RMS over accompaniment RMS in dB; None for drums alone.
    seed : int
        Seeds the accompaniment, the mix level and the augmentations.
    cache_dir : str or Path
        One-shot cache (:func:`drumgenx.training.kits.load_one_shots`).
    augment : bool
        Apply :func:`drumgenx.training.augment.augment_mix` to the mix.
    donor_kit : Kit, optional
        Vary the kit (:func:`drumgenx.training.kits.vary_kit`, seeded by ``seed``) with this
        donor; None plays the kit as it is.

    Returns
    -------
    RenderedItem
    """
    n = round(duration_s * SR)
    if n <= 0:
        raise ValueError("duration_s must be positive")
    acc_seed, level_seed, aug_seed = _seeds(seed)
    notes = _excerpt_notes(perf, start_s=start_s, duration_s=duration_s)
    shots = kitlib.load_one_shots(kit, cache_dir=cache_dir)
    variation = None
    if donor_kit is not None:
        donor = kitlib.load_one_shots(donor_kit, cache_dir=cache_dir)
        keys = {kitlib.sound_key(nt.pitch) for nt in notes}
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 4]))
        shots, classes = kitlib.vary_kit(shots, donor, keys=keys, rng=rng)
        variation = {"donor_kit_id": donor_kit.kit_id, "classes": classes}
    drums = kitlib.render_drums(notes, shots, n_samples=n, sr=SR).astype(np.float64)
    labels = [
        Label(
            time_s=round(nt.time_s * SR) / SR,
            pitch=nt.pitch,
            velocity=nt.velocity,
            drum_class=CLASS_OF_PITCH[nt.pitch],
        )
        for nt in kitlib.sounding_notes(notes, shots, n_samples=n, sr=SR)
    ]
    description: dict[str, Any] = {
        "version": CORPUS_VERSION,
        "gmd": _performance_record(perf),
        "excerpt": {"start_s": round(start_s, 6), "duration_s": round(duration_s, 6)},
        "kit": _kit_record(kit),
        "kit_variation": variation,
        "n_notes": len(labels),
        "seed": int(seed),
    }
    mix = drums.copy()
    acc_desc = None
    if accompaniment_font is not None and drum_to_rest_db is not None:
        rest, acc_desc = _render_accompaniment(
            perf, font=accompaniment_font, start_s=start_s, duration_s=duration_s, seed=acc_seed
        )
        rms_d, rms_a = float(np.sqrt(np.mean(drums**2))), float(np.sqrt(np.mean(rest**2)))
        if rms_a > 0 and rms_d > 0:
            mix = drums + rest * (rms_d / rms_a) * 10 ** (-drum_to_rest_db / 20)
        elif rms_d == 0:
            raise SilentExcerpt(f"{perf.gmd_id} @ {start_s}s: no drum sound from {kit.kit_id}")
    description["accompaniment"] = acc_desc
    description["drum_to_rest_db"] = None if acc_desc is None else round(drum_to_rest_db, 4)
    peak_dbfs = float(np.random.default_rng(level_seed).uniform(*MIX_PEAK_DBFS))
    peak = float(np.max(np.abs(mix)))
    mix_gain = 10 ** (peak_dbfs / 20) / peak if peak > 0 else 1.0
    mix *= mix_gain
    drums *= mix_gain
    description["mix_gain"] = round(mix_gain, 6)
    description["mix_peak_dbfs"] = round(peak_dbfs, 4)
    out = mix.astype(np.float32)
    description["augmentations"] = None
    if augment:
        out, description["augmentations"] = augment_mix(
            out, rng=np.random.default_rng(aug_seed), sr=SR
        )
    return RenderedItem(
        mix=out, drums=drums.astype(np.float32), labels=labels, description=description
    )


def _excerpt_notes(perf: Performance, *, start_s: float, duration_s: float) -> list[DrumNote]:
    """The excerpt's notes, times from its start; up to `PREROLL_S` before it ring into it
    (negative times: they sound, but are not labelled)."""
    pre = min(PREROLL_S, start_s)
    return [
        DrumNote(time_s=nt.time_s - pre, pitch=nt.pitch, velocity=nt.velocity)
        for nt in read_drum_notes(
            perf.midi_path, start_s=start_s - pre, duration_s=duration_s + pre
        )
    ]


def _performance_record(perf: Performance) -> dict[str, Any]:
    return {
        "gmd_id": perf.gmd_id,
        "midi_path": str(perf.midi_path),
        "split": perf.split,
        "drummer": perf.drummer,
        "style": perf.style,
        "bpm": perf.bpm,
        "beat_type": perf.beat_type,
    }


def _kit_record(kit: kitlib.Kit) -> dict[str, Any]:
    return {
        "kit_id": kit.kit_id,
        "family": kit.family,
        "kind": kit.kind,
        "package": kit.package,
        "path": str(kit.path),
        "preset": kit.preset,
        "name": kit.name,
    }


def _render_accompaniment(
    perf: Performance, *, font: str | Path, start_s: float, duration_s: float, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Accompaniment composed in the performance's tempo and bars (GMD bar 1 is at 0), the
    excerpt of it rendered through ``font``, and its description."""
    family, package, font_path = _font_source(font)
    bar_s = 240.0 / perf.bpm
    offset = start_s - math.floor(start_s / bar_s + 1e-9) * bar_s
    midi = acc.compose_accompaniment(bpm=perf.bpm, duration_s=offset + duration_s, seed=seed)
    k0 = round(offset * SR)
    rest = acc.render_midi(midi, font=font_path, n_samples=k0 + round(duration_s * SR), sr=SR)[k0:]
    info = acc.accompaniment_info(midi)
    description = {
        "font": family,
        "package": package,
        "path": str(font_path),
        "seed": seed,
        "offset_s": round(offset, 6),
        "programs": [p["program"] for p in info["parts"]],
        "composition": info,
    }
    return rest.astype(np.float64), description


# ---------------------------------------------------------------------------------------------
# Planning


def _excerpts(perf: Performance, excerpt_s: float) -> list[tuple[float, float]]:
    times = [nt.time_s for nt in read_drum_notes(perf.midi_path)]
    if not times:
        return []
    length = max(perf.duration_s, times[-1] + 0.5)
    if perf.beat_type == "fill" or length <= excerpt_s:
        return [(0.0, round(min(length, excerpt_s), 6))]
    out = []
    start = 0.0
    while start < length:
        dur = min(excerpt_s, length - start)
        if dur >= MIN_EXCERPT_S and any(start <= t < start + dur for t in times):
            out.append((round(start, 6), round(dur, 6)))
        start += excerpt_s
    return out


def _perm(n: int, *key: int) -> np.ndarray:
    return np.random.default_rng(np.random.SeedSequence(list(key))).permutation(n)


def resolve_kits(kits: str | Sequence[kitlib.Kit]) -> list[kitlib.Kit]:
    """A kit group's name (``"train"``, ``"validation"``, ``"frozen"``) or a list of kits of one
    group, sorted by kit_id."""
    out = kitlib.kits_of_group(kits) if isinstance(kits, str) else list(kits)
    if not out:
        raise RuntimeError(
            f"no drum kits of group {kits!r} found: apt-get install fluid-soundfont-gm "
            "musescore-general-soundfont timgm6mb-soundfont csound-soundfont opl3-soundfont "
            "avldrums.lv2-soundfont hydrogen-drumkits hydrogen-data lmms-common"
        )
    if len({kitlib.kit_group(k) for k in out}) > 1:
        raise ValueError("a corpus takes the kits of one group (train, validation or frozen)")
    return sorted(out, key=lambda k: k.kit_id)


def plan_items(
    performances: Sequence[Performance],
    *,
    split: str,
    n_items: int,
    seed: int,
    kits: Sequence[kitlib.Kit],
    fonts: Sequence[str],
    excerpt_s: float = 20.0,
    kit_variation: float = 0.0,
) -> list[CorpusItem]:
    """The first ``n_items`` items of a corpus (see the module docstring for the rules)."""
    perfs = sorted(performances, key=lambda p: p.gmd_id)
    candidates = [(p, s, d) for p in perfs for s, d in _excerpts(p, excerpt_s)]
    if not candidates:
        raise ValueError("no excerpt with drum notes in these performances")
    kits = sorted(kits, key=lambda k: k.kit_id)
    c, k = len(candidates), len(kits)
    items = []
    perms: dict[tuple[int, int], np.ndarray] = {}
    for i in range(n_items):
        p, b = i // c, i // k
        if (0, p) not in perms:
            perms[(0, p)] = _perm(c, seed, 0, p)
        if (1, b) not in perms:
            perms[(1, b)] = _perm(k, seed, 1, b)
        perf, start, dur = candidates[int(perms[(0, p)][i % c])]
        kit_index = int(perms[(1, b)][i % k])
        kit = kits[kit_index]
        item_seed = int(np.random.SeedSequence([seed, 2, i]).generate_state(1)[0])
        rng = np.random.default_rng(np.random.SeedSequence([seed, 3, i]))
        font = str(fonts[int(rng.integers(0, len(fonts)))])
        alone = rng.random() < DRUMS_ALONE_P
        ratio = float(rng.uniform(*RATIO_DB))
        vary = rng.random() < kit_variation and k > 1
        donor = kits[(kit_index + 1 + int(rng.integers(0, max(1, k - 1)))) % k]
        items.append(
            CorpusItem(
                item_id=f"{split}-{i:06d}",
                index=i,
                perf=perf,
                start_s=start,
                duration_s=dur,
                kit=kit,
                accompaniment_font=None if alone else font,
                drum_to_rest_db=None if alone else round(ratio, 4),
                seed=item_seed,
                donor_kit=donor if vary else None,
            )
        )
    return items


# ---------------------------------------------------------------------------------------------
# Files


def _flac_bytes(x: np.ndarray) -> bytes:
    pcm = np.round(np.clip(np.asarray(x, dtype=np.float64), -1.0, 32767 / 32768) * 32768)
    buf = io.BytesIO()
    sf.write(buf, pcm.astype(np.int16), SR, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def _labels_csv(labels: Sequence[Label]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["time_s", "pitch", "velocity", "class"])
    for lab in labels:
        w.writerow([f"{lab.time_s:.6f}", lab.pitch, lab.velocity, lab.drum_class])
    return buf.getvalue().encode()


def _paths(split_dir: Path, item_id: str) -> dict[str, Path]:
    return {
        "audio": split_dir / "audio" / f"{item_id}.flac",
        "drums": split_dir / "drums" / f"{item_id}.flac",
        "labels": split_dir / "labels" / f"{item_id}.csv",
        "meta": split_dir / "meta" / f"{item_id}.json",
    }


def _is_done(split_dir: Path, item_id: str) -> bool:
    return all(p.is_file() for p in _paths(split_dir, item_id).values())


def _render_and_write(
    item: CorpusItem, split_dir: str, cache_dir: str, gmd_dir: str, fallback: list[kitlib.Kit]
) -> dict[str, Any]:
    """Worker: render one item (a kit that leaves the excerpt silent is swapped) and write it."""
    sdir = Path(split_dir)
    paths = _paths(sdir, item.item_id)
    if _is_done(sdir, item.item_id):
        return {"item_id": item.item_id, "status": "kept"}
    order = [item.kit] + [k for k in fallback if k != item.kit]
    start = item.index % len(order[1:]) if len(order) > 1 else 0
    candidates = [order[0], *order[1:][start:], *order[1:][:start]]
    for kit in candidates:
        try:
            rendered = render_item(
                item.perf,
                kit=kit,
                accompaniment_font=item.accompaniment_font,
                start_s=item.start_s,
                duration_s=item.duration_s,
                drum_to_rest_db=item.drum_to_rest_db,
                seed=item.seed,
                cache_dir=cache_dir,
                donor_kit=item.donor_kit if item.donor_kit != kit else None,
            )
        except SilentExcerpt:
            continue
        if rendered.labels:
            break
    else:
        raise RuntimeError(f"{item.item_id}: no kit sounds any note of {item.perf.gmd_id}")
    desc = rendered.description
    desc["item_id"] = item.item_id
    desc["planned_kit_id"] = item.kit.kit_id
    desc["gmd"]["midi_path"] = os.path.relpath(item.perf.midi_path, gmd_dir)
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    replace_file(paths["audio"], _flac_bytes(rendered.mix))
    replace_file(paths["drums"], _flac_bytes(rendered.drums))
    replace_file(paths["labels"], _labels_csv(rendered.labels))
    meta = json.dumps(desc, indent=1, sort_keys=True) + "\n"
    replace_file(paths["meta"], meta.encode())  # last: marks the item finished
    return {"item_id": item.item_id, "status": "rendered"}


def _manifest_row(desc: dict[str, Any], split: str) -> dict[str, Any]:
    a = desc.get("accompaniment") or {}
    ratio = desc.get("drum_to_rest_db")
    return {
        "item_id": desc["item_id"],
        "split": split,
        "gmd_id": desc["gmd"]["gmd_id"],
        "midi_path": desc["gmd"]["midi_path"],
        "style": desc["gmd"]["style"],
        "bpm": desc["gmd"]["bpm"],
        "beat_type": desc["gmd"]["beat_type"],
        "start_s": desc["excerpt"]["start_s"],
        "duration_s": desc["excerpt"]["duration_s"],
        "n_notes": desc["n_notes"],
        "kit_id": desc["kit"]["kit_id"],
        "kit_family": desc["kit"]["family"],
        "kit_package": desc["kit"]["package"],
        "kit_path": desc["kit"]["path"],
        "kit_preset": "" if desc["kit"]["preset"] is None else desc["kit"]["preset"],
        "donor_kit_id": (desc.get("kit_variation") or {}).get("donor_kit_id", ""),
        "kit_variation": json.dumps(desc.get("kit_variation"), sort_keys=True),
        "accompaniment_font": a.get("font", ""),
        "accompaniment_package": a.get("package", ""),
        "accompaniment_path": a.get("path", ""),
        "programs": json.dumps(a.get("programs", [])),
        "drum_to_rest_db": "" if ratio is None else ratio,
        "drums_alone": int(ratio is None),
        "augmentations": json.dumps(desc.get("augmentations"), sort_keys=True),
        "seed": desc["seed"],
    }


def write_manifest(split_dir: str | Path, item_ids: Sequence[str], split: str) -> Path:
    """Write ``manifest.csv`` from the items' ``meta/*.json`` (one row per item, in order)."""
    split_dir = Path(split_dir)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    w.writeheader()
    for item_id in item_ids:
        desc = json.loads(_paths(split_dir, item_id)["meta"].read_text())
        w.writerow(_manifest_row(desc, split))
    path = split_dir / "manifest.csv"
    replace_file(path, buf.getvalue().encode())
    return path


def build_corpus(
    *,
    gmd_dir: str | Path,
    out_dir: str | Path,
    split: str,
    n_items: int,
    seed: int,
    excerpt_s: float = 20.0,
    kits: str | Sequence[kitlib.Kit] = "train",
    kit_variation: float = 0.0,
    cache_dir: str | Path | None = None,
    workers: int = 1,
    progress: Callable[[int, int, str, str], None] | None = None,
) -> dict[str, Any]:
    """Render ``n_items`` items of a GMD split into ``out_dir/<split>/`` (resumable).

    Parameters
    ----------
    gmd_dir : str or Path
        The GMD folder (``info.csv``).
    out_dir : str or Path
        Corpus root; files go to ``out_dir/<split>/`` (see the module docstring).
    split : str
        GMD split; any is accepted here (the CLI refuses ``"test"``).
    n_items : int
        Items to have on disk (finished items already there are kept, not re-rendered).
    seed : int
        Corpus seed: the same seed gives the same bytes.
    excerpt_s : float
        Longest excerpt.
    kits : {"train", "validation", "frozen"} or sequence of Kit
        A kit group (:func:`drumgenx.training.kits.kits_of_group`) or kits of one group; the
        accompaniment fonts are the group's (:data:`drumgenx.training.accompaniment.GROUP_FONTS`).
    kit_variation : float
        Share of items whose kit is varied with a donor kit of the same group (0 plays every
        kit as it is; the CLI's default for training kits is :data:`KIT_VARIATION`).
    cache_dir : str or Path, optional
        One-shot cache; ``out_dir/cache/oneshots`` when None.
    workers : int
        Processes rendering items in parallel.
    progress : callable, optional
        ``progress(done, total, item_id, status)`` after each item (status ``"rendered"`` or
        ``"kept"``).

    Returns
    -------
    dict
        ``items, rendered, kept, audio_s, seconds, manifest``.
    """
    t0 = time.perf_counter()
    kit_list = resolve_kits(kits)
    group = kitlib.kit_group(kit_list[0])
    fonts = tuple(f for f in acc.GROUP_FONTS[group] if kitlib.soundfont_path(f) is not None)
    if not fonts:
        packages = " ".join(kitlib.soundfont_package(f) for f in acc.GROUP_FONTS[group])
        raise RuntimeError(f"no accompaniment SoundFont installed: apt-get install {packages}")
    gmd_dir = Path(gmd_dir).resolve()
    split_dir = Path(out_dir) / split
    cache_dir = Path(cache_dir) if cache_dir is not None else Path(out_dir) / "cache" / "oneshots"
    params = {
        "version": CORPUS_VERSION,
        "split": split,
        "seed": int(seed),
        "excerpt_s": float(excerpt_s),
        "kits": [k.kit_id for k in kit_list],
        "kit_variation": float(kit_variation),
        "accompaniment_fonts": list(fonts),
    }
    split_dir.mkdir(parents=True, exist_ok=True)
    params_path = split_dir / "corpus.json"
    if params_path.is_file():
        old = json.loads(params_path.read_text())
        if old != params:
            raise ValueError(
                f"{split_dir} holds a corpus built with other parameters ({params_path}); "
                "use another --out or the same parameters"
            )
    else:
        replace_file(params_path, (json.dumps(params, indent=1) + "\n").encode())
    items = plan_items(
        load_performances(gmd_dir, split),
        split=split,
        n_items=n_items,
        seed=seed,
        kits=kit_list,
        fonts=fonts,
        excerpt_s=excerpt_s,
        kit_variation=kit_variation,
    )
    args = (str(split_dir), str(cache_dir), str(gmd_dir), kit_list)
    counts = {"rendered": 0, "kept": 0}
    done = 0

    def report(res: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        counts[res["status"]] += 1
        if progress is not None:
            progress(done, len(items), res["item_id"], res["status"])

    if workers <= 1:
        for item in items:
            report(_render_and_write(item, *args))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_render_and_write, item, *args) for item in items]
            for fut in as_completed(futures):
                report(fut.result())
    manifest = write_manifest(split_dir, [it.item_id for it in items], split)
    audio_s = 0.0
    with open(manifest, newline="") as fh:
        audio_s = sum(float(r["duration_s"]) for r in csv.DictReader(fh))
    return {
        "items": len(items),
        "rendered": counts["rendered"],
        "kept": counts["kept"],
        "audio_s": audio_s,
        "seconds": time.perf_counter() - t0,
        "manifest": str(manifest),
    }


# ---------------------------------------------------------------------------------------------
# CLI


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train corpus`` (flags: `training.flags`): one split of the train or
    validation GMD performances; the test split is refused."""
    settings = settings_from(args, CorpusSettings)
    if args.split == "test":
        raise DrumgenxError(
            "the GMD test split is held out and never rendered by this command; the held-out "
            "bench renders it through drumgenx.training.corpus.build_corpus(..., kits='frozen')"
        )
    if args.split not in ("train", "validation"):
        raise DrumgenxError(f"--split must be train or validation, not {args.split!r}")
    if args.n <= 0:
        raise DrumgenxError("--n must be at least 1")
    kits = args.kits or args.split
    variation = args.kit_variation
    if variation is None:
        variation = KIT_VARIATION if kits == "train" else 0.0
    if not 0.0 <= variation <= 1.0:
        raise DrumgenxError("--kit_variation must be within 0..1")
    t0 = time.perf_counter()

    def progress(done: int, total: int, item_id: str, status: str) -> None:
        el = time.perf_counter() - t0
        print(f"[{done}/{total}] {item_id} {status} ({el:.1f} s)", flush=True)

    summary = build_corpus(
        gmd_dir=args.gmd,
        out_dir=args.out,
        split=args.split,
        n_items=args.n,
        seed=settings.seed,
        excerpt_s=settings.excerpt_s,
        kits=kits,
        kit_variation=variation,
        cache_dir=args.cache_dir,
        workers=settings.workers,
        progress=progress,
    )
    per = summary["seconds"] / max(1, summary["rendered"])
    print(
        f"done: {summary['items']} items ({summary['rendered']} rendered, "
        f"{summary['kept']} kept), {summary['audio_s'] / 3600:.3f} h of audio, "
        f"{summary['seconds']:.1f} s ({per:.2f} s per rendered item); "
        f"manifest {summary['manifest']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m drumgenx.training.corpus``: ``drumgenx train corpus``."""
    return standalone("corpus", run_command, argv)


if __name__ == "__main__":
    sys.exit(main())
