"""Speech made a few percent longer or shorter without changing its pitch (WSOLA).

Waveform-similarity overlap-add: the output is built from Hann-windowed grains of the input laid
half a grain apart; the grain for each place is taken near where the time scale puts it, shifted
within a small range to the position whose waveform best continues the grain before (found by
cross-correlation), so voiced sounds keep their phase and nothing warbles. For the small changes
``engines.speak`` makes to meet a rate (at most ``MAX_CHANGE``), it is inaudible.
"""

from __future__ import annotations

import numpy as np

from voiceguide.core.audio import RATE

GRAIN = 1024
"""Samples per grain (23 ms at 44.1 kHz): longer than a voice's pitch period, shorter than a phone."""
HOP = GRAIN // 2
SEARCH = HOP // 2
"""How far (samples) a grain may move from its place to continue the one before."""
MAX_CHANGE = 0.12
"""The most ``speak`` stretches or squeezes a phrase (as a fraction of its length)."""

_WINDOW = np.hanning(GRAIN + 1)[:GRAIN].astype(np.float32)  # periodic: its halves overlap-add to 1


def stretch(clip: np.ndarray, length: int) -> np.ndarray:
    """``clip`` (float32 ``(n, 1)``) played in ``length`` samples at its own pitch."""
    x = np.asarray(clip, dtype=np.float32)[:, 0]
    n = len(x)
    if n < 2 * GRAIN or length == n:
        return np.asarray(clip, dtype=np.float32).copy() if length == n or n == 0 else _resample_len(x, length)
    rate = (n - GRAIN) / max(1, length - GRAIN)  # input samples per output sample
    padded = np.concatenate([np.zeros(SEARCH, np.float32), x, np.zeros(GRAIN + SEARCH, np.float32)])
    out = np.zeros(length + GRAIN, np.float32)
    frames = (length - GRAIN) // HOP + 1
    previous = 0  # where (in x) the last grain was taken
    for k in range(frames):
        nominal = int(round(k * HOP * rate))
        if k == 0:
            at = 0
        else:
            follow = padded[SEARCH + previous + HOP: SEARCH + previous + HOP + GRAIN]  # what would come next
            lo = nominal - SEARCH  # search window in x: [nominal - SEARCH, nominal + SEARCH]
            region = padded[lo + SEARCH: lo + SEARCH + GRAIN + 2 * SEARCH]
            at = lo + _best_offset(region, follow)
            at = min(max(at, 0), n - 1)
        out[k * HOP: k * HOP + GRAIN] += padded[SEARCH + at: SEARCH + at + GRAIN] * _WINDOW
        previous = at
    return out[:length, None]  # the last grain's falling half ends it; what is left is silence


def _best_offset(region: np.ndarray, template: np.ndarray) -> int:
    """Where in ``region`` the ``template`` fits best (cross-correlation by FFT)."""
    size = 1 << int(np.ceil(np.log2(len(region) + len(template))))
    corr = np.fft.irfft(np.fft.rfft(region, size) * np.conj(np.fft.rfft(template, size)), size)
    return int(np.argmax(corr[: len(region) - len(template) + 1]))


def _resample_len(x: np.ndarray, length: int) -> np.ndarray:
    """A clip too short for grains, brought to ``length`` by linear interpolation."""
    if length <= 0:
        return np.zeros((0, 1), np.float32)
    t = np.linspace(0.0, len(x) - 1, length)
    return np.interp(t, np.arange(len(x)), x).astype(np.float32)[:, None]


assert GRAIN / RATE < 0.05, "a grain must stay shorter than a speech sound"
