"""YAML configuration onto frozen dataclasses, checked field by field.

A config file only needs the keys it changes; every other value keeps the dataclass default
(which is where each default is documented) or, with ``base``, the settings it is laid over.
Unknown keys, missing keys (in a file that must be complete) and wrong types are errors that
name the file and the key, so a typo never silently falls back to a default.

`trace` records where each setting came from as layers (defaults, files, flags) are laid
over each other, and `format_traced` prints the result as YAML with the source of every
value beside it (``drumgenx config show``).
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from drumgenx.core.errors import DrumgenxError

T = TypeVar("T")

DEFAULT_SOURCE = "default"
"""What `format_traced` says of a value no layer changed."""


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


def _required(cls: type) -> set[str]:
    """The fields of ``cls`` that have no default: a mapping built from scratch names them."""
    missing = dataclasses.MISSING
    return {
        f.name
        for f in dataclasses.fields(cls)
        if f.init and f.default is missing and f.default_factory is missing
    }


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
        missing = sorted(_required(cls) - set(data))
        if missing:
            raise DrumgenxError(f"{where}: missing key(s) {missing}")
        return cls(**{k: _coerce(v, hints[k], f"{where}.{k}") for k, v in data.items()})
    return dataclasses.replace(
        base,
        **{k: _coerce(v, hints[k], f"{where}.{k}", getattr(base, k)) for k, v in data.items()},
    )


class Given(argparse.Action):
    """argparse's ``store`` that also notes the flag was given (`given`), so a flag beats a
    config file, and ``drumgenx config show`` names it, even where its value is the default."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, _GIVEN, {*getattr(namespace, _GIVEN, ()), self.dest})


_GIVEN = "_drumgenx_given"


def given(args: argparse.Namespace) -> frozenset[str]:
    """The destinations of the `Given` flags on the command line of ``args``."""
    return frozenset(getattr(args, _GIVEN, ()))


def with_flags(settings: T, args: argparse.Namespace, **convert: Callable[[Any], Any]) -> T:
    """``settings`` (a dataclass) with every field whose `Given` flag is on the command line
    set to the flag's value (through ``convert[field]`` where there is one)."""
    chosen = {
        f.name: convert.get(f.name, lambda v: v)(getattr(args, f.name))
        for f in dataclasses.fields(settings)
        if f.name in given(args)
    }
    return dataclasses.replace(settings, **chosen)


def read_settings_file(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of YAML file ``path``.

    Raises
    ------
    DrumgenxError
        The file is missing, not YAML, or not a mapping at the top level (one line naming it).
    """
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise DrumgenxError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise DrumgenxError(f"{path}: a folder, not a config file") from None
    except yaml.YAMLError as exc:
        raise DrumgenxError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise DrumgenxError(f"{path}: expected a mapping of settings at the top level")
    return data


def load_config(path: str | Path | None, cls: type[T], *, base: T | None = None) -> T:
    """Read YAML ``path`` onto dataclass ``cls``.

    Parameters
    ----------
    path
        The file; None returns ``base`` unchanged.
    cls
        The settings' dataclass.
    base
        The settings the file is laid over (default ``cls()``, its defaults): every key the
        file does not name keeps its value here.

    Raises
    ------
    DrumgenxError
        As `read_settings_file`; an unknown key or a wrong type, naming file and key.
    """
    base = cls() if base is None else base
    if path is None:
        return base
    return _build(cls, read_settings_file(path), str(path), base=base)


def load_defaults(path: str | Path, cls: type[T]) -> T:
    """Read YAML ``path``, which names every top-level setting of ``cls`` and every key
    without a default below: the defaults a package ships as data, which ``cls``'s own
    defaults may be read from (a missing key is an error, as an unknown one is).

    Raises
    ------
    DrumgenxError
        As `load_config`; a missing key, naming file and key.
    """
    data = read_settings_file(path)
    missing = sorted({f.name for f in dataclasses.fields(cls) if f.init} - set(data))
    if missing:
        raise DrumgenxError(f"{path}: missing key(s) {missing}")
    return _build(cls, data, str(path))


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def config_to_yaml(config: Any) -> str:
    """The whole config as YAML (tuples as lists), e.g. to start a config file from."""
    import yaml

    return yaml.safe_dump(_plain(config), sort_keys=False)


@dataclasses.dataclass(frozen=True)
class Traced(Generic[T]):
    """Settings and where each came from.

    Attributes
    ----------
    config
        The effective settings (a dataclass).
    sources
        Dotted key (``fusion.alpha``; a list such as ``rules.profiles`` is one key) -> the
        layer that last changed it (a file's path, a flag); keys not here are defaults.
    default
        What the defaults are called (`DEFAULT_SOURCE`, or e.g. the file they are read from).
    """

    config: T
    sources: Mapping[str, str]
    default: str = DEFAULT_SOURCE

    def source(self, key: str) -> str:
        """Where the value at dotted ``key`` came from."""
        return self.sources.get(key, self.default)


def _changes(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two instances of one dataclass."""
    out = []
    for f in dataclasses.fields(new):
        a, b = getattr(old, f.name), getattr(new, f.name)
        key = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(b) and type(a) is type(b):
            out += _changes(a, b, f"{key}.")
        elif a != b:
            out.append(key)
    return out


def trace(default: T, *layers: tuple[str, T], default_source: str = DEFAULT_SOURCE) -> Traced[T]:
    """Where each setting came from, as layers were laid over ``default`` in order.

    Parameters
    ----------
    default
        The defaults (a dataclass instance).
    layers
        ``(source, settings after that layer)`` in the order they were applied: a file's
        path and what `load_config` returned, a flag and the settings with it applied.
    default_source
        What to call a value no layer changed.

    Returns
    -------
    Traced
        The last layer's settings, each changed key attributed to the last layer that
        changed its value (a layer that repeats a value changes nothing).
    """
    sources: dict[str, str] = {}
    before = default
    for source, after in layers:
        for key in _changes(before, after):
            sources[key] = source
        before = after
    return Traced(before, sources, default_source)


def format_traced(traced: Traced[Any], *, fields: Sequence[str] | None = None) -> str:
    """``traced.config`` as YAML with each value's source as a comment beside it.

    Parameters
    ----------
    traced
        Settings and their sources (`trace`).
    fields
        The top-level fields to print, in this order; default all.

    Returns
    -------
    str
        Lines ``key: value  # source``; a nested section is a ``key:`` line over its own,
        indented. All fields load back as a config file of the same dataclass (YAML ignores
        the comments), so the text can start one.
    """
    import yaml

    def dump(value: Any) -> list[str]:
        text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=10_000)
        return text.removesuffix("...\n").splitlines()

    lines: list[str] = []

    def walk(config: Any, names: Sequence[str], prefix: str, depth: int) -> None:
        pad = " " * depth
        for name in names:
            value = getattr(config, name)
            key = f"{prefix}{name}"
            if dataclasses.is_dataclass(value):
                lines.append(f"{pad}{name}:")
                walk(value, [f.name for f in dataclasses.fields(value)], f"{key}.", depth + 2)
                continue
            first, *rest = dump({name: _plain(value)})
            lines.append(f"{pad}{first}  # {traced.source(key)}")
            lines.extend(f"{pad}{line}" for line in rest)

    top = [f.name for f in dataclasses.fields(traced.config)] if fields is None else fields
    walk(traced.config, top, "", 0)
    return "".join(f"{line}\n" for line in lines)
