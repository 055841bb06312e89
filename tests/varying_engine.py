"""The voiceguide command line with a nondeterministic ``fake`` engine, as Piper is: run as
``python tests/varying_engine.py ARGS...``. Every synthesis of a text has a different length (the
fake voice at a rate drawn at random) and takes a little while, as real synthesis does, so processes
speaking the same phrase at once each make their own, different clip.

The engine is registered when this file is imported, so a build's worker processes (started with
``spawn``, which imports this main module again) use it too."""

from __future__ import annotations

import random
import time

import numpy as np

from voiceguide.voice import engines


class VaryingEngine(engines.FakeEngine):
    """The fake voice, up to 10 % faster or slower each time it speaks."""

    def synthesize(self, text, voice):
        time.sleep(random.uniform(0.01, 0.05))  # synthesis takes time: speakers of one phrase overlap
        clip = super().synthesize(text, voice)
        factor = random.uniform(0.9, 1.1)
        return clip[np.minimum(np.round(np.arange(int(len(clip) * factor)) / factor).astype(int), len(clip) - 1)]


engines.ENGINES["fake"] = VaryingEngine
engines._instances.pop("fake", None)

if __name__ == "__main__":
    from voiceguide.cli import main

    main()
