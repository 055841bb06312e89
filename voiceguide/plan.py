"""The planner: a routine and the measured length of each narration -> every event on one clock.

Pure: no audio, no I/O. Times are whole samples from the session's start (``audio.RATE`` a
second), computed from the step's start each time, never by adding up rounded lengths, so nothing
drifts: a 30 s step starts exactly 30 s after the one before it, whatever its narration did.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .audio import RATE, samples_to_ms, seconds_to_samples
from .errors import PlanError, Problem, Where
from .model import Routine, Step
from .script import MIN_STROKE_INTERVAL

AUTO_TAIL = 1.5
"""Seconds a step without a set duration lasts after its words (the last step: the bed's fade-out)."""


@dataclass(frozen=True)
class Event:
    """Something that happens at a time: ``speech`` (with its ``text``), ``tick`` (one stroke, lasting
    until the next), ``chime`` (a new step; lasts its lead-in), ``inhale``, ``hold``, ``exhale``."""

    kind: str
    start: int
    end: int
    text: str | None = None

    def to_json(self) -> dict:
        out = {"kind": self.kind, "start_ms": samples_to_ms(self.start), "end_ms": samples_to_ms(self.end)}
        if self.text is not None:
            out["text"] = self.text
        return out


@dataclass(frozen=True)
class PlannedStep:
    """One step on the clock, with its events in time order."""

    title: str
    kind: str
    start: int
    end: int
    events: tuple[Event, ...]
    where: Where

    def to_json(self) -> dict:
        return {"title": self.title, "kind": self.kind, "start_ms": samples_to_ms(self.start),
                "end_ms": samples_to_ms(self.end), "events": [e.to_json() for e in self.events]}


@dataclass(frozen=True)
class Plan:
    """The whole session's timeline."""

    routine_id: str
    title: str
    length: int
    steps: tuple[PlannedStep, ...]

    def events(self) -> Iterator[Event]:
        for step in self.steps:
            yield from step.events

    def speech(self) -> list[Event]:
        return [e for e in self.events() if e.kind == "speech"]

    def to_json(self) -> dict:
        return {"id": self.routine_id, "title": self.title, "sample_rate": RATE,
                "duration_ms": samples_to_ms(self.length), "steps": [s.to_json() for s in self.steps]}


def plan(routine: Routine, speech_lengths: Mapping[str, int]) -> Plan:
    """Lay out ``routine``; ``speech_lengths`` maps each narration text to its length in samples.

    Raises ``PlanError`` naming every step whose narration or pacing does not fit.
    """
    timing = routine.timing
    lead, settle = seconds_to_samples(timing.lead_in), seconds_to_samples(timing.settle)
    last_tail = max(AUTO_TAIL, routine.background.fade_out)
    steps: list[PlannedStep] = []
    problems: list[Problem] = []
    cursor = 0
    for index, step in enumerate(routine.steps):
        is_last = index == len(routine.steps) - 1
        tail = seconds_to_samples(last_tail if is_last else AUTO_TAIL)
        chime = index > 0 and step.kind == "step"
        planned, problem = _plan_step(step, cursor, lead, settle, tail, chime, speech_lengths)
        if problem:
            problems.append(Problem(step.where, problem))
        steps.append(planned)
        cursor = planned.end
    if problems:
        raise PlanError(problems)
    return Plan(routine.id, routine.title, cursor, tuple(steps))


def _plan_step(step: Step, t0: int, lead: int, settle: int, tail: int, chime: bool,
               speech_lengths: Mapping[str, int]) -> tuple[PlannedStep, str]:
    """One step starting at ``t0``: its planned form, and a problem (``""`` when it fits)."""
    events: list[Event] = []
    if step.kind == "pause":
        end = t0 + seconds_to_samples(step.duration)
        return PlannedStep(step.title, step.kind, t0, end, (), step.where), ""

    pacing_start = t0 + lead
    if step.say:
        speech_end = t0 + lead + speech_lengths[step.say]
        events.append(Event("speech", t0 + lead, speech_end, step.say))
        pacing_start = speech_end + settle

    if step.duration is not None:
        end = t0 + seconds_to_samples(step.duration)
    elif step.breath is not None:
        end = pacing_start + seconds_to_samples(step.breath.period * step.breath.cycles)
    else:
        end = (events[-1].end if events else t0 + lead) + tail

    problem = ""
    if events and events[-1].end > end:
        problem = _overflow(step, speech_lengths[step.say], lead)
    elif step.strokes or step.stroke_every:
        ticks, problem = _strokes(step, pacing_start, end)
        events += ticks
    elif step.breath is not None:
        phases, problem = _breaths(step, pacing_start, end)
        events += phases
    if chime:
        events.insert(0, Event("chime", t0, min(end, t0 + lead)))
    return PlannedStep(step.title, step.kind, t0, end, tuple(events), step.where), problem


def _overflow(step: Step, speech: int, lead: int) -> str:
    room = seconds_to_samples(step.duration) - lead
    return (f"the narration of step '{step.title}' takes {_s(speech)} but the step leaves "
            f"{_s(room)} for it ({_s(lead + room)} step, {_s(lead)} lead-in)")


def _strokes(step: Step, start: int, end: int) -> tuple[list[Event], str]:
    """Ticks from ``start`` to ``end``: ``strokes`` evenly spread, or one every ``stroke_every``."""
    room = end - start
    if step.strokes:
        count = step.strokes
        if room < count * seconds_to_samples(MIN_STROKE_INTERVAL):
            return [], (f"{count} strokes need at least {_s(count * seconds_to_samples(MIN_STROKE_INTERVAL))} "
                        f"after the narration of step '{step.title}', but only {_s(max(room, 0))} remain")
        times = [start + (i * room) // count for i in range(count + 1)]
    else:
        every = seconds_to_samples(step.stroke_every)
        count = max(room, 0) // every
        if count == 0:
            return [], (f"no room for a stroke every {_s(every)} after the narration of step "
                        f"'{step.title}': only {_s(max(room, 0))} remain")
        times = [start + i * every for i in range(count + 1)]
    return [Event("tick", a, b) for a, b in zip(times, times[1:])], ""


def _breaths(step: Step, start: int, end: int) -> tuple[list[Event], str]:
    """Inhale, hold, exhale (and hold) phases, each placed from the cycle's exact offset."""
    breath = step.breath
    room = end - start
    cycles = breath.cycles or room // seconds_to_samples(breath.period)
    if cycles < 1 or start + seconds_to_samples(breath.period * cycles) > end:
        need = f"{breath.cycles} breath cycles" if breath.cycles else "one breath cycle"
        return [], (f"{need} of {_s(seconds_to_samples(breath.period))} do not fit after the narration "
                    f"of step '{step.title}': only {_s(max(room, 0))} remain")
    phases = [("inhale", breath.inhale), ("hold", breath.hold), ("exhale", breath.exhale),
              ("hold", breath.hold_out)]
    events = []
    offset = 0.0
    for _ in range(cycles):
        for kind, seconds in phases:
            if seconds > 0:
                a, b = start + seconds_to_samples(offset), start + seconds_to_samples(offset + seconds)
                events.append(Event(kind, a, b))
                offset += seconds
    return events, ""


def _s(samples: int) -> str:
    """Samples as seconds for a message: ``12.3 s``."""
    return f"{samples / RATE:.1f} s"
