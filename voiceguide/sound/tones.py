"""Breath tones that last their phase: the built-in ``rise`` and ``fall`` on inhales and exhales.

On an inhale or exhale event a tone sounds through the whole phase, gliding a fourth up (``rise``)
or down (``fall``) with the breath; a hold whose tone is ``steady`` keeps the pitch the tone before
it reached. Tones that meet (one starts where the other ends, at the same pitch and level) join
without a seam: every tone starts at phase zero and makes a whole number of cycles, so the next one
takes over exactly where it leaves off; only where a tone starts or ends in silence does it fade.

Clips are made per length and join, and cached: a routine's breaths have a handful of lengths.
Elsewhere (``tick: rise``) ``rise`` and ``fall`` are the short glides of ``sounds.py``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import pairwise

import numpy as np

from voiceguide.core.audio import RATE
from voiceguide.core.loudness import energy_envelope, sounding_level
from voiceguide.plan.timeline import Event
from voiceguide.script.model import Sound
from voiceguide.sound.sounds import PEAK

TONES: dict[str, tuple[float, float]] = {"rise": (330.0, 440.0), "fall": (440.0, 330.0)}
"""Each tone's pitch at the start and the end of its phase, in Hz: E4 and A4, a fourth apart, in
tune with the drone bed (built on A)."""
PHASES = ("inhale", "exhale")
"""The events on which a tone lasts its phase."""
ATTACK = 0.3
"""Seconds a tone takes to swell in where it starts from silence."""
RELEASE = 0.4
"""Seconds it takes to fade out where it ends in silence."""
EDGE_SHARE = 0.15
"""No fade takes more than this share of its phase, so even a short phase is heard most of its length."""
OCTAVE = 0.12
"""The faint octave above the sine that makes it a little warmer."""
REFERENCE_SECONDS = 4.0
"""The length of the tone that a tone's level is measured on (``loudness``)."""

_x = np.linspace(0.0, 2.0 * np.pi, 4096, endpoint=False)
_NORM = PEAK / float(np.max(np.abs(np.sin(_x) + OCTAVE * np.sin(2.0 * _x))))
"""Scales every tone to the same peak, ``sounds.PEAK``, whatever its length or pitch."""


@dataclass(frozen=True)
class Tone:
    """One breath tone at its place in the session."""

    start: int
    length: int
    start_hz: float
    end_hz: float
    level: float
    """dB relative to the voice."""
    enter: bool = False
    """It goes on from a tone that ends where it starts (no fade in)."""
    leave: bool = False
    """It goes on into a tone that starts where it ends (no fade out)."""

    @property
    def end(self) -> int:
        return self.start + self.length

    @property
    def shape(self) -> tuple[float, float, int, bool, bool]:
        """What its samples depend on (``samples`` and ``energy`` take it)."""
        return self.start_hz, self.end_hz, self.length, self.enter, self.leave


def lasts_its_phase(kind: str, sound: Sound) -> bool:
    """Whether events of ``kind`` playing ``sound`` get a tone as long as the event."""
    return kind in PHASES and sound.sound in TONES


def breath_tones(events: Iterable[Event], sounds: Mapping[str, Sound]) -> list[Tone]:
    """The tones of the breath phases among ``events`` (in time order), joined where they meet.

    An inhale or exhale whose sound (``sounds``) is a tone gets that tone; a steady hold holds the
    tone that ends where it starts, at that tone's final pitch and level (after anything else, the
    hold is silent).
    """
    tones: list[Tone] = []
    for event in events:
        if event.kind in PHASES and event.kind in sounds and lasts_its_phase(event.kind, sounds[event.kind]):
            low, high = TONES[sounds[event.kind].sound]
            level = sounds[event.kind].level
        elif event.kind == "hold" and event.tone == "steady" and tones and tones[-1].end == event.start:
            low = high = tones[-1].end_hz
            level = tones[-1].level
        else:
            continue
        if event.end > event.start:
            tones.append(Tone(event.start, event.end - event.start, low, high, level))
    for i, (a, b) in enumerate(pairwise(tones)):
        if a.end == b.start and a.end_hz == b.start_hz and a.level == b.level:
            tones[i] = replace(tones[i], leave=True)
            tones[i + 1] = replace(b, enter=True)
    return tones


@functools.lru_cache(maxsize=32)
def samples(start_hz: float, end_hz: float, length: int, enter: bool, leave: bool) -> np.ndarray:
    """A tone of ``length`` samples gliding from ``start_hz`` to ``end_hz``: read-only float32, mono.

    The pitch moves in even steps of pitch, easing in and out like a breath. The rate is scaled (by
    well under a cent) so the tone makes whole cycles: it starts at phase zero and ends where the
    next tone's phase zero follows on. It swells in unless it ``enter``s a tone before it, and fades
    out unless it ``leave``s into one after it.
    """
    ease = 0.5 - 0.5 * np.cos(np.pi * np.arange(length) / length)
    freq = start_hz * (end_hz / start_hz) ** ease
    cycles = freq.sum() / RATE
    freq *= max(1, round(cycles)) / cycles
    phase = (2.0 * np.pi / RATE) * (np.cumsum(freq) - freq)
    out = np.sin(phase) + OCTAVE * np.sin(2.0 * phase)
    out *= _NORM
    if not enter:
        _fade(out[: min(int(ATTACK * RATE), int(EDGE_SHARE * length))])
    if not leave:
        _fade(out[::-1][: min(int(RELEASE * RATE), int(EDGE_SHARE * length))])
    made = out.astype(np.float32)
    made.flags.writeable = False
    return made


def _fade(part: np.ndarray) -> None:
    """A raised-cosine fade in over ``part``, in place (a reversed view fades out)."""
    part *= 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, len(part)))


@functools.lru_cache(maxsize=32)
def energy(start_hz: float, end_hz: float, length: int, enter: bool, leave: bool) -> np.ndarray:
    """The K-weighted energy envelope (``loudness.energy_envelope``) of one channel of ``samples``."""
    made = energy_envelope(samples(start_hz, end_hz, length, enter, leave)[:, None])
    made.flags.writeable = False
    return made


@functools.cache
def loudness() -> float:
    """The loudness of a tone while it sounds, in one channel played in both (every tone has the
    same, so tones that join get the same gain): what its level is measured from."""
    low, high = TONES["rise"]
    mono = samples(low, high, int(REFERENCE_SECONDS * RATE), False, False)
    return sounding_level(np.repeat(mono[:, None], 2, axis=1))
