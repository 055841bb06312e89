"""Reading a finished MP3 back: its Info header, tags, chapters, lyrics, loudness and true peak.

What ``voiceguide inspect`` prints, and what the tests check a render against. The header is parsed
here (the first MPEG frame and its Xing/Info tag with LAME's extension: frame count, encoder delay
and padding), so the exact sample count can be checked without trusting any one player. Loudness
is measured by decoding the file with ffmpeg as a stream, in constant memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from voiceguide.core.audio import RATE, ffmpeg_path
from voiceguide.core.errors import AudioError
from voiceguide.core.loudness import Loudness, Meter
from voiceguide.export.mp3 import lrc_path
from voiceguide.export.tags import Tags, read_tags

SAMPLES_PER_FRAME = 1152
"""MPEG-1 Layer III (44.1/48/32 kHz)."""
_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_RATES = (44100, 48000, 32000)


@dataclass(frozen=True)
class Header:
    """The first frame of an MPEG-1 Layer III file and its Xing/Info tag."""

    sample_rate: int
    channels: int
    bitrate: int
    """kbit/s of the first frame (the file's, for constant bitrate)."""
    tag: str
    """``Info`` (constant bitrate) or ``Xing`` (variable)."""
    frames: int
    """Audio frames, not counting the Info frame itself."""
    encoder: str
    """The encoder string of LAME's extension (``LAME3.100``, ``Lavc...``); "" without one."""
    delay: int
    """Samples the encoder added at the start (LAME's extension)."""
    padding: int
    """Samples it added at the end to fill the last frame."""

    @property
    def samples(self) -> int:
        """The exact number of samples a gapless decoder returns."""
        return self.frames * SAMPLES_PER_FRAME - self.delay - self.padding

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate


@dataclass(frozen=True)
class Inspection:
    """Everything ``voiceguide inspect`` reports about one file."""

    path: Path
    header: Header
    tags: Tags
    loudness: Loudness
    lrc: Path | None
    """The sidecar lyrics file, when there is one."""
    captions: tuple[Path, ...] = ()
    """The caption files beside it (``.vtt``, ``.srt``) that are there."""


def read_header(path: str | Path) -> Header:
    """Parse the first frame's header and its Xing/Info tag. Raises ``AudioError`` when the file is
    not an MPEG-1 Layer III file with such a tag."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = f.read(64 * 1024)
            start = _after_id3(data)
            if start + 4096 > len(data):
                f.seek(start)
                data = f.read(4096)
                start = 0
    except OSError as exc:
        raise AudioError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    frame = _first_frame(data, start)
    if frame is None:
        raise AudioError(f"{path}: no MPEG-1 Layer III frame at the start of the file")
    head = struct.unpack(">I", data[frame: frame + 4])[0]
    bitrate = _BITRATES[(head >> 12) & 0xF]
    sample_rate = _RATES[(head >> 10) & 0x3]
    channels = 1 if (head >> 6) & 0x3 == 3 else 2
    pos = frame + 4 + (17 if channels == 1 else 32)  # after MPEG-1's side information
    tag = data[pos: pos + 4]
    if tag not in (b"Xing", b"Info"):
        raise AudioError(f"{path}: the first frame has no Xing/Info header")
    flags = struct.unpack(">I", data[pos + 4: pos + 8])[0]
    pos += 8
    frames = 0
    if flags & 0x1:
        frames = struct.unpack(">I", data[pos: pos + 4])[0]
        pos += 4
    pos += 4 if flags & 0x2 else 0  # bytes
    pos += 100 if flags & 0x4 else 0  # seek table
    pos += 4 if flags & 0x8 else 0  # quality
    encoder = data[pos: pos + 9]
    delay = padding = 0
    if len(encoder) == 9 and encoder[:1].isalpha():
        packed = data[pos + 21: pos + 24]  # after encoder, revision, lowpass, replay gain, flags, bitrate
        delay, padding = (packed[0] << 4) | (packed[1] >> 4), ((packed[1] & 0xF) << 8) | packed[2]
    return Header(sample_rate, channels, bitrate, tag.decode(), frames,
                  encoder.decode("latin-1").rstrip("\0 ") if delay or padding else "", delay, padding)


def audio_digest(path: str | Path) -> str:
    """The SHA-256 of an MP3's audio: every byte after its ID3v2 tag (the Info frame and the MPEG
    frames). New tags (a title, a description, a cover, a track number) leave it as it was; any
    change to what is heard, or to how it is encoded, changes it."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        f.seek(_after_id3(f.read(10)))
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _after_id3(data: bytes) -> int:
    """Where the audio starts: after an ID3v2 tag (and its footer), if the file begins with one."""
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return 10 + size + (10 if data[5] & 0x10 else 0)


def _first_frame(data: bytes, start: int) -> int | None:
    """The offset of the first MPEG-1 Layer III frame header at or after ``start``."""
    for i in range(start, len(data) - 4):
        if data[i] == 0xFF and (data[i + 1] & 0xFE) == 0xFA and (data[i + 2] >> 4) not in (0, 15) \
                and (data[i + 2] >> 2) & 0x3 != 3:
            return i
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG image, or ``None`` for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(data) and data[pos] == 0xFF:
            marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2: pos + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame
                height, width = struct.unpack(">HH", data[pos + 5: pos + 9])
                return width, height
            pos += 2 + length
    return None


def measure_file(path: str | Path, channels: int | None = None, seconds_per_read: float = 5.0) -> Loudness:
    """Loudness and true peak of an audio file, decoded by ffmpeg a few seconds at a time."""
    path = Path(path)
    if channels is None:
        channels = read_header(path).channels if path.suffix.lower() == ".mp3" else 2
    cmd = [ffmpeg_path(), "-nostdin", "-v", "error", "-i", str(path), "-vn", "-map", "0:a:0",
           "-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(channels), "-ar", str(RATE), "pipe:1"]
    meter = Meter(channels)
    frame = 4 * channels
    block = int(seconds_per_read * RATE) * frame
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while raw := proc.stdout.read(block):
            usable = len(raw) - len(raw) % frame
            meter.add(np.frombuffer(raw[:usable], dtype="<f4").reshape(-1, channels))
    finally:
        proc.stdout.close()
        errors = proc.stderr.read().decode("utf-8", "replace").strip().splitlines()
        proc.stderr.close()
        proc.wait()
    if proc.returncode != 0:
        raise AudioError(f"{path}: cannot decode audio: {errors[-1] if errors else proc.returncode}")
    return meter.result()


MEASURE = 1
"""The version of how ``measure_file`` meters a file: part of what a measurement is kept under."""


class Measurements(Protocol):
    """Where measurements are kept by the file's checksum (``NarrationCache`` is one)."""

    def measured(self, digest: str) -> dict | None: ...

    def remember(self, digest: str, values: dict) -> None: ...


def inspect(path: str | Path, kept: Measurements | None = None) -> Inspection:
    """Read back everything about an MP3 that voiceguide wrote (or any MP3 with an Info header).

    Metering decodes the whole file; with ``kept``, what was measured of these very bytes before
    (the same SHA-256) is used instead, and a new measurement is kept there."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    header = read_header(path)
    sidecar = lrc_path(path)
    captions = tuple(p for p in (path.with_suffix(".vtt"), path.with_suffix(".srt")) if p.is_file())
    return Inspection(path, header, read_tags(path), _loudness(path, header.channels, kept),
                      sidecar if sidecar.is_file() else None, captions)


def _loudness(path: Path, channels: int, kept: Measurements | None) -> Loudness:
    if kept is None:
        return measure_file(path, channels)
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    name = f"loudness-{MEASURE}-{digest.hexdigest()}"
    values = kept.measured(name)
    fields = [f.name for f in dataclasses.fields(Loudness)]
    if values is not None and set(values) == set(fields):
        try:
            return Loudness(**{k: float(values[k]) for k in fields})
        except (TypeError, ValueError):
            pass
    measured = measure_file(path, channels)
    kept.remember(name, dataclasses.asdict(measured))
    return measured


def summary(found: Inspection) -> dict:
    """What ``voiceguide inspect`` prints, as plain values (``--json`` prints them as they are)."""
    h, t, loud = found.header, found.tags, found.loudness
    cover = None
    if t.cover is not None:
        size = image_size(t.cover.data)
        cover = f"{t.cover.mime}, " + (f"{size[0]}x{size[1]}, " if size else "") + f"{len(t.cover.data) / 1000:.1f} kB"
    return {
        "file": str(found.path), "title": t.title, "artist": t.artist, "album": t.album, "track": t.track,
        "genre": t.genre, "language": t.language, "year": t.year, "description": " ".join(t.description.split()), "cover": cover,
        "duration": f"{clock_ms(h.samples * 1000 / h.sample_rate)} ({h.samples} samples at {h.sample_rate} Hz)",
        "format": f"MP3 {h.bitrate} kbit/s {'mono' if h.channels == 1 else 'stereo'}",
        "header": f"{h.tag}: {h.frames} frames, encoder delay {h.delay}, padding {h.padding}"
                  + (f" ({h.encoder})" if h.encoder else ""),
        "loudness": f"{loud.integrated:.1f} LUFS integrated, range {loud.range:.1f} LU",
        "true peak": f"{loud.true_peak:.1f} dBTP (sample peak {loud.sample_peak:.1f} dBFS)",
        "lyrics": f"{len(t.lyrics)} timed lines" + (f", sidecar {found.lrc}" if found.lrc else ""),
        "captions": ", ".join(str(p) for p in found.captions),
        "chapters": [{"title": c.title, "start_ms": c.start_ms, "end_ms": c.end_ms} for c in t.chapters],
    }


def clock_ms(ms: float) -> str:
    """``mm:ss.sss``."""
    return f"{int(ms // 60000):02d}:{ms % 60000 / 1000:06.3f}"
