"""Export: the session's samples -> a tagged MP3 (and its ``.lrc`` lyrics), written whole or not at all.

Samples stream into the ffmpeg binary from ``imageio-ffmpeg`` (LAME inside) as they are mixed.
ffmpeg writes to a seekable temporary file beside the target, so it can fill in the LAME Info
header (exact frame count and encoder delay: exact duration and gapless decoding on phones). Tags,
chapters, lyrics and cover art are made with mutagen (``tags.id3_tag``) and written ahead of the
frames in a second temporary file (inserting a tag into the first would map all of it into memory),
the lyrics are written
to a temporary ``.lrc`` beside it, then both are renamed into place. Any failure, Ctrl-C included,
removes the temporary files and leaves the old output as it was.
"""

from __future__ import annotations

import functools
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.core.audio import RATE, decode_file, ffmpeg_path, to_int16
from voiceguide.core.errors import AudioError
from voiceguide.core.files import publish, remove_own_parts, remove_stale_parts, target_of, temporary
from voiceguide.export.tags import Tags, id3_tag, lrc

__all__ = ["Mp3Settings", "PipeWriter", "Tags", "codec_gain", "encoder_error", "level_change", "lrc_path", "write_mp3"]


@dataclass(frozen=True)
class Mp3Settings:
    """How the MP3 is encoded."""

    bitrate: int = 128
    """Kilobits per second, constant. Apple asks 96-128 for mono, 128-256 for stereo."""
    channels: int = 2
    """2 for stereo, 1 for mono (the bed's width is lost; voice and tones are centred anyway)."""
    quality: int = 5
    """LAME's effort, 0 (best, slowest) to 9; 5 is good and fast, 2 near-best at 2.5x the time."""


def lrc_path(mp3: str | Path) -> Path:
    """The sidecar lyrics file of an MP3: same folder and base name, ``.lrc``."""
    return Path(mp3).with_suffix(".lrc")


def write_mp3(chunks: Iterable[np.ndarray], path: str | Path, tags: Tags,
              settings: Mp3Settings = Mp3Settings()) -> Path:
    """Encode float32 ``(n, channels)`` chunks at ``RATE`` to ``path``; return the path.

    Stereo chunks are downmixed for a mono file. When ``tags`` has lyrics, ``path``'s ``.lrc``
    sidecar is written too (and an old one removed when it has none).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(path.parent)  # what a killed render left; never a live one's
    frames = tmp = tmp_lrc = None
    try:
        frames, tmp = temporary(path), temporary(path)
        tmp_lrc = temporary(lrc_path(path)) if tags.lyrics else None
        _encode(chunks, frames, settings)
        with open(tmp, "wb") as out, open(frames, "rb") as encoded:
            out.write(id3_tag(tags))
            shutil.copyfileobj(encoded, out, 1 << 20)
        frames.unlink()
        if tmp_lrc is not None:
            tmp_lrc.write_text(lrc(tags), encoding="utf-8")
        _publish(tmp, path)
        if tmp_lrc is not None:
            _publish(tmp_lrc, lrc_path(path))
        else:
            lrc_path(path).unlink(missing_ok=True)
    except BaseException:  # Ctrl-C even between making a temporary file and naming it here
        remove_own_parts(path.parent, path.name)
        remove_own_parts(path.parent, lrc_path(path).name)
        raise
    finally:
        for part in (frames, tmp, tmp_lrc):
            if part is not None:
                part.unlink(missing_ok=True)
    return path


def _publish(tmp: Path, target: Path) -> None:
    publish(tmp, target)


def _encode(chunks: Iterable[np.ndarray], target: Path, settings: Mp3Settings) -> None:
    """Stream ``chunks`` into ffmpeg, which writes the MP3 (and its Info header) to ``target``.

    A writer thread feeds ffmpeg's pipe, so the next chunk is made while ffmpeg encodes this one.
    """
    cmd = [ffmpeg_path(), "-nostdin", "-v", "error", "-y",
           "-f", "s16le", "-ar", str(RATE), "-ac", str(settings.channels), "-i", "pipe:0",
           "-c:a", "libmp3lame", "-b:a", f"{settings.bitrate}k",
           "-compression_level", str(settings.quality),
           "-id3v2_version", "0", "-write_xing", "1", "-f", "mp3", str(target)]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
        writer = PipeWriter(proc.stdin)
        try:
            for chunk in chunks:
                if not writer.write(to_int16(downmixed(chunk, settings.channels)).tobytes()):
                    break  # ffmpeg stopped early: its exit code and message say why
            writer.close()
        except BaseException:
            proc.kill()
            writer.close()
            proc.wait()
            raise
        if proc.wait() != 0:
            errors.seek(0)
            raise encoder_error(errors.read(), proc.returncode, target, "MP3")


def encoder_error(stderr: bytes, code: int, target: Path, kind: str) -> AudioError:
    """What an ffmpeg that failed writing ``target`` (a temporary file, named by its target) says:
    a full or unwritable disk as such, anything else in ffmpeg's own last words."""
    message = stderr.decode("utf-8", "replace").strip().splitlines()
    reason = message[-1] if message else f"exit code {code}"
    shown = target_of(target)
    for full in ("No space left on device", "Disk quota exceeded", "Permission denied", "Read-only file system"):
        if full in reason:
            return AudioError(f"cannot write {shown}: {full}")
    return AudioError(f"{shown.name}: ffmpeg could not encode {kind}: {reason}")


def downmixed(chunk: np.ndarray, channels: int) -> np.ndarray:
    """``chunk`` with ``channels`` channels: stereo averaged for a mono file, else as it is."""
    if channels == 1 and chunk.shape[1] == 2:
        return ((chunk[:, 0] + chunk[:, 1]) * np.float32(0.5))[:, None]
    return chunk


class PipeWriter:
    """Writes byte strings to a pipe from a thread of its own, a few chunks behind the caller."""

    def __init__(self, pipe, depth: int = 3):
        self._pipe = pipe
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._broken = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voiceguide-encoder-pipe", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> bool:
        """Queue ``data``; ``False`` once the pipe is broken (the reader has gone)."""
        if self._broken.is_set():
            return False
        self._queue.put(data)
        return True

    def close(self) -> None:
        """Write what is queued, close the pipe and wait for the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._broken.is_set():
                continue  # keep taking chunks, so the caller never blocks on a full queue
            try:
                self._pipe.write(data)
            except (BrokenPipeError, OSError, ValueError):
                self._broken.set()
        try:
            self._pipe.close()
        except (BrokenPipeError, OSError):
            pass


def codec_gain(settings: Mp3Settings = Mp3Settings()) -> float:
    """How much the encoder changes the level (dB, decoded less encoded) with these settings.

    LAME scales its input down a little at lower bitrates (0.95, -0.45 dB, at 128 kbit/s and below;
    nothing from 256 up), so mastering aims that much higher. Measured once per process and settings
    on a 1 kHz tone, whose level the codec otherwise keeps exactly.
    """
    return _codec_gain(settings)


@functools.cache
def _codec_gain(settings: Mp3Settings) -> float:
    return level_change(settings.channels, "tone.mp3", lambda tone, path: _encode([tone], path, settings))


def level_change(channels: int, name: str, encode: Callable[[np.ndarray, Path], None]) -> float:
    """How much ``encode(samples, path)`` changes the level (dB, decoded less encoded) of a 1 kHz
    tone at a tenth of full scale, written to a temporary file called ``name``."""
    t = np.arange(int(1.5 * RATE)) / RATE
    tone = np.repeat((0.1 * np.sin(2.0 * np.pi * 1000.0 * t)).astype(np.float32)[:, None], channels, axis=1)
    with tempfile.TemporaryDirectory(prefix="voiceguide-") as folder:
        path = Path(folder) / name
        encode(tone, path)
        decoded = decode_file(path, channels=channels)
    middle = slice(RATE // 4, 5 * RATE // 4)
    ratio = np.mean(decoded[middle].astype(np.float64) ** 2) / np.mean(tone[middle].astype(np.float64) ** 2)
    return float(10.0 * np.log10(ratio))
