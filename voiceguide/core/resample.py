"""Sample-rate conversion, by libsoxr (the ``soxr`` package): high quality and fast, where pydub's
``audioop.ratecv`` would add audible images to speech."""

from __future__ import annotations

import numpy as np
import soxr


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Float32 ``(samples, channels)`` from ``rate_in`` to ``rate_out``."""
    if rate_in == rate_out:
        return np.asarray(samples, dtype=np.float32)
    out = soxr.resample(np.ascontiguousarray(samples, dtype=np.float32), rate_in, rate_out, quality="HQ")
    return np.asarray(out, dtype=np.float32).reshape(-1, samples.shape[1])
