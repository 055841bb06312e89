"""What the format loads that is not a model value yet, carrying what ``unroll.py`` needs to finish
it: a ``Repeat`` or an ``Include`` to unroll, breath words, switch, countdown and time-left callouts
whose texts still hold names (``{side}``, ``{remaining}``) to fill in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from voiceguide.core.errors import Where
from voiceguide.script.kinds import Phrase
from voiceguide.script.model import Breath
from voiceguide.script.shapes import Loaded


@dataclass(frozen=True)
class Repeat:
    """``repeat: N`` with its ``steps``: the items, loaded, to be unrolled ``count`` times."""

    count: int
    items: tuple[Any, ...]
    where: Where


@dataclass(frozen=True)
class Include:
    """``include: NAME``: the snippet's items, loaded from its own file, and the step fields
    written beside ``include`` (which a one-step snippet takes in place of its own)."""

    name: str
    items: tuple[Any, ...]
    where: Where
    overrides: Loaded


@dataclass(frozen=True)
class Words:
    """Breath words as written: a phrase for each phase that has one."""

    phrases: dict[str, Phrase]
    cycles: int | None


@dataclass(frozen=True)
class BreathSpec:
    """A breath pacing: the ``Breath`` without its words, and the words still to fill in."""

    breath: Breath
    words: Words | None


@dataclass(frozen=True)
class SwitchSpec:
    """``switch``: ``say`` is a phrase, ``False`` (no words), or ``None`` (the default words)."""

    say: Phrase | bool | None
    pause: float | None


@dataclass(frozen=True)
class CountdownSpec:
    count: int
    unit: str
    say: Phrase | None
    where: Where


@dataclass(frozen=True)
class LastSpec:
    count: int
    say: Phrase | None
    where: Where


@dataclass(frozen=True)
class TimeLeftSpec:
    at: tuple[float, ...]
    say: Phrase | None
    where: Where
