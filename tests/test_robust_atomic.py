"""Issue 8: whole files or none. Renders and builds killed (SIGKILL) at random moments never leave a
partial MP3, playlist, feed or page; the next build repairs everything; the narration cache is never
left damaged. Ctrl-C ends a render or a build quietly with exit 130 and no temporary files left.
Temporary files of killed processes are removed by the next run, a live concurrent one's never."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from voiceguide.core.audio import ffmpeg_path
from voiceguide.core.files import remove_stale_parts, stale_parts
from voiceguide.voice.cache import NarrationCache

ROUTINE = """\
title: {title}
description: A short routine for the robustness tests.
voice: {{engine: fake, rate: 170}}
intro: {intro}
steps:
  - title: Neck
    say: Stroke down the sides of the neck, slowly. {extra}
    duration: {seconds}s
    strokes: 4
outro: Rest your hands.
"""


def make_library(folder: Path, seconds: int = 12, count: int = 2) -> Path:
    scripts = folder / "scripts"
    scripts.mkdir(parents=True)
    for i in range(count):
        (scripts / f"r{i}.yaml").write_text(ROUTINE.format(
            title=f"Routine {i}", intro=f"Welcome to routine number {i}.", extra=f"Count {i}.",
            seconds=seconds), encoding="utf-8")
    return scripts


def cli(*args: str, cache: Path) -> list[str]:
    return [sys.executable, "-m", "voiceguide", *args, "--cache-dir", str(cache)]


def spawn(cmd: list[str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env)


def decodes_fully(mp3: Path) -> bool:
    proc = subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-xerror", "-i", str(mp3), "-f", "null", "-"],
                          capture_output=True)
    return proc.returncode == 0 and not proc.stderr.strip()


def check_folder(out: Path, sizes: dict[str, int]) -> None:
    """Nothing in ``out`` is partial: each MP3 is whole (the size a finished one has, and decodes),
    each playlist, feed, page and manifest parses."""
    if not out.exists():
        return
    for mp3 in out.glob("*.mp3"):
        assert mp3.stat().st_size == sizes[mp3.name], f"{mp3.name}: {mp3.stat().st_size} bytes, not {sizes[mp3.name]}"
        assert decodes_fully(mp3), mp3
    playlist = out / "library.m3u8"
    if playlist.exists():
        text = playlist.read_text(encoding="utf-8")
        assert text.startswith("#EXTM3U") and text.endswith("\n")
        for line in text.splitlines():
            if line and not line.startswith("#"):
                assert line.endswith(".mp3")
    if (out / "feed.xml").exists():
        ET.parse(out / "feed.xml")
    if (out / "index.html").exists():
        assert (out / "index.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    if (out / ".voiceguide-build.json").exists():
        json.loads((out / ".voiceguide-build.json").read_text(encoding="utf-8"))
    for chapters in out.glob("*.chapters.json"):
        json.loads(chapters.read_text(encoding="utf-8"))


def check_cache(cache: Path) -> None:
    store = NarrationCache(cache)
    for entry in store.entries():
        assert store.get(entry.name.split(".")[0]) is not None, entry  # whole: its checksum, key and values hold


def parts(*folders: Path) -> list[Path]:
    return [p for f in folders if f.exists() for p in f.rglob(".*.part")]


def test_killed_renders_and_builds_never_leave_a_partial_file(tmp_path):
    scripts = make_library(tmp_path)
    cache, out, ref = tmp_path / "cache", tmp_path / "out", tmp_path / "ref"
    settings = ["--mono", "--bitrate", "32"]
    build = ["build", "--scripts", str(scripts), *settings]
    # Finished files, for their sizes: a build's, and a plain render's (same bytes: deterministic).
    assert subprocess.run(cli(*build, "--out", str(ref), "--jobs", "1", cache=cache), capture_output=True).returncode == 0
    started = time.perf_counter()  # the least work a run with anything to do does: kills land inside it
    assert subprocess.run(cli("render", str(scripts / "r0.yaml"), "--out", str(tmp_path / "timed"), *settings,
                              cache=cache), capture_output=True).returncode == 0
    lasts = time.perf_counter() - started
    sizes = {p.name: p.stat().st_size for p in ref.glob("*.mp3")}
    assert len(sizes) == 2
    NarrationCache(cache).clear()  # make the narration part of what is killed

    rng = random.Random(20240608)
    kills = 0
    for i in range(22):
        if i % 3 == 0:
            cmd = cli("render", str(scripts / "r0.yaml"), "--out", str(out), *settings, cache=cache)
        else:
            cmd = cli(*build, "--out", str(out), "--jobs", "2" if i % 3 == 2 else "1", cache=cache)
        proc = spawn(cmd)
        time.sleep(rng.uniform(0.05, 0.8 * lasts))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
        proc.communicate()
        check_folder(out, sizes)
        check_cache(cache)
        if i % 5 == 4:  # now and then, clear the cache
            NarrationCache(cache).clear()
    assert kills >= 20, kills

    done = subprocess.run(cli(*build, "--out", str(out), "--jobs", "2", cache=cache), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    check_folder(out, sizes)
    assert sorted(p.name for p in out.glob("*.mp3")) == sorted(sizes)
    manifest = json.loads((out / ".voiceguide-build.json").read_text(encoding="utf-8"))["routines"]
    assert {f"{rid}.mp3": m["size"] for rid, m in manifest.items()} == sizes
    assert not parts(out, cache), parts(out, cache)
    check_cache(cache)


def test_stale_temporary_files_go_and_live_ones_stay(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        names = {
            "dead": f".r0.mp3.{dead.pid}.ab12cd_9.part",
            "live": f".r0.mp3.{live.pid}.zz12cd_9.part",
            "mine": f".feed.xml.{os.getpid()}.q1w2e3r4.part",
            "other": "r0.mp3",
        }
        for name in names.values():
            (tmp_path / name).write_bytes(b"x")
        assert stale_parts(tmp_path) == [tmp_path / names["dead"]]
        assert remove_stale_parts(tmp_path) == 1
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(v for k, v in names.items() if k != "dead")
    finally:
        live.kill()
        live.wait()


def test_a_render_removes_what_a_killed_one_left(tmp_path):
    from click.testing import CliRunner

    from voiceguide.cli import main

    scripts = make_library(tmp_path, seconds=12, count=1)
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = out / f".r0.mp3.{dead.pid}.abcdefgh.part"
    stale.write_bytes(b"half an mp3")
    result = CliRunner().invoke(main, ["render", str(scripts / "r0.yaml"), "--out", str(out), "--mono"])
    assert result.exit_code == 0, result.output
    assert not stale.exists() and (out / "r0.mp3").exists()


def _interrupt(cmd: list[str], out: Path) -> subprocess.CompletedProcess:
    """Run ``cmd``; press Ctrl-C (SIGINT to its process group, as a terminal does) while it is
    writing into ``out``: as soon as a temporary part file appears there (no fixed sleep to win)."""
    proc = spawn(cmd)
    deadline = time.monotonic() + 120
    while not parts(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None and parts(out), proc.communicate() if proc.poll() is not None else "no part file"
    os.killpg(proc.pid, signal.SIGINT)
    try:
        stdout, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, stdout.decode(), stderr.decode())


@pytest.mark.parametrize("kind", ["render", "build"])
def test_ctrl_c_ends_quietly_with_130_and_no_temporary_files(tmp_path, kind):
    scripts = make_library(tmp_path, seconds=240, count=2)
    cache, out = tmp_path / "cache", tmp_path / "out"
    if kind == "render":
        cmd = cli("render", str(scripts / "r0.yaml"), "--out", str(out), cache=cache)
    else:
        cmd = cli("build", "--scripts", str(scripts), "--out", str(out), "--jobs", "2", cache=cache)
    done = _interrupt(cmd, out)
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "Interrupted."
    assert "Traceback" not in done.stderr and "KeyboardInterrupt" not in done.stderr, done.stderr
    time.sleep(0.3)  # the workers' ffmpeg children, if any, are gone by now
    assert not parts(out, cache), parts(out, cache)
    assert not list(out.glob("*.mp3")) if out.exists() else True
