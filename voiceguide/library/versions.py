"""Versioned names: the feed, playlist and page link each routine's files as
``v/<audio version>/<name><suffix>``, hard links to the files in the library folder (copies where
the file system has none); a version the index no longer links is removed once a new index is in
place (see ``build``'s module docstring)."""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import shutil
import time
from pathlib import Path

from voiceguide.core.files import OLD_PART_AGE, remove_stale_parts

VERSIONS = "v"
"""The folder of versioned names: ``v/<version>/<name><suffix>`` (see the module's docstring)."""
VERSION_LENGTH = 12
"""Hex digits of the audio hash in a version."""
WRITING: set[Path] = set()
"""The folders this worker writes into, whose temporary files it removes if stopped abruptly."""


def link_version(out_dir: Path, folder: str, files: list[Path]) -> list[Path]:
    """``files`` (in ``out_dir``) under their versioned names in ``out_dir/folder``: each a hard
    link (a copy where the file system has none), put in place by a rename. The versions folder
    holds a ``.nomedia`` file, so that Android's media scanner does not list a session twice when
    the library is copied to a phone."""
    target_dir = out_dir / folder
    for attempt in range(3):  # a build cleaning up may remove the (empty) folder just made
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
            (out_dir / VERSIONS / ".nomedia").touch()
            return [link(file, target_dir / file.name) for file in files]
        except FileNotFoundError:
            if attempt == 2:
                raise
    return []


def link(file: Path, target: Path) -> Path:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    WRITING.add(target.parent)
    try:
        try:
            os.link(file, tmp)
        except OSError:  # FAT, exFAT, some network shares: no hard links
            shutil.copyfile(file, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        WRITING.discard(target.parent)
    return target


def versioned(manifest: dict) -> set[str]:
    """The versioned names (``v/...``) the routines in ``manifest`` link."""
    return {name for known in manifest.values() for name in known.get("outputs", ())
            if name.startswith(VERSIONS + "/")}


def remove_old_versions(out_dir: Path, old: set[str], keep: set[str]) -> None:
    """Remove the versioned files in ``old`` (what the previous index linked and the new one does
    not) and version folders left empty; also what a build killed before indexing left, once it
    is a day old (never a concurrent build's new files, which no index links yet). Never a file of
    ``keep``, which the current index links. Call it with the library lock held, after the new
    index is in place."""
    versions = out_dir / VERSIONS
    if not versions.is_dir():
        return
    doomed = set(old)
    now = time.time()
    for folder in versions.iterdir():
        if not folder.is_dir() or folder.name.startswith("."):
            continue
        remove_stale_parts(folder)
        for file in folder.iterdir():
            name = f"{VERSIONS}/{folder.name}/{file.name}"
            with contextlib.suppress(OSError):
                if name not in keep and not file.name.startswith(".") and now - file.stat().st_mtime > OLD_PART_AGE:
                    doomed.add(name)
    for name in doomed - keep:
        (out_dir / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            (out_dir / posixpath.dirname(name)).rmdir()  # only when empty
