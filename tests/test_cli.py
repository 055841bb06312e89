"""The command line, driven as a user would with click's CliRunner: exact messages and exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from voiceguide.cli import main

FAKE_ROUTINE = """\
title: Tiny routine
description: A test. Not medical advice.
voice: {engine: fake}
intro: Welcome.
steps:
  - title: Strokes
    say: Stroke gently.
    duration: 12s
    strokes: 4
  - pause: 2s
  - title: Breathe
    breath: {inhale: 2, exhale: 3, cycles: 2}
outro: Thank you.
"""


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def scripts(tmp_path):
    folder = tmp_path / "scripts_yaml"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(FAKE_ROUTINE)
    return folder


def test_every_command_has_help(runner):
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and command.help.split()[0] in result.output


def test_render_writes_the_mp3_and_prints_its_path(runner, scripts, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(main, ["render", "tiny", "--scripts", str(scripts), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out / 'tiny.mp3'}\n"
    assert result.stderr.startswith("tiny: 00:") and result.stderr.endswith("voice fake\n")
    assert (out / "tiny.mp3").stat().st_size > 10_000


def test_plan_json_has_the_documented_shape(runner, scripts):
    result = runner.invoke(main, ["plan", "tiny", "--json", "--scripts", str(scripts)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"id", "title", "duration_ms", "steps"}
    assert (data["engine"], data["voice"]) == ("fake", None)
    assert data["id"] == "tiny" and data["title"] == "Tiny routine"
    assert [s["title"] for s in data["steps"]] == ["Introduction", "Strokes", "Pause", "Breathe", "Closing"]
    kinds = {e["kind"] for s in data["steps"] for e in s["events"]}
    assert kinds == {"speech", "tick", "chime", "inhale", "exhale"}
    strokes = data["steps"][1]
    assert strokes["end_ms"] - strokes["start_ms"] == 12000
    assert all({"kind", "start_ms", "end_ms"} <= set(e) for s in data["steps"] for e in s["events"])
    assert all("text" in e for s in data["steps"] for e in s["events"] if e["kind"] == "speech")


def test_plan_table_is_readable(runner, scripts):
    result = runner.invoke(main, ["plan", "tiny", "--scripts", str(scripts)])
    assert result.exit_code == 0
    assert "Tiny routine (tiny)" in result.output
    assert "4 strokes, one every" in result.output and "2 breath cycles" in result.output


def test_check_reports_problems_with_file_and_line_and_exit_2(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(FAKE_ROUTINE.replace("duration: 12s", "duration: -3s"))
    result = runner.invoke(main, ["check", str(bad)])
    assert result.exit_code == 2
    assert result.stderr == f"{bad}:8:15: steps[0].duration: must be more than 0 seconds, got -3\n"
    assert "Traceback" not in result.output


def test_check_passes_good_routines(runner, scripts):
    result = runner.invoke(main, ["check", "tiny", "--scripts", str(scripts)])
    assert result.exit_code == 0 and result.output == "1 routine OK\n"


def test_unknown_routine_is_a_usage_error_listing_the_known_ones(runner, scripts):
    result = runner.invoke(main, ["render", "lymph", "--scripts", str(scripts)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: no routine named 'lymph' in {scripts}/ (routines there: tiny)\n"


def test_unknown_engine_on_the_command_line(runner, scripts):
    result = runner.invoke(main, ["plan", "tiny", "--engine", "espeak", "--scripts", str(scripts)])
    assert result.exit_code == 2
    assert result.stderr == "Error: unknown engine 'espeak'; choose one of: auto, pyttsx3, piper, kokoro, fake\n"


def test_narration_that_overflows_is_reported_and_nothing_is_written(runner, scripts, tmp_path):
    (scripts / "long.yaml").write_text(FAKE_ROUTINE.replace("Stroke gently.", "Stroke gently. " * 20))
    out = tmp_path / "out"
    result = runner.invoke(main, ["render", "long", "--scripts", str(scripts), "--out", str(out)])
    assert result.exit_code == 2
    assert "the narration of step 'Strokes' takes" in result.stderr
    assert result.stderr.startswith(f"{scripts / 'long.yaml'}:6:5: steps[0]: ")
    assert not out.exists() or not any(out.iterdir())


def test_list_shows_title_steps_and_length(runner, scripts):
    result = runner.invoke(main, ["list", "--scripts", str(scripts)])
    assert result.exit_code == 0
    name, *title, count, steps, length = result.output.splitlines()[0].split()
    assert (name, title, count, steps) == ("tiny", ["Tiny", "routine"], "5", "steps")
    minutes, seconds = length.removeprefix("~").split(":")  # nothing spoken yet: an estimate
    assert 30 < int(minutes) * 60 + float(seconds) < 45


def test_voices_lists_the_fake_voices(runner):
    result = runner.invoke(main, ["voices", "--engine", "fake"])
    assert result.exit_code == 0
    assert [line.split() for line in result.output.splitlines()] == [["fake", "low", "en"], ["fake", "high", "en"]]


def test_the_starter_routines_are_valid(runner):
    result = runner.invoke(main, ["check", "lymphatic"])
    assert result.exit_code == 0, result.stderr


def test_routine_sound_and_background_files_in_any_format(runner, scripts, tmp_path):
    import subprocess

    from voiceguide.core.audio import ffmpeg_path

    sounds = scripts / "sounds"
    sounds.mkdir()
    for name, source in (("knock.flac", "sine=frequency=700:duration=0.2"),
                         ("rain.ogg", "anoisesrc=color=pink:duration=6:amplitude=0.2")):
        subprocess.run([ffmpeg_path(), "-v", "error", "-f", "lavfi", "-i", source, str(sounds / name)], check=True)
    (scripts / "own.yaml").write_text(FAKE_ROUTINE.replace(
        "voice: {engine: fake}",
        "voice: {engine: fake}\nbackground: {bed: sounds/rain.ogg}\nsounds: {tick: sounds/knock.flac}"))
    result = runner.invoke(main, ["render", "own", "--scripts", str(scripts), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "own.mp3").stat().st_size > 10_000


def test_python_dash_m_runs_the_cli():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "voiceguide", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "Usage: voiceguide" in result.stdout


def test_a_routines_own_cover_loudness_and_bed_loop_reach_the_file(runner, scripts, tmp_path):
    import subprocess

    from mutagen.id3 import ID3
    from PIL import Image

    from voiceguide.core.audio import ffmpeg_path

    Image.new("RGB", (64, 64), (40, 90, 70)).save(scripts / "cover.png")
    subprocess.run([ffmpeg_path(), "-v", "error", "-f", "lavfi", "-i", "anoisesrc=color=brown:duration=8",
                    str(scripts / "surf.flac")], check=True)
    (scripts / "own.yaml").write_text(FAKE_ROUTINE.replace(
        "voice: {engine: fake}",
        "voice: {engine: fake}\nimage: cover.png\nloudness: -20\ntrue_peak: -2\n"
        "background: {bed: surf.flac, loop_start: 1s, loop_end: 6s}"))
    result = runner.invoke(main, ["render", "own", "--scripts", str(scripts), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    mp3 = tmp_path / "o" / "own.mp3"
    assert ID3(mp3).getall("APIC")[0].data == (scripts / "cover.png").read_bytes()
    assert ID3(mp3)["TXXX:voiceguide voice"].text == ["fake"]  # which engine and voice spoke it
    meter = subprocess.run([ffmpeg_path(), "-nostats", "-i", str(mp3), "-af", "ebur128=peak=true", "-f", "null", "-"],
                           capture_output=True, text=True).stderr.split("Summary:")[-1]
    integrated = float(meter.split("I:")[1].split("LUFS")[0])
    peak = float(meter.split("Peak:")[1].split("dBFS")[0])
    assert integrated == pytest.approx(-20, abs=0.5) and peak <= -2.0


def test_an_unknown_voice_in_the_library_defaults_is_reported_at_its_line(runner, scripts, tmp_path):
    (scripts / "_defaults.yaml").write_text("author: Ana\nvoice:\n  voice: hihg\n")
    result = runner.invoke(main, ["render", "tiny", "--scripts", str(scripts), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr == (f"{scripts / '_defaults.yaml'}:3:10: voice.voice: unknown voice 'hihg' for engine "
                             "fake; did you mean 'high'? (see: voiceguide voices --engine fake)\n")
    assert not (tmp_path / "o").exists()
