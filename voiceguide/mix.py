"""The mixer: a plan and its audio -> the session's samples, chunk by chunk.

Work is linear in the session's length: each chunk adds only the clips that overlap it, and the
bed's gain (fades, and ducking under the voice taken straight from the timeline) is evaluated per
chunk from a few breakpoints. No buffer of the whole session is ever made.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

from .audio import RATE, db_to_gain, level_db, seconds_to_samples
from .model import Background, Sound
from .plan import Plan
from .sounds import Bed

REFERENCE_DB = -20.0
"""Where the voice sits in the mix (gated RMS, dBFS); every other level is relative to it."""
CHUNK = 10 * RATE
DUCK_ATTACK = 0.15
"""Seconds the bed takes to go down before speech."""
DUCK_RELEASE = 0.5
"""Seconds the bed takes to come back after speech."""
DUCK_HOLD_GAP = 1.0
"""The bed stays down through gaps between phrases shorter than this."""


@dataclass(frozen=True)
class Placed:
    """One clip at one place in the session, with its gain."""

    start: int
    clip: np.ndarray
    gain: float

    @property
    def end(self) -> int:
        return self.start + len(self.clip)


def place_events(plan: Plan, speech: Mapping[str, np.ndarray],
                 sounds: Mapping[str, tuple[np.ndarray, Sound]]) -> list[Placed]:
    """Every clip the plan calls for, leveled against the voice, sorted by start."""
    gains: dict[int, float] = {}

    def gain(clip: np.ndarray, relative_db: float) -> float:
        if id(clip) not in gains:
            level = level_db(clip)
            gains[id(clip)] = 0.0 if level == float("-inf") else db_to_gain(REFERENCE_DB + relative_db - level)
        return gains[id(clip)]

    placed = []
    for event in plan.events():
        if event.kind == "speech":
            clip = speech[event.text]
            placed.append(Placed(event.start, clip, gain(clip, 0.0)))
        elif event.kind in sounds:
            clip, sound = sounds[event.kind]
            if len(clip):
                placed.append(Placed(event.start, clip, gain(clip, sound.level)))
    placed.sort(key=lambda p: p.start)
    return placed


class BedGain:
    """The bed's gain over time: fade in, fade out after the last words, duck under speech."""

    def __init__(self, plan: Plan, background: Background, bed_level_db: float):
        self.base = db_to_gain(REFERENCE_DB + background.level - bed_level_db)
        self.duck_db = background.duck
        speech = [(e.start, e.end) for e in plan.speech()]
        last_words = speech[-1][1] if speech else 0
        fade_in = min(seconds_to_samples(background.fade_in), plan.length)
        fade_out_start = max(last_words, plan.length - seconds_to_samples(background.fade_out))
        self.fade_x = np.array([0, fade_in, fade_out_start, plan.length], dtype=np.float64)
        self.fade_y = np.array([0.0 if fade_in else 1.0, 1.0, 1.0, 0.0])
        self.duck_x, self.duck_y = _duck_breakpoints(speech)

    def __call__(self, start: int, count: int) -> np.ndarray:
        """Gains for samples ``[start, start + count)``, shape ``(count, 1)``."""
        t = np.arange(start, start + count, dtype=np.float64)
        fade = np.interp(t, self.fade_x, self.fade_y)
        fade = 0.5 - 0.5 * np.cos(np.pi * fade)  # a smooth S-curve instead of a straight ramp
        gain = self.base * fade
        if len(self.duck_x):
            gain *= 10.0 ** (-self.duck_db * np.interp(t, self.duck_x, self.duck_y) / 20.0)
        return gain.astype(np.float32)[:, None]


def _duck_breakpoints(speech: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints of the duck depth (0 = up, 1 = fully down) from the speech intervals."""
    hold = seconds_to_samples(DUCK_HOLD_GAP)
    merged: list[list[int]] = []
    for a, b in sorted(speech):
        if merged and a - merged[-1][1] < hold:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    xs, ys = [], []
    for a, b in merged:
        xs += [a - seconds_to_samples(DUCK_ATTACK), a, b, b + seconds_to_samples(DUCK_RELEASE)]
        ys += [0.0, 1.0, 1.0, 0.0]
    return np.array(xs, dtype=np.float64), np.array(ys)


def mix(plan: Plan, placed: list[Placed], bed: Bed | None, bed_gain: BedGain | None,
        chunk: int = CHUNK) -> Iterator[np.ndarray]:
    """Yield the session as float32 ``(n, 2)`` chunks, ``plan.length`` samples in all."""
    active: list[Placed] = []
    upcoming = iter(placed)
    waiting = next(upcoming, None)
    for c0 in range(0, plan.length, chunk):
        c1 = min(plan.length, c0 + chunk)
        if bed is not None and bed_gain is not None:
            out = bed.read(c0, c1 - c0) * bed_gain(c0, c1 - c0)
        else:
            out = np.zeros((c1 - c0, 2), dtype=np.float32)
        while waiting is not None and waiting.start < c1:
            active.append(waiting)
            waiting = next(upcoming, None)
        for p in active:
            a, b = max(p.start, c0), min(p.end, c1)
            if b > a:
                out[a - c0:b - c0] += p.clip[a - p.start:b - p.start] * p.gain
        active = [p for p in active if p.end > c1]
        yield out
