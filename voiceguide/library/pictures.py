"""The pictures a build writes beside each routine's MP3, taken from its tags: the cover (the
feed's and the page's artwork) and each chapter's picture (``NAME.ch01.png``, ...: the chapters
JSON's ``img`` and the page's step picture). They are siblings of the MP3 and of its chapters
JSON, under its plain name and its versioned one alike, so the JSON links each by its bare file name."""

from __future__ import annotations

import re
from pathlib import Path

from voiceguide.core.files import atomic_write_bytes


def _extension(mime: str) -> str:
    return "jpg" if mime == "image/jpeg" else "png"


def write_pictures(mp3: Path, out_dir: Path, name: str) -> tuple[str | None, list[str | None]]:
    """Write the MP3's cover (``NAME.cover.png``) and its chapters' pictures (``NAME.chNN.png``, in
    chapter order) into ``out_dir``, removing chapter pictures of ``name`` an earlier build left
    that this one does not write; the cover's file name and each chapter's (``None`` without one)."""
    from voiceguide.export.tags import read_tags

    tags = read_tags(mp3)
    cover = None
    if tags.cover is not None:
        cover = f"{name}.cover.{_extension(tags.cover.mime)}"
        atomic_write_bytes(out_dir / cover, tags.cover.data)
    pictures: list[str | None] = []
    for number, chapter in enumerate(tags.chapters, 1):
        if chapter.image is None:
            pictures.append(None)
            continue
        pictures.append(f"{name}.ch{number:02d}.{_extension(chapter.image.mime)}")
        atomic_write_bytes(out_dir / pictures[-1], chapter.image.data)
    for old in chapter_pictures(out_dir, name):
        if old.name not in pictures:
            old.unlink(missing_ok=True)
    return cover, pictures


def chapter_pictures(out_dir: Path, name: str) -> list[Path]:
    """The chapter pictures of ``name`` in ``out_dir``."""
    pattern = re.compile(re.escape(name) + r"\.ch\d{2,}\.(png|jpg)")
    try:
        return sorted(p for p in out_dir.iterdir() if pattern.fullmatch(p.name))
    except FileNotFoundError:
        return []
