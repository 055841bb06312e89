"""Content hashes of a library's files, kept with each file's stamp (size, times, inode) so that
an incremental build hashes again only what changed, and the check that a routine's outputs are
all there as its last build left them."""

from __future__ import annotations

import hashlib
from pathlib import Path


class Hashes:
    """Files' content hashes, each kept with the file's size, modification and change times and
    inode: a file is hashed again only when one of them changed. The change time cannot be set
    back, so a same-size change with its modification time restored is still noticed."""

    def __init__(self, known: dict[str, list] | None = None):
        self.known = dict(known or {})
        """Path -> [size, modification time, change time, inode, SHA-256]."""

    def digest(self, path: Path) -> str:
        """The SHA-256 of the file at ``path`` (``OSError`` if it cannot be read)."""
        key = str(path)
        now = stamp(path)
        known = self.known.get(key)
        if not known or known[:-1] != now:
            known = self.known[key] = [*now, file_digest(path)]
        return known[-1]


def stamp(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def outputs_intact(out_dir: Path, known: dict, hashes: Hashes) -> bool:
    """Whether every file a routine's build left (MP3, lyrics, chapters, cover) is there as it was."""
    outputs = known.get("outputs")
    if not outputs:
        return False
    try:
        return all(hashes.digest(out_dir / name) == digest for name, digest in outputs.items())
    except OSError:
        return False
