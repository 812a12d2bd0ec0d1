"""Stage 3: the beat grid and the rule-based skeleton pattern."""
