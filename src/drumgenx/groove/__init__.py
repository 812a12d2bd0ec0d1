"""Stage 4: GrooVAE humanizes and varies drum patterns (Magenta's groove model, in PyTorch)."""
