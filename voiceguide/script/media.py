"""Checking the files a routine names while it is read: sound and bed files must decode to audio
that is not silent and not too long, cover images must be PNG or JPEG. ``check`` refuses at its
line what ``render`` would fail on later; ``sound.sounds`` and ``export.tags`` use the same checks."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.core import audio
from voiceguide.core.audio import RATE
from voiceguide.script.text import format_seconds

SILENCE_DB = -60.0
"""Samples quieter than this (dBFS) at the ends of a sound file are trimmed; a file bed's too."""


@dataclass(frozen=True)
class FileFacts:
    """What reading a sound file through found: why it cannot be used (``""`` when it can), and
    how long it is (seconds, counted up to the limit it was read against)."""

    problem: str
    frames: int
    """Samples (at ``RATE``) read, at most one past the limit."""

    @property
    def seconds(self) -> float:
        return self.frames / RATE


_checked: dict[tuple, FileFacts] = {}
_READ_FRAMES = 1 << 16
"""Frames decoded at a time while checking a file: memory stays small whatever its size."""


def check_file(path: str | os.PathLike[str], max_seconds: float) -> FileFacts:
    """Decode the audio file at ``path`` a block at a time (ffmpeg stops at its first error) and say
    whether it can be used: it decodes, holds audio, is not silent (something above
    ``SILENCE_DB``) and lasts at most ``max_seconds`` (reading stops past that). Remembered per
    path, size, modification and change time, so a routine's own sound files are checked when it
    is read (``kinds.SoundRef``), not first when it renders."""
    import subprocess

    try:
        stat = os.stat(path)
    except OSError as exc:
        return FileFacts(f"cannot read the file: {exc.strerror}", 0)
    key = (os.fspath(path), stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, max_seconds)
    if key in _checked:
        return _checked[key]
    cmd = [audio.ffmpeg_path(), "-nostdin", "-v", "error", "-xerror", "-i", os.fspath(path), "-vn",
           "-map", "0:a:0", "-f", "f32le", "-acodec", "pcm_f32le", "-ac", "2", "-ar", str(RATE), "pipe:1"]
    limit = audio.seconds_to_samples(max_seconds)
    read, peak, too_long = 0, 0.0, False
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        with proc.stdout:
            while block := proc.stdout.read(_READ_FRAMES * 8):
                samples = np.frombuffer(block[: len(block) // 4 * 4], dtype="<f4")
                if samples.size:
                    peak = max(peak, float(np.max(np.abs(samples))))
                read += len(block)
                if read // 8 > limit:
                    too_long = True
                    proc.kill()
                    break
        code = proc.wait()
        errors.seek(0)
        reason = audio._last_line(errors.read())
    frames = read // 8
    if too_long:
        problem = (f"the file lasts more than {format_seconds(max_seconds)} s; at most "
                   f"{format_seconds(max_seconds)} s are allowed")
    elif code != 0:
        problem = f"not an audio file ffmpeg can decode: {reason or f'exit code {code}'}"
    elif frames == 0:
        problem = "the file holds no audio"
    elif peak < audio.db_to_gain(SILENCE_DB):
        problem = f"the file is silent (nothing above {SILENCE_DB:g} dB)"
    else:
        problem = ""
    _checked[key] = FileFacts(problem, frames)
    return _checked[key]



def image_problem(path: str | Path) -> str:
    """Why the file at ``path`` cannot be a routine's cover art (``""`` when it can): it must be a
    PNG or JPEG image that decodes."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.format not in ("PNG", "JPEG"):
                return f"a {image.format} image; cover art must be a PNG or JPEG image"
            image.load()
    except UnidentifiedImageError:
        return "not an image; cover art must be a PNG or JPEG image"
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return f"the image is damaged or too large: {exc}"
    return ""
