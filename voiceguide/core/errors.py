"""One family of exceptions; the CLI turns each into a message and an exit code.

Anything a user can cause raises a ``VoiceguideError``; everything else is a bug and may show a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class VoiceguideError(Exception):
    """Base of every error a user can cause. ``exit_code`` follows the CLI's contract."""

    exit_code = 1


@dataclass(frozen=True)
class Where:
    """A place in a routine file: 1-based line and column, and the field's path (``steps[2].say``)."""

    file: str
    line: int
    col: int
    path: str = ""

    def __str__(self) -> str:
        prefix = f"{self.file}:{self.line}:{self.col}"
        return f"{prefix}: {self.path}" if self.path else prefix


@dataclass(frozen=True)
class Problem:
    """One problem in a routine: where it is and what is wrong."""

    where: Where
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ScriptError(VoiceguideError):
    """A routine file is invalid. Carries every problem found, so all are reported at once."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class PlanError(ScriptError):
    """A routine is valid on paper but does not fit once narration lengths are known."""


class UsageError(VoiceguideError):
    """A bad name or option: an unknown routine, engine or voice."""

    exit_code = 2


class EngineError(VoiceguideError):
    """A text-to-speech engine failed (after retries) or is not installed."""

    exit_code = 1


class AudioError(VoiceguideError):
    """Reading, mixing or encoding audio failed (a corrupt sound file, ffmpeg's own error)."""

    exit_code = 1
