"""A content-addressed store of synthesized narration, so a text is spoken once per voice.

An entry is keyed by everything that shapes the speech: engine and its version, voice, rate,
volume and the text. Entries are ``.npy`` files written atomically (a temporary file renamed into
place), so two renders sharing the cache never see half an entry; a damaged entry reads as missing
and is made again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .files import remove_stale_parts, temporary

ENV = "VOICEGUIDE_CACHE"


def default_dir() -> Path:
    """``$VOICEGUIDE_CACHE``, else the user's cache folder (XDG on Linux) plus ``voiceguide``."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    import platformdirs

    return Path(platformdirs.user_cache_dir("voiceguide", appauthor=False))


class NarrationCache:
    """Narration clips by content key, under ``root/narration``."""

    def __init__(self, root: str | Path | None = None):
        self.dir = Path(root if root is not None else default_dir()) / "narration"

    @staticmethod
    def key(**fields) -> str:
        blob = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        path = self._path(key)
        try:
            clip = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            path.unlink(missing_ok=True)  # damaged: make it again
            return None
        if clip.dtype != np.float32 or clip.ndim != 2 or clip.shape[1] != 1 or not np.isfinite(clip).all():
            path.unlink(missing_ok=True)
            return None
        return clip

    def put(self, key: str, clip: np.ndarray) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(path.parent)  # what a killed render left in this shard
        tmp = temporary(path)
        try:
            with open(tmp, "wb") as f:
                np.save(f, np.ascontiguousarray(clip, dtype=np.float32), allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def entries(self) -> list[Path]:
        return list(self.dir.glob("*/*.npy")) if self.dir.is_dir() else []

    def usage(self) -> tuple[int, int]:
        """How many clips the cache holds, and their bytes."""
        files = self.entries()
        return len(files), sum(f.stat().st_size for f in files)

    def clear(self) -> tuple[int, int]:
        """Delete every clip (and what killed writers left); return how many clips and their bytes."""
        count, size = self.usage()
        for file in self.entries():
            file.unlink(missing_ok=True)
        for shard in (self.dir.iterdir() if self.dir.is_dir() else ()):
            remove_stale_parts(shard)
        return count, size
