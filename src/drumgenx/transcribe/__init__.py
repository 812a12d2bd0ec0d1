"""The drum transcriber: hits and their drum classes in a drum track or a full mix.

``transcribe_audio(y, sr=sr)`` gives every hit's time, strength and five class
probabilities (kick, snare, hi-hat, tom, cymbal); ``run.transcribe_files`` writes them as
General MIDI drums and ``.hits.json`` (``drumgenx transcribe``); stage 1 slices at them
(``--onset_method transcribe``). Inference is numpy only; torch is needed to train.
"""
