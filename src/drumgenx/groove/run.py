"""Stage 4 with disk I/O: grid, events and pools in; ``event_grid_groovae_N.json`` out.

With ``render``, ``render_groovae_N.wav`` too, under the same N. Every input is loaded and
checked, and the model loaded and run, before anything is written: a bad input writes
nothing. The conversion and the windows are in `groove.convert`. ``humanize`` runs the
humanizer (`groove.humanizer`, numpy) unless ``model_dir`` names a GrooVAE folder;
``vary`` runs GrooVAE (`groove.model.GrooveModel`, torch, GPU when available), imported only
here, when a run needs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from drumgenx.core.console import silent
from drumgenx.core.errors import DrumgenxError, ParameterError
from drumgenx.core.formats import (
    check_events_fit_grid,
    dump_json,
    load_events,
    load_grid,
    load_pools,
)
from drumgenx.core.records import PLAYED, events_to_json
from drumgenx.core.versioning import write_versioned
from drumgenx.groove.convert import Feel, GrooveModelLike, humanize_events, vary_events
from drumgenx.groove.files import uses_humanizer
from drumgenx.groove.humanizer import Humanizer
from drumgenx.groove.settings import MODES, PLAYED_CHOICES, GrooveSettings
from drumgenx.render.run import render_wav_bytes
from drumgenx.render.settings import RenderSettings

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, current step)

DEFAULT_TEMPERATURE = GrooveSettings.temperature
DEFAULT_SEED = GrooveSettings.seed
EVENTS_FAMILY = "event_grid_groovae"
RENDER_FAMILY = "render_groovae"


@dataclass
class GrooveResult:
    """What one stage-4 run wrote: ``paths`` maps family to file, and what the model did.

    ``added`` and ``removed`` count the hits the model added and removed (``vary``; 0 for
    ``humanize``); ``polyphony_dropped`` the new hits the 3-voice limit dropped, per role.
    """

    version: int
    paths: dict[str, Path]
    added: int = 0
    removed: int = 0
    polyphony_dropped: dict[str, int] = field(default_factory=dict)

    @property
    def events_path(self) -> Path:
        return self.paths[EVENTS_FAMILY]

    @property
    def render_path(self) -> Path | None:
        return self.paths.get(RENDER_FAMILY)


def run_groove(
    *,
    grid_json: str | Path,
    events_json: str | Path,
    pools_json: str | Path,
    out_dir: str | Path,
    mode: str = GrooveSettings.mode,
    temperature: float = DEFAULT_TEMPERATURE,
    seed: int = DEFAULT_SEED,
    feel: float = GrooveSettings.feel,
    drummer: int | None = None,
    style: str | None = None,
    played: str = GrooveSettings.played,
    model_dir: str | Path | None = None,
    render: bool = False,
    sample_root: str | Path | None = None,
    swing: float = RenderSettings.swing,
    loop: bool = RenderSettings.loop,
    skip_missing: bool = False,
    model: GrooveModelLike | Humanizer | None = None,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
) -> GrooveResult:
    """Humanize or vary an event grid with GrooVAE and write it under one new N.

    Parameters
    ----------
    grid_json, events_json, pools_json
        Stage 3's ``grid_N.json`` and ``event_grid_N.json`` (or any derived event grid), and
        the ``pools_N.json`` the samples come from.
    out_dir
        Output folder (created if needed); nothing in it is ever overwritten.
    mode
        ``humanize`` (default): the same hits with the model's velocities and micro-timing.
        ``vary``: the model may also add and remove hits (`groove.convert.vary_events`).
    temperature
        Sampling temperature for ``vary``, 0 or more: 0 gives the model's closest
        reconstruction of the input, 1 samples as freely as the model learned (default 0.5,
        halfway). ``humanize`` does not sample.
    seed
        ``vary``'s sampling and the new hits' samples, ``feel``'s draws (default 42, as stage
        3). The same inputs and seed give byte-identical files.
    feel, drummer, style
        ``humanize`` with the humanizer (`GrooveSettings`): 0..1 from the most likely
        performance to a drummer's spread (default 0); GMD's drummer 1..10 and a GMD style
        to play like (default None: any).
    played
        ``keep`` (default): hits stage 3 took as played (``source="played"``: the input's own
        pattern, a GMD drummer's) keep their velocity and micro-timing, and one notice says
        so; ``replace``: they get the model's like every hit (`GrooveSettings.played`).
    model_dir
        ``humanize``: a humanizer ``.npz`` (or a folder holding ``humanizer.npz``), or a
        GrooVAE folder (``model.pt`` and ``config.json``); ``vary``: a GrooVAE folder.
        Default: the shipped humanizer (``humanize``) or GrooVAE (``vary``).
    render, sample_root, swing, loop, skip_missing
        Also write ``render_groovae_N.wav``, as `render.run.render_file` does.
    model
        A loaded model (or a stand-in with the same two methods); ``model_dir`` is then
        ignored.
    progress
        Called as ``progress(done, total, what)`` after each step of the run.
    notify
        Receives the run's notices (a role standing in for an empty pool, a skipped sample)
        as single lines; None: they are dropped.

    Raises
    ------
    DrumgenxError
        A bad option, a missing or malformed input, grid and events from different runs, a
        missing or corrupt model. Nothing is written.
    """
    if mode not in MODES:
        raise ParameterError("mode", f"must be {' or '.join(MODES)}, got {mode!r}")
    if played not in PLAYED_CHOICES:
        raise ParameterError("played", f"must be {' or '.join(PLAYED_CHOICES)}, got {played!r}")
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ParameterError("temperature", f"must be a number >= 0, got {temperature:g}")
    steps = ["inputs", "model", mode, *(["render"] if render else []), "write"]

    def done(what: str) -> None:
        if progress:
            progress(steps.index(what) + 1, len(steps), what)

    events_json, pools_json = Path(events_json), Path(pools_json)
    grid = load_grid(grid_json)
    events = load_events(events_json)
    check_events_fit_grid(events, grid, events_path=events_json)
    pools = load_pools(pools_json)
    done("inputs")
    if model is None:
        model = load_model(mode, model_dir)
    done("model")
    if mode == "humanize":
        grooved = humanize_events(
            events,
            grid,
            model=model,
            pools=pools,
            feel=Feel(feel=feel, drummer=drummer, style=style, seed=seed),
            keep_played=played == "keep",
        )
    else:
        grooved = vary_events(
            events,
            grid,
            pools,
            model=model,
            temperature=temperature,
            seed=seed,
            notify=notify,
            keep_played=played == "keep",
        )
    kept = sum(e.source == PLAYED for e in grooved.events)
    if kept:
        (notify or silent)(
            f"{kept} hit(s) keep the velocity and micro-timing they were played with (the "
            "input's own pattern, or a GMD drummer's); --played replace gives them the model's"
        )
    done(mode)
    files = {EVENTS_FAMILY: (".json", dump_json(events_to_json(grooved.events)))}
    if render:
        wav = render_wav_bytes(
            grooved.events,
            grid,
            pools=pools,
            pools_dir=pools_json.parent,
            sample_root=Path(sample_root) if sample_root else None,
            swing=swing,
            loop=loop,
            skip_missing=skip_missing,
            notify=notify,
        )
        files[RENDER_FAMILY] = (".wav", wav)
        done("render")
    version, paths = write_versioned(out_dir, files)
    done("write")
    return GrooveResult(
        version=version,
        paths=paths,
        added=grooved.added,
        removed=grooved.removed,
        polyphony_dropped=grooved.polyphony_dropped,
    )


def load_model(mode: str, model_dir: str | Path | None = None) -> GrooveModelLike | Humanizer:
    """The model a ``mode`` run uses: the humanizer for ``humanize`` unless ``model_dir`` is
    a GrooVAE folder; GrooVAE (torch) for ``vary``.

    Raises
    ------
    DrumgenxError
        Missing or unreadable weights, or torch missing where GrooVAE is needed.
    """
    if uses_humanizer(mode, model_dir):
        return Humanizer.load(model_dir)
    try:  # torch: only when a run needs it
        from drumgenx.groove.model import GrooveModel
    except ModuleNotFoundError as exc:
        raise DrumgenxError(
            f"GrooVAE needs {exc.name}: pip install torch==2.13.0 -e '.[groove]'"
        ) from None
    return GrooveModel.load(Path(model_dir) if model_dir else None, task=mode)
