"""Read and write the JSON file formats, each checked against its schema on load.

A file that is missing, truncated, not JSON, or off its schema raises `FormatError` with one
line naming the file and the field, e.g.
``output/grid_1.json: field 'bpm': expected number, got string``.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from drumgenx.core.errors import FormatError
from drumgenx.core.records import Event, Grid, Pools, events_from_json
from drumgenx.core.roles import ROLES, pool_key

# file format -> schema file in core/schemas; also the names used in error messages
FORMATS: dict[str, str] = {
    "grid": "grid.schema.json",
    "event_grid": "event_grid.schema.json",
    "pools": "pools.schema.json",
    "skeleton_meta": "skeleton_meta.schema.json",
    "manifest": "manifest.schema.json",
    "per_sample": "per_sample.schema.json",
    "run": "run.schema.json",
    "hits": "hits.schema.json",
    "styles": "styles.schema.json",
}


@cache
def _validator(fmt: str) -> Any:
    import jsonschema  # heavy-ish; only when a file is loaded

    text = resources.files("drumgenx.core.schemas").joinpath(FORMATS[fmt]).read_text("utf-8")
    schema = json.loads(text)
    return jsonschema.Draft202012Validator(schema)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(
        type(value), type(value).__name__
    )


def _field_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: Any) -> str:
    """One short line for a jsonschema error (its own message can quote a whole file)."""
    if error.validator == "type":
        return f"expected {error.validator_value}, got {_json_type(error.instance)}"
    if error.validator in ("enum", "const"):
        allowed = error.validator_value
        allowed = ", ".join(map(str, allowed)) if isinstance(allowed, list) else allowed
        return f"must be one of {allowed}, got {json.dumps(error.instance)[:40]}"
    message = str(error.message)
    return message if len(message) <= 120 else message[:117] + "..."


def _a(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def schema_problem(data: Any, fmt: str) -> str | None:
    """The first problem of ``data`` against format ``fmt``'s schema, or None if valid."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator(fmt).iter_errors(data))
    if error is None:
        return None
    return f"field '{_field_path(error.absolute_path)}': {_describe(error)}"


def read_json(path: str | Path, fmt: str) -> Any:
    """Load a JSON file of format ``fmt`` (gzipped where its name ends ``.gz``) and check it
    against the schema.

    Raises
    ------
    FormatError
        The file is missing, unreadable, not JSON, or off its schema.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise FormatError(f"{path}: no such file") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:  # EOFError: a truncated .gz
        raise FormatError(f"{path}: cannot read ({exc})") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except _NonFiniteNumber as exc:
        raise FormatError(f"{path}: holds {exc}, which is not a number JSON allows") from None
    except json.JSONDecodeError as exc:
        what = "empty" if not text.strip() else "not valid JSON (truncated?)"
        raise FormatError(
            f"{path}: {what}: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    if _LONE_SURROGATE.search(text) and _has_lone_surrogate(data):
        raise FormatError(f"{path}: holds a string with a lone UTF-16 surrogate (\\ud8xx)")
    problem = schema_problem(data, fmt)
    if problem is not None:
        hint = next((f" (it looks like {_a(o)} {o} file)" for o in FORMATS if _fits(data, o)), "")
        raise FormatError(f"{path}: not a valid {fmt} file{hint}: {problem}")
    return data


class _NonFiniteNumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have; a NaN velocity or an
    # infinite length would pass every schema bound and break the renderer and MIDI.
    raise _NonFiniteNumber(name)


_LONE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # only then is a check needed


def _has_lone_surrogate(data: Any) -> bool:
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _fits(data: Any, fmt: str) -> bool:
    return schema_problem(data, fmt) is None


def dump_json(data: Any) -> bytes:
    """Serialise deterministically (same data -> same bytes), UTF-8, trailing newline."""
    return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def load_grid(path: str | Path) -> Grid:
    """Load ``grid_N.json`` and check its lists agree with its sizes."""
    grid = Grid.from_json(read_json(path, "grid"))
    if len(grid.bar_start) != grid.num_bars:
        raise FormatError(
            f"{path}: field 'bar_start': has {len(grid.bar_start)} entries, "
            f"num_bars is {grid.num_bars}"
        )
    beat = 60.0 / grid.bpm
    for name, value, expected in (
        ("tbeat", grid.tbeat, beat),
        ("tbar", grid.tbar, beat * 4),
        ("tstep", grid.tstep, beat * 4 / grid.steps_per_bar),
    ):
        if not math.isclose(value, expected, rel_tol=1e-6):
            raise FormatError(
                f"{path}: field '{name}': is {value:g}, but bpm {grid.bpm:g} makes it {expected:g}"
            )
    if len(grid.t_step) != grid.num_steps:
        raise FormatError(
            f"{path}: field 't_step': has {len(grid.t_step)} entries, "
            f"expected num_bars * steps_per_bar = {grid.num_steps}"
        )
    return grid


def load_events(path: str | Path) -> list[Event]:
    """Load an event grid (``event_grid_N.json`` or a derived one)."""
    return events_from_json(read_json(path, "event_grid"))


def load_pools(path: str | Path) -> Pools:
    """Load ``pools_N.json`` and check ``counts`` agrees with the pools."""
    data = read_json(path, "pools")
    for role in ROLES:
        count = data["counts"].get(role)
        if count is not None and count != len(data[pool_key(role)]):
            raise FormatError(
                f"{path}: field 'counts.{role}': is {count}, "
                f"but {pool_key(role)} holds {len(data[pool_key(role)])}"
            )
    return Pools.from_json(data)


def load_hits(path: str | Path) -> dict[str, Any]:
    """Load a transcription (``<name>.hits.json``, from ``drumgenx transcribe``) and check
    that its hits are in time order."""
    data = read_json(path, "hits")
    times = [hit["time_s"] for hit in data["hits"]]
    for i in range(1, len(times)):
        if times[i] < times[i - 1]:
            raise FormatError(
                f"{path}: field 'hits[{i}].time_s': is {times[i]:g}, before the hit ahead of "
                f"it ({times[i - 1]:g}); hits are sorted by time"
            )
    return data


def check_events_fit_grid(events: list[Event], grid: Grid, *, events_path: str | Path) -> None:
    """Raise FormatError when an event lies outside the grid (e.g. files of two runs mixed)."""
    for i, event in enumerate(events):
        if event.bar >= grid.num_bars:
            raise FormatError(
                f"{events_path}: field '[{i}].bar': is {event.bar}, "
                f"but the grid has {grid.num_bars} bars (do the grid and events belong together?)"
            )
