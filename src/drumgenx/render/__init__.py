"""Events to sound and to MIDI: the mixer and the MIDI exporter share one timing model."""
