"""The mixer: a plan and its audio -> the session's samples, chunk by chunk.

Levels are loudness (BS.1770 K-weighted, in LUFS as the stereo mix measures them): every narration
clip is leveled to ``VOICE_LOUDNESS`` (and, once mastering knows its gain, its peaks held under the
limit that leaves them: ``master.level_voice``), so sentences, voices and engines sit at one level;
ticks, chimes, tones and the bed are set in dB relative to the voice by their loudness while they
sound (``loudness.sounding_level``). The breath tones are made as long as their phases
(``tones``); a step's opening chime fades out before its words; after the last words the bed stays
down and fades from there.

Work is linear in the session's length: each chunk adds only the clips that overlap it, and the
bed's gain (fades, and ducking under the voice taken straight from the timeline) is evaluated per
chunk from a few breakpoints. No buffer of the whole session is ever made, and a clip's samples are
read (from the narration cache) only while it sounds. Every clip starts and ends with a short fade,
and so does the session, so nothing clicks. ``energies`` gives the session's loudness from its
parts' levels, without mixing it: mastering knows its gain before the one pass that encodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from voiceguide.core.audio import RATE, db_to_gain, edge_fade, seconds_to_samples
from voiceguide.core.loudness import (
    ENERGY_STEP,
    SUB_BLOCK,
    energy_envelope,
    sounding_level,
)
from voiceguide.plan.timeline import Plan
from voiceguide.script.model import Background, Sound
from voiceguide.sound import tones
from voiceguide.sound.master import level_voice
from voiceguide.sound.sounds import Bed
from voiceguide.voice.cache import Speech

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
OPENINGS = ("chime", "switch")
"""The sounds that open a step; each fades out before the step's words begin (its event's end)."""
OPENING_CLEAR = 0.25
"""Seconds of quiet an opening sound leaves before the words."""
OPENING_FADE = 0.6
"""Seconds an opening sound that would ring on into the words takes to fade out."""
OPENING_LEAST = 0.3
"""Seconds an opening sound plays at the least, however short the lead-in."""
GAIN_STEP = 64
"""The bed's gain is computed every this many samples and interpolated in between."""

_MONO_TO_STEREO_DB = 10.0 * math.log10(2.0)
"""A mono clip played in both channels measures this much louder than the clip alone."""


@dataclass(frozen=True, eq=False)
class Placed:
    """One clip at one place in the session. Its samples are made when the mix reaches it and let
    go once it has passed, so a session of any length holds only the clips sounding now."""

    start: int
    length: int
    gain: float
    """The plain gain that puts the clip at its level (what its energy is scaled by)."""
    energy: np.ndarray = field(repr=False)
    """The clip's K-weighted energy envelope as heard in the output's channels, at unit gain
    (``loudness.Levels.energy``): its share of the session's loudness."""
    make: Callable[[], np.ndarray] = field(repr=False)
    """Returns the samples to add, gain applied: float32 ``(length, 1 or 2)``."""

    @property
    def end(self) -> int:
        return self.start + self.length


def place_events(plan: Plan, speech: Mapping[str, Speech | np.ndarray],
                 sounds: Mapping[str, tuple[np.ndarray, Sound]], voice_peak: float | None = None,
                 channels: int = 2) -> list[Placed]:
    """Every clip the plan calls for, leveled against the voice, sorted by start. No audio is
    touched here: gains come from the clips' levels, samples are made as the mix reaches them.

    Narration clips (mono) are leveled to ``VOICE_LOUDNESS`` and faded at both ends; with
    ``voice_peak`` (dBTP), a clip whose peaks the plain gain would put above it is peak-limited to
    it instead, its loudness kept (``master.level_voice``). Each sound gets the gain that puts it
    at its level below the voice; a step's opening sound (``OPENINGS``) fades out before its words;
    the breath tones last their phases (``tones``). ``channels`` is the output's (it decides how
    energies add up).
    """
    voices = {text: _voice(speech[text], voice_peak, channels) for text in {e.text for e in plan.speech()}}
    sound_of = {kind: sound for kind, (_, sound) in sounds.items()}
    ready: dict[tuple[str, int], tuple[float, np.ndarray, Callable[[], np.ndarray], int] | None] = {}

    def sound(kind: str, room: int):
        key = (kind, room)
        if key not in ready:
            clip, level = sounds[kind]
            loudness = sounding_level(clip)  # of the whole sound, however much of it plays
            if not len(clip) or loudness == float("-inf"):
                ready[key] = None
            else:
                clip = _cleared(clip, room)
                gain = db_to_gain(VOICE_LOUDNESS + level.level - loudness)
                heard = clip if channels == 2 else clip.mean(axis=1, keepdims=True)
                made = np.asarray(clip * np.float32(gain), np.float32)
                ready[key] = (gain, energy_envelope(heard), lambda: made, len(made))
        return ready[key]

    placed = _breath_tones(plan, sound_of, channels)
    for event in plan.events():
        if event.kind == "speech":
            gain, energy, make, length = voices[event.text]
            placed.append(Placed(event.start, length, gain, energy, make))
        elif event.kind in sounds and not tones.lasts_its_phase(event.kind, sound_of[event.kind]):
            room = event.end - event.start if event.kind in OPENINGS else -1
            if (made := sound(event.kind, room)) is not None:
                gain, energy, make, length = made
                placed.append(Placed(event.start, length, gain, energy, make))
    placed.sort(key=lambda p: p.start)
    return placed


def _cleared(clip: np.ndarray, room: int) -> np.ndarray:
    """``clip``, faded out so it is silent ``OPENING_CLEAR`` s before ``room`` samples have passed
    (but sounds at least ``OPENING_LEAST`` s); as it is when it ends by then, or ``room`` is -1."""
    keep = max(room - seconds_to_samples(OPENING_CLEAR), seconds_to_samples(OPENING_LEAST))
    if room < 0 or len(clip) <= keep:
        return clip
    out = np.array(clip[:keep], dtype=np.float32)
    fade = min(seconds_to_samples(OPENING_FADE), keep // 2)
    out[keep - fade:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, fade, dtype=np.float32)))[:, None]
    return out


def _breath_tones(plan: Plan, sounds: Mapping[str, Sound], channels: int) -> list[Placed]:
    """The breath tones (``tones.breath_tones``), each made when the mix reaches it."""
    placed = []
    shared: dict[tuple, np.ndarray] = {}
    for tone in tones.breath_tones(plan.events(), sounds):
        gain = db_to_gain(VOICE_LOUDNESS + tone.level - tones.loudness())
        if tone.shape not in shared:  # one channel's energy, heard in both channels or in the downmix
            shared[tone.shape] = tones.energy(*tone.shape) * np.float32(2.0 if channels == 2 else 1.0)

        def make(shape=tone.shape, gain=gain) -> np.ndarray:
            return np.repeat((tones.samples(*shape) * np.float32(gain))[:, None], 2, axis=1)

        placed.append(Placed(tone.start, tone.length, gain, shared[tone.shape], make))
    return placed


def _voice(speech: Speech | np.ndarray, voice_peak: float | None, channels: int):
    """``(gain, energy, make, length)`` of a narration clip (see ``place_events``)."""
    if isinstance(speech, np.ndarray):
        speech = Speech.of(speech)
    levels = speech.levels
    target = VOICE_LOUDNESS - _MONO_TO_STEREO_DB
    if not math.isfinite(levels.loudness):
        return 0.0, levels.energy, lambda: np.zeros((speech.length, 1), np.float32), speech.length
    gain_db = target - levels.loudness
    energy = levels.energy * np.float32(2.0 if channels == 2 else 1.0)  # one channel heard in both
    if voice_peak is not None and levels.true_peak + gain_db > voice_peak:
        peak = math.floor(voice_peak * 10.0) / 10.0  # on a 0.1 dB grid, so nearby gains share the work

        def make() -> np.ndarray:
            limited = speech.derived(f"voice{target:+.3f}{peak:+.1f}", lambda x: level_voice(x, target, peak))
            return edge_fade(limited, CLIP_FADE_MS)
    else:
        def make() -> np.ndarray:
            out = edge_fade(speech.samples(), CLIP_FADE_MS)
            out *= np.float32(db_to_gain(gain_db))
            return out
    return db_to_gain(gain_db), energy, make, speech.length


class BedGain:
    """The bed's gain over time: fade in, fade out after the last words, duck under speech.

    ``bed_level`` is the bed's own loudness while it sounds (``loudness.sounding_level``). Under
    speech the bed goes down by the routine's ``duck``, or further if that leaves it less than
    ``SPEECH_CLEARANCE`` dB below the voice. After the last words it stays at the level it had
    under them, and fades out from there.
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
        first = start - start % GAIN_STEP  # on one grid for the whole session: chunking changes nothing
        coarse_t = np.arange(first, start + count + GAIN_STEP, GAIN_STEP, dtype=np.float64)
        coarse = self.at(coarse_t)
        if coarse.min() == coarse.max():
            return np.full((count, 1), coarse[0], dtype=np.float32)
        coarse = coarse.astype(np.float32)
        fine = (coarse[:-1, None] + np.diff(coarse)[:, None] * _RAMP).ravel()  # each step's straight line
        return fine[start - first: start - first + count, None]


_RAMP = np.arange(GAIN_STEP, dtype=np.float32) / np.float32(GAIN_STEP)


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
    if merged:  # after the last words the bed stays down: it fades out from there, never swelling first
        xs, ys = xs[:-1], ys[:-1]
    return np.array(xs, dtype=np.float64), np.array(ys)


def mix(plan: Plan, placed: list[Placed], bed: Bed | None, bed_gain: BedGain | None,
        chunk: int = CHUNK, channels: int = 2) -> Iterator[np.ndarray]:
    """Yield the session as float32 ``(n, channels)`` chunks, ``plan.length`` samples in all.

    Everything is mixed in stereo; ``channels=1`` yields the mono downmix (the mean of the two).
    The samples do not depend on ``chunk``: a session mixed whole is the same, sample for sample.
    """
    fade = min(int(RATE * SESSION_FADE_MS / 1000.0), plan.length // 2)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade, dtype=np.float32)))[:, None]
    active: list[tuple[Placed, np.ndarray]] = []
    upcoming = iter(placed)
    waiting = next(upcoming, None)
    for c0 in range(0, plan.length, chunk):
        c1 = min(plan.length, c0 + chunk)
        if bed is not None and bed_gain is not None:
            out = bed.read(c0, c1 - c0, gain=bed_gain(c0, c1 - c0))
        else:
            out = np.zeros((c1 - c0, 2), dtype=np.float32)
        while waiting is not None and waiting.start < c1:
            if waiting.end > c0 and waiting.gain > 0.0:
                active.append((waiting, waiting.make()))
            waiting = next(upcoming, None)
        for p, samples in active:
            a, b = max(p.start, c0), min(p.end, c1)
            if b > a:
                out[a - c0:b - c0] += samples[a - p.start:b - p.start]
        active = [(p, samples) for p, samples in active if p.end > c1]
        _fade_edges(out, c0, plan.length, ramp)
        yield ((out[:, 0] + out[:, 1]) * np.float32(0.5))[:, None] if channels == 1 else out


def energies(plan: Plan, placed: list[Placed], bed: Bed | None, bed_gain: BedGain | None,
             channels: int = 2) -> np.ndarray:
    """The session's K-weighted sum of squares per 100 ms sub-block (all channels), from its parts.

    What a loudness meter would find in ``mix``'s output (``loudness.from_energies`` turns it into
    LUFS), without mixing: each clip's energy envelope, scaled by its gain squared, lands where it
    is placed, and the bed's, under its gain curve. The parts are independent sounds, so the terms
    where two of them meet average out; leaving them out moves the integrated loudness by
    hundredths of a LU at most (tested against metering the mix; ``voiceguide inspect`` meters a file).
    """
    blocks = plan.length // SUB_BLOCK  # whole sub-blocks: what a meter counts
    sums = np.zeros(blocks, dtype=np.float64)
    cumulative: dict[int, np.ndarray] = {}
    for p in placed:
        if p.gain <= 0.0 or p.start >= blocks * SUB_BLOCK:
            continue
        key = id(p.energy)
        if key not in cumulative:
            cumulative[key] = np.concatenate([[0.0], np.cumsum(p.energy, dtype=np.float64)])
        cum = cumulative[key]
        k0 = p.start // SUB_BLOCK
        k1 = min(blocks, -(-(p.start + (len(cum) - 1) * ENERGY_STEP) // SUB_BLOCK))
        edges = (np.arange(k0, k1 + 1) * SUB_BLOCK - p.start) / ENERGY_STEP
        sums[k0:k1] += np.diff(np.interp(edges, np.arange(len(cum)), cum)) * (p.gain * p.gain)
    if bed is not None and bed_gain is not None and blocks:
        sums += _bed_energies(bed, bed_gain, blocks, channels)
    return sums


BINS_PER_BLOCK = SUB_BLOCK // ENERGY_STEP


def _bed_energies(bed: Bed, bed_gain: BedGain, blocks: int, channels: int) -> np.ndarray:
    """The bed's share of ``energies``: the loop's K-weighted energy in its steady state (as it
    plays on and on) over each ``ENERGY_STEP``, times the gain curve squared, summed per sub-block."""
    n = len(bed)
    cum = bed.energy(channels)

    def at(x: np.ndarray) -> np.ndarray:  # the bed's energy from sample 0 to x, the loop repeating
        laps, offset = np.divmod(x, n)
        return laps * cum[-1] + cum[offset]

    out = np.empty(blocks)
    step = 600  # sub-blocks at a time: a minute, so these arrays stay small
    for b0 in range(0, blocks, step):
        b1 = min(blocks, b0 + step)
        starts = np.arange(b0 * SUB_BLOCK, b1 * SUB_BLOCK, ENERGY_STEP, dtype=np.int64)
        bins = at(starts + ENERGY_STEP) - at(starts)
        gains = bed_gain.at(starts + ENERGY_STEP / 2.0)
        out[b0:b1] = (bins * gains * gains).reshape(b1 - b0, BINS_PER_BLOCK).sum(axis=1)
    return out


def _fade_edges(out: np.ndarray, c0: int, length: int, ramp: np.ndarray) -> None:
    """Apply the session's fade-in (first ``len(ramp)`` samples) and fade-out (last) to a chunk."""
    n = len(ramp)
    c1 = c0 + len(out)
    if c0 < n:
        out[: min(n, c1) - c0] *= ramp[c0: min(n, c1)]
    if c1 > length - n:
        a = max(c0, length - n)
        out[a - c0:] *= ramp[::-1][a - (length - n): c1 - (length - n)]
