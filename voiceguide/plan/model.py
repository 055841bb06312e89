"""What a plan is: events on the session's one sample clock, the planned steps that hold them, how
each step's narration fit, and the whole plan. ``timeline.plan`` makes them; everything after the
plan (``check``'s report, the mix, the tags and captions, the library) reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from voiceguide.core.audio import RATE, samples_to_ms
from voiceguide.core.errors import Where

CUES = {
    None: "narration",
    "switch": "switch cue",
    "countdown": "countdown",
    "last": "last-strokes cue",
    "halfway": "halfway cue",
    "time_left": "time-left callout",
    "closing": "closing cue",
    "breath": "breath word",
}
"""The ``cue`` of each speech event, as messages name it (``None``: the step's own narration)."""


@dataclass(frozen=True)
class Event:
    """Something that happens at a time.

    Kinds: ``speech`` (with its ``text``; ``cue`` says which cue it is, if any, and ``speed`` how
    much faster it is spoken, if it is), ``pause`` (an exact pause inside narration), ``tick`` (one
    stroke, lasting until the next), ``chime`` (a new step; lasts its lead-in), ``switch`` (a later
    side begins), ``inhale``, ``hold``, ``exhale``, ``countdown`` (one count, lasting until the
    next), ``pulse`` (a quiet sign of time passing in a long hold, lasting until the next),
    ``halfway``, ``end`` (a step's end) and ``finish`` (the session's end). Events of a step
    with sides or in a repeat carry its ``side`` and ``round``; a ``hold`` whose breath tone holds
    still carries ``tone="steady"``.
    """

    kind: str
    start: int
    end: int
    text: str | None = None
    cue: str | None = None
    side: str | None = None
    round: int | None = None
    speed: float | None = None
    tone: str | None = None

    def to_json(self) -> dict:
        out = {"kind": self.kind, "start_ms": samples_to_ms(self.start), "end_ms": samples_to_ms(self.end)}
        for name in ("text", "cue", "side", "round", "speed", "tone"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class Fit:
    """How a step's narration met the room the step leaves it."""

    policy: str
    """The step's overflow policy."""
    narration: int
    """Samples of the step's narration (the switch cue, on a later side), pauses included."""
    room: int | None
    """Samples the step leaves it before its pacing's least time; ``None`` for a step that lasts
    as long as its content."""
    extended: int = 0
    """Samples the ``extend`` policy added to the step."""
    speed: float = 1.0
    """How much faster the ``speed`` policy had the narration spoken."""

    @property
    def action(self) -> str:
        """``fits``, ``extended`` or ``sped up``."""
        return "extended" if self.extended else "sped up" if self.speed > 1 else "fits"

    def to_json(self) -> dict:
        return {"policy": self.policy, "action": self.action, "extended_ms": samples_to_ms(self.extended),
                "speed": self.speed}


@dataclass(frozen=True)
class PlannedStep:
    """One step on the clock, with its events in time order.

    A step with sides is one ``PlannedStep`` per side, titled like ``Cheeks (left)``; a step in a
    repeat one per round, titled like ``Jaw circles (round 2 of 3)``. Every planned step whose
    ``kind`` is not ``pause`` is a chapter.
    """

    title: str
    kind: str
    start: int
    end: int
    events: tuple[Event, ...]
    where: Where
    side: str | None = None
    round: int | None = None
    fit: Fit | None = None
    zone: str | None = None
    """Where the hands go, and how (``Step.zone``, ``Step.stroke``), for the chapter's picture."""
    stroke: str | None = None
    image: str | None = None
    """The author's own picture for the chapter (``Step.image``)."""

    def to_json(self) -> dict:
        out = {"title": self.title, "kind": self.kind, "start_ms": samples_to_ms(self.start),
               "end_ms": samples_to_ms(self.end), "events": [e.to_json() for e in self.events]}
        if self.side is not None:
            out["side"] = self.side
        if self.round is not None:
            out["round"] = self.round
        if self.zone is not None:
            out["zone"] = self.zone
            out["stroke"] = self.stroke
        if self.fit is not None and self.fit.action != "fits":
            out["overflow"] = self.fit.to_json()
        return out


@dataclass(frozen=True)
class Plan:
    """The whole session's timeline."""

    routine_id: str
    title: str
    length: int
    steps: tuple[PlannedStep, ...]
    engine: str = ""
    """The engine that speaks the narration."""
    voice: str | None = None
    """Its voice (``None``: the engine's default)."""

    def events(self) -> Iterator[Event]:
        for step in self.steps:
            yield from step.events

    def speech(self) -> list[Event]:
        return [e for e in self.events() if e.kind == "speech"]

    def to_json(self) -> dict:
        return {"id": self.routine_id, "title": self.title, "engine": self.engine, "voice": self.voice,
                "sample_rate": RATE,
                "duration_ms": samples_to_ms(self.length), "steps": [s.to_json() for s in self.steps]}
