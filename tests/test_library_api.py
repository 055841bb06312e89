"""voiceguide from Python: README's example runs as written and makes what it says, and
``import voiceguide`` stays light (its names are looked up when first used)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from locations import ROOT

import voiceguide
from voiceguide import render
from voiceguide.core.audio import RATE
from voiceguide.export.probe import inspect, read_header

README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_block(language: str, containing: str) -> str:
    """The one fenced ``language`` block of README that contains ``containing``."""
    [block] = [text for lang, text in re.findall(r"```(\w*)\n(.*?)```", README, re.S)
               if lang == language and containing in text]
    return block


def test_the_readme_example_runs_and_makes_what_it_says(tmp_path, monkeypatch, capsys):
    # README's own routine, as scripts_yaml/jaw.yaml; spoken by the fake engine in the build too
    # (the example's load asks for it; a build speaks with each routine's own voice)
    routine = readme_block("yaml", "title: Quick jaw release")
    faked = routine.replace("voice: {rate: 145}", "voice: {rate: 145, engine: fake}")
    assert faked != routine
    (tmp_path / "scripts_yaml").mkdir()
    (tmp_path / "scripts_yaml" / "jaw.yaml").write_text(faked, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    example = readme_block("python", "import voiceguide")
    assert 'engine="fake"' in example

    names: dict = {}
    exec(compile(example, "README.md: From Python", "exec"), names)
    plan, made, report = names["plan"], names["made"], names["report"]

    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"{plan.to_json()['duration_ms']} {[step.title for step in plan.steps]}"
    assert plan.engine == "fake"
    assert made.path == Path("output/jaw.mp3") and printed[1] == str(made.path)
    assert made.plan == plan
    for suffix in (".lrc", ".vtt", ".srt"):
        assert made.path.with_suffix(suffix).is_file()
    # a real MP3 of exactly the planned length, tagged and mastered
    file = inspect(made.path)
    assert file.header.sample_rate == RATE and file.header.samples == plan.length
    assert file.tags.title == "Quick jaw release"
    assert [chapter.title for chapter in file.tags.chapters] == [step.title for step in plan.steps
                                                                 if step.kind != "pause"]
    assert "Jaw circles" in [step.title for step in plan.steps]
    assert abs(file.loudness.integrated - -16.0) < 0.5 and file.loudness.true_peak <= -1.0

    assert printed[2] == "[('jaw', 'built')]" and not report.failed
    library = tmp_path / "library"
    assert read_header(library / "jaw.mp3").samples == plan.length
    for name in ("library.m3u8", "feed.xml", "index.html"):
        assert (library / name).is_file()
    assert "Quick jaw release" in (library / "index.html").read_text(encoding="utf-8")


def test_import_voiceguide_imports_no_numpy():
    """``python -m voiceguide`` imports the package before ``__main__`` can set its early Ctrl-C
    handler (see there): the package itself must import nothing heavy, nor any of its modules."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, voiceguide; voiceguide.__version__; "
                               "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'voiceguide')))"],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert loaded.strip() == "['voiceguide']"


def test_every_exported_name_is_there():
    assert set(voiceguide.__all__) <= set(dir(voiceguide))
    for name in voiceguide.__all__:
        value = getattr(voiceguide, name)
        assert name == "__version__" or value.__name__ in (name, "render")  # render_routine is render.render
    assert voiceguide.render_routine is render.render
    assert not hasattr(voiceguide, "no_such_name")
