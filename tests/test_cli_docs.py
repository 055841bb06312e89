"""Issue 18, part 8: the README's command table is one table naming every command, and its list of
what a build writes names every file a build writes."""

from __future__ import annotations

import re

from locations import ROOT

from voiceguide.cli import main
from voiceguide.library import build

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_command_table_is_one_table_with_every_command():
    section = README.split("## The command line", 1)[1].split("\n## ", 1)[0]
    tables = re.findall(r"(?:^\|.*\|\n)+", section, re.M)
    assert len(tables) == 1, "the command table is split (a blank line ends a Markdown table)"
    named = set(re.findall(r"^\| `voiceguide (\w+)", tables[0], re.M))
    assert named == set(main.commands)


def test_the_readme_lists_every_file_a_build_writes():
    section = README.split("## A library for your phone", 1)[1].split("\n## ", 1)[0]
    for suffix in build.OUTPUT_SUFFIXES:
        if suffix != ".cover.jpg":  # written as ".cover.png` (or `.jpg`"
            assert f"NAME{suffix}`" in section, suffix
    for name in (build.PLAYLIST, build.FEED, build.PAGE, build.MANIFEST, f"{build.VERSIONS}/<version>/"):
        assert f"`{name}`" in section, name
