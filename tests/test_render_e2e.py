"""End to end with the real voice: render the lymphatic routine, decode the MP3 and measure it
against its plan, as a listener with a stopwatch (and a loudness meter) would."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide import render as lib
from voiceguide.cli import main
from voiceguide.core.audio import RATE, ffmpeg_path, level_db
from voiceguide.core.loudness import integrated
from voiceguide.export.probe import measure_file, read_header
from voiceguide.export.tags import read_tags
from voiceguide.sound.sounds import load_sound
from voiceguide.voice.cache import NarrationCache

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
    assert len(audio) == result.plan.length
    assert 8 * 60 <= result.plan.length / RATE <= 12 * 60


def test_speech_is_where_the_plan_puts_it_evenly_loud_and_clearly_above_the_bed(rendered):
    result, audio, cache_dir = rendered
    clips = lib.narrate(result.routine, NarrationCache(cache_dir))
    speech = result.plan.speech()
    bed_only = np.concatenate([audio[t.start + int(0.6 * RATE): t.end - int(0.1 * RATE)]
                               for t in result.plan.events() if t.kind == "tick"
                               and not any(s.start < t.end and t.start < s.end for s in speech)])
    bed = integrated(bed_only[:, None])
    levels = []
    for event in speech:
        opening = clips[event.text].samples()[: RATE, 0]
        assert abs(lag_of(audio, opening, event.start, RATE // 10)) <= int(0.005 * RATE), event.text
        levels.append(integrated(audio[event.start:event.end, None]))
        assert levels[-1] - bed >= 20.0, event.text
    assert max(levels) - min(levels) <= 1.0, levels  # every sentence at one loudness


def test_every_tick_starts_within_5_ms_of_its_planned_time(rendered):
    result, audio, _ = rendered
    tick = load_sound(result.routine.sounds["tick"].sound).mean(axis=1)[: int(0.1 * RATE)]
    ticks = [e for e in result.plan.events() if e.kind == "tick"]
    assert len(ticks) == 80
    lags = [lag_of(audio, tick, e.start, int(0.05 * RATE)) for e in ticks]
    assert max(abs(x) for x in lags) <= int(0.005 * RATE), lags


def test_loudness_and_true_peak_as_our_meter_and_ffmpeg_measure_them(rendered):
    result, _, _ = rendered
    ours = measure_file(result.path)
    assert ours.integrated == pytest.approx(-16.0, abs=0.5)
    assert ours.true_peak <= -1.0
    proc = subprocess.run([ffmpeg_path(), "-nostats", "-i", str(result.path), "-af", "ebur128=peak=true",
                           "-f", "null", "-"], capture_output=True, text=True)
    summary = proc.stderr[proc.stderr.rfind("Summary"):]
    assert float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1)) == pytest.approx(ours.integrated, abs=0.5)
    assert float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1)) <= -1.0


def test_the_file_carries_its_exact_length_chapters_and_lyrics(rendered):
    result, audio, _ = rendered
    assert read_header(result.path).samples == result.plan.length == len(audio)
    tags = read_tags(result.path)
    assert len(tags.chapters) == len([s for s in result.plan.steps if s.kind != "pause"])
    assert [line.text for line in tags.lyrics] == [" ".join(e.text.split()) for e in result.plan.speech()]


def test_plan_json_describes_the_rendered_file(rendered):
    result, _, cache_dir = rendered
    out = CliRunner().invoke(main, ["plan", "lymphatic", "--json", "--cache-dir", str(cache_dir)])
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.output) == result.plan.to_json()


def test_the_bed_fades_in_and_out(rendered):
    _, audio, _ = rendered
    assert np.abs(audio[: int(0.05 * RATE)]).max() < 0.01
    assert level_db(audio[-int(0.3 * RATE):]) < level_db(audio[-int(5 * RATE):-int(4 * RATE)]) - 10
