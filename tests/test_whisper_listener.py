"""Correctness, heard by an offline Whisper listener: every planned speech window of every starter
routine, rendered with the Piper voice, holds its own words, starting when the plan says.

The routines are rendered once a session (one narration cache for all five) and only the speech
windows are transcribed, so this runs in minutes. Times and words come from the plan the render
returns and from the decoded MP3 (``listening.decode_aligned``), never from this file.
pocketsphinx (``test_listener.py``) stays the stricter meter that ranks voices.
"""

from __future__ import annotations

import functools

import pytest

from listening import WHISPER_RATE, Hearing, decode_aligned, listen, whisper_model
from voiceguide import render as lib
from voiceguide.cache import NarrationCache

pytestmark = pytest.mark.piper

ENGINE, VOICE = "piper", "en_US-joe-medium"
"""Named, not the default: the default engine may change, this test listens to this voice."""
ROUTINES = [path.stem for path in lib.routine_files()]
MIN_RECALL = 0.9
"""Share of a window's planned words that must be heard in it, in order."""
MAX_OFFSET = 0.150
"""Seconds the first heard word may start from its planned time."""


@pytest.fixture(scope="session")
def hearing(tmp_path_factory):
    """``hearing(name)``: the routine rendered with the Piper voice and each speech window heard,
    once a session; every routine shares one narration cache."""
    cache = NarrationCache(tmp_path_factory.mktemp("whisper-cache"))
    out = tmp_path_factory.mktemp("whisper-out")
    model = whisper_model()

    @functools.cache
    def heard(name: str) -> list[Hearing]:
        result = lib.render(lib.load(name, engine=ENGINE, voice=VOICE), out, cache=cache)
        return listen(model, decode_aligned(result.path, rate=WHISPER_RATE), result.plan.speech())

    return heard


def test_the_starter_library_is_listened_to():
    assert {"lymphatic", "circulation", "tension", "morning", "evening"} <= set(ROUTINES)


@pytest.mark.parametrize("name", ROUTINES)
def test_every_speech_window_holds_its_own_words_on_time(hearing, name):
    heard = hearing(name)
    assert heard, f"{name} plans no speech"
    worst = min(heard, key=lambda h: h.recall)
    latest = max(heard, key=lambda h: abs(h.offset) if h.offset is not None else float("inf"))
    print(f"\n{name}: {len(heard)} windows, worst recall {worst.recall:.2f} (at {worst.planned:.1f} s), "
          f"worst first-word offset {latest.offset * 1000 if latest.offset is not None else float('nan'):+.0f} ms "
          f"(at {latest.planned:.1f} s)")
    problems = [p for h in heard if (p := h.problem(MIN_RECALL, MAX_OFFSET))]
    assert not problems, f"{name}:\n" + "\n".join(problems)
