"""The few exception types a user may see.

Every error a user can cause (a bad flag, a malformed file, a missing sample) is a
`DrumgenxError`; the CLI prints it as one line and exits with status 2. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial


class DrumgenxError(Exception):
    """A user-facing error: printed as one line, exit status 2, nothing written."""


class ParameterError(DrumgenxError):
    """A parameter's value a function refuses: the message names the parameter
    (``workers must be at least 1, got 0``), or the parameters it is about (`about`).

    The command line names its flags instead: each command knows which flag sets which
    parameter (`drumgenx.core.console.Command.flags`) and prints `named` with them.
    """

    def __init__(self, parameter: str, problem: str) -> None:
        self._tell("{0} {problem}", (parameter,), {"problem": problem})

    @classmethod
    def about(cls, template: str, *parameters: str, **values: object) -> ParameterError:
        """An error naming several parameters, anywhere in its message: ``template`` writes
        the i-th of ``parameters`` as ``{i}`` and each of ``values`` as ``{key}``
        (``about("{0} and {1} go together", "events_json", "grid_json")``).

        What the user typed (paths, ids) goes in ``values``, never in ``template``, so its
        braces are kept as they are.
        """
        error = cls.__new__(cls)
        error._tell(template, parameters, values)
        return error

    def _tell(self, template: str, parameters: tuple[str, ...], values: dict[str, object]) -> None:
        self._template, self.parameters, self._values = template, parameters, values
        DrumgenxError.__init__(self, str(self.named({})))

    def named(self, names: Mapping[str, str]) -> DrumgenxError:
        """The same error with each parameter called as ``names`` says (e.g. by its flag);
        one ``names`` lacks keeps its own name."""
        called = (names.get(parameter, parameter) for parameter in self.parameters)
        return DrumgenxError(self._template.format(*called, **self._values))

    def __reduce__(self) -> tuple[object, tuple[()]]:
        """Pickled (e.g. from a worker process) as the `about` call that makes it again."""
        return partial(type(self).about, self._template, *self.parameters, **self._values), ()


class FormatError(DrumgenxError):
    """A JSON file that is missing, not JSON, or does not match its schema."""


class MissingSamplesError(ParameterError):
    """Sample files an event grid needs cannot be found or decoded (the message names the
    parameters that find them or skip them)."""


class OutputExistsError(DrumgenxError):
    """An output path already exists; outputs are never overwritten."""
