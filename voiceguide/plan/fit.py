"""Fitting a routine to a length: a routine, its narration's lengths and a target -> the routine
with its steps scaled so that its plan lasts the target (within ``TOLERANCE``), and what was done
to each step.

Pure: no audio, no I/O. What scales, per written step (all the sides of a step together, each
round on its own):

- a step with ``strokes`` and a ``duration``: its stroke count and its duration, the interval
  between strokes kept inside its practice's pace band (``PACES``; without a ``pace``, within
  ``FREE_BAND`` of the interval it has), never under ``timing.min_stroke``;
- a step with ``stroke_every``: how many strokes it holds (the interval stays as written);
- a breath step: its cycles;
- a hold (a step with a ``duration`` and no pacing): its duration, never shorter than its words;
- nothing else: the intro and outro keep their words and their length, and so do pauses, steps
  without a duration that are not breath steps, and steps marked ``fixed: true``.

Strokes (or breath cycles) stay between the step's ``min_strokes`` and ``max_strokes``, by default
``MIN_SHARE`` and ``MAX_SHARE`` of what it has (and at least its countdown's count, or its
last-strokes cue's, and 2 with a halfway cue). A step with time-left callouts is never made
shorter. A target the routine cannot reach with every step kept may leave out steps marked
``optional: true``, the last first.

The fit is made on the plan's own arithmetic: a step's length is what it keeps (its lead-in, words
and settle, measured on the routine's full plan) plus its pacing, so the planned length is the sum;
``fit`` plans the result to be sure, and adjusts the continuous steps once more if need be.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from voiceguide.core.audio import RATE
from voiceguide.core.errors import UsageError, Where
from voiceguide.plan.model import Plan
from voiceguide.plan.timeline import plan as make_plan
from voiceguide.script.model import PACES, Routine, Step
from voiceguide.script.text import format_seconds

TOLERANCE = 1.0
"""Seconds a fitted plan may be off its target."""
MIN_SHARE, MAX_SHARE = 0.5, 2.0
"""By default a fit gives a step between half and twice its strokes (or breath cycles)."""
FREE_BAND = (0.75, 1.5)
"""For a step without a ``pace``: the stroke interval stays between these shares of the one it has."""
HOLD_SHARE = (0.5, 2.0)
"""A hold's duration stays between these shares of the one it has (and never shorter than its words)."""


class FitError(UsageError):
    """The target is out of the routine's reach (or cannot be met within ``TOLERANCE``)."""


@dataclass(frozen=True)
class Scaled:
    """What a fit did to one written step (all its sides; one round)."""

    title: str
    where: Where
    action: str
    """``scaled``, ``kept`` (it cannot scale, or is ``fixed``) or ``left out`` (``optional``)."""
    before: float
    """Seconds it lasted in the full version (all its sides)."""
    after: float
    """Seconds it lasts in the fitted one (0 when left out)."""
    detail: str = ""
    """What changed: ``10 -> 6 strokes, one every 3.3 -> 2.4 s``."""

    def to_json(self) -> dict:
        return {"title": self.title, "action": self.action, "before_s": round(self.before, 3),
                "after_s": round(self.after, 3), "detail": self.detail}


@dataclass(frozen=True)
class Fitted:
    """A routine fitted to a length: the routine, its plan, and what was done to each step."""

    routine: Routine
    plan: Plan
    target: float
    scaled: tuple[Scaled, ...]


@dataclass
class _Unit:
    """One written step of the routine: the indices of its sides in ``routine.steps``, how long
    each side lasts in the full plan (``length``) and how much of that is not pacing (``kept``)."""

    indices: list[int]
    kind: str
    """``fixed``, ``strokes``, ``every``, ``breath`` or ``hold``."""
    length: float
    kept: float = 0.0
    count: int = 0
    """Strokes or breath cycles in the full plan."""
    low: int = 0
    high: int = 0
    band: tuple[float, float] = (0.0, 0.0)
    """The least and most seconds per stroke (``strokes``); for the discrete kinds, the stroke
    interval or the breath period, twice."""
    shortest: float = 0.0
    longest: float = 0.0
    chosen: float = 0.0
    chosen_count: int = 0
    optional: bool = False

    @property
    def sides(self) -> int:
        return len(self.indices)


def fit(routine: Routine, full: Plan, speech_lengths: Mapping[str, int], target: float,
        speeds: Mapping[str, float] | None = None) -> Fitted:
    """``routine`` (whose plan is ``full``, made from ``speech_lengths`` and ``speeds``) fitted to
    last ``target`` seconds. Raises ``FitError`` naming the shortest and longest lengths it allows."""
    units = _units(routine, full)
    shortest, longest = reach(units)
    if not shortest - TOLERANCE <= target <= longest + TOLERANCE:
        raise FitError(f"{routine.id} cannot be fitted to {_clock(target)}: its steps allow from "
                       f"{_clock(shortest)} to {_clock(longest)} (its full length is {_clock(full.length / RATE)})")
    dropped = _drop_optional(units, target)
    kept = [u for u in units if id(u) not in dropped]
    _choose(kept, target)
    fitted = _routine(routine, units, dropped)
    timeline = make_plan(fitted, speech_lengths, speeds)
    error = target - timeline.length / RATE
    if abs(error) > TOLERANCE / 4:  # the plan's arithmetic rounds: adjust the continuous steps once more
        _choose(kept, target, shift=error)
        fitted = _routine(routine, units, dropped)
        timeline = make_plan(fitted, speech_lengths, speeds)
    if abs(target - timeline.length / RATE) > TOLERANCE:
        raise FitError(f"{routine.id} cannot be fitted to within {TOLERANCE:g} s of {_clock(target)}: the "
                       f"nearest it comes is {_clock(timeline.length / RATE)} (its steps scale in whole "
                       f"strokes and breaths)")
    return Fitted(fitted, timeline, target, tuple(_report(routine, units, dropped)))


def reach(units: list[_Unit]) -> tuple[float, float]:
    """The shortest (optional steps left out) and longest lengths ``units`` allow, in seconds."""
    shortest = sum(0.0 if _optional(u) else u.shortest * u.sides for u in units)
    return shortest, sum(u.longest * u.sides for u in units)


def limits(routine: Routine, full: Plan) -> tuple[float, float]:
    """The shortest and longest lengths, in seconds, that ``routine`` (planned as ``full``) fits to."""
    return reach(_units(routine, full))


# --- Measuring ------------------------------------------------------------------------------------


def _groups(steps: tuple[Step, ...]) -> list[list[int]]:
    """The indices of each written step's sides (every later side has a ``switch``)."""
    groups: list[list[int]] = []
    for index, step in enumerate(steps):
        if step.switch is not None and groups:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def _units(routine: Routine, full: Plan) -> list[_Unit]:
    min_stroke = routine.timing.min_stroke
    units = []
    for indices in _groups(routine.steps):
        step, planned = routine.steps[indices[0]], full.steps[indices[0]]
        length = (planned.end - planned.start) / RATE
        unit = _Unit(indices, "fixed", length, shortest=length, longest=length, optional=step.optional)
        units.append(unit)
        framing = step.where.path in ("intro", "outro")
        if step.kind != "step" or step.fixed or framing or (step.duration is None and step.breath is None):
            continue
        paced = [e for e in planned.events if e.kind in ("tick", "countdown", "inhale", "hold", "exhale")]
        if (step.strokes or step.stroke_every or step.breath) and not paced:
            continue
        span = (paced[-1].end - paced[0].start) / RATE if paced else 0.0
        unit.kept = length - span
        if step.strokes:
            count = step.strokes
            interval = span / count
            low, high = PACES[step.pace] if step.pace in PACES else (interval * FREE_BAND[0], interval * FREE_BAND[1])
            unit.band = (max(low, min_stroke), high)
        elif step.stroke_every is not None:
            count = sum(1 for e in paced if e.kind in ("tick", "countdown"))
            unit.band = (step.stroke_every, step.stroke_every)
        elif step.breath is not None:
            count = sum(1 for e in paced if e.kind == "inhale")
            unit.band = (step.breath.period, step.breath.period)
        else:
            unit.kind = "hold"
            words = max((e.end for e in planned.events if e.kind == "speech"), default=planned.start)
            least = (words - planned.start) / RATE + routine.timing.settle
            unit.shortest = length if step.callouts else max(least, length * HOLD_SHARE[0])
            unit.longest = length * HOLD_SHARE[1]
            continue
        unit.kind = "strokes" if step.strokes else "every" if step.stroke_every is not None else "breath"
        unit.count = count
        counted = max(step.countdown.count if step.countdown and step.countdown.unit == "strokes" else 0,
                      step.last.strokes if step.last else 0)
        least = max(1, math.ceil(count * MIN_SHARE), counted, 2 if step.halfway else 1)
        unit.low = step.min_strokes if step.min_strokes is not None else min(least, count)
        unit.high = step.max_strokes if step.max_strokes is not None else max(count, math.floor(count * MAX_SHARE))
        unit.high = max(unit.high, unit.low)
        unit.shortest = unit.kept + unit.low * unit.band[0]
        unit.longest = unit.kept + unit.high * unit.band[1]
        if step.callouts:
            unit.shortest = max(unit.shortest, length)
    return units


def _optional(unit: _Unit) -> bool:
    return unit.optional


def _drop_optional(units: list[_Unit], target: float) -> set[int]:
    """The optional units to leave out, the last first, until the rest can be as short as ``target``."""
    dropped: set[int] = set()
    total = sum(u.shortest * u.sides for u in units)
    for unit in reversed(units):
        if total <= target + TOLERANCE / 4:
            break
        if _optional(unit):
            dropped.add(id(unit))
            total -= unit.shortest * unit.sides
    return dropped


# --- Choosing ------------------------------------------------------------------------------------


def _choose(units: list[_Unit], target: float, shift: float = 0.0) -> None:
    """Set each unit's ``chosen`` side length (and count) so that their sum is ``target``: the
    discrete units (whole strokes of a set interval, whole breaths) first, nearest to their share,
    then the continuous ones (strokes of a free interval, holds) take what is left. With ``shift``,
    only the continuous ones move, by that much in all."""
    continuous = [u for u in units if u.kind in ("strokes", "hold")]
    discrete = [u for u in units if u.kind in ("every", "breath")]
    if shift:
        budget = sum(u.chosen * u.sides for u in continuous) + shift
    else:
        for unit in units:
            unit.chosen, unit.chosen_count = unit.length, unit.count
        wanted = _spread(units, target)
        for unit in discrete:
            count = min(max(round((wanted[id(unit)] - unit.kept) / unit.band[0]), unit.low), unit.high)
            unit.chosen, unit.chosen_count = unit.kept + count * unit.band[0], count
        _balance(discrete, continuous, target)
        budget = target - sum(u.chosen * u.sides for u in units if u not in continuous)
    wanted = _spread(continuous, budget)
    for unit in continuous:
        unit.chosen = min(max(wanted[id(unit)], unit.shortest), unit.longest)
        if unit.kind == "strokes":
            unit.chosen_count, unit.chosen = _strokes(unit, unit.chosen - unit.kept)


def _balance(discrete: list[_Unit], continuous: list[_Unit], target: float) -> None:
    """Move the discrete units a stroke or breath at a time, the smallest step first, while that
    brings what the continuous units must make up closer to what they can."""
    lowest = sum(u.shortest * u.sides for u in continuous)
    highest = sum(u.longest * u.sides for u in continuous)

    def off(left: float) -> float:
        return max(lowest - left, left - highest, 0.0)

    left = target - sum(u.chosen * u.sides for u in discrete)
    while True:
        moves = [(u, step) for u in discrete for step in (-1, 1) if u.low <= u.chosen_count + step <= u.high]
        better = [(off(left - step * u.band[0] * u.sides), u.band[0] * u.sides, u, step) for u, step in moves]
        better = [m for m in better if m[0] < off(left) - 1e-9]
        if not better:
            return
        _, size, unit, step = min(better, key=lambda m: (m[0], m[1]))
        unit.chosen_count += step
        unit.chosen += step * unit.band[0]
        left -= step * size


def _spread(units: list[_Unit], total: float) -> dict[int, float]:
    """Each unit's side length when ``total`` is shared out: every unit moves the same share of
    the way from its full length toward its shortest (or longest)."""
    full = sum(u.length * u.sides for u in units)
    if total < full:
        room = sum((u.length - u.shortest) * u.sides for u in units)
        share = min(1.0, (full - total) / room) if room > 0 else 0.0
        return {id(u): u.length - share * (u.length - u.shortest) for u in units}
    room = sum((u.longest - u.length) * u.sides for u in units)
    share = min(1.0, (total - full) / room) if room > 0 else 0.0
    return {id(u): u.length + share * (u.longest - u.length) for u in units}


def _strokes(unit: _Unit, pacing: float) -> tuple[int, float]:
    """The stroke count for ``pacing`` seconds of strokes, its interval inside the unit's band and
    nearest the one it had; and the side length that gives."""
    low, high = unit.band
    fewest = max(unit.low, math.ceil(pacing / high - 1e-9))
    most = min(unit.high, math.floor(pacing / low + 1e-9))
    before = (unit.length - unit.kept) / unit.count
    if fewest <= most:
        count = min(max(round(pacing / before), fewest), most)
        return count, unit.kept + pacing
    count = min(max(round(pacing / before), unit.low), unit.high)  # the band is too narrow here
    return count, unit.kept + min(max(pacing, count * low), count * high)


def _routine(routine: Routine, units: list[_Unit], dropped: set[int]) -> Routine:
    """``routine`` with each unit's choice made, and the dropped units left out."""
    steps: list[Step] = []
    for unit in units:
        if id(unit) in dropped:
            continue
        for index in unit.indices:
            step = routine.steps[index]
            if unit.kind == "breath":
                duration = None if step.duration is None else unit.chosen
                cycles = unit.chosen_count if step.breath.cycles else None
                step = replace(step, breath=replace(step.breath, cycles=cycles), duration=duration)
            elif unit.kind == "strokes":
                step = replace(step, duration=unit.chosen, strokes=unit.chosen_count)
            elif unit.kind in ("every", "hold"):
                step = replace(step, duration=unit.chosen)
            steps.append(step)
    return replace(routine, steps=tuple(steps))


# --- Reporting -----------------------------------------------------------------------------------


def _report(routine: Routine, units: list[_Unit], dropped: set[int]) -> list[Scaled]:
    rows = []
    for unit in units:
        step = routine.steps[unit.indices[0]]
        if step.kind == "pause":
            continue
        title = step.title if step.round is None else f"{step.title} (round {step.round} of {step.rounds})"
        before = unit.length * unit.sides
        if id(unit) in dropped:
            rows.append(Scaled(title, step.where, "left out", before, 0.0, "optional"))
            continue
        if unit.kind == "fixed":
            why = "fixed" if step.fixed else "keeps its words" if step.where.path in ("intro", "outro") else ""
            rows.append(Scaled(title, step.where, "kept", before, before, why))
            continue
        after = unit.chosen * unit.sides
        if unit.kind == "strokes":
            was, now = (unit.length - unit.kept) / unit.count, (unit.chosen - unit.kept) / unit.chosen_count
            detail = f"{unit.count} -> {unit.chosen_count} strokes, one every {was:.1f} -> {now:.1f} s"
        elif unit.kind == "every":
            detail = f"{unit.count} -> {unit.chosen_count} strokes, one every {unit.band[0]:.1f} s"
        elif unit.kind == "breath":
            detail = f"{unit.count} -> {unit.chosen_count} breath cycles"
        else:
            detail = f"hold {format_seconds(unit.length)} -> {format_seconds(round(unit.chosen, 1))} s"
        if unit.sides > 1:
            detail += f" (each of {unit.sides} sides)"
        same = unit.chosen_count == unit.count and abs(after - before) < 0.05
        rows.append(Scaled(title, step.where, "kept" if same else "scaled", before, after, detail))
    return rows


def format_fit(fitted: Fitted) -> list[str]:
    """``check --report --length``'s lines: the target, then what the fit did to each step."""
    lines = [f"  fitted to {_clock(fitted.target)}: {_clock(fitted.plan.length / RATE)}"]
    for row in fitted.scaled:
        change = f"{row.before:.1f} s -> {row.after:.1f} s" if row.action != "left out" else f"{row.before:.1f} s"
        lines.append(f"    {row.title:<28} {row.action:<9} {change}" + (f", {row.detail}" if row.detail else ""))
    return lines


def _clock(seconds: float) -> str:
    """``mm:ss.s``."""
    return f"{int(seconds // 60):02d}:{seconds % 60:04.1f}"
