"""The library's front door: find a routine, speak it, plan it, mix it and write the MP3.

Data flows one way: script -> plan -> engines -> mix -> export. The CLI is a thin face over the
functions here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import engines, script, sounds
from .audio import level_db
from .cache import NarrationCache
from .errors import UsageError
from .export import Mp3Settings, Tags, write_mp3
from .mix import BedGain, mix, place_events
from .model import Routine
from .plan import Plan, plan

SCRIPTS_DIR = Path("scripts_yaml")
OUTPUT_DIR = Path("output")

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
         voice: str | None = None, rate: float | None = None, volume: float | None = None) -> Routine:
    """Load and validate a routine, with voice settings overridden where given, and its engine
    settled (``auto`` becomes the engine it stands for)."""
    routine = script.load_routine(routine_path(name, scripts_dir))
    overrides = {k: v for k, v in (("engine", engine), ("voice", voice), ("rate", rate), ("volume", volume))
                 if v is not None}
    if "engine" in overrides and "voice" not in overrides:
        overrides["voice"] = None  # the routine's voice belongs to its own engine
    settled = dataclasses.replace(routine.voice, **overrides)
    settled = dataclasses.replace(settled, engine=engines.resolve_engine(settled.engine, settled.voice))
    return dataclasses.replace(routine, voice=settled)


def narrate(routine: Routine, cache: NarrationCache | None = None,
            progress: Progress = _no_progress) -> dict[str, np.ndarray]:
    """Every narration clip of ``routine``, from the cache or spoken now (and then cached)."""
    engine = engines.get_engine(routine.voice.engine)
    cache = cache if cache is not None else NarrationCache()
    voice = routine.voice
    voice_id = engine.resolve_voice(voice.voice)
    texts = routine.texts()
    clips = {}
    for done, text in enumerate(texts):
        progress("speaking", done, len(texts))
        key = cache.key(engine=engine.name, version=engine.version(), voice=voice_id,
                        rate=voice.rate, volume=voice.volume, text=text)
        clip = cache.get(key)
        if clip is None:
            clip = engines.speak(engine, text, voice)
            cache.put(key, clip)
        clips[text] = clip
    progress("speaking", len(texts), len(texts))
    return clips


def plan_routine(routine: Routine, cache: NarrationCache | None = None,
                 progress: Progress = _no_progress) -> tuple[Plan, dict[str, np.ndarray]]:
    """The routine's plan, and the narration it was made from."""
    clips = narrate(routine, cache, progress)
    return plan(routine, {text: len(clip) for text, clip in clips.items()}), clips


@dataclass(frozen=True)
class Rendered:
    """What a render made."""

    path: Path
    plan: Plan
    routine: Routine


def render(routine: Routine, out_dir: str | Path = OUTPUT_DIR, *, cache: NarrationCache | None = None,
           mp3: Mp3Settings = Mp3Settings(), progress: Progress = _no_progress) -> Rendered:
    """Render ``routine`` to ``out_dir/<id>.mp3``."""
    timeline, clips = plan_routine(routine, cache, progress)
    event_sounds = {kind: (sounds.load_sound(s.sound), s) for kind, s in routine.sounds.items()}
    placed = place_events(timeline, clips, event_sounds)
    bed = sounds.make_bed(routine.background.bed)
    bed_gain = BedGain(timeline, routine.background, level_db(bed.loop)) if bed is not None else None
    chunks = _counted(mix(timeline, placed, bed, bed_gain), timeline.length, progress)
    tags = Tags(title=routine.title, artist=routine.author, album=routine.album, genre=routine.genre,
                comment=routine.description)
    path = write_mp3(chunks, Path(out_dir) / f"{routine.id}.mp3", tags, mp3)
    return Rendered(path, timeline, routine)


def _counted(chunks, total: int, progress: Progress):
    done = 0
    for chunk in chunks:
        yield chunk
        done += len(chunk)
        progress("mixing", done, total)
