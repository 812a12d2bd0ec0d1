"""The role scorer's labelled one-shots, every file's origin recorded (issue #15).

``drumgenx train role-data --out DIR`` writes one labels CSV (:data:`LABELS_NAME`) for three
sources, and a ``manifest.json`` (settings, command, package versions, font files, counts)
so anyone can rebuild the set and check what a model was trained on:

- **soundfont**: every drum kit of the GM SoundFonts Debian ships (`kits.soundfont_kits`:
  FluidR3_GM, MuseScore_General, TimGM6mb, sf_GMbank, OPL-3, the x42-avldrums kits),
  rendered key by key with FluidSynth (`kits.render_soundfont_notes`: each note alone, onset
  trimmed) at each of ``--velocities``, every velocity moved by a whole number drawn in
  ``+-velocity_jitter`` from ``--seed`` (per kit, key and layer); written as 16-bit mono WAV
  at 44.1 kHz under ``DIR/soundfont/FAMILY/BANK-PRESET/``. Only the keys of
  :data:`KEY_ROLES` are rendered. The same settings write the same bytes.
- **debian**: the labelled Debian one-shots of ``labels.csv`` (confidence high or medium,
  role set: the rows `drumgenx train roles` has always used), by reference: their paths
  under ``/usr/share``, not copied.
- **found**: sound effects from Debian game and sound-theme packages
  (:data:`FOUND_SOUNDS_CSV`, metadata only). Their roles are **name- and feature-derived,
  not listened to**: the file name names the sound (slide, applause, crowd, water, fire ->
  TEXTURE; hit, explosion, destroy, raze, splash, trash -> FILL; stick, rebound, slam ->
  ACCENT; tick, typewriter, shutter -> MOTION; plop -> CORE), and the envelope must agree:
  TEXTURE needs 1 s or more within 30 dB of its peak (most over 3.5 s, loudest well after
  the start); FILL a fast attack and a long decay, or a long burst; ACCENT, MOTION and CORE
  a short sound (under ~0.4 s within 30 dB) with a spectral centroid of 1.5-6 kHz (a knock),
  over 6 kHz or a click (a tick) and under 900 Hz (a thud). ``high`` where the name says
  what the sound is and the envelope agrees; ``medium`` where the name is indirect or the
  features carry the label. The CSV's ``basis`` column gives each file's reason. UI tones,
  speech and music were left out (no drum role).

Key -> role table (:data:`KEY_ROLES`)
-------------------------------------
A GM key's class is `training.gmd`'s (the transcriber's classes) and its role the class's
(`core.roles.CLASS_ROLES`), the conventions of ``labels.csv``:

========================================  ======  ==========
keys                                      role    confidence
========================================  ======  ==========
35, 36 (bass drums)                       CORE    high
38, 40 (snares), 39 (hand clap)           ACCENT  high
41, 43, 45, 47, 48, 50 (toms)             FILL    high
49, 57 (crashes)                          FILL    high
52 (Chinese cymbal), 55 (splash)          FILL    medium
42, 44, 46 (hi-hats), 51, 59 (rides)      MOTION  high
53 (ride bell), 54 (tambourine),          MOTION  medium
69 (cabasa), 70 (maracas)
========================================  ======  ==========

Left out, no clear role: 37 (side stick: a rim click is not a backbeat; ``labels.csv``
leaves its role blank too), 58 (vibraslap in GM: GMD's floor-tom rim, which `training.gmd`
maps to a tom), and every other key of 35-81 `training.gmd` gives no class: cowbell, congas,
bongos, timbales, agogos, claves, wood blocks (hand percussion that can keep time or
accent), whistles, guiros, cuicas and triangles (melodic or effect sounds).

Frozen test group (:data:`FROZEN_ROLE_FAMILIES`, :data:`FROZEN_ROLE_DEBIAN_KITS`,
:data:`FROZEN_FOUND_PACKAGES`)
----------------------------------------------------------------------------------------
Set before any tuning and never used for a choice: a SoundFont family (TimGM6mb, another
author's font), an acoustic Debian kit (BJA_Pacific), a drum-machine kit (TR808EmulationKit)
-- the transcriber's frozen kits (`kits.FROZEN_TEST_FAMILIES`, `kits.FROZEN_TEST_DEBIAN_KITS`),
so one frozen group serves both models -- and one found-sound package
(``frozen-bubble-data``: impacts, knocks, a tick and ambiences). The builder marks their rows
``frozen``; `training.roles` leaves them out of training and refuses them in a choice.
Caveat: the shipped role scorer was trained before this group was set, on every labelled
Debian kit, BJA_Pacific and TR808EmulationKit included.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import CLASS_ROLES
from drumgenx.training.flags import settings_from
from drumgenx.training.gmd import CLASS_OF_PITCH, DRUM_CLASSES
from drumgenx.training.kits import (
    FROZEN_TEST_DEBIAN_KITS,
    FROZEN_TEST_FAMILIES,
    GM_KEYS,
    LABELS_CSV,
    SHARE,
    SR,
    Kit,
    render_soundfont_notes,
    soundfont_kits,
)
from drumgenx.training.settings import RoleDataSettings, command_line

FROZEN_ROLE_FAMILIES: tuple[str, ...] = FROZEN_TEST_FAMILIES
"""SoundFont families whose kits are the roles' frozen test group (the transcriber's)."""
FROZEN_ROLE_DEBIAN_KITS: tuple[str, ...] = FROZEN_TEST_DEBIAN_KITS
"""Debian kits of the roles' frozen test group: BJA_Pacific (acoustic), TR808EmulationKit
(machine), the transcriber's."""
FROZEN_FOUND_PACKAGES: tuple[str, ...] = ("frozen-bubble-data",)
"""Found-sound packages of the roles' frozen test group."""
FROZEN_KINDS: dict[str, str] = {
    **{family: "SoundFont family" for family in FROZEN_ROLE_FAMILIES},
    "BJA_Pacific": "acoustic kit",
    "TR808EmulationKit": "drum machine",
    **{package: "found sounds" for package in FROZEN_FOUND_PACKAGES},
}
"""Each frozen member (family, kit or package) -> its kind, for the reports."""
GROUPS: tuple[str, ...] = ("train", "frozen")

LEFT_OUT_KEYS: dict[int, str] = {
    37: "side stick: a rim click, not a backbeat (labels.csv leaves its role blank)",
    58: "vibraslap in General MIDI (GMD's floor-tom rim)",
}
"""Keys `training.gmd` gives a class whose role is not clear on a GM SoundFont."""
MEDIUM_KEYS = frozenset({52, 53, 54, 55, 69, 70})
"""China, ride bell, splash and the shakers: right class, less typical of their role."""


def _key_roles() -> dict[int, tuple[str, str, str]]:
    out = {}
    for key in GM_KEYS:
        if key in CLASS_OF_PITCH and key not in LEFT_OUT_KEYS:
            cls = DRUM_CLASSES[CLASS_OF_PITCH[key]]
            out[key] = (cls, CLASS_ROLES[cls], "medium" if key in MEDIUM_KEYS else "high")
    return out


KEY_ROLES: dict[int, tuple[str, str, str]] = _key_roles()
"""GM key -> ``(class, role, confidence)`` (the table of the module docstring)."""

LABEL_COLUMNS: tuple[str, ...] = (
    "source",
    "package",
    "version",
    "path",
    "kit",
    "preset",
    "key",
    "velocity",
    "class",
    "role",
    "confidence",
    "group",
)
"""The labels CSV's columns. ``path`` is relative to the CSV's folder for rendered files and
absolute for Debian files; ``kit`` is the leave-one-kit-out unit (a SoundFont kit id, a
Debian kit, a found-sound package); ``preset`` the preset or instrument name."""
LABELS_NAME = "role_labels.csv"
MANIFEST_NAME = "manifest.json"
FOUND_SOUNDS_CSV = Path(__file__).resolve().parent / "data" / "found_sounds.csv"
"""Found sounds: package, version, path (under ``/usr/share``), role, confidence, basis."""
CONFIDENT = ("high", "medium")

Log = Callable[[str], None]
Label = dict[str, str]


def role_group(*, family: str = "", debian_kit: str = "", package: str = "") -> str:
    """``"frozen"`` for a member of the roles' frozen test group, else ``"train"``.

    Parameters
    ----------
    family : str
        A SoundFont family (``"TimGM6mb"``).
    debian_kit : str
        A Debian kit name of ``labels.csv`` (``"BJA_Pacific"``).
    package : str
        A found-sound package (``"frozen-bubble-data"``).
    """
    frozen = (
        family in FROZEN_ROLE_FAMILIES
        or debian_kit in FROZEN_ROLE_DEBIAN_KITS
        or package in FROZEN_FOUND_PACKAGES
    )
    return "frozen" if frozen else "train"


@functools.cache
def package_version(package: str) -> str:
    """The installed version of a Debian package (``dpkg-query``), or ``""`` if unknown."""
    exe = shutil.which("dpkg-query")
    if exe is None:
        return ""
    proc = subprocess.run(
        [exe, "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
    )
    return proc.stdout.strip() if proc.returncode == 0 else ""


def labelled_one_shots(labels: Path) -> list[Label]:
    """The rows of a ``labels.csv`` with a role and confidence high or medium."""
    with open(labels, newline="") as fh:
        return [
            r for r in csv.DictReader(fh) if r["confidence"] in CONFIDENT and r["proposed_role"]
        ]


def jittered_notes(kit: Kit, settings: RoleDataSettings) -> list[tuple[int, int]]:
    """``(key, velocity)`` of each note rendered for ``kit``: every key of :data:`KEY_ROLES`
    at every velocity of ``settings``, each moved by a seeded draw in ``+-velocity_jitter``
    (the same for the same kit id and seed), clipped to 1..127."""
    rng = np.random.default_rng([settings.seed, zlib.crc32(kit.kit_id.encode())])
    jitter = settings.velocity_jitter
    notes = []
    for key in sorted(KEY_ROLES):
        for vel in settings.velocity_list():
            moved = vel + int(rng.integers(-jitter, jitter + 1))
            notes.append((key, min(127, max(1, moved))))
    return notes


def _kit_folder(kit: Kit) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", kit.family)
    return Path("soundfont") / safe / f"{kit.bank:03d}-{kit.preset:03d}"


def render_kit(kit: Kit, settings: RoleDataSettings, out: Path) -> list[Label]:
    """Render one SoundFont kit's notes (:func:`jittered_notes`) as WAV files under ``out``.

    Returns
    -------
    list of dict
        One label row (:data:`LABEL_COLUMNS`) per written file; keys that render silence
        have none.
    """
    import soundfile as sf

    folder = _kit_folder(kit)
    (out / folder).mkdir(parents=True, exist_ok=True)
    shots = render_soundfont_notes(kit, jittered_notes(kit, settings))
    group = role_group(family=kit.family)
    rows = []
    for key in sorted(shots):
        cls, role, confidence = KEY_ROLES[key]
        for layer, (vel, y) in enumerate(shots[key]):
            path = folder / f"k{key:02d}_l{layer}_v{vel:03d}.wav"
            sf.write(str(out / path), y, SR, subtype="PCM_16")
            rows.append(
                {
                    "source": "soundfont",
                    "package": kit.package,
                    "version": package_version(kit.package),
                    "path": path.as_posix(),
                    "kit": kit.kit_id,
                    "preset": kit.name,
                    "key": str(key),
                    "velocity": str(vel),
                    "class": cls,
                    "role": role,
                    "confidence": confidence,
                    "group": group,
                }
            )
    return rows


def debian_labels(labels: Path, *, audio_root: Path = SHARE) -> list[Label]:
    """Label rows for the labelled Debian one-shots of ``labels`` (by path, not copied)."""
    return [
        {
            "source": "debian",
            "package": r["package"],
            "version": package_version(r["package"]),
            "path": str(audio_root / r["path_in_package"]),
            "kit": r["kit"],
            "preset": r["instrument_name"],
            "key": "",
            "velocity": "",
            "class": r["proposed_class"],
            "role": r["proposed_role"],
            "confidence": r["confidence"],
            "group": role_group(debian_kit=r["kit"]),
        }
        for r in labelled_one_shots(labels)
    ]


def found_labels(found: Path = FOUND_SOUNDS_CSV, *, audio_root: Path = SHARE) -> list[Label]:
    """Label rows for the found sounds of ``found`` (one "kit" per package).

    The version is the one labelled (the CSV's); a different installed version is the
    caller's to notice (the manifest records both).
    """
    with open(found, newline="") as fh:
        return [
            {
                "source": "found",
                "package": r["package"],
                "version": r["version"],
                "path": str(audio_root / r["path"]),
                "kit": r["package"],
                "preset": "",
                "key": "",
                "velocity": "",
                "class": "found",
                "role": r["role"],
                "confidence": r["confidence"],
                "group": role_group(package=r["package"]),
            }
            for r in csv.DictReader(fh)
        ]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _present(rows: Iterable[Label]) -> tuple[list[Label], int]:
    rows = list(rows)
    kept = [r for r in rows if Path(r["path"]).is_file()]
    return kept, len(rows) - len(kept)


def build_role_data(
    out: Path,
    settings: RoleDataSettings | None = None,
    *,
    kits: Sequence[Kit] | None = None,
    labels: Path | None = None,
    found: Path | None = FOUND_SOUNDS_CSV,
    audio_root: Path = SHARE,
    log: Log = silent,
) -> Path:
    """Write the role data set to ``out``: rendered WAVs, the labels CSV, the manifest.

    Parameters
    ----------
    out : Path
        Folder written (created; files of an earlier build with the same names replaced).
    settings : RoleDataSettings
        Velocities, jitter and seed (default: `RoleDataSettings()`).
    kits : sequence of Kit, optional
        SoundFont kits to render (default: every kit of `kits.soundfont_kits` on disk).
    labels : Path, optional
        A ``labels.csv`` of Debian one-shots to reference; None leaves them out.
    found : Path, optional
        The found sounds' CSV (default :data:`FOUND_SOUNDS_CSV`); None leaves them out.
    audio_root : Path
        Where the Debian and found paths are (default ``/usr/share``).
    log : callable
        Called with one line per kit and a summary.

    Returns
    -------
    Path
        The labels CSV (``out / LABELS_NAME``). Debian and found files that are not
        installed are left out; the manifest counts them.

    Raises
    ------
    DrumgenxError
        No SoundFont kit to render, or a kit that is not a SoundFont kit.
    """
    settings = settings or RoleDataSettings()
    kits = soundfont_kits() if kits is None else list(kits)
    if not kits:
        raise DrumgenxError(
            "no SoundFont kit on this machine: apt-get install fluidsynth fluid-soundfont-gm "
            "timgm6mb-soundfont (see the README)"
        )
    if any(k.kind != "soundfont" for k in kits):
        raise DrumgenxError("role data renders SoundFont kits only (Debian kits are labels.csv's)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[Label] = []
    for i, kit in enumerate(sorted(kits, key=lambda k: k.kit_id)):
        kit_rows = render_kit(kit, settings, out)
        log(f"[{i + 1}/{len(kits)}] {kit.kit_id} {kit.name}: {len(kit_rows)} one-shots")
        rows += kit_rows
    missing = {}
    if labels is not None:
        debian, missing["debian"] = _present(debian_labels(labels, audio_root=audio_root))
        rows += debian
    if found is not None:
        found_rows, missing["found"] = _present(found_labels(found, audio_root=audio_root))
        rows += found_rows
    csv_path = out / LABELS_NAME
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=LABEL_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    manifest = _manifest(rows, kits, settings, missing, csv_path, found)
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    log(summary(rows))
    return csv_path


def _manifest(
    rows: list[Label],
    kits: Sequence[Kit],
    settings: RoleDataSettings,
    missing: dict[str, int],
    csv_path: Path,
    found: Path | None,
) -> dict:
    fonts = {str(k.path) for k in kits}
    installed = {
        r["package"]: package_version(r["package"]) for r in rows if r["source"] == "found"
    }
    return {
        "command": command_line(),
        "settings": asdict(settings),
        "key_roles": {str(k): list(v) for k, v in KEY_ROLES.items()},
        "left_out_keys": {str(k): why for k, why in LEFT_OUT_KEYS.items()},
        "frozen": {
            "soundfont_families": list(FROZEN_ROLE_FAMILIES),
            "debian_kits": list(FROZEN_ROLE_DEBIAN_KITS),
            "found_packages": list(FROZEN_FOUND_PACKAGES),
        },
        "fonts": {p: {"sha256": _sha256(Path(p))} for p in sorted(fonts)},
        "found_sounds_csv": (
            {"name": found.name, "sha256": _sha256(found)} if found is not None else None
        ),
        "found_installed_versions": installed,
        "not_installed": missing,
        "counts": {
            f"{src}/{grp}": n
            for (src, grp), n in sorted(Counter((r["source"], r["group"]) for r in rows).items())
        },
        "labels_sha256": _sha256(csv_path),
    }


def summary(rows: Sequence[Label]) -> str:
    """One line per source and group: files and files per role."""
    lines = []
    for (src, grp), n in sorted(Counter((r["source"], r["group"]) for r in rows).items()):
        roles = Counter(r["role"] for r in rows if r["source"] == src and r["group"] == grp)
        lines.append(
            f"  {src:<10}{grp:<8}{n:>6}  " + ", ".join(f"{k} {v}" for k, v in sorted(roles.items()))
        )
    return "\n".join(lines)


def run_command(args: argparse.Namespace) -> None:
    """``drumgenx train role-data`` (flags: `training.flags`)."""
    settings = settings_from(args, RoleDataSettings)
    labels = Path(args.labels or os.environ.get("DRUMGENX_ONESHOT_LABELS") or LABELS_CSV)
    if not labels.is_file():
        print(f"[WARN] {labels}: no labels file, the Debian one-shots are left out", flush=True)
    csv_path = build_role_data(
        Path(args.out),
        settings,
        labels=labels if labels.is_file() else None,
        log=lambda line: print(line, flush=True),
    )
    print(f"[DONE] role data: {csv_path}")
