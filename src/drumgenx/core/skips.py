"""Why an input file was left out, as a value a program can read.

A stage that skips an input records a `SkipKind` beside the reason it shows people (that text
may name the file, the decoder's message or a threshold, and may change); whoever acts on a
skip (the chain, which keeps quiet about files that are not audio) reads the kind, never the
text.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["SkipKind"]


class SkipKind(Enum):
    """Why an input was skipped.

    Attributes
    ----------
    NOT_AUDIO
        Not an audio file type (by its extension): notes, cover art, a truth file.
    UNREADABLE
        The file could not be read at all (permissions, an I/O error).
    DUPLICATE
        The same content as another input of the same run.
    UNDECODABLE
        Read, but no audio could be decoded from it (corrupt, empty, an unknown codec).
    SILENT
        Decoded, but its peak stays below the silence threshold.
    """

    NOT_AUDIO = "not_audio"
    UNREADABLE = "unreadable"
    DUPLICATE = "duplicate"
    UNDECODABLE = "undecodable"
    SILENT = "silent"
