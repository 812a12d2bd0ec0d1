"""Stage 2: role assignment (CORE, ACCENT, MOTION, FILL, TEXTURE) for one-shots."""
