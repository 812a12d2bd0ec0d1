"""The few exception types a user may see.

Every error a user can cause (a bad flag, a malformed file, a missing sample) is a
`DrumgenxError`; the CLI prints it as one line and exits with status 2. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class DrumgenxError(Exception):
    """A user-facing error: printed as one line, exit status 2, nothing written."""


class FormatError(DrumgenxError):
    """A JSON file that is missing, not JSON, or does not match its schema."""


class MissingSamplesError(DrumgenxError):
    """Sample files an event grid needs cannot be found or decoded."""


class OutputExistsError(DrumgenxError):
    """An output path already exists; outputs are never overwritten."""
