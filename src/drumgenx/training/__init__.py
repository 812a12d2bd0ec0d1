"""Build a drum-transcription training corpus (GMD performances through many kits, in mixtures).

This package is used only to build training data and to train; nothing in ``drumgenx``'s run
time path imports it. It needs the ``fluidsynth`` CLI, General MIDI SoundFonts and the Debian
Hydrogen drum kits (``apt-get install fluidsynth fluid-soundfont-gm musescore-general-soundfont
timgm6mb-soundfont hydrogen-drumkits hydrogen-data``) and the Groove MIDI Dataset.

Modules: :mod:`.gmd` (performances, drum notes, the 5 classes), :mod:`.kits` (drum kits,
one-shots, sample-exact rendering), :mod:`.accompaniment` (composed non-drum parts rendered with
FluidSynth), :mod:`.augment` (mix augmentations), :mod:`.corpus` (items, files, manifest and
the ``python -m drumgenx.training.corpus`` CLI) and :mod:`.transcriber` (the trainer).
"""
