"""Build a drum-transcription training corpus (GMD performances through many kits, in mixtures).

This package is used only to build training data and to train; nothing in ``drumgenx``'s run
time path imports it. It needs the ``fluidsynth`` CLI, General MIDI SoundFonts and the Debian
Hydrogen drum kits (``apt-get install fluidsynth fluid-soundfont-gm musescore-general-soundfont
timgm6mb-soundfont hydrogen-drumkits hydrogen-data``) and the Groove MIDI Dataset.

Modules: :mod:`.gmd` (performances, drum notes, the 5 classes), :mod:`.kits` (drum kits,
one-shots, sample-exact rendering), :mod:`.accompaniment` (composed non-drum parts rendered with
FluidSynth), :mod:`.augment` (mix augmentations), :mod:`.corpus` (items, files, manifest) and
:mod:`.transcriber` (the trainer).

Every model's trainer lives here, one module each, run by ``drumgenx train MODEL``
(:mod:`.commands`; flags in :mod:`.flags`, defaults in :mod:`.settings`: the shipped weights'
settings): :mod:`.groove` (GrooVAE), :mod:`.roles` (the learned role scorer), :mod:`.onsets`
(the learned onset activation, on :mod:`.gmd_render`'s renders), :mod:`.transcriber`, and
``corpus`` for the transcriber's data.
"""
