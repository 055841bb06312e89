"""Routines in more than one language (issue 16): ``languages:``, texts per language, a missing
translation reported at its line, the words voiceguide says itself in the routine's language, and
voice settings per language."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from locations import ROOT

from voiceguide.core.errors import ScriptError, UsageError
from voiceguide.script.load import declared_languages, load_routine

ROUTINE = """\
    languages: [en, de]
    title: {en: Jaw release, de: Kiefer lösen}
    description:
      en: Slow circles over the jaw. Not medical advice.
      de: Langsame Kreise über dem Kiefer. Kein ärztlicher Rat.
    voice: {engine: fake, rate: 150, de: {rate: 130, voice: high}}
    steps:
      - title: {en: Jaw, de: Kiefer}
        say: {en: Circle slowly over the jaw muscle., de: Kreise langsam über dem Kaumuskel.}
        sides: [left, right]
        duration: 20s
        strokes: 5
        countdown: {strokes: 3, say: "{remaining}"}
        time_left: {at: [10s]}
      - repeat: 2
        steps:
          - title: {en: Breathe, de: Atmen}
            say: {en: Breathe slowly., de: Atme langsam.}
            breath: {inhale: 4, exhale: 6, cycles: 2, words: true}
"""


def write(folder: Path, text: str, name: str = "r.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path, language: str | None = None) -> list[str]:
    with pytest.raises(ScriptError) as info:
        load_routine(path, language)
    return [str(p).removeprefix(f"{path}:") for p in info.value.problems]


def test_each_language_loads_its_own_texts_and_the_first_is_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE)
    english, german = load_routine(path), load_routine(path, "de")
    assert (english.language, english.languages, german.language) == ("en", ("en", "de"), "de")
    assert (english.title, german.title) == ("Jaw release", "Kiefer lösen")
    assert german.description.startswith("Langsame Kreise")
    assert [s.title for s in german.steps] == ["Kiefer", "Kiefer", "Atmen", "Atmen"]
    assert german.steps[0].say == "Kreise langsam über dem Kaumuskel."
    assert declared_languages(path.read_bytes(), tmp_path) == ("en", "de")


def test_the_words_voiceguide_says_itself_are_in_the_routines_language(tmp_path: Path) -> None:
    german = load_routine(write(tmp_path, ROUTINE), "de")
    first, second, round_1, round_2 = german.steps
    assert second.switch.say == "Jetzt die rechte Seite."
    assert first.callouts[0].say == "Noch 10 Sekunden."
    assert first.countdown.words == ("3", "2", "1")
    assert round_1.say == "Atme langsam." and round_2.say == "Atmen, Runde 2 von 2."
    assert (round_1.breath.words.inhale, round_1.breath.words.exhale) == ("Einatmen", "Ausatmen")
    english = load_routine(write(tmp_path, ROUTINE))
    assert english.steps[1].switch.say == "Now the right side."
    assert english.steps[3].say == "Breathe, round 2 of 2."
    assert english.steps[0].callouts[0].say == "10 seconds left."


def test_voice_settings_per_language_apply_over_the_shared_ones(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE)
    english, german = load_routine(path).voice, load_routine(path, "de").voice
    assert (english.rate, english.voice, english.language) == (150, None, "en")
    assert (german.rate, german.voice, german.language, german.engine) == (130, "high", "de", "fake")
    assert german.per_language == ()


def test_a_missing_translation_is_reported_at_its_line_with_its_field_path(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE.replace("say: {en: Breathe slowly., de: Atme langsam.}",
                                           "say: {en: Breathe slowly.}")
                              .replace("- title: {en: Jaw, de: Kiefer}", "- title: Jaw"))
    assert load_routine(path).steps[0].title == "Jaw"  # English alone is complete
    assert problems(path, "de") == [
        "8:12: steps[0].title: no de text: the text is in en only; write it per language ({en: ..., de: ...}): "
        "this routine speaks en, de",
        "18:14: steps[1].steps[0].say: no de text; add one (de: ...): this routine speaks en, de",
    ]


def test_a_text_without_words_of_its_own_needs_no_translation(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE.replace('countdown: {strokes: 3, say: "{remaining}"}',
                                           'countdown: {strokes: 3, say: "{remaining}..."}'))
    assert load_routine(path, "de").steps[0].countdown.words == ("3...", "2...", "1...")


def test_a_language_the_routine_does_not_speak(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE.replace("say: {en: Breathe slowly., de: Atme langsam.}",
                                           "say: {en: Breathe slowly., de: Atme langsam., fr: Respirez.}")
                              .replace("title: {en: Jaw, de: Kiefer}", "title: {en: Jaw, de: Kiefer, dx: Kiefer}"))
    assert problems(path) == [
        "8:34: steps[0].title.dx: unknown language 'dx'; voiceguide speaks en, de, es, fr, it, ja, nl, pt",
        "18:55: steps[1].steps[0].say.fr: 'fr' is not one of the languages this routine speaks (en, de); add it to "
        "languages:",
    ]
    with pytest.raises(UsageError, match=r"r does not speak 'fr'; its languages are en, de"):
        load_routine(path, "fr")


def test_languages_must_be_known_and_listed_once(tmp_path: Path) -> None:
    path = write(tmp_path, ROUTINE.replace("languages: [en, de]", "languages: [en, de, en, klingon]"))
    found = problems(path)
    assert "1:20: languages[2]: 'en' is listed twice" in found[0] or "listed" in found[0], found
    assert any("unknown language 'klingon'" in line for line in found), found


def test_a_snippet_may_hold_more_languages_than_the_routine_including_it(tmp_path: Path) -> None:
    (tmp_path / "_snippets").mkdir()
    write(tmp_path / "_snippets", """\
        title: {en: Neck, de: Hals, fr: Cou}
        say: {en: Stroke down the neck., de: Streich den Hals hinab., fr: Glissez le long du cou.}
        duration: 20s
        strokes: 5
        """, "neck.yaml")
    english_only = write(tmp_path, """\
        title: T
        description: D
        voice: {engine: fake}
        steps: [{include: neck}]
        """, "only.yaml")
    assert load_routine(english_only).steps[0].say == "Stroke down the neck."
    both = write(tmp_path, "languages: [de, en]\n" + english_only.read_text().replace("title: T", "title: {de: T, en: T}")
                 .replace("description: D", "description: {de: D, en: D}"), "both.yaml")
    assert load_routine(both).steps[0].say == "Streich den Hals hinab."  # its first language


def test_the_library_defaults_can_set_the_languages_and_word_what_voiceguide_says(tmp_path: Path) -> None:
    write(tmp_path, """\
        languages: [de, en]
        words:
          de: {switch: "Nun die {side} Seite.", titles: {intro: Zu Beginn}}
        """, "_defaults.yaml")
    path = write(tmp_path, """\
        title: {de: Kiefer, en: Jaw}
        description: {de: Kein ärztlicher Rat., en: Not medical advice.}
        voice: {engine: fake}
        intro: {de: Willkommen., en: Welcome.}
        steps:
          - {title: {de: Kiefer, en: Jaw}, sides: [left, right], duration: 10s, strokes: 3}
        """)
    german = load_routine(path)
    assert german.language == "de"
    assert german.steps[0].title == "Zu Beginn" and german.steps[0].say == "Willkommen."
    assert german.steps[2].switch.say == "Nun die rechte Seite."
    assert load_routine(path, "en").steps[0].title == "Introduction"


def test_words_overrides_that_drop_a_name_are_reported_at_their_line(tmp_path: Path) -> None:
    write(tmp_path, 'words:\n  de: {switch: "Nun die andere Seite."}\n', "_defaults.yaml")
    path = write(tmp_path, "title: T\ndescription: D\nsteps: [{title: A, duration: 5s}]\n")
    found = [str(p) for p in pytest.raises(ScriptError, load_routine, path).value.problems]
    assert len(found) == 1 and found[0].startswith(f"{tmp_path / '_defaults.yaml'}:2:7: words.de:"), found
    assert "{side}" in found[0]


def test_the_starter_routines_speak_english_german_and_french_with_the_same_steps() -> None:
    for name in ("lymphatic", "morning"):
        path = ROOT / "scripts_yaml" / f"{name}.yaml"
        loaded = {language: load_routine(path, language) for language in ("en", "de", "fr")}
        assert loaded["en"].languages == ("en", "de", "fr")
        shapes = {language: [(s.kind, s.duration, s.strokes, s.breath and s.breath.period, s.zone)
                             for s in routine.steps] for language, routine in loaded.items()}
        assert shapes["de"] == shapes["en"] == shapes["fr"]
        titles = {language: [s.title for s in routine.steps if s.kind != "pause"] for language, routine in loaded.items()}
        assert all(a != b for a, b in zip(titles["en"], titles["de"])), titles  # every title in German
        assert sum(a != b for a, b in zip(titles["en"], titles["fr"])) >= len(titles["en"]) - 2, titles


def test_a_language_no_installed_engine_can_speak_is_reported_at_languages(tmp_path: Path, monkeypatch) -> None:
    from voiceguide import render as lib
    from voiceguide.voice.engines import VOICES_ENV, PiperEngine

    if not PiperEngine.available():
        pytest.skip("piper-tts is not installed")
    monkeypatch.setenv(VOICES_ENV, str(tmp_path))  # no voice folder of the user's: the packaged English voice only
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    path = write(tmp_path, ROUTINE.replace("voice: {engine: fake, rate: 150, de: {rate: 130, voice: high}}",
                                           "voice: {engine: piper}"))  # Piper has no German voice installed here
    assert lib.load(path).voice.engine == "piper"
    with pytest.raises(ScriptError) as info:
        lib.load(path, language="de")
    [problem] = info.value.problems
    assert (problem.where.line, problem.where.path) == (1, "languages"), problem
    assert "no piper voice speaks 'de'" in problem.message, problem.message


def test_the_narration_cache_keys_on_the_language() -> None:
    from voiceguide.render import speech_key
    from voiceguide.script.model import Voice

    english, german = Voice(engine="fake", language="en"), Voice(engine="fake", language="de")
    assert speech_key("Pause", english) != speech_key("Pause", german)  # one word, two languages
    assert speech_key("Pause", german) == speech_key("Pause", Voice(engine="fake", language="de"))
