"""The few exception types a user may see, and the notices that name parameters.

Every error a user can cause (a bad flag, a malformed file, a missing sample) is a
`DrumgenxError`; the CLI prints it as one line and exits with status 2. Anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial


def _say(
    template: str,
    parameters: tuple[str, ...],
    values: Mapping[str, object],
    names: Mapping[str, str],
) -> str:
    """``template`` with the i-th parameter as ``{i}`` (called as ``names`` says, else by its
    own name) and each value as ``{key}``; a `Notice` among the values is said the same way."""
    called = (names.get(parameter, parameter) for parameter in parameters)
    said = {k: v.named(names) if isinstance(v, Notice) else v for k, v in values.items()}
    return template.format(*called, **said)


class Notice(str):
    """A notice that names parameters, which the command line says again with its flags.

    Library code passes notices to its ``notify`` callback as plain strings or, where they
    tell the user what to set, as a `Notice`: the text names the parameter
    (``point clap_model at a folder``) and `named` gives the same text with the names the
    caller uses (``point --clap_model at a folder``). The template works as
    `ParameterError.about`'s; a value may itself be a `Notice`.
    """

    template: str
    parameters: tuple[str, ...]
    values: dict[str, object]

    def __new__(cls, template: str, *parameters: str, **values: object) -> Notice:
        self = super().__new__(cls, _say(template, parameters, values, {}))
        self.template, self.parameters, self.values = template, parameters, values
        return self

    def named(self, names: Mapping[str, str]) -> str:
        """The notice with each parameter called as ``names`` says (e.g. by its flag)."""
        return _say(self.template, self.parameters, self.values, names)

    def __reduce__(self) -> tuple[object, tuple[()]]:
        """Pickled (e.g. from a worker process) as the call that makes it again."""
        return partial(type(self), self.template, *self.parameters, **self.values), ()


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
        DrumgenxError.__init__(self, _say(template, parameters, values, {}))

    def named(self, names: Mapping[str, str]) -> DrumgenxError:
        """The same error with each parameter called as ``names`` says (e.g. by its flag);
        one ``names`` lacks keeps its own name."""
        return DrumgenxError(_say(self._template, self.parameters, self._values, names))

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
