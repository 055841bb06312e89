"""The validated routine: frozen values made by ``script.load_routine`` and read by everything else.

Times are in seconds (floats) here, as the author wrote them; the planner turns them into samples.
Every step keeps ``where`` (file, line, field path) so later stages can point back at the script.
Texts are final here: names such as ``{side}`` are filled in, and repeats and sides are unrolled
into one ``Step`` per round and side. Narration may still hold exact pauses (``[4s]``), which
``text.split_pauses`` cuts out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from voiceguide.core.errors import Where
from voiceguide.script.text import phrases
from voiceguide.script.words import Words, words_for

#: Text-to-speech engines a routine may name (``engines.py`` registers one class for each).
ENGINE_NAMES = ("auto", "pyttsx3", "piper", "kokoro", "fake")
#: The kinds of file voiceguide reads, each with a JSON Schema (``load.SCHEMAS``).
SCHEMA_KINDS = ("routine", "defaults", "snippet")
#: Sound names the program can make itself (see ``sounds.py``); anything else is a file path.
BUILTIN_SOUNDS = ("tick", "wood", "chime", "bell", "rise", "fall", "none")
#: Backgrounds the program can make itself; anything else is a file path.
BUILTIN_BEDS = ("noise", "drone", "none")
#: Event kinds that play a sound, and the built-in each uses unless the routine says otherwise.
#: The first four play in every routine; ``switch``, ``countdown``, ``halfway`` and ``pulse`` (a
#: quiet sign of time passing through a long hold) in routines that use them; ``end`` and ``finish``
#: only where a routine (or the library's defaults) names them.
DEFAULT_SOUNDS = {
    "tick": "tick",
    "chime": "chime",
    "inhale": "rise",
    "exhale": "fall",
    "switch": "bell",
    "countdown": "wood",
    "halfway": "bell",
    "end": "bell",
    "finish": "chime",
    "pulse": "tick",
}
#: Default level of each sound, in dB relative to the voice.
DEFAULT_SOUND_LEVELS = {
    "tick": -16.0,
    "chime": -10.0,
    "inhale": -18.0,
    "exhale": -18.0,
    "switch": -12.0,
    "countdown": -14.0,
    "halfway": -14.0,
    "end": -12.0,
    "finish": -10.0,
    "pulse": -18.0,
}
#: What the breath tone does while the breath is held: ``silent`` (it stops at the end of the inhale
#: or exhale) or ``steady`` (it holds still, at the pitch it reached).
HOLD_TONES = ("silent", "steady")
#: The sounds every routine has, whether it uses them or not.
CORE_SOUNDS = ("tick", "chime", "inhale", "exhale")
#: What a step may do when its narration does not fit (see ``Overflow``).
OVERFLOW_POLICIES = ("error", "extend", "speed")
#: The usual seconds per stroke of each kind of practice, as (least, most); ``voiceguide check``
#: warns about a stroke pace far outside them.
PACES = {"lymphatic": (2.0, 4.0), "circulation": (0.6, 1.5), "tension": (1.5, 5.0)}
#: The other versions of a routine that ``variants:`` may ask for: ``cues`` (each step's cue in
#: place of its narration; see ``plan.variants``).
VARIANTS = ("cues",)


#: Where the hands go and how they move: a step's ``zone`` and ``stroke`` (``export.pictures`` draws them).
ZONES = ("collarbones", "neck_sides", "neck_front", "under_chin", "jawline", "jaw_muscle", "cheeks",
         "under_eyes", "brows", "forehead", "temples", "whole_face")
"""Where the hands go, from the exits up: the hollows above the collarbones, the sides and the
front of the neck, under the chin, along the jaw, the jaw muscle (masseter), the cheeks, under the
eyes, the brow line, the forehead, the temples, and the whole face."""
STROKES = ("outward", "inward", "up", "down", "circles", "tap", "press", "hold")
"""How the hands move. ``outward`` is away from the face's centre line (toward the ears and the
temples; on the collarbones, toward the shoulders), ``inward`` toward it; ``up`` and ``down`` as
the head is held upright; ``circles`` small circles; ``tap`` light fingertip taps; ``press`` a
press and release; ``hold`` a still, held press."""

DEFAULT_STROKE = {
    "collarbones": "inward", "neck_sides": "down", "neck_front": "down", "under_chin": "outward",
    "jawline": "outward", "jaw_muscle": "circles", "cheeks": "outward", "under_eyes": "outward",
    "brows": "outward", "forehead": "outward", "temples": "circles", "whole_face": "tap",
}
"""Each zone's usual stroke, the way lymph drains there where that is the practice: inward along
the collarbones toward the base of the neck, down the neck, from the chin back along the jaw
toward below the ears, out across the cheeks to the front of the ears, under the eyes and over the
forehead out to the temples."""

LONG_HOLD = 10.0
"""Seconds a step without strokes or breaths (a hold, a rest) may stay quiet after its words (or
from its start, without words) before quiet pulses mark time passing through it."""

@dataclass(frozen=True)
class Voice:
    """How narration is spoken."""

    engine: str = "auto"
    """Text-to-speech engine: ``auto`` (a Piper voice where one is installed, else pyttsx3),
    ``pyttsx3``, ``piper`` or ``fake``."""
    voice: str | None = None
    """The engine's voice id or name; ``None`` is the engine's default English voice."""
    rate: float = 150.0
    """Words a minute as a listener hears them: over each phrase from its first word to its last,
    the pauses between its sentences included. Calm guidance sits around 140 to 160."""
    volume: float = 1.0
    """Engine volume, 0 to 1."""
    sentence_pause: float = 0.7
    """Seconds of silence between the sentences of a phrase, exact for every engine."""
    comma_pause: float | None = None
    """Seconds of silence at each comma (and semicolon and colon); ``None``: the voice's own."""
    pronounce: tuple[tuple[str, str], ...] = ()
    """Words (or word groups) and how to spell them for the voice, on top of ``phrasing.PRONOUNCE``."""
    language: str = "en"
    """The language spoken (a code such as ``en``, ``de``, ``ja``): the routine's language being
    rendered, which picks the voice where none is named (``engines.resolve_engine``)."""
    per_language: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    """Settings for one language only (``voice: {de: {rate: 140}}``), as ``(language, ((field,
    value), ...))``: ``speaking`` applies them."""

    def speaking(self, language: str) -> Voice:
        """These settings for speaking ``language``: its own settings over the shared ones."""
        own = dict(dict(self.per_language).get(language, ()))
        return dataclasses.replace(self, **own, language=language, per_language=())


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
    loop_start: float | None = None
    """For a file bed: seconds into the file where the loop starts."""
    loop_end: float | None = None
    """For a file bed: seconds into the file where the loop ends (crossfading into ``loop_start``)."""


@dataclass(frozen=True)
class Sound:
    """The sound one kind of event plays."""

    sound: str
    """A built-in sound name (``BUILTIN_SOUNDS``) or a path to an audio file (relative to the routine)."""
    level: float
    """dB relative to the voice."""


@dataclass(frozen=True)
class Overflow:
    """What a step does when its narration does not fit in it."""

    policy: str = "error"
    """``error`` (report it), ``extend`` (the step grows to fit) or ``speed`` (the voice speeds up
    to fit, up to ``max_speed``; beyond it, report it)."""
    max_speed: float = 1.25
    """The most ``speed`` may speed the voice up: 1.25 is a quarter faster."""


@dataclass(frozen=True)
class Timing:
    """Pacing inside every step."""

    lead_in: float = 1.5
    """Seconds from a step's start to its first words (lets the chime ring)."""
    settle: float = 1.0
    """Seconds from the end of the words to the first stroke or breath."""
    switch: float = 3.0
    """Seconds between a side's switch cue and its first stroke: time to change hands."""
    min_stroke: float = 0.4
    """The least time one stroke may have, in seconds."""
    pulse: float = 4.0
    """Seconds between the quiet pulses that mark time passing through a long hold (``LONG_HOLD``)."""
    overflow: Overflow = field(default_factory=Overflow)
    """What steps do when their narration does not fit (each step may say otherwise)."""
    pace: str | None = None
    """The practice whose usual stroke pace ``voiceguide check`` holds strokes to (``PACES``)."""


@dataclass(frozen=True)
class BreathWords:
    """Words spoken at the start of each breath phase (``None``: that phase has none)."""

    inhale: str | None = None
    hold: str | None = None
    exhale: str | None = None
    hold_out: str | None = None
    cycles: int | None = None
    """How many cycles, from the first, speak them; ``None`` means every cycle."""

    def texts(self) -> list[str]:
        return [t for t in (self.inhale, self.hold, self.exhale, self.hold_out) if t]


@dataclass(frozen=True)
class Breath:
    """Breath pacing: one cycle is inhale, hold, exhale (and an optional hold after the exhale)."""

    inhale: float
    exhale: float
    hold: float = 0.0
    hold_out: float = 0.0
    cycles: int | None = None
    """How many cycles; ``None`` means as many whole cycles as fit in the step's duration."""
    hold_tone: str = "silent"
    """The breath tone during a hold (``HOLD_TONES``): ``silent``, or ``steady`` at the pitch the
    tone before it reached."""
    words: BreathWords | None = None
    """Spoken phase cues, besides the inhale and exhale tones."""

    @property
    def period(self) -> float:
        return self.inhale + self.hold + self.exhale + self.hold_out


@dataclass(frozen=True)
class Countdown:
    """A count over the last ``count`` strokes or seconds of a step's pacing."""

    count: int
    unit: str
    """``strokes`` or ``seconds``."""
    words: tuple[str, ...] = ()
    """The spoken count, from ``count`` down to 1; empty: the countdown sound instead."""


@dataclass(frozen=True)
class Last:
    """A "last three" cue: ``say`` spoken over the tick of the stroke with ``strokes`` strokes left."""

    strokes: int
    say: str


@dataclass(frozen=True)
class Callout:
    """A spoken "time left" cue."""

    before_end: float
    """Seconds before the step's end."""
    say: str


@dataclass(frozen=True)
class Switch:
    """How a later side of a step begins: the switch sound, this cue, and a pause to change hands."""

    say: str | None
    """The spoken switch cue; ``None``: the sound alone."""
    pause: float
    """Seconds from the cue's end to the side's first stroke."""


@dataclass(frozen=True)
class Step:
    """One timed part of the session, and one chapter of the MP3.

    ``kind`` is ``"step"`` for ordinary steps (and the intro and outro), ``"pause"`` for a plain pause.
    A step with ``duration=None`` lasts as long as its content needs (intro, outro, breath steps).
    A step with sides is one ``Step`` per side, each with its ``side``; every side after the first
    has a ``switch`` and no ``say``. A step in a repeat is one ``Step`` per round.
    """

    title: str
    where: Where
    kind: str = "step"
    say: str | None = None
    """What the voice says as the step starts; in a repeat's later rounds, the step's ``again`` text."""
    duration: float | None = None
    strokes: int | None = None
    stroke_every: float | None = None
    breath: Breath | None = None
    side: str | None = None
    """The side this part works on, in a step with sides."""
    switch: Switch | None = None
    """How this side begins, on every side after the first."""
    round: int | None = None
    """The round, from 1, in a repeat."""
    rounds: int | None = None
    """How many rounds the repeat has."""
    overflow: Overflow = field(default_factory=Overflow)
    countdown: Countdown | None = None
    last: Last | None = None
    """A "last three" cue, in a step with strokes."""
    halfway: str | bool = False
    """A cue halfway through the pacing: ``True`` plays the halfway sound, text is spoken."""
    callouts: tuple[Callout, ...] = ()
    closing: str | None = None
    """Words that end exactly at the step's end, after its pacing."""
    pace: str | None = None
    """The practice whose usual stroke pace ``voiceguide check`` holds this step to."""
    cue: str | None = None
    """What the cues-only version says in place of the step's narration (``None``: its default)."""
    fixed: bool = False
    """Fitting to a length leaves this step as written."""
    min_strokes: int | None = None
    """The fewest strokes (breath cycles, in a breath step) a fit may give it; ``None``: ``plan.fit``'s default."""
    max_strokes: int | None = None
    """The most strokes (breath cycles, in a breath step) a fit may give it; ``None``: ``plan.fit``'s default."""
    optional: bool = False
    """A fit to a shorter length may leave this step out."""
    zone: str | None = None
    """Where the hands go (one of ``ZONES``): the step's chapter picture shows it."""
    stroke: str | None = None
    """How the hands move there (one of ``STROKES``; by default the zone's usual ``DEFAULT_STROKE``)."""
    image: str | None = None
    """The author's own picture for the step's chapter (an absolute path), in place of a drawn one."""

    def texts(self) -> Iterator[str]:
        """Every phrase this step speaks, in order (pauses cut out)."""
        spoken = [self.say, self.switch.say if self.switch else None]
        if self.breath is not None and self.breath.words is not None:
            spoken += self.breath.words.texts()
        if self.countdown is not None:
            spoken += self.countdown.words
        if self.last is not None:
            spoken.append(self.last.say)
        if isinstance(self.halfway, str):
            spoken.append(self.halfway)
        spoken += [c.say for c in self.callouts]
        spoken.append(self.closing)
        for text in spoken:
            if text:
                yield from phrases(text)


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
    image: str | None = None
    """Cover art: an image file's absolute path, or ``None`` for a generated card."""
    voice: Voice = field(default_factory=Voice)
    background: Background = field(default_factory=Background)
    sounds: dict[str, Sound] = field(default_factory=dict)
    """The ``Sound`` of each kind of event the routine plays: every one of ``CORE_SOUNDS``, and
    those of the other ``DEFAULT_SOUNDS`` that the routine uses or names (the loader fills in
    defaults). The planner places ``end`` and ``finish`` events only when they are here."""
    timing: Timing = field(default_factory=Timing)
    steps: tuple[Step, ...] = ()
    """Everything in playing order: the intro (if any), the steps, the outro (if any)."""
    loudness: float | None = None
    """Integrated loudness target in LUFS; ``None``: -16 for stereo, -19 for mono."""
    true_peak: float | None = None
    """True-peak ceiling in dBTP; ``None``: -1."""
    lengths: tuple[float, ...] = ()
    """Seconds that ``voiceguide build`` also fits the routine to, each its own file."""
    variants: tuple[str, ...] = ()
    """The other versions (``VARIANTS``) that ``voiceguide build`` also makes."""
    language: str = "en"
    """The language these texts are in: one of ``languages``, the routine loaded in it."""
    languages: tuple[str, ...] = ("en",)
    """Every language the routine speaks, its default first; ``voiceguide build`` renders each."""
    words: Words = field(default_factory=lambda: words_for("en"))
    """What voiceguide itself says in ``language`` (chapter titles' sides and rounds, variant names)."""

    def texts(self) -> list[str]:
        """Every distinct phrase the voice speaks, in order of first use."""
        return list(dict.fromkeys(text for step in self.steps for text in step.texts()))
