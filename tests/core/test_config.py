"""YAML onto dataclasses: partial overrides, unknown keys and wrong types named."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from drumgenx.core.config import (
    config_to_yaml,
    format_traced,
    load_config,
    load_defaults,
    trace,
)
from drumgenx.core.errors import DrumgenxError


@dataclass(frozen=True)
class Inner:
    threshold: float = 0.5
    bands: tuple[float, ...] = (100.0, 1000.0)
    name: str | None = None


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    count: int = 3


def _load(tmp_path: Path, text: str) -> Outer:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return load_config(path, Outer)


def test_defaults_and_partial_override(tmp_path: Path) -> None:
    assert load_config(None, Outer) == Outer()
    config = _load(tmp_path, "inner:\n  threshold: 1\n  bands: [50, 60, 70]\n")
    assert config == Outer(inner=Inner(threshold=1.0, bands=(50.0, 60.0, 70.0)))
    assert isinstance(config.inner.threshold, float)
    assert _load(tmp_path, "") == Outer()


@dataclass(frozen=True)
class Parent:
    """A parent whose default section differs from the section class's own defaults."""

    inner: Inner = field(default_factory=lambda: Inner(name="parent's"))


def test_a_partial_section_keeps_the_parents_defaults(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("inner:\n  threshold: 2\n")
    assert load_config(path, Parent).inner == Inner(threshold=2.0, name="parent's")


def test_stage_1_config_file_keeps_the_transcriber_default(tmp_path: Path) -> None:
    from drumgenx.preprocess.config import PreprocessConfig

    path = tmp_path / "stage1.yaml"
    path.write_text("onsets:\n  delta: 0.05\n")
    config = load_config(path, PreprocessConfig)
    assert config.onsets.method == "transcribe" and config.onsets.delta == 0.05


@pytest.mark.parametrize(
    "text, message",
    [
        ("inner:\n  treshold: 1\n", "c.yaml.inner: unknown key(s) ['treshold']"),
        ("count: 2.5\n", "c.yaml.count: expected int"),
        ("count: true\n", "c.yaml.count: expected int"),
        ("inner: 3\n", "c.yaml.inner: expected a mapping"),
        ("inner:\n  bands: 3\n", "c.yaml.inner.bands: expected a list"),
        ("inner:\n  name: 3\n", "c.yaml.inner.name: expected str"),
        ("- 1\n- 2\n", "expected a mapping of settings"),
        ("a: [1\n", "not valid YAML"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DrumgenxError, match=None) as info:
        _load(tmp_path, text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_yaml_dump_loads_back(tmp_path: Path) -> None:
    config = Outer(inner=Inner(threshold=0.25, name="x"), count=9)
    path = tmp_path / "dump.yaml"
    path.write_text(config_to_yaml(config))
    assert load_config(path, Outer) == config


@dataclass(frozen=True)
class Item:
    name: str
    weight: float = 1.0


@dataclass(frozen=True)
class WithItems:
    items: tuple[Item, ...] = (Item("a"),)
    inner: Inner = field(default_factory=Inner)


def test_a_list_item_without_a_required_key_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "items.yaml"
    path.write_text("items:\n- {weight: 2}\n")
    with pytest.raises(DrumgenxError) as info:
        load_config(path, WithItems)
    assert str(info.value) == f"{path}.items[0]: missing key(s) ['name']"


def test_load_defaults_wants_every_top_level_key(tmp_path: Path) -> None:
    path = tmp_path / "shipped.yaml"
    path.write_text("items: [{name: b}]\n")
    with pytest.raises(DrumgenxError, match=r"shipped\.yaml: missing key\(s\) \['inner'\]"):
        load_defaults(path, WithItems)
    path.write_text("items: [{name: b}]\ninner: {threshold: 2}\n")
    assert load_defaults(path, WithItems) == WithItems((Item("b"),), Inner(threshold=2.0))


def test_a_file_laid_over_a_base_keeps_the_bases_values(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("count: 5\n")
    base = Outer(inner=Inner(name="base"), count=1)
    assert load_config(path, Outer, base=base) == Outer(inner=Inner(name="base"), count=5)
    assert load_config(None, Outer, base=base) is base


def test_trace_names_the_last_layer_that_changed_each_value(tmp_path: Path) -> None:
    default = Outer()
    from_file = Outer(inner=Inner(threshold=0.7, bands=(1.0,)), count=3)
    from_flag = replace(from_file, count=4)
    traced = trace(default, ("c.yaml", from_file), ("--count", from_flag))
    assert traced.config == from_flag
    assert traced.sources == {
        "inner.threshold": "c.yaml",
        "inner.bands": "c.yaml",
        "count": "--count",
    }
    assert traced.source("inner.name") == "default"
    # a layer repeating a value changes nothing: the value stays the earlier source's
    assert trace(default, ("c.yaml", from_file), ("--count", from_file)).source("count") == (
        "default"
    )


def test_format_traced_puts_each_source_beside_its_value_and_loads_back(tmp_path: Path) -> None:
    traced = trace(WithItems(), ("mine.yaml", WithItems(items=(Item("x", 2.0), Item("y")))))
    text = format_traced(traced)
    lines = text.splitlines()
    assert lines[0] == "items:  # mine.yaml"
    assert "  threshold: 0.5  # default" in lines and "inner:" in lines
    path = tmp_path / "shown.yaml"
    path.write_text(text)
    assert load_config(path, WithItems) == traced.config
    only = format_traced(traced, fields=["inner"]).splitlines()
    assert only[0] == "inner:" and not any("items" in line for line in only)
