"""Issue 18, part 1: a cache entry is one unit, whoever writes it. With a voice that never says a
phrase the same way twice, cold builds and renders running at once over shared text all succeed:
none mixes one process's clip with another's levels or length."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from locations import TESTS

from voiceguide import render as lib
from voiceguide.core.audio import ffmpeg_path
from voiceguide.voice.cache import NarrationCache

DRIVER = TESTS / "varying_engine.py"
SHARED = ["Welcome. Sit comfortably and let your shoulders drop.",
          "Stroke gently down the sides of the neck, toward the collarbones.",
          "Make small slow circles at the jaw, then sweep outward to the ears.",
          "Rest your hands and breathe out slowly."]
ROUTINE = """\
title: Routine {i}
description: Shares most of its words with the others.
voice: {{engine: fake, rate: 190}}
intro: {intro}
steps:
  - title: Neck
    say: {neck}
    duration: 9s
    strokes: 3
  - title: Jaw
    say: {jaw} Round {i}.
    duration: 9s
    strokes: 3
outro: {outro}
"""


def make_library(folder: Path, count: int = 4) -> Path:
    scripts = folder / "scripts"
    scripts.mkdir()
    for i in range(count):
        (scripts / f"r{i}.yaml").write_text(ROUTINE.format(i=i, intro=SHARED[0], neck=SHARED[1], jaw=SHARED[2],
                                                           outro=SHARED[3]), encoding="utf-8")
    return scripts


def run_all(commands: list[list[str]]) -> list[subprocess.CompletedProcess]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for c in commands]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=300), *p.communicate()) for p in procs]


def decodes(mp3: Path) -> bool:
    proc = subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-xerror", "-i", str(mp3), "-f", "null", "-"],
                          capture_output=True, text=True)
    return proc.returncode == 0 and not proc.stderr.strip()


def check_cache(cache: Path, scripts: Path) -> None:
    """One whole entry per phrase spoken, nothing half-written left."""
    texts = set().union(*(lib.load(p).texts() for p in lib.routine_files(scripts)))
    store = NarrationCache(cache)
    entries = store.entries()
    assert len(entries) == len(texts) > 4
    assert all(store.get(p.name.split(".")[0]) is not None for p in entries)
    assert not list(cache.rglob(".*.part"))


def test_cold_builds_at_once_with_a_voice_that_varies_all_succeed(tmp_path):
    scripts = make_library(tmp_path)
    cache = tmp_path / "cache"
    builds = [[sys.executable, str(DRIVER), "build", "--scripts", str(scripts), "--out", str(tmp_path / f"out{n}"),
               "--jobs", "2", "--mono", "--bitrate", "32", "--cache-dir", str(cache)] for n in range(3)]
    for done in run_all(builds):
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    for n in range(3):
        mp3s = sorted((tmp_path / f"out{n}").glob("*.mp3"))
        assert [p.name for p in mp3s] == [f"r{i}.mp3" for i in range(4)]
        assert all(decodes(p) for p in mp3s)
    check_cache(cache, scripts)


def test_cold_renders_at_once_with_a_voice_that_varies_all_succeed(tmp_path):
    scripts = make_library(tmp_path, count=2)
    cache = tmp_path / "cache"
    renders = [[sys.executable, str(DRIVER), "render", str(scripts / f"r{n % 2}.yaml"), "--out",
                str(tmp_path / f"out{n}"), "--mono", "--bitrate", "32", "--cache-dir", str(cache)] for n in range(4)]
    for done in run_all(renders):
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    for n in range(4):
        assert decodes(tmp_path / f"out{n}" / f"r{n % 2}.mp3")
    check_cache(cache, scripts)
