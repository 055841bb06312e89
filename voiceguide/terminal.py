"""What the command line shows on a terminal: clocks, a plan's events as table rows, render and
build progress, the build's summary table. Only ``cli`` uses it; it formats, it decides nothing."""

from __future__ import annotations

import sys

import click


def event_lines(events):
    """Events as table rows, with runs of strokes or breaths (and the counts, last-strokes cue or
    breath words spoken with them) folded into one line."""
    from voiceguide.core.audio import RATE
    from voiceguide.plan.timeline import CUES

    i = 0
    while i < len(events):
        e = events[i]
        if e.kind in ("tick", "countdown") or e.kind in ("inhale", "hold", "exhale"):
            strokes = e.kind in ("tick", "countdown")
            kinds, cue = (("tick", "countdown"), "countdown") if strokes else (("inhale", "hold", "exhale"), "breath")
            cues = (cue, "last") if strokes else (cue,)
            j = i
            while j < len(events) and (events[j].kind in kinds or events[j].cue in cues):
                j += 1
            run = events[i:j]
            spoken = sum(1 for x in run if x.cue == cue)
            if strokes:
                paced = [x for x in run if x.kind in kinds]
                every = (paced[-1].end - e.start) / len(paced) / RATE
                counted = sum(1 for x in run if x.kind == "countdown") + spoken
                last = [(x, sum(1 for p in paced if p.start >= x.start)) for x in run if x.cue == "last"]
                if not any(x.kind == "tick" for x in run):
                    line = f"countdown: {counted} counts, one every {every:.2f} s"
                else:
                    line = f"{len(paced)} strokes, one every {every:.2f} s" + (
                        f", the last {counted} counted" if counted else "") + "".join(
                        f", '{x.text}' with {left} left" for x, left in last)
            else:
                line = f"{sum(1 for x in run if x.kind == 'inhale')} breath cycles" + (
                    ", with breath words" if spoken else "")
            yield f"{clock(e.start)}  {line}"
            i = j
        elif e.kind == "speech":
            text = e.text if len(e.text) <= 70 else e.text[:67] + "..."
            cue = f"({CUES[e.cue]}) " if e.cue else ""
            yield f"{clock(e.start)}  speech {(e.end - e.start) / RATE:5.1f} s  {cue}{text}"
            i += 1
        else:
            yield f"{clock(e.start)}  {e.kind}"
            i += 1


def clock(samples: int) -> str:
    from voiceguide.core.audio import samples_to_ms

    return minutes(samples_to_ms(samples))


def minutes(ms: float) -> str:
    """``mm:ss.s``, to the nearest tenth of a second (``text.format_clock``)."""
    from voiceguide.script.text import format_clock

    return format_clock(ms)


def summary(report) -> str:
    rows = [f"{'routine':<24} {'status':<10} {'length':>8} {'time':>7}"]
    for o in report.outcomes:
        length = minutes(o.duration_ms) if o.duration_ms else ""
        took = f"{o.seconds:.1f} s" if o.status == "built" else ""
        rows.append(f"{o.id:<24} {o.status:<10} {length:>8} {took:>7}")
    counts = {s: sum(o.status == s for o in report.outcomes) for s in ("built", "unchanged", "failed")}
    rows.append(f"{counts['built']} built, {counts['unchanged']} unchanged, {counts['failed']} failed "
                f"in {report.seconds:.1f} s")
    return "\n".join(rows)


class BuildDisplay:
    """Build progress: one live line on a terminal (done/total and what is rendering now), plain log
    lines otherwise."""

    def __init__(self):
        self.live = sys.stderr.isatty()
        self.total = self.done = 0
        self.running: list[str] = []

    def __call__(self, kind: str, rid: str, outcome) -> None:
        if kind == "queued":
            self.total += 1
        elif kind == "started":
            self.running.append(rid)
        elif kind == "done" and outcome is not None:
            if rid in self.running:
                self.running.remove(rid)
            if outcome.status != "unchanged":
                self.done += 1
                self._log(f"{outcome.status} {rid}" + (f" in {outcome.seconds:.1f} s" if outcome.seconds else ""))
        if self.live:
            now = ", ".join(self.running[:3]) + (" ..." if len(self.running) > 3 else "")
            click.echo(f"\r[{self.done}/{self.total}] rendering: {now}\033[K" if self.running else "\r\033[K",
                       err=True, nl=False)

    def _log(self, line: str) -> None:
        if self.live:
            click.echo(f"\r\033[K{line}", err=True)
        else:
            click.echo(line, err=True)

    def close(self) -> None:
        if self.live:
            click.echo("\r\033[K", err=True, nl=False)


class Progress:
    """A one-line progress display on a terminal (stderr); nothing when stderr is not a terminal."""

    def __init__(self, name: str):
        self.name = name
        self.live = sys.stderr.isatty()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.live and total:
            click.echo(f"\r{self.name}: {phase} {100 * done // total:3d}%\033[K", err=True, nl=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.live:
            click.echo("\r\033[K", err=True, nl=False)
