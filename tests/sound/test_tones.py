"""Breath tones made per phase: their shape, how they join, and how the mixer places them."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.core.audio import RATE
from voiceguide.core.errors import Where
from voiceguide.plan.timeline import Event, Plan, PlannedStep
from voiceguide.script.model import Sound
from voiceguide.sound import tones
from voiceguide.sound.mix import place_events

SOUNDS = {"inhale": Sound("rise", -18.0), "exhale": Sound("fall", -18.0)}


def breaths(*phases: tuple[str, float], tone: str | None = None) -> list[Event]:
    """Back-to-back phase events of these lengths (seconds), from 1 s in."""
    events, at = [], RATE
    for kind, seconds in phases:
        events.append(Event(kind, at, at + int(seconds * RATE), tone=tone if kind == "hold" else None))
        at = events[-1].end
    return events


def pitch(mono: np.ndarray) -> float:
    """Hz from the zero crossings of a stretch of tone."""
    return np.count_nonzero(np.diff(np.signbit(mono))) / 2 / (len(mono) / RATE)


def test_a_tone_lasts_its_phase_and_glides_a_fourth():
    rise = tones.samples(330.0, 440.0, 4 * RATE, False, False)
    assert rise.shape == (4 * RATE,) and rise.dtype == np.float32
    assert pitch(rise[: RATE // 4]) == pytest.approx(330.0, rel=0.02)
    assert pitch(rise[-RATE // 4:]) == pytest.approx(440.0, rel=0.02)
    middle = rise[int(0.5 * RATE): int(3.5 * RATE)]
    assert np.abs(middle).max() == pytest.approx(0.5, rel=0.01)  # full level all through the middle
    assert abs(rise[0]) < 1e-6 and abs(rise[-1]) < 1e-3  # swells in from silence, fades out to it


def test_tones_that_meet_join_without_a_seam():
    inhale = tones.samples(330.0, 440.0, 3 * RATE + 17, False, True)
    hold = tones.samples(440.0, 440.0, 2 * RATE + 5, True, True)
    exhale = tones.samples(440.0, 330.0, 5 * RATE, True, False)
    joined = np.concatenate([inhale, hold, exhale])
    steps = np.abs(np.diff(joined))
    for at in (len(inhale), len(inhale) + len(hold)):
        assert steps[at - 1] <= steps[at - 200: at + 200].max() * 1.01  # no jump where one ends
        level = np.abs(joined[at - 2000: at + 2000]).max()
        assert level == pytest.approx(0.5, rel=0.01)  # nor a dip


def test_tones_are_cached_and_read_only():
    a = tones.samples(440.0, 330.0, RATE, False, False)
    assert tones.samples(440.0, 330.0, RATE, False, False) is a
    with pytest.raises(ValueError):
        a[0] = 1.0


def test_breath_tones_join_where_they_meet_at_one_pitch_and_level():
    made = tones.breath_tones(breaths(("inhale", 4), ("hold", 2), ("exhale", 6), ("inhale", 4), ("exhale", 6),
                                      tone="steady"), SOUNDS)
    assert [(t.start_hz, t.end_hz) for t in made] == [(330, 440), (440, 440), (440, 330), (330, 440), (440, 330)]
    assert [(t.enter, t.leave) for t in made] == [(False, True), (True, True), (True, True), (True, True),
                                                   (True, False)]
    silent = tones.breath_tones(breaths(("inhale", 4), ("hold", 2), ("exhale", 6)), SOUNDS)
    assert [(t.enter, t.leave) for t in silent] == [(False, False), (False, False)]
    louder = dict(SOUNDS, exhale=Sound("fall", -12.0))
    apart = tones.breath_tones(breaths(("inhale", 4), ("exhale", 6)), louder)
    assert [(t.enter, t.leave) for t in apart] == [(False, False), (False, False)]


def test_a_steady_hold_needs_a_tone_before_it():
    sounds = dict(SOUNDS, inhale=Sound("/sounds/in.wav", -18.0))
    made = tones.breath_tones(breaths(("inhale", 4), ("hold", 2), ("exhale", 6), tone="steady"), sounds)
    assert [(t.start_hz, t.end_hz, t.enter) for t in made] == [(440, 330, False)]


def test_the_mixer_plays_tones_as_long_as_their_phase_and_files_as_they_are():
    events = breaths(("inhale", 4), ("exhale", 6))
    plan = Plan("t", "T", 12 * RATE, (PlannedStep("S", "step", 0, 12 * RATE, tuple(events), Where("t", 1, 1)),))
    clip = np.repeat(np.sin(np.arange(RATE // 2) / 10.0)[:, None], 2, axis=1).astype(np.float32)
    sounds = {"inhale": (clip, Sound("/sounds/in.wav", -18.0)), "exhale": (clip, Sound("fall", -18.0))}
    placed = place_events(plan, {}, sounds)
    assert [(p.start, p.length) for p in placed] == [(events[0].start, RATE // 2), (events[1].start, 6 * RATE)]
    assert placed[1].make().shape == (6 * RATE, 2)
