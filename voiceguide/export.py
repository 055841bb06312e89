"""Export: the session's samples -> a tagged MP3, written whole or not at all.

Samples stream into the ffmpeg binary from ``imageio-ffmpeg`` (LAME inside) as they are mixed.
ffmpeg writes to a seekable temporary file beside the target, so it can fill in the LAME Info
header (exact frame count and encoder delay: exact duration and gapless decoding on phones). Tags
are added with mutagen as ID3v2.3 (read by more players than v2.4), then the file is renamed into
place. Any failure, Ctrl-C included, removes the temporary file and leaves the old output as it was.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .audio import RATE, ffmpeg_path, to_int16
from .errors import AudioError


@dataclass(frozen=True)
class Mp3Settings:
    """How the MP3 is encoded."""

    bitrate: int = 128
    """Kilobits per second, constant. Apple asks 96-128 for mono, 128-256 for stereo."""
    channels: int = 2
    """2 for stereo, 1 for mono (the bed's width is lost; voice and tones are centred anyway)."""
    quality: int = 5
    """LAME's effort, 0 (best, slowest) to 9; 5 is good and fast, 2 near-best at 2.5x the time."""


@dataclass(frozen=True)
class Tags:
    """The ID3 tags written to the file."""

    title: str
    artist: str
    album: str
    genre: str
    comment: str


def write_mp3(chunks: Iterable[np.ndarray], path: str | Path, tags: Tags,
              settings: Mp3Settings = Mp3Settings()) -> Path:
    """Encode float32 ``(n, 2)`` chunks at ``RATE`` to ``path``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".mp3.part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        _encode(chunks, tmp, settings)
        _tag(tmp, tags)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a finished file gets the usual mode
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _encode(chunks: Iterable[np.ndarray], target: Path, settings: Mp3Settings) -> None:
    cmd = [ffmpeg_path(), "-nostdin", "-v", "error", "-y",
           "-f", "s16le", "-ar", str(RATE), "-ac", str(settings.channels), "-i", "pipe:0",
           "-c:a", "libmp3lame", "-b:a", f"{settings.bitrate}k",
           "-compression_level", str(settings.quality),
           "-id3v2_version", "0", "-write_xing", "1", "-f", "mp3", str(target)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            for chunk in chunks:
                if settings.channels == 1:
                    chunk = chunk.mean(axis=1, keepdims=True)
                proc.stdin.write(to_int16(chunk).tobytes())
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg stopped early: its exit code and message say why
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.wait() != 0:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise AudioError(f"{target.name}: ffmpeg could not encode MP3: "
                             f"{message[-1] if message else f'exit code {proc.returncode}'}")


def _tag(path: Path, tags: Tags) -> None:
    from mutagen.id3 import COMM, ID3, TALB, TCON, TIT2, TPE1

    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TCON(encoding=3, text=tags.genre))
    id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    id3.save(path, v2_version=3)
