"""Loudness metering, the true-peak limiter and mastering, checked on signals with known answers."""

from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pytest

from voiceguide.core import loudness
from voiceguide.core.audio import RATE, ffmpeg_path
from voiceguide.core.loudness import Meter, integrated, measure
from voiceguide.sound.master import (
    CODEC_MARGIN,
    MONO_TARGET,
    STEREO_TARGET,
    VOICE_SLACK,
    VOICE_TOLERANCE,
    Limiter,
    Master,
    Mastering,
    level_voice,
    limit,
    sliding_min,
)


def sine(seconds, freq, amp, channels=2, phase=0.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return np.repeat((amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)[:, None], channels, axis=1)


def noise(seconds, amp, seed=0, channels=2):
    return (amp * np.random.default_rng(seed).standard_normal((int(seconds * RATE), channels))).astype(np.float32)


def db(x):
    return 20 * math.log10(x)


def ffmpeg_ebur128(samples: np.ndarray) -> tuple[float, float, float]:
    """(integrated LUFS, LRA, true peak dBTP) from ffmpeg's own ``ebur128`` filter."""
    proc = subprocess.run([ffmpeg_path(), "-nostats", "-f", "f32le", "-ar", str(RATE), "-ac", str(samples.shape[1]),
                           "-i", "pipe:0", "-af", "ebur128=peak=true", "-f", "null", "-"],
                          input=np.ascontiguousarray(samples, "<f4").tobytes(), capture_output=True)
    summary = proc.stderr.decode()[proc.stderr.decode().rfind("Summary"):]
    return tuple(float(re.search(pattern, summary).group(1)) for pattern in
                 (r"I:\s+(-?[\d.]+) LUFS", r"LRA:\s+([\d.]+) LU", r"Peak:\s+(-?[\d.]+) dBFS"))


# --- the meter -----------------------------------------------------------------------------------


def test_a_997_hz_sine_at_full_scale_in_one_channel_reads_minus_3_01():
    x = np.zeros((5 * RATE, 2), np.float32)
    x[:, 0] = sine(5, 997, 1.0, channels=1)[:, 0]
    assert measure(x).integrated == pytest.approx(-3.01, abs=0.02)


def test_silence_and_quiet_passages_are_gated_out():
    loud = sine(10, 1000, 0.1)
    alone = measure(loud).integrated
    # (the few blocks that straddle the change count, a little quieter: hence 0.1)
    assert measure(np.concatenate([loud, np.zeros_like(loud)])).integrated == pytest.approx(alone, abs=0.1)
    quiet = sine(10, 1000, 0.001)  # 40 dB down: under the relative gate
    assert measure(np.concatenate([loud, quiet])).integrated == pytest.approx(alone, abs=0.1)
    assert measure(np.concatenate([loud, sine(10, 1000, 0.05)])).integrated < alone - 1  # 6 dB down: counts


def test_the_stream_is_measured_the_same_in_any_chunks():
    x = noise(7.3, 0.1)
    x[2 * RATE:4 * RATE] *= 4
    whole = measure(x)
    for parts in (3, 17, 1000):
        again = measure(np.array_split(x, parts))
        assert again.integrated == pytest.approx(whole.integrated, abs=1e-5)
        assert (again.range, again.true_peak, again.sample_peak) == (whole.range, whole.true_peak, whole.sample_peak)


def test_the_meter_keeps_a_fixed_amount_of_state():
    meter = Meter(2)
    chunk = noise(10, 0.1)
    for _ in range(30):  # five minutes
        meter.add(chunk)
    assert len(meter._recent) <= 29 and len(meter._peak._tail) <= 2 * loudness.HALF


@pytest.mark.parametrize("channels", [1, 2])
def test_the_meter_agrees_with_ffmpeg(channels):
    x = noise(40, 0.05, channels=channels)
    x[10 * RATE:20 * RATE] *= 5
    x[25 * RATE:30 * RATE] *= 0.01
    mine = measure(x)
    theirs = ffmpeg_ebur128(x)
    assert mine.integrated == pytest.approx(theirs[0], abs=0.1)
    assert mine.range == pytest.approx(theirs[1], abs=0.2)
    assert mine.true_peak == pytest.approx(theirs[2], abs=0.5)


def tapered(x):
    """``x`` faded in and out, so that no hard edge makes peaks of its own."""
    return x * (np.sin(np.linspace(0, np.pi, len(x)))[:, None].astype(np.float32) ** 0.1)


def test_true_peak_finds_the_peak_between_samples():
    x = tapered(sine(2, RATE / 4, 0.5, phase=math.pi / 4))  # every sample lands 3 dB below the crest
    found = measure(x)
    assert found.sample_peak == pytest.approx(db(0.5) - 3.01, abs=0.01)
    assert found.true_peak == pytest.approx(db(0.5), abs=0.02)


@pytest.mark.parametrize("freq", [100, 1000, 5000, 12000, 17000])
def test_true_peak_of_a_sine_is_its_amplitude(freq):
    x = tapered(sine(1, freq, 0.25, phase=0.3))
    assert measure(x).true_peak == pytest.approx(db(0.25), abs=0.05)


def test_short_clips_have_a_loudness_too():
    assert integrated(sine(0.2, 997, 0.1)) == pytest.approx(measure(sine(2, 997, 0.1)).integrated, abs=0.1)
    assert integrated(np.zeros((100, 2), np.float32)) < -150


# --- the limiter ---------------------------------------------------------------------------------


def bursts():
    x = noise(5, 0.1, seed=1)
    x[RATE:RATE + 2000] *= 12
    x[3 * RATE:3 * RATE + 100] *= 20
    return x


def test_the_limiter_holds_the_true_peak_under_the_ceiling():
    x = bursts()
    assert measure(x).true_peak > 10
    y = limit(x, -1.5)
    assert len(y) == len(x)
    assert measure(y).true_peak <= -1.5 + 0.01


def test_the_limiter_leaves_what_is_under_the_ceiling_alone():
    x = bursts()
    y = limit(x, -1.5)
    assert np.array_equal(y[: RATE - 2000], x[: RATE - 2000])  # long before the first burst
    assert np.array_equal(y[2 * RATE: 3 * RATE - 2000], x[2 * RATE: 3 * RATE - 2000])  # recovered between
    quiet = noise(2, 0.01)
    assert np.array_equal(limit(quiet, -1.0), quiet)


def test_the_limiter_moves_its_gain_smoothly():
    x = sine(2, 200, 0.1)
    x[RATE:RATE + 4410] *= 10  # a 0 dBFS stretch
    limiter = Limiter(-6.0, 2)
    y = np.concatenate([limiter.process(x), limiter.flush()])
    defined = np.abs(x[:, 0]) > 0.05  # where the gain y / x is well defined
    gain_db = 20 * np.log10(np.abs(y[defined, 0] / x[defined, 0]))
    neighbours = np.diff(np.flatnonzero(defined)) == 1
    assert np.abs(np.diff(gain_db))[neighbours].max() <= 1000 / RATE + 1e-3  # at most 1 dB a millisecond
    assert limiter.max_reduction == pytest.approx(6.0, abs=0.3)


def test_the_limiter_streams_the_same_in_any_chunks():
    x = bursts()
    whole = limit(x, -3.0)
    limiter = Limiter(-3.0, 2)
    parts = [limiter.process(p) for p in np.array_split(x, 11)] + [limiter.flush()]
    assert np.array_equal(np.concatenate(parts), whole)


# --- leveling and mastering ----------------------------------------------------------------------


def test_level_voice_reaches_its_loudness_with_peaks_under_the_limit():
    x = noise(6, 0.05, channels=1)
    x[::RATE // 2] *= 10  # clicks far above the body
    y = level_voice(x, -23.0, -9.0)
    found = measure(y)
    assert found.integrated == pytest.approx(-23.0, abs=0.001)
    assert found.true_peak <= -9.0 + VOICE_TOLERANCE


def test_level_voice_without_peaks_is_a_plain_gain():
    x = sine(3, 300, 0.01, channels=1)
    y = level_voice(x, -20.0, -1.0)
    assert np.allclose(y, x * (y[1000, 0] / x[1000, 0]), rtol=1e-5, atol=1e-7)
    assert integrated(y) == pytest.approx(-20.0, abs=0.01)


def test_targets_default_to_the_podcast_figures():
    assert Mastering().target(2) == STEREO_TARGET == -16.0
    assert Mastering().target(1) == MONO_TARGET == -19.0
    assert Mastering(loudness=-14).target(1) == -14
    assert Mastering().ceiling == -1.0 - CODEC_MARGIN


def test_voice_peak_leaves_room_for_the_master_gain():
    master = Master(Mastering(), 2, codec_gain_db=-0.45)
    master.measure(iter([noise(5, 0.02)]))  # about -31 LUFS: 15 dB of gain to come
    assert master.voice_peak() == pytest.approx(Mastering().ceiling + 0.45 - VOICE_SLACK - master.gain_db)
    assert master.gain_db == pytest.approx(-16.0 + 0.45 - master.mix_loudness.integrated)


@pytest.mark.parametrize("channels, codec", [(2, 0.0), (1, -0.45)])
def test_master_brings_a_session_to_target_in_two_passes(channels, codec):
    session = [noise(10, 0.02, seed=i, channels=channels) for i in range(6)]
    session[3][RATE:RATE + 50] *= 8  # one peak the gain alone would push over the ceiling
    master = Master(Mastering(), channels, codec_gain_db=codec)
    master.measure(iter(session))
    out = np.concatenate(list(master.apply(iter(session))))
    assert len(out) == sum(len(c) for c in session)
    found = measure(out)
    assert found.integrated + codec == pytest.approx(Mastering().target(channels), abs=0.05)
    assert found.true_peak + codec <= Mastering().ceiling + 0.01
    report = master.report
    assert report.output.integrated == pytest.approx(found.integrated, abs=1e-5)
    assert report.output.true_peak == pytest.approx(found.true_peak, abs=1e-6)
    assert report.output.sample_peak == pytest.approx(found.sample_peak, abs=1e-6)
    assert report.codec_gain_db == codec
    assert report.max_reduction_db > 1 and 0 < report.limited_seconds < 0.5


@pytest.mark.parametrize("width", [1, 2, 7, 25])
def test_sliding_min_is_the_minimum_of_every_window(width):
    values = np.random.default_rng(width).standard_normal(103)
    expected = [values[i:i + width].min() for i in range(len(values) - width + 1)]
    assert np.array_equal(sliding_min(values, width), expected)
    assert len(sliding_min(values[:3], 5)) == 0
