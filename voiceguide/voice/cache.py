"""A content-addressed store of synthesized narration, so a text is spoken once per voice.

An entry is keyed by everything that shapes the speech: engine and its version, voice, rate,
volume and the text. It is one file, ``narration/KE/KEY.vgc``: a header (its own key, its length,
the clip's levels: loudness, true peak and energy envelope, ``loudness.Levels``), the samples as
16-bit PCM scaled to the clip's peak, the envelope, and a SHA-256 of all of that. An entry is
written whole to a temporary file and linked into place only if no entry is there yet: when two
processes speak the same phrase at once (a voice that never says a thing the same way twice), the
first one's entry is the one both use. Reading an entry checks its checksum, its key and its
values; a damaged one is removed and reads as missing, so the caller speaks it again.

What mastering makes of a clip (``Speech.derived``) is kept as ``KEY.NAME.vgc`` in the same format,
recording the checksum of the entry it was made from: it is used only with that very clip.

A render holds only the levels; it reads a clip's samples when the mix reaches it (``Speech``), so
its memory does not grow with the narration; the samples it reads are checked to be the entry it
planned with.

The cache is capped (``DEFAULT_LIMIT``, or ``$VOICEGUIDE_CACHE_SIZE``): past it, the entries used
least recently are removed, all but those used in the last ``RECENT`` seconds, which a render
running now may be about to read. Generated beds (``beds/``, ``sounds.make_bed``) and what
``voiceguide inspect`` measured of a file (``measured/``, by the file's checksum) share the cap.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voiceguide.core.errors import AudioError, UsageError
from voiceguide.core.files import remove_stale_parts, temporary, umask
from voiceguide.core.loudness import ENERGY_STEP, Levels

ENV = "VOICEGUIDE_CACHE"
SIZE_ENV = "VOICEGUIDE_CACHE_SIZE"
DEFAULT_LIMIT = 1_000_000_000
"""Bytes the cache may hold unless ``$VOICEGUIDE_CACHE_SIZE`` says: 1 GB, about 95 minutes of narration
with what mastering derives from it (ten times the starter library's)."""
RECENT = 600.0
"""Seconds after its last use during which an entry is never evicted (a render may be about to read it)."""

SUFFIX = ".vgc"
MAGIC = b"VGCACHE1"
_DIGEST = 32  # SHA-256
_FULL_SCALE = 32767
_MAX_PEAK = 16.0
"""Largest sample magnitude an entry may hold (24 dB over full scale): anything beyond is damage."""


def default_dir() -> Path:
    """``$VOICEGUIDE_CACHE``, else the user's cache folder (XDG on Linux) plus ``voiceguide``."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    import platformdirs

    return Path(platformdirs.user_cache_dir("voiceguide", appauthor=False))


_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
          "ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40}


def parse_size(text: str) -> int | None:
    """Bytes from ``500MB``, ``2G``, ``1.5GiB`` or ``123456``; ``None`` for ``none`` (no limit)."""
    if text.strip().lower() == "none":
        return None
    found = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([kmgt]i?)?b?\s*", text, re.IGNORECASE)
    if found is None:
        raise UsageError(f"{SIZE_ENV}={text!r} is not a size (e.g. 500MB, 2GB, 1.5GiB, or none for no limit)")
    return int(float(found[1]) * _UNITS[(found[2] or "").lower()])


def default_limit() -> int | None:
    """``$VOICEGUIDE_CACHE_SIZE`` when set, else ``DEFAULT_LIMIT``."""
    value = os.environ.get(SIZE_ENV, "").strip()
    return parse_size(value) if value else DEFAULT_LIMIT


@dataclass(frozen=True, eq=False)
class Speech:
    """One phrase as spoken: its length and levels at hand, its samples read when they are needed."""

    length: int
    """Samples, at ``audio.RATE``."""
    levels: Levels = field(repr=False)
    read: Callable[[], np.ndarray] = field(repr=False)
    """Returns the clip: float32 ``(length, 1)``."""
    path: Path | None = None
    """Where the cache keeps it (``None``: held in memory)."""
    digest: bytes = field(default=b"", repr=False)
    """The entry's checksum: what is derived from it records it."""
    cache: NarrationCache | None = field(default=None, repr=False)

    @classmethod
    def of(cls, clip: np.ndarray) -> Speech:
        """A clip held in memory."""
        clip = np.asarray(clip, dtype=np.float32)
        return cls(len(clip), Levels.of(clip), lambda: clip)

    def samples(self) -> np.ndarray:
        return self.read()

    def derived(self, name: str, make: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``make(samples)`` (a float32 array), kept in the cache beside the clip as ``name``, so it is
        made once: for narration as mastering shapes it (``mix.place_events``). ``name`` must say
        everything ``make`` depends on. What is returned is what the cache gives back (16-bit, scaled
        to its peak), made now or read later alike."""
        if self.path is None or self.cache is None:
            return make(self.samples())
        return self.cache._derived(self, name, make)


class NarrationCache:
    """Narration clips by content key, under ``root/narration``, at most ``limit`` bytes in all
    (``None``: no limit; default ``$VOICEGUIDE_CACHE_SIZE`` or ``DEFAULT_LIMIT``)."""

    def __init__(self, root: str | Path | None = None, limit: int | None | str = "default"):
        self.root = Path(root if root is not None else default_dir())
        """The cache folder (narration is kept in ``root/narration``; other things may share it)."""
        self.dir = self.root / "narration"
        self.limit = default_limit() if limit == "default" else limit
        self._written = 0
        self._trim_after = 0  # bytes written before the next trim: the first write trims

    @staticmethod
    def key(**fields) -> str:
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def _path(self, key: str, part: str = "") -> Path:
        return self.dir / key[:2] / f"{key}{part}{SUFFIX}"

    def get(self, key: str) -> Speech | None:
        """The entry, or ``None`` when it is missing or damaged (a damaged one is removed)."""
        path = self._path(key)
        data, stat = _read(path)
        if data is None:
            return None
        entry = _clip_entry(data, key)
        if entry is None:
            _remove_if_unchanged(path, stat)  # damaged: the caller speaks it again
            return None
        length, _, levels, digest = entry
        try:
            os.utime(path)  # used now: the last to be evicted
        except OSError:
            pass
        return self._speech(path, key, length, levels, digest)

    def length(self, key: str) -> int | None:
        """The length (samples) the entry of ``key`` records, from its header alone: for listings,
        which should not read every clip. ``None`` when it is missing or its header is unreadable;
        the checksum is not checked here (``get`` checks it, and a render uses ``get``)."""
        try:
            with open(self._path(key), "rb") as f:
                start = f.read(len(MAGIC) + 4)
                if len(start) < len(MAGIC) + 4 or not start.startswith(MAGIC):
                    return None
                size = struct.unpack_from("<I", start, len(MAGIC))[0]
                head = json.loads(f.read(min(size, 1 << 16)).decode("utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return None
        if not isinstance(head, dict) or head.get("kind") != "clip" or head.get("key") != key:
            return None
        length = head.get("length")
        return length if _count(length, at_least=1) else None

    def measured(self, digest: str) -> dict | None:
        """What was measured of a file whose checksum is ``digest`` (``remember``), if kept."""
        data, _ = _read(self.root / "measured" / f"{digest}.json")
        try:
            values = json.loads(data) if data is not None else None
        except (ValueError, UnicodeDecodeError):
            return None
        return values if isinstance(values, dict) else None

    def remember(self, digest: str, values: dict) -> None:
        """Keep ``values`` (JSON) measured of the file whose checksum is ``digest``; a cache that
        cannot be written is no error (it is measured again next time)."""
        from voiceguide.core.files import atomic_write_text

        folder, text = self.root / "measured", json.dumps(values) + "\n"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_text(folder / f"{digest}.json", text)
        except OSError:
            return
        self._grew(len(text))

    def put(self, key: str, clip: np.ndarray) -> Speech:
        """Store ``clip`` (float32 ``(n, 1)``) and its levels; return the entry. When another process
        stored this key first, its entry is returned instead (both renders then use the same clip).
        Raises ``AudioError`` for samples that are not finite numbers."""
        clip = np.asarray(clip, dtype=np.float32)
        if clip.ndim != 2 or clip.shape[1] != 1:
            raise ValueError(f"a narration clip is (samples, 1), not {clip.shape}")
        if not np.isfinite(clip).all():
            raise AudioError("the voice gave audio with samples that are not numbers (NaN or infinite)")
        pcm, scale = _quantize(clip)
        kept = _dequantize(pcm, scale, 1)
        levels = Levels.of(kept)  # of the samples as they will be read back: a first render is like any other
        header = {"kind": "clip", "key": key, "length": len(pcm), "scale": scale,
                  "loudness": levels.loudness, "true_peak": levels.true_peak, "energy": len(levels.energy)}
        data = _pack(header, pcm, levels.energy.astype("<f4"))
        path = self._path(key)
        for _ in range(3):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                remove_stale_parts(path.parent)  # what a killed render left in this shard
                ours = _create(path, data)
            except OSError:  # a read-only or full cache: this render keeps the clip in memory
                break
            if ours:
                self._grew(len(data))
                return self._speech(path, key, len(pcm), levels, data[-_DIGEST:])
            first = self.get(key)  # another process stored it first; a damaged one is removed
            if first is not None:
                return first
        return Speech(len(kept), levels, lambda: kept.copy())

    def _speech(self, path: Path, key: str, length: int, levels: Levels, digest: bytes) -> Speech:
        return Speech(length, levels, lambda: self._samples(path, key, digest), path, digest, self)

    def _samples(self, path: Path, key: str, digest: bytes) -> np.ndarray:
        """The samples of the entry a render planned with (the same checksum), or a clear error."""
        data, _ = _read(path)
        entry = _clip_entry(data, key) if data is not None else None
        if entry is None or entry[3] != digest:
            raise AudioError(f"{path}: a narration clip in the cache went missing or was damaged while "
                             "rendering (was the cache cleared?); render again")
        length, scale, levels, _ = entry
        return _dequantize(np.frombuffer(data, "<i2", length, _body_start(data)), scale, 1)

    def _derived(self, speech: Speech, name: str, make: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        key = speech.path.name[: -len(SUFFIX)]
        path = self._path(key, "." + hashlib.sha256(name.encode("utf-8")).hexdigest()[:16])
        data, _ = _read(path)
        if data is not None:
            kept = _derived_entry(data, key, name, speech.digest)
            if kept is not None:
                return kept
        made = np.asarray(make(speech.samples()), dtype=np.float32)
        if made.ndim != 2 or not np.isfinite(made).all():
            return made  # nothing a cache can keep
        pcm, scale = _quantize(made)
        header = {"kind": "derived", "key": key, "name": name, "parent": speech.digest.hex(),
                  "length": len(made), "channels": made.shape[1], "scale": scale}
        data = _pack(header, pcm)
        try:
            _write(path, data)  # the same for any writer: made from the same clip
            self._grew(len(data))
        except OSError:  # a read-only or full cache: keep going without it
            pass
        return _dequantize(pcm, scale, made.shape[1])

    def entries(self) -> list[Path]:
        """The clips (not what is derived from them)."""
        return [p for p in self.dir.glob(f"*/*{SUFFIX}") if p.name.count(".") == 1] if self.dir.is_dir() else []

    def _files(self) -> list[tuple[str, Path, os.stat_result]]:
        """Every file the cache keeps, as ``(what, path, stat)``, ``what`` one of ``clip``,
        ``derived``, ``bed``, ``measured`` and ``old`` (left by older versions); not writers'
        temporary files."""
        found = []
        for folder in self._folders():
            for name in _names(folder):
                if name.startswith("."):
                    continue
                try:
                    stat = (folder / name).stat()
                except OSError:
                    continue
                if folder.parent == self.root and folder.name in ("beds", "measured"):
                    what = "bed" if folder.name == "beds" else "measured"
                elif not name.endswith(SUFFIX):
                    what = "old"
                else:
                    what = "clip" if name.count(".") == 1 else "derived"
                found.append((what, folder / name, stat))
        return found

    def contents(self) -> dict[str, tuple[int, int]]:
        """``{what: (files, bytes)}`` for ``clip``, ``derived``, ``bed``, ``measured`` and ``old``."""
        totals = {what: (0, 0) for what in ("clip", "derived", "bed", "measured", "old")}
        for what, _, stat in self._files():
            files, size = totals[what]
            totals[what] = (files + 1, size + stat.st_size)
        return totals

    def usage(self) -> tuple[int, int]:
        """How many clips the cache holds, and the bytes of everything it keeps."""
        files = self._files()
        return sum(what == "clip" for what, _, _ in files), sum(stat.st_size for _, _, stat in files)

    def clear(self) -> tuple[int, int]:
        """Delete everything (and what killed writers left); return how many clips and the bytes."""
        count, size = 0, 0
        for what, path, stat in self._files():
            try:
                path.unlink()
            except OSError:
                continue
            count += what == "clip"
            size += stat.st_size
        for folder in self._folders():
            remove_stale_parts(folder)
        return count, size

    def _folders(self) -> list[Path]:
        """The folders the cache keeps files in."""
        return [self.dir / shard for shard in _names(self.dir)] + [self.root / "beds", self.root / "measured"]

    def trim(self, limit: int | None = None) -> int:
        """Remove the entries used least recently (each with what is derived from it; generated beds
        too) until the cache holds at most ``limit`` bytes (default: its own), sparing those used in
        the last ``RECENT`` seconds. Returns the bytes removed."""
        limit = self.limit if limit is None else limit
        if limit is None:
            return 0
        groups: dict[Path, list] = {}  # one entry's files: last used, bytes, paths
        for _, path, stat in self._files():
            group = groups.setdefault(path.with_name(path.name.split(".")[0]), [0.0, 0, []])
            group[0] = max(group[0], stat.st_mtime)
            group[1] += stat.st_size
            group[2].append(path)
        total = sum(size for _, size, _ in groups.values())
        removed = 0
        recent = time.time() - RECENT
        for used, size, paths in sorted(groups.values(), key=lambda g: g[0]):
            if total - removed <= limit or used > recent:
                break
            for path in sorted(paths, key=lambda p: p.name.count(".")):  # the clip first
                try:
                    path.unlink(missing_ok=True)
                except OSError:
                    pass
            removed += size
        return removed

    def _grew(self, size: int) -> None:
        """Count what this cache wrote; now and then (and at its first write) trim to the limit."""
        self._written += size
        if self.limit is not None and self._written >= self._trim_after:
            self.trim()
            self._trim_after = self._written + max(self.limit // 16, 1 << 20)


# --- the entry format ----------------------------------------------------------------------------


def _pack(header: dict, *arrays: np.ndarray) -> bytes:
    """``MAGIC``, the header's length (4 bytes) and JSON, the arrays, then SHA-256 of all that."""
    head = json.dumps(header, sort_keys=True).encode("utf-8")
    body = b"".join([MAGIC, struct.pack("<I", len(head)), head, *(a.tobytes() for a in arrays)])
    return body + hashlib.sha256(body).digest()


def _body_start(data: bytes) -> int:
    return len(MAGIC) + 4 + struct.unpack_from("<I", data, len(MAGIC))[0]


def _unpack(data: bytes) -> tuple[dict, int] | None:
    """The header and where the arrays start, if ``data`` is whole (magic and checksum right)."""
    if len(data) < len(MAGIC) + 4 + _DIGEST or not data.startswith(MAGIC):
        return None
    view = memoryview(data)
    if hashlib.sha256(view[:-_DIGEST]).digest() != data[-_DIGEST:]:
        return None
    start = _body_start(data)
    if start > len(data) - _DIGEST:
        return None
    try:
        header = json.loads(bytes(view[len(MAGIC) + 4: start]).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return (header, start) if isinstance(header, dict) else None


def _count(value, *, at_least: int = 0) -> bool:
    return type(value) is int and value >= at_least


def _number(value) -> bool:
    """A real number, not NaN, not +inf (``-inf`` is the loudness of silence)."""
    return type(value) in (int, float) and not math.isnan(value) and value != math.inf


def _scale_ok(scale) -> bool:
    return type(scale) in (int, float) and 0.0 <= scale <= _MAX_PEAK / _FULL_SCALE


def _clip_entry(data: bytes, key: str) -> tuple[int, float, Levels, bytes] | None:
    """``(length, scale, levels, digest)`` of a clip entry that is whole, is the entry of ``key``
    and holds sane values; ``None`` otherwise."""
    unpacked = _unpack(data)
    if unpacked is None:
        return None
    head, start = unpacked
    length, bins = head.get("length"), head.get("energy")
    if (head.get("kind") != "clip" or head.get("key") != key or not _count(length, at_least=1)
            or not _count(bins) or bins * ENERGY_STEP != Levels.covering(length)
            or not _scale_ok(head.get("scale")) or not _number(head.get("loudness"))
            or not _number(head.get("true_peak")) or len(data) - _DIGEST - start != 2 * length + 4 * bins):
        return None
    energy = np.frombuffer(data, "<f4", bins, start + 2 * length).astype(np.float32)
    if not (np.isfinite(energy).all() and (energy >= 0).all()):
        return None
    levels = Levels(float(head["loudness"]), float(head["true_peak"]), energy)
    return length, float(head["scale"]), levels, data[-_DIGEST:]


def _derived_entry(data: bytes, key: str, name: str, parent: bytes) -> np.ndarray | None:
    """The samples of a derived entry made as ``name`` from the entry whose checksum is ``parent``."""
    unpacked = _unpack(data)
    if unpacked is None:
        return None
    head, start = unpacked
    length, channels = head.get("length"), head.get("channels")
    if (head.get("kind") != "derived" or head.get("key") != key or head.get("name") != name
            or head.get("parent") != parent.hex() or not _count(length) or not _count(channels, at_least=1)
            or not _scale_ok(head.get("scale")) or len(data) - _DIGEST - start != 2 * length * channels):
        return None
    return _dequantize(np.frombuffer(data, "<i2", length * channels, start), float(head["scale"]), channels)


def _quantize(samples: np.ndarray) -> tuple[np.ndarray, float]:
    """16-bit samples scaled to the peak (little-endian, interleaved), and the scale that gives them
    back (a float32 value): the error is at most half a step, 96 dB under the clip's peak."""
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak > _MAX_PEAK:
        raise AudioError(f"the voice gave audio {20 * math.log10(peak):.0f} dB over full scale")
    scale = float(np.float32(peak / _FULL_SCALE))
    if scale == 0.0:
        return np.zeros(samples.size, "<i2"), 0.0
    steps = np.rint(samples.reshape(-1) / np.float32(scale))
    return np.clip(steps, -_FULL_SCALE, _FULL_SCALE).astype("<i2"), scale


def _dequantize(pcm: np.ndarray, scale: float, channels: int) -> np.ndarray:
    out = pcm.astype(np.float32).reshape(-1, channels)
    out *= np.float32(scale)
    return out


# --- files -----------------------------------------------------------------------------------------


def _names(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def _read(path: Path) -> tuple[bytes | None, os.stat_result | None]:
    """The file's bytes and its identity as read, or ``(None, None)`` when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(), os.fstat(f.fileno())
    except OSError:
        return None, None


def _remove_if_unchanged(path: Path, seen: os.stat_result) -> None:
    """Remove ``path`` if it is still the file read as ``seen`` (not one another process just wrote)."""
    try:
        now = path.stat()
        if (now.st_ino, now.st_mtime_ns, now.st_size) == (seen.st_ino, seen.st_mtime_ns, seen.st_size):
            path.unlink()
    except OSError:
        pass


def _written(path: Path, data: bytes) -> Path:
    """A temporary file beside ``path`` holding ``data``, on disk, with the usual mode."""
    tmp = temporary(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~umask())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _create(path: Path, data: bytes) -> bool:
    """Put ``data`` at ``path`` whole, unless a file is there already (first writer wins); say
    whether it went in. Where the file system has no hard links, the last writer wins instead."""
    tmp = _written(path, data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:
        os.replace(tmp, path)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` whole (last writer wins)."""
    tmp = _written(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
