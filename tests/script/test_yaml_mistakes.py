"""Issue 18, part 8: YAML mistakes reported at the line they are on, in plain words, with the fix.

PyYAML notices a key without its colon on the next line ("could not find expected ':'", "mapping
values are not allowed here", "expected <block end>, but found ..."); the loader names the line
with the mistake. Checked by making each mistake at every place it can be made in the starter
library (the corpus in tests/data/bad holds one file of each kind, with its message)."""

from __future__ import annotations

import re

import pytest
import yaml
from locations import ROOT

from voiceguide.script.yaml_text import syntax_message

STARTER = sorted((ROOT / "scripts_yaml").rglob("*.yaml"))
KEY = re.compile(r"(\s*(?:-\s+)?)([A-Za-z_]+):(\s|$)")


def mistakes(make):
    """``(file, line number, text)`` for each line of the starter library that ``make`` turns into
    a mistake PyYAML refuses (``make(line)`` is the changed line, or ``None``)."""
    for file in STARTER:
        lines = file.read_text(encoding="utf-8").split("\n")
        for n, line in enumerate(lines):
            changed = make(line) if KEY.match(line) else None
            if changed is not None:
                text = "\n".join([*lines[:n], changed, *lines[n + 1:]])
                try:
                    yaml.compose(text, Loader=yaml.SafeLoader)
                except yaml.MarkedYAMLError as exc:
                    yield file, n + 1, text, exc


def reported(text: str, exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    line, _, message = syntax_message(exc, text.splitlines())
    return line, message


def without_colon(line: str) -> str:
    found = KEY.match(line)
    return line[:found.end(2)] + line[found.end(2) + 1:]


def test_a_missing_colon_is_reported_at_its_own_line_anywhere_in_the_starter_library():
    cases = list(mistakes(without_colon))
    assert len(cases) > 200
    wrong = [(f.name, n, reported(text, exc)) for f, n, text, exc in cases if reported(text, exc)[0] != n]
    assert not wrong
    for _, _, text, exc in cases:
        assert "has no ':' after its key" in reported(text, exc)[1]


def test_a_tab_is_reported_at_its_own_line_anywhere_in_the_starter_library():
    cases = list(mistakes(lambda line: "\t" + line.lstrip(" ") if line.startswith(" ") else None))
    assert len(cases) > 200
    assert all(reported(text, exc) == (n, "a tab character: YAML indents with spaces only, never tabs; replace the "
                                          "tab with spaces") for _, n, text, exc in cases)


def test_a_line_indented_one_space_off_names_that_line_or_the_one_it_disagrees_with():
    """Which of two keys that do not line up is wrong cannot always be known (the first key of a
    mapping sets its column): the message names both lines."""
    for shift in (lambda line: " " + line, lambda line: line[1:] if line.startswith(" ") else None):
        for file, n, text, exc in mistakes(shift):
            line, message = reported(text, exc)
            assert line == n or f"on line {n}" in message or "has no ':'" in message, (file.name, n, line, message)
            assert "YAML" not in message and "<" not in message, message  # no parser jargon


@pytest.mark.parametrize(("text", "line", "message"), [
    ("title: T\nsteps:\n  - title: Neck\n    say Stroke down the neck.\n    duration: 20s\n", 4,
     "'say Stroke down the neck.' has no ':' after its key; a field is written 'name: value' "
     "(did you mean 'say: Stroke down the neck.'?)"),
    ("title: T\nsteps:\n  - title: A\n    say: Stroke down\n      the neck.\n     strokes: 5\n", 6,
     "'strokes' is indented more than 'say' on line 4; line it up with 'say' (column 5)"),
    ("title: T\nsteps:\n  - title: A\n   duration: 5s\n", 4,
     "'duration' is indented less than 'title' on line 3; line it up with 'title' (column 5), or start a new "
     "list item with '- '"),
    ("  title: T\ndescription: x\nsteps: []\n", 1,
     "'title' is indented more than 'description' on line 2 and the lines after it; line it up with them (column 1)"),
    ("title: 'It's mine'\n", 1,
     "text after the closing quote; put the whole value in the quotes (in '...' a ' is written '', in \"...\" a \" "
     "is written \\\"), or leave the quotes out"),
    ("title: 'Open\ndescription: x\n", 1,
     "the quote ' that starts here is never closed; end the text with ' (write a ' inside it as '')"),
    ("steps: [{title: A, duration: 5s}\ndescription: x\n", 1,
     "the '[' that opens here is not closed before line 2; end it with ']' (items inside are separated by ',')"),
])
def test_common_mistakes_in_plain_words(text, line, message):
    with pytest.raises(yaml.MarkedYAMLError) as raised:
        yaml.compose(text, Loader=yaml.SafeLoader)
    assert reported(text, raised.value) == (line, message)
