"""A child process that speaks with Piper, one voice model per process, loaded once.

Why a process: the parent bounds a hang with a timeout (it kills the worker and starts another), a
crash ends only the worker, and Piper's own espeak stays out of the main process: pyttsx3 speaks in
a worker of its own (``pyttsx3_worker``), so Piper's espeak and espeak-ng never share a process
(the two in one process crashed: a segfault).

Protocol (JSON lines): the first line on stdin is ``{"model": path}``; the worker answers
``{"ready": true}`` once the model is loaded (or ``{"error": ...}`` and exits). Each further line is
``{"text", "length_scale", "volume", "pause", "path"}``: the speech, its sentences ``pause`` seconds
apart, is saved to ``path`` as a float32 ``.npy`` at the voice's own sample rate and answered
``{"done": true, "rate": samples_per_second}``; failures are answered ``{"error": ...}``. It exits
at the end of stdin, at once, and ignores Ctrl-C (see ``pyttsx3_worker``). Imports stay light: numpy
and piper.
"""

from __future__ import annotations

import numpy as np

from voiceguide.processes import ignore_interrupts
from voiceguide.pyttsx3_worker import answers, requests


def speak(voice, request: dict) -> np.ndarray:
    """The speech of one request, its sentences joined by silence, mono at the voice's sample rate."""
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=request["length_scale"], volume=request["volume"])
    pieces = []
    for chunk in voice.synthesize(request["text"], config):
        if pieces:
            pieces.append(np.zeros(int(round(request["pause"] * chunk.sample_rate)), np.float32))
        pieces.append(np.asarray(chunk.audio_float_array, dtype=np.float32))
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def main() -> None:
    ignore_interrupts()
    reply = answers()
    incoming = requests()
    settings = next(incoming)
    try:
        from piper import PiperVoice

        voice = PiperVoice.load(settings["model"])
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises EngineError
        reply(error=f"piper could not load {settings.get('model')}: {exc}")
        return
    reply(ready=True)
    for request in incoming:
        try:
            np.save(request["path"], speak(voice, request))
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            reply(error=f"piper failed: {type(exc).__name__}: {exc}")
            continue
        reply(done=True, rate=voice.config.sample_rate)


if __name__ == "__main__":
    main()
