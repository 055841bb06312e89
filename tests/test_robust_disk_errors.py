"""Issue 18, part 8: a read-only or full output folder, as root sees it too, and a cover that is no
file. The failure is injected at the operating system's calls (``mkstemp`` creating a temporary
file, ``fsync`` making it durable) with the errno a read-only folder, a full disk or a forbidden
folder gives, so the messages are checked exactly and the test runs as root, where chmod forbids
nothing.

Every message names the file it could not write, the build still reports each routine's reason and
its summary, exit 1, and what the library held stays (an MP3 and its lyrics may be new and whole)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from voiceguide.cli import main
from voiceguide.core import files

ROUTINE = "title: T\ndescription: d\nvoice: {engine: fake}\nsteps:\n  - title: Neck\n    say: Stroke.\n" \
          "    duration: 8s\n    strokes: 3\n"
ERRORS = {errno.EROFS: "Read-only file system", errno.ENOSPC: "No space left on device",
          errno.EACCES: "Permission denied"}


def fail_writes_into(out: Path, monkeypatch, where: str, code: int) -> None:
    """Make every write into ``out`` fail at ``where`` with ``code``; other folders (the cache) work."""
    real_mkstemp, real_fsync = files.tempfile.mkstemp, files.os.fsync

    def mkstemp(*args, dir=None, prefix="", suffix="", **kwargs):  # noqa: A002 - mkstemp's own name
        if Path(dir).resolve() != out.resolve():
            return real_mkstemp(*args, dir=dir, prefix=prefix, suffix=suffix, **kwargs)
        raise OSError(code, os.strerror(code), os.path.join(dir, f"{prefix}abcdefgh{suffix}"))

    def fsync(fd):
        if Path(os.readlink(f"/proc/self/fd/{fd}")).parent.resolve() == out.resolve():
            raise OSError(code, os.strerror(code))  # as a full disk says it: no file name
        return real_fsync(fd)

    if where == "mkstemp":
        monkeypatch.setattr(files.tempfile, "mkstemp", mkstemp)
    else:
        monkeypatch.setattr(files.os, "fsync", fsync)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def library(tmp_path):
    scripts, out = tmp_path / "scripts", tmp_path / "out"
    scripts.mkdir()
    for name in ("r0", "r1"):
        (scripts / f"{name}.yaml").write_text(ROUTINE, encoding="utf-8")
    first = CliRunner().invoke(main, ["build", "--scripts", str(scripts), "--out", str(out), "-j", "1", "--mono"])
    assert first.exit_code == 0, first.output
    for name in ("r0", "r1"):  # both change, so both render again
        (scripts / f"{name}.yaml").write_text(ROUTINE.replace("title: T", "title: T2"), encoding="utf-8")
    return scripts, out


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the file of an fd through /proc")
@pytest.mark.parametrize("where", ["mkstemp", "fsync"])
@pytest.mark.parametrize("code", list(ERRORS))
def test_an_unwritable_library_keeps_each_routines_reason_and_its_files(library, monkeypatch, where, code):
    scripts, out = library
    before = snapshot(out)
    fail_writes_into(out, monkeypatch, where, code)
    result = CliRunner().invoke(main, ["build", "--scripts", str(scripts), "--out", str(out), "-j", "1", "--mono"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output + result.stderr
    assert result.stdout.splitlines()[-1].startswith("0 built, 0 unchanged, 2 failed")
    reason = ERRORS[code]
    for name in ("r0", "r1"):
        failed = result.stderr.split(f"Failed: {name}\n", 1)[1].splitlines()[0]
        assert failed.startswith(f"cannot write {out / name}.") and failed.endswith(f": {reason}"), failed
    assert result.stderr.rstrip().splitlines()[-1].startswith(f"Error: cannot write {out}{os.sep}")
    assert result.stderr.rstrip().endswith(f": {reason}")
    after = snapshot(out)
    new = {"r0.mp3", "r0.lrc", "r1.mp3", "r1.lrc"}  # published whole before a later file failed
    assert {k: v for k, v in after.items() if k not in new} == {k: v for k, v in before.items() if k not in new}
    assert set(after) == set(before)
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]


@pytest.mark.parametrize("code", list(ERRORS))
def test_render_names_the_file_it_could_not_write(library, monkeypatch, code):
    scripts, out = library
    before = snapshot(out)
    fail_writes_into(out, monkeypatch, "mkstemp", code)
    result = CliRunner().invoke(main, ["render", str(scripts / "r0.yaml"), "--out", str(out), "--mono"])
    assert result.exit_code == 1, result.output
    assert result.stderr == f"Error: cannot write {out / 'r0.mp3'}: {ERRORS[code]}\n"
    assert snapshot(out) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_as_cover_is_refused_at_once(tmp_path):
    """Reading a FIFO nobody writes to waited for ever; now it is refused before anything runs."""
    (tmp_path / "r0.yaml").write_text(ROUTINE, encoding="utf-8")
    pipe, out = tmp_path / "cover.png", tmp_path / "out"
    os.mkfifo(pipe)
    found = subprocess.run([sys.executable, "-m", "voiceguide", "render", str(tmp_path / "r0.yaml"), "--out", str(out),
                            "--cover", str(pipe)], capture_output=True, text=True, timeout=120)
    assert found.returncode == 2, found.stderr
    assert found.stderr.endswith(f"Error: Invalid value for '--cover': '{pipe}' is not a regular file (a named pipe, "
                                 "device or socket cannot be read as an image)\n")
    assert not out.exists()
