"""A library in several languages (issue 16): ``build`` renders each language a routine speaks into
its own folder (the library's own language in the output folder itself), with its playlist, feed,
page and tags in that language; the German plan keeps the English one's step starts wherever the
narration fits both."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from locations import ROOT

from voiceguide import render as lib
from voiceguide.export.tags import read_tags
from voiceguide.library import build as library
from voiceguide.plan.timeline import plan
from voiceguide.script.load import load_routine


def starter_copy(folder: Path, names: tuple[str, ...], engine: str | None = "fake", variants: bool = True) -> Path:
    """The starter library's ``names`` (with its snippets and defaults) in ``folder``, spoken by
    ``engine`` (``None``: the starter's own, ``auto``), with its lengths and variants or without."""
    scripts = folder / "scripts_yaml"
    shutil.copytree(ROOT / "scripts_yaml" / "_snippets", scripts / "_snippets")
    defaults = (ROOT / "scripts_yaml" / "_defaults.yaml").read_text(encoding="utf-8")
    if engine is not None:
        defaults = defaults.replace("engine: auto", f"engine: {engine}")
    (scripts / "_defaults.yaml").write_text(defaults, encoding="utf-8")
    for name in names:
        text = (ROOT / "scripts_yaml" / f"{name}.yaml").read_text(encoding="utf-8")
        if not variants:
            text = "\n".join(line for line in text.split("\n") if not line.startswith(("lengths:", "variants:")))
        (scripts / f"{name}.yaml").write_text(text, encoding="utf-8")
    return scripts


def test_a_build_writes_each_language_into_its_own_folder_with_its_own_index(tmp_path: Path) -> None:
    scripts = starter_copy(tmp_path, ("lymphatic", "morning", "tension"))
    out = tmp_path / "output"
    settings = library.BuildSettings(scripts_dir=scripts, out_dir=out, cache_dir=tmp_path / "cache")
    report = library.build(settings=settings, jobs=2)
    assert not report.failed, [o.message for o in report.failed]
    ids = {o.id for o in report.outcomes}
    assert {"lymphatic", "lymphatic-5m-cues", "tension", "de/lymphatic", "de/morning", "fr/lymphatic-cues"} <= ids
    assert not any(i.startswith(("de/tension", "fr/tension")) for i in ids)  # tension speaks English only

    english, german = read_tags(out / "lymphatic.mp3"), read_tags(out / "de" / "lymphatic.mp3")
    assert (english.language, german.language, read_tags(out / "fr" / "morning.mp3").language) == ("eng", "deu", "fra")
    assert german.title == "Gesichtsmassage zur Lymphdrainage"
    assert [c.title for c in german.chapters][:3] == ["Einleitung", "Bauchatmung", "Oberhalb der Schlüsselbeine"]
    assert len(german.chapters) == len(english.chapters)
    assert "Lymphdrainage" in german.narration and "lymph" not in german.narration.lower().replace("lymphdrainage", "")
    from click.testing import CliRunner

    from voiceguide.cli import main

    shown = CliRunner().invoke(main, ["inspect", str(out / "de" / "morning.mp3"), "--cache-dir", str(tmp_path / "c")])
    assert shown.exit_code == 0 and "\nlanguage     deu\n" in shown.output, shown.output
    cues = read_tags(out / "de" / "lymphatic-5m-cues.mp3")
    assert cues.title == "Gesichtsmassage zur Lymphdrainage (5 Minuten, nur Stichworte)", cues.title

    for folder, code in ((out, "en"), (out / "de", "de"), (out / "fr", "fr")):
        feed = ET.parse(folder / library.FEED).getroot()
        assert feed.findtext("channel/language") == code
        assert f'<html lang="{code}"' in (folder / library.PAGE).read_text(encoding="utf-8")
        manifest = json.loads((folder / library.MANIFEST).read_text(encoding="utf-8"))
        assert manifest["language"] == code
    assert {e["id"] for e in json.loads((out / "de" / library.MANIFEST).read_text())["routines"].values()
            for e in [e["entry"]]} == {"lymphatic", "lymphatic-5m", "lymphatic-cues", "lymphatic-5m-cues",
                                       "morning"}
    playlist = (out / "de" / library.PLAYLIST).read_text(encoding="utf-8")
    assert "Gesichtsmassage zur Lymphdrainage" in playlist and "tension" not in playlist
    assert "Lymphdrainage" in (out / "de" / library.PAGE).read_text(encoding="utf-8")

    again = library.build(settings=settings, jobs=2)
    assert {o.status for o in again.outcomes} == {"unchanged"}


SMALL = """\
languages: [en, fr]
title: {en: Jaw, fr: Mâchoire}
description: {en: Slow circles. Not medical advice., fr: Des cercles lents. Pas un avis médical.}
voice: {engine: fake}
steps:
  - {title: {en: Circles, fr: Cercles}, say: {en: Circle slowly., fr: Tournez lentement.}, duration: 8s, strokes: 3}
"""
SMALL_ENGLISH = (SMALL.replace("languages: [en, fr]", "languages: [en]").replace(", fr: Mâchoire", "")
                 .replace(", fr: Cercles", "").replace(", fr: Tournez lentement.", "")
                 .replace(", fr: Des cercles lents. Pas un avis médical.", ""))
"""The same routine when it has stopped speaking French."""


def small_library(tmp_path: Path) -> tuple[Path, Path, library.BuildSettings]:
    """A library of ``SMALL`` alone: its scripts folder, its output folder and build settings."""
    scripts = tmp_path / "scripts_yaml"
    scripts.mkdir()
    (scripts / "jaw.yaml").write_text(SMALL, encoding="utf-8")
    out = tmp_path / "output"
    return scripts, out, library.BuildSettings(scripts_dir=scripts, out_dir=out, cache_dir=tmp_path / "cache")


def test_a_language_a_routine_no_longer_speaks_leaves_its_folder(tmp_path: Path) -> None:
    scripts, out, settings = small_library(tmp_path)
    assert not library.build(settings=settings, jobs=1).failed
    assert (out / "fr" / "jaw.mp3").is_file() and (out / "jaw.mp3").is_file()
    (scripts / "jaw.yaml").write_text(SMALL_ENGLISH, encoding="utf-8")
    report = library.build(settings=settings, jobs=1)
    assert not report.failed and [o.id for o in report.outcomes] == ["jaw"]
    assert not (out / "fr" / "jaw.mp3").exists()
    assert json.loads((out / "fr" / library.MANIFEST).read_text())["routines"] == {}
    assert (out / "jaw.mp3").is_file()


def test_the_german_plan_keeps_the_english_step_starts_wherever_the_narration_fits_both() -> None:
    """Every step whose narration fits its slot in both languages lasts as long in each, so the
    steps start where they do in English; the clock may move between languages only after a step
    whose length is its words (the intro) or that grew to fit them."""
    path = ROOT / "scripts_yaml" / "lymphatic.yaml"
    plans = {}
    for language in ("en", "de", "fr"):
        timeline, _ = lib.plan_routine(lib.load(path, engine="fake", language=language))
        plans[language] = timeline.steps
    english = plans["en"]

    def fits(step) -> bool:
        return step.fit is None or (step.fit.room is not None and not step.fit.extended)

    for language in ("de", "fr"):
        other = plans[language]
        assert [s.kind for s in other] == [s.kind for s in english]
        kept, shift = 0, other[0].start - english[0].start
        for i, (a, b) in enumerate(zip(english, other)):
            if i and not (fits(english[i - 1]) and fits(other[i - 1])):
                shift = b.start - a.start  # the step before set its own length
            assert b.start - a.start == shift, (language, a.title, b.title)
            if fits(a) and fits(b):
                assert a.end - a.start == b.end - b.start, (language, a.title)
                kept += 1
        assert kept >= len(english) * 2 // 3, (language, kept, len(english))


def test_a_plan_in_another_language_speaks_its_own_words() -> None:
    path = ROOT / "scripts_yaml" / "lymphatic.yaml"
    routine = lib.load(path, engine="fake", language="de")
    timeline = plan(routine, {text: 44100 for step in routine.steps for text in step.texts()})
    said = " ".join(e.text for e in timeline.speech())
    assert "Willkommen" in said and "Welcome" not in said


def test_check_reports_a_missing_translation_at_its_line_in_every_language(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from voiceguide.cli import main

    scripts = starter_copy(tmp_path, ("lymphatic",))
    path = scripts / "lymphatic.yaml"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(n for n, line in enumerate(lines) if line.strip().startswith("de: Unter dem Kinn"))
    del lines[at]
    path.write_text("\n".join(lines), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "lymphatic", "--scripts", str(scripts)])
    assert result.exit_code == 2, result.output
    title_line = at  # the mapping starts on the line of "title:", one above the removed line
    assert f"{path}:{title_line}:" in result.output and "steps[3].title: no de text" in result.output, result.output
    assert "fr text" not in result.output
    assert load_routine(path, "fr").steps[4].title == "Sous le menton"


@pytest.mark.engine
def test_the_starter_library_in_german_is_spoken_by_a_german_voice(tmp_path: Path) -> None:
    scripts = starter_copy(tmp_path, ("lymphatic",), engine=None, variants=False)
    out = tmp_path / "output"
    report = library.build(["lymphatic"], library.BuildSettings(scripts_dir=scripts, out_dir=out,
                                                                cache_dir=tmp_path / "cache"), jobs=2)
    assert not report.failed, [o.message for o in report.failed]
    german = read_tags(out / "de" / "lymphatic.mp3")
    assert german.language == "deu" and german.chapters[1].title == "Bauchatmung"
    engine, _, voice = german.voice.partition(" ")
    assert voice and (voice.endswith("/de") or voice == "de" or voice.startswith("de_")), german.voice
    french = read_tags(out / "fr" / "lymphatic.mp3")
    assert french.language == "fra" and "fr" in french.voice, french.voice


def test_each_languages_page_links_the_library_in_its_other_languages(tmp_path: Path) -> None:
    scripts, out, settings = small_library(tmp_path)
    assert not library.build(settings=settings, jobs=1).failed
    english = (out / library.PAGE).read_text(encoding="utf-8")
    french = (out / "fr" / library.PAGE).read_text(encoding="utf-8")
    assert '<nav class="languages" aria-label="Languages"><span aria-current="page" lang="en">English</span> · ' \
           '<a href="fr/index.html" hreflang="fr" lang="fr">Français</a></nav>' in english
    assert '<a href="../index.html" hreflang="en" lang="en">English</a> · ' \
           '<span aria-current="page" lang="fr">Français</span>' in french and 'aria-label="Langues"' in french
    library.build(["jaw"], settings=settings, jobs=1)  # a partial build keeps the links
    assert 'href="fr/index.html"' in (out / library.PAGE).read_text(encoding="utf-8")
    (scripts / "jaw.yaml").write_text(SMALL_ENGLISH, encoding="utf-8")
    assert not library.build(settings=settings, jobs=1).failed
    assert 'class="languages"' not in (out / library.PAGE).read_text(encoding="utf-8")  # one language left


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_starter_descriptions_safety_text_is_found_in_each_language(language: str) -> None:
    from voiceguide.library.page import split_description

    for name in ("lymphatic", "morning"):
        description = load_routine(ROOT / "scripts_yaml" / f"{name}.yaml", language).description
        summary, safety = split_description(description, language)
        assert summary and safety and len(safety) > 100, (name, language, summary, safety)
