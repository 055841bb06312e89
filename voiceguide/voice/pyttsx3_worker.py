"""A child process that speaks with pyttsx3, one voice setting per process.

Why a process: with espeak-ng, pyttsx3 synthesizes on espeak's own thread, and a change of rate or
volume between utterances is applied unreliably (measured here: the next utterance often used the
previous rate). Settings applied once, before the first utterance, always held. A separate process
also keeps pyttsx3's and espeak's prints off the user's terminal and lets the parent bound a hang
with a timeout and recover from a crash.

The main process never loads espeak-ng itself: Piper bundles its own espeak, and the two in one
process crashed (measured here: a segfault once both were loaded). Now that Piper speaks in a worker
process of its own too (``piper_worker``), the two never share a process.

Protocol (JSON lines): the first line on stdin is ``{"voice": id or null, "rate": wpm, "volume": v}``;
the worker answers ``{"ready": true}`` (or ``{"error": ...}`` and exits). Each further line is
``{"text": ..., "path": ...}``, answered ``{"done": true, "words": n, "last_word_ms": ms}`` once the
WAV is written (with espeak-ng, how many words it spoke and where the last one starts, so the
parent can tell a file that lost its end; ``SPOKEN``), or
``{"voices": true}``, answered ``{"voices": [{"id", "name", "gender", "languages"}, ...]}``;
failures are answered ``{"error": ...}``. It exits at the end of stdin, at once, even in the middle
of a request: the parent closed it, or died (its pipe closes however it ends), so nobody waits for
the answer. It ignores Ctrl-C, which is the parent's to handle (``voiceguide.core.processes``). Imports
stay light: no numpy.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

from voiceguide.core.processes import ignore_interrupts
from voiceguide.voice.child import answers, requests

TIMEOUT = 30.0


def load_bundled_espeak() -> None:
    """Make pyttsx3's espeak driver find the espeak-ng library and data that ``espeakng-loader``
    ships (no system package needed); without that package, a system espeak-ng is used."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import espeakng_loader
    except ImportError:
        return
    os.environ.setdefault("ESPEAK_DATA_PATH", espeakng_loader.get_data_path())
    ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_GLOBAL)


def init_pyttsx3():
    """A pyttsx3 engine: espeak-ng on Linux, the platform's own voices elsewhere."""
    load_bundled_espeak()
    import pyttsx3

    if sys.platform.startswith("linux"):
        watch_words()  # before the driver starts: it registers its callback once
    return pyttsx3.init("espeak" if sys.platform.startswith("linux") else None)


SPOKEN = {"words": 0, "last_word_ms": 0}
"""What espeak-ng said it spoke in the utterance under way: its word events, and where in the
audio the last word starts (ms), for the parent to check the file against (``watch_words``)."""


def watch_words() -> None:
    """Count espeak-ng's word events and note where the last word starts in the audio, for each
    utterance (``SPOKEN``): a file shorter than that lost its end. Only with pyttsx3's espeak
    driver; elsewhere ``SPOKEN`` stays empty and the parent checks lengths alone."""
    try:
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver
    except Exception:  # noqa: BLE001 - not espeak (macOS, Windows): nothing to watch
        return
    own = EspeakDriver._onSynth

    def on_synth(self, wav, numsamples, events):
        i = 0
        while events[i].type != _espeak.EVENT_LIST_TERMINATED:
            if events[i].type == _espeak.EVENT_WORD:
                SPOKEN["words"] += 1
                SPOKEN["last_word_ms"] = max(SPOKEN["last_word_ms"], int(events[i].audio_position))
            i += 1
        return own(self, wav, numsamples, events)

    EspeakDriver._onSynth = on_synth


def main() -> None:
    ignore_interrupts()
    reply = answers()
    incoming = requests()
    settings = next(incoming)
    try:
        tts = init_pyttsx3()
        if settings.get("voice"):
            tts.setProperty("voice", settings["voice"])
        tts.setProperty("rate", int(settings.get("rate", 150)))
        tts.setProperty("volume", float(settings.get("volume", 1.0)))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises EngineError
        reply(error=f"pyttsx3 could not start: {exc}")
        return
    finished = threading.Event()
    # runAndWait can return before espeak has finished (and written the file): wait for this.
    tts.connect("finished-utterance", lambda **_: finished.set())
    reply(ready=True)
    for request in incoming:
        if request.get("voices"):
            reply(voices=[{"id": v.id, "name": v.name or v.id, "gender": v.gender,
                           "languages": [_text(lang) for lang in (v.languages or ())]}
                          for v in tts.getProperty("voices")])
            continue
        finished.clear()
        SPOKEN.update(words=0, last_word_ms=0)
        try:
            tts.save_to_file(request["text"], request["path"])
            tts.runAndWait()
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            reply(error=str(exc) or type(exc).__name__)
            continue
        if finished.wait(TIMEOUT):
            reply(done=True, **SPOKEN)
        else:
            reply(error=f"pyttsx3 did not finish speaking within {TIMEOUT:g} s")


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


if __name__ == "__main__":
    main()
