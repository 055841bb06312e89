"""Mastering: the mixed session -> samples at the target loudness, true peaks under the ceiling.

The mix's integrated loudness (BS.1770-4, as the encoder will receive the session: stereo, or the
mono downmix) gives one plain gain to the target. ``Master.measure`` meters a run of the mix for it;
``Master.expect`` takes it as ``mix.energies`` computes it from the parts, with no pass over the
samples (what ``render`` does). ``apply`` then streams the mix through the gain and a look-ahead
true-peak limiter to the encoder.

The gain is headroom-aware and the limiter a safety net, not a loudness tool. Narration is leveled
to its loudness; once the gain is known, each clip whose peaks the gain would put too high is
limited to what the gain leaves it (``Master.voice_peak``, ``level_voice``), its loudness kept. So
the master limiter rarely acts, and the loudness expected is the loudness written. Nothing is ever
clipped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from voiceguide.core import loudness
from voiceguide.core.audio import RATE, db_to_gain
from voiceguide.core.loudness import HALF, Loudness

STEREO_TARGET = -16.0
"""LUFS for a stereo file (Apple Podcasts, AES TD1004)."""
MONO_TARGET = -19.0
"""LUFS for a mono file: it plays about as loud as stereo at -16."""
TRUE_PEAK = -1.0
"""dBTP: the highest the decoded file may reach."""
CODEC_MARGIN = 1.0
"""dB the limiter keeps below the true-peak ceiling for the overshoot MP3 encoding adds (measured
here at 128 kbit/s: decoded blocks peak up to 0.75 dB above their samples, the codec's scaling aside)."""
VOICE_SLACK = 0.5
"""dB narration peaks are kept under the limiter's ceiling once the gain is applied."""
VOICE_TOLERANCE = 0.05
"""LU: how close to its target a peak-limited narration clip must come."""
VOICE_MAKEUP = 6.0
"""dB: the most gain a narration clip gets beyond the plain gain to its loudness, to make up for
what the limiter takes."""
LOOKAHEAD = 0.008
"""Seconds the limiter looks ahead: its gain ramps down over at most this much before a peak."""
ATTACK = 1000.0
"""dB per second the limiter's gain may fall (1 dB a millisecond)."""
RELEASE = 60.0
"""dB per second the limiter's gain recovers after a peak."""
SEARCH_DB = loudness.TRUE_PEAK_SEARCH_DB
"""Blocks whose sample peak is more than this below the ceiling are not oversampled."""


@dataclass(frozen=True)
class Mastering:
    """Loudness and peak targets of the finished file."""

    loudness: float | None = None
    """Integrated loudness (LUFS) of the file; ``None``: -16 for stereo, -19 for mono."""
    true_peak: float = TRUE_PEAK
    """The highest true peak (dBTP, 4x oversampled) the decoded file may reach."""

    def target(self, channels: int) -> float:
        if self.loudness is not None:
            return self.loudness
        return MONO_TARGET if channels == 1 else STEREO_TARGET

    @property
    def ceiling(self) -> float:
        """dBTP the limiter holds the samples under: the true-peak limit less the codec's margin."""
        return self.true_peak - CODEC_MARGIN


@dataclass(frozen=True)
class Report:
    """What mastering did, and what came out."""

    mix: Loudness
    """The mix before mastering, as measured or computed from its parts (loudness only)."""
    gain_db: float
    """The plain gain applied to reach the target."""
    codec_gain_db: float
    """What the encoder was expected to do to the level (allowed for in the gain)."""
    limited_seconds: float
    """How long the limiter held the gain down (by more than 0.05 dB)."""
    max_reduction_db: float
    """The deepest the limiter went."""
    output: Loudness
    """The mastered samples handed to the encoder (the decoded file: ``codec_gain_db`` less), metered
    or computed from the mix (``Master.apply``). Its true peak is the limiter's: exact where it
    came within ``SEARCH_DB`` of the ceiling."""


class Master:
    """Find the gain (``measure`` or ``expect``), then ``apply`` it to a run of the mix.

    ``codec_gain_db`` is what the encoder will do to the level (``export.codec_gain``): the samples
    are mastered that much louder, and their ceiling raised as much, so the decoded file is on target.
    """

    def __init__(self, settings: Mastering, channels: int, codec_gain_db: float = 0.0):
        self.settings = settings
        self.channels = channels
        self.codec_gain_db = codec_gain_db
        self.mix_loudness: Loudness | None = None
        self.gain_db = 0.0
        self.report: Report | None = None

    @property
    def ceiling(self) -> float:
        """dBTP the limiter holds the samples under (before the codec's own gain)."""
        return self.settings.ceiling - self.codec_gain_db

    def measure(self, chunks: Iterable[np.ndarray]) -> float:
        """Meter a run of the mix; returns the gain (dB) that brings it to the target."""
        return self.expect(loudness.measure(chunks, self.channels, true_peak=False))

    def expect(self, mix_loudness: Loudness) -> float:
        """Take the mix's loudness as measured some other way (``mix.energies``); returns the gain."""
        self.mix_loudness = mix_loudness
        measured = mix_loudness.integrated
        target = self.settings.target(self.channels) - self.codec_gain_db
        self.gain_db = target - measured if math.isfinite(measured) else 0.0
        return self.gain_db

    def voice_peak(self) -> float:
        """After ``measure``: the highest true peak (dBTP, in the mix) a narration clip may have so
        that, with the gain, it stays ``VOICE_SLACK`` under the limiter's ceiling."""
        if self.mix_loudness is None:
            raise RuntimeError("Master.voice_peak before Master.measure")
        return self.ceiling - VOICE_SLACK - self.gain_db

    def apply(self, chunks: Iterable[np.ndarray], meter: bool = True) -> Iterator[np.ndarray]:
        """The mix with the gain and the limiter; ``report`` is set when it ends.

        With ``meter``, the output's loudness is metered as it goes; without, it is the mix's (as
        measured or computed from its parts) moved by the gain: what the samples are, short of what
        the limiter took (``Report.limited_seconds`` says how much it acted).
        """
        if self.mix_loudness is None:
            raise RuntimeError("Master.apply before Master.expect or Master.measure")
        gain = np.float32(db_to_gain(self.gain_db))
        limiter = Limiter(self.ceiling, self.channels)
        metering = loudness.Meter(self.channels, true_peak=False) if meter else None  # the limiter has peaks
        for out in _then(map(limiter.process, (chunk * gain for chunk in chunks)), limiter.flush):
            if len(out):
                if metering is not None:
                    metering.add(out)
                yield out
        result = metering.result() if metering is not None else self._moved(self.mix_loudness)
        measured = dataclasses.replace(result, true_peak=limiter.true_peak_out,
                                       sample_peak=limiter.sample_peak_out)
        self.report = Report(self.mix_loudness, self.gain_db, self.codec_gain_db, limiter.limited / RATE,
                             limiter.max_reduction, measured)

    def _moved(self, mix: Loudness) -> Loudness:
        return dataclasses.replace(mix, integrated=mix.integrated + self.gain_db)


def _then(items: Iterable, last: Callable[[], object]) -> Iterator:
    """``items``, then ``last()`` once they are exhausted."""
    yield from items
    yield last()


_NEAR = np.arange(-4, 5)
"""Samples around one near the ceiling whose true peaks the limiter works out (``Limiter._limit``)."""


class Limiter:
    """A look-ahead true-peak limiter: the output's 4x-oversampled peak stays under ``ceiling_db``.

    The gain (in dB) needed at each sample is the ceiling less the true peak around it. The gain
    applied never exceeds it: it falls at most ``ATTACK`` dB/s in the ``LOOKAHEAD`` before a peak
    and recovers at ``RELEASE`` dB/s after, so it moves smoothly and never clicks. Both ramps are
    min-plus convolutions, computed with sliding minima and a running minimum, so a chunk costs a
    few array passes over just the stretches where the gain moves. The output lags the input by
    ``delay`` samples; ``flush`` returns the rest. Blocks whose sample peak is more than
    ``SEARCH_DB`` below the ceiling skip oversampling, and a chunk with none near it passes
    straight through.
    """

    def __init__(self, ceiling_db: float, channels: int, lookahead: float = LOOKAHEAD,
                 attack: float = ATTACK, release: float = RELEASE):
        self.ceiling_db = ceiling_db
        self.ceiling = db_to_gain(ceiling_db)
        self.lookahead = max(1, int(round(lookahead * RATE)))
        self.attack = attack / RATE  # dB per sample
        self.release = release / RATE
        self.context = 2 * HALF  # the oversampler's reach, then the gain's spread, HALF samples each
        self.delay = self.lookahead + self.context
        """Samples the output lags the input."""
        self._buf = np.zeros((self.context, channels), np.float32)  # input from (next output - context)
        self._state = 0.0  # gain (dB) of the last sample out
        self._peak_out = self._sample_out = 0.0
        self.limited = 0
        """Samples whose gain went down by more than 0.05 dB."""
        self.max_reduction = 0.0

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Take the next input samples; return the output samples that are now ready."""
        self._buf = np.concatenate([self._buf, np.asarray(chunk, np.float32)])
        ready = len(self._buf) - self.context - self.delay
        if ready <= 0:
            return self._buf[:0].copy()
        out = self._limit(self._buf, ready)
        self._buf = self._buf[ready:]
        return out

    def flush(self) -> np.ndarray:
        """The samples still held back (the stream has ended)."""
        return self.process(np.zeros((self.delay, self._buf.shape[1]), np.float32))

    def _limit(self, buf: np.ndarray, m: int) -> np.ndarray:
        """``buf[context : context + m]`` limited; ``buf`` holds ``context`` samples before them and
        ``lookahead + context`` after. Output index ``j`` is buffer index ``context + j``."""
        c, h = self.context, HALF
        x = buf[c: c + m]
        magnitude = loudness.magnitude(buf)
        threshold = self.ceiling * db_to_gain(-SEARCH_DB)
        if self._state == 0.0 and magnitude.max() < threshold:
            loudest = float(magnitude[c: c + m].max())
            self._peak_out, self._sample_out = max(self._peak_out, loudest), max(self._sample_out, loudest)
            return x  # a view: the buffer is never written to once read
        # peaks[i] (buffer index i + h): the true peak on [i + h, i + h + 1), where it can matter:
        # from a few samples before to a few after each one within SEARCH_DB of the ceiling
        peaks = magnitude[h: len(buf) - h].copy()
        hot = np.flatnonzero(peaks >= threshold)
        if len(hot):
            near = np.unique(np.clip((hot[:, None] + _NEAR).ravel(), 0, len(peaks) - 1))
            peaks[near] = loudness.envelope_at(buf, near)
        over = np.flatnonzero(peaks > self.ceiling)
        if self._state == 0.0 and len(over) == 0:
            self._peak_out = max(self._peak_out, float(peaks[h: h + m].max()))
            self._sample_out = max(self._sample_out, float(magnitude[c: c + m].max()))
            return x  # a view: the buffer is never written to once read
        need = np.zeros_like(peaks)
        need[over] = self.ceiling_db - 20.0 * np.log10(peaks[over])
        out = x.copy()
        state = self._state
        for s0, s1 in self._stretches(over, float(-need.min()), m):
            gain_db = self._gain(need, s0, s1, state if s0 == 0 else 0.0)
            gain = (10.0 ** (gain_db / 20.0)).astype(np.float32)
            out[s0:s1] *= gain[:, None]
            peaks[h + s0: h + s1] *= gain
            magnitude[c + s0: c + s1] *= gain
            self.limited += int(np.count_nonzero(gain_db < -0.05))
            self.max_reduction = max(self.max_reduction, float(-gain_db.min()))
            self._state = float(gain_db[-1]) if s1 == m and gain_db[-1] < -1e-9 else 0.0
        self._sample_out = max(self._sample_out, float(magnitude[c: c + m].max()))
        self._peak_out = max(self._peak_out, float(peaks[h: h + m].max()))
        return out

    def _stretches(self, over: np.ndarray, depth: float, m: int) -> list[tuple[int, int]]:
        """The output stretches ``[s0, s1)`` where the gain moves: from ``lookahead`` (and the
        oversampler's reach) before a group of needs to where it has recovered after it. Needs
        closer together than that share a stretch; a release still going on starts one at 0."""
        reach = 2 * HALF + self.lookahead + 1
        recovery = int(math.ceil(max(depth, -self._state) / self.release)) + 2
        stretches: list[list[int]] = []
        if self._state < 0.0:
            stretches.append([0, min(m, int(math.ceil(-self._state / self.release)) + 2)])
        for i in over.tolist():
            start, end = max(0, i - reach), min(m, i + recovery)
            if stretches and start <= stretches[-1][1]:
                stretches[-1][1] = max(stretches[-1][1], end)
            else:
                stretches.append([start, end])
        return [(a, b) for a, b in stretches if b > a]

    def _gain(self, need: np.ndarray, s0: int, s1: int, before: float) -> np.ndarray:
        """The gain (dB) for outputs ``[s0, s1)``, starting from ``before`` (the gain at ``s0 - 1``)."""
        h, L = HALF, self.lookahead
        # each need spread over the oversampler's reach (+/- h), for outputs [s0, s1 + L)
        spread = sliding_min(need[s0: s1 + L + 2 * h], 2 * h + 1)
        # attack: ramp down ahead of each need, at most `attack` dB a sample, `lookahead` ahead
        ramp = np.arange(len(spread)) * self.attack
        attacked = sliding_min(spread + ramp, L + 1) - ramp[: s1 - s0]
        # release: recover at most `release` dB a sample after each
        steps = np.arange(s1 - s0) * self.release
        return steps + np.minimum(np.minimum.accumulate(attacked - steps), before + self.release)

    @property
    def true_peak_out(self) -> float:
        """dBTP of the output so far: exact where it came within ``SEARCH_DB`` of the ceiling
        (elsewhere the sample peak, which is lower than that anyway)."""
        return 20.0 * math.log10(self._peak_out) if self._peak_out > 0 else float("-inf")

    @property
    def sample_peak_out(self) -> float:
        """dBFS of the output's largest sample so far."""
        return 20.0 * math.log10(self._sample_out) if self._sample_out > 0 else float("-inf")


def sliding_min(values: np.ndarray, width: int) -> np.ndarray:
    """``min(values[i:i + width])`` for every ``i`` where the window fits, in a few array passes
    (van Herk/Gil-Werman: running minima forward and backward within blocks of ``width``)."""
    count = len(values) - width + 1
    if count <= 0:
        return values[:0].copy()
    blocks = np.concatenate([values, np.full(-len(values) % width, np.inf)]).reshape(-1, width)
    ahead = np.minimum.accumulate(blocks, axis=1).ravel()  # from each block's start
    behind = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()  # to each block's end
    return np.minimum(behind[:count], ahead[width - 1: width - 1 + count])


def limit(samples: np.ndarray, ceiling_db: float) -> np.ndarray:
    """A whole clip through the ``Limiter``, aligned (same length, no delay)."""
    limiter = Limiter(ceiling_db, samples.shape[1])
    return np.concatenate([limiter.process(samples), limiter.flush()])


def level_voice(clip: np.ndarray, target_lufs: float, peak_db: float, rounds: int = 4) -> np.ndarray:
    """``clip`` at ``target_lufs`` integrated loudness, its true peaks limited to ``peak_db``.

    Limiting lowers the loudness a little, so gain and limiter are applied again (to the original
    each time, correcting the gain by the secant method) until the loudness is within
    ``VOICE_TOLERANCE`` of the target, and a last plain trim makes it exact (moving the peaks by as
    little). The limiter may take back at most ``VOICE_MAKEUP`` dB: a clip whose peaks stand far
    above its body is left that much quiet rather than squashed.

    The rounds do not filter the clip again: a round's loudness is the clip's K-weighted energy
    under the limiter's gain squared (close: within a few hundredths of a LU where the gain moves
    fastest); only the clip chosen is measured exactly, for the trim.
    """
    clip = np.asarray(clip, np.float32)
    squares = loudness.k_squares(clip)
    measured = loudness.integrated_squares(squares)
    if not math.isfinite(measured):
        return clip
    plain = target_lufs - measured
    gain_db, slope, tried, best = plain, 1.0, None, None
    for _ in range(rounds):
        gained = clip * np.float32(db_to_gain(gain_db))
        limiter = Limiter(peak_db, clip.shape[1])
        out = np.concatenate([limiter.process(gained), limiter.flush()])
        if limiter.max_reduction == 0.0:
            return out
        held = np.divide(out, gained, out=np.ones_like(out), where=np.abs(gained) > 1e-9).min(axis=1)
        reached = loudness.integrated_squares(squares * (db_to_gain(gain_db) * held.astype(np.float64)) ** 2)
        if best is None or abs(target_lufs - reached) < abs(target_lufs - best[0]):
            best = (reached, out)
        if abs(target_lufs - reached) <= VOICE_TOLERANCE:
            break
        if tried is not None and gain_db != tried[0]:  # loudness rises less than the gain here
            slope = min(1.0, max(0.2, (reached - tried[1]) / (gain_db - tried[0])))
        tried = (gain_db, reached)
        gain_db = min(plain + VOICE_MAKEUP, max(plain, gain_db + (target_lufs - reached) / slope))
        if gain_db == tried[0]:
            break
    out = best[1]
    reached = loudness.integrated(out)
    if abs(target_lufs - reached) <= VOICE_TOLERANCE:
        out *= np.float32(db_to_gain(target_lufs - reached))
    return out
