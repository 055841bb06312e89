"""A test engine worker, run as ``python -m scripted_worker`` with this folder on the path. It
speaks the engine workers' protocol: the settings line may name a ``log`` file, to which it appends
its process id; it answers ``{"done": true}`` to a request, but hangs on a text with "hang" in it
and exits (code 3) on one with "crash"."""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> None:
    settings = json.loads(sys.stdin.readline())
    if settings.get("log"):
        with open(settings["log"], "a", encoding="utf-8") as log:
            log.write(f"{os.getpid()}\n")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        text = json.loads(line)["text"]
        if "hang" in text:
            time.sleep(60)  # far longer than any test waits: the parent kills it first
        if "crash" in text:
            print("scripted worker: crashing as asked", file=sys.stderr, flush=True)
            sys.exit(3)
        print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()
