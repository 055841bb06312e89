"""The library's front door: find a routine, speak it, plan it, mix it and write the MP3.

Data flows one way: script -> plan -> engines -> mix -> export. The CLI is a thin face over the
functions here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from voiceguide.core.audio import RATE
from voiceguide.core.errors import PlanError, Problem, ScriptError, UsageError
from voiceguide.core.files import OUTPUT_DIR, SCRIPTS_DIR, safe_name
from voiceguide.core.loudness import from_energies
from voiceguide.export.captions import write_captions
from voiceguide.export.m4b import Audiobook, m4b_path
from voiceguide.export.mp3 import Mp3Settings, codec_gain, write_mp3
from voiceguide.export.tags import session_tags
from voiceguide.plan import fit, variants
from voiceguide.plan.fit import Fitted
from voiceguide.plan.timeline import Plan, plan, speedups
from voiceguide.plan.variants import Variant
from voiceguide.script import load as script
from voiceguide.script.model import Routine, Voice
from voiceguide.sound import sounds
from voiceguide.sound.master import TRUE_PEAK, Master, Mastering, Report
from voiceguide.sound.mix import CHUNK, BedGain, energies, mix, place_events
from voiceguide.voice import engines, phrasing
from voiceguide.voice.cache import NarrationCache, Speech

Progress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)`` while a render runs."""


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


def routine_path(name: str | Path, scripts_dir: str | Path = SCRIPTS_DIR) -> Path:
    """A routine's file: ``name`` as a path to a YAML file, or a routine name in ``scripts_dir``."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") or len(candidate.parts) > 1:
        if not candidate.is_file():
            raise UsageError(f"{candidate}: no such routine file")
        return candidate
    scripts_dir = Path(scripts_dir)
    for suffix in (".yaml", ".yml"):
        if (scripts_dir / f"{name}{suffix}").is_file():
            return scripts_dir / f"{name}{suffix}"
    known = ", ".join(p.stem for p in routine_files(scripts_dir)) or "none"
    raise UsageError(f"no routine named '{name}' in {scripts_dir}/ (routines there: {known})")


def routine_files(scripts_dir: str | Path = SCRIPTS_DIR) -> list[Path]:
    """The routine files in ``scripts_dir`` (names starting with ``_`` or ``.`` are not routines)."""
    scripts_dir = Path(scripts_dir)
    if not scripts_dir.is_dir():
        return []
    return sorted(p for p in scripts_dir.iterdir()
                  if p.suffix in (".yaml", ".yml") and p.is_file() and not p.name.startswith(("_", ".")))


def load(name: str | Path, scripts_dir: str | Path = SCRIPTS_DIR, *, engine: str | None = None,
         voice: str | None = None, rate: float | None = None, volume: float | None = None,
         note: Callable[[str], None] | None = None, language: str | None = None) -> Routine:
    """Load and validate a routine in ``language`` (default: its first), with voice settings
    overridden where given, and its engine and voice settled (``auto`` becomes the engine it
    stands for, no voice the engine's default for the language; ``note`` is told when ``auto``
    cannot have a Piper voice and falls back)."""
    routine = script.load_routine(routine_path(name, scripts_dir), language)
    overrides = {k: v for k, v in (("engine", engine), ("voice", voice), ("rate", rate), ("volume", volume))
                 if v is not None}
    if "engine" in overrides and "voice" not in overrides:
        overrides["voice"] = None  # the routine's voice belongs to its own engine
    settled = dataclasses.replace(routine.voice, **overrides)
    try:
        engine_name = engines.resolve_engine(settled.engine, settled.voice, note, language=settled.language)
        voice_id = engines.get_engine(engine_name).resolve_voice(settled.voice, language=settled.language)
    except UsageError as exc:
        where = None
        if "voice" not in overrides:  # the voice the routine names, else the language it asks for
            where = script.locate(routine.source, ("voice", "voice")) if settled.voice is not None else \
                script.locate(routine.source, ("languages",)) if settled.language != "en" else None
        if where is None:  # named on the command line (or nowhere): a usage error, as it is
            raise
        raise ScriptError([Problem(where, str(exc))]) from None
    return dataclasses.replace(routine, voice=dataclasses.replace(settled, engine=engine_name, voice=voice_id))


def narrate(routine: Routine, cache: NarrationCache | None = None, progress: Progress = _no_progress,
            speeds: Mapping[str, float] | None = None, workers: int | None = None) -> dict[str, Speech]:
    """Every phrase ``routine`` speaks, from the cache or spoken now (and then cached). Each is a
    ``Speech``: its length and levels, its samples read from the cache when they are wanted.

    With ``speeds`` (phrase -> factor), only those phrases, each spoken that much faster. Phrases
    not in the cache are spoken ``workers`` at a time (default: one per CPU), each by an engine
    instance with worker processes of its own (``engines.engine_pool``).
    """
    cache = cache if cache is not None else NarrationCache()
    texts = list(speeds) if speeds is not None else routine.texts()
    spoken: dict[str, Speech] = {}
    todo: list[tuple[str, Voice, str]] = []
    key_of = speech_keys(routine.voice)
    for text in texts:
        voice = routine.voice
        if speeds is not None:
            voice = dataclasses.replace(voice, rate=voice.rate * speeds[text])
        key = key_of(text, voice)
        if (speech := cache.get(key)) is not None:
            spoken[text] = speech
        else:
            todo.append((text, voice, key))
    progress("speaking", len(spoken), len(texts))
    if todo:
        size = max(1, min(workers or engines.cpu_count(), len(todo)))
        idle: queue.SimpleQueue[engines.Engine] = queue.SimpleQueue()
        for engine in engines.engine_pool(routine.voice.engine, size):
            idle.put(engine)

        def speak(text: str, voice: Voice, key: str) -> Speech:
            engine = idle.get()
            try:
                return cache.put(key, engines.speak(engine, text, voice))
            finally:
                idle.put(engine)

        pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="voiceguide-speak")
        try:
            longest_first = sorted(todo, key=lambda job: -len(job[0]))  # so no long phrase starts last
            jobs = {pool.submit(speak, *job): job[0] for job in longest_first}
            for job in as_completed(jobs):
                spoken[jobs[job]] = job.result()
                progress("speaking", len(spoken), len(texts))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    return {text: spoken[text] for text in texts}


SPEECH = 3
"""The version of how ``engines.speak`` makes a phrase: part of every narration key, so change it
when what speak makes changes."""


def speech_key(text: str, voice: Voice) -> str:
    """The narration cache's key for ``text`` spoken by ``voice`` (engine and voice settled):
    everything that shapes the clip."""
    return speech_keys(voice)(text, voice)


def speech_keys(voice: Voice) -> Callable[[str, Voice], str]:
    """``speech_key`` for many phrases spoken by ``voice``'s engine and voice (at any rate or
    pause): the engine is asked its version and voice once, not once a phrase."""
    engine = engines.get_engine(voice.engine)
    fixed = {"engine": engine.name, "version": engine.version(), "speech": SPEECH,
             "voice": engine.resolve_voice(voice.voice, language=voice.language)}

    def key(text: str, said_by: Voice) -> str:
        return NarrationCache.key(**fixed, language=said_by.language, rate=said_by.rate, volume=said_by.volume,
                                  sentence_pause=said_by.sentence_pause, comma_pause=said_by.comma_pause,
                                  said=phrasing.respell(text, said_by.pronounce, said_by.language), text=text)

    return key


SPEED_ROUNDS = 4
"""How many times ``plan_routine`` speaks narration faster for steps with the ``speed`` policy
(engines do not speed up exactly as asked, so it measures and tries again)."""


def plan_routine(routine: Routine, cache: NarrationCache | None = None,
                 progress: Progress = _no_progress, workers: int | None = None) -> tuple[Plan, dict[str, Speech]]:
    """The routine's plan, and the narration it was made from (``workers``: see ``narrate``).

    Narration of steps whose overflow policy is ``speed`` and that does not fit is spoken again,
    faster (up to the step's ``max_speed``), until it fits; the plan reports what still does not.
    """
    cache = cache if cache is not None else NarrationCache()
    clips = narrate(routine, cache, progress, workers=workers)
    speeds: dict[str, float] = {}
    for _ in range(SPEED_ROUNDS):
        wanted = speedups(routine, _lengths(clips), speeds)
        if not wanted:
            break
        speeds.update(wanted)
        clips.update(narrate(routine, cache, progress, speeds=wanted, workers=workers))
    timeline = plan(routine, _lengths(clips), speeds)
    _check_length(timeline)
    return timeline, clips


def variant(routine: Routine, wanted: Variant, cache: NarrationCache | None = None,
            progress: Progress = _no_progress, workers: int | None = None) -> tuple[Routine, Fitted | None]:
    """``routine`` as the version ``wanted`` (fitted to a length, cues only, or both; see
    ``plan.variants``), with the variant's id and title, and the fit (``None`` without a length).
    Speaks the full narration (to measure it) and the cues. Raises ``fit.FitError`` for a length
    out of the routine's reach."""
    if not wanted:
        return routine, None
    cache = cache if cache is not None else NarrationCache()
    timeline, clips = plan_routine(routine, cache, progress, workers)
    fitted = None
    if wanted.length is not None:
        speeds = {e.text: e.speed for e in timeline.speech() if e.speed}
        fitted = fit.fit(routine, timeline, _lengths(clips), wanted.length, speeds)
        routine, timeline = fitted.routine, fitted.plan
    if wanted.cues:
        cue_clips = narrate(variants.cues_only(routine), cache, progress, workers=workers)
        routine = variants.cues_only(routine, timeline, _lengths(cue_clips))
    return variants.named(routine, wanted), fitted


def plan_without_speaking(routine: Routine, cache: NarrationCache | None = None) -> tuple[Plan, bool]:
    """The routine's plan from the narration lengths the cache records, speaking nothing, and
    whether it is exact (``plan_routine``'s own). A phrase the cache does not hold yet is
    estimated from its words at the voice's rate (``estimated_length``); so is one that the
    ``speed`` policy would speak faster. For listings: ``check`` and ``render`` speak and plan."""
    cache = cache if cache is not None else NarrationCache()
    key_of = speech_keys(routine.voice)
    exact = True

    def lengths(speeds: Mapping[str, float], texts: Iterable[str]) -> dict[str, int]:
        nonlocal exact
        found = {}
        for text in texts:
            voice = dataclasses.replace(routine.voice, rate=routine.voice.rate * speeds.get(text, 1.0))
            length = cache.length(key_of(text, voice))
            if length is None:
                exact = False
                length = estimated_length(text, voice)
            found[text] = length
        return found

    known = lengths({}, routine.texts())
    speeds: dict[str, float] = {}
    for _ in range(SPEED_ROUNDS):
        wanted = speedups(routine, known, speeds)
        if not wanted:
            break
        speeds.update(wanted)
        known.update(lengths(speeds, wanted))
    return plan(routine, known, speeds), exact


ESTIMATE_PAUSE = 0.4
"""Seconds ``estimated_length`` adds for each sentence after the first (engines pause there)."""


def estimated_length(text: str, voice: Voice) -> int:
    """About how long (samples) ``voice`` takes to say ``text``: its words at the voice's rate,
    plus a pause between sentences. An estimate, for listings; speaking it measures it."""
    words = len(text.split())
    sentences = max(1, sum(text.count(mark) for mark in ".!?"))
    pause = voice.sentence_pause if voice.sentence_pause is not None else ESTIMATE_PAUSE
    return max(1, round((words * 60 / voice.rate + (sentences - 1) * pause) * RATE))


def _check_length(timeline: Plan) -> None:
    """Raise ``PlanError`` at the step where the session passes ``script.MAX_SESSION_HOURS`` (the
    script checks the steps' durations; narration and ``extend`` can add more)."""
    limit = script.MAX_SESSION_HOURS * 3600 * RATE
    late = next((step for step in timeline.steps if step.end > limit), None)
    if late is not None:
        raise PlanError([Problem(late.where, f"the session lasts more than {script.MAX_SESSION_HOURS} hours by "
                                             f"the end of this step, with its narration; a session may last "
                                             f"at most {script.MAX_SESSION_HOURS} hours")])


def _lengths(clips: Mapping[str, Speech]) -> dict[str, int]:
    return {text: speech.length for text, speech in clips.items()}


@dataclass(frozen=True)
class Rendered:
    """What a render made."""

    path: Path
    plan: Plan
    routine: Routine


def render(routine: Routine, out_dir: str | Path = OUTPUT_DIR, *, cache: NarrationCache | None = None,
           mp3: Mp3Settings = Mp3Settings(), mastering: Mastering | None = None,
           cover: str | Path | None = None, year: int | None = None, track: str | None = None,
           progress: Progress = _no_progress, chunk: int = CHUNK, workers: int | None = None,
           m4b: bool = False) -> Rendered:
    """Render ``routine`` to ``out_dir/<id>.mp3``, with its lyrics in ``out_dir/<id>.lrc`` and its
    captions in ``out_dir/<id>.vtt`` and ``.srt``; with ``m4b``, also ``out_dir/<id>.m4b``, an
    audiobook of the same mastered samples (``export.m4b``).

    ``mastering`` sets the loudness and true-peak targets (default: the routine's, else -16 LUFS
    stereo or -19 mono, at most -1 dBTP); ``cover`` is an image for the cover art (default: the
    routine's, else one drawn with its title); ``year`` and ``track`` are written to the tags when
    given; ``chunk`` is how many samples are mixed at a time (the output does not depend on it);
    ``workers`` is how many phrases are spoken at once (default: one per CPU).

    One streaming pass: the mix's loudness is known beforehand from its parts' levels
    (``mix.energies``, within hundredths of a LU of metering the mix), which gives the mastering
    gain; then the session is mixed, each narration clip's peaks limited to what that gain leaves
    them, mastered and encoded as it goes. Returns a ``MasteredRender``, whose ``report`` says what
    mastering found and did (``voiceguide inspect`` meters the file itself).
    """
    cache = cache if cache is not None else NarrationCache()
    timeline, speech = plan_routine(routine, cache, progress, workers)
    mastering = mastering if mastering is not None else routine_mastering(routine)
    channels = mp3.channels
    if cover is None:
        cover = routine.image
    with ThreadPoolExecutor(max_workers=3) as pool:  # side work, done while the session is set up
        codec = pool.submit(codec_gain, mp3)
        tags = pool.submit(session_tags, routine, timeline, cover=cover, year=year, track=track)
        made_bed = pool.submit(_bed, routine, cache)
        event_sounds = {kind: (sounds.load_sound(s.sound), s) for kind, s in routine.sounds.items()}
        bed = made_bed.result()
        bed_gain = BedGain(timeline, routine.background, bed.level) if bed is not None else None
        parts = place_events(timeline, speech, event_sounds, channels=channels)
        master = Master(mastering, channels, codec.result())
        master.expect(from_energies(energies(timeline, parts, bed, bed_gain, channels), channels))
        placed = place_events(timeline, speech, event_sounds, voice_peak=master.voice_peak(), channels=channels)
        session = mix(timeline, placed, bed, bed_gain, chunk=chunk, channels=channels)
        chunks = _counted(master.apply(_ahead(session), meter=False), timeline.length, progress)
        target = Path(out_dir) / f"{safe_name(routine.id)}.mp3"
        with Audiobook(m4b_path(target), tags.result(), mp3) if m4b else contextlib.nullcontext() as book:
            path = write_mp3(book.tee(chunks) if book else chunks, target, tags.result(), mp3)
    write_captions(path, timeline)
    return MasteredRender(path, timeline, routine, master.report, m4b_path(path) if m4b else None)


def _counted(chunks, total: int, progress: Progress, phase: str = "mixing"):
    done = 0
    for chunk in chunks:
        yield chunk
        done += len(chunk)
        progress(phase, done, total)


def _ahead(items: Iterable, depth: int = 2) -> Iterator:
    """``items``, made by a thread of their own up to ``depth`` ahead of the one using them.

    Mixing and limiting (numpy) each let go of the GIL, so on two cores they overlap.
    An error in the thread is raised here; stopping early stops the thread.
    """
    made: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> None:
        while not stop.is_set():
            try:
                made.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def run() -> None:
        try:
            for item in items:
                put((True, item))
                if stop.is_set():
                    return
            put((False, None))
        except BaseException as exc:  # handed to the consumer, who raises it
            put((False, exc))

    thread = threading.Thread(target=run, name="voiceguide-ahead", daemon=True)
    thread.start()
    try:
        while True:
            more, item = made.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()


@dataclass(frozen=True)
class MasteredRender(Rendered):
    """What a render made, and what mastering measured and did on the way."""

    report: Report | None = None
    audiobook: Path | None = None
    """The ``.m4b``, when one was asked for."""


def routine_mastering(routine: Routine) -> Mastering:
    """The routine's own loudness targets (what ``render`` uses unless told otherwise)."""
    return Mastering(loudness=routine.loudness,
                     true_peak=TRUE_PEAK if routine.true_peak is None else routine.true_peak)


def _bed(routine: Routine, cache: NarrationCache | None = None) -> sounds.Bed | None:
    """The routine's bed, looping between its loop points where it has them."""
    background = routine.background
    return sounds.make_bed(background.bed, loop_start=background.loop_start or 0.0, loop_end=background.loop_end,
                           cache_dir=None if cache is None else cache.root)
