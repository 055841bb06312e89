"""End to end with the real voice: render the lymphatic routine, decode the MP3 and measure it
against its plan, as a listener with a stopwatch would."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide import render as lib
from voiceguide.audio import RATE, ffmpeg_path, level_db
from voiceguide.cache import NarrationCache
from voiceguide.cli import main
from voiceguide.mix import REFERENCE_DB
from voiceguide.sounds import load_sound

pytestmark = pytest.mark.engine


def decode_mono(path) -> np.ndarray:
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1",
                          "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4")


def lag_of(signal: np.ndarray, template: np.ndarray, planned: int, search: int) -> int:
    """Where ``template`` best matches ``signal`` near ``planned``, as an offset in samples."""
    lo = max(0, planned - search)
    window = signal[lo: planned + search + len(template)]
    size = 1 << int(np.ceil(np.log2(len(window) + len(template))))
    corr = np.fft.irfft(np.fft.rfft(window, size) * np.conj(np.fft.rfft(template, size)), size)
    return int(np.argmax(corr[: len(window) - len(template) + 1])) + lo - planned


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    cache_dir = tmp_path_factory.mktemp("e2e-cache")
    out = tmp_path_factory.mktemp("out")
    routine = lib.load("lymphatic")
    result = lib.render(routine, out, cache=NarrationCache(cache_dir))
    return result, decode_mono(result.path), cache_dir


def test_duration_equals_the_plan(rendered):
    result, audio, _ = rendered
    assert abs(len(audio) - result.plan.length) <= int(0.020 * RATE)
    assert 8 * 60 <= result.plan.length / RATE <= 12 * 60


def test_speech_is_where_the_plan_puts_it_and_clearly_above_the_bed(rendered):
    result, audio, cache_dir = rendered
    clips = lib.narrate(result.routine, NarrationCache(cache_dir))
    bed_only = np.concatenate([audio[t.start + int(0.6 * RATE): t.end - int(0.1 * RATE)]
                               for t in result.plan.events() if t.kind == "tick"])
    bed_db = level_db(bed_only)
    for event in result.plan.speech():
        opening = clips[event.text][: RATE, 0]
        assert abs(lag_of(audio, opening, event.start, RATE // 10)) <= int(0.010 * RATE), event.text
        speech_db = level_db(audio[event.start:event.end])
        assert speech_db == pytest.approx(REFERENCE_DB, abs=3.0), event.text
        assert speech_db - bed_db >= 20.0, event.text


def test_every_tick_starts_within_10_ms_of_its_planned_time(rendered):
    result, audio, _ = rendered
    tick = load_sound(result.routine.sounds["tick"].sound).mean(axis=1)[: int(0.1 * RATE)]
    ticks = [e for e in result.plan.events() if e.kind == "tick"]
    assert len(ticks) == 80
    lags = [lag_of(audio, tick, e.start, int(0.05 * RATE)) for e in ticks]
    assert max(abs(x) for x in lags) <= int(0.010 * RATE), lags


def test_plan_json_describes_the_rendered_file(rendered):
    result, _, cache_dir = rendered
    out = CliRunner().invoke(main, ["plan", "lymphatic", "--json", "--cache-dir", str(cache_dir)])
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.output) == result.plan.to_json()


def test_the_bed_fades_in_and_out(rendered):
    _, audio, _ = rendered
    assert np.abs(audio[: int(0.05 * RATE)]).max() < 0.01
    assert level_db(audio[-int(0.3 * RATE):]) < level_db(audio[-int(5 * RATE):-int(4 * RATE)]) - 10
