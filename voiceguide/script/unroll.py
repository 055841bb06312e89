"""From a routine's loaded items to its steps: repeats and includes unrolled, each side its own
step, names filled into texts ("{side}", "{round} of {rounds}"), and the checks that need several
fields at once (do the strokes fit after ``timing.lead_in``? does the session stay within
``MAX_SESSION_HOURS`` and ``MAX_EVENTS``?), each reported at the field it is about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from voiceguide.core.errors import Where
from voiceguide.script import text as texts
from voiceguide.script.kinds import Context, Phrase, join_path
from voiceguide.script.model import (
    CORE_SOUNDS,
    DEFAULT_SOUND_LEVELS,
    DEFAULT_SOUNDS,
    DEFAULT_STROKE,
    LONG_HOLD,
    BreathWords,
    Callout,
    Countdown,
    Last,
    Sound,
    Step,
    Switch,
    Timing,
)
from voiceguide.script.shapes import Loaded
from voiceguide.script.specs import (
    BreathSpec,
    CountdownSpec,
    Include,
    LastSpec,
    Repeat,
    SwitchSpec,
    TimeLeftSpec,
)
from voiceguide.script.text import format_seconds

MAX_STEPS = 1000
"""The most steps a routine may unroll to (every round and side counts)."""
MAX_SESSION_HOURS = 12
"""The longest a session may last, in hours (its steps' durations added up, and its plan)."""
MAX_EVENTS = 200_000
"""The most paced events (strokes, breath phases) a routine may hold."""
_TOLERANCE = 1e-9
"""Slack for float sums in the "does it fit" checks (10 strokes of 0.4 s fit in exactly 4 s)."""

@dataclass(frozen=True)
class _Round:
    """Where a step sits in a repeat: round ``number`` of ``count`` (the innermost repeat's)."""

    number: int | None = None
    count: int | None = None


@dataclass(frozen=True)
class _Unknown:
    """A name that a text may not use where it is: why, for the message."""

    reason: str


_PACING_FIELDS = ("strokes", "stroke_every", "breath")


class Unroller:
    """Turns the loaded intro, steps and outro into the routine's ``Step``s: repeats and includes
    unrolled, each side its own step, names filled into texts, and the checks that need several
    fields at once made (once per written step, reported at its fields)."""

    def __init__(self, ctx: Context, timing: Timing, routine_title: str):
        self.ctx = ctx
        self.timing = timing
        self.routine_title = routine_title

    def routine(self, doc: Loaded) -> list[Step]:
        planned = sum(_unrolled(doc.values[name]) for name in ("intro", "outro") if name in doc.values)
        planned += sum(_unrolled(item) for item in doc.values.get("steps", []))
        if planned > MAX_STEPS:  # counted before unrolling: nested repeats could make millions
            self.ctx.report(doc.places["steps"], f"the steps unroll to {planned} steps (every round and "
                                                 f"side counts); at most {MAX_STEPS} are allowed")
            return []
        steps: list[Step] = []
        if "intro" in doc.values:
            steps += self.step(doc.values["intro"], _Round())
        steps += self.items(doc.values.get("steps", []), _Round())
        if "outro" in doc.values:
            steps += self.step(doc.values["outro"], _Round())
        if len(steps) > MAX_STEPS:
            self.ctx.report(doc.places["steps"], f"the steps unroll to {len(steps)} steps (every round and "
                                                 f"side counts); at most {MAX_STEPS} are allowed")
        else:
            self.check_size(steps)
        return steps

    def check_size(self, steps: list[Step]) -> None:
        """The session's length and paced events stay within ``MAX_SESSION_HOURS`` and ``MAX_EVENTS``
        (counted before planning, which would make them all); reported at the step that passes one."""
        seconds = events = 0.0
        for step in steps:
            breath = step.breath
            cycles = breath and (breath.cycles or (step.duration or 0.0) // breath.period)
            seconds += step.duration or (self.timing.lead_in + cycles * breath.period if breath else 0.0)
            if step.strokes is not None:
                events += step.strokes
            elif step.stroke_every is not None:
                events += (step.duration or 0.0) / step.stroke_every
            elif breath is not None:
                events += 4 * cycles
            if seconds > MAX_SESSION_HOURS * 3600:
                self.ctx.report(step.where, f"the session lasts more than {MAX_SESSION_HOURS} hours by the end of "
                                            f"this step; a session may last at most {MAX_SESSION_HOURS} hours")
                return
            if events > MAX_EVENTS:
                self.ctx.report(step.where, f"the session has more than {MAX_EVENTS:,} strokes and breaths by the "
                                            f"end of this step; at most {MAX_EVENTS:,} are allowed")
                return

    def items(self, items: Iterable[Any], round_: _Round) -> list[Step]:
        steps: list[Step] = []
        for item in items:
            if isinstance(item, Step):  # a pause
                steps.append(dataclasses.replace(item, round=round_.number, rounds=round_.count))
            elif isinstance(item, Repeat):
                for number in range(1, item.count + 1):
                    steps += self.items(item.items, _Round(number, item.count))
            elif isinstance(item, Include):
                steps += self.include(item, round_)
            else:
                steps += self.step(item, round_)
        return steps

    def include(self, item: Include, round_: _Round) -> list[Step]:
        """A snippet's steps; with step fields beside ``include``, its one step with those in place."""
        overrides = item.overrides
        if not overrides.places:
            return self.items(item.items, round_)
        if len(item.items) != 1 or not isinstance(item.items[0], Loaded):
            first = next(iter(overrides.places.values()))
            held = "a pause or a repeat" if len(item.items) == 1 else f"{len(item.items)} steps"
            self.ctx.report(first, f"only a snippet of one step takes step fields beside include; "
                                   f"'{item.name}' holds {held}")
            return self.items(item.items, round_)
        base = item.items[0]
        kept = {name: value for name, value in base.values.items()
                if not (name in _PACING_FIELDS and any(p in overrides.places for p in _PACING_FIELDS))}
        places = {name: where for name, where in base.places.items() if name in kept}
        merged = Loaded(item.where, {**kept, **overrides.values}, {**places, **overrides.places})
        if "duration" not in merged.places and "breath" not in merged.places:
            where = dataclasses.replace(item.where, path=join_path(item.where.path, "duration"))
            self.ctx.report(where, "required field is missing (only breath steps may leave it out)")
        return self.step(merged, round_)

    # --- One step -----------------------------------------------------------------------------

    def step(self, loaded: Loaded, round_: _Round) -> list[Step]:
        """The step ``loaded`` as one ``Step`` per side (one, without sides)."""
        self.check(loaded)
        values = loaded.values
        if "title" not in values:
            return []  # missing or invalid, and reported
        breath_spec: BreathSpec | None = values.get("breath")
        steps = []
        for index, side in enumerate(values.get("sides") or [None]):
            names = self.names(values, side, round_)
            breath = None
            if breath_spec is not None:
                breath = dataclasses.replace(breath_spec.breath, words=self.words(breath_spec, names))
            steps.append(Step(
                title=self.title(loaded),
                where=loaded.where,
                say=self.say(values, loaded.where, names, round_) if index == 0 else None,
                duration=values.get("duration"),
                strokes=values.get("strokes"),
                stroke_every=values.get("stroke_every"),
                breath=breath,
                side=side,
                switch=self.switch(values.get("switch"), loaded.where, names) if index > 0 else None,
                round=round_.number,
                rounds=round_.count,
                overflow=values.get("overflow", self.timing.overflow),
                countdown=self.countdown(values.get("countdown"), names),
                last=self.last(values.get("last"), loaded.where, names),
                halfway=self.halfway(values.get("halfway", False), names),
                callouts=self.callouts(values.get("time_left"), loaded.where, names),
                closing=self.fill(values.get("closing"), names),
                pace=values.get("pace", self.timing.pace),
                cue=self.fill(values.get("cue"), names),
                fixed=values.get("fixed", False),
                min_strokes=values.get("min_strokes"),
                max_strokes=values.get("max_strokes"),
                optional=values.get("optional", False),
                zone=values.get("zone"),
                stroke=values.get("stroke", DEFAULT_STROKE.get(values.get("zone"))),
                image=values.get("image"),
            ))
        return steps

    def title(self, loaded: Loaded) -> str:
        """The step's title; an intro or outro without one is titled in the routine's language."""
        title = loaded.values["title"]
        if "title" not in loaded.places and loaded.where.path in ("intro", "outro"):
            return self.ctx.words.titles[loaded.where.path]
        return title

    def names(self, values: dict[str, Any], side: str | None, round_: _Round) -> dict[str, str | _Unknown]:
        """What each name stands for in this step's texts (or why it may not be used here)."""
        breath = values["breath"].breath if values.get("breath") else None

        def known(value: Any, reason: str, form: Callable[[Any], str] = str) -> str | _Unknown:
            return _Unknown(reason) if value is None else form(value)

        in_breath = "is only known in a breath step"
        spoken = self.ctx.words.duration
        return {
            "title": values["title"],
            "routine": self.routine_title,
            "side": known(side, "is only known in a step with sides", self.ctx.words.side),
            "round": known(round_.number, "is only known inside a repeat"),
            "rounds": known(round_.count, "is only known inside a repeat"),
            "strokes": known(values.get("strokes"), "is only known in a step with strokes"),
            "duration": known(values.get("duration"), "is only known in a step with a duration", spoken),
            "cycles": known(breath and breath.cycles, "is only known in a breath step with cycles"),
            "inhale": known(breath and breath.inhale, in_breath, spoken),
            "exhale": known(breath and breath.exhale, in_breath, spoken),
            "hold": known(breath and breath.hold, in_breath, spoken),
            "remaining": _Unknown("is only known in countdown, last and time-left texts"),
        }

    def fill(self, phrase: Phrase | None, names: dict[str, str | _Unknown]) -> str | None:
        """The phrase with its names filled in; ``None`` for no phrase, or after reporting a name
        that this step does not know."""
        if phrase is None:
            return None
        for name in texts.names_in(phrase.text):
            value = names[name]
            if isinstance(value, _Unknown):
                self.ctx.report(phrase.where, f"'{{{name}}}' {value.reason}")
                return None
        return texts.fill(phrase.text, names)  # type: ignore[arg-type]  # every name used is known

    def say(self, values: dict[str, Any], where: Where, names: dict[str, str | _Unknown],
            round_: _Round) -> str | None:
        """What the step says as it starts: its ``say``; in a repeat's later rounds its ``again``
        (by default, for a step with ``say``, its title and the round). In a repeat both are filled
        in every round, so a mistake in either is found on any round."""
        say = self.fill(values.get("say"), names)
        if round_.number is None:
            return say
        again = values.get("again") or (Phrase(self.ctx.words.again, where) if "say" in values else None)
        again = self.fill(again, names)
        return say if round_.number == 1 else again

    def words(self, spec: BreathSpec, names: dict[str, str | _Unknown]) -> BreathWords | None:
        """The breath words, for the phases the breath has (a hold of 0 s has none)."""
        if spec.words is None:
            return None
        filled = {phase: self.fill(phrase, names) for phase, phrase in spec.words.phrases.items()
                  if getattr(spec.breath, phase) > 0}
        return BreathWords(**filled, cycles=spec.words.cycles)

    def switch(self, spec: SwitchSpec | None, where: Where, names: dict[str, str | _Unknown]) -> Switch:
        say = spec.say if spec is not None else None
        pause = spec.pause if spec is not None and spec.pause is not None else self.timing.switch
        if say is False:
            return Switch(None, pause)
        phrase = say if isinstance(say, Phrase) else Phrase(self.ctx.words.switch, where)
        return Switch(self.fill(phrase, names), pause)

    def countdown(self, spec: CountdownSpec | None, names: dict[str, str | _Unknown]) -> Countdown | None:
        if spec is None:
            return None
        words: tuple[str, ...] = ()
        if spec.say is not None:
            filled = [self.fill(spec.say, {**names, "remaining": self.ctx.words.number(n)}) for n in range(spec.count, 0, -1)]
            words = tuple(word or "" for word in filled)
        return Countdown(spec.count, spec.unit, words)

    def last(self, spec: LastSpec | None, where: Where, names: dict[str, str | _Unknown]) -> Last | None:
        if spec is None:
            return None
        phrase = spec.say or Phrase(self.ctx.words.last, where)
        said = self.fill(phrase, {**names, "remaining": self.ctx.words.number(spec.count)})
        return Last(spec.count, said) if said else None

    def halfway(self, value: bool | Phrase, names: dict[str, str | _Unknown]) -> str | bool:
        if isinstance(value, Phrase):
            return self.fill(value, names) or False
        return value

    def callouts(self, spec: TimeLeftSpec | None, where: Where,
                 names: dict[str, str | _Unknown]) -> tuple[Callout, ...]:
        if spec is None:
            return ()
        phrase = spec.say or Phrase(self.ctx.words.time_left, where)
        return tuple(
            Callout(at, self.fill(phrase, {**names, "remaining": self.ctx.words.duration(at)}) or "")
            for at in sorted(spec.at, reverse=True)
        )

    # --- Checks between fields ----------------------------------------------------------------

    def check(self, step: Loaded) -> None:
        """The checks that need several fields of one step, or the routine's timing."""
        self.check_strokes(step)
        self.check_breath(step)
        self.check_countdown(step)
        self.check_last(step)
        self.check_time_left(step)
        self.check_limits(step)

    def check_limits(self, step: Loaded) -> None:
        """``min_strokes`` and ``max_strokes`` (fitting to a length) need pacing, least first."""
        values, places = step.values, step.places
        low, high = values.get("min_strokes"), values.get("max_strokes")
        paced = any(name in values for name in _PACING_FIELDS)
        for name in ("min_strokes", "max_strokes"):
            if name in values and not paced:
                self.ctx.report(places[name], "only a step with strokes, stroke_every or breath has strokes to limit")
        if low is not None and high is not None and low > high:
            self.ctx.report(places["min_strokes"], f"must be at most max_strokes ({high}), got {low}")

    def check_strokes(self, step: Loaded) -> None:
        """Strokes must be at least ``timing.min_stroke`` apart after the lead-in."""
        least = self.timing.min_stroke
        every = step.values.get("stroke_every")
        if every is not None and every < least - _TOLERANCE:
            self.ctx.report(step.places["stroke_every"],
                            f"must be at least timing.min_stroke ({format_seconds(least)} s), "
                            f"got {format_seconds(every)}")
        strokes, duration = step.values.get("strokes"), step.values.get("duration")
        if strokes is None or duration is None:
            return
        if strokes * least > duration - self.timing.lead_in + _TOLERANCE:
            do = "does" if strokes == 1 else "do"
            self.ctx.report(
                step.places["strokes"],
                f"{_count(strokes, 'stroke')} {do} not fit in {format_seconds(duration)} s after the "
                f"{format_seconds(self.timing.lead_in)} s lead-in "
                f"(each needs at least {format_seconds(least)} s)",
            )

    def check_breath(self, step: Loaded) -> None:
        """A breath step needs cycles or a duration; with a duration, its cycles (at least one) fit."""
        spec, duration = step.values.get("breath"), step.values.get("duration")
        if spec is None:
            return
        breath = spec.breath
        if spec.words is not None and spec.words.cycles is not None and breath.cycles is not None \
                and spec.words.cycles > breath.cycles:
            self.ctx.report(step.places["breath"],
                            f"the words are for {_count(spec.words.cycles, 'cycle')}, but the step has "
                            f"{_count(breath.cycles, 'breath cycle')}")
        if duration is None:
            if breath.cycles is None and "duration" not in step.places:
                self.ctx.report(step.places["breath"], "give cycles, or a duration for the step")
            return
        cycles = breath.cycles or 1
        if self.timing.lead_in + cycles * breath.period > duration + _TOLERANCE:
            do = "does" if cycles == 1 else "do"
            self.ctx.report(
                step.places["breath"],
                f"{_count(cycles, 'breath cycle')} of {format_seconds(breath.period)} s {do} not fit "
                f"in a {format_seconds(duration)} s step",
            )

    def check_countdown(self, step: Loaded) -> None:
        spec: CountdownSpec | None = step.values.get("countdown")
        if spec is None:
            return
        strokes, duration = step.values.get("strokes"), step.values.get("duration")
        if spec.unit == "strokes":
            if strokes is None and "stroke_every" not in step.values:
                self.ctx.report(spec.where, "a countdown over strokes needs strokes or stroke_every in the step")
            elif strokes is not None and spec.count > strokes:
                self.ctx.report(spec.where, f"counts down over {_count(spec.count, 'stroke')}, "
                                            f"but the step has {_count(strokes, 'stroke')}")
        elif duration is not None and spec.count >= duration:
            self.ctx.report(spec.where, f"counts down over {spec.count} s, but the step lasts "
                                        f"{format_seconds(duration)} s")

    def check_last(self, step: Loaded) -> None:
        spec: LastSpec | None = step.values.get("last")
        if spec is None:
            return
        strokes = step.values.get("strokes")
        if strokes is None and "stroke_every" not in step.values:
            self.ctx.report(spec.where, "a last-strokes cue needs strokes or stroke_every in the step")
        elif strokes is not None and spec.count > strokes:
            self.ctx.report(spec.where, f"is spoken with {_count(spec.count, 'stroke')} left, "
                                        f"but the step has {_count(strokes, 'stroke')}")

    def check_time_left(self, step: Loaded) -> None:
        spec: TimeLeftSpec | None = step.values.get("time_left")
        duration = step.values.get("duration")
        if spec is None or duration is None:
            return
        for at in spec.at:
            if at >= duration:
                self.ctx.report(spec.where, f"a callout {format_seconds(at)} s before the end does not fit "
                                            f"in a {format_seconds(duration)} s step")


def _unrolled(item: Any) -> int:
    """How many steps a loaded step item unrolls to (each round and side counts), without unrolling."""
    if isinstance(item, Step):
        return 1
    if isinstance(item, Repeat):
        return item.count * sum(_unrolled(i) for i in item.items)
    if isinstance(item, Include):
        sides = item.overrides.values.get("sides") if item.overrides.places else None
        if sides and len(item.items) == 1:
            return len(sides)
        return sum(_unrolled(i) for i in item.items)
    if isinstance(item, Loaded):
        return len(item.values.get("sides") or ()) or 1
    return 1


def routine_sounds(given: dict[str, Sound], steps: list[Step]) -> dict[str, Sound]:
    """The sound of every kind of event the routine plays: the core ones, those its steps use, and
    those it (or the library's defaults) names; each the routine's own, or the default."""
    used = set(CORE_SOUNDS) | set(given)
    if any(s.switch for s in steps):
        used.add("switch")
    if any(s.countdown and not s.countdown.words for s in steps):
        used.add("countdown")
    if any(s.halfway is True for s in steps):
        used.add("halfway")
    if any(s.kind == "step" and s.duration is not None and s.duration > LONG_HOLD
           and not (s.strokes or s.stroke_every or s.breath) for s in steps):
        used.add("pulse")  # a step that may hold still long enough for pulses
    return {
        event: given.get(event) or Sound(DEFAULT_SOUNDS[event], DEFAULT_SOUND_LEVELS[event])
        for event in DEFAULT_SOUNDS
        if event in used
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
