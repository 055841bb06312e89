"""The validated routine: frozen values made by ``script.load_routine`` and read by everything else.

Times are in seconds (floats) here, as the author wrote them; the planner turns them into samples.
Every step keeps ``where`` (file, line, field path) so later stages can point back at the script.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Where

#: Text-to-speech engines a routine may name (``engines.py`` registers one class for each).
ENGINE_NAMES = ("auto", "pyttsx3", "piper", "fake")
#: Sound names the program can make itself (see ``sounds.py``); anything else is a file path.
BUILTIN_SOUNDS = ("tick", "wood", "chime", "bell", "rise", "fall", "none")
#: Backgrounds the program can make itself; anything else is a file path.
BUILTIN_BEDS = ("noise", "drone", "none")
#: Event kinds that play a sound, and the built-in each uses unless the routine says otherwise.
DEFAULT_SOUNDS = {"tick": "tick", "chime": "chime", "inhale": "rise", "exhale": "fall"}
#: Default level of each sound, in dB relative to the voice.
DEFAULT_SOUND_LEVELS = {"tick": -16.0, "chime": -10.0, "inhale": -18.0, "exhale": -18.0}


@dataclass(frozen=True)
class Voice:
    """How narration is spoken."""

    engine: str = "auto"
    """Text-to-speech engine: ``auto`` (a Piper voice where one is installed, else pyttsx3),
    ``pyttsx3``, ``piper`` or ``fake``."""
    voice: str | None = None
    """The engine's voice id or name; ``None`` is the engine's default English voice."""
    rate: float = 150.0
    """Words per minute. Calm guidance sits around 140 to 160."""
    volume: float = 1.0
    """Engine volume, 0 to 1."""


@dataclass(frozen=True)
class Background:
    """The bed under everything."""

    bed: str = "noise"
    """``noise``, ``drone``, ``none``, or a path to an audio file (relative to the routine)."""
    level: float = -24.0
    """dB relative to the voice, between phrases."""
    duck: float = 10.0
    """How many dB further down the bed goes while the voice speaks."""
    fade_in: float = 4.0
    """Seconds of fade-in at the session start."""
    fade_out: float = 6.0
    """Seconds of fade-out after the last words."""


@dataclass(frozen=True)
class Sound:
    """The sound one kind of event plays."""

    sound: str
    """A built-in sound name (``BUILTIN_SOUNDS``) or a path to an audio file (relative to the routine)."""
    level: float
    """dB relative to the voice."""


@dataclass(frozen=True)
class Timing:
    """Pacing inside every step."""

    lead_in: float = 1.5
    """Seconds from a step's start to its first words (lets the chime ring)."""
    settle: float = 1.0
    """Seconds from the end of the words to the first stroke or breath."""


@dataclass(frozen=True)
class Breath:
    """Breath pacing: one cycle is inhale, hold, exhale (and an optional hold after the exhale)."""

    inhale: float
    exhale: float
    hold: float = 0.0
    hold_out: float = 0.0
    cycles: int | None = None
    """How many cycles; ``None`` means as many whole cycles as fit in the step's duration."""

    @property
    def period(self) -> float:
        return self.inhale + self.hold + self.exhale + self.hold_out


@dataclass(frozen=True)
class Step:
    """One timed part of the session, and one chapter of the MP3.

    ``kind`` is ``"step"`` for ordinary steps (and the intro and outro), ``"pause"`` for a plain pause.
    A step with ``duration=None`` lasts as long as its content needs (intro, outro, breath steps).
    """

    title: str
    where: Where
    kind: str = "step"
    say: str | None = None
    duration: float | None = None
    strokes: int | None = None
    stroke_every: float | None = None
    breath: Breath | None = None


@dataclass(frozen=True)
class Routine:
    """A whole routine, validated."""

    id: str
    """The file's base name without ``.yaml``; names the output file."""
    source: str
    """Path of the routine file as given."""
    title: str
    description: str
    author: str = "voiceguide"
    album: str = "voiceguide"
    genre: str = "Meditation"
    voice: Voice = field(default_factory=Voice)
    background: Background = field(default_factory=Background)
    sounds: dict[str, Sound] = field(default_factory=dict)
    """One ``Sound`` for every key of ``DEFAULT_SOUNDS`` (the loader fills in defaults)."""
    timing: Timing = field(default_factory=Timing)
    steps: tuple[Step, ...] = ()
    """Everything in playing order: the intro (if any), the steps, the outro (if any)."""

    def texts(self) -> list[str]:
        """Every distinct narration text, in order of first use."""
        return list(dict.fromkeys(s.say for s in self.steps if s.say))
