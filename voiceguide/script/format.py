"""The routine format, declared once as a tree of kinds (see ``kinds.py`` and ``docs/format.md``).

``script.load_routine`` reads files with these definitions and ``script.json_schema`` describes
them, so the validator and the JSON Schema cannot drift apart. What needs more than one file or
more than one field (includes, repeats, sides, names in texts, does it fit) is ``unroll.py``'s work;
the values here that are not model values yet (``specs.py``: ``Repeat``, ``Include``, ``BreathSpec``,
...) carry what it needs for that.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from voiceguide.script.kinds import (
    DEFS,
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
    Ref,
    Text,
    is_translations,
)
from voiceguide.script.model import (
    HOLD_TONES,
    STROKES,
    VARIANTS,
    ZONES,
    Breath,
    Routine,
    Step,
)
from voiceguide.script.settings import (
    BACKGROUND,
    LANGUAGES_FIELD,
    MIN_STROKE_INTERVAL,
    OVERFLOW_FIELD_KIND,
    PACE,
    SOUNDS,
    TIMING,
    VOICE,
    WordsOverrides,
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
    Shorthand,
    has_field,
    is_mapping,
    is_scalar,
)
from voiceguide.script.specs import (
    BreathSpec,
    CountdownSpec,
    Include,
    LastSpec,
    Repeat,
    SwitchSpec,
    TimeLeftSpec,
    Words,
)
from voiceguide.script.words import words_for

MAX_ROUNDS = 100
"""The most rounds one repeat may have."""


_EN = words_for("en")
"""What voiceguide says itself in English, quoted in the fields' descriptions."""


# --- Kinds only this format needs -------------------------------------------------------------


TITLE = Text(translated="required")
"""A title the listener sees (a chapter's, the session's), per language in a routine that speaks several."""


def is_text(node: yaml.Node) -> bool:
    """Text, or text per language (``{en: ..., de: ...}``)."""
    return is_scalar(node) or is_translations(node)


def is_bool(node: yaml.Node) -> bool:
    return is_scalar(node) and node.tag == "tag:yaml.org,2002:bool"


def is_sequence(node: yaml.Node) -> bool:
    return isinstance(node, yaml.SequenceNode)


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
        return Words({phase: Phrase(text, where) for phase, text in ctx.words.breath.items()}, None)

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

CUE_TEXT = OneOf("true, false or text", (Form(is_bool, Flag()), Form(is_text, Narration())))

SWITCH = Mapping(
    (
        Field("say", CUE_TEXT,
              f"The switch cue, spoken as each later side starts (false: the switch sound alone). "
              f"Default: {_EN.switch}"),
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

LAST = Mapping(
    (
        Field("strokes", Integer(1), "Speak on the stroke with this many strokes left, itself included.",
              required=True),
        Field("say", Narration(), f"What to say; {{remaining}} is the count. Default: {_EN.last}"),
    ),
    build=lambda loaded: LastSpec(loaded.values["strokes"], loaded.values.get("say"), loaded.where),
)

TIME_LEFT = Mapping(
    (
        Field("at", ListOf(Duration(), "time", unique=True),
              "When to speak, as time left before the step's end: [1m, 30s].", required=True),
        Field("say", Narration(), f"What to say; {{remaining}} is the time left. Default: {_EN.time_left}"),
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
                  f"Default (for a step with say): {_EN.again}"),
            Field("sides", ListOf(Text(translated="optional"), "side", min_items=2, unique=True),
                  "Work each side in turn, for example [left, right]: each side is its own timed part "
                  "(and chapter) of the step's duration and pacing; say is spoken on the first."),
            Field("switch", OneOf("text, false, or a mapping with say and pause",
                                  (Form(lambda node: is_translations(node) or not is_mapping(node), Shorthand(SWITCH, "say")),
                                   Form(is_mapping, SWITCH))),
                  f"How each later side begins: the switch sound, then this cue (default: {_EN.switch}), "
                  "then a pause to change hands (timing.switch)."),
        ]
    fields += [
        Field("countdown", COUNTDOWN, "A countdown over the last strokes or seconds."),
        Field("last", OneOf("a number of strokes, or a mapping with strokes and say",
                            (Form(lambda node: not is_mapping(node), Shorthand(LAST, "strokes")), Form(is_mapping, LAST))),
              f"A \"last three\" cue: spoken over the tick of the stroke with this many strokes left "
              f"({_EN.last.replace('{remaining}', '3')!r} for 3), the ticks going on to the end."),
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
    _step_fields(Field("title", TITLE, "The chapter name.", required=True), sides=True),
    rules=(PACING, RequiredUnless("duration", "breath", "only breath steps may leave it out")),
)
"""A step; it loads as a ``Loaded`` that ``unroll.py`` turns into one ``Step`` per side and round."""

OVERRIDES = Mapping(
    (Field("include", Text(), "The snippet's name: a file in the library's _snippets/ folder, without .yaml.",
           required=True),
     *_step_fields(Field("title", TITLE, "The chapter name, in place of the snippet's."), sides=True)),
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
        _step_fields(Field("title", TITLE, "The chapter name.", default=default_title), sides=False),
        rules=(PACING,),
    )
    return OneOf("text or a step", (Form(is_text, Shorthand(mapping, "say")), Form(is_mapping, mapping)))


# --- Files ------------------------------------------------------------------------------------

SETTINGS = (
    Field("author", Text(translated="optional"), "The artist tag.", default=Routine.author),
    Field("album", Text(translated="optional"), "The album tag (your library's name).", default=Routine.album),
    Field("genre", Text(translated="optional"), "The genre tag.", default=Routine.genre),
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
    LANGUAGES_FIELD,
)
"""The fields a routine shares with the library's defaults file."""

ROUTINE = Mapping(
    (
        Field("title", TITLE, "The session's title (the MP3's title tag).", required=True),
        Field("description", Text(translated="required"),
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
    (*(Field(f.name, f.kind, f.description) for f in SETTINGS),
     Field("words", WordsOverrides(),
           "What voiceguide says itself (the switch cue, later rounds, time left, breath words, the "
           "page's words), worded your way per language: {de: {switch: 'Nun die {side} Seite.'}}.")),
    expected="library defaults (a mapping with author, album, genre, voice, background, sounds or timing)",
)
"""``_defaults.yaml``: settings every routine in the library inherits, field by field, unless it
sets them itself. No field has a default here: what the file leaves out, routines leave to theirs."""

SNIPPET = OneOf(
    "a step, or a list of steps",
    (Form(is_sequence, ListOf(STEP_ITEM, "step")), Form(is_mapping, STEP_ITEM)),
)
"""A file in ``_snippets/``: one step item, or a list of them."""

DEFS["step_item"] = lambda: STEP_ITEM
"""The kinds that ``Ref`` names, for the schemas' ``$defs``."""
