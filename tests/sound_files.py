"""Small real audio files for tests that need a sound the loader can decode."""

from __future__ import annotations

import io
import math
import struct
import wave


def tiny_wav() -> bytes:
    """A tenth of a second of a quiet tone, as WAV bytes."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 3))) for i in range(800)))
    return buf.getvalue()
