"""Stage 1: audio folder in, a de-duplicated library of one-shot WAVs out."""
