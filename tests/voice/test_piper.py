"""The Piper engine: voice discovery, messages, rate and pauses, its worker process, and `auto`'s
choice."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from voiceguide.core.audio import RATE
from voiceguide.core.errors import EngineError, UsageError
from voiceguide.script.model import Voice
from voiceguide.voice import engines

pytestmark = pytest.mark.piper


@pytest.fixture
def piper():
    return engines.get_engine("piper")


@pytest.fixture
def voices_dir(tmp_path, monkeypatch):
    """A voices folder holding the test voice under another name."""
    packaged = engines.packaged_voice_models()[0]
    folder = tmp_path / "voices"
    folder.mkdir()
    for suffix in ("", ".json"):
        (folder / f"en_US-calm-medium.onnx{suffix}").symlink_to(f"{packaged}{suffix}")
    monkeypatch.setenv(engines.VOICES_ENV, str(folder))
    return folder


def test_the_test_voice_package_is_found_with_language_and_quality(piper):
    joe = next(v for v in piper.voices() if v.id == "en_US-joe-medium")
    assert joe.languages == ("en_US",) and joe.quality == "medium" and joe.path.is_file()


def test_a_voice_is_found_by_name_in_the_voices_folder_or_by_path(piper, voices_dir):
    assert piper.resolve_voice("en_US-calm-medium") == "en_US-calm-medium"
    path = voices_dir / "en_US-calm-medium.onnx"
    assert piper.resolve_voice(str(path)) == str(path.resolve())


def test_a_missing_voice_says_where_it_looked_and_how_to_add_one(piper, voices_dir):
    with pytest.raises(UsageError) as exc:
        piper.resolve_voice("en_US-amy-low")
    assert str(exc.value).startswith(f"unknown voice 'en_US-amy-low' for engine piper; looked in {voices_dir}, ")
    assert str(exc.value).endswith("and installed voice packages (see: voiceguide voices --engine piper)")
    with pytest.raises(UsageError, match=r"no Piper voice at .*nowhere.onnx \(a voice is NAME.onnx with "
                                         r"NAME.onnx.json beside it\)"):
        piper.resolve_voice("nowhere.onnx")


def test_rate_maps_to_the_length_scale_and_sentences_get_real_pauses(piper):
    text = "Rest your hands. Breathe slowly."
    slow = engines.speak(piper, text, Voice(engine="piper", rate=110))
    fast = engines.speak(piper, text, Voice(engine="piper", rate=190))
    assert len(slow) > 1.4 * len(fast)
    quiet = np.abs(slow[:, 0]) < 10 ** (-50 / 20)
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, quiet.astype(np.int8), 0])))[::2]
    assert runs.max() / RATE >= 0.3  # the pause between the two sentences


def test_piper_speaks_in_a_worker_and_never_loads_in_this_process():
    code = ("import sys; from voiceguide.voice import engines; from voiceguide.script.model import Voice; "
            "clip = engines.speak(engines.get_engine('piper'), 'Rest your hands.', Voice(engine='piper')); "
            "print(len(clip) > 0, sorted({m.split('.')[0] for m in sys.modules} & {'piper', 'onnxruntime'}))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (run.returncode, run.stdout, run.stderr) == (0, "True []\n", "")  # and its worker closed quietly


def test_a_voice_model_that_cannot_load_is_reported(piper, tmp_path):
    model = tmp_path / "broken.onnx"
    model.write_bytes(b"not a model")
    model.with_name("broken.onnx.json").write_bytes(
        engines.packaged_voice_models()[0].with_suffix(".onnx.json").read_bytes())
    with pytest.raises(EngineError, match=r"^piper could not speak 'Hello there.' \(3 attempts\): EngineError: "
                                          r"piper could not load .*broken.onnx: "):
        engines.speak(piper, "Hello there.", Voice(engine="piper", voice=str(model)))


def test_auto_prefers_an_installed_piper_voice_and_falls_back_to_pyttsx3(monkeypatch):
    assert engines.resolve_engine("auto") == "piper"
    assert engines.resolve_engine("auto", "gmw/en-us") == "pyttsx3"  # not a Piper voice
    monkeypatch.setattr(engines.PiperEngine, "available", staticmethod(lambda: False))
    assert engines.resolve_engine("auto") == "pyttsx3"
