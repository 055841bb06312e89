"""The sounds a session plays (ticks, chimes, breathing tones) and the bed that loops under it.

Built-in sounds and beds are synthesized with numpy, deterministically, so the same routine gives
the same MP3 bytes on every run; anything that is not a built-in name is a file path, decoded with
``audio.decode_file``. Absolute levels do not matter here: the mixer levels every clip and the bed
by loudness. What matters is shape: every sound starts and ends at zero with no DC, and
every bed loops without a seam (reading across the wrap is as smooth as reading inside the loop).

Arrays handed out are read-only, so the cached built-ins cannot be corrupted by a caller.
"""

from __future__ import annotations

import functools
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voiceguide.core import audio, files, loudness
from voiceguide.core.audio import RATE
from voiceguide.core.errors import AudioError
from voiceguide.script.media import SILENCE_DB
from voiceguide.script.model import BUILTIN_BEDS, BUILTIN_SOUNDS

PEAK = 0.5
"""Peak of every built-in sound."""
ONSET_MS = 2.0
"""How much of the quiet before (and after) a file sound's first (last) loud sample is kept."""
BED_SECONDS = 30.0
"""Length of the generated beds' loops."""
BED_LEVEL_DB = -24.0
"""Gated level (``audio.level_db``) of the generated beds: peaks stay well below full scale."""
BED_CROSSFADE_SECONDS = 2.0
"""Longest crossfade that joins a file bed's end to its start."""
BED_SHORT_SECONDS = 4.0
"""File beds up to this long loop as they are (with 10 ms edge fades), without a crossfade."""

Partial = tuple[float, float, float]
"""One partial of a struck sound: (ratio to the fundamental, amplitude, decay constant in s)."""


# --- built-in sounds ----------------------------------------------------------------------------


def builtin_sound(name: str) -> np.ndarray:
    """The built-in sound ``name`` (from ``model.BUILTIN_SOUNDS``): read-only float32 ``(n, 2)``.

    ``none`` is a zero-length ``(0, 2)`` array. Each sound is made once per process.
    """
    if name not in BUILTIN_SOUNDS:
        raise ValueError(f"no built-in sound {name!r}; built-ins are {', '.join(BUILTIN_SOUNDS)}")
    return _cached_sound(name)


@functools.cache
def _cached_sound(name: str) -> np.ndarray:
    if name == "none":
        return _read_only(np.zeros((0, 2), dtype=np.float32))
    return _SYNTHS[name]()


def _tick() -> np.ndarray:
    """A soft pacing tick: a 1.5 kHz sine with a quiet octave, 3 ms attack, 45 ms decay constant."""
    t = _times(0.22)
    mono = _struck(t, 1480.0, ((1.0, 1.0, 0.045), (2.0, 0.12, 0.020)))
    return _finish(mono, attack_ms=3.0, release_ms=20.0)


def _wood() -> np.ndarray:
    """A muted wooden knock: two inharmonic partials near 470 and 800 Hz, plus a 4 ms noise thud."""
    t = _times(0.15)
    body = _struck(t, 470.0, ((1.0, 1.0, 0.030), (1.71, 0.45, 0.018)))
    band = _band(np.fft.rfftfreq(len(t), 1.0 / RATE), 300.0, 1500.0)
    thud = _shaped_noise(band, len(t), np.random.default_rng(7)) * np.exp(-t / 0.004)
    mono = body + 0.3 * thud / np.max(np.abs(thud))
    return _finish(mono, attack_ms=1.0, release_ms=30.0)


def _chime() -> np.ndarray:
    """A warm two-tone chime: E5 then C5 (a major third down) 0.22 s later, bell-like partials.

    It rings out within about a second, most of the default lead-in, so the words that follow it
    start in quiet (the mixer fades what is left: ``mix.OPENINGS``).
    """
    t = _times(2.0)
    partials: tuple[Partial, ...] = (
        (0.5, 0.14, 0.90),  # a soft hum below the strike note: warmth
        (1.0, 1.00, 0.55),
        (2.01, 0.25, 0.35),
        (2.76, 0.08, 0.22),
        (5.40, 0.02, 0.08),
    )
    first = _struck(t, 659.26, partials, attack_s=0.006)
    second = _struck(t, 523.25, partials, onset_s=0.22, attack_s=0.006)
    return _finish(first + 0.9 * second, attack_ms=6.0, release_ms=500.0)


def _bell() -> np.ndarray:
    """A small bell (A5): one strike with partials at bell ratios, the higher ones dying sooner."""
    t = _times(2.0)
    partials: tuple[Partial, ...] = (
        (1.0, 1.00, 0.80),
        (2.0, 0.45, 0.50),
        (2.76, 0.30, 0.32),
        (5.40, 0.10, 0.12),
    )
    return _finish(_struck(t, 880.0, partials), attack_ms=2.0, release_ms=400.0)


def _rise() -> np.ndarray:
    """"Breathe in": a soft tone gliding up a fourth, 330 to 440 Hz, in 0.9 s. (On an inhale or
    exhale the mixer plays a tone as long as the phase instead: ``tones``.)"""
    return _glide(330.0, 440.0)


def _fall() -> np.ndarray:
    """"Breathe out": a soft tone gliding down a fourth, 440 to 330 Hz, in 0.9 s."""
    return _glide(440.0, 330.0)


def _glide(start_hz: float, end_hz: float, seconds: float = 0.9) -> np.ndarray:
    """A sine (with a faint octave) gliding smoothly in pitch, in a raised-cosine swell."""
    n = audio.seconds_to_samples(seconds)
    ease = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))
    freq = start_hz * (end_hz / start_hz) ** ease  # even steps in pitch, easing in and out
    phase = 2.0 * np.pi * (np.cumsum(freq) - freq[0]) / RATE
    mono = np.sin(phase) + 0.12 * np.sin(2.0 * phase)
    return _finish(mono, attack_ms=350.0 * seconds, release_ms=450.0 * seconds)


#: The synthesizer of each built-in sound but ``none``.
_SYNTHS = {
    "tick": _tick, "wood": _wood, "chime": _chime, "bell": _bell, "rise": _rise, "fall": _fall,
}


def _times(seconds: float) -> np.ndarray:
    """Times in seconds of each sample of a clip ``seconds`` long."""
    return np.arange(audio.seconds_to_samples(seconds)) / RATE


def _struck(t: np.ndarray, f0: float, partials: tuple[Partial, ...], onset_s: float = 0.0,
            attack_s: float = 0.0) -> np.ndarray:
    """Exponentially decaying sine partials of ``f0``, struck at ``onset_s`` (silent before)."""
    local = np.maximum(t - onset_s, 0.0)
    out = np.zeros_like(t)
    for ratio, amp, decay in partials:
        out += amp * np.sin(2.0 * np.pi * f0 * ratio * local) * np.exp(-local / decay)
    if attack_s > 0:
        out *= _ramp(np.clip(local / attack_s, 0.0, 1.0))
    return np.where(t >= onset_s, out, 0.0)


def _ramp(u: np.ndarray) -> np.ndarray:
    """Raised-cosine ramp: 0 at ``u=0``, 1 at ``u=1``, flat at both ends."""
    return 0.5 - 0.5 * np.cos(np.pi * u)


def _envelope(n: int, attack_ms: float, release_ms: float) -> np.ndarray:
    """Ones, with raised-cosine ramps from zero at the start and to zero at the end."""
    env = np.ones(n)
    for length, sl in ((attack_ms, slice(None)), (release_ms, slice(None, None, -1))):
        k = min(n, max(2, int(RATE * length / 1000.0)))
        env[sl][:k] *= _ramp(np.linspace(0.0, 1.0, k))
    return env


def _finish(mono: np.ndarray, attack_ms: float, release_ms: float) -> np.ndarray:
    """Shape a mono float64 signal into a built-in sound: enveloped, DC-free, peak at ``PEAK``.

    The DC offset is taken out with a Hann-shaped correction, so the ends stay exactly zero.
    """
    shaped = mono * _envelope(len(mono), attack_ms, release_ms)
    window = np.hanning(len(shaped))
    shaped -= window * (shaped.sum() / window.sum())
    shaped *= PEAK / np.max(np.abs(shaped))
    return _read_only(np.repeat(shaped[:, None], 2, axis=1).astype(np.float32))


def _read_only(samples: np.ndarray) -> np.ndarray:
    samples.flags.writeable = False
    return samples


# --- sounds from names or files ------------------------------------------------------------------


def load_sound(ref: str | os.PathLike[str]) -> np.ndarray:
    """A built-in sound by name, or a sound file: read-only float32 ``(n, 2)`` at ``RATE``.

    A file is trimmed of near-silence at both ends (keeping ``ONSET_MS`` before its first loud
    sample, so it lands on its beat) and given short edge fades. Raises ``AudioError`` naming the
    path when the file is missing, unreadable or silent.
    """
    if isinstance(ref, str) and ref in BUILTIN_SOUNDS:
        return builtin_sound(ref)
    trimmed = _trim_silence(audio.decode_file(ref), ref)
    return _read_only(audio.edge_fade(trimmed, ms=ONSET_MS))


def _trim_silence(samples: np.ndarray, ref: str | os.PathLike[str]) -> np.ndarray:
    """``samples`` without the near-silence (below ``SILENCE_DB``) at either end, less a margin."""
    loud = np.flatnonzero(np.max(np.abs(samples), axis=1) >= audio.db_to_gain(SILENCE_DB))
    if loud.size == 0:
        raise AudioError(f"{os.fspath(ref)}: the file is silent (nothing above {SILENCE_DB:g} dB)")
    margin = audio.seconds_to_samples(ONSET_MS / 1000.0)
    start = max(0, int(loud[0]) - margin)
    stop = min(len(samples), int(loud[-1]) + 1 + margin)
    return samples[start:stop]


# --- beds ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Bed:
    """A background that loops without a seam: sample ``i`` of the bed is ``loop[i % len(loop)]``.

    Immutable; ``read`` hands out new arrays, in O(count) for any start.
    """

    loop: np.ndarray = field(repr=False)
    """Float32 ``(n, 2)`` at ``RATE``, read-only; reading past its end continues at its start."""

    def __post_init__(self) -> None:
        loop = np.array(self.loop, dtype=np.float32)  # our own copy, so the caller cannot change it
        if loop.ndim != 2 or loop.shape[1] != 2 or len(loop) == 0:
            raise ValueError(f"a bed loop must be a non-empty (n, 2) array, not {loop.shape}")
        object.__setattr__(self, "loop", _read_only(loop))

    def __len__(self) -> int:
        return len(self.loop)

    @functools.cached_property
    def level(self) -> float:
        """Its loudness while it sounds (``loudness.sounding_level``, in its steady state), measured once."""
        return loudness.sounding_level(self.loop, squares=np.diff(self.energy(2)))

    def energy(self, channels: int) -> np.ndarray:
        """The loop's K-weighted energy (summed over ``channels``: 2, or 1 for the mono downmix) in
        its steady state, as it plays on and on: from its start to each sample, ``len + 1`` values.
        Measured once per layout."""
        kept = self.__dict__.setdefault("_energy", {})
        if channels not in kept:
            heard = self.loop if channels == 2 else self.loop.mean(axis=1, keepdims=True)
            kept[channels] = np.concatenate([[0.0], np.cumsum(loudness.k_squares(heard, periodic=True))])
        return kept[channels]

    def __repr__(self) -> str:
        return f"Bed({audio.samples_to_ms(len(self.loop)) / 1000.0:g} s loop)"

    def read(self, start: int, count: int, gain: np.ndarray | None = None) -> np.ndarray:
        """Samples ``[start, start + count)`` of the loop repeated forever: a new float32 array,
        multiplied by ``gain`` (``(count, 1)``) when given."""
        if count < 0:
            raise ValueError(f"cannot read {count} samples")
        n = len(self.loop)
        offset = start % n
        head = self.loop[offset : offset + count]
        if len(head) == count:
            return head.copy() if gain is None else head * gain
        if gain is not None:
            out = self.read(start, count)
            out *= gain
            return out
        whole, tail = divmod(count - len(head), n)
        return np.concatenate([head, np.tile(self.loop, (whole, 1)), self.loop[:tail]])


def make_bed(ref: str | os.PathLike[str], seed: int = 0, loop_start: float = 0.0,
             loop_end: float | None = None, cache_dir: str | os.PathLike[str] | None = None) -> Bed | None:
    """The bed named ``ref`` (``noise``, ``drone``; ``None`` for ``none``), or one from a file.

    ``seed`` picks the random phases of the generated beds; the same seed gives the same samples.
    A file bed is decoded and looped without a seam. Without loop points the file is trimmed of
    near-silence at its ends and its end is crossfaded into its start. ``loop_start`` and
    ``loop_end`` (seconds into the file; ``None``: its end) pick the part that loops, which then
    keeps its exact length (a musical loop stays in time); the seam is crossfaded with the audio
    just before ``loop_start`` (or just after ``loop_end``) where the file has it. Raises
    ``AudioError`` naming the path when the file is missing, unreadable, silent, or shorter than
    its loop points. A generated bed is kept in ``cache_dir`` when given (making one takes a
    quarter of a second), and in memory for the process.
    """
    if isinstance(ref, str) and ref in BUILTIN_BEDS:
        return None if ref == "none" else _generated_bed(ref, seed, None if cache_dir is None else Path(cache_dir))
    samples = audio.decode_file(ref)
    if loop_start == 0.0 and loop_end is None:
        return Bed(_seamless(_trim_silence(samples, ref)))
    start = audio.seconds_to_samples(loop_start)
    end = len(samples) if loop_end is None else audio.seconds_to_samples(loop_end)
    if not 0 <= start < end <= len(samples):
        until = "its end" if loop_end is None else f"{loop_end:g} s"
        raise AudioError(f"{os.fspath(ref)}: the loop from {loop_start:g} s to {until} does not fit in the "
                         f"file ({len(samples) / RATE:.2f} s)")
    if np.max(np.abs(samples[start:end])) < audio.db_to_gain(SILENCE_DB):
        raise AudioError(f"{os.fspath(ref)}: the loop is silent (nothing above {SILENCE_DB:g} dB)")
    return Bed(_loop_region(samples, start, end))


GENERATED_BEDS = 1
"""The version of the generated beds: part of their name in a cache, so change it with them."""


@functools.cache
def _generated_bed(name: str, seed: int, cache_dir: Path | None) -> Bed:
    kept = None if cache_dir is None else cache_dir / "beds" / f"{name}-{seed}-v{GENERATED_BEDS}.npy"
    if kept is not None:
        try:
            loop = np.load(kept, allow_pickle=False)
            if loop.dtype == np.float32 and loop.shape == (audio.seconds_to_samples(BED_SECONDS), 2):
                return Bed(loop)
        except (OSError, ValueError, EOFError):
            pass
    loop = _noise_loop(seed) if name == "noise" else _drone_loop(seed)
    gain = audio.db_to_gain(BED_LEVEL_DB - audio.level_db(loop))
    bed = Bed((loop * gain).astype(np.float32))
    if kept is not None:
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            files.atomic_write_bytes(kept, _npy(bed.loop))
        except OSError:  # a read-only or full cache: make it again next time
            pass
    return bed


def _npy(values: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, values, allow_pickle=False)
    return out.getvalue()


def _noise_loop(seed: int) -> np.ndarray:
    """Soft, warm noise (distant surf, moving air): a 1/f^1.5 spectrum from 40 Hz to about 2.2 kHz.

    Made from whole FFT bins of the loop, so it is exactly periodic. The channels are mid plus and
    minus a quieter side (L/R correlation 0.7: some width, no hole in the middle), and a slow swell
    of periods 10 and 30 s (+/- 1.25 and 0.5 dB) lets it breathe.
    """
    n = audio.seconds_to_samples(BED_SECONDS)
    rng = np.random.default_rng(seed)
    magnitude = _warm_noise_magnitude(np.fft.rfftfreq(n, 1.0 / RATE))
    mid, side = (_shaped_noise(magnitude, n, rng) for _ in range(2))
    correlation = 0.7
    side *= np.sqrt((1.0 - correlation) / (1.0 + correlation))
    stereo = np.stack([mid + side, mid - side], axis=1)
    swell_db = 1.25 * _loop_sine(n, 3, rng.uniform(0.0, 2.0 * np.pi)) \
        + 0.5 * _loop_sine(n, 1, rng.uniform(0.0, 2.0 * np.pi))
    return stereo * (10.0 ** (swell_db / 20.0))[:, None]


def _warm_noise_magnitude(f: np.ndarray) -> np.ndarray:
    """Amplitude spectrum of the noise bed: power falling as 1/f^1.5, 4th-order band 40-2200 Hz."""
    slope = np.power(np.maximum(f, 1.0), -0.75)
    return slope * _band(f, 40.0, 2200.0, order=4)


def _band(f: np.ndarray, low_hz: float, high_hz: float, order: int = 2) -> np.ndarray:
    """Magnitude response of a Butterworth-like band-pass (``low_hz`` to ``high_hz``)."""
    highpass = (f / low_hz) ** order / np.sqrt(1.0 + (f / low_hz) ** (2 * order))
    lowpass = 1.0 / np.sqrt(1.0 + (f / high_hz) ** (2 * order))
    return highpass * lowpass


def _shaped_noise(magnitude: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of noise with amplitude ``magnitude`` in each rfft bin and random phases.

    Built from whole bins of an ``n``-sample period, so it wraps around without a seam; RMS 1.
    """
    spectrum = magnitude * np.exp(1j * rng.uniform(0.0, 2.0 * np.pi, len(magnitude)))
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return noise / np.sqrt(np.mean(noise**2))


def _loop_sine(n: int, cycles: int, phase: float = 0.0) -> np.ndarray:
    """A sine making exactly ``cycles`` whole cycles over ``n`` samples, so it loops seamlessly."""
    return np.sin(2.0 * np.pi * cycles * np.arange(n) / n + phase)


#: The drone's chord, tuned just on A (multiples of 55 Hz): A2, E3, A3, C#4, E4, with amplitudes.
DRONE_CHORD: tuple[tuple[float, float], ...] = (
    (110.0, 1.0), (165.0, 0.6), (220.0, 0.5), (275.0, 0.4), (330.0, 0.3))


def _drone_loop(seed: int) -> np.ndarray:
    """A gentle pad: the sine partials of ``DRONE_CHORD``, each swelling slowly on its own.

    Every partial makes a whole number of cycles per loop. The root sits in the middle; above it,
    the right channel's partial makes one cycle more than the left's (1/30 Hz apart), so the image
    turns slowly, and the moments where a pair cancels in mono are spread evenly over the loop so a
    phone speaker hears a steady level. Amplitude swells (+/- 20 %) last 30, 15 or 10 s.
    """
    n = audio.seconds_to_samples(BED_SECONDS)
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 2))
    detuned = len(DRONE_CHORD) - 1
    for i, (hz, amp) in enumerate(DRONE_CHORD):
        cycles = int(round(hz * BED_SECONDS))
        phase = rng.uniform(0.0, 2.0 * np.pi)
        swell = amp * (1.0 + 0.2 * _loop_sine(n, 1 + i % 3, rng.uniform(0.0, 2.0 * np.pi)))
        right = (cycles, phase) if i == 0 else (cycles + 1, phase + 2.0 * np.pi * (i - 1) / detuned)
        out[:, 0] += swell * _loop_sine(n, cycles, phase)
        out[:, 1] += swell * _loop_sine(n, *right)
    return out


def _seamless(samples: np.ndarray) -> np.ndarray:
    """A loop made from a whole file: its end crossfaded into its start, or short-faded.

    For a crossfade of X samples the loop is ``file[X:]``, whose last X samples fade from the file's
    end into ``file[:X]``; so the loop's last sample is about ``file[X-1]`` and its first
    ``file[X]``: across the wrap the file simply plays on.
    """
    n = len(samples)
    if n <= audio.seconds_to_samples(BED_SHORT_SECONDS):
        return audio.edge_fade(samples, ms=10.0)
    x = min(audio.seconds_to_samples(BED_CROSSFADE_SECONDS), n // 4)
    loop = np.array(samples[x:], dtype=np.float32)
    loop[-x:] = _crossfade(samples[n - x:], samples[:x])
    return loop


def _loop_region(samples: np.ndarray, start: int, end: int) -> np.ndarray:
    """``samples[start:end]`` as a loop of exactly that length, its seam crossfaded.

    The loop's last X samples fade into the X samples before ``start`` (which lead into the loop's
    first sample), or its first X samples fade in from the X samples after ``end`` (which follow
    its last); with room for neither, the region loops as a whole file does.
    """
    x = min(audio.seconds_to_samples(BED_CROSSFADE_SECONDS), (end - start) // 4)
    loop = np.array(samples[start:end], dtype=np.float32)
    if x and start >= x:
        loop[-x:] = _crossfade(samples[end - x: end], samples[start - x: start])
    elif x and len(samples) - end >= x:
        loop[:x] = _crossfade(samples[end: end + x], samples[start: start + x])
    else:
        return _seamless(loop)
    return loop


def _crossfade(leaving: np.ndarray, arriving: np.ndarray) -> np.ndarray:
    """A constant-power crossfade from ``leaving`` to ``arriving`` (same shape).

    Straight fades normalised by the power of their sum given the two parts' correlation: equal
    power for unrelated material (noise, rain), plain linear for material that lines up (a tone, a
    loop cut on the beat), so the seam neither dips nor swells.
    """
    a = np.asarray(leaving, dtype=np.float64)
    b = np.asarray(arriving, dtype=np.float64)
    norm = np.sqrt(np.sum(a * a) * np.sum(b * b))
    rho = float(np.clip(np.sum(a * b) / norm, -0.5, 1.0)) if norm > 0 else 0.0
    u = np.linspace(0.0, 1.0, len(a))[:, None]
    fade_out, fade_in = 1.0 - u, u
    power = np.sqrt(fade_out**2 + fade_in**2 + 2.0 * rho * fade_out * fade_in)
    return ((a * fade_out + b * fade_in) / power).astype(np.float32)
