"""A content-addressed store of synthesized narration, so a text is spoken once per voice.

An entry is keyed by everything that shapes the speech: engine and its version, voice, rate,
volume and the text. It is two files: the clip (``KEY.npy``) and its levels (``KEY.levels``:
loudness, true peak and energy envelope, ``loudness.Levels``), and what mastering made of it
(``KEY.NAME.npy``, ``Speech.derived``), each written atomically (a temporary file renamed into
place), so two renders sharing the cache never see half an entry; a damaged or missing part is made
again. A render holds only the levels; it reads a clip's samples when the mix
reaches it (``Speech``), so its memory does not grow with the narration.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import AudioError
from .files import remove_stale_parts, temporary
from .loudness import Levels

ENV = "VOICEGUIDE_CACHE"


def default_dir() -> Path:
    """``$VOICEGUIDE_CACHE``, else the user's cache folder (XDG on Linux) plus ``voiceguide``."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    import platformdirs

    return Path(platformdirs.user_cache_dir("voiceguide", appauthor=False))


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
        everything ``make`` depends on."""
        if self.path is None:
            return make(self.samples())
        path = self.path.with_name(f"{self.path.stem}.{name}.npy")
        try:
            kept = np.load(path, allow_pickle=False)
            if kept.dtype == np.float32 and np.isfinite(kept).all():
                return kept
        except (OSError, ValueError, EOFError):
            pass
        made = np.ascontiguousarray(make(self.samples()), dtype=np.float32)
        try:
            NarrationCache.write(path, made)
        except OSError:  # a read-only or full cache: keep going without it
            pass
        return made


class NarrationCache:
    """Narration clips by content key, under ``root/narration``."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root if root is not None else default_dir())
        """The cache folder (narration is kept in ``root/narration``; other things may share it)."""
        self.dir = self.root / "narration"

    @staticmethod
    def key(**fields) -> str:
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.npy"

    def get(self, key: str) -> Speech | None:
        """The entry, or ``None`` when it is missing or damaged (a damaged one is removed)."""
        path = self._path(key)
        try:
            header = np.load(path, mmap_mode="r", allow_pickle=False)  # reads the header, checks the size
            length = len(header) if header.dtype == np.float32 and header.ndim == 2 and header.shape[1] == 1 else -1
            del header
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            length = -1
        if length < 0:
            path.unlink(missing_ok=True)  # damaged: make it again
            return None
        levels = self._levels(path, length)
        if levels is None:
            clip = _read_clip(path)
            if clip is None:
                path.unlink(missing_ok=True)
                return None
            levels = Levels.of(clip)
            self.write(_levels_path(path), levels.to_array())
        return Speech(length, levels, lambda: _clip(path), path)

    def put(self, key: str, clip: np.ndarray) -> Speech:
        """Store ``clip`` (float32 ``(n, 1)``) and its levels; return the entry."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(path.parent)  # what a killed render left in this shard
        clip = np.ascontiguousarray(clip, dtype=np.float32)
        levels = Levels.of(clip)
        self.write(_levels_path(path), levels.to_array())  # first: a clip is never there without them
        self.write(path, clip)
        return Speech(len(clip), levels, lambda: _clip(path), path)

    @staticmethod
    def write(path: Path, values: np.ndarray) -> None:
        """Save ``values`` to ``path`` (``.npy``) atomically: whole, or not at all."""
        tmp = temporary(path)
        try:
            with open(tmp, "wb") as f:
                np.save(f, values, allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @staticmethod
    def _levels(path: Path, length: int) -> Levels | None:
        """The clip's stored levels, if they are whole and belong to a clip of this length."""
        try:
            with open(_levels_path(path), "rb") as f:
                values = np.load(f, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if values.dtype != np.float32 or values.ndim != 1 or len(values) < 2:
            return None
        levels = Levels.from_array(values)
        return levels if levels.length == Levels.covering(length) else None

    def entries(self) -> list[Path]:
        """The clips (not their levels, nor what is derived from them)."""
        return [p for p in self.dir.glob("*/*.npy") if "." not in p.stem] if self.dir.is_dir() else []

    def _files(self) -> list[Path]:
        """Every file the cache keeps (not the temporary files of writers at work)."""
        if not self.dir.is_dir():
            return []
        return [p for p in self.dir.glob("*/*") if p.is_file() and not p.name.startswith(".")]

    def usage(self) -> tuple[int, int]:
        """How many clips the cache holds, and the bytes of everything it keeps for them."""
        return len(self.entries()), sum(_size(f) for f in self._files())

    def clear(self) -> tuple[int, int]:
        """Delete everything (and what killed writers left); return how many clips and their bytes."""
        count, size = self.usage()
        for file in self._files():
            file.unlink(missing_ok=True)
        for shard in (self.dir.iterdir() if self.dir.is_dir() else ()):
            remove_stale_parts(shard)
        return count, size


def _levels_path(clip: Path) -> Path:
    return clip.with_suffix(".levels")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_clip(path: Path) -> np.ndarray | None:
    """A cached clip, or ``None`` when it is missing or damaged."""
    try:
        clip = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if clip.dtype != np.float32 or clip.ndim != 2 or clip.shape[1] != 1 or not np.isfinite(clip).all():
        return None
    return clip


def _clip(path: Path) -> np.ndarray:
    clip = _read_clip(path)
    if clip is None:
        raise AudioError(f"{path}: a narration clip in the cache went missing or was damaged while "
                         "rendering (was the cache cleared?); render again")
    return clip
