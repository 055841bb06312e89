"""Issue 8: a corpus of broken routines, each refused with a clear message.

Every ``tests/data/bad/*.yaml`` is one broken routine, named for what is wrong with it. Its first
line says what the refusal must say: ``# expect: FILE:LINE: FRAGMENT`` (FILE relative to the folder:
the routine itself, or the snippet the problem is in). An optional ``# args: ...`` line gives the
render options (default ``--engine fake``, so the engine is never the point unless it is).

For each: ``voiceguide render`` exits 2, names the file and line, prints the fragment, shows no
traceback, and writes nothing to the output folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from locations import TESTS

from voiceguide.cli import main

BAD = TESTS / "data" / "bad"
CASES = sorted(p.name for p in BAD.glob("*.yaml"))
#: Files that cannot hold a header line.
NO_HEADER = {"empty-file.yaml": "empty-file.yaml:1: the file is empty"}
#: Cases that need a change outside the files this test's author owns (say why).
PENDING: dict[str, str] = {}
"""Bad routines not yet refused as they should be, with why (none now)."""


def expectation(path: Path) -> tuple[str, int, str, list[str]]:
    raw = path.read_bytes()
    header = NO_HEADER.get(path.name)
    if header is None:
        first = raw.split(b"\n", 1)[0].decode("ascii")
        assert first.startswith("# expect: "), f"{path.name}: the first line must be '# expect: FILE:LINE: FRAGMENT'"
        header = first[len("# expect: "):]
    file, line, fragment = re.fullmatch(r"(\S+?):(\d+): ?(.*)", header).groups()
    args = re.search(rb"^# args: ?(.*)$", raw, re.M)
    return file, int(line), fragment, args.group(1).decode().split() if args else ["--engine", "fake"]


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 50


@pytest.mark.parametrize("name", CASES)
def test_a_bad_routine_is_refused_clearly(name, tmp_path):
    if name in PENDING:
        pytest.xfail(PENDING[name])
    file, line, fragment, args = expectation(BAD / name)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(BAD / name), "--out", str(out), *args])
    text = result.output + result.stderr
    assert isinstance(result.exception, SystemExit), f"crashed: {result.exception!r}\n{text}"
    assert "Traceback" not in text
    assert result.exit_code == 2, text
    assert f"{BAD / file}:{line}:" in result.stderr, result.stderr
    assert fragment in result.stderr, result.stderr
    assert not out.exists() or not any(out.iterdir()), f"wrote {list(out.iterdir())}"


def test_check_reports_the_same_problems(tmp_path):
    """``check`` over several bad files at once: every file named, exit 2, no traceback."""
    names = ["duration-zero.yaml", "include-cycle.yaml", "sound-file-corrupt.yaml", "billion-laughs.yaml"]
    result = CliRunner().invoke(main, ["check", "--engine", "fake", *(str(BAD / n) for n in names)])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    for name in names:
        file, line, fragment, _ = expectation(BAD / name)
        assert f"{BAD / file}:{line}:" in result.stderr and fragment in result.stderr


@pytest.mark.parametrize("name", CASES)
def test_check_refuses_what_render_refuses(name, tmp_path):
    """Issue 18: ``check`` passes nothing ``render`` refuses, and says so at the same place."""
    if name in PENDING:
        pytest.xfail(PENDING[name])
    file, line, fragment, args = expectation(BAD / name)
    result = CliRunner().invoke(main, ["check", str(BAD / name), "--cache-dir", str(tmp_path / "cache"), *args])
    assert isinstance(result.exception, SystemExit), f"crashed: {result.exception!r}\n{result.output}"
    assert "Traceback" not in result.output + result.stderr
    assert result.exit_code == 2, result.output + result.stderr
    assert f"{BAD / file}:{line}:" in result.stderr and fragment in result.stderr, result.stderr
