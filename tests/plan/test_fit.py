"""Variants of a routine (issue 15): fitted to a length, and cues only. Checked on the plans of the
lymphatic starter routine with the fake engine, and on small routines written here."""

from __future__ import annotations

import textwrap

import pytest
from locations import ROOT

from voiceguide import render as lib
from voiceguide.core.audio import RATE
from voiceguide.core.errors import ScriptError
from voiceguide.plan import fit as fitting
from voiceguide.plan.variants import Variant, length_name, variants_of, words
from voiceguide.script.model import PACES
from voiceguide.voice.cache import NarrationCache

LYMPHATIC = ROOT / "scripts_yaml" / "lymphatic.yaml"


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return NarrationCache(tmp_path_factory.mktemp("fit-cache"))


@pytest.fixture(scope="module")
def lymphatic(cache):
    routine = lib.load(LYMPHATIC, engine="fake")
    return routine, lib.plan_routine(routine, cache)[0]


def intervals(step) -> list[float]:
    return [(e.end - e.start) / RATE for e in step.events if e.kind in ("tick", "countdown")]


@pytest.mark.parametrize("minutes", [5, 8, 15])
def test_lymphatic_fits_each_length_within_a_second_at_its_practice_pace(lymphatic, cache, minutes):
    routine, full = lymphatic
    fitted, fit = lib.variant(routine, Variant(minutes * 60.0), cache)
    assert abs(fit.plan.length / RATE - minutes * 60) <= fitting.TOLERANCE
    timeline = lib.plan_routine(fitted, cache)[0]  # what render plans: the same
    assert timeline.length == fit.plan.length
    low, high = PACES["lymphatic"]
    by_title = {s.title: s for s in routine.steps}
    for step in timeline.steps:
        written = by_title[step.title]
        ticks = intervals(step)
        if not ticks:
            continue
        assert all(low - 1e-3 <= t <= high + 1e-3 for t in ticks), (minutes, step.title, ticks)
        least = written.min_strokes or max(written.last.strokes, -(-written.strokes // 2))
        assert least <= len(ticks) <= 2 * written.strokes, (step.title, len(ticks))
    for step in timeline.steps:
        if step.title in ("Introduction", "Closing"):  # the intro and outro keep their words and length
            same = next(s for s in full.steps if s.title == step.title)
            assert step.end - step.start == same.end - same.start
            assert [e.text for e in step.events if e.kind == "speech"] == \
                [e.text for e in same.events if e.kind == "speech"]
    breaths = [s for s in timeline.steps if s.title == "Belly breathing"][0]
    assert sum(e.kind == "inhale" for e in breaths.events) >= 3  # its min_strokes
    assert fitted.id == f"lymphatic-{minutes}m" and fitted.title.endswith(f"({minutes} minutes)")


def test_a_short_fit_leaves_out_optional_steps_and_a_long_one_keeps_them(lymphatic, cache):
    routine, _ = lymphatic
    short = lib.variant(routine, Variant(300.0), cache)[1]
    long = lib.variant(routine, Variant(900.0), cache)[1]
    assert [r.title for r in short.scaled if r.action == "left out"] == ["Rest and breathe"]
    assert not [r for r in long.scaled if r.action == "left out"]


def test_an_impossible_length_names_the_range(lymphatic, cache):
    routine, full = lymphatic
    shortest, longest = fitting.limits(routine, full)
    assert shortest < 300 < 900 < longest
    with pytest.raises(fitting.FitError, match=r"cannot be fitted to 02:00\.0: its steps allow from "
                                               r"\d\d:\d\d\.\d to \d\d:\d\d\.\d") as error:
        lib.variant(routine, Variant(120.0), cache)
    assert error.value.exit_code == 2


def test_cues_only_speaks_under_a_quarter_of_the_words_with_the_same_timing(lymphatic, cache):
    routine, full = lymphatic
    cues, _ = lib.variant(routine, Variant(cues=True), cache)
    timeline = lib.plan_routine(cues, cache)[0]
    assert cues.id == "lymphatic-cues" and cues.title.endswith("(cues only)")
    assert words(timeline) < words(full) / 4
    assert [s.start for s in timeline.steps] == [s.start for s in full.steps]
    ticks = [[e.start for e in p.events() if e.kind == "tick"] for p in (timeline, full)]
    assert ticks[0] == ticks[1]
    spoken = [e.text for e in timeline.speech()]
    assert "not medical advice" in spoken[0]  # the intro's cue keeps the safety line
    assert "Cheeks" in spoken and "Under the chin" in spoken  # steps without a cue say their title


def test_cues_only_fitted_keeps_the_fits_timing(lymphatic, cache):
    routine, _ = lymphatic
    fitted, fit = lib.variant(routine, Variant(480.0), cache)
    both, _ = lib.variant(routine, Variant(480.0, cues=True), cache)
    timeline = lib.plan_routine(both, cache)[0]
    assert both.id == "lymphatic-8m-cues"
    assert [s.start for s in timeline.steps] == [s.start for s in fit.plan.steps]


ROUTINE = """\
title: Sides and limits
description: A test. Not medical advice.
voice: {engine: fake}
timing: {pace: circulation}
steps:
  - title: Jaw circles
    say: Small circles along the {side} side of your jaw.
    sides: [left, right]
    duration: 20s
    strokes: 12
    min_strokes: 10
    max_strokes: 14
  - title: Press
    say: Press and hold.
    duration: 20s
  - title: Tapping
    say: Tap all over.
    duration: 15s
    strokes: 12
    fixed: true
    cue: Tap.
"""


def test_sides_scale_together_within_their_limits_and_fixed_steps_stay(tmp_path, cache):
    path = tmp_path / "sides.yaml"
    path.write_text(textwrap.dedent(ROUTINE))
    routine = lib.load(path)
    full = lib.plan_routine(routine, cache)[0]
    shortest, longest = fitting.limits(routine, full)
    for target in (shortest + 1, (shortest + longest) / 2, longest - 1):
        fit = lib.variant(routine, Variant(target), cache)[1]
        assert abs(fit.plan.length / RATE - target) <= fitting.TOLERANCE
        left, right, press, tapping = fit.plan.steps
        assert intervals(left) == intervals(right) and 10 <= len(intervals(left)) <= 14
        assert all(0.6 - 1e-3 <= t <= 1.5 + 1e-3 for t in intervals(left))
        assert tapping.end - tapping.start == 15 * RATE
        assert press.end - press.start >= 10 * RATE  # a hold: at least half its length
    cues = lib.variant(routine, Variant(cues=True), cache)[0]
    said = [e.text for e in lib.plan_routine(cues, cache)[0].speech()]
    assert said == ["Jaw circles, left", "Jaw circles, right", "Press", "Tap."]


def test_variant_names():
    assert [length_name(s) for s in (300, 90, 45, 5400, 3600, 12.5)] == ["5m", "1m30s", "45s", "1h30m", "1h", "12.5s"]
    assert Variant(300.0, True).suffix == "-5m-cues" and Variant(300.0, True).note == "5 minutes, cues only"
    assert not Variant() and Variant().suffix == ""
    routine = lib.load(LYMPHATIC, engine="fake")
    assert [v.suffix for v in variants_of(routine)] == ["", "-5m", "-cues", "-5m-cues"]


def test_limits_need_pacing_and_the_least_first(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        title: Bad limits
        description: A test. Not medical advice.
        voice: {engine: fake}
        steps:
          - title: Strokes
            duration: 20s
            strokes: 6
            min_strokes: 8
            max_strokes: 4
          - title: Hold
            duration: 20s
            max_strokes: 4
        """))
    with pytest.raises(ScriptError) as error:
        lib.load(path)
    assert [str(p).split(": ", 1)[1] for p in error.value.problems] == [
        "steps[0].min_strokes: must be at most max_strokes (4), got 8",
        "steps[1].max_strokes: only a step with strokes, stroke_every or breath has strokes to limit"]


def test_breaths_alone_fit_to_the_nearest_whole_breath_and_within_a_second_when_they_can(tmp_path, cache):
    path = tmp_path / "breaths.yaml"
    path.write_text(textwrap.dedent("""\
        title: Breaths
        description: A test. Not medical advice.
        voice: {engine: fake}
        steps:
          - title: Slow
            say: Breathe slowly.
            breath: {inhale: 4, exhale: 6, cycles: 6}
          - title: Short
            breath: {inhale: 2, exhale: 2.5, cycles: 6}
        """))
    routine = lib.load(path)
    full = lib.plan_routine(routine, cache)[0]
    shortest, longest = fitting.limits(routine, full)
    hits = 0
    for target in range(int(shortest) + 1, int(longest)):
        try:
            fit = lib.variant(routine, Variant(float(target)), cache)[1]
        except fitting.FitError as error:
            assert "nearest it comes is" in str(error)
            continue
        hits += 1
        assert abs(fit.plan.length / RATE - target) <= fitting.TOLERANCE
    assert hits >= (longest - shortest) / 5  # 10 s and 4.5 s breaths reach a good share of the seconds
