"""Read a routine file (see ``docs/format.md``) into a validated ``model.Routine``.

The format is declared once, near the end of this module, as a tree of small *kinds* of value
(``Text``, ``Number``, ``Duration``, ``Mapping``, ...). Each kind does two things: it checks and
converts one YAML node, reporting problems at the node's line and column, and it describes itself
as JSON Schema. ``load_routine`` and ``json_schema`` read the same definitions, so they cannot
drift apart, and a new field is one more ``Field`` in a ``Mapping``.

Loading runs in stages, and each stage reports every problem it finds before the file is given up:
bytes to text (UTF-8), text to YAML nodes (``yaml.compose``, which keeps line and column marks),
one walk over all nodes (alias bombs, tags), the routine's fields (names, types, ranges), and last
the checks that need several fields at once (do the strokes fit after ``timing.lead_in``?). Only a
file with no problems becomes a ``Routine``.
"""

from __future__ import annotations

import difflib
import enum
import math
import re
import textwrap
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from .errors import Problem, ScriptError, UsageError, Where
from .model import (
    BUILTIN_BEDS,
    BUILTIN_SOUNDS,
    DEFAULT_SOUND_LEVELS,
    DEFAULT_SOUNDS,
    ENGINE_NAMES,
    Background,
    Breath,
    Routine,
    Sound,
    Step,
    Timing,
    Voice,
)

__all__ = [
    "MAX_DURATION",
    "MAX_NODES",
    "MIN_STROKE_INTERVAL",
    "format_seconds",
    "json_schema",
    "load_routine",
    "parse_duration",
]

MIN_STROKE_INTERVAL = 0.4
"""The least time between two strokes, in seconds."""
MAX_DURATION = 24 * 60 * 60.0
"""The longest any duration may be, in seconds."""
MAX_NODES = 100_000
"""The most YAML nodes a routine may hold, counting each use of an alias again."""
_TOLERANCE = 1e-9
"""Slack for float sums in the "does it fit" checks (10 strokes of 0.4 s fit in exactly 4 s)."""

_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION_PATTERN = (
    rf"\s*(?:{_NUMBER}|(?=\d)"
    rf"(?:{_NUMBER}\s*h(?:ours?|rs?)?\s*)?"
    rf"(?:{_NUMBER}\s*m(?:in(?:ute)?s?)?\s*)?"
    rf"(?:{_NUMBER}\s*s(?:ec(?:ond)?s?)?\s*)?"
    rf"(?:{_NUMBER}\s*ms\s*)?)\s*"
)
"""A duration as text: a bare number of seconds, or hours, minutes, seconds and milliseconds in
that order, each optional (``40s``, ``1.5 s``, ``500ms``, ``2 min``, ``1m30s``, ``1 h 5 m``).
Written to work both as a Python and as a JSON Schema (ECMA-262) regular expression."""
_DURATION_RE = re.compile(_DURATION_PATTERN)
_DURATION_UNITS = (1.0, 3600.0, 60.0, 1.0, 0.001)
"""Seconds per unit, for the pattern's groups in order: bare number, h, m, s, ms."""
_DURATION_EXAMPLES = "a duration such as 30, '30s' or '1m30s'"


# --- The public API ---------------------------------------------------------------------------


def load_routine(path: str | Path) -> Routine:
    """Read and validate the routine file at ``path``.

    Returns the ``Routine`` (its ``id`` is the file's stem, its ``source`` is ``str(path)``), with
    defaults filled in, durations in seconds and sound files as absolute paths.

    Raises ``UsageError`` when there is no such file, and ``ScriptError`` carrying every problem
    in the file, sorted by line and column, when it is not a valid routine.
    """
    file = str(path)
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"{file}: no such routine file")
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise UsageError(f"{file}: cannot read the routine file: {exc.strerror}") from exc
    ctx = Context(file=file, folder=source.parent)
    routine = _read(data, source.stem, ctx)
    if routine is None:
        problems = dict.fromkeys(ctx.problems)  # an aliased node can repeat a problem
        raise ScriptError(sorted(problems, key=lambda p: (p.where.line, p.where.col)))
    return routine


def json_schema() -> dict[str, Any]:
    """The routine format as a JSON Schema (draft 2020-12), made from the loader's own definitions.

    It checks what JSON Schema can express (fields, types, ranges, number durations); the loader
    also checks what it cannot (duration text ranges, sound files, whether strokes fit).
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "voiceguide routine",
        "description": "A guided routine that voiceguide turns into an MP3; see docs/format.md.",
        **ROUTINE.schema(),
    }


def parse_duration(text: str) -> float | None:
    """Seconds in a duration written as text (``40``, ``1.5s``, ``500ms``, ``1m30s``, ``2 min``).

    A leading ``-`` makes it negative (so messages can say "got -5"); ``None`` if it is not a
    duration at all.
    """
    unsigned = text.strip()
    sign = -1.0 if unsigned.startswith("-") else 1.0
    match = _DURATION_RE.fullmatch(unsigned.removeprefix("-"))
    if match is None:
        return None
    amounts = zip(match.groups(), _DURATION_UNITS, strict=True)
    return sign * sum(float(amount) * unit for amount, unit in amounts if amount is not None)


def format_seconds(seconds: float) -> str:
    """Seconds written compactly for messages, to the millisecond: ``3``, ``1.5``, ``0.25``."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# --- What every kind of value shares ----------------------------------------------------------


class _Invalid(enum.Enum):
    INVALID = "invalid"


INVALID = _Invalid.INVALID
"""What a kind returns for a value it rejected, after reporting why."""


@dataclass
class Context:
    """One load's state: the file's name as given, the folder its paths start from, and the
    problems found so far."""

    file: str
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    constructor: SafeConstructor = field(default_factory=SafeConstructor)

    def where(self, node: yaml.Node, path: str) -> Where:
        """The node's place in the file (1-based), named by ``path``."""
        return Where(self.file, node.start_mark.line + 1, node.start_mark.column + 1, path)

    def report(self, where: Where, message: str) -> _Invalid:
        """Record a problem; returns ``INVALID`` so a kind can ``return ctx.report(...)``."""
        self.problems.append(Problem(where, message))
        return INVALID

    def reject(self, node: yaml.Node, path: str, message: str) -> _Invalid:
        """Record a problem with the value at ``node``; returns ``INVALID``."""
        return self.report(self.where(node, path), message)

    def scalar(self, node: yaml.ScalarNode) -> Any:
        """The node's value by ``yaml.safe_load`` rules: ``yes`` is True, ``1.5`` a float."""
        return self.constructor.construct_object(node)


class Kind(ABC):
    """One kind of value in a routine file."""

    @abstractmethod
    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        """The node's value, checked and converted; or ``INVALID``, after reporting why to ``ctx``.

        ``path`` names the value in messages (``steps[2].duration``).
        """

    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """This kind as JSON Schema."""


def _describe(node: yaml.Node, ctx: Context) -> str:
    """What a node holds, for "expected ..., got X" messages: ``a list``, ``text``, ``true``."""
    if not isinstance(node, yaml.ScalarNode):
        return "a mapping" if isinstance(node, yaml.MappingNode) else "a list"
    value = ctx.scalar(node)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a date"  # timestamps are the only other scalars plain YAML makes


def _quote(text: str) -> str:
    """Text as quoted in messages, shortened to one line."""
    return "'" + textwrap.shorten(text, width=40, placeholder="...") + "'"


def _did_you_mean(word: str, names: tuple[str, ...] | list[str]) -> str:
    """``"; did you mean 'x'?"`` when one of ``names`` is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- Scalars ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text(Kind):
    """A non-blank string, stripped; ``collapse`` also turns each run of whitespace into one
    space (for narration written as a folded or literal block)."""

    collapse: bool = False

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            return ctx.reject(node, path, f"expected text, got {_describe(node, ctx)}")
        value = ctx.scalar(node)
        if isinstance(value, bool):
            word = "true" if value else "false"
            hint = "put it in quotes"
            if node.value.lower() != word:  # the YAML 1.1 trap: yes, no, on, off
                hint += f': "{node.value}" reads as {word}'
            return ctx.reject(node, path, f"expected text, got {word} ({hint})")
        if value is not None and not isinstance(value, str):
            return ctx.reject(node, path, f"expected text, got {_describe(node, ctx)} (put it in quotes)")
        text = " ".join((value or "").split()) if self.collapse else (value or "").strip()
        return text or ctx.reject(node, path, "must not be empty")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"\S"}


@dataclass(frozen=True)
class Choice(Kind):
    """One of a fixed set of names; ``noun`` names the set in messages (``unknown engine``)."""

    noun: str
    names: tuple[str, ...]

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        name = Text().load(node, path, ctx)
        if name is INVALID or name in self.names:
            return name
        choices = ", ".join(self.names)
        hint = _did_you_mean(name, self.names)
        return ctx.reject(node, path, f"unknown {self.noun} '{name}'; choose one of: {choices}{hint}")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.names)}


@dataclass(frozen=True)
class SoundRef(Kind):
    """A built-in sound (or bed) name, or an audio file relative to the routine file.

    Files must exist; they are returned as absolute paths (and decoded later, not here).
    """

    noun: str
    builtins: tuple[str, ...]

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        name = Text().load(node, path, ctx)
        if name is INVALID or name in self.builtins:
            return name
        file = ctx.folder / name
        if file.is_file():
            return str(file.resolve())
        builtins = ", ".join(self.builtins)
        hint = _did_you_mean(name, self.builtins)
        return ctx.reject(
            node, path,
            f"no built-in {self.noun} '{name}' and no file {file}; built-ins are {builtins}{hint}",
        )

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"\S", "examples": list(self.builtins)}


def _number(node: yaml.Node, path: str, ctx: Context, expected: str) -> Any:
    """A finite YAML number (never a boolean); or ``INVALID`` with "expected {expected}, got ..."."""
    value = ctx.scalar(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value):
            return value
        got = node.value  # .inf or .nan, as written
    elif isinstance(value, str):
        got = f"text ({_quote(value)})"
    else:
        got = _describe(node, ctx)
    return ctx.reject(node, path, f"expected {expected}, got {got}")


@dataclass(frozen=True)
class Number(Kind):
    """A number from ``minimum`` to ``maximum`` (both included), as a float."""

    minimum: float
    maximum: float

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        value = _number(node, path, ctx, "a number")
        if value is INVALID:
            return value
        if not self.minimum <= value <= self.maximum:
            return ctx.reject(
                node, path, f"must be between {self.minimum:g} and {self.maximum:g}, got {value:g}"
            )
        return float(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "number", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class Integer(Kind):
    """A whole number, at least ``minimum`` (``10`` or ``10.0``; not ``2.5``)."""

    minimum: int

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        value = _number(node, path, ctx, "a whole number")
        if value is INVALID:
            return value
        if not float(value).is_integer():
            return ctx.reject(node, path, f"expected a whole number, got {node.value}")
        if value < self.minimum:
            return ctx.reject(node, path, f"must be at least {self.minimum}, got {value:g}")
        return int(value)

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum}


@dataclass(frozen=True)
class Duration(Kind):
    """Seconds, as a number or text with units (see ``parse_duration``); at most 24 hours.

    It must be more than 0, or with ``at_least``, at least that (so ``at_least=0`` allows 0).
    """

    at_least: float | None = None

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        seconds = self._seconds(node, path, ctx)
        if seconds is INVALID:
            return seconds
        if self.at_least is None and seconds <= 0:
            return ctx.reject(node, path, f"must be more than 0 seconds, got {format_seconds(seconds)}")
        if self.at_least is not None and seconds < self.at_least:
            return ctx.reject(
                node, path,
                f"must be at least {format_seconds(self.at_least)} seconds, got {format_seconds(seconds)}",
            )
        if seconds > MAX_DURATION:
            return ctx.reject(node, path, f"must be at most 24 hours, got {format_seconds(seconds)} seconds")
        return float(seconds)

    @staticmethod
    def _seconds(node: yaml.Node, path: str, ctx: Context) -> Any:
        if isinstance(node, yaml.ScalarNode) and isinstance(text := ctx.scalar(node), str):
            seconds = parse_duration(text)
            if seconds is None:
                return ctx.reject(node, path, f"expected {_DURATION_EXAMPLES}, got {_quote(text)}")
            return seconds
        return _number(node, path, ctx, _DURATION_EXAMPLES)

    def schema(self) -> dict[str, Any]:
        number: dict[str, Any] = {"type": "number", "maximum": MAX_DURATION}
        if self.at_least is None:
            number["exclusiveMinimum"] = 0
        else:
            number["minimum"] = self.at_least
        return {"oneOf": [number, {"type": "string", "pattern": f"^{_DURATION_PATTERN}$"}]}


# --- Structures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One field of a mapping.

    ``default`` (JSON-compatible) stands in for the field when it is not written, and is shown
    in the JSON Schema; ``None`` leaves the field out (or to the model's own default).
    """

    name: str
    kind: Kind
    description: str
    required: bool = False
    default: Any = None


@dataclass
class Loaded:
    """A checked mapping, before it becomes a model value."""

    where: Where
    """The mapping itself."""
    values: dict[str, Any] = field(default_factory=dict)
    """Fields whose values passed their checks (converted), and the defaults of fields not written."""
    places: dict[str, Where] = field(default_factory=dict)
    """Every known field that was written, valid or not, in the order written."""


class Rule(ABC):
    """A constraint between the fields of one mapping."""

    @abstractmethod
    def check(self, loaded: Loaded, ctx: Context) -> None:
        """Report to ``ctx`` where ``loaded`` breaks the rule."""

    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """The rule as JSON Schema (applied to the mapping)."""


@dataclass(frozen=True)
class AtMostOne(Rule):
    """At most one of ``names`` may be written; each one after the first is a problem."""

    names: tuple[str, ...]

    def check(self, loaded: Loaded, ctx: Context) -> None:
        written = [name for name in loaded.places if name in self.names]
        listed = f"{', '.join(self.names[:-1])} and {self.names[-1]}"
        for name in written[1:]:
            ctx.report(loaded.places[name], f"use only one of {listed}")

    def schema(self) -> dict[str, Any]:
        return {"not": {"anyOf": [{"required": list(pair)} for pair in combinations(self.names, 2)]}}


@dataclass(frozen=True)
class RequiredUnless(Rule):
    """``name`` is required unless ``other`` is written; ``reason`` says so in the message."""

    name: str
    other: str
    reason: str

    def check(self, loaded: Loaded, ctx: Context) -> None:
        if self.name not in loaded.places and self.other not in loaded.places:
            where = replace(loaded.where, path=_join(loaded.where.path, self.name))
            ctx.report(where, f"required field is missing ({self.reason})")

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [{"required": [self.name]}, {"required": [self.other]}]}


@dataclass(frozen=True)
class Mapping(Kind):
    """A mapping with a fixed set of fields; anything else in it is a problem.

    Without ``build`` it loads as a ``Loaded`` (even with required fields missing, so later checks
    still see what is there). With ``build``, it loads as ``build(loaded)``, or as ``INVALID`` when
    a required field is missing or any field is invalid. ``expected`` names it in "expected X, got Y" messages.
    """

    fields: tuple[Field, ...]
    build: Callable[[Loaded], Any] | None = None
    rules: tuple[Rule, ...] = ()
    expected: str = "a mapping"

    def field_named(self, name: str) -> Field | None:
        """The field called ``name``, if the mapping has one."""
        return next((f for f in self.fields if f.name == name), None)

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if not isinstance(node, yaml.MappingNode):
            return ctx.reject(node, path, f"expected {self.expected}, got {_describe(node, ctx)}")
        loaded = Loaded(ctx.where(node, path))
        first_lines: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                ctx.reject(key, path, f"expected a field name, got {_describe(key, ctx)}")
                continue
            name, field_path = key.value, _join(path, key.value)
            if name in first_lines:
                ctx.reject(key, field_path, f"duplicate field; it is already set on line {first_lines[name]}")
                continue
            first_lines[name] = key.start_mark.line + 1
            known = self.field_named(name)
            if known is None:
                ctx.reject(key, field_path, self._unknown(name))
                continue
            loaded.places[name] = ctx.where(value, field_path)
            result = known.kind.load(value, field_path, ctx)
            if result is not INVALID:
                loaded.values[name] = result
        return self.finish(loaded, ctx)

    def finish(self, loaded: Loaded, ctx: Context) -> Any:
        """Report missing fields, fill in defaults, apply the rules, and build."""
        for f in self.fields:
            if f.name in loaded.places:
                continue
            if f.required:
                ctx.report(replace(loaded.where, path=_join(loaded.where.path, f.name)), "required field is missing")
            elif f.default is not None:
                loaded.values[f.name] = f.default
        for rule in self.rules:
            rule.check(loaded, ctx)
        if self.build is None:
            return loaded
        if any(f.name not in loaded.values for f in self.fields if f.required or f.name in loaded.places):
            return INVALID  # missing or invalid: the problem is reported, and there is nothing to build
        return self.build(loaded)

    def _unknown(self, name: str) -> str:
        names = [f.name for f in self.fields]
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if close:
            return f"unknown field; did you mean '{close[0]}'?"
        return f"unknown field; expected one of: {', '.join(names)}"

    def schema(self) -> dict[str, Any]:
        properties = {}
        for f in self.fields:
            properties[f.name] = {**f.kind.schema(), "description": f.description}
            if f.default is not None:
                properties[f.name]["default"] = f.default
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        if self.rules:
            schema["allOf"] = [rule.schema() for rule in self.rules]
        return schema


def _into(model: Callable[..., Any]) -> Callable[[Loaded], Any]:
    """A ``Mapping.build`` that passes the mapping's values to ``model`` as keyword arguments."""
    return lambda loaded: model(**loaded.values)


@dataclass(frozen=True)
class ListOf(Kind):
    """A non-empty list of ``item``; ``noun`` names an item in messages (``a list of steps``).

    Items that fail their checks are left out of the result (their problems are reported).
    """

    item: Kind
    noun: str

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if not isinstance(node, yaml.SequenceNode):
            return ctx.reject(node, path, f"expected a list of {self.noun}s, got {_describe(node, ctx)}")
        if not node.value:
            return ctx.reject(node, path, f"needs at least one {self.noun}")
        items = [self.item.load(child, f"{path}[{i}]", ctx) for i, child in enumerate(node.value)]
        return [item for item in items if item is not INVALID]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.schema(), "minItems": 1}


@dataclass(frozen=True)
class Form:
    """One shape a value may take: ``kind`` reads the nodes that ``matches`` accepts."""

    matches: Callable[[yaml.Node], bool]
    kind: Kind


@dataclass(frozen=True)
class OneOf(Kind):
    """A value with several forms, told apart by the node's shape (the first form that matches).

    ``expected`` names all the forms in the message for a node that matches none.
    """

    expected: str
    forms: tuple[Form, ...]

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        for form in self.forms:
            if form.matches(node):
                return form.kind.load(node, path, ctx)
        return ctx.reject(node, path, f"expected {self.expected}, got {_describe(node, ctx)}")

    def schema(self) -> dict[str, Any]:
        return {"oneOf": [form.kind.schema() for form in self.forms]}


@dataclass(frozen=True)
class Shorthand(Kind):
    """A scalar that stands for a mapping with one field: ``intro: Hi`` is ``intro: {say: Hi}``."""

    mapping: Mapping
    name: str

    def _field(self) -> Field:
        shorthand_for = self.mapping.field_named(self.name)
        assert shorthand_for is not None, f"the mapping has no field {self.name!r}"
        return shorthand_for

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        value = self._field().kind.load(node, path, ctx)
        if value is INVALID:
            return value
        where = ctx.where(node, path)
        return self.mapping.finish(Loaded(where, {self.name: value}, {self.name: where}), ctx)

    def schema(self) -> dict[str, Any]:
        return self._field().kind.schema()


def _is_scalar(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode)


def _is_mapping(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode)


def _has_field(name: str) -> Callable[[yaml.Node], bool]:
    """A test for mappings that have a field called ``name``."""
    return lambda node: _is_mapping(node) and any(
        _is_scalar(key) and key.value == name for key, _ in node.value
    )


# --- The format -------------------------------------------------------------------------------

VOICE = Mapping(
    (
        Field("engine", Choice("engine", ENGINE_NAMES),
              "Text-to-speech engine: pyttsx3 (offline) or fake (a deterministic stand-in for tests).",
              default=Voice.engine),
        Field("voice", Text(),
              "A voice id or name from `voiceguide voices`. Default: the engine's English voice."),
        Field("rate", Number(60, 400),
              "Words per minute, 60 to 400. Calm guidance sits around 140 to 160.", default=Voice.rate),
        Field("volume", Number(0, 1), "Engine volume, 0 to 1.", default=Voice.volume),
    ),
    build=_into(Voice),
)

BACKGROUND = Mapping(
    (
        Field("bed", SoundRef("bed", BUILTIN_BEDS),
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
    ),
    build=_into(Background),
)

_SOUND_EVENTS = {
    "tick": "every stroke",
    "chime": "the start of every step but the first (pauses have none)",
    "inhale": "the start of every inhale",
    "exhale": "the start of every exhale",
}
"""When each kind of event in ``model.DEFAULT_SOUNDS`` plays its sound."""


def _sound(event: str) -> OneOf:
    """The sound for one kind of event: a name or file, or a mapping with sound and level."""
    mapping = Mapping(
        (
            Field("sound", SoundRef("sound", BUILTIN_SOUNDS),
                  f"A built-in sound ({', '.join(BUILTIN_SOUNDS)}) or an audio file (relative to the routine).",
                  required=True),
            Field("level", Number(-60, 0), "dB relative to the voice; -60 to 0.",
                  default=DEFAULT_SOUND_LEVELS[event]),
        ),
        build=_into(Sound),
    )
    return OneOf(
        "a sound name, an audio file, or a mapping with sound and level",
        (Form(_is_scalar, Shorthand(mapping, "sound")), Form(_is_mapping, mapping)),
    )


def _sounds(given: dict[str, Sound]) -> dict[str, Sound]:
    """A sound for every kind of event: the routine's own, or the default."""
    return {
        event: given[event] if event in given else Sound(DEFAULT_SOUNDS[event], DEFAULT_SOUND_LEVELS[event])
        for event in DEFAULT_SOUNDS
    }


SOUNDS = Mapping(
    tuple(
        Field(event, _sound(event),
              f"The sound at {_SOUND_EVENTS[event]}. Default {DEFAULT_SOUNDS[event]} at "
              f"{DEFAULT_SOUND_LEVELS[event]:g} dB.")
        for event in DEFAULT_SOUNDS
    ),
    build=lambda loaded: _sounds(loaded.values),
)

TIMING = Mapping(
    (
        Field("lead_in", Duration(at_least=0), "From a step's start to its first words.",
              default=Timing.lead_in),
        Field("settle", Duration(at_least=0),
              "From the end of a step's words to its first stroke or breath.", default=Timing.settle),
    ),
    build=_into(Timing),
)

BREATH = Mapping(
    (
        Field("inhale", Duration(), "Length of each inhale.", required=True),
        Field("hold", Duration(at_least=0), "Hold after the inhale.", default=Breath.hold),
        Field("exhale", Duration(), "Length of each exhale.", required=True),
        Field("hold_out", Duration(at_least=0), "Hold after the exhale.", default=Breath.hold_out),
        Field("cycles", Integer(1),
              "How many breath cycles. Default: as many whole cycles as fit in the step's duration."),
    ),
    build=_into(Breath),
)

PACING = AtMostOne(("strokes", "stroke_every", "breath"))


def _step_fields(title: Field) -> tuple[Field, ...]:
    """The fields of a step (steps, intro and outro differ only in their title)."""
    return (
        title,
        Field("say", Text(collapse=True),
              "What the voice says at the start of the step. Without it the step is silent but for its pacing."),
        Field("duration", Duration(), "The step's exact length. Required, except for breath steps."),
        Field("strokes", Integer(1),
              "How many strokes: that many ticks, evenly spaced from the end of the words to the end of the step."),
        Field("stroke_every", Duration(at_least=MIN_STROKE_INTERVAL),
              "Or: one tick every this long, from the end of the words to the end of the step."),
        Field("breath", BREATH, "Breath pacing, instead of strokes."),
    )


STEP = Mapping(
    _step_fields(Field("title", Text(), "The chapter name.", required=True)),
    rules=(PACING, RequiredUnless("duration", "breath", "only breath steps may leave it out")),
)

PAUSE = Mapping(
    (Field("pause", Duration(), "Silence (but for the bed) of exactly this long, with no chime.",
           required=True),),
    build=lambda loaded: Step(title="Pause", where=loaded.where, kind="pause", duration=loaded.values["pause"]),
)

STEP_ITEM = OneOf(
    "a step (a mapping with title, say and duration) or a pause",
    (Form(_has_field("pause"), PAUSE), Form(_is_mapping, STEP)),
)


def _opening(default_title: str) -> OneOf:
    """The intro or outro: text (what to say), or a step whose title defaults to ``default_title``."""
    mapping = Mapping(
        _step_fields(Field("title", Text(), "The chapter name.", default=default_title)),
        rules=(PACING,),
    )
    return OneOf("text or a step", (Form(_is_scalar, Shorthand(mapping, "say")), Form(_is_mapping, mapping)))


ROUTINE = Mapping(
    (
        Field("title", Text(), "The session's title (the MP3's title tag).", required=True),
        Field("description", Text(),
              "What the routine is for, with its safety note (the MP3's comment tag).", required=True),
        Field("author", Text(), "The artist tag.", default=Routine.author),
        Field("album", Text(), "The album tag (your library's name).", default=Routine.album),
        Field("genre", Text(), "The genre tag.", default=Routine.genre),
        Field("voice", VOICE, "How narration is spoken."),
        Field("background", BACKGROUND, "The bed under everything."),
        Field("sounds", SOUNDS, "Which sound each kind of event plays."),
        Field("timing", TIMING, "Pacing inside every step."),
        Field("intro", _opening("Introduction"),
              "Opening narration: text, or a step (its title defaults to Introduction)."),
        Field("steps", ListOf(STEP_ITEM, "step"), "The steps, in order; at least one.", required=True),
        Field("outro", _opening("Closing"),
              "Closing narration: text, or a step (its title defaults to Closing)."),
    ),
    expected="a routine (a mapping with title, description and steps)",
)


# --- Loading ----------------------------------------------------------------------------------


def _read(data: bytes, routine_id: str, ctx: Context) -> Routine | None:
    """The routine in ``data``, or ``None`` when ``ctx`` holds problems."""
    root = _compose(data, ctx)
    if root is None or not _check_nodes(root, ctx):
        return None
    doc = ROUTINE.load(root, "", ctx)
    if doc is INVALID:
        return None
    parts = _parts(doc)
    timing = doc.values.get("timing", Timing())
    for part in parts:
        if isinstance(part, Loaded):
            _check_strokes(part, timing, ctx)
            _check_breath(part, timing, ctx)
    if ctx.problems:
        return None
    settings = {name: value for name, value in doc.values.items() if name not in ("intro", "steps", "outro")}
    settings.setdefault("sounds", _sounds({}))
    steps = tuple(part if isinstance(part, Step) else Step(where=part.where, **part.values) for part in parts)
    return Routine(id=routine_id, source=ctx.file, steps=steps, **settings)


def _parts(doc: Loaded) -> list[Loaded | Step]:
    """The intro, steps and outro in playing order; pauses are ``Step``s already."""
    intro, outro = ([doc.values[name]] if name in doc.values else [] for name in ("intro", "outro"))
    return [*intro, *doc.values.get("steps", []), *outro]


def _compose(data: bytes, ctx: Context) -> yaml.Node | None:
    """The file's YAML nodes, or ``None`` after reporting why there are none."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _end_of(data[: exc.start].decode("utf-8", errors="replace"))
        ctx.report(Where(ctx.file, line, col), "the file is not valid UTF-8 text")
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        ctx.report(_mark_where(exc, ctx), f"YAML syntax error: {_yaml_problem(exc)}")
        return None
    except yaml.reader.ReaderError as exc:  # a control character; it has a position, not a mark
        line, col = _end_of(text[: exc.position])
        ctx.report(Where(ctx.file, line, col), f"YAML syntax error: {str(exc).splitlines()[0]}")
        return None
    except RecursionError:
        ctx.report(Where(ctx.file, 1, 1), "the document is nested too deeply")
        return None
    if root is None:
        ctx.report(Where(ctx.file, 1, 1), "the file is empty; a routine needs title, description and steps")
    return root


def _end_of(prefix: str) -> tuple[int, int]:
    """The 1-based line and column just after ``prefix``, the text before some place."""
    return prefix.count("\n") + 1, len(prefix) - (prefix.rfind("\n") + 1) + 1


def _mark_where(exc: yaml.MarkedYAMLError, ctx: Context) -> Where:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Where(ctx.file, 1, 1)
    return Where(ctx.file, mark.line + 1, mark.column + 1)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem text; with its context when the problem alone is half a sentence
    ("but found another document")."""
    problem = exc.problem or exc.context or "unreadable YAML"
    if exc.context and problem.startswith("but "):
        return f"{exc.context} {problem}"
    return problem


def _check_nodes(root: yaml.Node, ctx: Context) -> bool:
    """Walk every node as ``yaml.safe_load`` would build it, aliases expanded, before reading any.

    Stops past ``MAX_NODES`` nodes (alias bombs, alias cycles), and reports explicit tags that
    would change a value (``!!python/...``, ``!!float 1``, ``!foo``); ``!!str`` is fine. After
    this walk every scalar converts without error. Returns whether nothing was wrong.
    """
    resolver = Resolver()
    pending = [root]
    visited = 0
    ok = True
    while pending:
        node = pending.pop()
        visited += 1
        if visited > MAX_NODES:
            ctx.reject(root, "", "the document is too large (or expands too many aliases)")
            return False
        if not _plain_tag(node, resolver):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            ctx.reject(node, "", f"YAML tag '{tag}' is not allowed here; only plain YAML is read")
            ok = False
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend(child for pair in node.value for child in pair)
    return ok


def _plain_tag(node: yaml.Node, resolver: Resolver) -> bool:
    """Whether the node's tag is the one plain YAML gives it (or ``!!str`` on a scalar)."""
    if isinstance(node, yaml.ScalarNode):
        implicit = resolver.resolve(yaml.ScalarNode, node.value, (True, False))
        return node.tag in ("tag:yaml.org,2002:str", implicit)
    if isinstance(node, yaml.SequenceNode):
        return node.tag == "tag:yaml.org,2002:seq"
    return node.tag == "tag:yaml.org,2002:map"


def _check_strokes(step: Loaded, timing: Timing, ctx: Context) -> None:
    """Strokes must be at least ``MIN_STROKE_INTERVAL`` apart after the lead-in."""
    strokes, duration = step.values.get("strokes"), step.values.get("duration")
    if strokes is None or duration is None:
        return
    if strokes * MIN_STROKE_INTERVAL > duration - timing.lead_in + _TOLERANCE:
        do = "does" if strokes == 1 else "do"
        ctx.report(
            step.places["strokes"],
            f"{_count(strokes, 'stroke')} {do} not fit in {format_seconds(duration)} s after the "
            f"{format_seconds(timing.lead_in)} s lead-in "
            f"(each needs at least {format_seconds(MIN_STROKE_INTERVAL)} s)",
        )


def _check_breath(step: Loaded, timing: Timing, ctx: Context) -> None:
    """A breath step needs cycles or a duration; with a duration, its cycles (at least one) fit."""
    breath, duration = step.values.get("breath"), step.values.get("duration")
    if breath is None:
        return
    if duration is None:
        if breath.cycles is None and "duration" not in step.places:
            ctx.report(step.places["breath"], "give cycles, or a duration for the step")
        return
    cycles = breath.cycles or 1
    if timing.lead_in + cycles * breath.period > duration + _TOLERANCE:
        do = "does" if cycles == 1 else "do"
        ctx.report(
            step.places["breath"],
            f"{_count(cycles, 'breath cycle')} of {format_seconds(breath.period)} s {do} not fit "
            f"in a {format_seconds(duration)} s step",
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
