"""Stage 2's settings: the shipped role config, the checkout's file, --config files laid over
the defaults, their one-line errors, and the command-line defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

import drumgenx.roles.settings as settings
from drumgenx.core.errors import DrumgenxError
from drumgenx.roles.rules import RoleConfig, load_role_config, trace_role_config
from drumgenx.roles.settings import SHIPPED_CONFIG_PATH, RolesSettings


@pytest.fixture
def no_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As an installed package: no stage2_role_assignment files beside it."""
    monkeypatch.setattr(settings, "CHECKOUT_CONFIG_PATH", tmp_path / "absent.yaml")
    monkeypatch.setattr(settings, "CHECKOUT_PROMPTS_PATH", tmp_path / "absent_prompts.yaml")


def test_the_package_ships_the_defaults_as_data(repo_root: Path) -> None:
    assert SHIPPED_CONFIG_PATH.is_relative_to(repo_root / "src" / "drumgenx")
    pyproject = (repo_root / "pyproject.toml").read_text()
    assert '"roles/defaults/*.yaml"' in pyproject  # installed with the package


def test_without_a_checkout_the_shipped_defaults_are_used(no_checkout: None) -> None:
    traced = trace_role_config()
    assert traced.config == RoleConfig() and not traced.sources
    assert traced.config.fusion.alpha == 0.9 and len(traced.config.rules.profiles) == 8


def test_the_checkouts_file_is_read_from_any_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_root: Path
) -> None:
    seed_file = repo_root / "stage2_role_assignment" / "configs" / "role_assignment.yaml"
    assert seed_file == settings.CHECKOUT_CONFIG_PATH
    edited = tmp_path / "checkout.yaml"
    edited.write_text("fusion:\n  alpha: 0.5\n")
    monkeypatch.setattr(settings, "CHECKOUT_CONFIG_PATH", edited)
    monkeypatch.chdir(tmp_path)  # not the checkout
    traced = trace_role_config()
    assert traced.config.fusion.alpha == 0.5
    assert traced.sources == {"fusion.alpha": str(edited)}
    assert traced.config.rules == RoleConfig().rules


def test_a_config_file_needs_only_the_keys_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "rules:\n  temperature: 0.2\n"
        "guards:\n- {name: only, when: [{feature: low_band_ratio, op: <, value: 0.1}],"
        " veto: [CORE]}\n"
    )
    traced = trace_role_config(path)
    config, default = traced.config, RoleConfig()
    assert config.rules.temperature == 0.2
    assert config.rules.profiles == default.rules.profiles  # a section keeps what it leaves out
    assert [g.name for g in config.guards] == ["only"]  # lists are replaced whole
    assert config.features == default.features and config.fusion == default.fusion
    assert traced.sources == {"rules.temperature": str(path), "guards": str(path)}
    assert traced.source("fusion.alpha") == "default"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("fusion:\n  alpah: 0.5\n", "fusion: unknown key(s) ['alpah']"),
        ("fusion:\n  alpha: high\n", "fusion.alpha: expected float"),
        ("features:\n  n_fft: 1024.5\n", "features.n_fft: expected int"),
        ("rules:\n  profiles:\n  - {name: k, role: CORE}\n", "profiles[0]: missing key(s)"),
        ("fusion:\n  alpha: 1.5\n", "fusion.alpha: must be within 0..1"),
    ],
)
def test_errors_are_one_line_naming_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DrumgenxError) as info:
        load_role_config(path)
    message = str(info.value)
    assert message.startswith(str(path)) and key in message and "\n" not in message


def test_a_damaged_shipped_file_names_the_missing_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import drumgenx.roles.rules as rules

    damaged = tmp_path / "role_assignment.yaml"
    damaged.write_text("\n".join(SHIPPED_CONFIG_PATH.read_text().split("\nguards:")[:1]) + "\n")
    monkeypatch.setattr(rules, "SHIPPED_CONFIG_PATH", damaged)
    rules.shipped_role_config.cache_clear()
    try:
        with pytest.raises(DrumgenxError, match=r"role_assignment\.yaml: missing key\(s\)"):
            rules.shipped_role_config()
    finally:
        rules.shipped_role_config.cache_clear()


def test_the_command_line_reads_its_defaults_from_the_settings() -> None:
    from drumgenx.cli import build_parser

    args = build_parser().parse_args(["roles", "--input_dir", "i", "--out_dir", "o"])
    d = RolesSettings()
    assert (args.limit, args.seed, args.workers) == (d.limit, d.seed, d.workers)
    assert args.config is None and args.prompts is None and args.alpha is None
    text = build_parser()._subparsers._group_actions[0].choices["roles"].format_help()
    assert d.clap_model in text and "role_assignment.yaml" in text
