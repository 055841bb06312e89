"""The child's side of an engine worker (``pyttsx3_worker``, ``piper_worker``, ``kokoro_worker``):
its answers on stdout, its requests from stdin, and the loop of a worker that loads one model and
answers with it. The parent's side is ``worker.Worker``. Imports stay light: no numpy.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from voiceguide.core.processes import ignore_interrupts


def answers():
    """Keep this process's stdout for its answers and send all else printed there to devnull
    (pyttsx3 prints a line per file; espeak may print too); the function that sends one answer."""
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process

    def reply(**fields) -> None:
        replies.write(json.dumps(fields) + "\n")

    return reply


def requests() -> Iterator[dict]:
    """The requests on stdin, read by a thread of their own, which ends the process at the end of
    stdin."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in sys.stdin:
            lines.put(line)
        os._exit(0)

    threading.Thread(target=read, name="voiceguide-stdin", daemon=True).start()
    while True:
        yield json.loads(lines.get())


def serve(load: Callable[[dict], Any], answer: Callable[[Any, dict], dict], cannot_load: Callable[[dict], str],
          name: str) -> None:
    """The loop of a worker that loads one model and answers requests with it (``piper_worker``,
    ``kokoro_worker``): Ctrl-C ignored, ``load(settings)`` once (a failure answered
    ``cannot_load(settings)`` with the exception, and the worker ends), then each request answered
    ``{"done": true, **answer(model, request)}``, or ``{"error": ...}`` naming ``name``."""
    ignore_interrupts()
    reply = answers()
    incoming = requests()
    settings = next(incoming)
    try:
        model = load(settings)
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises EngineError
        reply(error=f"{cannot_load(settings)}: {exc}")
        return
    reply(ready=True)
    for request in incoming:
        try:
            fields = answer(model, request)
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            reply(error=f"{name} failed: {type(exc).__name__}: {exc}")
            continue
        reply(done=True, **fields)
