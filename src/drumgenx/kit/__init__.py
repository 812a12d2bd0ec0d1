"""Procedurally synthesized one-shot drum kit bundled with DrumGen-X."""
