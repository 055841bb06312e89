"""Issue 18, part 6: documented limits, checked at FILE:LINE, and never a traceback. A session of
more than 12 hours is refused where it passes the limit (by its steps' durations, or by its plan
once narration is spoken); a 2 GB WAV bed is refused at its line without ever being decoded whole.
(The bad-routine corpus holds the rest: session-too-long*, breaths-too-many.)"""

from __future__ import annotations

import struct
import subprocess
import sys

from click.testing import CliRunner

from voiceguide.cli import main

HEAD = """\
title: Limits
description: A routine at the limits.
voice: {engine: fake}
"""


def test_a_plan_longer_than_12_hours_with_its_narration_is_refused_at_the_step(tmp_path):
    routine = tmp_path / "long.yaml"
    routine.write_text(HEAD + """\
intro: Welcome. Sit comfortably, rest your hands in your lap and breathe slowly for a while.
steps:
  - title: Long hold
    duration: 11h 59m 55s
    strokes: 5
""", encoding="utf-8")
    result = CliRunner().invoke(main, ["plan", str(routine), "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output + result.stderr
    assert f"{routine}:6:5: steps[0]: the session lasts more than 12 hours" in result.stderr, result.stderr


def sparse_wav(path, data_bytes: int) -> None:
    """A 16-bit stereo 44.1 kHz WAV whose data chunk is ``data_bytes`` of zeros, made sparse."""
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 44100, 44100 * 4, 4, 16)
    header += b"data" + struct.pack("<I", data_bytes)
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(len(header) + data_bytes)


def test_a_2_gb_wav_bed_is_refused_at_its_line_in_bounded_memory(tmp_path):
    sparse_wav(tmp_path / "rain.wav", 2_000_000_000)  # 3 hours 9 minutes
    routine = tmp_path / "rain.yaml"
    routine.write_text(HEAD + """\
background: {bed: rain.wav}
steps:
  - title: Rest
    duration: 20s
""", encoding="utf-8")
    for command in ("check", "render"):
        peak = tmp_path / f"{command}-peak-kb"
        cmd = [sys.executable, "-c", PEAK, str(peak), command, str(routine), "--cache-dir", str(tmp_path / "cache")]
        if command == "render":
            cmd += ["--out", str(tmp_path / "out")]
        done = subprocess.run(cmd, capture_output=True, text=True)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr
        assert f"{routine}:4:19: background.bed: " in done.stderr and "lasts more than 300 s" in done.stderr, done.stderr
        assert int(peak.read_text()) < 400_000, f"{command} peaked at {int(peak.read_text()) / 1000:.0f} MB"
    assert not (tmp_path / "out").exists()


PEAK = """\
import atexit, sys
from pathlib import Path

def peak(path=Path(sys.argv.pop(1))):
    path.write_text(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1])

atexit.register(peak)
from voiceguide.__main__ import run
run()
"""
"""Runs voiceguide and writes its peak memory (kB, this process's own: a forked child's ``ru_maxrss``
counts the parent's memory before ``exec``) to the file named first."""
