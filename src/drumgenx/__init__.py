"""DrumGen-X: turn any pile of audio into playable, human-feeling drum loops.

The facade users import; each name loads its stage only when first used, so
``import drumgenx`` (and ``drumgenx --help``) stays instant::

    import drumgenx
    loop = drumgenx.run("demo_audio", out="output")   # all four stages; loop.wav, loop.midi
    library = drumgenx.preprocess(dataset_root="~/loops", output_root="dummy_dataset")
    run = drumgenx.build_skeleton(out_dir="output", bpm=120, pools_json="output/pools_1.json")
    groove = drumgenx.apply_groove(grid_json="output/grid_1.json", pools_json="output/pools_1.json",
                                   events_json="output/event_grid_1.json", out_dir="output")
    drumgenx.render("output/event_grid_1.json", "output/grid_1.json", out_dir="output")
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# public name -> (module, attribute)
_FACADE = {
    "run": ("drumgenx.chain.run", "run_chain"),
    "ChainParams": ("drumgenx.chain.run", "ChainParams"),
    "preprocess": ("drumgenx.preprocess.run", "run_preprocess"),
    "PreprocessConfig": ("drumgenx.preprocess.config", "PreprocessConfig"),
    "build_skeleton": ("drumgenx.skeleton.run", "run_skeleton"),
    "SkeletonParams": ("drumgenx.skeleton.patterns", "SkeletonParams"),
    # not "groove": importing the subpackage drumgenx.groove would replace that attribute
    "apply_groove": ("drumgenx.groove.run", "run_groove"),
    "render": ("drumgenx.render.run", "render_file"),
    "export_midi": ("drumgenx.render.run", "export_midi_file"),
    "DrumgenxError": ("drumgenx.core.errors", "DrumgenxError"),
}

__all__ = ["__version__", *_FACADE]


def __getattr__(name: str) -> Any:
    if name not in _FACADE:
        raise AttributeError(f"module 'drumgenx' has no attribute {name!r}")
    module, attribute = _FACADE[name]
    return getattr(import_module(module), attribute)
