"""Tests for voiceguide.script.load: loading routine files, every message, and the JSON Schema."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml
from locations import ROOT
from sound_files import tiny_wav

from voiceguide.core.errors import ScriptError, UsageError, Where
from voiceguide.script.load import (
    MIN_STROKE_INTERVAL,
    format_seconds,
    json_schema,
    load_routine,
    parse_duration,
)
from voiceguide.script.model import Background, Breath, Sound, Step, Timing, Voice

FORMAT_MD = ROOT / "docs" / "format.md"
TOP_LEVEL = ("title", "description", "author", "album", "genre", "image", "voice", "background", "sounds",
             "timing", "loudness", "true_peak", "lengths", "variants", "intro", "steps", "outro")


def write(tmp_path: Path, text: str, name: str = "routine.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    """The problem lines load_routine reports for ``path``."""
    with pytest.raises(ScriptError) as info:
        load_routine(path)
    return [str(problem) for problem in info.value.problems]


def problems_in(tmp_path: Path, text: str) -> list[str]:
    """The problems in ``text``, each without the ``FILE:`` prefix."""
    path = write(tmp_path, text)
    prefix = f"{path}:"
    lines = problems(path)
    assert all(line.startswith(prefix) for line in lines)
    return [line.removeprefix(prefix) for line in lines]


def docs_example() -> str:
    match = re.search(r"```yaml\n(.*?)```", FORMAT_MD.read_text(encoding="utf-8"), re.DOTALL)
    assert match, "docs/format.md has no yaml example"
    return match.group(1)


# --- Valid routines ---------------------------------------------------------------------------


def test_the_example_in_the_docs_loads(tmp_path: Path) -> None:
    path = write(tmp_path, docs_example(), "lymphatic.yaml")
    routine = load_routine(path)
    assert routine.id == "lymphatic"
    assert routine.source == str(path)
    assert routine.title == "Lymphatic drainage"
    assert routine.description.startswith("A gentle de-puffing routine. Not medical advice: skip it with")
    assert routine.author == "Ana Example"
    assert routine.voice == Voice(engine="pyttsx3", voice="gmw/en-us", rate=150.0)
    assert routine.background == Background(bed="noise", level=-24.0)
    assert [(s.kind, s.title, s.duration) for s in routine.steps] == [
        ("step", "Introduction", None),
        ("step", "Belly breathing", None),
        ("step", "Above the collarbones", 40.0),
        ("pause", "Pause", 5.0),
        ("step", "Rest", 20.0),
        ("step", "Closing", None),
    ]
    assert routine.steps[1].breath == Breath(inhale=4.0, exhale=6.0, cycles=4)
    assert routine.steps[2].strokes == 10
    assert routine.steps[4].say is None


def test_a_full_routine_becomes_the_model(tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "bowl.wav").write_bytes(tiny_wav())
    (tmp_path / "rain.ogg").write_bytes(tiny_wav())
    path = write(tmp_path, """\
        title: "  Full  "
        description: |
          Line one.
          Line two.
        author: Me
        album: Mine
        genre: Calm
        voice: {engine: fake, voice: en, rate: 140, volume: 0.5}
        background: {bed: rain.ogg, level: -30, duck: 12, fade_in: 0, fade_out: 2m}
        sounds:
          tick: wood
          chime: {sound: sounds/bowl.wav, level: -8}
        timing: {lead_in: 0, settle: 500ms}
        intro:
          say: Hello.
          duration: 1m30s
        steps:
          - title: One
            say: >
              Stroke   gently
              outward.
            duration: 40
            strokes: 10
          - title: Two
            duration: '40s'
            stroke_every: 1.5s
          - title: Three
            duration: 2 min
            breath: {inhale: 4, hold: 1, exhale: 6, hold_out: 0.5}
          - pause: 2m
        outro: Goodbye.
        """, "full.yaml")
    routine = load_routine(path)
    assert (routine.id, routine.title, routine.description) == ("full", "Full", "Line one.\nLine two.")
    assert (routine.author, routine.album, routine.genre) == ("Me", "Mine", "Calm")
    assert routine.voice == Voice(engine="fake", voice="en", rate=140.0, volume=0.5)
    assert routine.background == Background(
        bed=str((tmp_path / "rain.ogg").resolve()), level=-30.0, duck=12.0, fade_in=0.0, fade_out=120.0)
    assert routine.sounds == {
        "tick": Sound("wood", -16.0),
        "chime": Sound(str((tmp_path / "sounds" / "bowl.wav").resolve()), -8.0),
        "inhale": Sound("rise", -18.0),
        "exhale": Sound("fall", -18.0),
        "pulse": Sound("tick", -18.0),  # the 90 s intro may hold still long enough for pulses
    }
    assert routine.timing == Timing(lead_in=0.0, settle=0.5)
    file = str(path)
    assert routine.steps == (
        Step("Introduction", Where(file, 15, 3, "intro"), say="Hello.", duration=90.0),
        Step("One", Where(file, 18, 5, "steps[0]"), say="Stroke gently outward.", duration=40.0, strokes=10),
        Step("Two", Where(file, 24, 5, "steps[1]"), duration=40.0, stroke_every=1.5),
        Step("Three", Where(file, 27, 5, "steps[2]"), duration=120.0,
             breath=Breath(inhale=4.0, hold=1.0, exhale=6.0, hold_out=0.5)),
        Step("Pause", Where(file, 30, 5, "steps[3]"), kind="pause", duration=120.0),
        Step("Closing", Where(file, 31, 8, "outro"), say="Goodbye."),
    )


def test_defaults_are_filled_in(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, """\
        title: T
        description: D
        steps: [{title: A, duration: 10}]
        """))
    assert (routine.author, routine.album, routine.genre) == ("voiceguide", "voiceguide", "Meditation")
    assert routine.voice == Voice()
    assert routine.background == Background()
    assert routine.timing == Timing()
    assert routine.sounds == {
        "tick": Sound("tick", -16.0),
        "chime": Sound("chime", -10.0),
        "inhale": Sound("rise", -18.0),
        "exhale": Sound("fall", -18.0),
    }
    assert [s.title for s in routine.steps] == ["A"]


def test_an_intro_mapping_takes_step_fields_and_a_default_title(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, """\
        title: T
        description: D
        intro: {say: "Hi  there", breath: {inhale: 2, exhale: 2, cycles: 1}}
        steps: [{title: A, duration: 10}]
        outro: {title: Bye, say: Done., duration: 8}
        """))
    intro, _, outro = routine.steps
    assert (intro.title, intro.say, intro.duration) == ("Introduction", "Hi there", None)
    assert intro.breath == Breath(inhale=2.0, exhale=2.0, cycles=1)
    assert (outro.title, outro.say, outro.duration) == ("Bye", "Done.", 8.0)


def test_aliases_can_repeat_steps(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, """\
        title: T
        description: D
        steps:
          - &circle {title: Circles, duration: 10, strokes: 5}
          - *circle
        """))
    assert [(s.title, s.where.path) for s in routine.steps] == [("Circles", "steps[0]"), ("Circles", "steps[1]")]


def test_strokes_that_exactly_fit_are_fine(tmp_path: Path) -> None:
    # 10 strokes * 0.4 s = 4 s = 5.5 s - 1.5 s lead-in, despite float rounding
    routine = load_routine(write(tmp_path, """\
        title: T
        description: D
        steps: [{title: A, duration: 5.5, strokes: 10}, {title: B, duration: 11.5, breath: {inhale: 4, exhale: 6}}]
        """))
    assert routine.steps[0].strokes == 10
    assert routine.steps[1].breath == Breath(inhale=4.0, exhale=6.0)


def test_a_path_object_and_a_yml_name_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "title: T\ndescription: D\nsteps: [{pause: 1}]\n", "short.yml")
    routine = load_routine(path)
    assert (routine.id, routine.source) == ("short", str(path))


# --- Files that cannot be read ----------------------------------------------------------------


def test_a_missing_file_or_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    for path in (tmp_path / "nope.yaml", tmp_path):
        with pytest.raises(UsageError) as info:
            load_routine(path)
        assert str(info.value) == f"{path}: no such routine file"


def test_an_empty_file(tmp_path: Path) -> None:
    for text in ("", "# just a comment\n"):
        assert problems_in(tmp_path, text) == [
            "1:1: the file is empty; a routine needs title, description and steps"
        ]


def test_invalid_utf8_points_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: Caf\u00e9\ndescription: d\u00e9j\u00e0\n".encode("utf-8") + b"say: na\xefve\n")
    assert problems(path) == [f"{path}:3:8: the file is not valid UTF-8 text"]


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbftitle: T\ndescription: D\nsteps: [{pause: 1}]\n")
    assert load_routine(path).title == "T"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: a: b\n", "1:8: YAML syntax error: the value of 'title' holds ': ', which YAML reads as another key; "
                           'put the value in quotes: title: "a: b"'),
        ("steps: [1, 2\n", "1:8: YAML syntax error: the '[' that opens here is not closed before the file ends; "
                           "end it with ']' (items inside are separated by ',')"),
        ("title: a\n---\ntitle: b\n",
         "2:1: YAML syntax error: a second document starts here ('---'); a file holds one (routine, snippet or "
         "defaults): remove this line and what follows, or put it in a file of its own"),
        ("title: \x07\n", "1:8: YAML syntax error: the control character U+0007, which a routine's text may not hold: "
                          "remove it"),
        ("steps: *nothing\n", "1:8: YAML syntax error: '*nothing' repeats a value marked '&nothing', but no value above "
                              "is marked so; mark one with '&nothing', or write the value here"),
        ("title: T\ndescription x\nsteps: []\n", "2:1: YAML syntax error: 'description x' has no ':' after its key; a "
                                               "field is written 'name: value' (did you mean 'description: x'?)"),
        ("steps:\n\t- pause: 1\n", "2:1: YAML syntax error: a tab character: YAML indents with spaces only, never tabs; "
                                  "replace the tab with spaces"),
    ],
)
def test_yaml_syntax_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert problems_in(tmp_path, text) == [expected]


def test_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert problems_in(tmp_path, "- title: T\n") == [
        "1:1: expected a routine (a mapping with title, description and steps), got a list"
    ]
    assert problems_in(tmp_path, "just words\n") == [
        "1:1: expected a routine (a mapping with title, description and steps), got text"
    ]


def test_a_billion_laughs_document_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["title: T", "description: D", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    lines.append("steps: *a8")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert problems(path) == [f"{path}:1:1: the document is too large (or expands too many aliases)"]


def test_an_alias_cycle_is_refused(tmp_path: Path) -> None:
    assert problems_in(tmp_path, "title: T\nloop: &loop [*loop]\n") == [
        "1:1: the document is too large (or expands too many aliases)"
    ]


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("title: " + "[" * 800 + "]" * 800 + "\n", encoding="utf-8")  # PyYAML composes by recursion
    assert problems(path) == [f"{path}:1:1: the document is nested too deeply"]


def test_yaml_tags_that_change_values_are_refused(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: !!python/object/apply:os.system [echo hi]
        description: !!str 5
        author: !!float 1
        steps: [{title: A, duration: 10}]
        """) == [
        "1:8: YAML tag '!!python/object/apply:os.system' is not allowed here; only plain YAML is read",
        "3:9: YAML tag '!!float' is not allowed here; only plain YAML is read",
    ]


# --- Field names ------------------------------------------------------------------------------


def test_unknown_fields(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        colour: blue
        steps:
          - title: A
            duration: 10
            stroke: 3
        sounds: {tik: wood}
        """) == [
        f"3:1: colour: unknown field; expected one of: {', '.join(TOP_LEVEL)}",
        "7:13: steps[0].stroke: stroke is how the hands move (outward, inward, up, down, circles, tap, press, "
        "hold); for a count of strokes write strokes: 3",
        "8:10: sounds.tik: unknown field; did you mean 'tick'?",
    ]


def test_missing_required_fields_point_at_the_enclosing_mapping(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        author: Me
        steps:
          - say: Hello
            duration: 5
          - title: B
            breath:
              exhale: 4
        """) == [
        "1:1: title: required field is missing",
        "1:1: description: required field is missing",
        "3:5: steps[0].title: required field is missing",
        "7:7: steps[1].breath.inhale: required field is missing",
    ]


def test_a_step_needs_a_duration_unless_it_is_a_breath_step(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - title: A
            strokes: 4
        """) == ["4:5: steps[0].duration: required field is missing (only breath steps may leave it out)"]


def test_duplicate_fields(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - title: A
            duration: 10
            title: B
        title: U
        """) == [
        "6:5: steps[0].title: duplicate field; it is already set on line 4",
        "7:1: title: duplicate field; it is already set on line 1",
    ]


# --- Types ------------------------------------------------------------------------------------


def test_text_values(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: 5
        description: yes
        author: off
        album: true
        genre: "   "
        voice: {voice: [a]}
        intro:
        steps: [{title: A, duration: 10, say: 2024-05-01}]
        """) == [
        "1:8: title: expected text, got a number (put it in quotes)",
        '2:14: description: expected text, got true (put it in quotes: "yes" reads as true)',
        '3:9: author: expected text, got false (put it in quotes: "off" reads as false)',
        "4:8: album: expected text, got true (put it in quotes)",
        "5:8: genre: must not be empty",
        "6:16: voice.voice: expected text, got a list",
        "7:7: intro: must not be empty",
        "8:39: steps[0].say: expected text, got a date (put it in quotes)",
    ]


def test_number_values(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        voice: {rate: abc, volume: yes}
        background: {level: .nan, duck: [1]}
        steps:
          - {title: A, duration: 10, strokes: 2.5}
          - {title: B, breath: {inhale: 1, exhale: 1, cycles: four}}
        """) == [
        "3:15: voice.rate: expected a number, got text ('abc')",
        "3:28: voice.volume: expected a number, got true",
        "4:21: background.level: expected a number, got .nan",
        "4:33: background.duck: expected a number, got a list",
        "6:39: steps[0].strokes: expected a whole number, got 2.5",
        "7:55: steps[1].breath.cycles: expected a whole number, got text ('four')",
    ]


def test_a_whole_number_may_be_written_with_a_point(tmp_path: Path) -> None:
    path = write(tmp_path, "title: T\ndescription: D\nsteps: [{title: A, duration: 10, strokes: 4.0}]\n")
    routine = load_routine(path)
    assert routine.steps[0].strokes == 4


def test_duration_values(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - {title: A, duration: abc}
          - {title: B, duration: true}
          - {title: C, duration: 1m30}
          - {title: D, duration: {s: 1}}
        """) == [
        "4:26: steps[0].duration: expected a duration such as 30, '30s' or '1m30s', got 'abc'",
        "5:26: steps[1].duration: expected a duration such as 30, '30s' or '1m30s', got true",
        "6:26: steps[2].duration: expected a duration such as 30, '30s' or '1m30s', got '1m30'",
        "7:26: steps[3].duration: expected a duration such as 30, '30s' or '1m30s', got a mapping",
    ]


def test_structure_types(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        voice: [pyttsx3]
        sounds: {tick: [wood]}
        outro: [a]
        steps: {title: A}
        """) == [
        "3:8: voice: expected a mapping, got a list",
        "4:16: sounds.tick: expected a sound name, an audio file, or a mapping with sound and level, got a list",
        "5:8: outro: expected text or a step, got a list",
        "6:8: steps: expected a list of steps, got a mapping",
    ]


def test_steps_items_must_be_steps_or_pauses(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - Stroke the cheeks
          - [a]
        """) == [
        "4:5: steps[0]: expected a step (a mapping with title, say and duration) or a pause, got text",
        "5:5: steps[1]: expected a step (a mapping with title, say and duration) or a pause, got a list",
    ]


def test_steps_must_not_be_empty(tmp_path: Path) -> None:
    assert problems_in(tmp_path, "title: T\ndescription: D\nsteps: []\n") == ["3:8: steps: needs at least one step"]


def test_a_pause_takes_only_pause(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - pause: 0
            title: Rest
        """) == [
        "4:12: steps[0].pause: must be more than 0 seconds, got 0",
        "5:5: steps[0].title: unknown field; expected one of: pause",
    ]


# --- Ranges -----------------------------------------------------------------------------------


def test_duration_ranges(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        timing: {lead_in: -1, settle: -250ms}
        background: {fade_in: -2s}
        steps:
          - title: A
            duration: -5
          - {title: B, duration: 0s}
          - {title: C, duration: 90000}
          - {title: D, duration: 25h}
          - {title: E, duration: 10, stroke_every: 0.2}
          - {title: F, breath: {inhale: 0, exhale: 2, hold: -1, cycles: 2}}
        """) == [
        "3:19: timing.lead_in: must be at least 0 seconds, got -1",
        "3:31: timing.settle: must be at least 0 seconds, got -0.25",
        "4:23: background.fade_in: must be at least 0 seconds, got -2",
        "7:15: steps[0].duration: must be more than 0 seconds, got -5",
        "8:26: steps[1].duration: must be more than 0 seconds, got 0",
        "9:26: steps[2].duration: must be at most 24 hours, got 90000 seconds",
        "10:26: steps[3].duration: must be at most 24 hours, got 90000 seconds",
        "11:44: steps[4].stroke_every: must be at least 0.4 seconds, got 0.2",
        "12:33: steps[5].breath.inhale: must be more than 0 seconds, got 0",
        "12:53: steps[5].breath.hold: must be at least 0 seconds, got -1",
    ]


def test_number_ranges(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        voice: {rate: 20, volume: 1.5}
        background: {level: 3, duck: 41}
        sounds: {chime: {sound: bell, level: -61}}
        steps:
          - {title: A, duration: 10, strokes: 0}
          - {title: B, breath: {inhale: 1, exhale: 1, cycles: 0}}
        """) == [
        "3:15: voice.rate: must be between 60 and 400, got 20",
        "3:27: voice.volume: must be between 0 and 1, got 1.5",
        "4:21: background.level: must be between -60 and 0, got 3",
        "4:30: background.duck: must be between 0 and 40, got 41",
        "5:38: sounds.chime.level: must be between -60 and 0, got -61",
        "7:39: steps[0].strokes: must be at least 1, got 0",
        "8:55: steps[1].breath.cycles: must be at least 1, got 0",
    ]


def test_zero_is_fine_where_it_makes_sense(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, """\
        title: T
        description: D
        timing: {lead_in: 0, settle: 0s}
        background: {fade_in: 0, fade_out: 0, level: -60, duck: 0}
        voice: {volume: 0}
        steps: [{title: A, duration: 10, breath: {inhale: 1, exhale: 1, hold: 0, hold_out: 0ms}}]
        """))
    assert routine.timing == Timing(lead_in=0.0, settle=0.0)
    assert routine.voice.volume == 0.0


# --- Pacing -----------------------------------------------------------------------------------


def test_only_one_kind_of_pacing(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - title: A
            duration: 30
            stroke_every: 2
            strokes: 4
            breath: {inhale: 4, exhale: 6}
        """) == [
        "7:14: steps[0].strokes: use only one of strokes, stroke_every and breath",
        "8:13: steps[0].breath: use only one of strokes, stroke_every and breath",
    ]


def test_strokes_must_fit_after_the_lead_in(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - {title: A, duration: 3, strokes: 10}
          - {title: B, duration: 1.8, strokes: 1, say: hi}
        """) == [
        "4:38: steps[0].strokes: 10 strokes do not fit in 3 s after the 1.5 s lead-in (each needs at least 0.4 s)",
        "5:40: steps[1].strokes: 1 stroke does not fit in 1.8 s after the 1.5 s lead-in (each needs at least 0.4 s)",
    ]


def test_stroke_fit_uses_the_routines_lead_in(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - {title: A, duration: 5, strokes: 4}
        timing:
          lead_in: 3.5
        """) == [
        "4:38: steps[0].strokes: 4 strokes do not fit in 5 s after the 3.5 s lead-in (each needs at least 0.4 s)",
    ]


def test_breath_cycles_must_fit(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        intro:
          breath: {inhale: 4, exhale: 6}
        steps:
          - title: A
            duration: 30
            breath: {inhale: 4, exhale: 6, cycles: 4}
          - title: B
            duration: 5
            breath: {inhale: 4, exhale: 6}
        """) == [
        "4:11: intro.breath: give cycles, or a duration for the step",
        "8:13: steps[0].breath: 4 breath cycles of 10 s do not fit in a 30 s step",
        "11:13: steps[1].breath: 1 breath cycle of 10 s does not fit in a 5 s step",
    ]


# --- Choices, sounds and beds -----------------------------------------------------------------


def test_engines(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        voice: {engine: espeak}
        steps: [{title: A, duration: 1}]
        outro: {say: bye, duration: 5}
        """) == ["3:17: voice.engine: unknown engine 'espeak'; choose one of: auto, pyttsx3, piper, kokoro, fake"]
    assert problems_in(tmp_path, """\
        title: T
        description: D
        voice: {engine: pyttsx}
        steps: [{title: A, duration: 1}]
        """) == ["3:17: voice.engine: unknown engine 'pyttsx'; choose one of: auto, pyttsx3, piper, kokoro, fake; did you mean 'pyttsx3'?"]


def test_hold_tone(tmp_path: Path) -> None:
    routine = load_routine(write(tmp_path, """\
        title: T
        description: D
        steps:
          - {title: A, breath: {inhale: 4, hold: 2, exhale: 6, cycles: 1, hold_tone: steady}}
          - {title: B, breath: {inhale: 4, hold: 2, exhale: 6, cycles: 1}}
        """))
    assert [step.breath.hold_tone for step in routine.steps] == ["steady", "silent"]
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - {title: A, breath: {inhale: 4, exhale: 6, cycles: 1, hold_tone: stedy}}
        """) == ["4:69: steps[0].breath.hold_tone: unknown hold tone 'stedy'; choose one of: silent, steady; "
                 "did you mean 'steady'?"]


def test_missing_sound_and_bed_files(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        background: {bed: sounds/rain.wav}
        sounds:
          chime: chmie
          tick: {sound: sounds/tock.wav}
        steps: [{title: A, duration: 1}]
        """) == [
        f"3:19: background.bed: no built-in bed 'sounds/rain.wav' and no file {tmp_path / 'sounds/rain.wav'}; "
        "built-ins are noise, drone, none",
        f"5:10: sounds.chime: no built-in sound 'chmie' and no file {tmp_path / 'chmie'}; "
        "built-ins are tick, wood, chime, bell, rise, fall, none; did you mean 'chime'?",
        f"6:17: sounds.tick.sound: no built-in sound 'sounds/tock.wav' and no file {tmp_path / 'sounds/tock.wav'}; "
        "built-ins are tick, wood, chime, bell, rise, fall, none",
    ]


def test_a_sound_mapping_needs_a_sound(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        title: T
        description: D
        sounds: {inhale: {level: -3}}
        steps: [{title: A, duration: 1}]
        """) == ["3:18: sounds.inhale.sound: required field is missing"]


# --- Several problems -------------------------------------------------------------------------


def test_every_problem_is_reported_at_once_in_line_order(tmp_path: Path) -> None:
    assert problems_in(tmp_path, """\
        steps:
          - title: Above the collarbones
            duration: -5
            stroke: 10
          - pause: 5s
          - title: Rest
            duration: 2 min
            strokes: 1000
        voice:
          rate: 20
        title: Lymphatic drainage
        """) == [
        "1:1: description: required field is missing",
        "3:15: steps[0].duration: must be more than 0 seconds, got -5",
        "4:13: steps[0].stroke: stroke is how the hands move (outward, inward, up, down, circles, tap, press, "
        "hold); for a count of strokes write strokes: 10",
        "8:14: steps[2].strokes: 1000 strokes do not fit in 120 s after the 1.5 s lead-in "
        "(each needs at least 0.4 s)",
        "10:9: voice.rate: must be between 60 and 400, got 20",
    ]


def test_the_script_error_message_has_one_line_per_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "title: 1\ndescription: 2\nsteps: []\n")
    with pytest.raises(ScriptError) as info:
        load_routine(path)
    assert str(info.value).splitlines() == [
        f"{path}:1:8: title: expected text, got a number (put it in quotes)",
        f"{path}:2:14: description: expected text, got a number (put it in quotes)",
        f"{path}:3:8: steps: needs at least one step",
    ]


# --- Helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("40", 40.0), ("40s", 40.0), ("1.5s", 1.5), ("500ms", 0.5), ("2m", 120.0), ("1m30s", 90.0),
     ("2 min", 120.0), ("1 h 5 m", 3900.0), ("10 minutes 5 sec", 605.0), (" 3 seconds ", 3.0),
     ("-5", -5.0), ("-500ms", -0.5),
     ("abc", None), ("", None), ("s", None), ("1m30", None), ("30s 1m", None), ("1.5.5s", None)],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_format_seconds() -> None:
    assert [format_seconds(x) for x in (3, 3.0, 1.5, 0.25, -5, 0, -0.0001, 90000)] == [
        "3", "3", "1.5", "0.25", "-5", "0", "0", "90000"]
    assert format_seconds(MIN_STROKE_INTERVAL) == "0.4"


# --- JSON Schema ------------------------------------------------------------------------------


def test_the_json_schema_describes_every_field() -> None:
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert tuple(schema["properties"]) == TOP_LEVEL
    assert schema["required"] == ["title", "description", "steps"]
    assert all(prop["description"] for prop in schema["properties"].values())
    voice = schema["properties"]["voice"]
    assert voice["additionalProperties"] is False
    assert voice["properties"]["rate"] == {
        "type": "number", "minimum": 60, "maximum": 400, "default": 150.0,
        "description": "Words a minute as a listener hears them (over each phrase, the pauses between "
                       "its sentences included), 60 to 400. Calm guidance sits around 140 to 160.",
    }
    pause, repeat, include, step = schema["properties"]["steps"]["items"]["oneOf"]
    assert pause["required"] == ["pause"]
    assert (repeat["required"], include["required"]) == (["repeat", "steps"], ["include"])
    assert step["required"] == ["title"]
    number, text = step["properties"]["duration"]["oneOf"]
    assert number == {"type": "number", "exclusiveMinimum": 0, "maximum": 86400.0}
    assert re.fullmatch(text["pattern"], "1m30s") and not re.fullmatch(text["pattern"], "1m30")


def test_the_json_schema_validates_the_docs_example() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema())
    jsonschema.Draft202012Validator.check_schema(validator.schema)
    routine = yaml.safe_load(docs_example())
    assert list(validator.iter_errors(routine)) == []

    routine["colour"] = "blue"
    assert not validator.is_valid(routine)
    del routine["colour"]
    routine["steps"][1]["stroke"] = 10
    assert not validator.is_valid(routine)
    del routine["steps"][1]["stroke"]
    routine["steps"][1]["breath"] = {"inhale": 4, "exhale": 4}
    assert not validator.is_valid(routine)  # strokes and breath
    del routine["steps"][1]["breath"]
    del routine["steps"][1]["duration"]
    assert not validator.is_valid(routine)  # only breath steps may leave out duration


def test_zones_and_strokes_are_checked_at_their_line(tmp_path: Path) -> None:
    """Issue 14: a step's picture is named by ``zone`` and ``stroke``, from the format's vocabulary;
    a stroke defaults to the zone's usual one."""
    assert problems_in(tmp_path, """\
        title: T
        description: D
        steps:
          - title: A
            duration: 10
            zone: cheek
          - title: B
            duration: 10
            zone: cheeks
            stroke: sideways
        """) == [
        "6:11: steps[0].zone: unknown zone 'cheek'; choose one of: collarbones, neck_sides, neck_front, under_chin, "
        "jawline, jaw_muscle, cheeks, under_eyes, brows, forehead, temples, whole_face; did you mean 'cheeks'?",
        "10:13: steps[1].stroke: unknown stroke 'sideways'; choose one of: outward, inward, up, down, circles, tap, "
        "press, hold",
    ]
    routine = load_routine(write(tmp_path, """\
        title: T
        description: D
        steps:
          - {title: A, duration: 10, zone: neck_sides}
          - {title: B, duration: 10, zone: jaw_muscle, stroke: press}
          - {title: C, duration: 10}
        """))
    assert [(s.zone, s.stroke) for s in routine.steps] == [("neck_sides", "down"), ("jaw_muscle", "press"),
                                                          (None, None)]
