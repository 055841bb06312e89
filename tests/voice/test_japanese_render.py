"""A short routine in English and Japanese rendered in Japanese: auto speaks it with Kokoro, and the
file says so (its voice tag, its language tag ``jpn``, its chapters' Japanese titles), with each
planned phrase audible where the plan put it."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import numpy as np
import pytest

from voiceguide import render as lib
from voiceguide.core.audio import RATE, ffmpeg_path
from voiceguide.export.tags import read_tags
from voiceguide.script.words import words_for

pytestmark = pytest.mark.kokoro

ROUTINE = """\
    languages: [en, ja]
    title: {en: Jaw release, ja: あごのリラックス}
    description:
      en: Slow circles over the jaw muscles. Not medical advice; stop if anything hurts.
      ja: あごの筋肉をゆっくり円を描くようにほぐします。医療的な助言ではありません。痛みがあれば中止してください。
    background: {bed: none}
    intro: {en: Sit comfortably and relax your shoulders., ja: 楽な姿勢で座り、肩の力を抜きましょう。}
    steps:
      - title: {en: Jaw circles, ja: あごの円}
        say: {en: Circle slowly over the jaw muscle., ja: あごの筋肉の上で、ゆっくりと円を描きます。}
        sides: [left, right]
        duration: 12s
        strokes: 4
    outro: {en: Let your hands rest., ja: 手を休めましょう。}
    """


OUTRO = words_for("ja").titles["outro"]


def decoded(path: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(RATE),
                          "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.int16).astype(np.float32) / 32768


def test_a_japanese_routine_is_spoken_by_kokoro_and_tagged_japanese(tmp_path: Path) -> None:
    path = tmp_path / "jaw.yaml"
    path.write_text(textwrap.dedent(ROUTINE), encoding="utf-8")
    routine = lib.load(path, language="ja")
    assert (routine.voice.engine, routine.voice.language) == ("kokoro", "ja")
    rendered = lib.render(routine, tmp_path / "out")
    assert rendered.path == tmp_path / "out" / "jaw.mp3"
    tags = read_tags(rendered.path)
    assert tags.language == "jpn" and tags.title == "あごのリラックス"
    assert tags.voice.startswith("kokoro jf_"), tags.voice
    assert [c.title for c in tags.chapters] == ["はじめに", "あごの円（左）", "あごの円（右）", OUTRO]
    switch = next(s for s in routine.steps if s.switch is not None).switch.say
    assert switch and not any(c.isascii() and c.isalpha() for c in switch), switch  # the switch cue in Japanese

    samples = decoded(rendered.path)
    for event in rendered.plan.speech():
        start, end = event.start, min(event.end, len(samples))
        window = samples[start:end]
        assert np.sqrt(np.mean(window ** 2)) > 10 ** (-40 / 20), event.text  # the phrase is heard there
