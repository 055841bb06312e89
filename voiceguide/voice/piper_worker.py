"""A child process that speaks with Piper, one voice model per process, loaded once.

Why a process: the parent bounds a hang with a timeout (it kills the worker and starts another), a
crash ends only the worker, and Piper's own espeak stays out of the main process: pyttsx3 speaks in
a worker of its own (``pyttsx3_worker``), so Piper's espeak and espeak-ng never share a process
(the two in one process crashed: a segfault).

Protocol (JSON lines): the first line on stdin is ``{"model": path, "threads": n}`` (``n`` CPU
threads for the model, 0 for onnxruntime's own choice); the worker answers ``{"ready": true}`` once
the model is loaded (or ``{"error": ...}`` and exits). Each further line is
``{"texts", "length_scale", "volume", "path"}``: each text is spoken on its own and the speech
saved to ``path`` as a ``.npz`` of float32 arrays (``arr_0``, ``arr_1``, ... in the order of the
texts) at the voice's own sample rate, answered ``{"done": true, "rate": samples_per_second}``;
failures are answered ``{"error": ...}``. It exits at the end of stdin, at once, and ignores Ctrl-C
(see ``pyttsx3_worker``). Imports stay light: numpy
and piper.
"""

from __future__ import annotations

import json

import numpy as np

from voiceguide.voice.child import serve


def speak(voice, text: str, config) -> np.ndarray:
    """The speech of one text, mono at the voice's sample rate (Piper's chunks, one a sentence,
    joined as they come: the parent sends one sentence a text and sets the pauses itself)."""
    pieces = [np.asarray(chunk.audio_float_array, dtype=np.float32) for chunk in voice.synthesize(text, config)]
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def load(model: str, threads: int):
    """The Piper voice at ``model``, its onnxruntime session limited to ``threads`` (0: no limit)."""
    import onnxruntime
    from piper import PiperConfig, PiperVoice

    with open(f"{model}.json", encoding="utf-8") as f:
        config = PiperConfig.from_dict(json.load(f))
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    return PiperVoice(session=session, config=config)


def answer(voice, request: dict) -> dict:
    """Speak a request's texts into its ``path``; the answer's fields."""
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=request["length_scale"], volume=request["volume"])
    np.savez(request["path"], *(speak(voice, text, config) for text in request["texts"]))
    return {"rate": voice.config.sample_rate}


def main() -> None:
    serve(lambda settings: load(settings["model"], int(settings.get("threads") or 0)), answer,
          lambda settings: f"piper could not load {settings.get('model')}", "piper")


if __name__ == "__main__":
    main()
