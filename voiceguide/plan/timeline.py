"""The planner: a routine and the measured length of each narration -> every event on one clock.

Pure: no audio, no I/O. Times are whole samples from the session's start (``audio.RATE`` a
second), computed from the step's start each time, never by adding up rounded lengths, so nothing
drifts: a 30 s step starts exactly 30 s after the one before it, whatever its narration did.

A step's part of the clock, in order: its opening sound (the chime, or on a later side the switch
sound), after ``timing.lead_in`` its narration (phrases with exact pauses between them), then
``timing.settle`` (on a later side, the switch pause), then its pacing (strokes or breaths) to the
pacing's end, then its closing words, which end with the step. Cues (countdown, halfway, time left)
sit inside the pacing. A step without strokes or breaths that holds still for more than
``LONG_HOLD`` gets quiet pulses through the hold.

The sides of a step share one layout (``side_layouts``): each side's pacing starts as far into the
side as the longest of their narrations needs, so every side keeps the same stroke interval.

Narration that does not fit follows the step's overflow policy: ``error`` reports it, ``extend``
makes the step longer, ``speed`` needs the narration spoken faster: ``speedups`` says how much
faster, and the caller (``render.plan_routine``) speaks it again and plans with the new lengths.

What the planner makes (``Plan``, ``PlannedStep``, ``Event``, ``Fit``, ``CUES``) is defined in
``plan.model``; those names can be imported from here too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise

from voiceguide.core.audio import RATE, seconds_to_samples
from voiceguide.core.errors import PlanError, Problem
from voiceguide.plan.model import CUES, Event, Fit, Plan, PlannedStep
from voiceguide.script.model import LONG_HOLD, Breath, BreathWords, Countdown, Routine, Step
from voiceguide.script.text import split_pauses
from voiceguide.script.words import Words, words_for

AUTO_TAIL = 1.5
"""Seconds a step without a set duration lasts after its words (the last step: the bed's fade-out)."""
SPEED_MARGIN = 1.02
"""``speedups`` asks for this much more speed than the lengths say is enough: engines round rates."""


def plan(routine: Routine, speech_lengths: Mapping[str, int],
         speeds: Mapping[str, float] | None = None) -> Plan:
    """Lay out ``routine``; ``speech_lengths`` maps each phrase (``Routine.texts``) to its length in
    samples, and ``speeds`` each phrase spoken faster (see ``speedups``) to how much faster.

    Raises ``PlanError`` naming every step whose narration, pacing or cues do not fit.
    """
    planner = _Planner(routine, speech_lengths, speeds or {})
    layouts = planner.side_layouts(routine.steps)
    steps: list[PlannedStep] = []
    problems: list[Problem] = []
    cursor = 0
    for index, step in enumerate(routine.steps):
        chime = index > 0 and step.kind == "step" and step.switch is None
        planned, found = planner.step(step, cursor, chime=chime, is_last=index == len(routine.steps) - 1,
                                      layout=layouts.get(index))
        problems += [Problem(step.where, message) for message in found]
        steps.append(planned)
        cursor = planned.end
    if problems:
        raise PlanError(problems)
    return Plan(routine.id, routine.title, cursor, tuple(steps), routine.voice.engine, routine.voice.voice)


def speedups(routine: Routine, speech_lengths: Mapping[str, int],
             speeds: Mapping[str, float] | None = None) -> dict[str, float]:
    """The phrases that steps with the ``speed`` policy need spoken faster than ``speeds`` has them,
    each with the factor to speak it at next (never more than its step's ``max_speed``).

    ``speech_lengths`` are the phrases' lengths at their ``speeds``. Empty when every such step fits.
    """
    planner = _Planner(routine, speech_lengths, speeds or {})
    wanted: dict[str, float] = {}
    for step in routine.steps:
        if step.kind != "step" or step.duration is None or step.overflow.policy != "speed":
            continue
        main = planner.main(step)
        room = planner.room(step, main)
        if main.length <= room or room - main.pauses <= 0:
            continue
        current = planner.speed_of(main)
        need = math.ceil(current * main.speech / (room - main.pauses) * SPEED_MARGIN * 100) / 100
        need = min(need, step.overflow.max_speed)
        for phrase in main.phrases:
            wanted[phrase] = max(wanted.get(phrase, 1.0), need)
    return {phrase: factor for phrase, factor in wanted.items() if factor > planner.speeds.get(phrase, 1.0)}


def display_title(step: Step, words: Words | None = None) -> str:
    """A step's title with its side and round, in ``words``' language (default English):
    ``Cheeks (left, round 2 of 3)``."""
    if step.kind == "pause":
        return step.title
    return (words or words_for("en")).chapter_title(step.title, step.side, step.round, step.rounds)


@dataclass(frozen=True)
class _Layout:
    """What the sides of one step share, so that every side has the same pacing: when the pacing
    starts, counted from the side's start, and how much the overflow policy ``extend`` grew each side."""

    offset: int
    extended: int = 0


@dataclass(frozen=True)
class _Spoken:
    """A text as it will sound: its phrases and exact pauses, each with its length in samples."""

    parts: tuple[tuple[str | None, int], ...] = ()
    """``(phrase, samples)``, or ``(None, samples)`` for a pause."""

    def __bool__(self) -> bool:
        return bool(self.parts)

    @property
    def length(self) -> int:
        return sum(samples for _, samples in self.parts)

    @property
    def pauses(self) -> int:
        return sum(samples for phrase, samples in self.parts if phrase is None)

    @property
    def speech(self) -> int:
        return self.length - self.pauses

    @property
    def phrases(self) -> list[str]:
        return [phrase for phrase, _ in self.parts if phrase is not None]

    def place(self, at: int, cue: str | None, speeds: Mapping[str, float]) -> list[Event]:
        """Speech and pause events from ``at`` on, each phrase right after the one before."""
        events = []
        for phrase, samples in self.parts:
            if phrase is None:
                events.append(Event("pause", at, at + samples))
            else:
                events.append(Event("speech", at, at + samples, phrase, cue=cue, speed=speeds.get(phrase)))
            at += samples
        return events


class _Planner:
    """One routine's clock: its timing in samples, its phrase lengths, and the steps laid on it."""

    def __init__(self, routine: Routine, speech_lengths: Mapping[str, int], speeds: Mapping[str, float]):
        timing = routine.timing
        self.lead, self.settle = seconds_to_samples(timing.lead_in), seconds_to_samples(timing.settle)
        self.min_stroke = seconds_to_samples(timing.min_stroke)
        self.pulse_every = seconds_to_samples(timing.pulse)
        self.tail = seconds_to_samples(AUTO_TAIL)
        self.last_tail = seconds_to_samples(max(AUTO_TAIL, routine.background.fade_out))
        self.sounds = routine.sounds
        self.words = routine.words
        self.lengths = speech_lengths
        self.speeds = {phrase: factor for phrase, factor in speeds.items() if factor != 1.0}

    # --- Texts --------------------------------------------------------------------------------

    def spoken(self, text: str | None) -> _Spoken:
        if not text:
            return _Spoken()
        return _Spoken(tuple((None, seconds_to_samples(part)) if isinstance(part, float) else (part, self.lengths[part])
                             for part in split_pauses(text)))

    def main(self, step: Step) -> _Spoken:
        """The step's narration: its ``say``, or on a later side its switch cue."""
        return self.spoken(step.switch.say if step.switch is not None else step.say)

    def speed_of(self, spoken: _Spoken) -> float:
        return max((self.speeds.get(phrase, 1.0) for phrase in spoken.phrases), default=1.0)

    def floor(self, step: Step) -> int:
        """The least time the step's pacing needs."""
        if step.strokes:
            return step.strokes * self.min_stroke
        if step.stroke_every is not None:
            return seconds_to_samples(step.stroke_every)
        if step.breath is not None:
            return seconds_to_samples(step.breath.period * (step.breath.cycles or 1))
        return 0

    def gap(self, step: Step) -> int:
        """The time between the narration and the pacing."""
        return seconds_to_samples(step.switch.pause) if step.switch is not None else self.settle

    def closing_room(self, step: Step) -> int:
        closing = self.spoken(step.closing)
        return closing.length + self.settle if closing else 0

    def room(self, step: Step, main: _Spoken) -> int:
        """The time a step with a duration leaves its narration (before the pacing's least time)."""
        assert step.duration is not None
        reserve = 0
        if step.strokes or step.stroke_every or step.breath is not None:
            reserve = self.floor(step) + (self.gap(step) if main or step.switch is not None else 0)
        return seconds_to_samples(step.duration) - self.lead - reserve - self.closing_room(step)

    def lead_to_pacing(self, step: Step) -> int:
        """Samples from the step's start to its pacing, when nothing else holds the pacing back:
        the lead-in, the narration (or switch cue) and the settle (or switch pause)."""
        main = self.main(step)
        return self.lead + (main.length + self.gap(step) if main or step.switch is not None else 0)

    def side_layouts(self, steps: tuple[Step, ...]) -> dict[int, _Layout]:
        """The shared layout of each step with sides, by the index of each of its sides in ``steps``.

        Every side's pacing starts as far into the side as the longest lead-in, narration and
        pause of any side needs (the first side's ``say`` and settle, or a later side's switch cue
        and switch pause), so every side has the same pacing, and the same length. Narration that
        leaves a side's pacing less than its least time is that side's to report; with ``extend``,
        every side grows by as much as the side that runs longest over."""
        layouts: dict[int, _Layout] = {}
        index = 0
        while index < len(steps):
            group = [index]
            if steps[index].side is not None and steps[index].switch is None:
                while group[-1] + 1 < len(steps) and steps[group[-1] + 1].switch is not None:
                    group.append(group[-1] + 1)
            index = group[-1] + 1
            if len(group) < 2:
                continue
            sides = [steps[i] for i in group]
            offset = max(self.lead_to_pacing(side) for side in sides)
            extended = 0
            first = sides[0]
            if first.duration is not None:
                overs = [self.main(side).length - self.room(side, self.main(side)) for side in sides]
                if first.overflow.policy == "extend":
                    extended = max(0, *overs)
                latest = seconds_to_samples(first.duration) + extended - self.floor(first) - self.closing_room(first)
                offset = min(offset, max(latest, self.lead))
            layouts.update((i, _Layout(offset, extended)) for i in group)
        return layouts

    # --- Steps --------------------------------------------------------------------------------

    def step(self, step: Step, t0: int, *, chime: bool, is_last: bool,
             layout: _Layout | None = None) -> tuple[PlannedStep, list[str]]:
        """One step starting at ``t0``: its planned form, and its problems. ``layout`` is what the
        step shares with its other sides (``side_layouts``)."""
        if step.kind == "pause":
            end = t0 + seconds_to_samples(step.duration)
            return PlannedStep(step.title, step.kind, t0, end, (), step.where, step.side, step.round), []  # a pause
        title = display_title(step, self.words)
        later_side = step.switch is not None
        main = self.main(step)
        closing = self.spoken(step.closing)
        closing_room = self.closing_room(step)
        words_start = t0 + self.lead
        words_end = words_start + main.length
        pacing_start = t0 + self.lead_to_pacing(step)
        if layout is not None:
            pacing_start = max(pacing_start, t0 + layout.offset)
        problems: list[str] = []
        fit = Fit(step.overflow.policy, main.length, None, speed=self.speed_of(main))

        if step.duration is not None:
            end = t0 + seconds_to_samples(step.duration)
            room = self.room(step, main)
            fit = replace(fit, room=room)
            if step.overflow.policy == "extend":
                extended = layout.extended if layout is not None else max(0, main.length - room)
                end += extended
                fit = replace(fit, extended=extended)
            elif main.length > room and step.overflow.policy == "speed":
                problems.append(self.too_fast(step, title, main, room, fit.speed))
            elif main.length > room and words_end > end - closing_room:
                problems.append(self.overflow(step, title, main, closing_room))
            # otherwise the pacing finds too little room after the words, and says so
            pacing_end = end - closing_room
            closing_start = pacing_end + self.settle
        elif step.breath is not None:
            pacing_end = pacing_start + seconds_to_samples(step.breath.period * step.breath.cycles)
            closing_start = pacing_end + self.settle
            end = pacing_end + closing_room
        else:
            content_end = max(words_end, words_start)
            closing_start = content_end + self.settle
            end = content_end + closing_room + (self.last_tail if is_last else self.tail)
            pacing_end = end - closing_room

        events: list[Event] = []
        if chime or later_side:
            events.append(Event("switch" if later_side else "chime", t0, min(end, t0 + self.lead)))
        events += main.place(words_start, "switch" if later_side else None, self.speeds)
        if not problems:
            events += self.pacing(step, title, words_end, pacing_start, pacing_end, problems)
            events += self.pulses(step, words_end if main else t0, pacing_start, pacing_end)
            events += self.callouts(step, title, words_end, end, problems)
            events += closing.place(closing_start, "closing", self.speeds)
        if "end" in self.sounds and not is_last:
            events.append(Event("end", end, end))
        if "finish" in self.sounds and is_last:
            last = max((e.end for e in events if e.kind not in ("chime", "switch")), default=words_start)
            events.append(Event("finish", min(end, last + self.settle), min(end, last + self.settle)))
        events.sort(key=lambda e: e.start)
        problems += _overlaps(title, events)
        if step.side is not None or step.round is not None:
            events = [replace(e, side=step.side, round=step.round) for e in events]
        planned = PlannedStep(title, step.kind, t0, end, tuple(events), step.where, step.side, step.round, fit,
                              step.zone, step.stroke, step.image)
        return planned, problems

    def overflow(self, step: Step, title: str, main: _Spoken, closing_room: int) -> str:
        room = seconds_to_samples(step.duration) - self.lead - closing_room
        parts = f"{_s(self.lead + room + closing_room)} step, {_s(self.lead)} lead-in"
        if closing_room:
            parts += f", {_s(closing_room)} closing cue"
        return (f"the narration of step '{title}' takes {_s(main.length)} but the step leaves {_s(room)} "
                f"for it ({parts})")

    def too_fast(self, step: Step, title: str, main: _Spoken, room: int, speed: float) -> str:
        start = f"the narration of step '{title}' takes {_s(main.length)} but the step leaves {_s(max(room, 0))} for it"
        if room - main.pauses <= 0:
            return f"{start}, and its pauses alone take {_s(main.pauses)}: no speed makes it fit"
        need = speed * main.speech / (room - main.pauses)
        if need > step.overflow.max_speed:
            return (f"{start}: it would have to be spoken {need:.2f}x as fast, more than its "
                    f"max_speed of {step.overflow.max_speed:g}x")
        if speed == 1.0:
            return f"{start}: it needs to be spoken {need:.2f}x as fast"
        return f"{start}, even spoken {speed:.2f}x as fast"

    # --- Pacing and cues ----------------------------------------------------------------------

    def pacing(self, step: Step, title: str, words_end: int, start: int, end: int,
               problems: list[str]) -> list[Event]:
        """The strokes or breaths from ``start`` to ``end``, with the countdown and halfway cues."""
        events: list[Event] = []
        halfway = None
        if step.strokes or step.stroke_every:
            ticks, problem = _strokes(step, title, start, end, self.min_stroke)
            if problem:
                problems.append(problem)
                return []
            if len(ticks) >= 2:
                halfway = ticks[len(ticks) // 2].start
            events += self.stroke_countdown(step, title, ticks, problems)
            if step.last is not None:
                events += self.last(step, title, ticks, end, problems)
        elif step.breath is not None:
            phases, cycle_starts, problem = _breaths(step.breath, title, start, end)
            if problem:
                problems.append(problem)
                return []
            if len(cycle_starts) >= 2:
                halfway = cycle_starts[len(cycle_starts) // 2]
            events += phases
            if step.breath.words is not None:
                events += self.breath_words(step.breath.words, title, phases, problems)
        if halfway is None:
            halfway = (start + end) // 2
        if step.countdown is not None and step.countdown.unit == "seconds":
            events += self.seconds_countdown(step.countdown, title, words_end, end, problems)
        if step.halfway:
            events += self.halfway(step.halfway, title, halfway, end, problems)
        return events

    def pulses(self, step: Step, quiet_from: int, start: int, end: int) -> list[Event]:
        """In a step without strokes or breaths whose hold (from ``start`` to ``end``, or to its
        countdown over seconds) would leave it quiet for more than ``LONG_HOLD`` from ``quiet_from``
        (the end of its words, or its start): quiet pulses evenly spread through the hold, about
        ``timing.pulse`` apart, the first at its start, so a listener hears time pass. Each lasts
        until the next. None where the routine has no pulse sound."""
        if step.strokes or step.stroke_every is not None or step.breath is not None or "pulse" not in self.sounds:
            return []
        if step.countdown is not None and step.countdown.unit == "seconds":
            end -= step.countdown.count * RATE
        if end - quiet_from <= seconds_to_samples(LONG_HOLD) or end <= start:
            return []
        count = max(1, (end - start) // self.pulse_every)
        times = [start + (i * (end - start)) // count for i in range(count + 1)]
        return [Event("pulse", a, b) for a, b in pairwise(times)]

    def stroke_countdown(self, step: Step, title: str, ticks: list[Event], problems: list[str]) -> list[Event]:
        """The ticks, the last of them counted down: spoken over their ticks, or with the countdown
        sound in place of the tick."""
        countdown = step.countdown
        if countdown is None or countdown.unit != "strokes":
            return ticks
        n = countdown.count
        if n > len(ticks):
            problems.append(f"the countdown over the last {n} strokes of step '{title}' needs {n} strokes, "
                            f"but only {len(ticks)} fit")
            return ticks
        counted = []
        for i, tick in enumerate(ticks[len(ticks) - n:]):
            if countdown.words:
                counted.append(tick)
            counted += self.count(countdown.words[i] if countdown.words else None, tick.start, tick.end,
                                  title, problems)
        return ticks[: len(ticks) - n] + counted

    def last(self, step: Step, title: str, ticks: list[Event], end: int, problems: list[str]) -> list[Event]:
        """The "last three" cue, over the tick of the stroke with ``step.last.strokes`` strokes left."""
        cue = step.last
        if cue.strokes > len(ticks):
            strokes = "1 stroke" if cue.strokes == 1 else f"{cue.strokes} strokes"
            problems.append(f"the cue '{cue.say}' of step '{title}' is spoken with {strokes} left, "
                            f"but only {len(ticks)} fit")
            return []
        at = ticks[len(ticks) - cue.strokes].start
        spoken = self.spoken(cue.say)
        if at + spoken.length > end:
            problems.append(f"the cue '{cue.say}' of step '{title}' takes {_s(spoken.length)}, "
                            f"more than the {_s(end - at)} from its stroke to the end of the pacing")
        return spoken.place(at, "last", self.speeds)

    def seconds_countdown(self, countdown: Countdown, title: str, words_end: int, end: int,
                          problems: list[str]) -> list[Event]:
        first = end - countdown.count * RATE
        if first < words_end:
            problems.append(f"the {countdown.count} s countdown of step '{title}' does not fit after its "
                            f"narration: only {_s(max(end - words_end, 0))} remain")
            return []
        events = []
        for i in range(countdown.count):
            at = first + i * RATE
            events += self.count(countdown.words[i] if countdown.words else None, at, at + RATE, title, problems)
        return events

    def count(self, word: str | None, start: int, end: int, title: str, problems: list[str]) -> list[Event]:
        """One count of a countdown, from ``start`` to ``end``: the word spoken, or the sound."""
        if word is None:
            return [Event("countdown", start, end)]
        spoken = self.spoken(word)
        if spoken.length > end - start:
            problems.append(f"the countdown word '{word}' of step '{title}' takes {_s(spoken.length)}, "
                            f"longer than the {_s(end - start)} between counts")
        return spoken.place(start, "countdown", self.speeds)

    def breath_words(self, words: BreathWords, title: str, phases: list[Event],
                     problems: list[str]) -> list[Event]:
        events = []
        by_phase = {"inhale": words.inhale, "hold": words.hold, "exhale": words.exhale, "hold_out": words.hold_out}
        cycle = 0
        for i, phase in enumerate(phases):
            name = "hold_out" if phase.kind == "hold" and i > 0 and phases[i - 1].kind == "exhale" else phase.kind
            if phase.kind == "inhale" and i > 0:
                cycle += 1
            word = by_phase[name]
            if not word or (words.cycles is not None and cycle >= words.cycles):
                continue
            spoken = self.spoken(word)
            if spoken.length > phase.end - phase.start:
                what = "hold after the exhale" if name == "hold_out" else name
                problems.append(f"the breath word '{word}' of step '{title}' takes {_s(spoken.length)}, "
                                f"longer than the {_s(phase.end - phase.start)} {what}")
            events += spoken.place(phase.start, "breath", self.speeds)
        return events

    def halfway(self, cue: str | bool, title: str, at: int, end: int, problems: list[str]) -> list[Event]:
        if not isinstance(cue, str):
            return [Event("halfway", at, at)]
        spoken = self.spoken(cue)
        if at + spoken.length > end:
            problems.append(f"the halfway cue '{cue}' of step '{title}' runs past the end of its pacing")
        return spoken.place(at, "halfway", self.speeds)

    def callouts(self, step: Step, title: str, words_end: int, end: int, problems: list[str]) -> list[Event]:
        events = []
        for callout in step.callouts:
            at = end - seconds_to_samples(callout.before_end)
            spoken = self.spoken(callout.say)
            if at < words_end:
                problems.append(f"the time-left callout '{callout.say}' of step '{title}' would start "
                                f"before its narration ends")
                continue
            if at + spoken.length > end:
                problems.append(f"the time-left callout '{callout.say}' of step '{title}' takes "
                                f"{_s(spoken.length)}, more than the {_s(end - at)} left")
            events += spoken.place(at, "time_left", self.speeds)
        return events


def _strokes(step: Step, title: str, start: int, end: int, min_stroke: int) -> tuple[list[Event], str]:
    """Ticks from ``start`` to ``end``: ``strokes`` evenly spread, or one every ``stroke_every``."""
    room = end - start
    if step.strokes:
        count = step.strokes
        if room < count * min_stroke:
            return [], (f"{count} strokes need at least {_s(count * min_stroke)} "
                        f"after the narration of step '{title}', but only {_s(max(room, 0))} remain")
        times = [start + (i * room) // count for i in range(count + 1)]
    else:
        every = seconds_to_samples(step.stroke_every)
        count = max(room, 0) // every
        if count == 0:
            return [], (f"no room for a stroke every {_s(every)} after the narration of step "
                        f"'{title}': only {_s(max(room, 0))} remain")
        times = [start + i * every for i in range(count + 1)]
    return [Event("tick", a, b) for a, b in pairwise(times)], ""


def _breaths(breath: Breath, title: str, start: int, end: int) -> tuple[list[Event], list[int], str]:
    """Inhale, hold, exhale (and hold) phases, each placed from the cycle's exact offset; and
    where each cycle starts."""
    room = end - start
    cycles = breath.cycles or room // seconds_to_samples(breath.period)
    if cycles < 1 or start + seconds_to_samples(breath.period * cycles) > end:
        need = f"{breath.cycles} breath cycles" if breath.cycles else "one breath cycle"
        return [], [], (f"{need} of {_s(seconds_to_samples(breath.period))} do not fit after the narration "
                        f"of step '{title}': only {_s(max(room, 0))} remain")
    phases = [("inhale", breath.inhale), ("hold", breath.hold), ("exhale", breath.exhale),
              ("hold", breath.hold_out)]
    events, cycle_starts = [], []
    offset = 0.0
    for _ in range(cycles):
        cycle_starts.append(start + seconds_to_samples(offset))
        for kind, seconds in phases:
            if seconds > 0:
                a, b = start + seconds_to_samples(offset), start + seconds_to_samples(offset + seconds)
                steady = kind == "hold" and breath.hold_tone == "steady"
                events.append(Event(kind, a, b, tone="steady" if steady else None))
                offset += seconds
    return events, cycle_starts, ""


def _overlaps(title: str, events: list[Event]) -> list[str]:
    """A problem for each spoken cue that starts before the words before it end."""
    problems = []
    before = None
    for event in (e for e in events if e.kind == "speech"):
        if before is not None and event.start < before.end:
            problems.append(f"in step '{title}', the {CUES[event.cue]} {_quoted(event.text)} starts before "
                            f"the {CUES[before.cue]} {_quoted(before.text)} ends")
        if before is None or event.end > before.end:
            before = event
    return problems


def _quoted(text: str) -> str:
    return f"'{text}'" if len(text) <= 40 else f"'{text[:37]}...'"


def _s(samples: int) -> str:
    """Samples as seconds for a message: ``12.3 s``."""
    return f"{samples / RATE:.1f} s"
