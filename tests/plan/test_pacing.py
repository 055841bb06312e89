"""Pacing a listener can trust: both sides of a step keep one stroke interval, a long hold lets time
be heard passing, and no starter routine leaves the bed alone for more than 10 s. Checked on the
plans of the starter library, and on a decoded render as a listener would hear it."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest
from locations import ROOT

from voiceguide import render as lib
from voiceguide.core.audio import RATE, ffmpeg_path
from voiceguide.plan.report import SILENT_GAP, report
from voiceguide.sound.sounds import load_sound
from voiceguide.voice.cache import NarrationCache

STARTERS = sorted(p.stem for p in (ROOT / "scripts_yaml").glob("[!_]*.yaml"))


@pytest.fixture(scope="module")
def starter_plans(tmp_path_factory):
    cache = NarrationCache(tmp_path_factory.mktemp("starter-cache"))
    plans = {}
    for name in STARTERS:
        routine = lib.load(name, engine="fake")
        plans[name] = (routine, lib.plan_routine(routine, cache)[0])
    return plans


def stroke_intervals(step) -> list[int]:
    return [e.end - e.start for e in step.events if e.kind in ("tick", "countdown")]


def test_both_sides_of_every_starter_step_keep_one_stroke_interval(starter_plans):
    pairs = 0
    for name, (_, plan) in starter_plans.items():
        for first, later in zip(plan.steps, plan.steps[1:]):
            if later.side is None or first.side is None or first.title.split(" (")[0] != later.title.split(" (")[0]:
                continue
            a, b = np.mean(stroke_intervals(first)), np.mean(stroke_intervals(later))
            assert abs(a - b) / a <= 0.02, (name, first.title, a / RATE, later.title, b / RATE)
            pairs += 1
    assert pairs >= 3  # circulation's jaw circles, tension's jaw stretch, evening's jaw release


def test_no_starter_routine_leaves_the_bed_alone_for_more_than_10_s(starter_plans):
    for name, (routine, plan) in starter_plans.items():
        alone = [w for row in report(routine, plan) for w in row.warnings if "nothing but the bed" in w]
        assert alone == [], name
    assert SILENT_GAP == 10.0


def test_later_rounds_of_the_starters_say_a_short_form(starter_plans):
    later = 0
    for name, (routine, _) in starter_plans.items():
        first = {(s.where, s.side): s.say for s in routine.steps if s.round == 1}
        for step in routine.steps:
            if step.round and step.round > 1 and step.say:
                assert len(step.say.split()) <= len(first[step.where, step.side].split()) / 2, (name, step.say)
                later += 1
    assert later >= 6  # circulation's tapping, tension's jaw circles and hold, evening's 4-7-8


# --- What a listener hears --------------------------------------------------------------------

ROUTINE = """\
    title: Sides and a hold
    description: D
    voice: {engine: fake, rate: 150}
    background: {bed: noise, level: -24}
    steps:
      - title: Jaw circles
        say: >
          Make small, firm circles along the {side} side of your jaw with your fingertips, working
          from the chin out to the ear, one circle for each tick.
        sides: [left, right]
        switch: Now the {side} side.
        duration: 30s
        strokes: 12
      - title: Press and hold
        say: Press gently, and hold.
        duration: 24s
        closing: And release.
    """


@pytest.fixture(scope="module")
def heard(tmp_path_factory):
    folder = tmp_path_factory.mktemp("routine")
    path = folder / "hold.yaml"
    path.write_text(textwrap.dedent(ROUTINE), encoding="utf-8")
    routine = lib.load(str(path))
    result = lib.render(routine, tmp_path_factory.mktemp("out"), cache=NarrationCache(folder / "cache"))
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(result.path), "-f", "f32le", "-ac", "1",
                          "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return result, np.frombuffer(raw, "<f4")


def onsets(audio: np.ndarray, template: np.ndarray, planned: list[int], search: int) -> list[int]:
    """Where ``template`` best matches ``audio`` near each planned time."""
    found = []
    for at in planned:
        window = audio[at - search: at + search + len(template)]
        corr = np.correlate(window, template, mode="valid")
        found.append(at - search + int(np.argmax(corr)))
    return found


def test_a_listener_hears_the_same_stroke_interval_on_both_sides(heard):
    result, audio = heard
    tick = load_sound(result.routine.sounds["tick"].sound).mean(axis=1)[: int(0.05 * RATE)]
    left, right = result.plan.steps[0], result.plan.steps[1]
    intervals = []
    for side in (left, right):
        planned = [e.start for e in side.events if e.kind == "tick"]
        found = onsets(audio, tick, planned, int(0.05 * RATE))
        intervals.append(np.diff(found).mean())
    assert abs(intervals[0] - intervals[1]) / intervals[0] <= 0.02, [i / RATE for i in intervals]


def test_a_listener_hears_quiet_pulses_through_a_long_hold(heard):
    result, audio = heard
    hold = result.plan.steps[2]
    pulses = [e for e in hold.events if e.kind == "pulse"]
    assert len(pulses) >= 3
    voice = max(level(audio[e.start:e.end]) for e in hold.events if e.kind == "speech")
    for pulse in pulses:
        sounding = level(audio[pulse.start: pulse.start + int(0.05 * RATE)])
        bed = level(audio[pulse.start - int(0.6 * RATE): pulse.start - int(0.1 * RATE)])
        assert sounding - bed >= 6.0, (pulse.start / RATE, sounding, bed)  # heard above the bed...
        assert voice - sounding >= 6.0, (pulse.start / RATE, sounding, voice)  # ...and well under the voice


def level(samples: np.ndarray) -> float:
    """RMS level in dB."""
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64))))
