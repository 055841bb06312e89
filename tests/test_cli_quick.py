"""Issue 18, part 8: commands that must answer at once. ``list`` speaks nothing (lengths from the
cache, or estimates marked as such), ``inspect`` meters a file once, and importing the command line
loads no engine, signal-processing or network library (start-up is measured in commit messages,
not asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from voiceguide import render as lib
from voiceguide.cli import main
from voiceguide.core.audio import RATE
from voiceguide.script.model import Voice
from voiceguide.voice import engines

ROUTINE = """\
title: Tiny routine
description: A test. Not medical advice.
voice: {engine: fake}
intro: Welcome to a short test.
steps:
  - title: Strokes
    say: Stroke gently along the jaw.
    duration: 12s
    strokes: 4
outro: Thank you.
"""
HEAVY = ("scipy", "piper", "onnxruntime", "aiohttp", "dask", "PIL")


@pytest.fixture
def scripts(write_routine):
    return write_routine(ROUTINE, "tiny").parent


def refuse_to_speak(monkeypatch):
    def speak(*args, **kwargs):
        raise AssertionError("list spoke")

    monkeypatch.setattr(engines, "speak", speak)


def test_list_speaks_nothing_and_marks_an_estimate(scripts, monkeypatch):
    refuse_to_speak(monkeypatch)
    result = CliRunner().invoke(main, ["list", "--scripts", str(scripts)])
    assert result.exit_code == 0, result.output
    row, note = result.stdout.splitlines()
    assert row.split()[:5] == ["tiny", "Tiny", "routine", "3", "steps"]
    assert row.split()[-1].startswith("~")
    assert note.startswith("~ estimated: narration not spoken yet is counted from its words")


def test_list_shows_the_plans_own_length_once_narration_is_cached(scripts, monkeypatch):
    runner = CliRunner()
    planned = json.loads(runner.invoke(main, ["plan", "tiny", "--json", "--scripts", str(scripts)]).stdout)
    refuse_to_speak(monkeypatch)
    result = runner.invoke(main, ["list", "--scripts", str(scripts)])
    assert result.exit_code == 0, result.output
    [row] = result.stdout.splitlines()  # no estimate, no note
    minutes, seconds = row.split()[-1].split(":")
    assert int(minutes) * 60_000 + float(seconds) * 1000 == pytest.approx(planned["duration_ms"], abs=50)


def test_an_estimate_counts_words_at_the_voices_rate_and_pauses_between_sentences():
    voice = Voice(engine="fake", rate=150, sentence_pause=0.7)
    text = "Breathe in slowly through the nose. Let the shoulders drop."
    assert lib.estimated_length(text, voice) == round((10 * 60 / 150 + 0.7) * RATE)


def test_inspect_measures_a_file_once(scripts, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    assert runner.invoke(main, ["render", str(scripts / "tiny.yaml"), "--out", str(out), "--mono"]).exit_code == 0
    first = runner.invoke(main, ["inspect", str(out / "tiny.mp3"), "--json"])
    assert first.exit_code == 0, first.output
    script = ("import sys, runpy; sys.argv = ['voiceguide', 'inspect', sys.argv[1], '--json']\n"
              "try:\n    runpy.run_module('voiceguide', run_name='__main__')\n"
              "except SystemExit:\n    pass\n"
              f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}), file=sys.stderr)\n")
    again = subprocess.run([sys.executable, "-c", script, str(out / "tiny.mp3")], capture_output=True, text=True,
                           timeout=60)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert again.stderr.strip() == "[]"  # measured before: no meter (scipy) loaded


@pytest.mark.parametrize("args", [["--help"], ["list", "--scripts", "nowhere"]])
def test_the_command_line_loads_no_heavy_library(args):
    script = ("import sys, runpy; sys.argv = ['voiceguide', *sys.argv[1:]]\n"
              "try:\n    runpy.run_module('voiceguide', run_name='__main__')\n"
              "except SystemExit:\n    pass\n"
              f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY) | {'numpy', 'yaml'}!r}))\n")
    found = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60)
    assert found.stdout.strip().splitlines()[-1] == ("[]" if args == ["--help"] else "['numpy', 'yaml']")


def test_voices_auto_lists_the_voices_of_the_engine_auto_speaks_with(monkeypatch):
    monkeypatch.setattr(engines, "resolve_engine", lambda name, voice=None, note=None: "fake")
    result = CliRunner().invoke(main, ["voices", "--engine", "auto"])
    assert result.exit_code == 0, result.output
    assert [line.split() for line in result.stdout.splitlines()] == [["fake", "low", "en"], ["fake", "high", "en"]]
    assert result.stderr == "Note: auto speaks with fake here\n"
