"""Variants from the command line and in the library (issue 15): a fitted render decodes to its
length, a length out of reach is a usage error naming the range, and a build with ``lengths:``
and ``variants:`` makes a file per variant, indexes them, and rebuilds none of them when nothing
changed."""

from __future__ import annotations

import json
import subprocess

import pytest
from click.testing import CliRunner
from locations import ROOT

from voiceguide.cli import main
from voiceguide.core.audio import ffmpeg_path
from voiceguide.library import build as library

SCRIPTS = ROOT / "scripts_yaml"

ROUTINE = """\
title: Tiny
description: A test routine. Not medical advice.
album: Test library
voice: {engine: fake}
timing: {pace: lymphatic}
intro:
  say: Welcome. Sit comfortably. This is not medical advice; stop if anything hurts.
  cue: Not medical advice; stop if anything hurts.
steps:
  - title: Strokes
    say: Stroke gently outward from the centre of your face toward your ears, slowly and lightly.
    duration: 30s
    strokes: 8
  - pause: 1s
  - title: Breathe
    breath: {inhale: 2, exhale: 2, cycles: 4}
outro: Thank you.
"""


@pytest.fixture
def runner():
    return CliRunner()


def decoded_seconds(mp3) -> float:
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-"],
                         capture_output=True, check=True).stdout
    return len(raw) / 2 / 44100


def test_a_fitted_render_decodes_to_its_length(runner, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(main, ["render", "lymphatic", "--length", "5m", "--engine", "fake",
                                  "--scripts", str(SCRIPTS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out / 'lymphatic-5m.mp3'}\n"
    assert result.stderr.startswith("lymphatic-5m: 05:00.0,")
    assert abs(decoded_seconds(out / "lymphatic-5m.mp3") - 300) <= 1.0


def test_a_length_out_of_reach_exits_2_naming_the_range(runner):
    result = runner.invoke(main, ["check", "lymphatic", "--length", "2m", "--engine", "fake",
                                  "--scripts", str(SCRIPTS)])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: lymphatic cannot be fitted to 02:00.0: its steps allow from ")
    assert " to 17:" in result.stderr and "(its full length is 09:" in result.stderr
    result = runner.invoke(main, ["render", "lymphatic", "--length", "soon", "--scripts", str(SCRIPTS)])
    assert result.exit_code == 2 and "expected a length such as 5m" in result.stderr


def test_check_report_shows_what_the_fit_scaled(runner):
    result = runner.invoke(main, ["check", "lymphatic", "--report", "--length", "5m", "--engine", "fake",
                                  "--scripts", str(SCRIPTS)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("lymphatic-5m: Lymphatic drainage facial massage (5 minutes), 05:00.0")
    assert "  fitted to 05:00.0: 05:00.0\n" in result.stdout
    assert "Rest and breathe             left out" in result.stdout
    assert "Introduction                 kept" in result.stdout
    assert "8 -> 3 breath cycles" in result.stdout
    data = json.loads(runner.invoke(main, ["check", "lymphatic", "--json", "--length", "8m", "--cues-only",
                                           "--engine", "fake", "--scripts", str(SCRIPTS)]).stdout)
    routine = data["routines"][0]
    assert routine["id"] == "lymphatic-8m-cues" and abs(routine["duration_ms"] - 480_000) <= 1000
    assert {row["action"] for row in routine["fit"]} <= {"kept", "scaled", "left out"}


def test_a_build_makes_each_variant_and_a_no_op_rebuild_renders_nothing(tmp_path):
    scripts = tmp_path / "scripts_yaml"
    scripts.mkdir()
    (scripts / "tiny.yaml").write_text(ROUTINE)
    (scripts / "_defaults.yaml").write_text("lengths: [50s]\nvariants: [cues]\n")
    settings = library.BuildSettings(scripts_dir=scripts, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    report = library.build(settings=settings, jobs=2)
    ids = ["tiny", "tiny-50s", "tiny-cues", "tiny-50s-cues"]
    assert [(o.id, o.status) for o in report.outcomes] == [(i, "built") for i in ids], report.failed
    out = settings.out_dir
    for rid in ids:
        assert (out / f"{rid}.mp3").is_file() and (out / f"{rid}.vtt").is_file()
        assert (out / f"{rid}.chapters.json").is_file()
    lengths = {o.id: o.duration_ms for o in report.outcomes}
    assert abs(lengths["tiny-50s"] - 50_000) <= 1000 and lengths["tiny-50s-cues"] == lengths["tiny-50s"]
    assert lengths["tiny-cues"] == lengths["tiny"]
    playlist = (out / "library.m3u8").read_text()
    assert all(f"{rid}.mp3" in playlist for rid in ids) and "Tiny (50 seconds, cues only)" in playlist
    feed = (out / "feed.xml").read_text()
    assert all(f"{rid}.mp3" in feed for rid in ids) and "Tiny (cues only)" in feed
    assert abs(decoded_seconds(out / "tiny-50s.mp3") - 50) <= 1.0

    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp3")}
    again = library.build(settings=settings, jobs=2)
    assert {o.id: o.status for o in again.outcomes} == dict.fromkeys(ids, "unchanged")
    assert again.seconds < 1.0
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp3")} == before

    (scripts / "_defaults.yaml").write_text("variants: [cues]\n")  # the 50 s versions go
    third = library.build(settings=settings, jobs=2)
    assert [o.id for o in third.outcomes] == ["tiny", "tiny-cues"]
    assert not (out / "tiny-50s.mp3").exists() and "tiny-50s" not in (out / "library.m3u8").read_text()


def test_check_finds_a_length_out_of_reach_that_build_would_fail_on(runner, tmp_path):
    scripts = tmp_path / "scripts_yaml"
    scripts.mkdir()
    (scripts / "tiny.yaml").write_text(ROUTINE.replace("album: Test library\n",
                                                       "album: Test library\nlengths: [10s]\n"))
    result = runner.invoke(main, ["check", "tiny", "--scripts", str(scripts)])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: tiny cannot be fitted to 00:10.0: its steps allow from ")
