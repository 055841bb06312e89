"""What an author writes inside values: durations as text, exact pauses and names in narration.

- A **duration** is a number of seconds or text with units: ``40s``, ``1m30s``, ``500ms``.
- An **exact pause** is a duration in square brackets inside narration: ``Breathe in [4s] and out
  [6s]`` is spoken as two phrases with exactly 4 s of silence after the first and 6 s after the
  second. ``split_pauses`` cuts such a text into its phrases and pauses.
- A **name** in braces is filled in from where the text is used: ``Now the {side} side.``
  ``{{`` and ``}}`` stand for braces themselves. ``fill`` fills them in; ``problems`` says what is
  wrong with a text's names and pauses before anything is filled in.

Pure functions only: the loader checks texts with them and the planner splits them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

_NUMBER = r"(\d+(?:\.\d+)?)"
DURATION_PATTERN = (
    rf"\s*(?:{_NUMBER}|(?=\d)"
    rf"(?:{_NUMBER}\s*h(?:ours?|rs?)?\s*)?"
    rf"(?:{_NUMBER}\s*m(?:in(?:ute)?s?)?\s*)?"
    rf"(?:{_NUMBER}\s*s(?:ec(?:ond)?s?)?\s*)?"
    rf"(?:{_NUMBER}\s*ms\s*)?)\s*"
)
"""A duration as text: a bare number of seconds, or hours, minutes, seconds and milliseconds in
that order, each optional (``40s``, ``1.5 s``, ``500ms``, ``2 min``, ``1m30s``, ``1 h 5 m``).
Written to work both as a Python and as a JSON Schema (ECMA-262) regular expression."""
_DURATION_RE = re.compile(DURATION_PATTERN)
_DURATION_UNITS = (1.0, 3600.0, 60.0, 1.0, 0.001)
"""Seconds per unit, for the pattern's groups in order: bare number, h, m, s, ms."""

_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_NAME = re.compile(r"\{([^{}]*)\}")

NAMES = {
    "title": "the step's title",
    "routine": "the routine's title",
    "side": "the side being worked (in a step with sides)",
    "round": "the round number (inside a repeat)",
    "rounds": "how many rounds the repeat has",
    "strokes": "the step's stroke count",
    "duration": "the step's length, in words (for each side, in a step with sides)",
    "cycles": "the breath step's cycle count",
    "inhale": "the inhale's length, in words",
    "exhale": "the exhale's length, in words",
    "hold": "the hold's length, in words",
    "remaining": "in a countdown, the count; in a time-left callout, the time left, in words",
}
"""Every name a text may use, and what it stands for."""


def parse_duration(text: str) -> float | None:
    """Seconds in a duration written as text (``40``, ``1.5s``, ``500ms``, ``1m30s``, ``2 min``).

    A leading ``-`` makes it negative (so messages can say "got -5"); ``None`` if it is not a
    duration at all.
    """
    unsigned = text.strip()
    sign = -1.0 if unsigned.startswith("-") else 1.0
    match = _DURATION_RE.fullmatch(unsigned.removeprefix("-"))
    if match is None:
        return None
    amounts = zip(match.groups(), _DURATION_UNITS, strict=True)
    return sign * sum(float(amount) * unit for amount, unit in amounts if amount is not None)


def format_seconds(seconds: float) -> str:
    """Seconds written compactly for messages, to the millisecond: ``3``, ``1.5``, ``0.25``."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_clock(ms: float) -> str:
    """Milliseconds as a clock, ``mm:ss.s``, to the nearest tenth of a second (59.96 s is
    ``01:00.0``, never ``00:60.0``)."""
    tenths = round(ms / 100)
    return f"{tenths // 600:02d}:{tenths % 600 / 10:04.1f}"


def spoken_duration(seconds: float) -> str:
    """Seconds as a voice would say them: ``30 seconds``, ``1 minute``, ``2 minutes 30 seconds``."""
    minutes, rest = divmod(round(seconds, 3), 60)
    parts = []
    if minutes:
        parts.append(f"{int(minutes)} minute" + ("s" if minutes != 1 else ""))
    if rest or not parts:
        parts.append(f"{format_seconds(rest)} second" + ("s" if rest != 1 else ""))
    return " ".join(parts)


# --- Exact pauses -----------------------------------------------------------------------------


def split_pauses(text: str) -> tuple[str | float, ...]:
    """``text`` as its phrases (``str``) and exact pauses (seconds, ``float``), in order.

    ``"Breathe in [4s] and out [6s]"`` is ``("Breathe in", 4.0, "and out", 6.0)``. Only a duration
    in brackets is a pause; other bracketed text stays part of the phrase (the loader refuses it in
    what authors write, so it only comes from filled-in names).
    """
    parts: list[str | float] = []
    start = 0
    for match in _BRACKETS.finditer(text):
        seconds = parse_duration(match.group(1))
        if seconds is None or seconds <= 0:
            continue
        _add_phrase(parts, text[start:match.start()])
        parts.append(seconds)
        start = match.end()
    _add_phrase(parts, text[start:])
    return tuple(parts)


def _add_phrase(parts: list[str | float], phrase: str) -> None:
    """Add ``phrase`` to ``parts``; punctuation right after a pause ends the phrase before it
    (``out [6s]. Once more`` is ``out.``, 6 s, ``Once more``)."""
    phrase = " ".join(phrase.split())
    stripped = phrase.lstrip(_CLOSING_PUNCTUATION).lstrip()
    if stripped != phrase:
        before = next((i for i in range(len(parts) - 1, -1, -1) if isinstance(parts[i], str)), None)
        if before is not None:
            parts[before] = f"{parts[before]}{phrase[: len(phrase) - len(stripped)].strip()}"
        phrase = stripped
    if phrase:
        parts.append(phrase)


_CLOSING_PUNCTUATION = ".,;:!?"


def phrases(text: str) -> list[str]:
    """The spoken phrases of ``text``, without its pauses."""
    return [part for part in split_pauses(text) if isinstance(part, str)]


# --- Checking and filling in ------------------------------------------------------------------


def problems(text: str) -> list[str]:
    """What is wrong with the names and pauses in ``text`` (each a message), before filling in."""
    found = []
    plain = text.replace("{{", "").replace("}}", "")
    for match in _NAME.finditer(plain):
        name = match.group(1).strip()
        if name not in NAMES:
            found.append(_unknown_name(match.group(0), name))
    rest = _NAME.sub("", plain)
    if "{" in rest:
        found.append("'{' without a matching '}' in the text; write {{ for a brace itself")
    elif "}" in rest:
        found.append("'}' without a matching '{' in the text; write }} for a brace itself")
    for match in _BRACKETS.finditer(text):
        seconds = parse_duration(match.group(1))
        if seconds is None:
            found.append(f"'{match.group(0)}' is not a pause; write a duration in brackets, such as [4s]")
        elif seconds <= 0:
            found.append(f"the pause '{match.group(0)}' must be more than 0 seconds")
    unbracketed = _BRACKETS.sub("", text)
    if "[" in unbracketed or "]" in unbracketed:
        found.append("a bracket without its partner in the text; a pause is a duration in brackets, such as [4s]")
    return found


def _unknown_name(written: str, name: str) -> str:
    close = difflib.get_close_matches(name, list(NAMES), n=1, cutoff=0.6)
    hint = f"; did you mean '{{{close[0]}}}'?" if close else ""
    return f"unknown name '{written}' in the text; names are: {', '.join(NAMES)}{hint}"


def names_in(text: str) -> list[str]:
    """The names ``text`` uses, in order of first use (``text`` has no ``problems``)."""
    plain = text.replace("{{", "").replace("}}", "")
    return list(dict.fromkeys(match.group(1).strip() for match in _NAME.finditer(plain)))


def fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each ``{name}`` replaced by ``values[name]`` and ``{{``/``}}`` by braces."""
    pieces = re.split(r"(\{\{|\}\}|\{[^{}]*\})", text)
    out = []
    for piece in pieces:
        if piece == "{{":
            out.append("{")
        elif piece == "}}":
            out.append("}")
        elif piece.startswith("{") and piece.endswith("}") and len(piece) > 1:
            out.append(values[piece[1:-1].strip()])
        else:
            out.append(piece)
    return "".join(out)
