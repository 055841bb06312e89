"""The versions of a routine besides its full one: fitted to a length (``plan.fit``), cues only,
or both; what each is called; and the cues-only routine. Pure: no audio, no I/O.

Naming: a variant is its routine's id with a suffix, and its title with a note: a fit to 5
minutes is ``lymphatic-5m`` (``Lymphatic drainage (5 minutes)``), the cues-only version
``lymphatic-cues`` (``... (cues only)``), both ``lymphatic-5m-cues`` (``... (5 minutes, cues only)``).

Cues only: each step says its ``cue`` in place of its narration (default: its title, with its
side; a later side's switch cue and a later round's ``again`` are replaced the same way), followed
by an exact pause as long as the rest of the narration it replaces, so every step starts, and every
stroke falls, where it does in the full version. The intro and the outro keep their words unless
they have a ``cue`` (the intro's should keep the safety line). Countdowns, last-strokes, halfway
and time-left cues, closing words and breath words are cues already, and stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from voiceguide.core.audio import RATE, seconds_to_samples
from voiceguide.plan.model import Plan
from voiceguide.script.model import Routine, Step, Switch
from voiceguide.script.text import split_pauses
from voiceguide.script.words import Words, words_for


@dataclass(frozen=True)
class Variant:
    """One version of a routine: fitted to ``length`` seconds (``None``: its own length), and
    cues only or not. ``Variant()`` is the full version."""

    length: float | None = None
    cues: bool = False

    def __bool__(self) -> bool:
        return self.length is not None or self.cues

    @property
    def suffix(self) -> str:
        """What the variant adds to the routine's id: ``-5m``, ``-cues``, ``-5m-cues``; empty for the full one."""
        parts = [length_name(self.length)] if self.length is not None else []
        return "".join(f"-{part}" for part in [*parts, *(["cues"] if self.cues else [])])

    @property
    def note(self) -> str:
        """What the variant adds to the routine's title, in brackets: ``5 minutes, cues only``."""
        return self.note_in(words_for("en"))

    def note_in(self, words: Words) -> str:
        """``note`` in ``words``' language: ``5 Minuten, nur Ansagen``."""
        return words.variant_note(self.length, self.cues)


def variants_of(routine: Routine) -> list[Variant]:
    """Every version ``voiceguide build`` makes of ``routine``: the full one first, then each of
    its ``lengths``, then each of its ``variants`` at the full length and at each length."""
    lengths = [None, *routine.lengths]
    found = [Variant(length) for length in lengths]
    if "cues" in routine.variants:
        found += [Variant(length, cues=True) for length in lengths]
    return found


def length_name(seconds: float) -> str:
    """A length as a file name part: ``5m``, ``1m30s``, ``45s``, ``1h30m``."""
    hours, rest = divmod(round(seconds, 3), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{int(hours)}h"] if hours else []
    if minutes:
        parts.append(f"{int(minutes)}m")
    if secs or not parts:
        parts.append(f"{secs:g}s")
    return "".join(parts)


def named(routine: Routine, variant: Variant) -> Routine:
    """``routine`` with the variant's id and title (and no variants of its own)."""
    if not variant:
        return routine
    return replace(routine, id=f"{routine.id}{variant.suffix}", title=f"{routine.title} ({variant.note_in(routine.words)})",
                   lengths=(), variants=())


# --- Cues only -----------------------------------------------------------------------------------


def cue_of(step: Step, words: Words | None = None) -> str | None:
    """What ``step`` says in the cues-only version in place of its narration (``None``: nothing),
    in ``words``' language (default English)."""
    framing = step.where.path in ("intro", "outro")
    spoken = step.switch.say if step.switch is not None else step.say
    if not spoken:
        return None
    if step.cue:
        return step.cue
    if framing:
        return spoken
    return (words or words_for("en")).cue(step.title, step.side, step.round)


def cues_only(routine: Routine, full: Plan | None = None, cue_lengths: Mapping[str, int] | None = None) -> Routine:
    """``routine`` with every step's narration replaced by its cue (``cue_of``). With the routine's
    ``full`` plan and the length of every cue phrase (``cue_lengths``, in samples), each cue is
    followed by an exact pause that keeps the step's pacing where the full version has it; without
    them, the cues alone (to find which phrases to speak)."""
    steps = []
    for index, step in enumerate(routine.steps):
        cue = cue_of(step, routine.words) if step.kind == "step" else None
        if cue is None:
            steps.append(step)
            continue
        if full is not None and cue_lengths is not None:
            fit = full.steps[index].fit
            said = sum(seconds_to_samples(p) if isinstance(p, float) else cue_lengths[p] for p in split_pauses(cue))
            rest = (fit.narration if fit is not None else 0) - said
            if rest > 0:
                cue = f"{cue} [{rest / RATE:.7f}s]"
        if step.switch is not None:
            steps.append(replace(step, switch=Switch(cue, step.switch.pause)))
        else:
            steps.append(replace(step, say=cue))
    return replace(routine, steps=tuple(steps))


def words(plan: Plan) -> int:
    """How many words a plan speaks."""
    return sum(len(event.text.split()) for event in plan.speech())
