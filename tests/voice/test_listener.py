"""Intelligibility, measured by an offline listener: render a routine, transcribe each planned
speech window with pocketsphinx (its bundled US English model), and score the words.

Windows are cut at the planned times, so speech that is misplaced, missing or garbled scores low.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from locations import TESTS

from voiceguide import render as lib
from voiceguide.core.audio import RATE, ffmpeg_path
from voiceguide.voice.cache import NarrationCache

ROUTINE = TESTS / "data" / "listen.yaml"
LISTEN_RATE = 16_000


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def word_errors(reference: list[str], heard: list[str]) -> int:
    """Substitutions, deletions and insertions: the edit distance between word lists."""
    row = list(range(len(heard) + 1))
    for i, ref in enumerate(reference, 1):
        diagonal, row[0] = row[0], i
        for j, word in enumerate(heard, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (ref != word))
    return row[-1]


def transcribe_speech_windows(engine: str, tmp_path) -> list[tuple[str, str]]:
    """(planned text, what the listener heard in its planned window) for every speech event."""
    from pocketsphinx import Decoder

    result = lib.render(lib.load(ROUTINE, engine=engine), tmp_path, cache=NarrationCache(tmp_path / "cache"))
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(result.path), "-f", "s16le", "-ac", "1",
                          "-ar", str(LISTEN_RATE), "-"], capture_output=True, check=True).stdout
    pcm = np.frombuffer(raw, "<i2")
    decoder = Decoder(samprate=LISTEN_RATE)
    heard = []
    for event in result.plan.speech():
        a = max(0, int((event.start / RATE - 0.25) * LISTEN_RATE))
        b = int((event.end / RATE + 0.25) * LISTEN_RATE)
        decoder.start_utt()
        decoder.process_raw(pcm[a:b].tobytes(), full_utt=True)
        decoder.end_utt()
        heard.append((event.text, decoder.hyp().hypstr if decoder.hyp() else ""))
    return heard


def accuracy(heard: list[tuple[str, str]]) -> float:
    total = sum(len(words(text)) for text, _ in heard)
    return 1.0 - sum(word_errors(words(text), words(h)) for text, h in heard) / total


@pytest.mark.piper
def test_piper_narration_is_intelligible_and_each_step_is_heard_in_its_own_time(tmp_path):
    heard = transcribe_speech_windows("piper", tmp_path)
    for text, got in heard:
        found = set(words(text)) & set(words(got))
        if len(words(text)) >= 5:  # a lone cue is too short for pocketsphinx to be sure of
            assert len(found) >= 0.3 * len(set(words(text))), (text, got)
    score = accuracy(heard)
    print(f"\npiper word accuracy: {score:.2f}")
    assert score >= 0.55


@pytest.mark.engine
def test_pyttsx3_word_accuracy_for_comparison(tmp_path):
    score = accuracy(transcribe_speech_windows("pyttsx3", tmp_path))
    print(f"\npyttsx3 word accuracy: {score:.2f}")
    assert score > 0.3  # espeak-ng is robotic but must still be understood
