"""The planner: pure, exact, checked against golden JSON and by the rules it promises."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from locations import TESTS

from voiceguide.core.audio import RATE
from voiceguide.core.errors import PlanError, Where
from voiceguide.plan.timeline import plan
from voiceguide.script.model import Background, Breath, Routine, Step, Timing

GOLDEN = TESTS / "golden"


def step(title, n, **fields):
    return Step(title=title, where=Where("r.yaml", n, 5, f"steps[{n}]"), **fields)


def routine(*steps, **fields):
    return Routine(id="r", source="r.yaml", title="Test routine", description="d", steps=tuple(steps),
                   background=Background(fade_out=6.0), timing=Timing(lead_in=1.5, settle=1.0), **fields)


SAMPLE = routine(
    step("Introduction", 0, say="Welcome."),
    step("Breathing", 1, say="Breathe with the tones.", breath=Breath(inhale=4, hold=1, exhale=6, cycles=2)),
    step("Collarbones", 2, say="Stroke outward.", duration=30, strokes=5),
    Step(title="Pause", where=Where("r.yaml", 3, 5, "steps[3]"), kind="pause", duration=4),
    step("Neck", 4, say="Stroke down the neck.", duration=20, stroke_every=3),
    step("Rest", 5, duration=10, strokes=2),
    step("Slow breaths", 6, duration=25, breath=Breath(inhale=4, exhale=4)),
    step("Closing", 7, say="Thank you."),
)
LENGTHS = {"Welcome.": 2 * RATE, "Breathe with the tones.": 3 * RATE, "Stroke outward.": 5 * RATE,
           "Stroke down the neck.": int(4.25 * RATE), "Thank you.": RATE}


def test_plan_matches_golden_json():
    result = plan(SAMPLE, LENGTHS).to_json()
    golden = GOLDEN / "plan_sample.json"
    if os.environ.get("VOICEGUIDE_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(result, indent=2) + "\n")
    assert result == json.loads(golden.read_text())


def test_steps_are_contiguous_and_exact():
    p = plan(SAMPLE, LENGTHS)
    assert p.steps[0].start == 0
    for before, after in zip(p.steps, p.steps[1:]):
        assert after.start == before.end
    collarbones = p.steps[2]
    assert collarbones.end - collarbones.start == 30 * RATE  # exact, whatever the words did
    assert p.length == p.steps[-1].end


def test_every_event_lies_inside_its_step_and_in_order():
    for s in plan(SAMPLE, LENGTHS).steps:
        starts = [e.start for e in s.events]
        assert starts == sorted(starts)
        for e in s.events:
            assert s.start <= e.start <= e.end <= s.end


def test_speech_starts_after_the_lead_in_and_strokes_follow_it_evenly_to_the_end():
    s = plan(SAMPLE, LENGTHS).steps[2]
    speech, *ticks = [e for e in s.events if e.kind != "chime"]
    assert speech.start == s.start + int(1.5 * RATE)
    assert speech.end == speech.start + 5 * RATE
    assert ticks[0].start == speech.end + RATE  # the settle time
    assert len(ticks) == 5 and ticks[-1].end == s.end
    spans = {t.end - t.start for t in ticks}
    assert max(spans) - min(spans) <= 1


def test_chime_marks_every_step_but_the_first_and_pauses():
    p = plan(SAMPLE, LENGTHS)
    chimed = [s.title for s in p.steps if any(e.kind == "chime" for e in s.events)]
    assert chimed == ["Breathing", "Collarbones", "Neck", "Rest", "Slow breaths", "Closing"]


def test_breath_cycles_are_exact_and_fill_a_step_with_a_duration():
    p = plan(SAMPLE, LENGTHS)
    kinds = [e.kind for e in p.steps[1].events if e.kind != "chime"][1:]
    assert kinds == ["inhale", "hold", "exhale"] * 2
    inhales = [e for e in p.steps[6].events if e.kind == "inhale"]
    assert len(inhales) == 2  # 25 s - 1.5 s lead-in holds two whole 8 s cycles... and no more than fit
    assert inhales[1].start - inhales[0].start == 8 * RATE


def test_intro_lasts_its_words_plus_a_breath_and_the_last_step_its_fade_out():
    p = plan(SAMPLE, LENGTHS)
    intro, outro = p.steps[0], p.steps[-1]
    assert intro.end == int(1.5 * RATE) + 2 * RATE + int(1.5 * RATE)
    assert outro.end - outro.start == int(1.5 * RATE) + RATE + 6 * RATE


def test_narration_longer_than_its_step_is_an_error_naming_step_and_lengths():
    too_long = routine(step("Neck", 0, say="Words.", duration=10, strokes=2))
    with pytest.raises(PlanError) as exc:
        plan(too_long, {"Words.": 12 * RATE})
    assert str(exc.value) == ("r.yaml:0:5: steps[0]: the narration of step 'Neck' takes 12.0 s but the step "
                              "leaves 8.5 s for it (10.0 s step, 1.5 s lead-in)")


def test_every_misfit_is_reported_at_once():
    bad = routine(step("A", 1, say="a", duration=5, strokes=2), step("B", 2, say="b", duration=10, strokes=20))
    with pytest.raises(PlanError) as exc:
        plan(bad, {"a": 6 * RATE, "b": 5 * RATE})
    assert [str(p) for p in exc.value.problems] == [
        "r.yaml:1:5: steps[1]: the narration of step 'A' takes 6.0 s but the step leaves 3.5 s for it "
        "(5.0 s step, 1.5 s lead-in)",
        "r.yaml:2:5: steps[2]: 20 strokes need at least 8.0 s after the narration of step 'B', "
        "but only 2.5 s remain",
    ]


def test_breath_cycles_that_do_not_fit_after_the_words_are_an_error():
    bad = routine(step("Breathe", 1, say="a", duration=20, breath=Breath(inhale=4, exhale=6, cycles=2)))
    with pytest.raises(PlanError, match=r"2 breath cycles of 10.0 s do not fit after the narration of step "
                                        r"'Breathe': only 14.5 s remain"):
        plan(bad, {"a": 3 * RATE})


def test_plan_is_pure_and_repeatable():
    assert plan(SAMPLE, LENGTHS) == plan(SAMPLE, LENGTHS)


def test_a_last_strokes_cue_is_spoken_over_the_tick_of_the_stroke_with_that_many_left():
    from voiceguide.script.model import Last

    timeline = plan(routine(step("Neck", 0, say="Stroke.", duration=30, strokes=8, last=Last(3, "Last 3."))),
                    {"Stroke.": 2 * RATE, "Last 3.": RATE})
    events = timeline.steps[0].events
    ticks = [e for e in events if e.kind == "tick"]
    cue = next(e for e in events if e.cue == "last")
    assert len(ticks) == 8  # every stroke keeps its tick: the cue is spoken over the sixth
    assert (cue.text, cue.start, cue.end) == ("Last 3.", ticks[5].start, ticks[5].start + RATE)


def test_a_last_strokes_cue_that_does_not_fit_is_reported():
    from voiceguide.script.model import Last

    bad = routine(step("A", 1, say="a", duration=12, stroke_every=4, last=Last(5, "Last 5.")),
                  step("B", 2, say="b", duration=12, strokes=4, last=Last(1, "And the very last one of them.")))
    with pytest.raises(PlanError) as exc:
        plan(bad, {"a": RATE, "b": RATE, "Last 5.": RATE, "And the very last one of them.": 4 * RATE})
    assert [str(p) for p in exc.value.problems] == [
        "r.yaml:1:5: steps[1]: the cue 'Last 5.' of step 'A' is spoken with 5 strokes left, but only 2 fit",
        ("r.yaml:2:5: steps[2]: the cue 'And the very last one of them.' of step 'B' takes 4.0 s, "
         "more than the 2.1 s from its stroke to the end of the pacing"),
    ]
