"""``drumgenx config show``: the settings ``drumgenx run`` uses, stage by stage, and where
each came from.

Every value is printed as YAML with its source beside it: ``default`` (the stage's own
default: its dataclass, or for stage 2 the files the package ships), ``drumgenx run`` (the
run's own default where it differs from the stage's, e.g. 8 bars where ``drumgenx skeleton``
makes 4), a file (the role config or prompts read over the shipped ones), ``file PATH``
(a value ``--skeleton_config`` or ``--groove_config`` set) or a flag. The
role config, prompts and preprocess sections load back as the files ``--config``,
``--prompts`` and ``drumgenx preprocess --config`` read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from typing import Any

from drumgenx.chain.run import STAGES, ChainParams
from drumgenx.core.config import Traced, format_traced, trace
from drumgenx.skeleton.settings import PatternSettings

SECTIONS: tuple[str, ...] = ("run", *STAGES)
"""What ``drumgenx config show [STAGE]`` can show: the run's own settings, then each stage."""

RUN_SOURCE = "drumgenx run"

Files = Mapping[str, tuple[str, Any]]
"""`ChainParams` field -> (``file PATH``, the value a stage file gave it)."""

Reach = Mapping[str, str]
"""`ChainParams` field -> the (dotted) key of a view's settings it sets."""

_SAME_NAMES: Reach = {f.name: f.name for f in fields(ChainParams)}
_PATTERN: Reach = {f.name: f.name for f in fields(PatternSettings)}


def _layers(
    params: ChainParams,
    flags: Mapping[str, str],
    view: Callable[[ChainParams], Any],
    files: Files,
) -> list[tuple[str, Any]]:
    """``view`` of the run's defaults, then of each stage file's values (``files``: field
    -> its source and value), then of each flag applied in turn, labelled: a flag typed at
    the run's default over a file's value is the flag's."""
    current = ChainParams()
    layers = [(RUN_SOURCE, view(current))]
    for name, (source, value) in files.items():
        current = replace(current, **{name: value})
        layers.append((source, view(current)))
    for f in fields(ChainParams):
        if f.name in flags:
            current = replace(current, **{f.name: getattr(params, f.name)})
            layers.append((flags[f.name], view(current)))
    return layers


def _traced(
    default: Any,
    params: ChainParams,
    flags: Mapping[str, str],
    view: Callable[[ChainParams], Any],
    files: Files,
    reach: Reach = _SAME_NAMES,
) -> Traced[Any]:
    """The sources of ``view``'s settings. A field a flag (or a file) set is that source's
    at the key it reaches (``reach``) even where it repeats the value before it (a flag
    typed at its default), as long as the view holds the value it set."""
    traced = trace(default, *_layers(params, flags, view, files))
    claimed = {
        key: flags[name]
        for name, key in reach.items()
        if name in flags and _value_at(traced.config, key) == getattr(params, name)
    }
    return replace(traced, sources={**traced.sources, **claimed})


def _value_at(config: Any, key: str) -> Any:
    """The value at dotted ``key`` of nested dataclasses."""
    for name in key.split("."):
        config = getattr(config, name)
    return config


def _section(title: str, body: str) -> str:
    return f"# {title}\n{body}"


def _run(params: ChainParams, flags: Mapping[str, str], files: Files) -> list[str]:
    traced = _traced(ChainParams(), params, flags, lambda p: p, files)
    return [_section("run: drumgenx run's own settings (its flags)", format_traced(traced))]


def _preprocess(params: ChainParams, flags: Mapping[str, str], files: Files) -> list[str]:
    from drumgenx.preprocess.config import PreprocessConfig

    reach = {  # where ChainParams.preprocess_config puts them
        "separator": "separation.method",
        "demucs_repo": "separation.demucs_repo",
        "onset_method": "onsets.method",
        "transcriber_weights": "onsets.transcriber_weights",
    }
    traced = _traced(PreprocessConfig(), params, flags, ChainParams.preprocess_config, files, reach)
    title = "preprocess (stage 1), in the format of drumgenx preprocess --config"
    return [_section(title, format_traced(traced))]


def _roles(params: ChainParams, flags: Mapping[str, str], files: Files) -> list[str]:
    from drumgenx.roles.clap import trace_prompts
    from drumgenx.roles.rules import trace_role_config
    from drumgenx.roles.settings import SHIPPED_CONFIG_PATH, SHIPPED_PROMPTS_PATH, RolesSettings

    def run_settings(p: ChainParams) -> RolesSettings:
        chosen = {"clap_model": p.clap_model} if p.clap_model else {}
        engine = {"engine": p.engine, "scheduler": p.scheduler}
        return RolesSettings(limit=0, workers=p.workers, **engine, **chosen)  # every file

    config = trace_role_config(params.role_config)
    prompts = trace_prompts(params.prompts)
    reach = {name: name for name in ("clap_model", "workers", "engine", "scheduler")}
    settings = _traced(RolesSettings(), params, flags, run_settings, files, reach)
    return [
        _section(
            f"roles (stage 2): the role config (default: {SHIPPED_CONFIG_PATH})",
            format_traced(config),
        ),
        _section(
            f"roles (stage 2): the CLAP prompts (default: {SHIPPED_PROMPTS_PATH})",
            format_traced(prompts),
        ),
        _section(
            "roles (stage 2): the run's settings",
            format_traced(
                settings, fields=["limit", "clap_model", "workers", "engine", "scheduler"]
            ),
        ),
    ]


def _skeleton(params: ChainParams, flags: Mapping[str, str], files: Files) -> list[str]:
    from drumgenx.skeleton.patterns import SkeletonParams

    pattern = _traced(SkeletonParams(), params, flags, ChainParams.skeleton_params, files, _PATTERN)
    run = _traced(ChainParams(), params, flags, lambda p: p, files)
    return [
        _section("skeleton (stage 3): the pattern", format_traced(pattern)),
        _section(
            "skeleton (stage 3): tempo and render",
            format_traced(run, fields=["bpm", "swing", "loop"]),
        ),
    ]


def _groove(params: ChainParams, flags: Mapping[str, str], files: Files) -> list[str]:
    from drumgenx.groove.files import model_weights

    run = _traced(ChainParams(), params, flags, lambda p: p, files)
    body = format_traced(
        run,
        fields=[
            "mode",
            "temperature",
            "seed",
            "feel",
            "drummer",
            "style",
            "played",
            "swing",
            "loop",
        ],
    )
    model = "humanizer" if params.mode == "humanize" else "GrooVAE"
    weights = f"# {model} weights (shipped): {model_weights(params.mode)}\n"
    return [_section("groove (stage 4)", body + weights)]


_SHOW = {
    "run": _run,
    "preprocess": _preprocess,
    "roles": _roles,
    "skeleton": _skeleton,
    "groove": _groove,
}


def show_settings(
    params: ChainParams,
    *,
    flags: Mapping[str, str] | None = None,
    stage: str | None = None,
    files: Files | None = None,
) -> str:
    """The settings ``drumgenx run`` with ``params`` uses, as commented YAML.

    Parameters
    ----------
    params
        The run's settings.
    flags
        ``ChainParams`` field -> the flag that set it (``{"bpm": "--bpm"}``), for the fields
        a flag changed; the others are shown as defaults.
    stage
        One of `SECTIONS`; default all of them.
    files
        ``ChainParams`` field -> (``file PATH``, value) for the values the stage files
        (``--skeleton_config``, ``--groove_config``) set, laid under the flags.

    Returns
    -------
    str
        One block per section, each headed by a comment line, every value with its source.

    Raises
    ------
    DrumgenxError
        An unknown ``stage``; a role config or prompts file that cannot be read.
    """
    from drumgenx.core.errors import DrumgenxError

    if stage is not None and stage not in _SHOW:
        raise DrumgenxError(f"STAGE must be one of {', '.join(SECTIONS)}, got {stage!r}")
    flags = dict(flags or {})
    blocks = [
        block
        for name in SECTIONS
        if stage in (None, name)
        for block in _SHOW[name](params, flags, dict(files or {}))
    ]
    return "\n".join(blocks)
