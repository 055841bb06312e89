"""Writing files whole or not at all: a temporary file beside the target, renamed into place.

Temporary files are named ``.NAME.PID.XXXXXXXX.part`` (``NAME`` the target's name, ``PID`` the
writing process's). A process killed outright (SIGKILL, a power cut) cannot remove its own, so every
render and build calls ``remove_stale_parts`` on the folder it writes: it removes only those whose
process is gone, never a live concurrent build's. ``safe_name`` makes output names that every file
system a phone syncs from (FAT32, exFAT, NTFS, ext4, APFS) accepts.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import unicodedata
from pathlib import Path

SCRIPTS_DIR = Path("scripts_yaml")
"""Where routine files are read from unless a command is told otherwise (relative to the working folder)."""
OUTPUT_DIR = Path("output")
"""Where renders and builds write unless told otherwise."""
PART = ".part"
_PART_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.part")
#: Temporary files of the old naming (no PID) older than this (seconds) are stale too.
OLD_PART_AGE = 24 * 3600.0


def umask() -> int:
    """The process's file-creation mask (read without changing it for long)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temporary(path: str | Path, suffix: str = "") -> Path:
    """A new empty temporary file beside ``path``, named ``.NAME[SUFFIX].PID.XXXXXXXX.part``."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{suffix}.{os.getpid()}.", suffix=PART)
    os.close(fd)
    return Path(name)


def publish(tmp: str | Path, target: str | Path) -> None:
    """Give ``tmp`` the usual mode (mkstemp makes 0600) and rename it onto ``target``."""
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, target)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # a full disk says which file it could not write
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: alive, as far as we can tell
    return True


def stale_parts(folder: str | Path) -> list[Path]:
    """The temporary files in ``folder`` left by processes that are gone."""
    folder = Path(folder)
    try:
        names = [e.name for e in os.scandir(folder) if e.name.startswith(".") and e.name.endswith(PART)]
    except OSError:
        return []
    stale = []
    for name in names:
        found = _PART_NAME.fullmatch(name)
        if found is not None:
            if not _alive(int(found["pid"])):
                stale.append(folder / name)
            continue
        try:  # the naming before PIDs: stale once old
            if time.time() - (folder / name).stat().st_mtime > OLD_PART_AGE:
                stale.append(folder / name)
        except OSError:
            pass
    return stale


def remove_own_parts(folder: str | Path, of: str | None = None) -> None:
    """Remove the temporary files in ``folder`` that this process is writing (before it ends
    abruptly); with ``of``, only those for the file of that name."""
    mine = str(os.getpid())
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        found = _PART_NAME.fullmatch(entry.name)
        if found is not None and found["pid"] == mine and of in (None, found["name"]):
            Path(entry.path).unlink(missing_ok=True)


def remove_stale_parts(folder: str | Path) -> int:
    """Remove the temporary files in ``folder`` whose writing process is gone; return how many."""
    removed = 0
    for path in stale_parts(folder):
        try:
            path.unlink()
            removed += 1
        except OSError:
            pass
    return removed


_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
             *(f"COM{i}" for i in "123456789¹²³"), *(f"LPT{i}" for i in "123456789¹²³")}
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
MAX_NAME_BYTES = 200
"""Longest base name kept (in UTF-8 bytes), leaving room for suffixes within the usual 255."""


def safe_name(name: str, fallback: str = "routine") -> str:
    """``name`` as a file base name every file system a phone syncs from accepts, kept readable:
    each of ``<>:"/\\|?*`` and control characters becomes ``_``, trailing dots and spaces go, a
    reserved Windows name (``CON``, ``NUL``, ``COM1``..., with any extension) gets a ``_``, and it is
    at most ``MAX_NAME_BYTES`` long. ``morning glow?`` -> ``morning glow_``; ``..`` -> ``_``."""
    text = unicodedata.normalize("NFC", str(name))
    text = _UNSAFE.sub("_", text).strip(" ")
    text = text.rstrip(". ")
    if not text.strip("."):
        text = "_" * bool(name) or fallback
    if text.startswith("."):
        text = "_" + text[1:]  # no hidden files (and no '..')
    if text.split(".")[0].upper().rstrip(" ") in _RESERVED:
        text = text + "_" if "." not in text else text.replace(".", "_.", 1)
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_NAME_BYTES:
        text = encoded[:MAX_NAME_BYTES].decode("utf-8", "ignore").rstrip(". ") or fallback
    return text


def target_of(path: str | Path) -> Path:
    """The file a temporary file (``.NAME.PID.XXXXXXXX.part``) is written for; other paths as they are."""
    path = Path(path)
    found = _PART_NAME.fullmatch(path.name)
    return path.with_name(found["name"]) if found is not None else path


def os_error_message(exc: OSError) -> str:
    """What went wrong with a file, for the user: ``cannot write output/x.mp3: Permission denied``
    (a temporary file is named by its target)."""
    import errno

    filename = exc.filename
    if filename is not None:
        given = Path(os.fsdecode(filename))
        path = target_of(given)
        reading = exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR) and path == given
        return f"cannot {'read' if reading else 'write'} {path}: {exc.strerror or exc}"
    return f"cannot write: {exc.strerror or exc}"
