"""What ``voiceguide check`` says about a planned routine, step by step: how long each step is, how
its narration fit and what its overflow policy did, its strokes and their pace, and the warnings a
practitioner would want before recording (a stroke pace far from the practice's usual one, a
stretch of more than 10 s with nothing but the bed, narration that leaves little time for the movement).

Pure: a routine and its plan in, rows and text out.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.core.audio import RATE, samples_to_ms
from voiceguide.core.errors import Where
from voiceguide.plan.timeline import AUTO_TAIL, Plan
from voiceguide.script.model import PACES, Routine
from voiceguide.script.text import format_clock

SILENT_GAP = 10.0
"""Seconds with nothing but the bed (no word, tick, tone or cue) that earn a warning: a listener may
think the audio stopped, or lose count."""
FAR = 1.5
"""A stroke pace is far from the usual one when it is this many times faster or slower."""
NARRATION_SHARE = 2 / 3
"""Narration that fills more than this share of a step with strokes or breaths earns a warning."""
SOUND_SPAN = int(0.5 * RATE)
"""How long a cue sound counts as heard, from its start."""
TONES = ("inhale", "exhale")
"""Sounds heard through their whole event: the breath tones sound through the whole phase."""


@dataclass(frozen=True)
class StepReport:
    """One planned step, as ``check`` reports it. Times are samples; ``None`` where it does not apply."""

    title: str
    kind: str
    where: Where
    start: int
    end: int
    side: str | None
    round: int | None
    narration: int | None
    room: int | None
    policy: str | None
    action: str | None
    extended: int
    speed: float
    strokes: int
    stroke_interval: float | None
    """Seconds from one stroke to the next, on average."""
    breaths: int
    warnings: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "title": self.title, "kind": self.kind, "where": str(self.where),
            "start_ms": samples_to_ms(self.start), "end_ms": samples_to_ms(self.end),
            "slot_ms": samples_to_ms(self.end - self.start),
            "side": self.side, "round": self.round,
            "narration_ms": None if self.narration is None else samples_to_ms(self.narration),
            "room_ms": None if self.room is None else samples_to_ms(self.room),
            "policy": self.policy, "fit": self.action,
            "extended_ms": samples_to_ms(self.extended), "speed": self.speed,
            "strokes": self.strokes,
            "stroke_interval_ms": None if self.stroke_interval is None else round(self.stroke_interval * 1000, 1),
            "breaths": self.breaths,
            "warnings": list(self.warnings),
        }


def report(routine: Routine, plan: Plan) -> list[StepReport]:
    """A row for every planned step of ``routine``'s ``plan``, with its warnings."""
    silences = _silences(routine, plan)
    rows = []
    for planned, step in zip(plan.steps, routine.steps, strict=True):
        counted = step.countdown is not None and step.countdown.unit == "strokes"
        strokes = [e for e in planned.events if e.kind == "tick" or (counted and e.kind == "countdown")]
        interval = None
        if strokes:
            interval = (strokes[-1].end - strokes[0].start) / len(strokes) / RATE
        warnings = [*silences.get(id(planned), [])]
        pace = PACES.get(step.pace or "")
        if pace and interval is not None and not pace[0] / FAR <= interval <= pace[1] * FAR:
            warnings.append(f"strokes every {interval:.1f} s are far from the usual {pace[0]:g} to "
                            f"{pace[1]:g} s of {step.pace} massage")
        fit = planned.fit
        paced = bool(strokes) or any(e.kind == "inhale" for e in planned.events)
        if fit is not None and paced and fit.narration > NARRATION_SHARE * (planned.end - planned.start):
            warnings.append(f"the narration takes {fit.narration / RATE:.1f} s of this "
                            f"{(planned.end - planned.start) / RATE:.1f} s step, leaving little time for the movement")
        rows.append(StepReport(
            title=planned.title, kind=planned.kind, where=planned.where, start=planned.start, end=planned.end,
            side=planned.side, round=planned.round,
            narration=fit.narration if fit else None, room=fit.room if fit else None,
            policy=fit.policy if fit else None, action=fit.action if fit else None,
            extended=fit.extended if fit else 0, speed=fit.speed if fit else 1.0,
            strokes=len(strokes), stroke_interval=interval,
            breaths=sum(1 for e in planned.events if e.kind == "inhale"),
            warnings=tuple(warnings),
        ))
    return rows


def _silences(routine: Routine, plan: Plan) -> dict[int, list[str]]:
    """Warnings about stretches of more than ``SILENT_GAP`` with nothing but the bed, by (the id
    of) the planned step each starts in. The session's last seconds, while the bed fades out, are
    meant to be quiet."""
    heard = sorted(
        (e.start, e.end if e.kind == "speech" or e.kind in TONES else e.start + SOUND_SPAN)
        for e in plan.events()
        if e.kind == "speech" or (e.kind in routine.sounds and routine.sounds[e.kind].sound != "none")
    )
    fade_out = plan.length - int(max(routine.background.fade_out, AUTO_TAIL) * RATE)
    found: dict[int, list[str]] = {}
    last_end = 0
    for start, end in [*heard, (fade_out, fade_out)]:
        if start - last_end > SILENT_GAP * RATE:
            spanned = [s for s in plan.steps if s.start < start and last_end < s.end] or [plan.steps[-1]]
            titles = " and ".join(dict.fromkeys(f"'{s.title}'" for s in spanned))
            found.setdefault(id(spanned[0]), []).append(
                f"{(start - last_end) / RATE:.1f} s with nothing but the bed in {titles}, "
                f"from {clock(last_end)} to {clock(start)}")
        last_end = max(last_end, end)
    return found


def clock(samples: int) -> str:
    """A time as ``mm:ss.s``, to the nearest tenth (``text.format_clock``)."""
    return format_clock(samples_to_ms(samples))


def format_report(routine: Routine, plan: Plan, rows: list[StepReport]) -> list[str]:
    """The report as text lines: a heading, then a line per step and a line per warning."""
    lines = [f"{routine.id}: {routine.title}, {clock(plan.length)}, {len(plan.steps)} steps"]
    width = max((len(row.title) for row in rows), default=10)
    for row in rows:
        parts = [f"{clock(row.start)}  {row.title:<{width}}  {(row.end - row.start) / RATE:6.1f} s"]
        if row.narration:
            room = f" of {row.room / RATE:.1f} s" if row.room is not None else ""
            parts.append(f"narration {row.narration / RATE:.1f} s{room}")
        if row.room is not None:
            did = row.action or ""
            if row.extended:
                did += f" by {row.extended / RATE:.1f} s"
            if row.speed > 1:
                did += f" ({row.speed:.2f}x)"
            parts.append(f"{did} ({row.policy})")
        if row.strokes:
            parts.append(f"{row.strokes} strokes, one every {row.stroke_interval:.1f} s")
        if row.breaths:
            parts.append(f"{row.breaths} breaths")
        lines.append("  " + ", ".join(parts))
        lines += [f"    warning: {warning}" for warning in row.warnings]
    return lines
