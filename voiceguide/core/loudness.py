"""Loudness and true peak as ITU-R BS.1770-4 and EBU Tech 3341/3342 define them, measured as a stream.

``Meter`` takes float32 ``(n, channels)`` chunks of any size and keeps a fixed amount of state, so a
session of any length is measured in constant memory: the K-weighting filters carry their state
from chunk to chunk (``scipy.signal.sosfilt`` with ``zi``), the 400 ms gating blocks (75 % overlap)
and 3 s short-term windows are built from 100 ms sub-blocks, and the blocks' energies go into
histograms of 0.01 LU bins (as libebur128 does) rather than a list that grows with the session.

True peak is the peak of the signal oversampled 4x (a polyphase windowed-sinc interpolator, 24 taps
a phase). Only blocks whose sample peak comes within ``TRUE_PEAK_SEARCH_DB`` of the loudest true
peak found so far are oversampled, which keeps it cheap: intersample peaks of real audio exceed the
sample peak by far less than that.

Clips are measured without scipy: ``k_squares`` K-weights a whole clip by FFT (exact steady state
for a loop), and ``Levels`` keeps what mixing needs of a clip (loudness, true peak, energy envelope),
so ``from_energies`` gives a session's loudness from its parts without a pass over its samples.

Channel weights are 1 for each channel (mono, stereo): a mono file is measured as one channel, the
way ffmpeg's ``ebur128`` filter measures it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from voiceguide.core.audio import RATE

ABSOLUTE_GATE = -70.0
"""LUFS; blocks quieter than this never count (BS.1770-4)."""
RELATIVE_GATE = -10.0
"""LU below the absolute-gated mean: blocks quieter than that do not count in integrated loudness."""
RANGE_GATE = -20.0
"""LU below the absolute-gated mean of the short-term windows: the loudness range's relative gate."""
OFFSET = -0.691
"""The constant in BS.1770's loudness formula, so that a 1 kHz sine at 0 dBFS reads -3.01 LUFS."""
SUB_BLOCK = RATE // 10
"""100 ms: the gating blocks (400 ms) step by this much, and short-term windows (3 s) too."""
OVERSAMPLE = 4
TAPS_PER_PHASE = 24
TRUE_PEAK_SEARCH_DB = 3.5
"""Blocks whose sample peak is more than this below the loudest true peak so far are not oversampled."""
PEAK_BLOCK = 1024
"""Samples per block when looking for blocks worth oversampling."""

_BIN = 0.01
_LOW, _HIGH = ABSOLUTE_GATE, 10.0  # LUFS; a block cannot be louder than about +3.3
_BINS = int(round((_HIGH - _LOW) / _BIN))


def k_weighting(rate: int = RATE) -> np.ndarray:
    """The K-weighting filter (a high shelf, then a high-pass) as second-order sections for ``rate``.

    The analogue prototypes behind the 48 kHz coefficients of BS.1770, as libebur128 derives them,
    so every sample rate gets the same response.
    """
    k = math.tan(math.pi * 1681.974450955533 / rate)
    q = 0.7071752369554196
    vh = 10.0 ** (3.999843853973347 / 20.0)
    vb = vh ** 0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    k = math.tan(math.pi * 38.13547087602444 / rate)
    q = 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


_SOS = k_weighting()
_SOS32 = _SOS.astype(np.float32)  # float32 filtering: twice as fast, within 1e-5 dB of float64


def sosfilt(*args, **kwargs):
    """``scipy.signal.sosfilt``, imported on first use: importing scipy.signal takes most of a
    second, which commands that never measure should not pay."""
    from scipy.signal import sosfilt as scipy_sosfilt

    return scipy_sosfilt(*args, **kwargs)


def _guarded(samples: np.ndarray) -> np.ndarray:
    """A float32 copy with +/-1e-15 added at alternate samples: far below anything measurable (-300
    dB), but it keeps the filters' state out of denormal numbers in silence, where they run many
    times slower."""
    global _ALTERNATING
    n = len(samples)
    if len(_ALTERNATING) < n:
        _ALTERNATING = np.tile(np.array([1e-15, -1e-15], np.float32), max(n, 2 * len(_ALTERNATING)) // 2 + 1)
    return np.add(samples, _ALTERNATING[:n].reshape((-1,) + (1,) * (np.ndim(samples) - 1)), dtype=np.float32)


_ALTERNATING = np.zeros(0, np.float32)


def _energy(samples: np.ndarray) -> float:
    """Sum of squares over all samples and channels, in float64."""
    flat = samples.reshape(-1)
    return float(np.dot(flat.astype(np.float64), flat.astype(np.float64))) if len(flat) else 0.0


def lufs(energy: float) -> float:
    """Loudness of a K-weighted mean square summed over channels; -inf for silence."""
    return OFFSET + 10.0 * math.log10(energy) if energy > 0 else float("-inf")


@dataclass(frozen=True)
class Loudness:
    """What a meter measured."""

    integrated: float
    """Integrated loudness, LUFS (-inf when nothing passes the gates)."""
    range: float
    """Loudness range (EBU Tech 3342), LU."""
    true_peak: float
    """dBTP: the peak of the 4x oversampled signal."""
    sample_peak: float
    """dBFS: the largest sample."""
    seconds: float
    """How much audio was measured."""


class _Histogram:
    """Counts and summed energies of blocks, in 0.01 LU bins: fixed size whatever the session's length."""

    def __init__(self) -> None:
        self.count = np.zeros(_BINS, dtype=np.int64)
        self.energy = np.zeros(_BINS, dtype=np.float64)

    def add(self, energies: np.ndarray) -> None:
        loud = energies[energies > 0]
        level = OFFSET + 10.0 * np.log10(loud)
        keep = level >= _LOW  # the absolute gate
        index = np.minimum(((level[keep] - _LOW) / _BIN).astype(np.int64), _BINS - 1)
        self.count += np.bincount(index, minlength=_BINS)
        self.energy += np.bincount(index, weights=loud[keep], minlength=_BINS)

    def gate(self, relative_lu: float) -> int:
        """The first bin at or above ``relative_lu`` below the mean of all (absolute-gated) blocks."""
        total = self.count.sum()
        if total == 0:
            return _BINS
        threshold = lufs(self.energy.sum() / total) + relative_lu
        return max(0, int(math.floor((threshold - _LOW) / _BIN)))

    def mean_above(self, first_bin: int) -> float:
        count = self.count[first_bin:].sum()
        return lufs(self.energy[first_bin:].sum() / count) if count else float("-inf")

    def percentile(self, first_bin: int, fraction: float) -> float:
        counts = self.count[first_bin:]
        total = counts.sum()
        if total == 0:
            return float("-inf")
        index = int(np.searchsorted(np.cumsum(counts), fraction * total, side="left"))
        return _LOW + (first_bin + index + 0.5) * _BIN


class Meter:
    """Integrated loudness, loudness range and true peak of a stream of ``(n, channels)`` chunks."""

    def __init__(self, channels: int, true_peak: bool = True):
        self.channels = channels
        self._zi = np.zeros((len(_SOS), 2, channels), np.float32)
        self._partial = 0.0  # K-weighted sum of squares (all channels) of the unfinished sub-block
        self._partial_count = 0
        self._recent: list[float] = []  # the last 29 sub-block energies (for the 3 s windows)
        self._blocks = _Histogram()
        self._short_term = _Histogram()
        self._samples = 0
        self._peak = TruePeak(channels) if true_peak else None

    def add(self, chunk: np.ndarray) -> None:
        """Measure the next ``(n, channels)`` samples."""
        chunk = np.asarray(chunk)
        if chunk.ndim != 2 or chunk.shape[1] != self.channels:
            raise ValueError(f"expected (n, {self.channels}) samples, got {chunk.shape}")
        if len(chunk) == 0:
            return
        self._samples += len(chunk)
        if self._peak is not None:
            self._peak.add(chunk)
        weighted, self._zi = sosfilt(_SOS32, _guarded(chunk), axis=0, zi=self._zi)
        # finish the sub-block left open by the last chunk, then whole sub-blocks, then keep the rest
        head = min(len(weighted), SUB_BLOCK - self._partial_count)
        self._partial += _energy(weighted[:head])
        self._partial_count += head
        if self._partial_count < SUB_BLOCK:
            return
        whole = (len(weighted) - head) // SUB_BLOCK
        body = weighted[head: head + whole * SUB_BLOCK].reshape(whole, SUB_BLOCK * self.channels)
        energies = np.concatenate([[self._partial], np.einsum("ij,ij->i", body, body).astype(np.float64)])
        rest = weighted[head + whole * SUB_BLOCK:]
        self._partial, self._partial_count = _energy(rest), len(rest)
        self._add_sub_blocks(energies / SUB_BLOCK)

    def add_sub_blocks(self, energies: np.ndarray) -> None:
        """Count whole 100 ms sub-blocks given by their K-weighted mean squares (summed over the
        channels), instead of samples: how ``from_energies`` measures a mix from its parts."""
        energies = np.asarray(energies, dtype=np.float64)
        self._samples += len(energies) * SUB_BLOCK
        self._add_sub_blocks(energies)

    def _add_sub_blocks(self, energies: np.ndarray) -> None:
        run = np.concatenate([self._recent, energies])
        sums = np.concatenate([[0.0], np.cumsum(run)])
        done = len(self._recent)  # windows ending inside the earlier sub-blocks were counted already
        ends = np.arange(done + 1, len(run) + 1)
        for width, histogram in ((4, self._blocks), (30, self._short_term)):
            full = ends[ends >= width]
            histogram.add((sums[full] - sums[full - width]) / width)
        self._recent = list(run[-29:])

    def result(self) -> Loudness:
        """What was measured so far (call after the last ``add``)."""
        integrated = self._blocks.mean_above(self._blocks.gate(RELATIVE_GATE))
        first = self._short_term.gate(RANGE_GATE)
        low, high = self._short_term.percentile(first, 0.10), self._short_term.percentile(first, 0.95)
        lra = max(0.0, high - low) if math.isfinite(low) else 0.0
        if self._peak is not None:
            true_peak, sample_peak = self._peak.result()
        else:
            true_peak = sample_peak = float("nan")
        return Loudness(integrated, lra, true_peak, sample_peak, self._samples / RATE)


def measure(chunks, channels: int | None = None, true_peak: bool = True) -> Loudness:
    """Loudness of an iterable of ``(n, channels)`` chunks (or of one array)."""
    if isinstance(chunks, np.ndarray):
        chunks = [chunks]
    meter = None
    for chunk in chunks:
        if meter is None:
            meter = Meter(channels or chunk.shape[1], true_peak)
        meter.add(chunk)
    if meter is None:
        meter = Meter(channels or 2, true_peak)
    return meter.result()


def from_energies(sums: np.ndarray, channels: int = 2) -> Loudness:
    """Integrated loudness and loudness range of a session given as its K-weighted sums of squares
    (all channels) per 100 ms sub-block: the measurement without the samples (``mix.energies``).
    The true peaks are not known from these (NaN)."""
    meter = Meter(channels, true_peak=False)
    meter.add_sub_blocks(np.asarray(sums, dtype=np.float64) / SUB_BLOCK)
    return meter.result()


# --- clip levels -----------------------------------------------------------------------------------


FFT_BLOCK = 1 << 16
"""Samples per FFT when K-weighting a clip (``k_squares``): at most this many, fewer for short ones."""
FFT_TAPS = 4096
"""The K-weighting filter's impulse response has fallen to 1e-20 of its energy after this many
samples: as a filter of this length it is the same filter, to float precision."""


@functools.cache
def _k_response(size: int) -> np.ndarray:
    """The K-weighting filter's frequency response at the bins of a ``size`` FFT, ``(bins, 1)``."""
    z1 = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)
    response = np.ones_like(z1)
    for b0, b1, b2, a0, a1, a2 in _SOS:
        response *= (b0 + (b1 + b2 * z1) * z1) / (a0 + (a1 + a2 * z1) * z1)
    return response[:, None]


def k_squares(samples: np.ndarray, extra: int = 0, periodic: bool = False) -> np.ndarray:
    """Per sample, the K-weighted signal squared and summed over the channels (float64).

    For clips, not streams: filtered by FFT (overlap-save), which needs no filter state, so it is
    the same whatever came before, and needs no scipy. ``extra`` more samples are given: the filter
    ringing on after the clip, as if silence followed it. ``periodic``: the clip is a loop that has
    been playing forever (what came before it is its own end): its steady state.
    """
    x = np.asarray(samples, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    n, channels = x.shape
    history = FFT_TAPS - 1
    if periodic and n:
        before = np.tile(x, (-(-history // n), 1))[len(x) * -(-history // n) - history:]
    else:
        before = np.zeros((history, channels))
    stream = np.concatenate([before, x])
    total = n + extra
    size = min(FFT_BLOCK, 1 << max(13, (total + history - 1).bit_length()))  # short clips: short FFTs
    step = size - history
    out = np.empty(total)
    response = _k_response(size)
    for start in range(0, total, step):
        y = np.fft.irfft(np.fft.rfft(stream[start: start + size], size, axis=0) * response, size, axis=0)[history:]
        count = min(step, total - start)
        out[start: start + count] = np.einsum("ij,ij->i", y[:count], y[:count])
    return out


def integrated(samples: np.ndarray) -> float:
    """Integrated loudness (LUFS) of a clip; one that is shorter than a gating block is one block."""
    return integrated_squares(k_squares(samples))


def integrated_squares(squares: np.ndarray) -> float:
    """``integrated`` of a clip given by its ``k_squares``."""
    if len(squares) >= 4 * SUB_BLOCK:
        whole = len(squares) // SUB_BLOCK
        return from_energies(squares[: whole * SUB_BLOCK].reshape(whole, SUB_BLOCK).sum(axis=1)).integrated
    if len(squares) == 0:
        return float("-inf")
    return lufs(float(squares.mean()))


def sounding_level(samples: np.ndarray, block_ms: float = 50.0, gate_lu: float = 20.0,
                   squares: np.ndarray | None = None) -> float:
    """Loudness (LUFS) of a sound while it sounds: K-weighted 50 ms blocks within ``gate_lu`` of the
    loudest one. For ticks, chimes and beds, whose silences and decays should not pull a level down;
    -inf for silence. ``squares``: the samples' ``k_squares``, when they are known already."""
    squares = k_squares(samples) if squares is None else squares
    block = max(1, int(RATE * block_ms / 1000.0))
    n = len(squares) // block
    if n == 0:
        energy = squares.mean(keepdims=True) if len(squares) else np.zeros(1)
    else:
        energy = squares[: n * block].reshape(n, block).mean(axis=1)
    loudest = energy.max()
    if loudest <= 1e-15:
        return float("-inf")
    return lufs(float(energy[energy >= loudest * 10.0 ** (-gate_lu / 10.0)].mean()))


ENERGY_STEP = 63
"""Samples per bin of a clip's energy envelope (``Levels.energy``): 1.4 ms, 70 bins to a sub-block."""
TAIL = 2048
"""Samples the K-weighting filter rings on after a sound ends: what is left after them is 2e-11 of
an impulse's energy, so a clip's envelope covers its length plus these."""


@dataclass(frozen=True, eq=False)
class Levels:
    """What mixing and mastering need to know of a clip, measured once (and cached with narration):
    its loudness, its true peak, and where its K-weighted energy lies in time."""

    loudness: float
    """Integrated loudness (LUFS) of the clip as it is, its channels summed."""
    true_peak: float
    """dBTP of the clip as it is."""
    energy: np.ndarray = field(repr=False)
    """K-weighted sum of squares (all channels) per ``ENERGY_STEP`` samples, float32, the filter's
    ``TAIL`` after the clip included: the clip's share of a mix's loudness wherever it is placed."""

    @classmethod
    def of(cls, samples: np.ndarray) -> Levels:
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        peak = TruePeak(samples.shape[1])
        peak.add(samples)
        # as float32, as the cache keeps them: measured now or read back, a render is the same
        return cls.from_array(np.array([integrated(samples), peak.result()[0]], np.float32), energy_envelope(samples))

    def to_array(self) -> np.ndarray:
        """One float32 array (for the cache): loudness, true peak, then the envelope."""
        return np.concatenate([np.array([self.loudness, self.true_peak], np.float32), self.energy])

    @classmethod
    def from_array(cls, values: np.ndarray, energy: np.ndarray | None = None) -> Levels:
        """From ``to_array``'s output (or its first two values, and ``energy``)."""
        energy = values[2:] if energy is None else energy
        return cls(float(values[0]), float(values[1]), np.asarray(energy, dtype=np.float32))

    @property
    def length(self) -> int:
        """Samples the envelope covers (the clip's length plus ``TAIL``, rounded up to a bin)."""
        return len(self.energy) * ENERGY_STEP

    @staticmethod
    def covering(samples: int) -> int:
        """What ``length`` is for a clip of ``samples``."""
        return -(-(samples + TAIL) // ENERGY_STEP) * ENERGY_STEP


def energy_envelope(samples: np.ndarray) -> np.ndarray:
    """K-weighted sum of squares of ``(n, channels)`` samples per ``ENERGY_STEP``, ``TAIL`` included."""
    squares = k_squares(samples, Levels.covering(len(samples)) - len(samples))
    return squares.reshape(-1, ENERGY_STEP).sum(axis=1).astype(np.float32)


# --- true peak -----------------------------------------------------------------------------------


def _interpolator(phases: int = OVERSAMPLE, taps: int = TAPS_PER_PHASE) -> np.ndarray:
    """Coefficients ``(phases - 1, taps)``: phase ``p`` estimates the signal at ``n + p / phases``.

    A Kaiser-windowed sinc, each phase normalised to unity gain at DC. Phase 0 is the sample itself.
    """
    half = taps // 2
    d = np.arange(-half, half)  # the interpolated point n + p/phases uses x[n - d]
    rows = []
    for p in range(1, phases):
        t = d + p / phases
        row = np.sinc(t) * np.i0(7.0 * np.sqrt(np.clip(1.0 - (t / half) ** 2, 0.0, None))) / np.i0(7.0)
        rows.append(row / row.sum())
    return np.array(rows)


_PHASES = _interpolator()
HALF = TAPS_PER_PHASE // 2
"""Samples of context each side that the interpolator needs."""


def peak_envelope(x: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude on ``[n, n + 1)`` of the 4x oversampled signal, all channels.

    ``x`` is ``(m + 2 * HALF, channels)``: ``HALF`` samples of context each side of the ``m`` wanted.
    """
    x = np.asarray(x, dtype=np.float64)
    m = len(x) - 2 * HALF
    env = magnitude(x[HALF: HALF + m])
    for row in _PHASES:
        for c in range(x.shape[1]):
            # 'valid' output i is sum_d row[d] x[n - d] for buffer index n = i + HALF - 1
            y = np.convolve(x[:, c], row, mode="valid")
            np.maximum(env, np.abs(y[1: m + 1]), out=env)
    return env


def envelope_at(x: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``peak_envelope(x)[at]``, worked out at those samples only: for the few near a ceiling."""
    x = np.asarray(x, dtype=np.float64)
    at = np.asarray(at, dtype=np.intp)
    out = magnitude(x[HALF + at])
    reach = TAPS_PER_PHASE - np.arange(TAPS_PER_PHASE)  # the point after sample HALF + i uses x[i + reach]
    for c in range(x.shape[1]):
        np.maximum(out, np.abs(x[at[:, None] + reach, c] @ _PHASES.T).max(axis=1), out=out)
    return out


def hot_runs(mask: np.ndarray, block: int = PEAK_BLOCK) -> list[tuple[int, int]]:
    """Index ranges covering every ``block``-sized block of ``mask`` that holds a true value, with
    neighbouring blocks merged into one range."""
    n = len(mask)
    count = -(-n // block)
    padded = np.zeros(count * block, dtype=bool)
    padded[:n] = mask
    hot = padded.reshape(count, block).any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], hot, [False]]).astype(np.int8)))
    return [(int(a) * block, min(n, int(b) * block)) for a, b in zip(edges[::2], edges[1::2])]


class TruePeak:
    """The true peak of a stream, oversampling only the blocks that could hold a new maximum."""

    def __init__(self, channels: int):
        self._tail = np.zeros((2 * HALF, channels))  # the stream's last 2*HALF samples (zeros before it)
        self.true_peak = 0.0
        self.sample_peak = 0.0

    def add(self, chunk: np.ndarray) -> None:
        buf = np.concatenate([self._tail, chunk])
        self._scan(buf)
        self._tail = buf[-2 * HALF:]

    def _scan(self, buf: np.ndarray) -> None:
        """Peaks of ``buf[HALF:-HALF]`` (the samples that now have context on both sides)."""
        m = len(buf) - 2 * HALF
        if m <= 0:
            return
        body = magnitude(buf[HALF: HALF + m])
        self.sample_peak = max(self.sample_peak, float(body.max()))
        threshold = max(self.true_peak * 10.0 ** (-TRUE_PEAK_SEARCH_DB / 20.0), 1e-9)
        for a, z in hot_runs(body >= threshold):
            self.true_peak = max(self.true_peak, float(peak_envelope(buf[a: z + 2 * HALF]).max()))

    def result(self) -> tuple[float, float]:
        """``(true peak dBTP, sample peak dBFS)`` of the stream so far, as if it ended here."""
        if len(self._tail):
            self._scan(np.concatenate([self._tail, np.zeros((HALF, self._tail.shape[1]))]))
            self._tail = self._tail[len(self._tail):]  # scanned: the stream has ended
        return _db(self.true_peak), _db(self.sample_peak)


def magnitude(x: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude across channels (much faster than ``abs(x).max(axis=1)``)."""
    out = np.abs(x[:, 0])
    for c in range(1, x.shape[1]):
        np.maximum(out, np.abs(x[:, c]), out=out)
    return out


def _db(gain: float) -> float:
    return 20.0 * math.log10(gain) if gain > 0 else float("-inf")
