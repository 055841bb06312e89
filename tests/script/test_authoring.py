"""Authoring features of the format: sides, repeats, snippets and defaults, names and exact pauses
in texts, cues, overflow policies; every misuse with its exact message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from locations import ROOT
from sound_files import tiny_wav

from voiceguide.core.errors import ScriptError, Where
from voiceguide.script import text as texts
from voiceguide.script.load import MAX_STEPS, load_routine
from voiceguide.script.model import (
    BreathWords,
    Callout,
    Countdown,
    Overflow,
    Sound,
    Step,
    Switch,
    Timing,
    Voice,
)

HEAD = "title: T\ndescription: D\n"


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def routine(tmp_path: Path, body: str):
    return load_routine(write(tmp_path, "r.yaml", HEAD + textwrap.dedent(body)))


def problems(tmp_path: Path, body: str, name: str = "r.yaml") -> list[str]:
    """Every problem reported for the routine ``name`` with ``body`` after the two head lines, with
    the library folder (``tmp_path``) cut from the file names."""
    path = write(tmp_path, name, HEAD + textwrap.dedent(body))
    with pytest.raises(ScriptError) as info:
        load_routine(path)
    return [str(p).removeprefix(f"{tmp_path}/") for p in info.value.problems]


# --- Texts: names and exact pauses ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("Breathe in [4s] and slowly out [6s]", ("Breathe in", 4.0, "and slowly out", 6.0)),
        ("[1.5s] Hello", (1.5, "Hello")),
        ("out [6s]. Once more [500ms], then rest", ("out.", 6.0, "Once more,", 0.5, "then rest")),
        ("a [1m] [2s] b", ("a", 60.0, 2.0, "b")),
        ("no pauses at all", ("no pauses at all",)),
        ("title [gentle] stays", ("title [gentle] stays",)),
    ],
)
def test_split_pauses(text: str, parts: tuple) -> None:
    assert texts.split_pauses(text) == parts


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Now the {side} side, {{literally}}.", []),
        ("{sid}", ["unknown name '{sid}' in the text; names are: title, routine, side, round, rounds, strokes, "
                   "duration, cycles, inhale, exhale, hold, remaining; did you mean '{side}'?"]),
        ("{colour}", ["unknown name '{colour}' in the text; names are: title, routine, side, round, rounds, "
                      "strokes, duration, cycles, inhale, exhale, hold, remaining"]),
        ("round {round", ["'{' without a matching '}' in the text; write {{ for a brace itself"]),
        ("round }", ["'}' without a matching '{' in the text; write }} for a brace itself"]),
        ("in [4x]", ["'[4x]' is not a pause; write a duration in brackets, such as [4s]"]),
        ("in [0s]", ["the pause '[0s]' must be more than 0 seconds"]),
        ("in [4s", ["a bracket without its partner in the text; a pause is a duration in brackets, such as [4s]"]),
    ],
)
def test_text_problems(text: str, found: list[str]) -> None:
    assert texts.problems(text) == found


def test_fill_and_spoken_durations() -> None:
    assert texts.fill("{title}: {{side}} is {side}", {"title": "Jaw", "side": "left"}) == "Jaw: {side} is left"
    assert [texts.spoken_duration(s) for s in (1, 30, 60, 90, 120, 1.5, 125)] == [
        "1 second", "30 seconds", "1 minute", "1 minute 30 seconds", "2 minutes", "1.5 seconds",
        "2 minutes 5 seconds"]


def test_names_are_filled_in_from_the_step(tmp_path: Path) -> None:
    r = routine(tmp_path, """\
        intro: Welcome to {routine}.
        steps:
          - title: Jaw
            say: "{title}: {strokes} strokes in {duration}."
            duration: 1m30s
            strokes: 12
          - title: Breathe
            say: In for {inhale}, hold {hold}, out for {exhale}, {cycles} times.
            breath: {inhale: 4, hold: 1.5, exhale: 6, cycles: 3}
        """)
    assert [s.say for s in r.steps] == [
        "Welcome to T.",
        "Jaw: 12 strokes in 1 minute 30 seconds.",
        "In for 4 seconds, hold 1.5 seconds, out for 6 seconds, 3 times.",
    ]


def test_names_a_step_does_not_know_are_errors_at_their_text(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        steps:
          - title: A
            say: The {side} side, round {round} of {rounds}.
            duration: 10
          - title: B
            say: "{strokes} strokes, {cycles} cycles, {inhale}, {remaining}"
            duration: 10
          - title: C
            breath: {inhale: 2, exhale: 2}
            duration: 10
            say: "{duration} for {cycles}"
          - title: D
            say: "{title} {sid}"
            duration: 10
        """) == [
        "r.yaml:5:10: steps[0].say: '{side}' is only known in a step with sides",
        "r.yaml:8:10: steps[1].say: '{strokes}' is only known in a step with strokes",
        "r.yaml:13:10: steps[2].say: '{cycles}' is only known in a breath step with cycles",
        "r.yaml:15:10: steps[3].say: unknown name '{sid}' in the text; names are: title, routine, side, round, "
        "rounds, strokes, duration, cycles, inhale, exhale, hold, remaining; did you mean '{side}'?",
    ]


def test_exact_pauses_are_cut_out_of_what_is_spoken(tmp_path: Path) -> None:
    r = routine(tmp_path, """\
        steps:
          - title: Breathe
            say: Breathe in [4s] and slowly out [6s]. Again.
            duration: 30
        """)
    assert r.steps[0].say == "Breathe in [4s] and slowly out [6s]. Again."
    assert r.texts() == ["Breathe in", "and slowly out.", "Again."]


def test_bad_pauses_are_errors_at_their_text(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        steps:
          - title: A
            say: Breathe in [four seconds] and out [0s].
            duration: 10
        """) == [
        "r.yaml:5:10: steps[0].say: '[four seconds]' is not a pause; write a duration in brackets, such as [4s]",
        "r.yaml:5:10: steps[0].say: the pause '[0s]' must be more than 0 seconds",
    ]


# --- Sides ------------------------------------------------------------------------------------


def test_sides_unroll_into_a_step_per_side(tmp_path: Path) -> None:
    r = routine(tmp_path, """\
        timing: {switch: 4s}
        steps:
          - title: Jaw
            say: Circles on the {side} side.
            sides: [left, right]
            duration: 20
            strokes: 5
          - title: Cheeks
            sides: [left, centre, right]
            switch: {say: "{title}, {side}.", pause: 2s}
            duration: 10
          - title: Temples
            sides: [left, right]
            switch: false
            duration: 10
        """)
    file = str(tmp_path / "r.yaml")
    jaw = Where(file, 5, 5, "steps[0]")
    cheeks, temples = Where(file, 10, 5, "steps[1]"), Where(file, 14, 5, "steps[2]")
    assert r.steps == (
        Step("Jaw", jaw, say="Circles on the left side.", duration=20.0, strokes=5, side="left"),
        Step("Jaw", jaw, duration=20.0, strokes=5, side="right", switch=Switch("Now the right side.", 4.0)),
        Step("Cheeks", cheeks, duration=10.0, side="left"),
        Step("Cheeks", cheeks, duration=10.0, side="centre", switch=Switch("Cheeks, centre.", 2.0)),
        Step("Cheeks", cheeks, duration=10.0, side="right", switch=Switch("Cheeks, right.", 2.0)),
        Step("Temples", temples, duration=10.0, side="left"),
        Step("Temples", temples, duration=10.0, side="right", switch=Switch(None, 4.0)),
    )
    assert r.sounds["switch"] == Sound("bell", -12.0)


def test_sides_misuse(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        steps:
          - {title: A, duration: 10, sides: [left]}
          - {title: B, duration: 10, sides: [left, left]}
          - {title: C, duration: 10, sides: left}
          - {title: D, duration: 10, sides: [left, right], switch: [a]}
          - {title: E, duration: 10, sides: [left, right], switch: {pause: -1}}
        intro: {say: hi, sides: [a, b]}
        """) == [
        "r.yaml:4:37: steps[0].sides: needs at least 2 sides",
        "r.yaml:5:44: steps[1].sides[1]: 'left' is listed twice",
        "r.yaml:6:37: steps[2].sides: expected a list of sides, got text",
        "r.yaml:7:60: steps[3].switch: expected true, false or text, got a list",
        "r.yaml:8:68: steps[4].switch.pause: must be at least 0 seconds, got -1",
        "r.yaml:9:18: intro.sides: unknown field; expected one of: title, say, duration, strokes, stroke_every, "
        "breath, zone, stroke, image, countdown, last, halfway, time_left, closing, overflow, pace, cue",
    ]


# --- Repeats ----------------------------------------------------------------------------------


def test_repeats_unroll_with_their_round(tmp_path: Path) -> None:
    r = routine(tmp_path, """\
        steps:
          - repeat: 2
            steps:
              - title: Circles
                say: Round {round} of {rounds}.
                duration: 10
              - pause: 2s
          - title: After
            duration: 5
        """)
    assert [(s.kind, s.title, s.say, s.round, s.rounds) for s in r.steps] == [
        ("step", "Circles", "Round 1 of 2.", 1, 2),
        ("pause", "Pause", None, 1, 2),
        ("step", "Circles", "Circles, round 2 of 2.", 2, 2),  # later rounds say the short form
        ("pause", "Pause", None, 2, 2),
        ("step", "After", None, None, None),
    ]
    assert r.steps[0].where.path == "steps[0].steps[0]"


def test_nested_repeats_name_the_innermost_round(tmp_path: Path) -> None:
    r = routine(tmp_path, """\
        steps:
          - repeat: 2
            steps:
              - repeat: 2
                steps: [{title: Press, say: "{round}/{rounds}", again: "again {round}/{rounds}", duration: 5}]
        """)
    assert [s.say for s in r.steps] == ["1/2", "again 2/2", "1/2", "again 2/2"]


def test_later_rounds_say_the_again_text_or_the_title_and_round(tmp_path: Path) -> None:
    r = routine(tmp_path, """\
        steps:
          - repeat: 3
            steps:
              - title: Tapping
                say: Tap lightly all over your face, like soft rain.
                again: Tapping again, {round} of {rounds}.
                duration: 10
              - title: Press
                say: Press and hold.
                duration: 10
              - title: Quiet
                duration: 10
          - title: Once
            say: Only once.
            again: Never said.
            duration: 10
        """)
    assert [s.say for s in r.steps] == [
        "Tap lightly all over your face, like soft rain.", "Press and hold.", None,
        "Tapping again, 2 of 3.", "Press, round 2 of 3.", None,
        "Tapping again, 3 of 3.", "Press, round 3 of 3.", None,
        "Only once.",
    ]
    assert "Never said." not in r.texts()


def test_a_name_again_may_not_use_is_found_in_a_single_round_too(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        steps:
          - repeat: 1
            steps:
              - title: Tapping
                say: Tap.
                again: The {side} side again.
                duration: 10
        """) == ["r.yaml:8:16: steps[0].steps[0].again: '{side}' is only known in a step with sides"]


def test_repeats_misuse(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        steps:
          - repeat: 0
            steps: []
          - repeat: 101
            steps: [{pause: 1}]
          - repeat: 2
          - repeat: 2
            steps: [{pause: 1}]
            title: Rounds
        """) == [
        "r.yaml:4:13: steps[0].repeat: must be at least 1, got 0",
        "r.yaml:5:12: steps[0].steps: needs at least one step",
        "r.yaml:6:13: steps[1].repeat: must be at most 100, got 101",
        "r.yaml:8:5: steps[2].steps: required field is missing",
        "r.yaml:11:5: steps[3].title: unknown field; expected one of: repeat, steps",
    ]


def test_a_routine_may_unroll_to_at_most_max_steps(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        steps:
          - repeat: 100
            steps:
              - repeat: 11
                steps: [{pause: 1}]
        """) == [f"r.yaml:4:3: steps: the steps unroll to 1100 steps (every round and side counts); "
                 f"at most {MAX_STEPS} are allowed"]


# --- Snippets ---------------------------------------------------------------------------------


def test_includes_read_snippets_from_the_library(tmp_path: Path) -> None:
    write(tmp_path, "_snippets/neck.yaml", """\
        title: Neck
        say: Stroke down the neck, {strokes} times.
        duration: 40s
        strokes: 8
        """)
    write(tmp_path, "_snippets/hold.yaml", "title: Hold\nsay: Hold still.\nduration: 40s\nstrokes: 8\n")
    write(tmp_path, "_snippets/face/opening.yaml", """\
        - include: neck
        - pause: 2s
        """)
    r = routine(tmp_path, """\
        steps:
          - include: face/opening
          - include: neck
            title: Neck again
            strokes: 5
          - include: hold
            breath: {inhale: 4, exhale: 4}
        """)
    snippet = str(tmp_path / "_snippets" / "neck.yaml")
    assert [(s.kind, s.title, s.say, s.duration, s.strokes, s.breath is not None) for s in r.steps] == [
        ("step", "Neck", "Stroke down the neck, 8 times.", 40.0, 8, False),
        ("pause", "Pause", None, 2.0, None, False),
        ("step", "Neck again", "Stroke down the neck, 5 times.", 40.0, 5, False),
        ("step", "Hold", "Hold still.", 40.0, None, True),  # a pacing beside include replaces the snippet's
    ]
    assert r.steps[0].where == Where(snippet, 1, 1, "")
    assert r.steps[1].where == Where(str(tmp_path / "_snippets" / "face" / "opening.yaml"), 2, 3, "[1]")
    assert r.steps[2].where == Where(str(tmp_path / "r.yaml"), 5, 5, "steps[1]")


def test_problems_in_snippets_are_reported_at_their_own_lines(tmp_path: Path) -> None:
    write(tmp_path, "_snippets/bad.yaml", """\
        title: Bad
        say: Hello {sid}.
        duration: -3
        stroke: 4
        """)
    write(tmp_path, "_snippets/broken.yaml", "- title: [\n")
    write(tmp_path, "_snippets/empty.yaml", "# nothing yet\n")
    write(tmp_path, "_snippets/text.yaml", "just words\n")
    assert problems(tmp_path, """\
        steps:
          - include: bad
          - include: broken
          - include: empty
          - include: text
        """) == [
        "_snippets/bad.yaml:2:6: say: unknown name '{sid}' in the text; names are: title, routine, side, round, "
        "rounds, strokes, duration, cycles, inhale, exhale, hold, remaining; did you mean '{side}'?",
        "_snippets/bad.yaml:3:11: duration: must be more than 0 seconds, got -3",
        "_snippets/bad.yaml:4:9: stroke: stroke is how the hands move (outward, inward, up, down, circles, tap, "
        "press, hold); for a count of strokes write strokes: 4",
        "_snippets/broken.yaml:1:10: YAML syntax error: the '[' that opens here is not closed before the file ends; "
        "end it with ']'",
        "_snippets/empty.yaml:1:1: the file is empty; a snippet holds a step or a list of steps",
        "_snippets/text.yaml:1:1: expected a step, or a list of steps, got text",
    ]


def test_includes_cannot_leave_the_library_or_go_round_in_circles(tmp_path: Path) -> None:
    write(tmp_path, "_snippets/a.yaml", "- include: b\n")
    write(tmp_path, "_snippets/b.yaml", "include: a\n")
    write(tmp_path, "_snippets/self.yaml", "include: self\n")
    write(tmp_path, "secret.yaml", "title: Secret\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.yaml"
    outside.write_text("title: Outside\nduration: 5\n")
    (tmp_path / "_snippets" / "link.yaml").symlink_to(outside)
    snippets = tmp_path / "_snippets"
    assert problems(tmp_path, """\
        steps:
          - include: ../secret
          - include: /etc/passwd
          - include: a
          - include: self
          - include: link
          - include: nekc
          - include: slef
        """) == [
        f"r.yaml:4:14: steps[0].include: cannot include '../secret': a snippet is named by its path in "
        f"{snippets}/, which cannot leave the library folder",
        f"r.yaml:5:14: steps[1].include: cannot include '/etc/passwd': a snippet is named by its path in "
        f"{snippets}/, which cannot leave the library folder",
        f"r.yaml:8:14: steps[4].include: cannot include 'link': {snippets}/link.yaml leads outside the "
        f"library folder {tmp_path}/",
        f"r.yaml:9:14: steps[5].include: no snippet 'nekc' in {snippets}/ (snippets there: a, b, link, self)",
        f"r.yaml:10:14: steps[6].include: no snippet 'slef' in {snippets}/ (snippets there: a, b, link, self); "
        "did you mean 'self'?",
        # a cycle is reported where it closes: in the snippet that includes the first again
        "_snippets/b.yaml:1:10: include: include cycle: a -> b -> a",
        "_snippets/self.yaml:1:10: include: include cycle: self -> self",
    ]


def test_overriding_fields_of_a_snippet_that_is_not_one_step(tmp_path: Path) -> None:
    write(tmp_path, "_snippets/two.yaml", "- {title: A, duration: 5}\n- {title: B, duration: 5}\n")
    write(tmp_path, "_snippets/rest.yaml", "pause: 3s\n")
    write(tmp_path, "_snippets/breathe.yaml", "title: Breathe\nbreath: {inhale: 2, exhale: 2, cycles: 2}\n")
    assert problems(tmp_path, """\
        steps:
          - include: two
            duration: 8
          - include: rest
            title: Rest
          - include: breathe
            strokes: 4
        """) == [
        "r.yaml:5:15: steps[0].duration: only a snippet of one step takes step fields beside include; "
        "'two' holds 2 steps",
        "r.yaml:7:12: steps[1].title: only a snippet of one step takes step fields beside include; "
        "'rest' holds a pause or a repeat",
        "r.yaml:8:5: steps[2].duration: required field is missing (only breath steps may leave it out)",
    ]


# --- Library defaults -------------------------------------------------------------------------


def test_routines_inherit_the_library_defaults_field_by_field(tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "bowl.wav").write_bytes(tiny_wav())
    write(tmp_path, "_defaults.yaml", """\
        author: Ana
        album: Ana's library
        voice: {engine: fake, rate: 140}
        background: {bed: drone, level: -30}
        sounds: {chime: sounds/bowl.wav, finish: bell}
        timing: {lead_in: 2s, overflow: extend, pace: lymphatic}
        """)
    r = routine(tmp_path, """\
        author: Ben
        voice: {rate: 150}
        timing: {settle: 0.5}
        steps: [{title: A, duration: 10}]
        """)
    assert (r.author, r.album, r.genre) == ("Ben", "Ana's library", "Meditation")
    assert r.voice == Voice(engine="fake", rate=150.0)
    assert (r.background.bed, r.background.level) == ("drone", -30.0)
    assert r.timing == Timing(lead_in=2.0, settle=0.5, overflow=Overflow("extend"), pace="lymphatic")
    assert r.sounds["chime"] == Sound(str((tmp_path / "sounds" / "bowl.wav").resolve()), -10.0)
    assert r.sounds["finish"] == Sound("bell", -10.0)
    assert (r.steps[0].overflow, r.steps[0].pace) == (Overflow("extend"), "lymphatic")


def test_problems_in_the_defaults_file_are_reported_with_the_routines(tmp_path: Path) -> None:
    write(tmp_path, "_defaults.yaml", """\
        voice: {rate: 20}
        title: Not here
        """)
    assert problems(tmp_path, "steps: [{title: A, duration: 0}]\n") == [
        "r.yaml:3:30: steps[0].duration: must be more than 0 seconds, got 0",
        "_defaults.yaml:1:15: voice.rate: must be between 60 and 400, got 20",
        "_defaults.yaml:2:1: title: unknown field; expected one of: author, album, genre, image, voice, "
        "background, sounds, timing, loudness, true_peak, lengths, variants, languages, words",
    ]


def test_an_empty_defaults_file_changes_nothing(tmp_path: Path) -> None:
    write(tmp_path, "_defaults.yaml", "# nothing yet\n")
    assert routine(tmp_path, "steps: [{title: A, duration: 10}]\n").voice == Voice()


# --- Cues -------------------------------------------------------------------------------------


def test_cues_become_the_model(tmp_path: Path) -> None:
    r = routine(tmp_path, """\
        steps:
          - title: Circles
            duration: 60
            strokes: 20
            countdown: {strokes: 3, say: "{remaining} more"}
            halfway: true
            time_left: [10s, 30s]
            closing: And rest.
          - title: Hold
            duration: 30
            countdown: {seconds: 5}
            halfway: Halfway, {title}.
            time_left: {at: [20s], say: "{remaining} to go"}
            overflow: {policy: speed, max_speed: 1.5}
          - title: Breathe
            breath:
              inhale: 4
              hold: 2
              exhale: 6
              cycles: 3
              words: {inhale: In, exhale: Out, cycles: 2}
          - title: Breathe again
            breath: {inhale: 4, exhale: 6, cycles: 2, words: true}
        """)
    circles, hold, breathe, again = r.steps
    assert circles.countdown == Countdown(3, "strokes", ("3 more", "2 more", "1 more"))
    assert (circles.halfway, circles.closing) == (True, "And rest.")
    assert circles.callouts == (Callout(30.0, "30 seconds left."), Callout(10.0, "10 seconds left."))
    assert hold.countdown == Countdown(5, "seconds")
    assert hold.halfway == "Halfway, Hold."
    assert hold.callouts == (Callout(20.0, "20 seconds to go"),)
    assert hold.overflow == Overflow("speed", 1.5)
    assert breathe.breath.words == BreathWords(inhale="In", exhale="Out", cycles=2)
    assert again.breath.words == BreathWords(inhale="Breathe in", exhale="Breathe out")  # no holds, no "Hold"
    assert set(r.sounds) == {"tick", "chime", "inhale", "exhale", "countdown", "halfway", "pulse"}  # Hold: 30 s
    assert r.texts() == ["3 more", "2 more", "1 more", "30 seconds left.", "10 seconds left.", "And rest.",
                         "Halfway, Hold.", "20 seconds to go", "In", "Out", "Breathe in", "Breathe out"]


def test_cues_misuse(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        steps:
          - title: A
            duration: 10
            countdown: {}
          - title: B
            duration: 10
            strokes: 4
            countdown: {strokes: 5, seconds: 2}
          - title: C
            duration: 10
            countdown: {strokes: 2}
          - title: D
            duration: 10
            strokes: 4
            countdown: {strokes: 5}
          - title: E
            duration: 10
            countdown: {seconds: 10, say: "{side}"}
          - title: F
            duration: 10
            halfway: [yes]
            time_left: [10s, 5, 5s]
            closing: "{remaining}"
          - title: G
            breath: {inhale: 2, exhale: 2, cycles: 2, words: {inhale: In, cycles: 3}}
          - title: H
            breath: {inhale: 2, exhale: 2, cycles: 2, words: maybe}
        """) == [
        "r.yaml:6:16: steps[0].countdown: give strokes or seconds",
        "r.yaml:10:38: steps[1].countdown.seconds: use only one of strokes and seconds",
        "r.yaml:13:16: steps[2].countdown: a countdown over strokes needs strokes or stroke_every in the step",
        "r.yaml:17:16: steps[3].countdown: counts down over 5 strokes, but the step has 4 strokes",
        "r.yaml:20:16: steps[4].countdown: counts down over 10 s, but the step lasts 10 s",
        "r.yaml:20:35: steps[4].countdown.say: '{side}' is only known in a step with sides",
        "r.yaml:23:14: steps[5].halfway: expected true, false or text, got a list",
        "r.yaml:24:16: steps[5].time_left: a callout 10 s before the end does not fit in a 10 s step",
        "r.yaml:24:25: steps[5].time_left[2]: '5s' is listed twice",
        "r.yaml:25:14: steps[5].closing: '{remaining}' is only known in countdown, last and time-left texts",
        "r.yaml:27:13: steps[6].breath: the words are for 3 cycles, but the step has 2 breath cycles",
        "r.yaml:29:54: steps[7].breath.words: expected true, false, or a mapping of words for inhale, hold, "
        "exhale and hold_out, got text",
    ]


def test_a_last_strokes_cue_becomes_the_model(tmp_path: Path) -> None:
    from voiceguide.script.model import Last

    path = write(tmp_path, "r.yaml", textwrap.dedent("""\
        title: {en: R, de: R}
        description: {en: A routine., de: Eine Routine.}
        languages: [en, de]
        steps:
          - {title: {en: A, de: A}, duration: 40, strokes: 8, last: 3}
          - title: {en: B, de: Bee}
            duration: 40
            stroke_every: 4s
            last: {strokes: 2, say: {en: "Two more, {title}.", de: "Noch zwei, {title}."}}
        """))
    r = load_routine(path)
    assert [s.last for s in r.steps] == [Last(3, "Last 3."), Last(2, "Two more, B.")]
    assert "Last 3." in r.texts()
    german = load_routine(path, language="de")
    assert [s.last for s in german.steps] == [Last(3, "Noch 3."), Last(2, "Noch zwei, Bee.")]


def test_a_last_strokes_cue_misuse(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        steps:
          - {title: A, duration: 10, last: 3}
          - {title: B, duration: 10, strokes: 2, last: 3}
          - {title: C, duration: 10, strokes: 4, last: 0}
          - {title: D, duration: 10, strokes: 4, last: {say: Last few.}}
          - {title: E, duration: 10, strokes: 4, last: {strokes: 2, say: "{round}"}}
        """) == [
        "r.yaml:4:36: steps[0].last: a last-strokes cue needs strokes or stroke_every in the step",
        "r.yaml:5:48: steps[1].last: is spoken with 3 strokes left, but the step has 2 strokes",
        "r.yaml:6:48: steps[2].last: must be at least 1, got 0",
        "r.yaml:7:48: steps[3].last.strokes: required field is missing",
        "r.yaml:8:66: steps[4].last.say: '{round}' is only known inside a repeat",
    ]


# --- Overflow, timing and pace ----------------------------------------------------------------


def test_timing_min_stroke_holds_strokes_to_it(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        timing: {min_stroke: 2s}
        steps:
          - {title: A, duration: 10, strokes: 5}
          - {title: B, duration: 10, stroke_every: 1s}
        """) == [
        "r.yaml:5:39: steps[0].strokes: 5 strokes do not fit in 10 s after the 1.5 s lead-in "
        "(each needs at least 2 s)",
        "r.yaml:6:44: steps[1].stroke_every: must be at least timing.min_stroke (2 s), got 1",
    ]


def test_overflow_and_pace_misuse(tmp_path: Path) -> None:
    assert problems(tmp_path, """\
        timing: {overflow: slow, pace: brisk, min_stroke: 0.2}
        steps:
          - {title: C, duration: 10, overflow: {max_speed: 3}}
          - {title: D, duration: 10, overflow: [extend]}
        """) == [
        "r.yaml:3:20: timing.overflow: unknown overflow policy 'slow'; choose one of: error, extend, speed",
        "r.yaml:3:32: timing.pace: unknown pace 'brisk'; choose one of: lymphatic, circulation, tension",
        "r.yaml:3:51: timing.min_stroke: must be at least 0.4 seconds, got 0.2",
        "r.yaml:5:40: steps[0].overflow.policy: required field is missing",
        "r.yaml:5:52: steps[0].overflow.max_speed: must be between 1 and 2, got 3",
        "r.yaml:6:40: steps[1].overflow: expected a policy (error, extend or speed) or a mapping with policy "
        "and max_speed, got a list",
    ]


def test_a_step_overflow_and_pace_override_the_routines(tmp_path: Path) -> None:
    r = routine(tmp_path, """\
        timing: {overflow: {policy: speed, max_speed: 1.2}, pace: tension}
        steps:
          - {title: A, duration: 10}
          - {title: B, duration: 10, overflow: error, pace: circulation}
        """)
    assert [(s.overflow, s.pace) for s in r.steps] == [
        (Overflow("speed", 1.2), "tension"), (Overflow("error", 1.25), "circulation")]


# --- The format reference ---------------------------------------------------------------------

FORMAT_MD = ROOT / "docs" / "format.md"
LIBRARY = ROOT / "scripts_yaml"


def test_every_routine_in_the_format_reference_loads(tmp_path: Path) -> None:
    import re
    import shutil

    import yaml

    shutil.copytree(LIBRARY / "_snippets", tmp_path / "_snippets")
    blocks = re.findall(r"```yaml\n(.*?)```", FORMAT_MD.read_text(encoding="utf-8"), re.DOTALL)
    routines = [block for block in blocks if "\ntitle:" in f"\n{block}" and "\nsteps:" in block]
    assert len(routines) == 3
    for i, block in enumerate(routines):
        path = write(tmp_path, f"example{i}.yaml", block)
        for language in load_routine(path).languages:  # each in every language it speaks
            assert load_routine(path, language).steps
    for block in blocks:  # the fragments are YAML too
        yaml.safe_load(block)
