"""Audio values inside the pipeline, and the one place that converts to and from other forms.

Inside voiceguide all audio is a float32 numpy array of shape ``(samples, channels)`` at ``RATE``,
with full scale at 1.0; time is counted in samples. Files are decoded by the ffmpeg binary that the
``imageio-ffmpeg`` wheel ships (no system ffmpeg needed); pydub segments convert both ways here.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import numpy as np

from voiceguide.core.errors import AudioError

RATE = 44_100
"""Samples per second, everywhere inside the pipeline."""


def seconds_to_samples(seconds: float) -> int:
    return int(round(seconds * RATE))


def samples_to_ms(samples: int) -> float:
    return round(samples * 1000.0 / RATE, 3)


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


@functools.cache
def ffmpeg_path() -> str:
    """The ffmpeg binary from the ``imageio-ffmpeg`` wheel (or ``IMAGEIO_FFMPEG_EXE`` if set)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decode_file(path: str | Path, channels: int = 2, rate: int = RATE) -> np.ndarray:
    """Decode any file ffmpeg reads to float32 ``(samples, channels)`` at ``rate``.

    Raises ``AudioError`` with ffmpeg's own message when the file is missing or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such audio file")
    cmd = [ffmpeg_path(), "-nostdin", "-v", "error", "-i", str(path), "-vn", "-map", "0:a:0",
           "-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(channels), "-ar", str(rate), "pipe:1"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        reason = _last_line(proc.stderr) or f"ffmpeg exited with {proc.returncode}"
        raise AudioError(f"{path}: cannot decode audio: {reason}")
    data = np.frombuffer(proc.stdout, dtype="<f4")
    if data.size == 0:
        raise AudioError(f"{path}: the file holds no audio")
    return data.reshape(-1, channels).astype(np.float32, copy=True)


def _last_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples to 16-bit PCM, with rounding and hard bounds (the mixer keeps peaks below 1)."""
    scaled = np.multiply(samples, np.float32(32767.0), dtype=np.float32)  # one buffer, worked in place
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768.0, 32767.0, out=scaled)
    return scaled.astype("<i2")


def from_segment(segment) -> np.ndarray:
    """A pydub ``AudioSegment`` to float32 ``(samples, channels)`` at ``RATE``."""
    from voiceguide.core.resample import resample

    width = segment.sample_width
    raw = np.frombuffer(segment.raw_data, dtype={1: np.int8, 2: "<i2", 4: "<i4"}[width])
    scale = float(1 << (8 * width - 1))
    data = (raw.astype(np.float32) / scale).reshape(-1, segment.channels)
    return resample(data, segment.frame_rate, RATE)


def pydub_segment_class():
    """pydub's ``AudioSegment``, pointed at our ffmpeg (pydub warns on import when none is on PATH)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # no ffmpeg on PATH: we hand it ours
        warnings.simplefilter("ignore", DeprecationWarning)  # audioop, on 3.11-3.12
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_path()
    return AudioSegment


def to_segment(samples: np.ndarray):
    """Float32 ``(samples, channels)`` at ``RATE`` to a 16-bit pydub ``AudioSegment``."""
    return pydub_segment_class()(to_int16(samples).tobytes(), frame_rate=RATE, sample_width=2,
                        channels=samples.shape[1])


def edge_fade(samples: np.ndarray, ms: float = 5.0) -> np.ndarray:
    """A copy with short raised-cosine fades at both ends, so a clip never starts or stops with a click."""
    out = np.array(samples, dtype=np.float32, copy=True)
    n = min(int(RATE * ms / 1000.0), len(out) // 2)
    if n > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n, dtype=np.float32)))[:, None]
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out


def level_db(samples: np.ndarray, block_ms: float = 50.0, gate_db: float = 20.0) -> float:
    """Gated RMS level in dBFS: the power of the 50 ms blocks within ``gate_db`` of the loudest one.

    One measure for every source (speech, ticks, chimes, beds), so "-16 dB relative to the voice"
    means the same thing for each; silences and decays do not pull a level down. -inf for silence.
    """
    mono = np.asarray(samples, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=1)
    block = max(1, int(RATE * block_ms / 1000.0))
    n = len(mono) // block
    if n == 0:
        power = np.array([np.mean(mono**2)]) if len(mono) else np.zeros(1)
    else:
        power = np.mean(mono[: n * block].reshape(n, block) ** 2, axis=1)
    loudest = power.max()
    if loudest <= 1e-12:
        return float("-inf")
    kept = power[power >= loudest * 10.0 ** (-gate_db / 10.0)]
    return float(10.0 * np.log10(kept.mean()))
