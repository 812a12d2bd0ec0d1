"""The render stage's settings: one frozen dataclass, the one place its defaults live.

Kept free of heavy imports, so the command line reads its defaults from here at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GM_DRUM_NOTES", "RenderSettings"]

# General MIDI percussion keys (GM 1 spec, key map for channel 10). TEXTURE has no GM
# instrument; the Chinese cymbal is the longest-sustaining cymbal, a stand-in for a bed.
GM_DRUM_NOTES: dict[str, int] = {"CORE": 36, "ACCENT": 38, "MOTION": 42, "FILL": 45, "TEXTURE": 52}
"""Each role's MIDI key in an exported file (``--note ROLE=KEY`` changes one)."""


@dataclass(frozen=True)
class RenderSettings:
    """How an event grid becomes audio (`render.mixer.render_events` and the commands).

    Attributes
    ----------
    sr
        Output sample rate in Hz (44100: the seed's ``--render_sr`` default).
    swing
        Delay of off-beat 16ths in steps, 0..0.75 (0: straight, as the seed renders).
    loop
        True (the default since issue #12: a loop meant for a DAW is exactly its bars long):
        the file is exactly ``bars * 4 * 60 / bpm`` seconds (`render.timing.loop_frames`)
        and whatever rings past the end is added onto the start, so it repeats seamlessly.
        False (``--tails``): the tails are kept after the loop's end, as the seed rendered.
    """

    sr: int = 44100
    swing: float = 0.0
    loop: bool = True
