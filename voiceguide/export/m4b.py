"""Export: the session's samples -> an M4B audiobook (AAC, chapters, tags, cover), whole or not at all.

What Apple Books and BookPlayer want from a file rather than a feed. It is encoded from the same
mastered samples as the MP3, as they stream (``Audiobook.tee``), by the bundled ffmpeg's AAC
encoder, in float (no second rounding to 16 bits), at the MP3's bitrate and channels. Chapters and
tags come from the MP3's ``Tags`` through an ffmetadata file, the cover as an attached picture.
The samples are mastered for LAME, which lowers the level a little (``mp3.codec_gain``); the AAC
encoder's own change is measured the same way and the difference applied, so both files meet the
same loudness target. ffmpeg writes a temporary file beside the target (``-movflags +faststart``
puts the index first, so a phone can play while it downloads), renamed into place when it is
complete; a failure or Ctrl-C removes it and leaves the old file as it was.
"""

from __future__ import annotations

import functools
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from voiceguide.core.audio import RATE, db_to_gain, ffmpeg_path
from voiceguide.core.files import publish, temporary
from voiceguide.export.mp3 import Mp3Settings, PipeWriter, codec_gain, downmixed, encoder_error, level_change
from voiceguide.export.tags import Tags


def m4b_path(mp3: str | Path) -> Path:
    """The audiobook beside an MP3: same folder and base name, ``.m4b``."""
    return Path(mp3).with_suffix(".m4b")


class Audiobook:
    """Writes ``path`` from the chunks that pass through ``tee``; use as a context manager::

        with Audiobook(path, tags, settings) as book:
            write_mp3(book.tee(chunks), ...)

    Leaving the block normally waits for the encoder and puts the file in place (``AudioError`` if
    ffmpeg failed); leaving it with an exception stops the encoder and removes what it wrote.
    """

    def __init__(self, path: str | Path, tags: Tags, settings: Mp3Settings = Mp3Settings()):
        self.path = Path(path)
        self.tags = tags
        self.settings = settings
        self._gain = np.float32(db_to_gain(codec_gain(settings) - aac_gain(settings)))
        self._made: list[Path] = []
        self._proc: subprocess.Popen | None = None
        self._writer: PipeWriter | None = None
        self._errors = None

    def __enter__(self) -> Audiobook:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self._temporary()
        metadata = self._temporary(".ffmetadata")
        metadata.write_text(ffmetadata(self.tags), encoding="utf-8")
        inputs = ["-i", str(metadata)]
        maps = ["-map", "0:a"]
        if self.tags.cover is not None:
            cover = self._temporary(".cover")
            cover.write_bytes(self.tags.cover.data)
            inputs += ["-i", str(cover)]
            maps += ["-map", "2:v", "-c:v", "copy", "-disposition:v:0", "attached_pic"]
        cmd = [ffmpeg_path(), "-nostdin", "-v", "error", "-y",
               "-f", "f32le", "-ar", str(RATE), "-ac", str(self.settings.channels), "-i", "pipe:0", *inputs,
               *maps, "-map_metadata", "1", "-map_chapters", "1",
               "-c:a", "aac", "-b:a", f"{self.settings.bitrate}k", "-movflags", "+faststart",
               "-f", "ipod", str(self._tmp)]
        self._errors = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._errors)
        except BaseException:
            self._clean()
            raise
        self._writer = PipeWriter(self._proc.stdin)
        return self

    def tee(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """``chunks``, each also sent to the AAC encoder; the encoder's input ends with them."""
        for chunk in chunks:
            self._writer.write((downmixed(chunk, self.settings.channels) * self._gain).astype("<f4").tobytes())
            yield chunk
        self._writer.close()

    def __exit__(self, kind, exc, traceback) -> None:
        try:
            if kind is not None:
                self._proc.kill()
            self._writer.close()
            code = self._proc.wait()
            if kind is None:
                if code != 0:
                    self._errors.seek(0)
                    raise encoder_error(self._errors.read(), code, self._tmp, "M4B")
                publish(self._tmp, self.path)
        finally:
            self._clean()

    def _temporary(self, suffix: str = "") -> Path:
        made = temporary(self.path, suffix)
        self._made.append(made)
        return made

    def _clean(self) -> None:
        for made in self._made:
            made.unlink(missing_ok=True)
        if self._errors is not None:
            self._errors.close()


def ffmetadata(tags: Tags) -> str:
    """``tags`` as ffmpeg's metadata file: the file's tags, then a chapter per chapter (ms)."""
    fields = {"title": tags.title, "artist": tags.artist, "album_artist": tags.artist, "album": tags.album,
              "genre": tags.genre, "comment": tags.description, "track": tags.track,
              "date": None if tags.year is None else str(tags.year), "lyrics": tags.narration or None}
    lines = [";FFMETADATA1"] + [f"{key}={_escape(value)}" for key, value in fields.items() if value]
    for chapter in tags.chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={chapter.start_ms}", f"END={chapter.end_ms}",
                  f"title={_escape(chapter.title)}"]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """ffmetadata's escapes: ``=``, ``;``, ``#``, ``\\`` and line breaks take a backslash."""
    for char in ("\\", "=", ";", "#", "\n"):
        text = text.replace(char, "\\" + char)
    return text


def aac_gain(settings: Mp3Settings = Mp3Settings()) -> float:
    """How much ffmpeg's AAC encoder changes the level (dB, decoded less encoded) at these
    settings, measured as ``mp3.codec_gain`` measures LAME's."""
    return _aac_gain(settings)


@functools.cache
def _aac_gain(settings: Mp3Settings) -> float:
    def encode(tone: np.ndarray, path: Path) -> None:
        proc = subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-f", "f32le", "-ar", str(RATE),
                               "-ac", str(settings.channels), "-i", "pipe:0", "-c:a", "aac",
                               "-b:a", f"{settings.bitrate}k", str(path)],
                              input=tone.astype("<f4").tobytes(), capture_output=True)
        if proc.returncode != 0:
            raise encoder_error(proc.stderr, proc.returncode, path, "AAC")

    return level_change(settings.channels, "tone.m4a", encode)
