"""The words voiceguide says and shows itself (``script.words``): each language's durations,
plurals and one-forms, its sentences filled in, every words file like the English one, English as
voiceguide said it before it had other languages, and a library's overrides."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
import yaml

from voiceguide.core.errors import UsageError
from voiceguide.script import format as script_format
from voiceguide.script import words as words_module
from voiceguide.script.text import fill, spoken_duration
from voiceguide.script.words import LANGUAGES, Words, WordsError, words_for

ALL = ("en", "de", "fr", "es", "it", "pt", "nl", "ja")


def test_the_languages_are_english_first_and_every_file_is_package_data():
    assert LANGUAGES[0] == "en" and set(ALL) <= set(LANGUAGES)
    folder = files("voiceguide.script").joinpath("words")
    assert sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".yaml")) == sorted(
        f"{code}.yaml" for code in LANGUAGES)


# --- durations, as each language says them ---

DURATIONS = {  # 1 s, 1.5 s, 30 s, 60 s, 90 s, 150 s, 2 min
    "en": ["1 second", "1.5 seconds", "30 seconds", "1 minute", "1 minute 30 seconds",
           "2 minutes 30 seconds", "2 minutes"],
    "de": ["eine Sekunde", "1,5 Sekunden", "30 Sekunden", "eine Minute", "eine Minute 30 Sekunden",
           "2 Minuten 30 Sekunden", "2 Minuten"],
    "fr": ["une seconde", "1,5 seconde", "30 secondes", "une minute", "une minute et 30 secondes",
           "2 minutes et 30 secondes", "2 minutes"],
    "es": ["un segundo", "1,5 segundos", "30 segundos", "un minuto", "un minuto y 30 segundos",
           "2 minutos y 30 segundos", "2 minutos"],
    "it": ["un secondo", "1,5 secondi", "30 secondi", "un minuto", "un minuto e 30 secondi",
           "2 minuti e 30 secondi", "2 minuti"],
    "pt": ["um segundo", "1,5 segundo", "30 segundos", "um minuto", "um minuto e 30 segundos",
           "2 minutos e 30 segundos", "2 minutos"],
    "nl": ["één seconde", "1,5 seconden", "30 seconden", "één minuut", "één minuut en 30 seconden",
           "2 minuten en 30 seconden", "2 minuten"],
    "ja": ["1秒", "1.5秒", "30秒", "1分", "1分30秒", "2分30秒", "2分"],
}


@pytest.mark.parametrize("language", ALL)
def test_durations_are_said_as_the_language_says_them(language):
    said = [words_for(language).duration(seconds) for seconds in (1, 1.5, 30, 60, 90, 150, 120)]
    assert said == DURATIONS[language]


@pytest.mark.parametrize("language, seconds, said", [
    # plurals: the one form only for exactly 1 in en, de, nl, it, es; for 0 up to 2 in fr and pt
    ("en", 0, "0 seconds"), ("en", 0.5, "0.5 seconds"), ("en", 2, "2 seconds"),
    ("de", 0, "0 Sekunden"), ("de", 0.5, "0,5 Sekunden"), ("de", 61, "eine Minute eine Sekunde"),
    ("nl", 0.25, "0,25 seconden"), ("nl", 2, "2 seconden"),
    ("it", 0, "0 secondi"), ("es", 0.5, "0,5 segundos"),
    ("fr", 0, "0 seconde"), ("fr", 0.5, "0,5 seconde"), ("fr", 1.999, "1,999 seconde"), ("fr", 2, "2 secondes"),
    ("fr", 121, "2 minutes et une seconde"),
    ("pt", 0, "0 segundo"), ("pt", 1.5, "1,5 segundo"), ("pt", 2, "2 segundos"), ("pt", 150.5, "2 minutos e 30,5 segundos"),
    # Japanese has no plural forms
    ("ja", 0, "0秒"), ("ja", 2, "2秒"), ("ja", 3600, "60分"), ("ja", 61.5, "1分1.5秒"),
])
def test_plurals_and_one_forms(language, seconds, said):
    assert words_for(language).duration(seconds) == said


@pytest.mark.parametrize("language, forms", [
    ("en", ("one", "other", "other", "other")), ("de", ("one", "other", "other", "other")),
    ("nl", ("one", "other", "other", "other")), ("it", ("one", "other", "other", "other")),
    ("es", ("one", "other", "other", "other")), ("fr", ("one", "one", "one", "other")),
    ("pt", ("one", "one", "one", "other")), ("ja", ("other", "other", "other", "other")),
])
def test_plural_forms_follow_cldr(language, forms):
    assert tuple(words_for(language).plural_form(n) for n in (1, 0, 1.5, 2)) == forms


def test_numbers_are_digits_with_the_language_decimal_separator():
    assert [words_for("de").number(n) for n in (3, 1.5, 0.25, 2.0004, 10)] == ["3", "1,5", "0,25", "2", "10"]
    assert [words_for("ja").number(n) for n in (3, 1.5)] == ["3", "1.5"]
    assert words_for("en").number(-0.0001) == "0"


# --- English says what voiceguide said before ---

SECONDS = [0, 0.001, 0.25, 0.5, 0.9995, 1, 1.0004, 1.5, 2, 9.75, 30, 45.123, 59, 59.4, 59.9996, 60, 60.5,
           61, 90, 119, 120, 121, 150, 179.999, 600, 3599, 3600, 3661.5, 7200]


def test_english_durations_are_spoken_duration_exactly():
    english = words_for("en")
    for seconds in [*SECONDS, *(n / 8 for n in range(0, 1600)), *range(0, 4000, 7)]:
        assert english.duration(seconds) == spoken_duration(seconds), seconds


def test_english_sentences_are_what_voiceguide_said_before_it_had_other_languages():
    english = words_for("en")
    assert english.switch == "Now the {side} side."
    assert english.again == "{title}, round {round} of {rounds}."
    assert english.time_left == "{remaining} left."
    assert dict(english.breath) == {"inhale": "Breathe in", "hold": "Hold", "exhale": "Breathe out", "hold_out": "Hold"}
    assert english.cue_round == "round {round}"
    assert english.side("left") == "left" and english.side_title("Cheeks", "left") == "Cheeks (left)"
    assert english.chapter_title("Cheeks", "left", 2, 3) == "Cheeks (left, round 2 of 3)"
    assert english.chapter_title("Cheeks", None, 2, 3) == "Cheeks (round 2 of 3)"
    assert english.chapter_title("Cheeks") == "Cheeks"
    assert english.cue("Cheeks", "left", 2) == "Cheeks, left, round 2"
    assert english.cue("Cheeks", "right", 1) == "Cheeks, right" and english.cue("Cheeks") == "Cheeks"
    assert english.variant_note(300, cues=True) == "5 minutes, cues only"
    assert english.variant_note(90) == "1 minute 30 seconds" and english.variant_note(cues=True) == "cues only"
    assert dict(english.titles) == {"intro": "Introduction", "outro": "Closing", "pause": "Pause"}


# --- each language's sentences, filled in ---

SENTENCES = {  # switch (left), again (round 2 of 3), time left (30 s), time left (60 s), cue round 2
    "en": ("Now the left side.", "Cheeks, round 2 of 3.", "30 seconds left.", "1 minute left.", "round 2"),
    "de": ("Jetzt die linke Seite.", "Cheeks, Runde 2 von 3.", "Noch 30 Sekunden.", "Noch eine Minute.", "Runde 2"),
    "fr": ("Maintenant, le côté gauche.", "Cheeks, tour 2 sur 3.", "Il reste 30 secondes.",
           "Il reste une minute.", "tour 2"),
    "es": ("Ahora, el lado izquierdo.", "Cheeks, ronda 2 de 3.", "Solo 30 segundos más.",
           "Solo un minuto más.", "ronda 2"),
    "it": ("Ora il lato sinistro.", "Cheeks, giro 2 di 3.", "Ancora 30 secondi.", "Ancora un minuto.", "giro 2"),
    "pt": ("Agora, o lado esquerdo.", "Cheeks, rodada 2 de 3.", "Só mais 30 segundos.",
           "Só mais um minuto.", "rodada 2"),
    "nl": ("Nu de linkerkant.", "Cheeks, ronde 2 van 3.", "Nog 30 seconden.", "Nog één minuut.", "ronde 2"),
    "ja": ("次は左側です。", "Cheeks、3回中2回目です。", "残り30秒です。", "残り1分です。", "2回目"),
}


@pytest.mark.parametrize("language", ALL)
def test_the_sentences_filled_in(language):
    words = words_for(language)
    said = (fill(words.switch, {"side": words.side("left")}),
            fill(words.again, {"title": "Cheeks", "round": words.number(2), "rounds": words.number(3)}),
            fill(words.time_left, {"remaining": words.duration(30)}),
            fill(words.time_left, {"remaining": words.duration(60)}),
            fill(words.cue_round, {"round": "2"}))
    assert said == SENTENCES[language]


TITLES = {  # side title (left), side title (right), with a round, the cue, a version's note
    "en": ("Cheeks (left)", "Cheeks (right)", "Cheeks (right, round 2 of 3)", "Cheeks, left, round 2",
           "5 minutes, cues only"),
    "de": ("Wangen (links)", "Wangen (rechts)", "Wangen (rechts, Runde 2 von 3)", "Wangen, links, Runde 2",
           "5 Minuten, nur Stichworte"),
    "fr": ("Joues (côté gauche)", "Joues (côté droit)", "Joues (côté droit, tour 2 sur 3)",
           "Joues, côté gauche, tour 2", "5 minutes, annonces seules"),
    "es": ("Mejillas (lado izquierdo)", "Mejillas (lado derecho)", "Mejillas (lado derecho, ronda 2 de 3)",
           "Mejillas, lado izquierdo, ronda 2", "5 minutos, solo indicaciones"),
    "it": ("Guance (lato sinistro)", "Guance (lato destro)", "Guance (lato destro, giro 2 di 3)",
           "Guance, lato sinistro, giro 2", "5 minuti, solo indicazioni"),
    "pt": ("Bochechas (lado esquerdo)", "Bochechas (lado direito)", "Bochechas (lado direito, rodada 2 de 3)",
           "Bochechas, lado esquerdo, rodada 2", "5 minutos, só indicações"),
    "nl": ("Wangen (links)", "Wangen (rechts)", "Wangen (rechts, ronde 2 van 3)", "Wangen, links, ronde 2",
           "5 minuten, alleen aanwijzingen"),
    "ja": ("頬（左）", "頬（右）", "頬（右、3回中2回目）", "頬、左、2回目", "5分、合図のみ"),
}
CHEEKS = {"en": "Cheeks", "de": "Wangen", "fr": "Joues", "es": "Mejillas", "it": "Guance", "pt": "Bochechas",
          "nl": "Wangen", "ja": "頬"}


@pytest.mark.parametrize("language", ALL)
def test_chapter_titles_cues_and_version_notes(language):
    words, title = words_for(language), CHEEKS[language]
    assert (words.side_title(title, "left"), words.side_title(title, "right"),
            words.chapter_title(title, "right", 2, 3), words.cue(title, "left", 2),
            words.variant_note(300, cues=True)) == TITLES[language]


def test_sides_as_the_switch_says_them_and_as_titles_say_them():
    german = words_for("de")
    assert (german.side("left"), german.side("right")) == ("linke", "rechte")
    assert (german.title_side("left"), german.title_side("right")) == ("links", "rechts")
    assert german.side("top") == "top" and german.side_title("Stirn", "oben") == "Stirn (oben)"  # unknown: as is
    assert words_for("fr").side("right") == "droit" and words_for("nl").side("right") == "rechterkant"


def test_breath_words_and_titles():
    assert dict(words_for("de").breath) == {"inhale": "Einatmen", "hold": "Halten", "exhale": "Ausatmen",
                                            "hold_out": "Halten"}
    assert dict(words_for("ja").breath) == {"inhale": "吸って", "hold": "止めて", "exhale": "吐いて", "hold_out": "止めて"}
    assert words_for("fr").breath["inhale"] == "Inspirez" and words_for("it").breath["exhale"] == "Espira"
    assert dict(words_for("de").titles) == {"intro": "Einleitung", "outro": "Abschluss", "pause": "Pause"}


def test_routine_counts_on_the_page():
    assert [words_for("en").routine_count(n) for n in (0, 1, 2)] == ["0 routines", "1 routine", "2 routines"]
    assert [words_for("de").routine_count(n) for n in (0, 1, 2)] == ["0 Routinen", "1 Routine", "2 Routinen"]
    assert [words_for("fr").routine_count(n) for n in (0, 1, 2)] == ["0 routine", "1 routine", "2 routines"]
    assert [words_for("ja").routine_count(n) for n in (1, 2)] == ["1件のルーティン", "2件のルーティン"]
    assert words_for("de").page_text("play", title="Kiefer") == "Kiefer abspielen"


@pytest.mark.parametrize("language, name, native, iso, espeak", [
    ("en", "English", "English", "eng", "en-us"), ("de", "German", "Deutsch", "deu", "de"),
    ("fr", "French", "Français", "fra", "fr-fr"), ("es", "Spanish", "Español", "spa", "es"),
    ("it", "Italian", "Italiano", "ita", "it"), ("pt", "Portuguese", "Português", "por", "pt-br"),
    ("nl", "Dutch", "Nederlands", "nld", "nl"), ("ja", "Japanese", "日本語", "jpn", "ja"),
])
def test_names_and_codes(language, name, native, iso, espeak):
    words = words_for(language)
    assert (words.language, words.name, words.native, words.iso639_2, words.espeak) == (
        language, name, native, iso, espeak)


# --- every file like the English one ---


def raw(language: str) -> dict:
    text = files("voiceguide.script").joinpath("words", f"{language}.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def leaves(data: dict, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    found = {}
    for key, value in data.items():
        if isinstance(value, dict):
            found.update(leaves(value, (*prefix, key)))
        else:
            found[(*prefix, key)] = value
    return found


def names(text: str) -> list[str]:
    return sorted(re.findall(r"\{([^{}]*)\}", text.replace("{{", "").replace("}}", "")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_file_has_every_key_and_the_same_names_as_english(language):
    english, other = leaves(raw("en")), leaves(raw(language))
    assert set(other) == set(english), (set(english) - set(other), set(other) - set(english))
    for key, text in other.items():
        assert isinstance(text, str), key
        assert names(text) == names(english[key]), (key, text)
    assert other[("plural",)] in words_module.PLURAL_RULES
    assert set(raw(language)["breath"]) == {"inhale", "hold", "exhale", "hold_out"}
    assert set(raw(language)["sides"]) == set(raw(language)["title_sides"]) == {"left", "right"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_file_explains_its_entries_in_a_header(language):
    text = files("voiceguide.script").joinpath("words", f"{language}.yaml").read_text(encoding="utf-8")
    header = text.split("\nname:")[0]
    assert "keep every one" in header
    for key in raw("en"):
        assert re.search(rf"^#\s+{key}\b|^#\s+\S+, {key}\b|^#\s+{key},", header, re.M), key


def test_the_english_page_words_are_the_strings_the_page_showed():
    assert dict(words_for("en").page) == {
        "routines_one": "{count} routine", "routines_other": "{count} routines", "no_routines": "No routines yet.",
        "routines": "Routines", "safety": "Safety", "play": "Play {title}", "version": "Version", "full": "Full",
        "resume": "Resume", "not_now": "Not now", "resume_at": "Resume “{title}” at {time}?",
        "now_playing": "Now playing", "previous_step": "Previous step", "next_step": "Next step",
        "steps": "Steps", "about": "About this routine",
        "audio_error": "This routine's audio could not be played.", "captions": "Captions",
        "languages": "Languages"}


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_page_word_is_translated(language):
    """No page text left in English (but for words the languages share: "Version", "Routines")."""
    same = {key for key, text in words_for(language).page.items() if text == words_for("en").page[key]}
    assert same <= {"version", "routines", "routines_one", "routines_other"}, same


# --- languages by code or tag ---


def test_a_language_by_its_tag_falls_back_to_its_base():
    assert words_for("de-DE").language == words_for("de_DE").language == words_for("DE").language == "de"
    assert words_for("pt-BR").language == "pt" and words_for("pt_PT").espeak == "pt-br"
    assert words_for("de") is words_for("de-AT")  # cached
    assert isinstance(words_for("ja"), Words)


@pytest.mark.parametrize("language, hint", [
    ("german", "; did you mean 'de'?"), ("deu", "; did you mean 'de'?"), ("sv", ""), ("frr", "; did you mean 'fr'?"),
    ("Japanse", "; did you mean 'ja'?"),
])
def test_an_unknown_language_names_the_known_ones(language, hint):
    with pytest.raises(UsageError) as error:
        words_for(language)
    assert str(error.value) == (
        f"no words for the language '{language}'; the languages are: en (English), de (German), es (Spanish), "
        f"fr (French), it (Italian), ja (Japanese), nl (Dutch), pt (Portuguese){hint}")


# --- a library's overrides ---


def test_overrides_replace_entries_and_merge_mappings_key_by_key():
    german = words_for("de", {"switch": "Und nun die {side} Seite.", "breath": {"inhale": "Atme ein"},
                              "sides": {"left": "andere"}, "page": {"resume": "Weiter"},
                              "minute": {"exactly_1": "1 Minute"}})
    assert german.switch == "Und nun die {side} Seite."
    assert dict(german.breath) == {"inhale": "Atme ein", "hold": "Halten", "exhale": "Ausatmen", "hold_out": "Halten"}
    assert (german.side("left"), german.side("right")) == ("andere", "rechte")
    assert german.page["resume"] == "Weiter" and german.page["not_now"] == "Jetzt nicht"
    assert german.duration(90) == "1 Minute 30 Sekunden"
    assert words_for("de").switch == "Jetzt die {side} Seite."  # the cached words are as they were
    assert words_for("de", {}) is words_for("de") and words_for("de", None) is words_for("de")
    assert words_for("de", {"decimal": "."}).duration(1.5) == "1.5 Sekunden"
    assert words_for("en", {"plural": "never"}).duration(1.5) == "1.5 seconds"


@pytest.mark.parametrize("overrides, key, message", [
    ({"swich": "Jetzt {side}."}, ("de", "swich"), "unknown entry; the entries here are name, native, "),
    ({"swich": "Jetzt {side}."}, ("de", "swich"), "; did you mean 'switch'?"),
    ({"breath": {"inhal": "Ein"}}, ("de", "breath", "inhal"),
     "unknown entry; the entries here are inhale, hold, exhale, hold_out; did you mean 'inhale'?"),
    ({"switch": "Andere Seite."}, ("de", "switch"),
     "drops {side}: the text must keep exactly the names of the English one ({side}), got 'Andere Seite.'"),
    ({"again": "{title}, Runde {round} von {rounds}, {side}."}, ("de", "again"), "adds {side}: "),
    ({"again": "{title}, Runde {runde}."}, ("de", "again"), "drops {round} and drops {rounds} and adds {runde}: "),
    ({"time_left": "Noch etwas."}, ("de", "time_left"), "drops {remaining}"),
    ({"page": {"play": "Abspielen"}}, ("de", "page", "play"), "drops {title}"),
    ({"breath": "Einatmen"}, ("de", "breath"), "must be a mapping of inhale, hold, exhale, hold_out, got str"),
    ({"switch": {"left": "links"}}, ("de", "switch"), "must be text, got a mapping"),
    ({"switch": 3}, ("de", "switch"), "must be text, got int 3"),
    ({"plural": "one"}, ("de", "plural"), "must be one of exactly_1, below_2, never, got 'one'"),
    ({"decimal": ", "}, ("de", "decimal"), "must be one character"),
])
def test_override_mistakes_name_their_key(overrides, key, message):
    with pytest.raises(ValueError) as error:
        words_for("de", overrides)
    assert isinstance(error.value, WordsError) and error.value.key == key
    assert str(error.value).startswith(f"words.{'.'.join(key)}: ")
    assert message in str(error.value)


def test_overrides_may_reorder_names_and_write_braces():
    german = words_for("de", {"again": "Runde {round} von {rounds}: {title}.", "switch": "{{ {side} }}"})
    assert fill(german.again, {"title": "Kiefer", "round": "2", "rounds": "3"}) == "Runde 2 von 3: Kiefer."
    assert german.switch == "{{ {side} }}"


def test_an_override_mistake_names_the_language_as_the_library_wrote_it():
    with pytest.raises(WordsError) as error:
        words_for("de-DE", {"page": {"resum": "Weiter"}})
    assert error.value.key == ("de-DE", "page", "resum")
    assert str(error.value).startswith("words.de-DE.page.resum: unknown entry; the entries here are routines_one, ")
    assert str(error.value).endswith("; did you mean 'resume'?")


@pytest.mark.parametrize("change, message", [
    (lambda text: text.replace('switch: "Jetzt die {side} Seite."', 'switch: "Jetzt die {seite} Seite."'),
     "words.xx.switch: drops {side} and adds {seite}: "),
    (lambda text: text.replace('  hold_out: "Halten"\n', ""), "words.xx.breath: missing hold_out"),
    (lambda text: text.replace('plural: "exactly_1"', 'plural: "one"'), "words.xx.plural: must be one of "),
    (lambda text: text.replace('cue_join: ", "', "cue_join: 3"), "words.xx.cue_join: must be text, got int 3"),
])
def test_a_mistake_in_a_words_file_is_found_when_it_is_read(tmp_path, monkeypatch, change, message):
    """A translator's mistake in a new file (here ``xx.yaml``, German with one mistake)."""
    folder = files("voiceguide.script").joinpath("words")
    (tmp_path / "en.yaml").write_text(folder.joinpath("en.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "xx.yaml").write_text(change(folder.joinpath("de.yaml").read_text(encoding="utf-8")),
                                      encoding="utf-8")
    monkeypatch.setattr(words_module, "_folder", lambda: tmp_path)
    try:
        with pytest.raises(WordsError) as error:
            words_module._data("xx")
        assert str(error.value).startswith(message)
    finally:
        words_module._data.cache_clear()
