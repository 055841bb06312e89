"""Engines: the registry, the fake engine, and the checks every clip passes (real pyttsx3 marked)."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.core.audio import RATE
from voiceguide.core.errors import EngineError, UsageError
from voiceguide.script.model import Voice
from voiceguide.voice import engines


def test_unknown_engine_lists_the_valid_names():
    with pytest.raises(UsageError, match=r"unknown engine 'espeak'; choose one of: auto, pyttsx3, piper, kokoro, fake"):
        engines.get_engine("espeak")


def test_fake_engine_is_deterministic_and_timed_like_speech():
    fake = engines.get_engine("fake")
    text = "Stroke gently outward toward the ears, ten times."
    a = engines.speak(fake, text, Voice(engine="fake", rate=150))
    b = engines.speak(fake, text, Voice(engine="fake", rate=150))
    assert np.array_equal(a, b) and a.dtype == np.float32 and a.shape[1] == 1
    seconds = len(a) / RATE
    assert 0.6 * 8 * 60 / 150 < seconds < 1.4 * 8 * 60 / 150
    slower = engines.speak(fake, text, Voice(engine="fake", rate=100))
    assert len(slower) > len(a) * 1.3


def test_unknown_voice_names_the_engine_and_suggests():
    with pytest.raises(UsageError, match=r"unknown voice 'hihg' for engine fake; did you mean 'high'\?"):
        engines.get_engine("fake").resolve_voice("hihg")


def test_trim_silence_cuts_engine_padding_but_keeps_a_margin():
    clip = np.zeros((RATE, 1), np.float32)
    clip[RATE // 4: RATE // 2] = 0.5
    trimmed = engines.trim_silence(clip)
    assert abs(len(trimmed) - (RATE // 4 + 2 * int(RATE * 0.01))) <= 2



def _noise(n: int, db: float, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, 1)) * engines.audio.db_to_gain(db)).astype(np.float32)


def test_trim_silence_cuts_a_lead_of_engine_noise_that_would_make_the_cue_late():
    """Piper now and then opens a phrase with half a second of noise ~50 dB under its vowels."""
    lead, word = _noise(RATE // 2, -60.0), _noise(RATE // 2, -8.0, seed=2)
    trimmed = engines.trim_silence(np.concatenate([lead, np.zeros((RATE // 10, 1), np.float32), word]))
    assert abs(len(trimmed) - RATE // 2) <= int(RATE * 0.03)


def test_trim_silence_keeps_a_faint_first_consonant():
    """An "f" 40 dB under the vowel that follows it is speech."""
    consonant, vowel = _noise(RATE // 10, -50.0), _noise(RATE // 2, -10.0, seed=2)
    trimmed = engines.trim_silence(np.concatenate([np.zeros((RATE // 4, 1), np.float32), consonant, vowel]))
    assert len(trimmed) >= RATE // 10 + RATE // 2

class Flaky(engines.Engine):
    """Fails in the ways pyttsx3 has been seen to: no file, then an empty one, then works."""

    name = "flaky"

    def __init__(self, failures):
        self.failures = list(failures)

    def version(self):
        return "1"

    def voices(self):
        return []

    def synthesize(self, text, voice):
        if self.failures:
            failure = self.failures.pop(0)
            if failure == "missing":
                raise EngineError("pyttsx3 wrote no audio file within 5 s")
            return np.zeros((0, 1), np.float32)
        return engines.FakeEngine().synthesize(text, voice)


def test_a_failed_synthesis_is_retried():
    clip = engines.speak(Flaky(["missing", "empty"]), "Hello there.", Voice(engine="fake"))
    assert len(clip) > 0


def test_a_synthesis_that_keeps_failing_is_reported_never_dropped():
    with pytest.raises(EngineError, match=r"flaky could not speak 'Hello there.' \(3 attempts\): "
                                          r"the engine produced no audio"):
        engines.speak(Flaky(["empty"] * 3), "Hello there.", Voice(engine="fake"))


def test_a_clip_far_too_short_for_its_words_is_rejected():
    assert "far too short" in engines.implausible(np.ones((100, 1), np.float32), "one two three four", 150)


@pytest.mark.engine
def test_pyttsx3_speaks_english_quietly(capfd):
    engine = engines.get_engine("pyttsx3")
    clip = engines.speak(engine, "Breathe in slowly, and out.", Voice())
    assert 0.8 < len(clip) / RATE < 4.0
    assert np.abs(clip).max() > 0.05
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # pyttsx3's "Audio saved to ..." never reaches the user


@pytest.mark.engine
def test_pyttsx3_rate_changes_the_pace_and_voices_resolve():
    engine = engines.get_engine("pyttsx3")
    text = "Place your fingertips just above your collarbones."
    fast = engines.speak(engine, text, Voice(rate=220))
    slow = engines.speak(engine, text, Voice(rate=120))
    assert len(slow) > 1.4 * len(fast)
    assert engine.resolve_voice("en-us") == "gmw/en-us"
    assert any(v.id == "gmw/en-us" for v in engine.voices())


class _ShortFileWorker:
    """A pyttsx3 worker that writes ``seconds`` of audio and reports espeak-ng's last word at ``last_ms``."""

    def __init__(self, seconds: float, words: int, last_ms: int):
        self.seconds, self.words, self.last_ms = seconds, words, last_ms

    def ask(self, request: dict, timeout: float) -> dict:
        import wave

        with wave.open(request["path"], "wb") as f:
            f.setnchannels(1), f.setsampwidth(2), f.setframerate(22050)
            f.writeframes((np.sin(np.arange(int(22050 * self.seconds)) / 5) * 9000).astype("<i2").tobytes())
        return {"done": True, "words": self.words, "last_word_ms": self.last_ms}


@pytest.mark.parametrize(("seconds", "words", "last_ms", "problem"), [
    (1.0, 4, 1600, "the audio ends at 1.00 s, before the last word (1.60 s)"),
    (1.0, 0, 0, "espeak-ng spoke no word of the text"),
    (2.0, 4, 1600, ""),
])
def test_a_pyttsx3_file_that_lost_its_end_or_its_words_is_refused(monkeypatch, seconds, words, last_ms, problem):
    engine = engines.Pyttsx3Engine()
    monkeypatch.setattr(engine, "_worker_for", lambda settings: _ShortFileWorker(seconds, words, last_ms))
    monkeypatch.setattr(engine, "resolve_voice", lambda wanted, language="en": "gmw/en-us")
    if problem:
        with pytest.raises(EngineError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            engine.synthesize("Breathe in slowly now.", Voice(engine="pyttsx3"))
    else:
        assert abs(len(engine.synthesize("Breathe in slowly now.", Voice(engine="pyttsx3"))) / RATE - 2.0) < 0.01


@pytest.mark.engine
def test_the_pyttsx3_worker_reports_the_words_espeak_spoke():
    engine = engines.get_engine("pyttsx3")
    worker = engine._worker_for({"voice": "gmw/en-us", "rate": 150, "volume": 1.0})
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        reply = worker.ask({"text": "Each time you hear the ticking sound, make one slow stroke.",
                            "path": str(Path(tmp) / "s.wav")}, 30)
    assert reply["words"] == 11 and 2500 < reply["last_word_ms"] < 5000, reply
