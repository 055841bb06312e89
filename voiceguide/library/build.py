"""The library: render many routines, in parallel and incrementally, and index them.

A routine is rendered again only when something that shapes its MP3 changed: its script, the
library's shared scripts (defaults and snippets), the sound and background files it uses, the
engine, voice and their versions, the render settings, or voiceguide itself. What each output was
made from is kept in a manifest in the output folder. Each routine renders in its own task; one
that fails is reported and the others go on.

The feed, playlist and page link each routine's files under a versioned name,
``v/<audio version>/<name>.mp3`` (and its ``.lrc``, captions, chapters and cover beside it): hard
links to the files in the folder (copies where the file system has none), so no extra space. The
version is the start of the hash of the MP3's audio, not its tags (``probe.audio_digest``), so an
episode's enclosure URL and guid change when what is heard changes, and only then: a retitled step
or a new cover updates the episode in place, while podcast apps fetch an edited routine again
instead of keeping the copy they have. Its ``pubDate`` is when its audio last changed. Once a new
index is in place, the versioned files the old index linked and the new one does not are removed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import os
import posixpath
import signal
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from voiceguide import __version__
from voiceguide import render as lib
from voiceguide.core import processes
from voiceguide.core.audio import samples_to_ms
from voiceguide.core.errors import ScriptError, UsageError, VoiceguideError
from voiceguide.core.files import (
    atomic_write_text,
    os_error_message,
    remove_own_parts,
    remove_stale_parts,
    safe_name,
)
from voiceguide.export.mp3 import Mp3Settings
from voiceguide.library import feed
from voiceguide.library.hashes import Hashes, outputs_intact
from voiceguide.library.index import (  # noqa: F401 - the library's names, used by its callers
    FEED,
    FIRST,
    LINKED_SUFFIXES,
    LOCK,
    MANIFEST,
    OUTPUT_SUFFIXES,
    PAGE,
    PLAYLIST,
    UNLINKED_SUFFIXES,
    _read_index,
    _update_index,
    feed_text,
    library_lock,
    library_order,
)
from voiceguide.library.pictures import write_pictures
from voiceguide.library.versions import (  # noqa: F401 - VERSIONS: the library's own name for it
    VERSION_LENGTH,
    VERSIONS,
    WRITING,
    link_version,
    remove_old_versions,
    versioned,
)
from voiceguide.plan.timeline import Plan
from voiceguide.plan.variants import Variant, variants_of
from voiceguide.script.model import BUILTIN_BEDS, BUILTIN_SOUNDS, Routine
from voiceguide.script.words import LANGUAGES
from voiceguide.voice import engines
from voiceguide.voice.cache import NarrationCache
from voiceguide.voice.cache import default_dir as default_cache_dir


@dataclass(frozen=True)
class BuildSettings:
    """Everything about a build that is not in the scripts."""

    scripts_dir: Path = lib.SCRIPTS_DIR
    out_dir: Path = lib.OUTPUT_DIR
    cache_dir: Path | None = None
    mp3: Mp3Settings = Mp3Settings()
    title: str | None = None
    """The library's title (feed, page); default: the routines' album."""
    base_url: str = ""
    """Where the output folder is served from, for the feed's links; empty: relative links."""
    m4b: bool = False
    """Also write each routine's ``NAME.m4b`` audiobook (AAC, chapters, cover)."""
    language: str | None = None
    """The language the folder's routines are rendered in (``build`` sets it for each folder it
    writes); ``None``: each routine's first."""


@dataclass(frozen=True)
class Outcome:
    """What happened to one routine in a build."""

    id: str
    status: str
    """``built``, ``unchanged`` or ``failed``."""
    seconds: float = 0.0
    duration_ms: float = 0.0
    message: str = ""


@dataclass(frozen=True)
class BuildReport:
    outcomes: tuple[Outcome, ...]
    seconds: float
    error: str = ""
    """Why the playlist, feed, page or index could not be written (the old ones stay); "" if they were."""

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def build(names: Iterable[str] = (), settings: BuildSettings = BuildSettings(), jobs: int | None = None,
          executor: Executor | None = None,
          on_event: Callable[[str, str, Outcome | None], None] | None = None) -> BuildReport:
    """Render the routines named (default: every routine in ``settings.scripts_dir``) into
    ``settings.out_dir``, skipping those whose inputs did not change, then write the playlist, the
    feed and the page. ``executor`` may be any ``concurrent.futures`` executor; by default a
    process pool of ``jobs`` workers (one per core), or this process when ``jobs`` is 1.

    ``on_event(kind, routine_id, outcome)`` is called with kind ``"queued"``, ``"started"`` and
    ``"done"`` (with the outcome) so a caller can show progress.
    """
    started = time.monotonic()
    notify = on_event or (lambda kind, rid, outcome: None)
    # Workers may be other processes or machines: give them absolute paths and one cache.
    settings = dataclasses.replace(settings, out_dir=Path(settings.out_dir).resolve(),
                                   scripts_dir=Path(settings.scripts_dir).resolve(),
                                   cache_dir=Path(settings.cache_dir or default_cache_dir()).resolve())
    out_dir = settings.out_dir
    paths = _routine_paths(names, settings.scripts_dir)
    refuse_collisions(paths, settings.scripts_dir)
    tracks = track_numbers(paths, settings.scripts_dir)  # a routine's variants share its number
    taken = {safe_name(p.stem).casefold() for p in lib.routine_files(settings.scripts_dir)}
    folders: dict[str, _Folder] = {}
    for language, speakers in _by_language(paths, settings, full=not names).items():
        folder = _Folder(dataclasses.replace(settings, language=language, out_dir=language_folder(out_dir, language,
                                                                                                  settings.scripts_dir)))
        folder.plan(speakers, tracks, taken, notify)
        folders[language] = folder
    todo = [job for folder in folders.values() for job in folder.todo]
    rendering = _render_all(todo, jobs, executor, notify)
    try:
        for shown, result in rendering:
            folder = folders[result.pop("language")]
            rid = shown.rsplit("/", 1)[-1]
            folder.outcomes[rid] = dataclasses.replace(result.pop("outcome"), id=shown)
            if folder.outcomes[rid].status == "built":
                folder.hashes.known.update(result.pop("hashes"))
                folder.built[rid] = result
            notify("done", shown, folder.outcomes[rid])
    finally:
        rendering.close()  # on Ctrl-C: the workers are stopped now, not at exit

    outcomes = tuple(o for folder in folders.values() for o in folder.in_order())
    shelves = _shelves(out_dir, folders, settings.scripts_dir, full=not names)
    for folder in folders.values():
        try:
            _update_index(folder.settings.out_dir, folder.order, folder.unreadable, folder.built, folder.hashes,
                          folder.settings, full=not names, shelves=shelves)
        except OSError as exc:  # a read-only or full folder: the routines' own reasons are kept
            return BuildReport(outcomes, time.monotonic() - started, os_error_message(exc))
    return BuildReport(outcomes, time.monotonic() - started)


def library_language(scripts_dir: Path) -> str:
    """The library's own language, whose routines are written in the output folder itself (the
    others' in a folder per language): the first of ``_defaults.yaml``'s ``languages``, else English."""
    from voiceguide.script.load import declared_languages

    return declared_languages(b"", Path(scripts_dir))[0]


def language_folder(out_dir: Path, language: str, scripts_dir: Path) -> Path:
    """Where a library's routines in ``language`` are written: ``out_dir`` for the library's own
    language (``library_language``), ``out_dir/LANG`` for each other."""
    return Path(out_dir) if language == library_language(scripts_dir) else Path(out_dir) / language


def _by_language(paths: list[Path], settings: BuildSettings, full: bool) -> dict[str, list[Path]]:
    """The routines that speak each language (``languages:``), the library's own language first. A
    full build also visits each language folder a routine no longer speaks, to empty it."""
    from voiceguide.script.load import declared_languages

    own = library_language(settings.scripts_dir)
    speaking: dict[str, list[Path]] = {own: []}
    for path in paths:
        try:
            languages = declared_languages(path.read_bytes(), path.parent)
        except OSError:
            languages = (own,)  # unreadable: it fails, and is reported, with the library's own language
        for language in languages:
            speaking.setdefault(language, []).append(path)
    if full:
        for language in LANGUAGES:
            if (Path(settings.out_dir) / language / MANIFEST).is_file():
                speaking.setdefault(language, [])
    return {language: found for language, found in speaking.items() if found or full or language == own}


def _shelves(out_dir: Path, folders: dict[str, _Folder], scripts_dir: Path, full: bool) -> list[tuple[str, Path]]:
    """The library's folder for each language that has routines after this build (code, folder),
    the library's own language first: each page links the others."""
    found = []
    for language in dict.fromkeys([library_language(scripts_dir), *LANGUAGES]):
        folder = language_folder(out_dir, language, scripts_dir)
        if language in folders:
            has = bool(folders[language].order) or (not full and bool(folders[language].manifest))
        else:
            has = bool(_read_index(folder)["routines"])
        if has:
            found.append((language, folder))
    return found


class _Folder:
    """One language's folder of a build: what to render into it, and what came of it."""

    def __init__(self, settings: BuildSettings):
        self.settings = settings
        self.shown = "" if settings.language == library_language(settings.scripts_dir) else f"{settings.language}/"
        """What the build's messages put before a routine's id: ``de/`` in a language's folder."""
        remove_stale_parts(settings.out_dir)  # what a killed build left; never a live build's
        index = _read_index(settings.out_dir)
        self.manifest, self.hashes = index["routines"], Hashes(index.get("hashes", {}))
        self.outcomes: dict[str, Outcome] = {}
        self.built: dict[str, dict] = {}
        self.todo: list[tuple] = []
        self.order: list[str] = []  # every target: each routine, and each of its variants (plan.variants)
        self.unreadable: set[str] = set()

    def plan(self, paths: list[Path], tracks: dict[str, str], taken: set[str], notify) -> None:
        """Decide, for each routine and variant, whether it is up to date or to be rendered."""
        settings, out_dir = self.settings, self.settings.out_dir
        for path in paths:
            rid = path.stem
            try:
                routine = lib.load(path, language=settings.language)
                fingerprint = input_fingerprint(routine, path, settings, self.hashes, track=tracks[rid])
            except VoiceguideError as exc:
                self.order.append(rid)
                self.unreadable.add(rid)
                self.done(rid, Outcome(self.shown + rid, "failed", message=_message(exc)), notify)
                continue
            for variant in variants_of(routine):
                vid, vprint = rid + variant.suffix, _variant_fingerprint(fingerprint, variant)
                self.order.append(vid)
                known = self.manifest.get(vid)
                if variant and safe_name(vid).casefold() in taken:
                    self.done(vid, Outcome(self.shown + vid, "failed",
                                           message=f"{vid} would be written as {safe_name(vid)}.mp3, the name of "
                                                   f"another routine: rename one of them"), notify)
                elif known and known.get("fingerprint") == vprint and outputs_intact(out_dir, known, self.hashes):
                    self.done(vid, Outcome(self.shown + vid, "unchanged", duration_ms=known["entry"]["duration_ms"]),
                              notify)
                else:
                    self.todo.append((self.shown + vid, path, vprint, variant, tracks[rid], settings))
                    notify("queued", self.shown + vid, None)

    def done(self, rid: str, outcome: Outcome, notify) -> None:
        self.outcomes[rid] = outcome
        notify("done", outcome.id, outcome)

    def in_order(self) -> list[Outcome]:
        return [self.outcomes[r] for r in self.order if r in self.outcomes]


def refuse_collisions(paths: list[Path], scripts_dir: Path) -> None:
    """Raise ``UsageError`` when two routines would write the same files: the same id (``x.yaml``
    and ``x.yml``), or ids whose output names are one on a phone's file system (``a?`` and ``a_``
    are both ``a_.mp3``; ``A`` and ``a`` are one file on FAT, exFAT and APFS)."""
    seen: dict[str, Path] = {}
    for path in dict.fromkeys([*lib.routine_files(scripts_dir), *paths]):
        key = safe_name(path.stem).casefold()
        other = seen.setdefault(key, path)
        if other != path and other.resolve() != path.resolve():
            raise UsageError(f"{other} and {path} would both be written as {safe_name(other.stem)}.mp3 "
                             f"(and their other files): rename one of them")


def _routine_paths(names: Iterable[str], scripts_dir: Path) -> list[Path]:
    names = list(names)
    if names:
        return [lib.routine_path(n, scripts_dir).resolve() for n in names]
    paths = lib.routine_files(scripts_dir)
    if not paths:
        raise UsageError(f"no routines in {scripts_dir}/")
    return paths


def track_numbers(paths: list[Path], scripts_dir: Path) -> dict[str, str]:
    """Each routine's track number (``"3"``), its place in ``library_order``, among every routine
    of the scripts folder and those named, so a build of one routine numbers it as a full build
    would."""
    ids = library_order({p.stem for p in lib.routine_files(scripts_dir)} | {p.stem for p in paths})
    return {rid: str(n) for n, rid in enumerate(ids, 1)}


def input_fingerprint(routine: Routine, path: Path, settings: BuildSettings, hashes: Hashes | None = None,
                      track: str | None = None) -> str:
    """A hash of everything that shapes ``routine``'s MP3 (see the module's docstring), ``track``
    (its number in the library) and whether an audiobook is made too. Files it uses (sounds,
    background, image, voice model) count by content (``hashes`` remembers theirs)."""
    hashes = hashes if hashes is not None else Hashes()
    digest = hashlib.sha256()

    def add(*parts) -> None:
        for part in parts:
            digest.update(part if isinstance(part, bytes) else repr(part).encode())
            digest.update(b"\0")

    add("voiceguide", __version__, path.read_bytes())
    scripts_dir = path.parent
    shared = sorted(scripts_dir.glob("_*.y*ml")) + sorted((scripts_dir / "_snippets").rglob("*.y*ml"))
    for file in shared:
        add(file.relative_to(scripts_dir).as_posix(), file.read_bytes())
    media = [s.sound for s in routine.sounds.values() if s.sound not in BUILTIN_SOUNDS]
    if routine.background.bed not in BUILTIN_BEDS:
        media.append(routine.background.bed)
    if routine.image is not None:
        media.append(routine.image)
    for file in sorted(set(media)):
        add(file, hashes.digest(Path(file)))
    engine = engines.get_engine(routine.voice.engine)
    voice_id = engine.resolve_voice(routine.voice.voice)
    add(engine.name, engine.version(), voice_id, routine.voice)
    model = Path(voice_id) if voice_id and voice_id.endswith(".onnx") else None
    if engine.name == "piper":
        model = model or next((v.path for v in engine.voices() if v.id == voice_id), None)
    if model is not None:
        add(model.name, hashes.digest(model))
    add(settings.mp3, track)
    if settings.m4b:
        add("m4b")
    return digest.hexdigest()


def _variant_fingerprint(fingerprint: str, variant: Variant) -> str:
    """A routine's fingerprint, for one of its variants (the full version's is its own)."""
    return hashlib.sha256(f"{fingerprint}{variant!r}".encode()).hexdigest() if variant else fingerprint


def _render_all(todo, jobs: int | None, executor: Executor | None, notify):
    """Yield ``(routine id, result)`` as each render finishes."""
    if not todo:
        return
    jobs = jobs or os.cpu_count() or 1
    args = [(str(path), fingerprint, settings, variant, track) for _, path, fingerprint, variant, track, settings in todo]
    if executor is None and (jobs == 1 or len(todo) == 1):
        for (rid, *_), arg in zip(todo, args):
            notify("started", rid, None)
            yield rid, render_one(*arg)
        return
    own = executor is None
    task = render_one
    if own:
        # spawn, not fork: this process may hold engine worker pipes and threads.
        executor = ProcessPoolExecutor(max_workers=min(jobs, len(todo)),
                                       mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_worker_start, initargs=(os.getpid(),))
        task = _render_task
    try:
        futures = {}
        with processes.interrupts_blocked():  # the workers start immune to Ctrl-C (see processes)
            for (rid, *_), arg in zip(todo, args):
                futures[executor.submit(task, *arg)] = rid
                notify("started", rid, None)
        for future in as_completed(futures):
            rid = futures[future]
            try:
                yield rid, future.result()
            except Exception as exc:  # noqa: BLE001 - a crashed worker fails its routine, not the build
                language = next(job[5].language for job in todo if job[0] == rid)
                yield rid, {"outcome": Outcome(rid, "failed", message=f"the render stopped: {exc!r}"),
                            "language": language}
    except BaseException:  # Ctrl-C (or the caller stopped early): stop the renders under way
        if own:
            _stop_workers(executor)
        raise
    finally:
        if own:
            executor.shutdown(cancel_futures=True)


STOP_GRACE = 1.0
"""Seconds a stopped worker has to remove its temporary files and end before it is killed."""


def _stop_workers(executor: ProcessPoolExecutor) -> None:
    """SIGTERM each worker (it unwinds, removing its temporary files, and ends), then wait for them;
    one still there after ``STOP_GRACE`` is killed."""
    workers = list((getattr(executor, "_processes", None) or {}).values())
    for process in workers:
        process.terminate()
    deadline = time.monotonic() + STOP_GRACE + 0.5
    for process in workers:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def _worker_start(parent: int) -> None:
    """A pool worker leaves Ctrl-C to the build (which stops it); on SIGTERM it unwinds, so its
    temporary files are removed, and ends without a traceback; and it ends when the build does,
    however the build ends (the parent-death signal on Linux, the parent's sentinel pipe anywhere)."""
    processes.ignore_interrupts()
    signal.signal(signal.SIGTERM, _stop_worker)
    processes.before_exit_now(lambda: [remove_own_parts(folder) for folder in WRITING])
    processes.parent_death_signal(signal.SIGTERM, parent)
    processes.on_parent_exit(multiprocessing.parent_process().join, lambda: os.kill(os.getpid(), signal.SIGTERM))


_RENDERING: list[bool] = []
"""In a pool worker: non-empty while a task renders (``_render_task``), which a stop unwinds."""


def _stop_worker(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: a second stop would cut the unwinding short
    if not _RENDERING:  # starting up or between tasks: nothing to unwind, and the pool must not
        processes.exit_now(128 + signum)  # print the stop as its initializer's traceback
    processes.exit_soon(128 + signum, STOP_GRACE)  # in case unwinding hangs
    raise SystemExit(128 + signum)


def _render_task(path: str, fingerprint: str, settings: BuildSettings, variant: Variant = Variant(),
                 track: str | None = None) -> dict:
    """``render_one`` in a pool worker. Stopped (``_stop_worker``), the render unwinds and the
    worker ends here: the pool would otherwise report the stop as the task's result and go on to
    the next routine."""
    WRITING.add(Path(settings.out_dir))
    _RENDERING.append(True)
    try:
        return render_one(path, fingerprint, settings, variant, track)
    except SystemExit as exc:
        processes.exit_now(exc.code if isinstance(exc.code, int) else 1)
    finally:
        _RENDERING.clear()


def render_one(path: str, fingerprint: str, settings: BuildSettings, variant: Variant = Variant(),
               track: str | None = None) -> dict:
    """Render one routine, or one ``variant`` of it (in a worker process), and give its files
    their versioned names; never raises for a problem with the routine."""
    from voiceguide.export.probe import audio_digest

    started = time.monotonic()
    rid = Path(path).stem + variant.suffix
    out_dir = Path(settings.out_dir)
    try:
        cache = NarrationCache(settings.cache_dir)
        routine, _ = lib.variant(lib.load(path, language=settings.language), variant, cache)
        rendered = lib.render(routine, out_dir, cache=cache, mp3=settings.mp3, track=track, m4b=settings.m4b)
        name = safe_name(rid)
        if not settings.m4b:  # one from a build that asked for it would be out of date now
            (out_dir / f"{name}.m4b").unlink(missing_ok=True)
        version = audio_digest(rendered.path)[:VERSION_LENGTH]
        folder = f"{VERSIONS}/{version}"
        entry = page_entry(rendered.routine, rendered.plan, f"{folder}/{rendered.path.name}")
        entry.update(of=Path(path).stem, variant=variant.note_in(routine.words))  # which routine, and which version ("": the full one)
        cover, chapter_pictures = write_pictures(rendered.path, out_dir, name)
        entry["image"] = f"{folder}/{cover}" if cover else None
        for chapter, picture in zip(entry["chapters"], chapter_pictures):
            chapter["img"] = f"{folder}/{picture}" if picture else None
        entry["version"] = version
        atomic_write_text(out_dir / f"{name}.chapters.json",
                          json.dumps(feed.json_chapters(entry), indent=2, ensure_ascii=False) + "\n")
        written = [out_dir / f"{name}{suffix}" for suffix in OUTPUT_SUFFIXES if (out_dir / f"{name}{suffix}").is_file()]
        written += [out_dir / p for p in chapter_pictures if p]
        linked = link_version(out_dir, folder, [f for f in written if f.name.removeprefix(name) not in UNLINKED_SUFFIXES])
    except VoiceguideError as exc:
        return {"outcome": Outcome(rid, "failed", time.monotonic() - started, message=_message(exc)),
                "language": settings.language}
    except OSError as exc:  # an unwritable or full output folder: this routine fails, with the file named
        return {"outcome": Outcome(rid, "failed", time.monotonic() - started, message=os_error_message(exc)),
                "language": settings.language}
    hashes = Hashes()  # after linking, which changes each file's change time
    outputs = {file.relative_to(out_dir).as_posix(): hashes.digest(file) for file in [*written, *linked]}
    return {"outcome": Outcome(rid, "built", time.monotonic() - started, entry["duration_ms"]),
            "entry": entry, "fingerprint": fingerprint, "size": rendered.path.stat().st_size,
            "outputs": outputs, "version": version, "hashes": hashes.known, "language": settings.language}


def _message(exc: VoiceguideError) -> str:
    if isinstance(exc, ScriptError):
        return "\n".join(str(p) for p in exc.problems)
    return str(exc)


def page_entry(routine: Routine, plan: Plan, file: str) -> dict:
    """What the playlist, feed and page need to know of one rendered routine."""
    chapters = []
    for step in plan.steps:
        if step.kind == "pause" and chapters:
            chapters[-1]["end_ms"] = _ms(step.end)
        elif step.kind != "pause":
            chapters.append({"title": step.title, "start_ms": _ms(step.start), "end_ms": _ms(step.end)})
    lines = [{"start_ms": _ms(e.start), "end_ms": _ms(e.end), "text": e.text} for e in plan.speech()]
    return {"id": routine.id, "title": routine.title, "description": routine.description,
            "author": routine.author, "album": routine.album, "duration_ms": _ms(plan.length),
            "file": file, "chapters": chapters, "lines": lines,
            "captions": [posixpath.splitext(file)[0] + suffix for suffix in feed.TRANSCRIPT_TYPES]}


def _ms(samples: int) -> float:
    return samples_to_ms(samples)


def cluster_executor(address: str) -> Executor:
    """A ``concurrent.futures`` executor on the dask.distributed scheduler at ``address``
    (``pip install 'voiceguide[dask]'``). Workers need voiceguide installed and the scripts, output
    and cache folders at the same paths (a shared disk)."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--scheduler needs dask.distributed: pip install 'voiceguide[dask]'") from None
    try:
        client = Client(address, timeout=10)
    except OSError as exc:
        raise UsageError(f"cannot reach the dask scheduler at {address}: {exc}") from None
    return client.get_executor(pure=False)
