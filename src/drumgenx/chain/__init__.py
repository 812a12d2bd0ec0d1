"""The whole chain in one call: audio folder in, a humanized loop (WAV + MIDI) out."""
