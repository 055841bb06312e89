"""The mixer: a plan and its audio -> the session's samples, chunk by chunk.

Levels are loudness (BS.1770 K-weighted, in LUFS as the stereo mix measures them): every narration
clip is leveled to ``VOICE_LOUDNESS`` (and, once mastering knows its gain, its peaks held under the
limit that leaves them: ``master.level_voice``), so sentences, voices and engines sit at one level;
ticks, chimes, tones and the bed are set in dB relative to the voice by their loudness while they
sound (``loudness.sounding_level``).

Work is linear in the session's length: each chunk adds only the clips that overlap it, and the
bed's gain (fades, and ducking under the voice taken straight from the timeline) is evaluated per
chunk from a few breakpoints. No buffer of the whole session is ever made. Every clip starts and
ends with a short fade, and so does the session, so nothing clicks.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .audio import RATE, db_to_gain, edge_fade, seconds_to_samples
from .loudness import integrated, sounding_level
from .master import level_voice
from .model import Background, Sound
from .plan import Plan
from .sounds import Bed

VOICE_LOUDNESS = -20.0
"""Integrated loudness (LUFS, stereo) of every narration clip in the mix; levels are relative to it."""
SPEECH_CLEARANCE = 20.0
"""The bed is at least this many dB below the voice while it speaks (WCAG 1.4.7), whatever the
routine's level and duck say."""
CHUNK = 10 * RATE
DUCK_ATTACK = 0.15
"""Seconds the bed takes to go down before speech."""
DUCK_RELEASE = 0.5
"""Seconds the bed takes to come back after speech."""
DUCK_HOLD_GAP = 1.0
"""The bed stays down through gaps between phrases shorter than this."""
CLIP_FADE_MS = 5.0
"""Fade at both ends of every narration clip."""
SESSION_FADE_MS = 10.0
"""Fade at the session's very start and end, whatever plays there."""
GAIN_STEP = 64
"""The bed's gain is computed every this many samples and interpolated in between."""

_MONO_TO_STEREO_DB = 10.0 * math.log10(2.0)
"""A mono clip played in both channels measures this much louder than the clip alone."""


@dataclass(frozen=True)
class Placed:
    """One clip at one place in the session, with its gain."""

    start: int
    clip: np.ndarray
    gain: float

    @property
    def end(self) -> int:
        return self.start + len(self.clip)


def place_events(plan: Plan, speech: Mapping[str, np.ndarray], sounds: Mapping[str, tuple[np.ndarray, Sound]],
                 voice_peak: float | None = None) -> list[Placed]:
    """Every clip the plan calls for, leveled against the voice, sorted by start.

    Narration clips (mono) are leveled to ``VOICE_LOUDNESS``, their peaks limited to ``voice_peak``
    when given (``level_narration``), and faded at both ends; each sound gets the gain that puts it
    at its level below the voice.
    """
    voices = level_narration({e.text: speech[e.text] for e in plan.speech()}, voice_peak)
    gains: dict[int, float] = {}

    def gain(clip: np.ndarray, relative_db: float) -> float:
        if id(clip) not in gains:
            level = sounding_level(clip)
            gains[id(clip)] = 0.0 if level == float("-inf") else db_to_gain(VOICE_LOUDNESS + relative_db - level)
        return gains[id(clip)]

    placed = []
    for event in plan.events():
        if event.kind == "speech":
            placed.append(Placed(event.start, *voices[event.text]))
        elif event.kind in sounds:
            clip, sound = sounds[event.kind]
            if len(clip):
                placed.append(Placed(event.start, clip, gain(clip, sound.level)))
    placed.sort(key=lambda p: p.start)
    return placed


def level_narration(speech: Mapping[str, np.ndarray],
                    voice_peak: float | None = None) -> dict[str, tuple[np.ndarray, float]]:
    """Each narration clip, faded at both ends, with the gain that puts it at ``VOICE_LOUDNESS``.

    With ``voice_peak`` (dBTP) the clips' peaks are also limited to it, their loudness kept
    (``master.level_voice``; the gain is then part of the clip); the clips are made in parallel.
    """

    def level(clip: np.ndarray) -> tuple[np.ndarray, float]:
        target = VOICE_LOUDNESS - (_MONO_TO_STEREO_DB if clip.shape[1] == 1 else 0.0)
        if voice_peak is None:
            measured = integrated(clip)
            gain = db_to_gain(target - measured) if math.isfinite(measured) else 0.0
            return edge_fade(clip, CLIP_FADE_MS), gain
        return edge_fade(level_voice(clip, target, voice_peak), CLIP_FADE_MS), 1.0

    texts = list(speech)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:  # numpy lets go of the GIL
        return dict(zip(texts, pool.map(level, (speech[t] for t in texts))))


class BedGain:
    """The bed's gain over time: fade in, fade out after the last words, duck under speech.

    ``bed_level`` is the bed's own loudness while it sounds (``loudness.sounding_level``). Under
    speech the bed goes down by the routine's ``duck``, or further if that leaves it less than
    ``SPEECH_CLEARANCE`` dB below the voice.
    """

    def __init__(self, plan: Plan, background: Background, bed_level: float):
        self.base = db_to_gain(VOICE_LOUDNESS + background.level - bed_level)
        self.duck_db = max(background.duck, background.level + SPEECH_CLEARANCE)
        speech = [(e.start, e.end) for e in plan.speech()]
        last_words = speech[-1][1] if speech else 0
        fade_in = min(seconds_to_samples(background.fade_in), plan.length)
        fade_out_start = max(last_words, plan.length - seconds_to_samples(background.fade_out))
        self.fade_x = np.array([0, fade_in, fade_out_start, plan.length], dtype=np.float64)
        self.fade_y = np.array([0.0 if fade_in else 1.0, 1.0, 1.0, 0.0])
        self.duck_x, self.duck_y = _duck_breakpoints(speech)

    def at(self, t: np.ndarray) -> np.ndarray:
        """Exact gains at sample times ``t`` (float64)."""
        fade = np.interp(t, self.fade_x, self.fade_y)
        gain = self.base * (0.5 - 0.5 * np.cos(np.pi * fade))  # a smooth S-curve, not a straight ramp
        if len(self.duck_x):
            gain *= 10.0 ** (-self.duck_db * np.interp(t, self.duck_x, self.duck_y) / 20.0)
        return gain

    def __call__(self, start: int, count: int) -> np.ndarray:
        """Gains for samples ``[start, start + count)``, shape ``(count, 1)``: exact every
        ``GAIN_STEP`` samples, linear in between (the curves move over tens of milliseconds)."""
        coarse_t = np.arange(start, start + count + GAIN_STEP, GAIN_STEP, dtype=np.float64)
        coarse = self.at(coarse_t)
        if coarse.min() == coarse.max():
            return np.full((count, 1), coarse[0], dtype=np.float32)
        fine = np.interp(np.arange(start, start + count, dtype=np.float64), coarse_t, coarse)
        return fine.astype(np.float32)[:, None]


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
        chunk: int = CHUNK, channels: int = 2) -> Iterator[np.ndarray]:
    """Yield the session as float32 ``(n, channels)`` chunks, ``plan.length`` samples in all.

    Everything is mixed in stereo; ``channels=1`` yields the mono downmix (the mean of the two).
    """
    fade = min(int(RATE * SESSION_FADE_MS / 1000.0), plan.length // 2)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade, dtype=np.float32)))[:, None]
    active: list[Placed] = []
    upcoming = iter(placed)
    waiting = next(upcoming, None)
    for c0 in range(0, plan.length, chunk):
        c1 = min(plan.length, c0 + chunk)
        if bed is not None and bed_gain is not None:
            out = bed.read(c0, c1 - c0)
            out *= bed_gain(c0, c1 - c0)
        else:
            out = np.zeros((c1 - c0, 2), dtype=np.float32)
        while waiting is not None and waiting.start < c1:
            active.append(waiting)
            waiting = next(upcoming, None)
        for p in active:
            a, b = max(p.start, c0), min(p.end, c1)
            if b > a:
                out[a - c0:b - c0] += p.clip[a - p.start:b - p.start] * np.float32(p.gain)
        active = [p for p in active if p.end > c1]
        _fade_edges(out, c0, plan.length, ramp)
        yield ((out[:, 0] + out[:, 1]) * np.float32(0.5))[:, None] if channels == 1 else out


def _fade_edges(out: np.ndarray, c0: int, length: int, ramp: np.ndarray) -> None:
    """Apply the session's fade-in (first ``len(ramp)`` samples) and fade-out (last) to a chunk."""
    n = len(ramp)
    c1 = c0 + len(out)
    if c0 < n:
        out[: min(n, c1) - c0] *= ramp[c0: min(n, c1)]
    if c1 > length - n:
        a = max(c0, length - n)
        out[a - c0:] *= ramp[::-1][a - (length - n): c1 - (length - n)]
