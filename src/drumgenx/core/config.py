"""YAML configuration onto frozen dataclasses, checked field by field.

A config file only needs the keys it changes; every other value keeps the dataclass default
(which is where each default is documented). Unknown keys and wrong types are errors that
name the file and the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from drumgenx.core.errors import DrumgenxError

T = TypeVar("T")


def _coerce(value: Any, annotation: Any, where: str, current: Any = None) -> Any:
    origin = typing.get_origin(annotation)
    if dataclasses.is_dataclass(annotation):
        if not isinstance(value, dict):
            raise DrumgenxError(f"{where}: expected a mapping, got {type(value).__name__}")
        return _build(annotation, value, where, base=current)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in (o for o in options if o is not type(None)):
            try:
                return _coerce(value, option, where)
            except DrumgenxError as exc:
                errors.append(str(exc))
        raise DrumgenxError(errors[0])
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise DrumgenxError(f"{where}: expected a list, got {type(value).__name__}")
        args = typing.get_args(annotation)
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        if item is None and len(args) != len(value):
            raise DrumgenxError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_coerce(v, item or args[i], f"{where}[{i}]") for i, v in enumerate(value))
    if annotation is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if annotation in (int, str, bool) and type(value) is annotation:
        return value
    if annotation is typing.Any:
        return value
    # bool is an int subclass in Python, but `count: true` is a mistake, not a 1
    if (
        isinstance(annotation, type)
        and isinstance(value, annotation)
        and not isinstance(value, bool)
    ):
        return value
    name = getattr(annotation, "__name__", str(annotation))
    raise DrumgenxError(f"{where}: expected {name}, got {type(value).__name__} {value!r}")


def _build(cls: type[T], data: dict[str, Any], where: str, base: Any = None) -> T:
    """``data`` laid over ``base`` where there is one: a nested section keeps the defaults its
    parent gives it (stage 1's ``onsets.method`` is not ``OnsetParams``'s own) and changes
    only the keys the file names."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise DrumgenxError(f"{where}: unknown key(s) {unknown}; known: {sorted(fields)}")
    if not isinstance(base, cls):  # e.g. a list item: the class's own defaults
        return cls(**{k: _coerce(v, hints[k], f"{where}.{k}") for k, v in data.items()})
    return dataclasses.replace(
        base,
        **{k: _coerce(v, hints[k], f"{where}.{k}", getattr(base, k)) for k, v in data.items()},
    )


def load_config(path: str | Path | None, cls: type[T]) -> T:
    """Read YAML ``path`` onto dataclass ``cls`` (its defaults when ``path`` is None)."""
    if path is None:
        return cls()
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise DrumgenxError(f"{path}: no such config file") from None
    except yaml.YAMLError as exc:
        raise DrumgenxError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise DrumgenxError(f"{path}: expected a mapping of settings at the top level")
    return _build(cls, data, str(path), base=cls())


def config_to_yaml(config: Any) -> str:
    """The whole config as YAML (tuples as lists), e.g. to start a config file from."""
    import yaml

    def plain(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return yaml.safe_dump(plain(dataclasses.asdict(config)), sort_keys=False)
