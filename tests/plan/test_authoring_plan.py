"""The planner on the authoring constructs: golden JSON for each, the timing rules each promises,
and every plan-time misuse with its exact message."""

from __future__ import annotations

import json
import os
import textwrap
from itertools import pairwise
from pathlib import Path

import pytest
from locations import TESTS

from voiceguide import render as lib
from voiceguide.core.audio import RATE
from voiceguide.core.errors import PlanError
from voiceguide.plan.timeline import plan, speedups
from voiceguide.script.load import load_routine
from voiceguide.voice.cache import NarrationCache

GOLDEN = TESTS / "golden"
HEAD = "title: T\ndescription: D\n"
WORD = RATE // 2
"""Every word takes half a second in these tests."""


def load(tmp_path: Path, body: str):
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return load_routine(path)


def lengths(routine, per_word: int = WORD) -> dict[str, int]:
    return {text: len(text.split()) * per_word for text in routine.texts()}


def planned(tmp_path: Path, body: str, **kwargs):
    routine = load(tmp_path, body)
    return plan(routine, lengths(routine), **kwargs)


def plan_problems(tmp_path: Path, body: str, per_word: int = WORD) -> list[str]:
    routine = load(tmp_path, body)
    with pytest.raises(PlanError) as info:
        plan(routine, lengths(routine, per_word))
    return [str(p).removeprefix(f"{tmp_path}/") for p in info.value.problems]


def events(step, *kinds):
    return [e for e in step.events if not kinds or e.kind in kinds]


def check_golden(name: str, result: dict) -> None:
    golden = GOLDEN / f"{name}.json"
    if os.environ.get("VOICEGUIDE_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(result, indent=2) + "\n")
    assert result == json.loads(golden.read_text())


# --- Golden plans -----------------------------------------------------------------------------

CONSTRUCTS = {
    "plan_sides": """\
        steps:
          - title: Warm up
            duration: 5
          - title: Jaw
            say: Circles on the {side} side.
            sides: [left, right]
            duration: 12
            strokes: 4
          - title: Temples
            sides: [left, right]
            switch: {say: false, pause: 1s}
            duration: 6
            strokes: 2
        """,
    "plan_repeat": """\
        steps:
          - repeat: 2
            steps:
              - title: Press
                say: Round {round} of {rounds}.
                duration: 8
                strokes: 2
              - pause: 1s
        """,
    "plan_pauses": """\
        intro: Breathe in [4s] and slowly out [6s]. Good.
        steps:
          - title: Hold
            say: Press [2s] and release.
            duration: 10
            strokes: 2
        """,
    "plan_countdowns": """\
        steps:
          - title: Spoken
            say: Go.
            duration: 10
            strokes: 5
            countdown: {strokes: 3, say: "{remaining}"}
          - title: Knocks
            duration: 6
            stroke_every: 1s
            countdown: {strokes: 2}
          - title: Hold
            say: Hold it.
            duration: 10
            countdown: {seconds: 3}
        """,
    "plan_cues": """\
        sounds: {end: bell, finish: chime}
        steps:
          - title: Circles
            say: Circles.
            duration: 30
            strokes: 6
            halfway: true
            time_left: [10s]
            closing: And rest.
          - title: Smooth
            duration: 12
            strokes: 4
            halfway: Halfway there.
        outro: Thank you.
        """,
    "plan_hold": """\
        steps:
          - title: Press and hold
            say: Press gently, and hold.
            duration: 26
            countdown: {seconds: 3}
            closing: And release.
          - title: Short hold
            say: Hold.
            duration: 10
        """,
    "plan_breath_words": """\
        steps:
          - title: Breathe
            say: Follow me.
            breath:
              inhale: 3
              hold: 2
              exhale: 4
              hold_out: 1
              cycles: 3
              words: {inhale: In, hold: Hold, exhale: Out, hold_out: Rest, cycles: 2}
            halfway: true
        """,
    "plan_overflow": """\
        steps:
          - title: Grows
            say: one two three four five six seven eight nine ten
            duration: 8
            strokes: 2
            overflow: extend
          - title: Faster
            say: eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty
            duration: 8
            strokes: 2
            overflow: speed
        """,
}


@pytest.mark.parametrize("name", list(CONSTRUCTS))
def test_plan_matches_golden_json(tmp_path: Path, name: str) -> None:
    routine = load(tmp_path, CONSTRUCTS[name])
    sizes = lengths(routine)
    speeds = speedups(routine, sizes)
    sizes.update({text: int(sizes[text] / factor) for text, factor in speeds.items()})
    check_golden(name, plan(routine, sizes, speeds).to_json())


def test_every_construct_keeps_events_inside_their_step_and_in_order(tmp_path: Path) -> None:
    for body in CONSTRUCTS.values():
        routine = load(tmp_path, body)
        sizes = lengths(routine)
        speeds = speedups(routine, sizes)
        sizes.update({text: int(sizes[text] / factor) for text, factor in speeds.items()})
        result = plan(routine, sizes, speeds)
        for before, after in pairwise(result.steps):
            assert after.start == before.end
        for s in result.steps:
            assert [e.start for e in s.events] == sorted(e.start for e in s.events)
            assert all(s.start <= e.start <= e.end <= s.end for e in s.events), s.title


# --- Sides and repeats ------------------------------------------------------------------------


def test_each_side_is_its_own_exact_part(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_sides"])
    left, right = p.steps[1], p.steps[2]
    assert (left.title, left.side, right.title, right.side) == ("Jaw (left)", "left", "Jaw (right)", "right")
    assert left.end - left.start == right.end - right.start == 12 * RATE
    assert [e.kind for e in left.events][:2] == ["chime", "speech"]
    switch, cue, *ticks = right.events
    assert (switch.kind, switch.start, cue.cue, cue.text) == ("switch", right.start, "switch", "Now the right side.")
    assert cue.start == right.start + int(1.5 * RATE)
    assert ticks[0].start == cue.end + 3 * RATE  # timing.switch: time to change hands
    assert ticks[-1].end == right.end and len(ticks) == 4
    assert all(e.side == "right" for e in right.events)
    temples = p.steps[4]
    assert [e.kind for e in temples.events] == ["switch", "tick", "tick"]
    assert temples.events[1].start == temples.start + int(1.5 * RATE) + RATE  # no words: lead-in, then the pause


def intervals(step) -> list[int]:
    return [e.end - e.start for e in step.events if e.kind == "tick"]


def test_every_side_has_the_same_strokes_and_length_whatever_its_words(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_sides"])
    for first, later in ((p.steps[1], p.steps[2]), (p.steps[3], p.steps[4])):
        assert first.end - first.start == later.end - later.start
        assert len(intervals(first)) == len(intervals(later))
        assert max(intervals(first) + intervals(later)) - min(intervals(first) + intervals(later)) <= 1
        first_ticks = [next(e.start for e in s.events if e.kind == "tick") - s.start for s in (first, later)]
        assert first_ticks[0] == first_ticks[1]  # the pacing starts as far into every side
    left, right = p.steps[1], p.steps[2]
    cue_needs = int(1.5 * RATE) + 4 * WORD + 3 * RATE  # lead-in, "Now the right side.", switch pause
    assert [e.kind for e in left.events if e.start < left.start + cue_needs] == ["chime", "speech"]
    assert intervals(left)[0] == (12 * RATE - cue_needs) // 4


def test_a_later_side_that_runs_long_grows_every_side_alike(tmp_path: Path) -> None:
    body = """\
        timing: {overflow: extend}
        steps:
          - title: Jaw
            say: Circles.
            sides: [left, right]
            switch: Now the {side} side, and slowly, very slowly, all the way along the jaw.
            duration: 8
            strokes: 4
        """
    left, right = planned(tmp_path, body).steps
    cue = 14 * WORD
    grown = int(1.5 * RATE) + cue + 3 * RATE + 4 * int(0.4 * RATE) - 8 * RATE
    assert left.end - left.start == right.end - right.start == 8 * RATE + grown
    assert left.fit.extended == right.fit.extended == grown
    assert intervals(left) == intervals(right) == [int(0.4 * RATE)] * 4
    assert plan_problems(tmp_path, body.replace("{overflow: extend}", "{overflow: error}")) == [
        "r.yaml:5:5: steps[0]: the narration of step 'Jaw (right)' takes 7.0 s but the step leaves 6.5 s for "
        "it (8.0 s step, 1.5 s lead-in)"]


def test_a_long_hold_hears_quiet_pulses_and_a_short_one_none(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_hold"])
    hold, short = p.steps
    words = [e for e in hold.events if e.kind == "speech"]
    pulses = [e for e in hold.events if e.kind == "pulse"]
    counts = [e for e in hold.events if e.kind == "countdown"]
    assert pulses[0].start == words[0].end + RATE  # after the settle: 16.5 s of hold, 4 pulses
    assert pulses[-1].end == counts[0].start  # up to the countdown, which takes over
    spans = [e.end - e.start for e in pulses]
    assert len(pulses) == 4 and max(spans) - min(spans) <= 1 and 4 * RATE <= spans[0] < 8 * RATE
    assert not [e for e in short.events if e.kind == "pulse"]


def test_repeated_steps_carry_their_round(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_repeat"])
    assert [(s.title, s.kind, s.round) for s in p.steps] == [
        ("Press (round 1 of 2)", "step", 1), ("Pause", "pause", 1),
        ("Press (round 2 of 2)", "step", 2), ("Pause", "pause", 2)]
    assert [e.text for e in p.speech()] == ["Round 1 of 2.", "Press, round 2 of 2."]  # later rounds: the short form
    assert {e.round for e in p.steps[2].events} == {2}


# --- Exact pauses -----------------------------------------------------------------------------


def test_pauses_inside_narration_are_exact_to_the_sample(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_pauses"])
    intro = p.steps[0]
    kinds = [(e.kind, e.text) for e in intro.events]
    assert kinds == [("speech", "Breathe in"), ("pause", None), ("speech", "and slowly out."), ("pause", None),
                     ("speech", "Good.")]
    first, pause, second, pause2, third = intro.events
    assert (pause.start, pause.end) == (first.end, first.end + 4 * RATE)
    assert second.start == first.end + 4 * RATE
    assert third.start == second.end + 6 * RATE
    hold = p.steps[1]
    speech = events(hold, "speech")
    assert speech[1].start - speech[0].end == 2 * RATE
    assert events(hold, "tick")[0].start == speech[1].end + RATE  # settle after the last phrase


# --- Cues -------------------------------------------------------------------------------------


def test_countdowns_over_strokes_and_seconds(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_countdowns"])
    spoken, knocks, hold = p.steps
    ticks = events(spoken, "tick")
    words = [e for e in spoken.events if e.cue == "countdown"]
    assert len(ticks) == 5  # a spoken count keeps its stroke's tick
    assert [(w.text, w.start) for w in words] == [(t, tick.start) for t, tick in zip("321", ticks[2:], strict=True)]
    assert [e.kind for e in knocks.events[-3:]] == ["tick", "countdown", "countdown"]  # the sound replaces the tick
    counts = events(hold, "countdown")
    assert [c.start for c in counts] == [hold.end - k * RATE for k in (3, 2, 1)]
    assert counts[-1].end == hold.end


def test_halfway_time_left_and_closing(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_cues"])
    circles, smooth, outro = p.steps
    ticks = events(circles, "tick")
    (halfway,) = events(circles, "halfway")
    assert halfway.start == ticks[3].start  # three strokes done, three to go
    callout = next(e for e in circles.events if e.cue == "time_left")
    assert (callout.text, callout.start) == ("10 seconds left.", circles.end - 10 * RATE)
    closing = next(e for e in circles.events if e.cue == "closing")
    assert (closing.text, closing.end) == ("And rest.", circles.end)
    assert ticks[-1].end == closing.start - RATE  # the pacing ends a settle before the closing words
    assert next(e for e in smooth.events if e.cue == "halfway").text == "Halfway there."
    assert [e.start for e in events(circles, "end")] == [circles.end]
    assert events(outro, "end") == []
    (finish,) = events(outro, "finish")
    assert finish.start == p.speech()[-1].end + RATE


def test_breath_words_are_spoken_at_their_phases(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_breath_words"])
    step = p.steps[0]
    words = [(e.text, e.start) for e in step.events if e.cue == "breath"]
    phases = [e for e in step.events if e.kind in ("inhale", "hold", "exhale")]
    assert words == [(w, ph.start) for w, ph in zip(["In", "Hold", "Out", "Rest"] * 2, phases[:8], strict=True)]
    assert events(step, "halfway")[0].start == phases[4].start  # the second of three cycles


# --- Overflow ---------------------------------------------------------------------------------


def test_extend_grows_the_step_by_the_overflow_exactly(tmp_path: Path) -> None:
    p = planned(tmp_path, CONSTRUCTS["plan_overflow"].split("  - title: Faster")[0])
    grows = p.steps[0]
    # 10 words (5 s) after a 1.5 s lead-in, then the settle and two strokes of at least 0.4 s
    assert grows.end - grows.start == int(1.5 * RATE) + 5 * RATE + RATE + 2 * int(0.4 * RATE)
    assert (grows.fit.action, grows.fit.extended) == ("extended", grows.end - grows.start - 8 * RATE)
    assert grows.to_json()["overflow"] == {"policy": "extend", "action": "extended",
                                           "extended_ms": 300.0, "speed": 1.0}


def test_speedups_ask_for_just_enough_and_never_beyond_max_speed(tmp_path: Path) -> None:
    routine = load(tmp_path, """\
        timing: {overflow: speed}
        steps:
          - {title: A, say: one two three four five six seven eight nine ten, duration: 8, strokes: 2}
          - {title: B, say: one two, duration: 8, strokes: 2}
          - {title: C, say: a b c d e f g h i j k l m n o p q r s t, duration: 8, strokes: 2}
        """)
    sizes = lengths(routine)
    # A: 5 s of words in 8 - 1.5 - 1 - 0.8 = 4.7 s of room: 5 / 4.7 * 1.02 = 1.086 -> 1.09
    assert speedups(routine, sizes) == {"one two three four five six seven eight nine ten": 1.09,
                                        "a b c d e f g h i j k l m n o p q r s t": 1.25}
    faster = {"a b c d e f g h i j k l m n o p q r s t": 1.25, "one two three four five six seven eight nine ten": 1.09}
    sped = {text: int(size / faster.get(text, 1.0)) for text, size in sizes.items()}
    assert speedups(routine, sped, faster) == {}  # A fits now; C is at its max_speed already


def test_plan_routine_speaks_too_long_narration_faster(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(HEAD + textwrap.dedent("""\
        voice: {engine: fake, rate: 150}
        steps:
          - title: Quick
            say: One two three four five six seven eight nine ten eleven twelve thirteen.
            duration: 8
            strokes: 2
            overflow: {policy: speed, max_speed: 1.5}
        """))
    routine = load_routine(path)
    cache = NarrationCache(tmp_path / "cache")
    normal = lib.narrate(routine, cache)
    timeline, clips = lib.plan_routine(routine, cache)
    (speech,) = timeline.speech()
    assert 1.0 < speech.speed <= 1.5
    assert timeline.steps[0].fit.action == "sped up"
    assert clips[speech.text].length < normal[speech.text].length
    assert speech.end - speech.start == clips[speech.text].length
    assert timeline.steps[0].end - timeline.steps[0].start == 8 * RATE


# --- Plan-time misuse -------------------------------------------------------------------------


def test_narration_and_closing_words_that_do_not_fit(tmp_path: Path) -> None:
    assert plan_problems(tmp_path, """\
        steps:
          - title: Long
            say: one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
            duration: 8
            closing: And rest now.
        """) == [
        "r.yaml:4:5: steps[0]: the narration of step 'Long' takes 7.5 s but the step leaves 4.0 s for it "
        "(8.0 s step, 1.5 s lead-in, 2.5 s closing cue)",
    ]


def test_speed_that_cannot_help(tmp_path: Path) -> None:
    assert plan_problems(tmp_path, """\
        timing: {overflow: {policy: speed, max_speed: 1.2}}
        steps:
          - {title: A, say: "one two three four five six seven eight nine ten", duration: 6}
          - {title: B, say: "one [5s] two", duration: 6}
          - {title: C, say: "a b c d e f g h i j k l", duration: 7.5, strokes: 1}
        """) == [
        # planned without speaking it faster (render.plan_routine does that first)
        "r.yaml:5:5: steps[0]: the narration of step 'A' takes 5.0 s but the step leaves 4.5 s for it: it "
        "needs to be spoken 1.11x as fast",
        "r.yaml:6:5: steps[1]: the narration of step 'B' takes 6.0 s but the step leaves 4.5 s for it, and its "
        "pauses alone take 5.0 s: no speed makes it fit",
        "r.yaml:7:5: steps[2]: the narration of step 'C' takes 6.0 s but the step leaves 4.6 s for it: it would "
        "have to be spoken 1.30x as fast, more than its max_speed of 1.2x",
    ]


def test_speed_that_was_not_enough(tmp_path: Path) -> None:
    routine = load(tmp_path, """\
        steps:
          - {title: A, say: "one two three four five six seven eight nine ten", duration: 6, overflow: speed}
        """)
    text = routine.texts()[0]
    with pytest.raises(PlanError) as info:
        plan(routine, {text: int(4.8 * RATE)}, {text: 1.1})
    assert str(info.value) == (f"{tmp_path}/r.yaml:4:5: steps[0]: the narration of step 'A' takes 4.8 s but the "
                               f"step leaves 4.5 s for it, even spoken 1.10x as fast")


def test_cues_that_do_not_fit(tmp_path: Path) -> None:
    assert plan_problems(tmp_path, """\
        steps:
          - {title: A, say: a b c d, duration: 9, stroke_every: 2s, countdown: {strokes: 3}}
          - {title: B, say: a b c d e f g h, duration: 8, countdown: {seconds: 5}}
          - {title: C, duration: 6, strokes: 4, countdown: {strokes: 2, say: "count {remaining} now"}}
          - {title: D, duration: 6, strokes: 2, halfway: "we are half way there now"}
          - {title: E, say: a b c d e f g h, duration: 9, time_left: [5s]}
          - {title: F, duration: 9, time_left: {at: [1s], say: "only {remaining} left now"}}
          - {title: G, say: a b, duration: 9, strokes: 4, halfway: one two three four, time_left: [3s]}
          - title: H
            breath: {inhale: 1, exhale: 2, cycles: 1, words: {inhale: breathe in slowly}}
        """) == [
        "r.yaml:4:5: steps[0]: the countdown over the last 3 strokes of step 'A' needs 3 strokes, but only 2 fit",
        "r.yaml:5:5: steps[1]: the 5 s countdown of step 'B' does not fit after its narration: only 2.5 s remain",
        "r.yaml:6:5: steps[2]: the countdown word 'count 2 now' of step 'C' takes 1.5 s, longer than the 1.1 s "
        "between counts",
        "r.yaml:6:5: steps[2]: the countdown word 'count 1 now' of step 'C' takes 1.5 s, longer than the 1.1 s "
        "between counts",
        "r.yaml:6:5: steps[2]: in step 'C', the countdown 'count 1 now' starts before the countdown "
        "'count 2 now' ends",
        "r.yaml:7:5: steps[3]: the halfway cue 'we are half way there now' of step 'D' runs past the end of its "
        "pacing",
        "r.yaml:8:5: steps[4]: the time-left callout '5 seconds left.' of step 'E' would start before its "
        "narration ends",
        "r.yaml:9:5: steps[5]: the time-left callout 'only 1 second left now' of step 'F' takes 2.5 s, more than "
        "the 1.0 s left",
        "r.yaml:10:5: steps[6]: in step 'G', the halfway cue 'one two three four' starts before the time-left "
        "callout '3 seconds left.' ends",
        "r.yaml:11:5: steps[7]: the breath word 'breathe in slowly' of step 'H' takes 1.5 s, longer than the "
        "1.0 s inhale",
    ]
