"""Kit listing, the phdr parser, one-shot caching and sample-exact rendering."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from drumgenx.training import kits as kitlib
from drumgenx.training.gmd import DrumNote

SR = 44100


def _chunk(cid: bytes, data: bytes) -> bytes:
    return cid + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")


def tiny_sf2(path: Path, presets: list[tuple[int, int, str]]) -> Path:
    """A minimal SF2 RIFF file: an INFO list (odd-sized chunk), sdta, and pdta/phdr."""
    recs = b""
    for i, (bank, preset, name) in enumerate([*presets, (0, 0, "EOP")]):
        recs += name.encode()[:20].ljust(20, b"\0") + struct.pack(
            "<HHHIII", preset, bank, i, 0, 0, 0
        )
    info = _chunk(
        b"LIST", b"INFO" + _chunk(b"ifil", struct.pack("<HH", 2, 1)) + _chunk(b"INAM", b"x")
    )
    sdta = _chunk(b"LIST", b"sdta" + _chunk(b"smpl", b""))
    pdta = _chunk(b"LIST", b"pdta" + _chunk(b"phdr", recs) + _chunk(b"pbag", b"\0" * 4))
    body = b"sfbk" + info + sdta + pdta
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def test_phdr_parser_on_a_tiny_sf2(tmp_path) -> None:
    presets = [(0, 0, "Piano"), (128, 0, "Standard"), (128, 25, "TR-808"), (128, 55, "Metronome")]
    path = tiny_sf2(tmp_path / "t.sf2", presets)
    assert kitlib.list_presets(path) == presets
    (tmp_path / "bad.sf2").write_bytes(b"RIFF\0\0\0\0WAVE")
    with pytest.raises(ValueError):
        kitlib.list_presets(tmp_path / "bad.sf2")


def test_soundfont_kits_keep_bank_128_kits_only(tmp_path, monkeypatch) -> None:
    a = tiny_sf2(
        tmp_path / "A.sf2",
        [(0, 0, "Piano"), (128, 0, "Standard"), (128, 25, "TR-808"), (128, 55, "Metronome"),
         (128, 56, "Marching Snare"), (128, 57, "OldMarchingBass"), (128, 48, "Orchestra Kit")],
    )  # fmt: skip
    b = tiny_sf2(tmp_path / "B.sf2", [(1, 120, "Dog"), (128, 56, "SFX")])
    fonts = (("A", "pkg-a", (a,)), ("B", "pkg-b", (b,)), ("C", "pkg-c", (tmp_path / "no.sf2",)))
    monkeypatch.setattr(kitlib, "SOUNDFONTS", fonts)
    got = kitlib.soundfont_kits()
    assert [k.kit_id for k in got] == ["sf:A:128-000", "sf:A:128-025", "sf:A:128-048"]
    assert {k.family for k in got} == {"A"} and {k.package for k in got} == {"pkg-a"}
    assert got[1].preset == 25 and got[1].name == "TR-808" and got[1].kind == "soundfont"
    monkeypatch.setattr(kitlib, "TIMPANI_KIT_PRESETS", frozenset({("A", 128, 25)}))
    assert [k.kit_id for k in kitlib.soundfont_kits()] == ["sf:A:128-000", "sf:A:128-048"]


def test_real_fonts_listing() -> None:
    kits = kitlib.soundfont_kits()
    if not kits:
        pytest.skip("no General MIDI SoundFont installed: apt-get install timgm6mb-soundfont")
    assert all(not kitlib.NON_KIT_PRESET.match(k.name) for k in kits)
    assert not [k for k in kits if k.family == "FluidR3_GS"]  # the GS supplement: SFX only
    tim = [k for k in kits if k.family == "TimGM6mb"]
    if tim:
        assert [k.preset for k in tim] == [0, 8, 16, 24, 25, 32, 40, 48]
        assert all(kitlib.is_frozen_test(k) for k in tim)
    assert all(not kitlib.is_frozen_test(k) for k in kitlib.training_kits())


def test_frozen_group() -> None:
    mk = lambda fam, kind, name: kitlib.Kit("x", fam, kind, "p", Path("/"), None, name)  # noqa: E731
    assert kitlib.is_frozen_test(mk("TimGM6mb", "soundfont", "Standard"))
    assert kitlib.is_frozen_test(mk("hydrogen/BJAnderson", "debian", "BJA_Pacific"))
    assert kitlib.is_frozen_test(mk("hydrogen/ArtemioLabs", "debian", "TR808EmulationKit"))
    assert not kitlib.is_frozen_test(mk("hydrogen/ArtemioLabs", "debian", "HardElectro1"))
    assert not kitlib.is_frozen_test(mk("FluidR3_GM", "soundfont", "Standard"))


def test_render_drums_places_one_shots_at_exact_samples(synth_shots) -> None:
    notes = [DrumNote(0.1, 36, 127), DrumNote(0.35, 38, 64), DrumNote(0.6, 22, 127)]
    y = kitlib.render_drums(notes, synth_shots, n_samples=SR)
    assert y.dtype == np.float32 and y.shape == (SR,)
    for note in notes:
        s = round(note.time_s * SR)
        shot, g = kitlib.pick_layer(synth_shots[kitlib.sound_key(note.pitch)], note.velocity)
        np.testing.assert_allclose(y[s : s + len(shot)], shot * g, rtol=1e-6, atol=1e-7)
    assert np.all(y[: round(0.1 * SR)] == 0.0)


def test_velocity_layers_and_linear_gain(synth_shots) -> None:
    layers = synth_shots[36]
    y, g = kitlib.pick_layer(layers, 32)
    assert y is layers[0][1] and g == pytest.approx(0.5)
    y, g = kitlib.pick_layer(layers, 100)
    assert y is layers[1][1] and g == pytest.approx(100 / 127)


def test_missing_keys_are_silent_and_unlabelled(synth_shots) -> None:
    notes = [DrumNote(0.0, 45, 100), DrumNote(0.1, 36, 100), DrumNote(2.0, 36, 100)]
    y = kitlib.render_drums([notes[0]], synth_shots, n_samples=SR)
    assert not y.any()
    kept = kitlib.sounding_notes(notes, synth_shots, n_samples=SR)
    assert kept == [notes[1]]  # the tom is missing, the last kick is past the end


def test_open_hat_is_choked_by_closed_hat(synth_shots) -> None:
    open_only = kitlib.render_drums([DrumNote(0.0, 46, 127)], synth_shots, n_samples=SR)
    both = kitlib.render_drums(
        [DrumNote(0.0, 46, 127), DrumNote(0.05, 42, 127)], synth_shots, n_samples=SR
    )
    closed = kitlib.render_drums([DrumNote(0.05, 42, 127)], synth_shots, n_samples=SR)
    cut, fade = round(0.05 * SR), round(0.010 * SR)
    np.testing.assert_allclose(both[:cut], open_only[:cut], atol=1e-7)
    np.testing.assert_allclose(both[cut + fade :], closed[cut + fade :], atol=1e-7)
    assert np.abs(open_only[cut + fade : cut + 2 * fade]).max() > 0.01


def test_negative_times_give_tails_only(synth_shots) -> None:
    y = kitlib.render_drums([DrumNote(-0.05, 49, 127)], synth_shots, n_samples=SR)
    shot = synth_shots[49][1][1]
    k = round(0.05 * SR)
    np.testing.assert_allclose(y[: len(shot) - k], shot[k:], atol=1e-7)


def test_trim_one_shot() -> None:
    y = np.zeros(5000, dtype=np.float32)
    y[100:200] = 1e-5  # below -60 dB re the peak: silence
    y[300] = 0.5
    y[301:1300] = 0.5 * np.exp(-np.arange(999) / 50)
    out = kitlib.trim_one_shot(y)
    assert out[0] == pytest.approx(0.5)
    assert len(out) < 1000
    assert kitlib.trim_one_shot(np.zeros(10)).size == 0


def test_cache_round_trip(tmp_path, synth_shots) -> None:
    path = tmp_path / "k.npz"
    kitlib._save_cache(path, synth_shots)
    back = kitlib._read_cache(path)
    assert sorted(back) == sorted(synth_shots)
    for key, layers in synth_shots.items():
        assert [v for v, _ in back[key]] == [v for v, _ in layers]
        for (_, a), (_, b) in zip(layers, back[key], strict=True):
            assert len(a) == len(b)
            assert np.abs(a - b).max() <= np.abs(a).max() / 32767 * 0.51
            assert b[0] == pytest.approx(a[0], rel=1e-4)  # the onset sample survives


def test_load_one_shots_uses_the_cache(synth_kit) -> None:
    kit, cache = synth_kit
    shots = kitlib.load_one_shots(kit, cache_dir=cache)
    assert sorted(shots) == [36, 38, 42, 44, 46, 49]
    assert not shots[36][0][1].flags.writeable


def test_kit_groups_are_disjoint_and_named() -> None:
    mk = lambda fam, kind, name: kitlib.Kit("x", fam, kind, "p", Path("/"), None, name)  # noqa: E731
    assert kitlib.kit_group(mk("sf_GMbank", "soundfont", "Standard")) == "validation"
    assert kitlib.kit_group(mk("TimGM6mb", "soundfont", "Standard")) == "frozen"
    assert kitlib.kit_group(mk("OPL-3_FM_128M", "soundfont", "128")) == "train"
    with pytest.raises(ValueError, match="kit group"):
        kitlib.kits_of_group("test")
    groups = [set(k.kit_id for k in kitlib.kits_of_group(g)) for g in kitlib.KIT_GROUPS]
    assert sum(len(g) for g in groups) == len(set().union(*groups))


def test_bank0_kit_fonts_are_played_on_a_melodic_channel() -> None:
    mid = kitlib._kit_midi(0, bank=0)
    channels = {m.channel for m in mid.tracks[0] if hasattr(m, "channel")}
    assert channels == {0}
    bank_select = [m for m in mid.tracks[0] if m.type == "control_change" and m.control == 0]
    assert bank_select and bank_select[0].value == 0
    assert {m.channel for m in kitlib._kit_midi(0).tracks[0] if hasattr(m, "channel")} == {9}


def test_vary_kit_swaps_pitches_and_shortens_per_class_keeping_onsets(synth_shots) -> None:
    donor = {k: [(v, -y) for v, y in layers] for k, layers in synth_shots.items()}
    keys = [36, 38, 42, 49]
    swapped = shifted = decayed = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        varied, desc = kitlib.vary_kit(synth_shots, donor, keys=keys, rng=rng)
        assert set(desc) == {"kick", "snare", "hihat", "cymbal"}
        assert varied[44] is synth_shots[44] and varied[46] is synth_shots[46]  # not asked
        for key, cls in ((36, "kick"), (38, "snare"), (42, "hihat"), (49, "cymbal")):
            d, orig = desc[cls], synth_shots[key][-1][1]
            y = varied[key][-1][1]
            assert np.abs(y[:44]).max() > 0.1 * np.abs(y).max()  # still starts at its onset
            assert np.flatnonzero(np.abs(y) > 1e-3 * np.abs(y).max())[0] == 0
            if not d["semitones"] and d["decay_tau_s"] is None:
                ref = -orig if d["donor"] else orig
                np.testing.assert_array_equal(y, ref)
            if d["semitones"]:
                ratio = len(trim := kitlib.trim_one_shot(orig)) / len(y)
                assert ratio == pytest.approx(2 ** (d["semitones"] / 12), rel=0.1), len(trim)
            swapped += d["donor"]
            shifted += bool(d["semitones"])
            decayed += d["decay_tau_s"] is not None
    n = 40 * 4
    assert 0.2 * n < swapped < 0.5 * n and 0.35 * n < shifted < 0.65 * n
    assert 0.12 * n < decayed < 0.4 * n
    a, _ = kitlib.vary_kit(synth_shots, donor, keys=keys, rng=np.random.default_rng(3))
    b, _ = kitlib.vary_kit(synth_shots, donor, keys=keys, rng=np.random.default_rng(3))
    assert all(np.array_equal(a[k][0][1], b[k][0][1]) for k in keys)
