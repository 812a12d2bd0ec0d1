"""The few exception types a user may see.

Every error a user can cause (a bad flag, a malformed file, a missing sample) is a
`DrumgenxError`; the CLI prints it as one line and exits with status 2. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class DrumgenxError(Exception):
    """A user-facing error: printed as one line, exit status 2, nothing written."""


class ParameterError(DrumgenxError):
    """A parameter's value a function refuses: the message names the parameter
    (``workers must be at least 1, got 0``).

    The command line names its flag instead: each command knows which flag sets which
    parameter (`drumgenx.core.console.Command.flags`) and prints `named` with it.
    """

    def __init__(self, parameter: str, problem: str) -> None:
        self.parameter, self.problem = parameter, problem
        super().__init__(f"{parameter} {problem}")

    def named(self, name: str) -> DrumgenxError:
        """The same error with the parameter called ``name`` (e.g. its flag)."""
        return DrumgenxError(f"{name} {self.problem}")


class FormatError(DrumgenxError):
    """A JSON file that is missing, not JSON, or does not match its schema."""


class MissingSamplesError(DrumgenxError):
    """Sample files an event grid needs cannot be found or decoded."""


class OutputExistsError(DrumgenxError):
    """An output path already exists; outputs are never overwritten."""
