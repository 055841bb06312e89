"""The parent's side of an engine's worker process: start it, ask it, notice when it hangs or dies.

Engines that speak in a child process of their own (``engines.Pyttsx3Engine`` with
``pyttsx3_worker``, ``engines.PiperEngine`` with ``piper_worker``, ``kokoro.KokoroEngine`` with
``kokoro_worker``) hold one ``Worker`` for each.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import queue
import subprocess
import sys
import tempfile
import threading

from voiceguide.core import processes
from voiceguide.core.errors import EngineError


class Worker:
    """The parent's side of an engine's worker process (``pyttsx3_worker``, ``piper_worker``, ``kokoro_worker``).

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
