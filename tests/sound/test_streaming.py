"""One streaming pass: the mix's loudness known from its parts before it is mixed, and the output
the same sample for sample however it is chunked (a whole-buffer render included)."""

from __future__ import annotations

import pytest

from voiceguide import render as lib
from voiceguide.core.loudness import from_energies, measure
from voiceguide.export.mp3 import Mp3Settings
from voiceguide.sound.mix import BedGain, energies, mix, place_events
from voiceguide.sound.sounds import load_sound, make_bed
from voiceguide.voice.cache import NarrationCache

ROUTINE = """\
title: Streaming
description: Short, with everything a session has.
voice: {engine: fake, rate: 170}
background: {bed: noise, level: -20, duck: 10, fade_in: 2s, fade_out: 3s}
intro: Sit comfortably and let your shoulders drop.
steps:
  - title: Circles
    say: Make slow circles on your cheeks, gently.
    duration: 14s
    strokes: 9
  - title: Sides
    say: Sweep along the jaw.
    duration: 16s
    strokes: 4
    sides: [left, right]
  - title: Breathe
    say: Breathe in [3s] and out.
    breath: {inhale: 3, exhale: 4, cycles: 2}
outro: Rest your hands. Well done.
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("streaming")
    (root / "streaming.yaml").write_text(ROUTINE, encoding="utf-8")
    return root


def render(folder, out, **options):
    return lib.render(lib.load(folder / "streaming.yaml"), folder / out, cache=NarrationCache(folder / "cache"),
                      **options)


@pytest.mark.parametrize("channels", [2, 1])
def test_loudness_from_the_parts_matches_the_mix_measured(folder, channels):
    routine = lib.load(folder / "streaming.yaml")
    plan, speech = lib.plan_routine(routine, NarrationCache(folder / "cache"))
    sounds = {kind: (load_sound(s.sound), s) for kind, s in routine.sounds.items()}
    bed = make_bed("noise")
    bed_gain = BedGain(plan, routine.background, bed.level)
    placed = place_events(plan, speech, sounds, channels=channels)
    predicted = from_energies(energies(plan, placed, bed, bed_gain, channels), channels)
    measured = measure(mix(plan, placed, bed, bed_gain, channels=channels), channels, true_peak=False)
    # The parts' energies leave out the terms where two sounds meet; what those add up to depends on
    # where the sounds fall (0.014 LU in mono before the sides shared one layout, 0.028 after).
    assert predicted.integrated == pytest.approx(measured.integrated, abs=0.03)
    assert predicted.range == pytest.approx(measured.range, abs=0.2)
    # and a bed alone (no words, no ticks): the gain curve and the loop's wrap-around count right
    alone = from_energies(energies(plan, [], bed, bed_gain, channels), channels)
    assert alone.integrated == pytest.approx(
        measure(mix(plan, [], bed, bed_gain, channels=channels), channels, true_peak=False).integrated, abs=0.02)


@pytest.mark.parametrize("channels", [2, 1])
def test_a_streamed_render_is_the_same_as_a_whole_buffer_render(folder, channels):
    mp3 = Mp3Settings(channels=channels, bitrate=64 if channels == 1 else 128)
    streamed = render(folder, f"streamed{channels}", mp3=mp3)
    whole = render(folder, f"whole{channels}", mp3=mp3, chunk=streamed.plan.length)
    odd = render(folder, f"odd{channels}", mp3=mp3, chunk=12_345)
    assert streamed.path.read_bytes() == whole.path.read_bytes() == odd.path.read_bytes()
    assert streamed.report.gain_db == whole.report.gain_db == odd.report.gain_db
    assert streamed.report.output.integrated == pytest.approx(whole.report.output.integrated, abs=1e-6)
