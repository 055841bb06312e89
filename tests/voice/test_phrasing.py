"""How a phrase is said: respellings, sentences joined by exact pauses, the rate asked is the rate
heard, and phrases spoken on several workers at once (the fake engine; real engines marked)."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide import render as lib
from voiceguide.core.audio import RATE
from voiceguide.script.load import load_routine
from voiceguide.script.model import Voice
from voiceguide.voice import engines, phrasing
from voiceguide.voice.cache import NarrationCache

LONG = ("Place your fingertips in the hollows just above your collarbones. With the lightest touch, "
        "press softly down toward the collarbone and release, one slow press with each tick.")


def test_respell_matches_whole_words_in_any_case_and_keeps_a_capital():
    table = {"gua sha": "gwah shah", "tick": "tik"}
    assert phrasing.respell("Gua sha, then the tick; ticks and tickle stay.", table) == \
        "Gwah shah, then the tik; ticks and tickle stay."
    assert phrasing.respell("Relax the masseter.", ()) == "Relax the muh seeter."  # the built-in table
    assert phrasing.respell("Relax the masseter.", {"masseter": "MASS eh ter"}) == "Relax the MASS eh ter."


def test_pieces_are_sentences_apart_and_clauses_only_when_asked():
    voice = Voice(sentence_pause=0.7)
    assert phrasing.pieces("Breathe in. Hold it, gently! And out?", voice) == [
        ("Breathe in.", 0.7), ("Hold it, gently!", 0.7), ("And out?", 0.0)]
    commas = Voice(sentence_pause=0.8, comma_pause=0.4)
    assert phrasing.pieces("Breathe in, slowly; hold. Out.", commas) == [
        ("Breathe in,", 0.4), ("slowly;", 0.4), ("hold.", 0.8), ("Out.", 0.0)]
    assert phrasing.pieces("One phrase", voice) == [("One phrase", 0.0)]


def test_word_count_counts_what_a_listener_hears():
    assert phrasing.word_count("Breathe 4-7-8, don't rush: in... and out.") == 7


def _silences(clip: np.ndarray, threshold: float = 1e-4) -> list[int]:
    """Lengths (samples) of the runs of near-silence inside ``clip``, longer than 50 ms."""
    quiet = np.abs(clip[:, 0]) < threshold
    runs, count = [], 0
    for q in quiet:
        if q:
            count += 1
        else:
            if count > RATE // 20:
                runs.append(count)
            count = 0
    return runs


@pytest.mark.parametrize("pause", [0.7, 1.5])
def test_sentences_are_joined_by_the_exact_pause(pause):
    voice = Voice(engine="fake", sentence_pause=pause)
    clip = engines.speak(engines.get_engine("fake"), "Breathe in slowly. And out.", voice)
    gaps = [run for run in _silences(clip) if run > 0.5 * RATE]
    # the pause, plus at most the 10 ms of quiet margin each trimmed sentence keeps on each side
    assert len(gaps) == 1 and round(pause * RATE) <= gaps[0] <= round(pause * RATE) + int(0.021 * RATE)


@pytest.mark.parametrize("rate", [110, 145, 190])
def test_the_rate_asked_is_the_rate_heard(rate):
    voice = Voice(engine="fake", rate=rate)
    clip = engines.speak(engines.get_engine("fake"), LONG, voice)
    heard = phrasing.word_count(LONG) * 60 / (len(clip) / RATE)
    assert abs(heard / rate - 1) <= engines.RATE_TOLERANCE + 0.005


class Lagging(engines.FakeEngine):
    """A voice that speaks 30 % slower than asked, and answers to a rate at only 0.6 power (as Piper's
    length scale does): speak must still reach the rate, in a few tries."""

    name = "fake"
    asked: list[float] = []

    def synthesize(self, text, voice):
        self.asked.append(voice.rate)
        heard = 150.0 * (voice.rate / 150.0) ** 0.6 / 1.3
        return super().synthesize(text, Voice(engine="fake", rate=heard))


def test_a_voice_slower_than_asked_is_brought_to_the_rate():
    Lagging.asked = []
    clip = engines.speak(Lagging(), LONG, Voice(engine="fake", rate=150))
    heard = phrasing.word_count(LONG) * 60 / (len(clip) / RATE)
    assert abs(heard / 150 - 1) <= engines.RATE_TOLERANCE + 0.005
    tries = len(Lagging.asked) // 2  # two sentences a try
    assert 2 <= tries <= engines.RATE_TRIES


def test_short_phrases_are_spoken_once():
    Lagging.asked = []
    engines.speak(Lagging(), "Halfway.", Voice(engine="fake"))
    assert len(Lagging.asked) == 1


def test_pronounce_merges_the_library_defaults_with_the_routine(tmp_path):
    (tmp_path / "_defaults.yaml").write_text("voice: {pronounce: {gua sha: gwah shah, tick: tik}}\n")
    (tmp_path / "r.yaml").write_text(
        "title: T\ndescription: D\nvoice: {engine: fake, pronounce: {Tick: tihk, jade: jayd}}\n"
        "steps:\n  - title: A\n    say: Hello.\n    duration: 5s\n")
    voice = load_routine(tmp_path / "r.yaml").voice
    assert dict(voice.pronounce) == {"gua sha": "gwah shah", "tick": "tihk", "jade": "jayd"}


def test_parallel_narration_gives_the_same_clips_as_one_worker(tmp_path, write_routine):
    path = write_routine("""\
        title: T
        description: D
        voice: {engine: fake}
        intro: Sit comfortably. Let your shoulders drop and your breath slow down.
        steps:
          - title: A
            say: Stroke gently outward from the centre of your forehead, one stroke each tick.
            duration: 20s
            strokes: 5
          - title: B
            say: Now circle the jaw muscles slowly. Keep the teeth apart.
            duration: 20s
            strokes: 5
        """)
    routine = lib.load(path)
    one = lib.narrate(routine, NarrationCache(tmp_path / "one"), workers=1)
    many = lib.narrate(routine, NarrationCache(tmp_path / "many"), workers=3)
    assert list(one) == list(many) == routine.texts()
    for text in one:
        assert np.array_equal(one[text].samples(), many[text].samples())
    assert len(engines.engine_pool("fake", 3)) == 3


def test_auto_falls_back_to_pyttsx3_with_a_note(monkeypatch, write_routine):
    monkeypatch.setattr(engines.PiperEngine, "available", staticmethod(lambda: False))
    monkeypatch.setattr(engines.Pyttsx3Engine, "resolve_voice", lambda self, wanted, language="en": wanted)
    path = write_routine("title: T\ndescription: D\nsteps:\n  - title: A\n    say: Hello.\n    duration: 5s\n")
    notes = []
    assert lib.load(path, note=notes.append).voice.engine == "pyttsx3"
    assert notes == ["speaking with pyttsx3 (system voices), since no Piper voice can be used: "
                     "piper-tts or onnxruntime is not installed"]


@pytest.mark.piper
@pytest.mark.parametrize("rate", [130, 160])
def test_piper_speaks_at_the_rate_asked(rate):
    voice = Voice(engine="piper", rate=rate)
    clip = engines.speak(engines.get_engine("piper"), LONG, voice)
    heard = phrasing.word_count(LONG) * 60 / (len(clip) / RATE)
    assert abs(heard / rate - 1) <= 0.05


@pytest.mark.engine
@pytest.mark.parametrize("rate", [130, 160])
def test_pyttsx3_speaks_at_the_rate_asked(rate):
    engine = engines.get_engine("pyttsx3")
    clip = engines.speak(engine, LONG, Voice(engine="pyttsx3", voice=engine.default_voice(), rate=rate))
    heard = phrasing.word_count(LONG) * 60 / (len(clip) / RATE)
    assert abs(heard / rate - 1) <= 0.05


@pytest.mark.parametrize("change", [0.9, 0.97, 1.04, 1.12])
def test_stretch_keeps_the_pitch_and_the_level_and_makes_the_exact_length(change):
    from voiceguide.voice.stretch import stretch

    t = np.arange(2 * RATE) / RATE
    tone = (0.4 * np.sin(2 * np.pi * 220.0 * t) * np.minimum(1.0, 20 * t) * np.minimum(1.0, 20 * (2 - t)))
    out = stretch(tone.astype(np.float32)[:, None], round(len(t) * change))[:, 0]
    assert len(out) == round(len(t) * change)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out))))
    assert abs(np.argmax(spectrum) * RATE / len(out) - 220.0) < 2.0  # the same pitch
    middle = out[len(out) // 4: 3 * len(out) // 4]
    assert abs(np.sqrt(np.mean(middle ** 2)) / (0.4 / np.sqrt(2)) - 1) < 0.05  # no dips where grains meet
    assert np.max(np.abs(np.diff(out))) < 2 * 2 * np.pi * 220.0 / RATE * 0.4  # no clicks


def test_stretch_leaves_a_clip_of_the_right_length_alone():
    from voiceguide.voice.stretch import stretch

    clip = np.random.default_rng(3).standard_normal((5000, 1)).astype(np.float32)
    assert np.array_equal(stretch(clip, 5000), clip)
