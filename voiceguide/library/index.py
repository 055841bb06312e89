"""The library's index: its manifest (what each output was made from, and is), and the playlist,
feed and page made from it, in the library's order; each written whole, one build at a time.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from voiceguide import __version__
from voiceguide.core.files import atomic_write_text, safe_name
from voiceguide.library import feed
from voiceguide.library.hashes import Hashes
from voiceguide.library.pictures import chapter_pictures
from voiceguide.library.versions import remove_old_versions, versioned

MANIFEST = ".voiceguide-build.json"
LOCK = ".voiceguide-build.lock"
PLAYLIST = "library.m3u8"
FEED = "feed.xml"
PAGE = "index.html"
#: Files a routine's render leaves in the output folder that the index links, by suffix after its id.
LINKED_SUFFIXES = (".mp3", ".lrc", ".vtt", ".srt", ".chapters.json", ".cover.png", ".cover.jpg")
#: Every file a routine's render leaves in the output folder (the audiobook only with ``m4b``),
#: besides its chapters' pictures (``library.pictures``), which the index links too.
UNLINKED_SUFFIXES = (".m4b",)
OUTPUT_SUFFIXES = (*LINKED_SUFFIXES, *UNLINKED_SUFFIXES)


FIRST = ("lymphatic",)
"""The routines listed first, in this order: the starter library's lymphatic drainage. Until the
format can say it (a ``track:`` per routine, an order in ``_defaults.yaml``), the order is set
here; the format will then feed ``library_order`` instead."""


def library_order(ids: Iterable[str], first: Iterable[str] = FIRST) -> list[str]:
    """Routine ids in the library's order, the one rule of the track numbers, playlist, feed and
    page: those in ``first`` (in that order, where they exist), then the rest by id."""
    ids, first = set(ids), list(dict.fromkeys(first))
    return [rid for rid in first if rid in ids] + sorted(ids - set(first))


def _listed(manifest: dict) -> list[str]:
    """The manifest's targets in ``library_order``, each routine's variants after it."""
    of = {target: known["entry"].get("of", target) for target, known in manifest.items()}
    place = {rid: n for n, rid in enumerate(library_order(of.values()))}
    return sorted(manifest, key=lambda target: (place[of[target]], target))


def _update_index(out_dir: Path, targets: list[str], unreadable: set[str], built: dict[str, dict],
                  hashes: Hashes, settings, full: bool, shelves: Iterable[tuple[str, Path]] = ()) -> None:
    """Merge what was built into the library's index and write it (with the playlist, feed and
    page); a ``full`` build also removes what is no longer a target (a routine and its variants),
    except the variants of a routine that cannot be read now (``unreadable``), kept until it can.
    ``shelves`` are the library's folders, one per language (code, folder), that its page links."""
    with library_lock(out_dir):  # another build may have written the index since: merge into it
        index = _read_index(out_dir)
        manifest = index["routines"]
        linked_before = versioned(manifest)
        for rid, result in built.items():
            old = manifest.get(rid, {})
            same_audio = old.get("version") == result["version"] and old.get("published")
            manifest[rid] = {"fingerprint": result["fingerprint"], "entry": result["entry"],
                             "size": result["size"], "outputs": result["outputs"], "version": result["version"],
                             "published": old["published"] if same_audio else int(time.time())}
        if full:  # what no longer has a script goes
            current = set(targets)
            for rid in [r for r in manifest if r not in current and manifest[r]["entry"].get("of", r) not in unreadable]:
                for suffix in OUTPUT_SUFFIXES:
                    (out_dir / f"{safe_name(rid)}{suffix}").unlink(missing_ok=True)
                for picture in chapter_pictures(out_dir, safe_name(rid)):
                    picture.unlink(missing_ok=True)
                del manifest[rid]
        known = {**index.get("hashes", {}), **hashes.known}
        _write_index(out_dir, manifest, {path: v for path, v in known.items() if os.path.exists(path)}, settings,
                     shelves)
        remove_old_versions(out_dir, linked_before - versioned(manifest), keep=versioned(manifest))


def _read_index(out_dir: Path) -> dict:
    """The manifest: ``routines`` (what each routine's outputs were made from, and are) and
    ``hashes`` (see ``Hashes``); empty for another version of voiceguide."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"routines": {}}
    return data if data.get("voiceguide") == __version__ and isinstance(data.get("routines"), dict) \
        else {"routines": {}}


@contextlib.contextmanager
def library_lock(out_dir: Path) -> Iterator[None]:
    """Hold the library folder's lock: builds into one folder write its index one at a time. On
    POSIX the folder itself is locked (``flock``); on Windows a ``.voiceguide-build.lock`` in it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if sys.platform == "win32":
        import msvcrt

        with open(out_dir / LOCK, "a+b") as f:
            while True:
                try:
                    msvcrt.locking(f.fileno(), msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after 10 s: try again
                    continue
            try:
                yield
            finally:
                f.seek(0)
                msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fd = os.open(out_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # and with it the lock


def _write_index(out_dir: Path, manifest: dict, hashes: dict, settings,
                 shelves: Iterable[tuple[str, Path]] = ()) -> None:
    """The playlist, feed, page and manifest, each written whole; the page links the pages of
    ``shelves``, the library in each language (code, folder)."""
    from voiceguide.library.page import render_index

    out_dir.mkdir(parents=True, exist_ok=True)
    entries = [manifest[r]["entry"] for r in _listed(manifest)]
    title = settings.title or _common_album(entries)
    atomic_write_text(out_dir / PLAYLIST, feed.m3u8(entries))
    language = settings.language or "en"
    atomic_write_text(out_dir / FEED, _rss(title, manifest, settings.base_url, language))
    libraries = [(code, Path(os.path.relpath(folder / PAGE, out_dir)).as_posix()) for code, folder in shelves]
    atomic_write_text(out_dir / PAGE, render_index(title, entries, language=language, libraries=libraries))
    atomic_write_text(out_dir / MANIFEST, json.dumps({"voiceguide": __version__, "title": title,
                                                      "language": language, "routines": manifest,
                                                      "hashes": hashes},
                                                     indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def _rss(title: str, manifest: dict, base_url: str, language: str = "en") -> str:
    items = [feed.Item.of(manifest[r]["entry"], manifest[r]["size"],
                          manifest[r].get("published", manifest[r].get("first_built", 0)))  # or an older build's
             for r in _listed(manifest)]
    return feed.rss(title, items, base_url, language)


def feed_text(out_dir: Path, base_url: str) -> str:
    """The feed of a built library folder, with links under ``base_url`` (for ``serve``)."""
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    return _rss(data.get("title") or "voiceguide library", data.get("routines", {}), base_url,
                data.get("language") or "en")


def _common_album(entries: list[dict]) -> str:
    albums = [e.get("album") for e in entries if e.get("album") and e.get("album") != "voiceguide"]
    return max(set(albums), key=albums.count) if albums else "voiceguide library"
