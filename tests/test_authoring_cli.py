"""Tools for authors (check's report and warnings, schema, new) and the starter library."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from voiceguide import render as lib
from voiceguide.cli import main
from voiceguide.core.audio import RATE
from voiceguide.export.mp3 import Mp3Settings
from voiceguide.script.load import SCHEMAS, json_schema, load_routine
from voiceguide.voice.cache import NarrationCache

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "scripts_yaml"
DOCS = ROOT / "docs"
STARTERS = {  # the starter library, with the length range (minutes) each routine is made for
    "lymphatic": (8, 12),
    "circulation": (6, 10),
    "tension": (8, 12),
    "morning": (3, 5),
    "evening": (12, 20),
}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A library whose routines speak with the fake engine (from its defaults file)."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "_defaults.yaml").write_text("voice: {engine: fake, rate: 150}\n")
    return folder


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


SIDES = """\
title: Sides
description: D
timing: {overflow: extend}
steps:
  - title: Jaw
    say: Circles on the {side} side, one with each tick.
    sides: [left, right]
    duration: 20
    strokes: 6
  - title: Long
    say: >
      This step has far more words than its few seconds can hold, so it grows: the overflow policy
      of the routine is extend, and the strokes keep their least time after all of these words.
    duration: 6
    strokes: 2
"""


# --- check ------------------------------------------------------------------------------------


def test_check_reports_each_step(runner, library):
    write(library, "sides", SIDES)
    result = runner.invoke(main, ["check", "sides", "--report", "--scripts", str(library)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "sides: Sides, 00:57.3, 3 steps",
        "  00:00.0  Jaw (left)     20.0 s, narration 3.6 s of 15.1 s, fits (extend), 6 strokes, one every 2.3 s",
        "  00:20.0  Jaw (right)    20.0 s, narration 1.5 s of 13.1 s, fits (extend), 6 strokes, one every 2.3 s",
        "  00:40.0  Long           17.3 s, narration 14.0 s of 2.7 s, extended by 11.3 s (extend), 2 strokes, "
        "one every 0.4 s",
        "    warning: the narration takes 14.0 s of this 17.3 s step, leaving little time for the movement",
        "1 routine OK",
    ]
    assert result.stderr == ""  # the report lists the warnings


def test_check_json_gives_the_same_as_data(runner, library):
    write(library, "sides", SIDES)
    write(library, "broken", "title: B\ndescription: D\nsteps: []\n")
    result = runner.invoke(main, ["check", "sides", "broken", "--json", "--scripts", str(library)])
    assert result.exit_code == 2
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["ok"] is False
    sides, broken = data["routines"]
    assert broken == {"routine": "broken", "ok": False, "steps": [],
                      "problems": [f"{library / 'broken.yaml'}:3:8: steps: needs at least one step"]}
    assert (sides["ok"], sides["id"], sides["title"], sides["file"]) == (True, "sides", "Sides",
                                                                         str(library / "sides.yaml"))
    left, right, long = sides["steps"]
    assert left == {
        "title": "Jaw (left)", "kind": "step", "where": f"{library / 'sides.yaml'}:5:5: steps[0]",
        "start_ms": 0.0, "end_ms": 20000.0, "slot_ms": 20000.0, "side": "left", "round": None,
        "narration_ms": left["narration_ms"], "room_ms": left["room_ms"], "policy": "extend", "fit": "fits",
        "extended_ms": 0.0, "speed": 1.0, "strokes": 6, "stroke_interval_ms": left["stroke_interval_ms"],
        "breaths": 0, "warnings": [],
    }
    assert (left["room_ms"], right["room_ms"]) == (15100.0, 13100.0)  # 20 s - lead-in - settle - 6 x 0.4 s
    assert 3000 < left["narration_ms"] < 4000 and 2000 < left["stroke_interval_ms"] < 2500
    assert (right["side"], right["fit"]) == ("right", "fits")
    assert (long["fit"], long["policy"]) == ("extended", "extend")
    assert long["slot_ms"] == pytest.approx(6000 + long["extended_ms"])
    assert long["slot_ms"] == pytest.approx(1500 + long["narration_ms"] + 1000 + 800)  # lead-in, words, settle, strokes
    assert sides["duration_ms"] == long["end_ms"] and len(long["warnings"]) == 1


def test_check_warns_about_pace_silence_and_wordy_steps(runner, library):
    write(library, "warn", """\
title: Warnings
description: D
timing: {pace: lymphatic}
sounds: {pulse: none}
steps:
  - title: Brisk
    say: Quick now.
    duration: 10
    strokes: 12
  - title: Quiet
    duration: 30
  - title: Slow
    duration: 40
    strokes: 4
    pace: circulation
""")
    result = runner.invoke(main, ["check", "warn", "--scripts", str(library)])
    assert result.exit_code == 0
    file = library / "warn.yaml"
    assert result.stderr.splitlines() == [
        f"{file}:6:5: steps[0]: warning: strokes every 0.6 s are far from the usual 2 to 4 s of lymphatic massage",
        f"{file}:10:5: steps[1]: warning: 29.5 s with nothing but the bed in 'Quiet', from 00:10.5 to 00:40.0",
        f"{file}:12:5: steps[2]: warning: strokes every 9.6 s are far from the usual 0.6 to 1.5 s of "
        "circulation massage",
    ]
    assert result.stdout == "1 routine OK\n"
    report = json.loads(runner.invoke(main, ["check", "warn", "--json", "--scripts", str(library)]).stdout)
    quiet = report["routines"][0]["steps"][1]
    assert quiet["warnings"] == ["29.5 s with nothing but the bed in 'Quiet', from 00:10.5 to 00:40.0"]


def test_a_long_hold_pulses_and_check_warns_only_about_bed_alone(runner, library):
    write(library, "hold", """\
title: Hold
description: D
steps:
  - title: Press and hold
    say: Press gently, and hold.
    duration: 30
  - pause: 12s
  - title: End
    say: Done.
    duration: 3
""")
    result = runner.invoke(main, ["check", "hold", "--scripts", str(library), "--engine", "fake", "--report"])
    assert result.exit_code == 0
    warnings = [line.strip() for line in result.stdout.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and re.fullmatch(  # the hold pulses; the pause is the bed alone
        r"warning: 1\d\.\d s with nothing but the bed in 'Press and hold' and 'Pause', "
        r"from 00:2\d\.\d to 00:4\d\.\d", warnings[0])


def test_check_reports_narration_that_does_not_fit_before_anything_is_rendered(runner, library):
    write(library, "long", """\
title: Long
description: D
steps:
  - title: Neck
    say: This narration is much too long for the few seconds that its step leaves for the words.
    duration: 5
""")
    result = runner.invoke(main, ["check", "long", "--scripts", str(library)])
    assert result.exit_code == 2
    assert re.fullmatch(
        rf"{re.escape(str(library / 'long.yaml'))}:4:5: steps\[0\]: the narration of step 'Neck' takes \d+\.\d s "
        r"but the step leaves 3\.5 s for it \(5\.0 s step, 1\.5 s lead-in\)\n", result.stderr)


def test_plan_folds_a_last_strokes_cue_into_its_strokes(runner, library):
    write(library, "sides", SIDES.replace("    strokes: 6\n", "    strokes: 6\n    last: 3\n", 1))
    result = runner.invoke(main, ["plan", "sides", "--scripts", str(library)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert sum(line.endswith("6 strokes, one every 2.32 s, 'Last 3.' with 3 left") for line in lines) == 2
    data = json.loads(runner.invoke(main, ["plan", "sides", "--json", "--scripts", str(library)]).stdout)
    for side in data["steps"][:2]:
        ticks = [e for e in side["events"] if e["kind"] == "tick"]
        cue = next(e for e in side["events"] if e.get("cue") == "last")
        assert (len(ticks), cue["text"], cue["start_ms"]) == (6, "Last 3.", ticks[3]["start_ms"])

def test_check_tells_an_unknown_routine_from_a_voice_that_failed(runner, library, monkeypatch):
    from voiceguide.core.errors import EngineError
    from voiceguide.voice import engines

    write(library, "sides", SIDES)
    result = runner.invoke(main, ["check", "nope", "--scripts", str(library)])
    assert (result.exit_code, result.stderr) == (2, f"Error: no routine named 'nope' in {library}/ "
                                                    "(routines there: sides)\n")

    def broken(engine, text, voice):
        raise EngineError("the fake voice is hoarse")

    monkeypatch.setattr(engines, "speak", broken)
    result = runner.invoke(main, ["check", "sides", "--scripts", str(library)])
    assert (result.exit_code, result.stderr) == (1, "Error: the fake voice is hoarse\n")


def test_plan_shows_sides_cues_and_what_overflow_did(runner, library):
    write(library, "sides", SIDES.replace("    strokes: 6\n", "    strokes: 6\n    countdown: {strokes: 3}\n", 1))
    result = runner.invoke(main, ["plan", "sides", "--scripts", str(library)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "00:20.0-00:40.0  Jaw (right)" in lines
    assert any(line.endswith("speech   1.5 s  (switch cue) Now the right side.") for line in lines)
    assert any(line.endswith("6 strokes, one every 2.32 s, the last 3 counted") for line in lines)
    assert "  extended by 11.3 s to fit its narration" in lines
    data = json.loads(runner.invoke(main, ["plan", "sides", "--json", "--scripts", str(library)]).stdout)
    right = data["steps"][1]
    assert (right["title"], right["side"], right["events"][0]["kind"]) == ("Jaw (right)", "right", "switch")
    assert data["steps"][2]["overflow"]["action"] == "extended"


# --- schema -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SCHEMAS))
def test_the_committed_schemas_are_the_schema_command_output(runner, kind):
    result = runner.invoke(main, ["schema", kind])
    assert result.exit_code == 0
    assert result.stdout == (DOCS / f"{kind}.schema.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout) == json_schema(kind)


def test_schema_prints_the_routine_schema_by_default(runner):
    assert json.loads(runner.invoke(main, ["schema"]).stdout) == json_schema("routine")
    result = runner.invoke(main, ["schema", "steps"])
    assert result.exit_code == 2
    assert "'steps' is not one of 'routine', 'defaults', 'snippet'" in result.stderr


def test_the_schemas_accept_the_starter_library_and_refuse_mistakes():
    jsonschema = pytest.importorskip("jsonschema")
    validators = {kind: jsonschema.Draft202012Validator(json_schema(kind)) for kind in SCHEMAS}
    for validator in validators.values():
        jsonschema.Draft202012Validator.check_schema(validator.schema)
    files = [(validators["defaults"], LIBRARY / "_defaults.yaml")]
    files += [(validators["routine"], LIBRARY / f"{name}.yaml") for name in STARTERS]
    files += [(validators["snippet"], path) for path in sorted((LIBRARY / "_snippets").glob("*.yaml"))]
    for validator, path in files:
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path
    routine = yaml.safe_load((LIBRARY / "circulation.yaml").read_text())
    routine["steps"][2]["sides"] = "left"
    assert not validators["routine"].is_valid(routine)
    routine["steps"][2]["sides"] = ["left", "right"]
    routine["steps"][6]["repeat"] = 0
    assert not validators["routine"].is_valid(routine)
    assert not validators["snippet"].is_valid({"include": "x", "sides": [1, 2, 3], "bogus": 1})
    assert not validators["defaults"].is_valid({"title": "Not a setting"})


# --- new --------------------------------------------------------------------------------------


def test_new_writes_a_commented_routine_that_passes_check(runner, library):
    result = runner.invoke(main, ["new", "jaw-release", "--scripts", str(library)])
    assert result.exit_code == 0, result.output
    path = library / "jaw-release.yaml"
    assert result.stdout == f"{path}\n"
    text = path.read_text()
    assert text.startswith("# A new routine.") and "title: Jaw release\n" in text
    assert load_routine(path).title == "Jaw release"
    check = runner.invoke(main, ["check", "jaw-release", "--scripts", str(library)])
    assert (check.exit_code, check.output) == (0, "1 routine OK\n")


def test_new_points_editors_at_the_schema(runner, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "routine.schema.json").write_text("{}")
    result = runner.invoke(main, ["new", "mine", "--title", "My routine", "--scripts", str(tmp_path / "scripts")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "scripts" / "mine.yaml").read_text()
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../docs/routine.schema.json"
    assert "title: My routine\n" in text


def test_new_refuses_odd_names_and_existing_routines(runner, library):
    write(library, "taken", "title: T\n")
    for name, message in [
        ("taken", f"Error: {library / 'taken.yaml'} already exists\n"),
        ("../up", "Error: a routine name is letters, digits, '-' and '_', starting with a letter or digit; "
                  "got '../up'\n"),
        ("_snippet", "Error: a routine name is letters, digits, '-' and '_', starting with a letter or digit; "
                     "got '_snippet'\n"),
    ]:
        result = runner.invoke(main, ["new", name, "--scripts", str(library)])
        assert (result.exit_code, result.stderr) == (2, message)


# --- The starter library ----------------------------------------------------------------------


def test_the_starter_library_is_complete_and_points_editors_at_the_schemas():
    routines = {p.stem for p in lib.routine_files(LIBRARY)}
    assert set(STARTERS) <= routines
    for name in routines:
        first = (LIBRARY / f"{name}.yaml").read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../docs/routine.schema.json", name
    for path in (LIBRARY / "_snippets").glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../../docs/snippet.schema.json")
    assert (LIBRARY / "_defaults.yaml").read_text().startswith(
        "# yaml-language-server: $schema=../docs/defaults.schema.json")
    used = "\n".join((LIBRARY / f"{name}.yaml").read_text() for name in routines)
    for snippet in (LIBRARY / "_snippets").glob("*.yaml"):
        assert f"include: {snippet.stem}" in used, f"no routine uses {snippet.name}"


def test_every_starter_routine_carries_the_safety_note():
    for name in STARTERS:
        routine = load_routine(LIBRARY / f"{name}.yaml")
        assert "not medical advice" in routine.description, name
        assert "Stop if anything hurts" in routine.description, name
        assert "not medical advice" in routine.steps[0].say, name  # the intro says it, briefly


def test_every_starter_routine_passes_check(runner):
    result = runner.invoke(main, ["check", *STARTERS, "--engine", "fake"])
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == "5 routines OK in de, en, fr\n"  # lymphatic and morning in each of their languages


def test_every_starter_routine_renders(tmp_path):
    cache = NarrationCache(tmp_path / "cache")

    def render(name: str):
        routine = lib.load(name, LIBRARY, engine="fake")
        return lib.render(routine, tmp_path / "out", cache=cache, mp3=Mp3Settings(bitrate=32, channels=1))

    with ThreadPoolExecutor(max_workers=3) as pool:
        rendered = dict(zip(STARTERS, pool.map(render, STARTERS), strict=True))
    from mutagen.mp3 import MP3

    for name, result in rendered.items():
        assert result.path == tmp_path / "out" / f"{name}.mp3"
        assert MP3(result.path).info.length == pytest.approx(result.plan.length / RATE, abs=0.1), name
        spoken = {e.text for e in result.plan.speech()}
        assert spoken == set(result.routine.texts()), name  # every phrase is placed, nothing else is spoken
        kinds = {e.kind for e in result.plan.events()} - {"speech", "pause", "hold"}
        assert kinds <= set(result.routine.sounds), name  # every other event has its sound
        pictured(result)


def pictured(result) -> None:
    """Issue 14: eyed3 (not our own reader) finds a picture in every chapter frame (pauses are no
    chapter of their own), each step with a ``zone`` its own drawing, every other the cover's."""
    import eyed3

    frames = eyed3.load(result.path).tag.chapters
    steps = [s for s in result.plan.steps if s.kind != "pause"]
    assert len(frames) == len(steps)
    pictures = {}
    for frame, step in zip(sorted(frames, key=lambda f: f.times[0]), steps):
        images = [f for f in frame.sub_frames.values() for f in f if f.id == b"APIC"]
        assert len(images) == 1, (result.routine.id, step.title)
        assert images[0].image_data[:8] == b"\x89PNG\r\n\x1a\n", (result.routine.id, step.title)
        pictures.setdefault(step.zone is not None, set()).add(images[0].image_data)
    assert len(pictures.get(False, ())) <= 1  # the one cover, wherever there is no zone
    assert pictures[True].isdisjoint(pictures.get(False, ()))


@pytest.mark.engine
def test_every_starter_routine_lasts_as_long_as_it_is_made_for(tmp_path_factory):
    cache = NarrationCache(tmp_path_factory.mktemp("pyttsx3-cache"))
    for name, (least, most) in STARTERS.items():
        routine = lib.load(name, LIBRARY, engine="pyttsx3")
        timeline, _ = lib.plan_routine(routine, cache)
        minutes = timeline.length / RATE / 60
        assert least <= minutes <= most, f"{name}: {minutes:.1f} min"
