"""Issue 8: the disk and paths. An unwritable output folder or a full disk is a clear error (exit 1,
no traceback) and what was there stays; routine names and output names cannot read or write outside
where they belong, and output names suit every file system a phone syncs from."""

from __future__ import annotations

import errno
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide.cli import main
from voiceguide.core import files
from voiceguide.core.files import safe_name

ROUTINE = textwrap.dedent("""\
    title: Disk test
    description: A short routine.
    voice: {engine: fake}
    steps:
      - title: Neck
        say: Stroke down the neck.
        duration: 8s
        strokes: 3
    """)


def library(folder: Path, names=("r0",)) -> Path:
    scripts = folder / "scripts"
    scripts.mkdir(parents=True, exist_ok=True)
    for name in names:
        (scripts / f"{name}.yaml").write_text(ROUTINE, encoding="utf-8")
    return scripts


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def render(scripts: Path, out: Path, name: str = "r0"):
    return CliRunner().invoke(main, ["render", str(scripts / f"{name}.yaml"), "--out", str(out), "--mono"])


def test_an_unwritable_output_folder_is_a_clear_error_and_the_old_file_stays(tmp_path, monkeypatch):
    scripts, out = library(tmp_path), tmp_path / "out"
    out.mkdir()
    (out / "r0.mp3").write_bytes(b"the old session")

    real = files.tempfile.mkstemp

    def refuse(*args, dir=None, prefix="", suffix="", **kwargs):  # noqa: A002 - mkstemp's own name
        if Path(dir) != out:
            return real(*args, dir=dir, prefix=prefix, suffix=suffix, **kwargs)
        raise PermissionError(errno.EACCES, "Permission denied", os.path.join(dir, f"{prefix}abcdefgh{suffix}"))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)  # root ignores chmod; this is what EACCES looks like
    result = render(scripts, out)
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: cannot write {out / 'r0.mp3'}: Permission denied\n"
    assert snapshot(out) == {"r0.mp3": b"the old session"}


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_for_real(tmp_path):
    scripts, out = library(tmp_path), tmp_path / "out"
    out.mkdir()
    (out / "r0.mp3").write_bytes(b"the old session")
    out.chmod(0o555)
    try:
        result = render(scripts, out)
    finally:
        out.chmod(0o755)
    assert result.exit_code == 1 and "Permission denied" in result.stderr and "Traceback" not in result.stderr
    assert snapshot(out) == {"r0.mp3": b"the old session"}


@pytest.fixture
def tiny_disk(tmp_path):
    """A 200 kB tmpfs (needs root and mount); skipped where it cannot be made."""
    disk = tmp_path / "disk"
    disk.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {made.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_is_a_clear_error_and_the_old_file_stays(tmp_path, tiny_disk):
    scripts = library(tmp_path)
    (scripts / "r0.yaml").write_text(ROUTINE.replace("8s", "120s").replace("strokes: 3", "strokes: 30"))
    out = tiny_disk / "out"
    out.mkdir()
    (out / "r0.mp3").write_bytes(b"the old session")
    result = CliRunner().invoke(main, ["render", str(scripts / "r0.yaml"), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: cannot write {out / 'r0.mp3'}: No space left on device\n"
    assert snapshot(out) == {"r0.mp3": b"the old session"}  # and no temporary file left


def test_a_full_disk_during_a_build_keeps_the_library_as_it_was(tmp_path, monkeypatch):
    scripts, out = library(tmp_path, ("r0", "r1")), tmp_path / "out"
    runner = CliRunner()
    first = runner.invoke(main, ["build", "--scripts", str(scripts), "--out", str(out), "--jobs", "1", "--mono"])
    assert first.exit_code == 0, first.output
    before = snapshot(out)
    (scripts / "r1.yaml").write_text(ROUTINE.replace("Disk test", "Disk test, again"), encoding="utf-8")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    result = runner.invoke(main, ["build", "--scripts", str(scripts), "--out", str(out), "--jobs", "1", "--mono"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: cannot write {out}")
    assert result.stderr.strip().endswith(": No space left on device")
    after = snapshot(out)
    new = ("r1.mp3", "r1.lrc")
    # The MP3 may be new and whole and its lyrics (written before the disk filled); all else stays.
    assert {k: v for k, v in after.items() if k not in new} == {k: v for k, v in before.items() if k not in new}
    assert not list(out.glob(".*.part"))


# --- paths --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "../../../etc/shadow", "scripts/../../x",
                                  "..", "/", "a/b", "nul", "CON"])
def test_routine_names_cannot_read_outside(tmp_path, name):
    scripts = library(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", name, "--scripts", str(scripts), "--out", str(out),
                                       "--engine", "fake"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output + result.stderr
    assert "root:" not in result.stderr  # no line of another file quoted back
    assert not out.exists()


@pytest.mark.parametrize("name, safe", [
    ("morning glow?", "morning glow_"),
    ('a<b>c:d"e/f\\g|h?i*j', "a_b_c_d_e_f_g_h_i_j"),
    ("tab\there\x01", "tab_here_"),
    ("trailing dots...", "trailing dots"),
    ("trailing space ", "trailing space"),
    ("CON", "CON_"),
    ("con", "con_"),
    ("nul.tar", "nul_.tar"),
    ("COM1", "COM1_"),
    ("lpt9", "lpt9_"),
    ("CONSOLE", "CONSOLE"),
    ("..", "_"),
    (".hidden", "_hidden"),
    ("", "routine"),
    ("Gesichtsmassage für den Morgen", "Gesichtsmassage für den Morgen"),
    ("x" * 300, "x" * 200),
])
def test_safe_names(name, safe):
    assert safe_name(name) == safe
    assert safe_name(safe) == safe  # already safe stays as it is


def test_safe_names_are_safe_for_any_text():
    import random

    rng = random.Random(5)
    alphabet = 'aZ 09._-<>:"/\\|?*\x00\x1f\x7fé漢🙂'
    for _ in range(500):
        name = safe_name("".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 20))))
        assert name and not set('<>:"/\\|?*') & set(name) and all(ord(c) >= 32 and c != "\x7f" for c in name)
        assert not name.endswith((".", " ")) and not name.startswith(".")
        assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
        assert len(name.encode()) <= files.MAX_NAME_BYTES


@pytest.mark.parametrize("stem, mp3", [("morning glow?", "morning glow_.mp3"), ("CON", "CON_.mp3"),
                                       ("aux.v2", "aux_.v2.mp3")])
def test_outputs_get_safe_names_in_render_and_build(tmp_path, stem, mp3):
    scripts, out = library(tmp_path, (stem,)), tmp_path / "out"
    result = render(scripts, out / "render", stem)
    assert result.exit_code == 0, result.output
    assert [p.name for p in (out / "render").glob("*.mp3")] == [mp3]
    built = CliRunner().invoke(main, ["build", "--scripts", str(scripts), "--out", str(out / "build"), "--jobs", "1",
                                      "--mono"])
    assert built.exit_code == 0, built.output
    assert sorted(p.name for p in (out / "build").glob("*.mp3")) == [mp3]
    assert (out / "build" / mp3.replace(".mp3", ".chapters.json")).is_file()
    playlist = (out / "build" / "library.m3u8").read_text(encoding="utf-8")
    assert mp3 in playlist
    again = CliRunner().invoke(main, ["build", "--scripts", str(scripts), "--out", str(out / "build"), "--jobs", "1",
                                      "--mono"])
    assert "unchanged" in again.output  # the manifest finds the safe-named file
