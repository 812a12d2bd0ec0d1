"""Drum kits (SoundFont presets and Debian Hydrogen kits), their one-shots, sample-exact renders.

Kits
----
- **SoundFont kits**: every bank-128 preset of the General MIDI fonts found on disk, and the
  bank-0 kits of the x42-avldrums fonts (:data:`SOUNDFONTS`), listed by parsing the SF2/SF3
  RIFF ``pdta/phdr`` chunk (:func:`list_presets`). Non-kit presets (Metronome, Marching*,
  SFX) are left out.
  ``FluidR3_GS.sf2`` is the GS *supplement* (SFX presets only), so it contributes no kit.
- **Debian kits**: Hydrogen kits from ``hydrogen-data`` / ``hydrogen-drumkits``; each slot is
  one instrument of ``labels.csv`` (confidence high unless named in the slot map), as in
  `training.gmd_render`. Cross-class stand-ins of the bench maps (an open hat played for a
  crash) are dropped here: a missing slot is silent and so unlabelled.

One-shots
---------
A SoundFont kit is rendered once with the ``fluidsynth`` CLI: one MIDI file, every GM drum key
35-81 at :data:`VELOCITY_LAYERS`, each note alone in its slot (an All-Sound-Off before the next
one). Each note is cut out and its leading silence trimmed so the one-shot starts at its first
sample above -60 dB re its peak (the CLI quantizes note-ons to 64-sample blocks; trimming makes
that irrelevant). Tails are cut 70 dB under the peak (a 20 ms fade ends each one-shot). Keys
that render silence are left out. Debian one-shots are downmixed to mono, resampled to 44.1 kHz
(soxr) and trimmed the same way; an instrument's layers are ordered by attack loudness and
layer ``i`` of ``n`` stands for velocities up to ``round(127 * (i + 1) / n)``. One-shots are
cached as one ``.npz`` per kit (int16 with a per-one-shot scale) under ``cache_dir``.

Rendering
---------
:func:`render_drums` places each one-shot at ``round(time_s * sr)`` exactly: the layer is the
softest one whose velocity is >= the note's, with linear gain ``velocity / layer_velocity``;
an open hat is choked (10 ms fade) by the next closed or pedal hat. Roland TD-11 notes that are
not GM sounds play as their GM equivalents (:data:`SOUND_KEY_OF_PITCH`: 22 -> 42, 26 -> 46,
58 -> 43); a note whose key the kit lacks is silent and :func:`sounding_notes` drops it, so
labels are only notes that sound.

Kit groups
----------
Every kit belongs to one group (:func:`kit_group`): ``"train"`` (learned from),
``"validation"`` (held out of training and used for every choice: checkpoint, thresholds,
defaults; all of csound's ``sf_GMbank``, by another author than the training fonts) or
``"frozen"`` (the frozen test group below, reported once).

Frozen test group
-----------------
:data:`FROZEN_TEST_FAMILIES` and :data:`FROZEN_TEST_DEBIAN_KITS` are never rendered into
training or validation items and never used for any choice (kits, levels, augmentations): they
are held out for a final bench. They are a whole SoundFont by another author than the training
fonts (TimGM6mb, by Tim Brechbill; its accompaniment font is TimGM6mb too), one acoustic kit
(BJA_Pacific, B. J. Anderson, the only kit of its author) and one machine kit
(TR808EmulationKit). Caveat: TR808EmulationKit's author (ArtemioLabs) also made the training
kits ElectricEmpireKit and HardElectro1, which are machine kits of a different character.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mido
import numpy as np

from drumgenx.training._fluidsynth import render_to_array
from drumgenx.training.gmd import CLASS_OF_PITCH, DRUM_CLASSES, DrumNote

SR = 44100
CACHE_VERSION = 1

SHARE = Path("/usr/share")
HYDROGEN_KITS_DIR = SHARE / "hydrogen" / "data" / "drumkits"
LABELS_CSV = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "drum_oneshots" / "labels.csv"
)
"""Default ``labels.csv`` (the ``../shared`` checkout); ``DRUMGENX_ONESHOT_LABELS`` overrides."""

# family, Debian package, candidate paths (first existing wins)
SOUNDFONTS: tuple[tuple[str, str, tuple[Path, ...]], ...] = (
    ("FluidR3_GM", "fluid-soundfont-gm", (SHARE / "sounds/sf2/FluidR3_GM.sf2",)),
    ("FluidR3_GS", "fluid-soundfont-gs", (SHARE / "sounds/sf2/FluidR3_GS.sf2",)),
    (
        "MuseScore_General",
        "musescore-general-soundfont",
        (
            SHARE / "sounds/sf3/MuseScore_General.sf3",
            SHARE / "sounds/sf3/MuseScore_General_Full.sf3",
            SHARE / "sounds/sf2/MuseScore_General.sf2",
        ),
    ),
    ("TimGM6mb", "timgm6mb-soundfont", (SHARE / "sounds/sf2/TimGM6mb.sf2",)),
    ("sf_GMbank", "csound-soundfont", (SHARE / "sounds/sf2/sf_GMbank.sf2",)),
    ("OPL-3_FM_128M", "opl3-soundfont", (SHARE / "sounds/sf2/OPL-3_FM_128M.sf2",)),
    (
        "Black_Pearl_4_LV2",
        "avldrums.lv2-soundfont",
        (SHARE / "sounds/sf2/Black_Pearl_4_LV2.sf2",),
    ),
    (
        "Red_Zeppelin_4_LV2",
        "avldrums.lv2-soundfont",
        (SHARE / "sounds/sf2/Red_Zeppelin_4_LV2.sf2",),
    ),
)

BANK0_KIT_FONTS = frozenset({"Black_Pearl_4_LV2", "Red_Zeppelin_4_LV2"})
"""Fonts whose bank-0 presets are drum kits on GM keys (x42-avldrums), played on channel 1."""

NON_KIT_PRESET = re.compile(r"^(metronome|marching|oldmarching|sfx)", re.IGNORECASE)
"""Bank-128 presets that are not drum kits."""

TIMPANI_KIT_PRESETS: frozenset[tuple[str, int, int]] = frozenset(
    {("FluidR3_GM", 128, 48), ("MuseScore_General", 128, 48), ("sf_GMbank", 128, 48)}
)
"""(family, bank, preset) of kits left out: the GS Orchestra set plays timpani on keys 41-53,
so their hi-hat, tom and cymbal labels would name timpani. Measured on the loudest layer: the
spectral centroid of keys 42, 44, 46, 49 and 51 is 1.1-1.9 kHz in these three kits, against
6-10 kHz for the same keys of each font's Standard kit. TimGM6mb's Orchestra kit keeps real
hats and cymbals there (6.1 kHz on key 42) and stays in the frozen group as set aside."""

FROZEN_TEST_FAMILIES: tuple[str, ...] = ("TimGM6mb",)
FROZEN_TEST_DEBIAN_KITS: tuple[str, ...] = ("BJA_Pacific", "TR808EmulationKit")
VALIDATION_FAMILIES: tuple[str, ...] = ("sf_GMbank",)
"""Held out of training to choose on (checkpoint, thresholds, defaults): a whole font."""
KIT_GROUPS: tuple[str, ...] = ("train", "validation", "frozen")

GM_KEYS: tuple[int, ...] = tuple(range(35, 82))
VELOCITY_LAYERS: tuple[int, ...] = (24, 48, 72, 96, 112, 127)
LONG_KEYS = frozenset({46, 49, 51, 52, 53, 55, 57, 59})  # cymbals and open hat ring long
SHORT_SLOT_S, LONG_SLOT_S = 2.0, 4.0

SOUND_KEY_OF_PITCH: dict[int, int] = {22: 42, 26: 46, 58: 43}
"""Roland TD-11 pitches that are not the GM sound of their class -> the GM key played."""
OPEN_HAT_KEYS = frozenset({46})
CHOKE_KEYS = frozenset({42, 44})
CHOKE_FADE_S = 0.010
ONSET_DB = -60.0
TAIL_DB = -70.0
END_FADE_S = 0.020

# Debian kit slots -> the GM keys they sound on (the GMD pitches after SOUND_KEY_OF_PITCH).
SLOT_KEYS: dict[str, tuple[int, ...]] = {
    "kick": (35, 36),
    "snare": (38, 40),
    "rim": (37,),
    "hh_closed": (42,),
    "hh_pedal": (44,),
    "hh_open": (46,),
    "tom_low": (41, 43),
    "tom_mid": (45, 47),
    "tom_high": (48, 50),
    "crash": (49, 52, 55, 57),
    "ride": (51, 53, 59),
}

# Per Debian kit: package, author family, slot -> instrument_name in labels.csv (the
# onset renders of training/gmd_render.py take the first five from here); a slot left out
# is silent.
DEBIAN_KITS: dict[str, tuple[str, str, dict[str, str]]] = {
    "GMRockKit": (
        "hydrogen-data",
        "hydrogen/GlenMacArthur",
        {
            "kick": "Kick",
            "snare": "Snare",
            "rim": "Snare Rimshot",
            "hh_closed": "Hat Closed",
            "hh_pedal": "Hat Pedal",
            "hh_open": "Hat Open",
            "tom_low": "Floor Tom",
            "tom_mid": "Tom 2",
            "tom_high": "Tom 1",
            "crash": "Crash",
            "ride": "Ride",
        },
    ),
    "BJA_Pacific": (
        "hydrogen-drumkits",
        "hydrogen/BJAnderson",
        {
            "kick": "BassDrum",
            "snare": "Snare",
            "rim": "Snare",  # no rim shot in this kit
            "hh_closed": "Hi Hat Closed",
            "hh_pedal": "Hi Hat Closed",
            "hh_open": "Hi Hat Opened",
            "tom_low": "Floor Tom",
            "tom_mid": "Tom",
            "tom_high": "Tom",
            "crash": "Crash Right",
            "ride": "Ride 2",
        },
    ),
    "Millo_MultiLayered3": (
        "hydrogen-drumkits",
        "hydrogen/EmilianoGrilli",
        {
            "kick": "Kick",
            "snare": "Snare Rock",
            "rim": "Snare Rock",
            "hh_closed": "Closed HH",
            "hh_pedal": "Pedal HH",
            "hh_open": "Open HH",
            "tom_low": "Tom Low",
            "tom_mid": "Tom Mid",
            "tom_high": "Tom Hi",
            "crash": "Crash",
            "ride": "Ride Jazz",
        },
    ),
    "TR808EmulationKit": (
        "hydrogen-data",
        "hydrogen/ArtemioLabs",
        {
            "kick": "Kick Long",
            "snare": "Snare 1",
            "rim": "Snare 2",
            "hh_closed": "Closed Hat",
            "hh_pedal": "Pedal Hat",
            "hh_open": "Open Hat",
            "tom_low": "Tom Low",
            "tom_mid": "Tom Mid",
            "tom_high": "Tom Hi",
            "ride": "Open Hat",  # same class (hihat); no crash: its only cymbal is "medium"
        },
    ),
    "ElectricEmpireKit": (
        "hydrogen-drumkits",
        "hydrogen/ArtemioLabs",
        {
            "kick": "Kick Power",
            "snare": "Snare 1",
            "rim": "Snare 3",
            "hh_closed": "Hat Closed Bs",
            "hh_pedal": "Hat Closed Dirty",
            "hh_open": "Hat Op Dirty",
            "tom_low": "Conga 2",  # no toms in this electro kit: congas stand in
            "tom_mid": "Conga 1",
            "tom_high": "Conga 1",
            "ride": "Hat Op Dirty",  # same class (hihat); no cymbals
        },
    ),
    "ForzeeStereo": (
        "hydrogen-drumkits",
        "hydrogen/Forzee",
        {
            "kick": 'Kick (Tama Superstar 22")',
            "snare": "Snare (Pearl Free Floating Maple 14x3.5)",
            "rim": "Snare Rimshot (Pearl Free Floating Maple 14x3.5)",
            "hh_closed": 'Hi-Hat Closed (Paiste Alpha Metal edge 14")',
            "hh_pedal": 'Hi-Hat Pedal (Paiste Alpha Metal edge 14")',
            "hh_open": 'Hi-Hat Open (Paiste Alpha Metal edge 14")',
            "tom_low": 'Tom Low (Tama Superstar 16")',
            "tom_mid": 'Tom Mid (Tama Superstar 13")',
            "tom_high": 'Tom High (Tama Superstar 12")',
            "crash": 'Crash (Paiste Rude Thin 18")',
            "ride": 'Ride Bow (Custom, Zagrebin 22")',
        },
    ),
    "ColomboAcousticDrumkit": (
        "hydrogen-drumkits",
        "hydrogen/MarcosGuglielmetti",
        {
            "kick": "BassDrum",
            "snare": "Snare1",
            "rim": "Snare Rock",
            "hh_closed": "Closed HH",
            "hh_pedal": "Closed HH",
            "hh_open": "Open HH",
            "tom_low": "Tom Low",
            "tom_mid": "Tom Mid",
            "tom_high": "Tom Hi",
            "crash": "crash16inch",
            "ride": "ride-crash20inch",  # "medium" (a crash/ride); the kit's only ride
        },
    ),
    "Millo-Drums_v.1": (
        "hydrogen-drumkits",
        "hydrogen/EmilianoGrilli",
        {
            "kick": "Kick",
            "snare": "Snare Rock",
            "rim": "Snare Rock",
            "hh_closed": "Closed HH",
            "hh_pedal": "Pedal HH",
            "hh_open": "Open HH",
            "tom_low": "Tom Low",
            "tom_mid": "Tom Mid",
            "tom_high": "Tom Hi",
            "crash": "Crash",
            "ride": "Ride Rock",
        },
    ),
    "HardElectro1": (
        "hydrogen-drumkits",
        "hydrogen/ArtemioLabs",
        {
            "kick": "Kick 1",
            "snare": "Snare",
            "rim": "Clap 1",
            "hh_closed": "Closed HH 2",
            "hh_pedal": "Closed HH 3",
            "hh_open": "Open HH",
            "ride": "Open HH",  # same class (hihat); no toms, no cymbals
        },
    ),
    "VariBreaks": (
        "hydrogen-drumkits",
        "hydrogen/Sineshine",
        {
            "kick": "VariBreaks Kick 1",
            "snare": "VariBreaks Snare 1",
            "rim": "VariBreaks Snare 3",
            "hh_closed": "VariBreaks Hat 1 Cl",
            "hh_pedal": "VariBreaks Hat 1 Pd",
            "hh_open": "VariBreaks Hat 1 Op",
            "tom_low": "VariBreaks Tom Low",
            "tom_mid": "VariBreaks Tom Mid",
            "tom_high": "VariBreaks Tom Hi",
            "ride": "VariBreaks Hat 1 Op",  # same class (hihat); no cymbals
        },
    ),
}
DEBIAN_KITS.update(
    {
        "Millo_MultiLayered2": (
            "hydrogen-drumkits",
            "hydrogen/EmilianoGrilli",
            {
                "kick": "Kick",
                "snare": "Snare Rock",
                "rim": "Stick",
                "hh_closed": "Closed HH",
                "hh_pedal": "Pedal HH",
                "hh_open": "Open HH",
                "tom_low": "Tom Low",
                "tom_mid": "Tom Mid",
                "tom_high": "Tom Hi",
                "crash": "Crash",
                "ride": "Ride Rock",
            },
        ),
        "lmms-drums": (  # one file per sound; instrument names are the file stems
            "lmms-common",
            "lmms",
            {
                "kick": "kick01",
                "snare": "snare01",
                "rim": "rim01",
                "hh_closed": "hihat_closed01",
                "hh_pedal": "hihat_foot_pedal01",
                "hh_open": "hihat_opened01",
                "tom_low": "tom_low01",
                "tom_mid": "tom_mid01",
                "tom_high": "tom_hi01",
                "crash": "crash01",
                "ride": "ride01",
            },
        ),
    }
)
# Not "The Black Pearl 1.0": 81 of GMRockKit's 86 files are byte-identical copies in it (same
# author), so it would only double GMRockKit's weight.
DEBIAN_KIT_FOLDERS: dict[str, Path] = {"lmms-drums": SHARE / "lmms" / "samples" / "drums"}
"""Kits outside Hydrogen's drumkits folder."""
MEDIUM_CONFIDENCE_OK = frozenset(
    {
        ("ColomboAcousticDrumkit", "ride-crash20inch"),
        # side sticks and a foot-pedal hat: "medium" for their role, sure of their class
        ("Millo_MultiLayered2", "Stick"),
        ("lmms-drums", "rim01"),
        ("lmms-drums", "hihat_foot_pedal01"),
    }
)

OneShots = dict[int, list[tuple[int, np.ndarray]]]


@dataclass(frozen=True)
class Kit:
    """One drum kit.

    Attributes
    ----------
    kit_id : str
        ``"sf:<family>:128-<preset:03d>"`` or ``"debian:<package>/<kit>"``.
    family : str
        The font file stem (``"FluidR3_GM"``) or ``"hydrogen/<author>"`` for Debian kits.
    kind : str
        ``"soundfont"`` or ``"debian"``.
    package : str
        The Debian package that ships it.
    path : Path
        The font file or the Hydrogen kit folder.
    preset : int or None
        The program change selecting the kit; None for Debian kits.
    name : str
        Preset name or Hydrogen kit folder name.
    bank : int
        SoundFont bank of the preset: 128 (a GM drum kit, channel 10) or 0 for the fonts of
        :data:`BANK0_KIT_FONTS` (played on channel 1).
    """

    kit_id: str
    family: str
    kind: str
    package: str
    path: Path
    preset: int | None
    name: str
    bank: int = 128


# ---------------------------------------------------------------------------------------------
# SoundFont presets


def list_presets(path: str | Path) -> list[tuple[int, int, str]]:
    """``(bank, preset, name)`` of every preset of an SF2/SF3 file (its ``pdta/phdr`` chunk).

    Parameters
    ----------
    path : str or Path
        A SoundFont 2 (or SF3, same RIFF layout) file.

    Returns
    -------
    list of (int, int, str)
        In file order, without the terminal ``EOP`` record.
    """
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise ValueError(f"{path}: not a SoundFont (RIFF sfbk) file")
        riff_end = 8 + struct.unpack("<I", head[4:8])[0]
        pos = 12
        while pos + 8 <= riff_end:
            fh.seek(pos)
            cid, size = struct.unpack("<4sI", fh.read(8))
            if cid == b"LIST" and fh.read(4) == b"pdta":
                sub, end = pos + 12, pos + 8 + size
                while sub + 8 <= end:
                    fh.seek(sub)
                    sid, ssize = struct.unpack("<4sI", fh.read(8))
                    if sid == b"phdr":
                        data = fh.read(ssize)
                        out = []
                        for i in range(len(data) // 38 - 1):  # last record is "EOP"
                            rec = data[i * 38 : (i + 1) * 38]
                            name = rec[:20].split(b"\0", 1)[0].decode("latin-1").strip()
                            preset, bank = struct.unpack("<HH", rec[20:24])
                            out.append((bank, preset, name))
                        return out
                    sub += 8 + ssize + (ssize & 1)
            pos += 8 + size + (size & 1)
    raise ValueError(f"{path}: no pdta/phdr chunk")


def soundfont_path(family: str) -> Path | None:
    """The file of a font family of :data:`SOUNDFONTS` on this machine (None if absent)."""
    for fam, _, paths in SOUNDFONTS:
        if fam == family:
            return next((p for p in paths if p.is_file()), None)
    raise KeyError(f"unknown SoundFont family {family!r}")


def soundfont_package(family: str) -> str:
    """The Debian package of a font family of :data:`SOUNDFONTS`."""
    for fam, package, _ in SOUNDFONTS:
        if fam == family:
            return package
    raise KeyError(f"unknown SoundFont family {family!r}")


def soundfont_kits() -> list[Kit]:
    """Every drum-kit preset of the fonts of :data:`SOUNDFONTS` found on disk.

    A kit preset is a bank-128 preset, or any preset of a font of :data:`BANK0_KIT_FONTS`;
    the presets of :data:`TIMPANI_KIT_PRESETS` are left out.

    Returns
    -------
    list of Kit
        Sorted by family then preset; presets matching :data:`NON_KIT_PRESET` are left out.
    """
    kits = []
    for family, package, _ in SOUNDFONTS:
        path = soundfont_path(family)
        if path is None:
            continue
        kit_bank = 0 if family in BANK0_KIT_FONTS else 128
        for bank, preset, name in sorted(set(list_presets(path))):
            if bank != kit_bank or NON_KIT_PRESET.match(name):
                continue
            if (family, bank, preset) in TIMPANI_KIT_PRESETS:
                continue
            kits.append(
                Kit(
                    kit_id=f"sf:{family}:{bank:03d}-{preset:03d}",
                    family=family,
                    kind="soundfont",
                    package=package,
                    path=path,
                    preset=preset,
                    name=name,
                    bank=bank,
                )
            )
    return kits


# ---------------------------------------------------------------------------------------------
# Debian kits


def _labels_csv() -> Path:
    return Path(os.environ.get("DRUMGENX_ONESHOT_LABELS", LABELS_CSV))


def debian_kits() -> list[Kit]:
    """The Hydrogen kits of :data:`DEBIAN_KITS` installed on this machine.

    Returns
    -------
    list of Kit
        Empty when neither the kits nor ``labels.csv`` (which maps their slots) are present.
    """
    if not _labels_csv().is_file():
        return []
    kits = []
    for name, (package, family, _) in DEBIAN_KITS.items():
        path = DEBIAN_KIT_FOLDERS.get(name, HYDROGEN_KITS_DIR / name)
        if path.is_dir():
            kits.append(
                Kit(
                    kit_id=f"debian:{package}/{name}",
                    family=family,
                    kind="debian",
                    package=package,
                    path=path,
                    preset=None,
                    name=name,
                )
            )
    return kits


def all_kits() -> list[Kit]:
    """:func:`soundfont_kits` then :func:`debian_kits`."""
    return soundfont_kits() + debian_kits()


def kit_group(kit: Kit) -> str:
    """``"frozen"``, ``"validation"`` or ``"train"`` (see "Kit groups" above)."""
    if kit.family in FROZEN_TEST_FAMILIES:
        return "frozen"
    if kit.kind == "debian" and kit.name in FROZEN_TEST_DEBIAN_KITS:
        return "frozen"
    if kit.family in VALIDATION_FAMILIES:
        return "validation"
    return "train"


def is_frozen_test(kit: Kit) -> bool:
    """Whether ``kit`` belongs to the frozen test group (never rendered for training)."""
    return kit_group(kit) == "frozen"


def kits_of_group(group: str) -> list[Kit]:
    """The kits of one of :data:`KIT_GROUPS` found on disk."""
    if group not in KIT_GROUPS:
        raise ValueError(f"kit group must be one of {KIT_GROUPS}, not {group!r}")
    return [k for k in all_kits() if kit_group(k) == group]


def training_kits() -> list[Kit]:
    """The kits learned from: neither held out for validation nor frozen."""
    return kits_of_group("train")


def frozen_kits() -> list[Kit]:
    """The kits of the frozen test group found on disk."""
    return kits_of_group("frozen")


# ---------------------------------------------------------------------------------------------
# One-shots


def trim_one_shot(y: np.ndarray, *, peak: float | None = None) -> np.ndarray:
    """Cut leading silence (first sample above -60 dB re ``peak``) and the tail under -70 dB.

    The last :data:`END_FADE_S` seconds get a linear fade. An all-zero input gives an empty
    array.
    """
    y = np.asarray(y, dtype=np.float32)
    a = np.abs(y)
    if peak is None:
        peak = float(a.max()) if a.size else 0.0
    if peak <= 0.0:
        return np.zeros(0, dtype=np.float32)
    above = np.flatnonzero(a > peak * 10 ** (ONSET_DB / 20))
    if above.size == 0:
        return np.zeros(0, dtype=np.float32)
    first = int(above[0])
    last = int(np.flatnonzero(a > peak * 10 ** (TAIL_DB / 20))[-1])
    out = y[first : last + 1].copy()
    n_fade = min(int(END_FADE_S * SR), len(out) // 2)
    if n_fade > 0:
        out[-n_fade:] *= np.linspace(1.0, 0.0, n_fade + 1, dtype=np.float32)[1:]
    return out


Notes = Sequence[tuple[int, int]]
"""``(GM key, velocity)`` pairs played one by one in a kit render."""


def _every_layer() -> list[tuple[int, int]]:
    return [(key, vel) for key in GM_KEYS for vel in VELOCITY_LAYERS]


def _soundfont_layout(notes: Notes | None = None) -> list[tuple[int, int, int, int]]:
    """``(key, velocity, start sample, end sample)`` of each note of a kit render (default:
    every GM key at every one of :data:`VELOCITY_LAYERS`)."""
    out, t = [], 0.5
    for key, vel in _every_layer() if notes is None else notes:
        slot = LONG_SLOT_S if key in LONG_KEYS else SHORT_SLOT_S
        out.append((key, vel, round(t * SR), round((t + slot - 0.1) * SR)))
        t += slot
    return out


def _kit_midi(program: int, bank: int = 128, notes: Notes | None = None) -> mido.MidiFile:
    """One note per slot (channel 10, or 1 for a bank-0 kit), an All-Sound-Off before each end."""
    tpb = 480  # 120 bpm -> 960 ticks per second: slot times fall on whole ticks and samples
    ch = 9 if bank == 128 else 0
    mid = mido.MidiFile(ticks_per_beat=tpb)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=500_000, time=0))
    if bank != 128:
        track.append(mido.Message("control_change", channel=ch, control=0, value=bank, time=0))
    track.append(mido.Message("program_change", channel=ch, program=program, time=0))
    events = []
    for key, vel, s0, s1 in _soundfont_layout(notes):
        t0, t1 = round(s0 / SR * 960), round(s1 / SR * 960)
        events.append((t0, 1, mido.Message("note_on", channel=ch, note=key, velocity=vel)))
        events.append((t1 - 96, 0, mido.Message("note_off", channel=ch, note=key, velocity=0)))
        events.append((t1, 0, mido.Message("control_change", channel=ch, control=120, value=0)))
    events.sort(key=lambda e: (e[0], e[1]))
    last = 0
    for tick, _, msg in events:
        track.append(msg.copy(time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=960))
    return mid


def _render_soundfont_one_shots(kit: Kit, notes: Notes | None = None) -> OneShots:
    assert kit.preset is not None
    stereo = render_to_array(_kit_midi(kit.preset, kit.bank, notes), font=kit.path, sr=SR)
    mono = stereo.mean(axis=1, dtype=np.float64).astype(np.float32)
    out: OneShots = {}
    guard = round(0.05 * SR)
    for key, vel, s0, s1 in _soundfont_layout(notes):
        pre = mono[max(0, s0 - guard) : s0]
        if pre.size and float(np.abs(pre).max()) > 0.0:
            raise RuntimeError(f"{kit.kit_id}: key {key} slot not silent before its note")
        y = trim_one_shot(mono[s0:s1])
        if y.size and float(np.abs(y).max()) > 1e-5:
            out.setdefault(key, []).append((vel, y))
    return out


@functools.cache
def _labels() -> tuple[dict[str, str], ...]:
    with open(_labels_csv(), newline="") as fh:
        return tuple(csv.DictReader(fh))


def _load_mono(path: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        y = soxr.resample(y, sr, SR, quality="HQ").astype(np.float32)
    return trim_one_shot(y)


def _load_debian_one_shots(kit: Kit) -> OneShots:
    slots = DEBIAN_KITS[kit.name][2]
    by_instrument: dict[str, list[np.ndarray]] = {}
    out: OneShots = {}
    for slot, instrument in slots.items():
        if instrument not in by_instrument:
            ok = {"high"}
            if (kit.name, instrument) in MEDIUM_CONFIDENCE_OK:
                ok.add("medium")
            rows = [
                r
                for r in _labels()
                if r["kit"] == kit.name
                and r["confidence"] in ok
                and instrument in r["instrument_name"].split(" / ")
            ]
            if not rows:
                raise LookupError(f"{kit.name}: no instrument {instrument!r} in labels.csv")
            rows.sort(key=lambda r: r["path_in_package"])
            layers = [_load_mono(SHARE / r["path_in_package"]) for r in rows]
            layers = [y for y in layers if y.size]
            loud = [float(np.sqrt(np.mean(y[: SR // 20].astype(np.float64) ** 2))) for y in layers]
            by_instrument[instrument] = [layers[i] for i in np.argsort(loud, kind="stable")]
        layers = by_instrument[instrument]
        n = len(layers)
        entry = [(round(127 * (i + 1) / n), y) for i, y in enumerate(layers)]
        for key in SLOT_KEYS[slot]:
            out[key] = entry
    return out


def _cache_file(kit: Kit, cache_dir: Path) -> Path:
    stat = kit.path.stat() if kit.path.is_file() else None
    ident = f"{kit.kit_id}|{stat.st_size if stat else ''}|v{CACHE_VERSION}"
    digest = hashlib.sha1(ident.encode()).hexdigest()[:10]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", kit.kit_id)
    return cache_dir / f"{safe}-{digest}.npz"


def _save_cache(path: Path, shots: OneShots) -> None:
    keys, vels, offsets, scales, chunks = [], [], [], [], []
    offset = 0
    for key in sorted(shots):
        for vel, y in shots[key]:
            peak = float(np.abs(y).max()) if y.size else 0.0
            scale = peak / 32767.0 if peak > 0 else 1.0
            chunks.append(np.round(y / scale).astype(np.int16))
            keys.append(key)
            vels.append(vel)
            offsets.append(offset)
            scales.append(scale)
            offset += len(y)
    offsets.append(offset)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
    np.savez_compressed(
        tmp,
        key=np.asarray(keys, dtype=np.int16),
        velocity=np.asarray(vels, dtype=np.int16),
        offset=np.asarray(offsets, dtype=np.int64),
        scale=np.asarray(scales, dtype=np.float64),
        data=np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16),
    )
    os.replace(tmp, path)


def _read_cache(path: Path) -> OneShots:
    with np.load(path) as z:
        keys, vels, offsets = z["key"], z["velocity"], z["offset"]
        scales, data = z["scale"], z["data"]
    out: OneShots = {}
    for i, key in enumerate(keys.tolist()):
        y = (data[offsets[i] : offsets[i + 1]].astype(np.float32) * np.float32(scales[i])).copy()
        y.flags.writeable = False
        out.setdefault(int(key), []).append((int(vels[i]), y))
    for layers in out.values():
        layers.sort(key=lambda e: e[0])
    return out


@functools.lru_cache(maxsize=3)
def _load_cached(kit: Kit, cache_dir: str) -> OneShots:
    path = _cache_file(kit, Path(cache_dir))
    if not path.is_file():
        if kit.kind == "soundfont":
            shots = _render_soundfont_one_shots(kit)
        elif kit.kind == "debian":
            shots = _load_debian_one_shots(kit)
        else:
            raise ValueError(f"unknown kit kind {kit.kind!r}")
        _save_cache(path, shots)
    return _read_cache(path)  # the cache's int16 rounding, also on first use


def render_soundfont_notes(kit: Kit, notes: Notes) -> OneShots:
    """The one-shots of a SoundFont kit at chosen keys and velocities, rendered now (uncached).

    Parameters
    ----------
    kit : Kit
        A SoundFont kit (:func:`soundfont_kits`).
    notes : sequence of (int, int)
        ``(GM key, velocity)`` pairs, each rendered alone as :func:`load_one_shots` does.

    Returns
    -------
    dict of int to list of (int, ndarray)
        As :func:`load_one_shots`, in the order of ``notes``; keys that render silence are
        left out.
    """
    if kit.kind != "soundfont":
        raise ValueError(f"{kit.kit_id}: not a SoundFont kit")
    return _render_soundfont_one_shots(kit, notes)


def load_one_shots(kit: Kit, *, cache_dir: str | Path) -> OneShots:
    """The one-shots of a kit, rendered or loaded once and cached as ``.npz`` in ``cache_dir``.

    Parameters
    ----------
    kit : Kit
        A SoundFont or Debian kit.
    cache_dir : str or Path
        Folder of the per-kit cache files (created if needed; safe to share between
        processes: files are written under a temporary name, then renamed).

    Returns
    -------
    dict of int to list of (int, ndarray)
        GM key -> ``[(velocity, mono float32 one-shot at 44.1 kHz), ...]`` sorted by
        velocity. Each one-shot starts at its first sample above -60 dB re its peak. The
        arrays are read-only and shared between calls.
    """
    return _load_cached(kit, str(Path(cache_dir).resolve()))


# ---------------------------------------------------------------------------------------------
# Rendering


def sound_key(pitch: int) -> int:
    """The GM key a (GMD) drum pitch sounds on (:data:`SOUND_KEY_OF_PITCH`)."""
    return SOUND_KEY_OF_PITCH.get(pitch, pitch)


def sounding_notes(
    notes: Iterable[DrumNote], kit_one_shots: OneShots, *, n_samples: int, sr: int = SR
) -> list[DrumNote]:
    """The notes that sound in a render of ``n_samples``: key present, start in ``[0, n)``."""
    out = []
    for note in notes:
        start = round(note.time_s * sr)
        if 0 <= start < n_samples and sound_key(note.pitch) in kit_one_shots:
            out.append(note)
    return out


def pick_layer(layers: Sequence[tuple[int, np.ndarray]], velocity: int) -> tuple[np.ndarray, float]:
    """The one-shot and linear gain for ``velocity``: softest layer >= it, gain ``v / layer_v``."""
    for layer_vel, y in layers:
        if layer_vel >= velocity:
            return y, velocity / layer_vel
    layer_vel, y = layers[-1]
    return y, velocity / layer_vel


def render_drums(
    notes: Iterable[DrumNote], kit_one_shots: OneShots, *, n_samples: int, sr: int = SR
) -> np.ndarray:
    """Place one one-shot per note at its exact sample; mono float32 of ``n_samples``.

    Parameters
    ----------
    notes : iterable of DrumNote
        Times in seconds from the start of the output; a note starting before 0 contributes
        its tail only, one at or after ``n_samples`` nothing. Notes whose key the kit lacks
        are silent.
    kit_one_shots : dict
        From :func:`load_one_shots` (one-shots at ``sr``).
    n_samples : int
        Output length.
    sr : int
        Sample rate of the one-shots and of the output.

    Returns
    -------
    ndarray
        float32, shape ``(n_samples,)``. The one-shot of a note starting at
        ``round(time_s * sr)`` begins exactly there (velocity layer and linear gain from
        :func:`pick_layer`; an open hat is faded out over 10 ms from the next closed or pedal
        hat on).
    """
    placed = []
    for note in notes:
        key = sound_key(note.pitch)
        if key not in kit_one_shots:
            continue
        start = round(note.time_s * sr)
        if start >= n_samples:
            continue
        placed.append((start, key, note.velocity))
    placed.sort()
    chokes = np.asarray([s for s, k, _ in placed if k in CHOKE_KEYS], dtype=np.int64)
    fade = max(1, round(CHOKE_FADE_S * sr))
    out = np.zeros(n_samples, dtype=np.float64)
    for start, key, vel in placed:
        y, g = pick_layer(kit_one_shots[key], vel)
        y = y.astype(np.float64) * g
        if key in OPEN_HAT_KEYS and chokes.size:
            later = chokes[chokes > start]
            if later.size and later[0] < start + len(y):
                cut = int(later[0]) - start
                y = y[: cut + fade].copy()
                tail = len(y) - cut
                y[cut:] *= np.linspace(1.0, 0.0, fade + 1)[1 : tail + 1]
        a, b = max(start, 0), min(n_samples, start + len(y))
        if b > a:
            out[a:b] += y[a - start : b - start]
    return out.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Kit variation (training corpora only)

SWAP_P = 0.35
"""Per class: probability of taking the donor kit's sounds for it."""
PITCH_P, PITCH_SEMITONES = 0.5, 4.0
"""Per class: probability of a pitch shift, drawn uniform in ±PITCH_SEMITONES."""
DECAY_P, DECAY_TAU_S = 0.25, (0.06, 0.6)
"""Per class: probability of a shorter decay (exponential after 10 ms, time constant drawn)."""


def _vary_shot(y: np.ndarray, semitones: float, tau_s: float | None) -> np.ndarray:
    import soxr

    out = np.asarray(y, dtype=np.float32)
    if semitones:
        # Read at a rate 2^(s/12) higher: pitch and speed move together, as a tuned drum.
        factor = 2.0 ** (semitones / 12.0)
        out = soxr.resample(out, SR * factor, SR, quality="HQ").astype(np.float32)
    if tau_s is not None:
        t = np.maximum(np.arange(len(out)) / SR - 0.010, 0.0)
        out = (out * np.exp(-t / tau_s)).astype(np.float32)
    return trim_one_shot(out)  # the resampler's ringing must not move the onset


def vary_kit(
    shots: OneShots,
    donor: OneShots | None,
    *,
    keys: Iterable[int],
    rng: np.random.Generator,
) -> tuple[OneShots, dict[str, dict[str, Any]]]:
    """A new kit from ``shots``: per drum class, maybe the donor's sounds, a pitch, a decay.

    Sixty-odd of the training kits come from two related fonts; a network trained on them
    learns their toms and cymbals rather than toms and cymbals. Varying each class alone
    makes kits that no font ships (a FluidR3 kick under a Hydrogen snare, a tom four
    semitones down) while every label stays exact: one-shots still start at their first
    audible sample.

    Parameters
    ----------
    shots : dict
        The kit (:func:`load_one_shots`); not modified.
    donor : dict or None
        Another kit to take whole classes from (with probability :data:`SWAP_P` each).
    keys : iterable of int
        The GM keys to vary (the keys an excerpt plays); other keys are left as they are.
    rng : numpy.random.Generator

    Returns
    -------
    (dict, dict)
        The varied kit, and per class name ``{"donor": bool, "semitones": float,
        "decay_tau_s": float or None}`` for the classes among ``keys``.
    """
    by_class: dict[int, list[int]] = {}
    for key in sorted(set(keys)):
        if key in CLASS_OF_PITCH and key in shots:
            by_class.setdefault(CLASS_OF_PITCH[key], []).append(key)
    out = dict(shots)
    description: dict[str, dict[str, Any]] = {}
    for cls, cls_keys in sorted(by_class.items()):
        swap, pitch, decay = rng.random(3)
        semitones = float(rng.uniform(-PITCH_SEMITONES, PITCH_SEMITONES))
        tau = float(rng.uniform(*DECAY_TAU_S))
        use_donor = donor is not None and swap < SWAP_P and all(k in donor for k in cls_keys)
        semitones = round(semitones, 3) if pitch < PITCH_P else 0.0
        tau_s = round(tau, 4) if decay < DECAY_P else None
        for key in cls_keys:
            layers = donor[key] if use_donor and donor is not None else shots[key]
            if semitones or tau_s is not None:
                layers = [(v, _vary_shot(y, semitones, tau_s)) for v, y in layers]
                layers = [(v, y) for v, y in layers if y.size]
            if layers:
                out[key] = layers
            else:
                out.pop(key, None)
        description[DRUM_CLASSES[cls]] = {
            "donor": bool(use_donor),
            "semitones": semitones,
            "decay_tau_s": tau_s,
        }
    return out, description
