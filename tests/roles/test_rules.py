"""Rule probabilities, guards, the config file and its errors, and the bundled kit's roles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drumgenx.core.errors import DrumgenxError
from drumgenx.core.roles import ROLES
from drumgenx.kit.synth import KIT_VOICES, synthesize_voice
from drumgenx.roles.features import FEATURE_NAMES, extract_features
from drumgenx.roles.rules import (
    RoleConfig,
    apply_guards,
    load_role_config,
    rule_probabilities,
)

CONFIG_FILE = (
    Path(__file__).resolve().parents[2] / "stage2_role_assignment/configs/role_assignment.yaml"
)


def _features(**values: float) -> dict[str, float]:
    base = dict.fromkeys(FEATURE_NAMES, 0.0)
    base.update(values)
    return base


def test_the_seeds_config_file_equals_the_shipped_defaults() -> None:
    from drumgenx.roles.settings import CHECKOUT_CONFIG_PATH, SHIPPED_CONFIG_PATH

    assert CONFIG_FILE == CHECKOUT_CONFIG_PATH
    assert CONFIG_FILE.read_bytes() == SHIPPED_CONFIG_PATH.read_bytes()
    assert load_role_config(CONFIG_FILE) == RoleConfig() == load_role_config(None)
    assert load_role_config(CONFIG_FILE).fusion.alpha == 0.9


@pytest.mark.parametrize(
    "text, message",
    [
        ("rules:\n  temprature: 1\n", "unknown key(s) ['temprature']"),
        ("rules:\n  temperature: 0\n", "rules.temperature: must be > 0"),
        ("fusion:\n  alpha: 2\n", "fusion.alpha"),
        ("fusion:\n  spare_heard_above: -1\n", "fusion.spare_heard_above: must be >= 0"),
        (
            "guards:\n- {name: g, when: [{feature: nope, op: <, value: 1}], veto: [CORE]}\n",
            "guards[0] (g).when[0].feature: unknown feature 'nope'",
        ),
        (
            "guards:\n- {name: g, when: [{feature: low_band_ratio, op: <, value: 1}], veto: [X]}\n",
            "guards[0] (g).veto",
        ),
    ],
)
def test_config_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(DrumgenxError) as info:
        load_role_config(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_probabilities_sum_to_one() -> None:
    rng = np.random.default_rng(0)
    config = RoleConfig()
    for _ in range(20):
        f = _features(**{k: float(rng.uniform(0, 1000)) for k in FEATURE_NAMES})
        p = rule_probabilities(f, config)
        assert p.shape == (5,) and np.all(p >= 0) and p.sum() == pytest.approx(1.0)


def test_sharp_short_hit_is_never_texture() -> None:
    f = _features(
        attack_time_ms=2.0, effective_duration_s=0.3, low_band_ratio=0.5, high_band_ratio=0.1
    )
    p, actions = apply_guards(f, np.full(5, 0.2), RoleConfig())
    assert p[ROLES.index("TEXTURE")] == 0.0 and p.sum() == pytest.approx(1.0)
    assert any(a.startswith("sharp_short_not_texture: vetoed TEXTURE") for a in actions)


def test_long_swell_is_never_core() -> None:
    f = _features(
        attack_time_ms=400.0,
        effective_duration_s=4.0,
        sustain_fraction=0.7,
        low_band_ratio=0.9,
        high_band_ratio=0.1,
    )
    p, actions = apply_guards(f, np.array([0.9, 0.05, 0.02, 0.02, 0.01]), RoleConfig())
    assert p[ROLES.index("CORE")] == 0.0 and p[ROLES.index("ACCENT")] == 0.0
    assert any(a.startswith("slow_attack_not_core_or_accent") for a in actions)


def test_guard_never_vetoes_everything() -> None:
    f = _features(attack_time_ms=2.0, effective_duration_s=0.3, low_band_ratio=0.5)
    p, actions = apply_guards(f, np.array([0, 0, 0, 0, 1.0]), RoleConfig())
    assert p[ROLES.index("TEXTURE")] == 1.0 and "skipped" in actions[0]


@pytest.mark.parametrize("voice", KIT_VOICES, ids=lambda v: v.name)
def test_bundled_kit_voices_get_their_roles(voice) -> None:  # type: ignore[no-untyped-def]
    config = RoleConfig()
    f = extract_features(synthesize_voice(voice.name), sr=44100)
    p, _ = apply_guards(f, rule_probabilities(f, config), config)
    assert ROLES[int(np.argmax(p))] == voice.role


def test_a_spared_role_is_never_vetoed() -> None:
    """The role the transcriber heard survives the guards that judge the whole slice (a hat
    under a song's bass has no share of power above 5 kHz); the others still apply."""
    f = _features(attack_time_ms=2.0, effective_duration_s=0.3, low_band_ratio=0.5)
    hat = ROLES.index("MOTION")
    p, actions = apply_guards(f, np.full(5, 0.2), RoleConfig())
    assert p[hat] == 0.0  # no highs: not MOTION
    p, actions = apply_guards(f, np.full(5, 0.2), RoleConfig(), spare="MOTION")
    assert p[hat] == pytest.approx(0.25) and p[ROLES.index("TEXTURE")] == 0.0
    assert any(a.startswith("no_highs_not_motion: spared MOTION") for a in actions)
    assert any(a.startswith("sharp_short_not_texture: vetoed TEXTURE") for a in actions)
