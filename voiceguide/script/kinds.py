"""The kinds of value a routine file is made of, each checking one YAML node and describing itself.

A *kind* (``Text``, ``Number``, ``Duration``, ``Mapping``, ...) does two things: it checks and
converts one YAML node, reporting problems at the node's line and column, and it describes itself
as JSON Schema. ``format.py`` declares the routine format as a tree of kinds; ``load.py`` reads
files with it. A new field is one more ``Field`` in a ``Mapping``.

This module holds what every kind shares (``Context``, ``Kind``) and the kinds of one value (text,
numbers, durations, files); ``shapes.py`` the kinds that hold others (``Mapping``, ``ListOf``,
``OneOf``, ``Shorthand``) and the rules between fields.
"""

from __future__ import annotations

import difflib
import enum
import math
import re
import textwrap
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from voiceguide.core.errors import Problem, Where
from voiceguide.script import text as texts
from voiceguide.script.text import DURATION_PATTERN, format_seconds, parse_duration
from voiceguide.script.words import LANGUAGES, Words, words_for

MAX_DURATION = 24 * 60 * 60.0
"""The longest any duration may be, in seconds."""
MAX_NARRATION = 10_000
"""The most characters one narration text may hold (about 11 minutes of speech)."""
_DURATION_EXAMPLES = "a duration such as 30, '30s' or '1m30s'"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters no text may hold (NUL, BEL, ESC, ...): all C0 and C1 but tab and line feed."""


# --- What every kind of value shares ----------------------------------------------------------


class _Invalid(enum.Enum):
    INVALID = "invalid"


INVALID = _Invalid.INVALID
"""What a kind returns for a value it rejected, after reporting why."""


MISSING = object()
"""What ``Context.inherited_value`` returns for a field the library's defaults do not set."""


@dataclass
class Context:
    """One file's load: the file's name as given, the folder its paths start from, and the
    problems found so far (a list that the loads of included files share)."""

    file: str
    folder: Path
    problems: list[Problem] = field(default_factory=list)
    constructor: SafeConstructor = field(default_factory=SafeConstructor)
    inherited: dict[str, Any] = field(default_factory=dict)
    """Values that stand in for fields not written, by field path (``voice.rate``): for a routine,
    those of the library's defaults file."""
    include: Callable[[str, Where], Any] | None = None
    """Reads the snippet a step item names, as ``include(name, where)``; set by ``load.py``."""
    library: Path | None = None
    """The library folder, which files named in the file may not leave (default: ``folder``)."""
    languages: tuple[str, ...] = ("en",)
    """The languages the routine speaks, its default first (``languages:``)."""
    language: str = "en"
    """The language being loaded: a translated text gives its text in this language."""
    words_overrides: dict[str, Any] = field(default_factory=dict)
    """The library's own words for what voiceguide says itself (``words:``), by language."""
    routine_file: bool = False
    """Whether this is the routine's own file: a text there in a language the routine does not
    speak is a mistake (a snippet or the defaults may hold texts for other routines' languages)."""
    _words: Words | None = field(default=None, repr=False)

    def inherited_value(self, path: str) -> Any:
        """The inherited value of the field at ``path``, or ``MISSING``."""
        return self.inherited.get(path, MISSING)

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

    def inside(self, node: yaml.Node, path: str, name: str) -> Path | _Invalid:
        """The file ``name`` (relative to ``folder``), resolved; ``INVALID`` after reporting it
        when it leads outside the library (``..``, an absolute path, a link out)."""
        file = (self.folder / name).resolve()
        library = (self.library or self.folder).resolve()
        if not file.is_relative_to(library):
            return self.reject(node, path, f"'{name}' is outside the library folder {library}/; files a routine "
                                           "uses must be inside it")
        return file

    @property
    def words(self) -> Words:
        """What voiceguide itself says, in the language being loaded (``words.words_for``)."""
        if self._words is None or self._words.language != self.language:
            self._words = words_for(self.language, self.words_overrides.get(self.language))
        return self._words

    def translation(self, node: yaml.Node, path: str, required: bool = True) -> tuple[yaml.Node, str] | _Invalid:
        """The text of a translated field in the language being loaded, as ``(node, path)``.

        A mapping of languages (``{en: ..., de: ...}``) gives its entry for ``language``; a plain
        text is the default language's, and with ``required`` a text with words of its own must
        then be translated into every other language the routine speaks."""
        if is_translations(node):
            entries = {key.value: (value, key) for key, value in node.value}
            for code, (_, key) in entries.items():
                if code not in LANGUAGES:
                    self.reject(key, join_path(path, code), f"unknown language '{code}'; voiceguide speaks "
                                                            f"{', '.join(LANGUAGES)}{did_you_mean(code, LANGUAGES)}")
                elif code not in self.languages and self.routine_file:
                    self.reject(key, join_path(path, code),
                                f"'{code}' is not one of the languages this routine speaks "
                                f"({', '.join(self.languages)}); add it to languages:{did_you_mean(code, self.languages)}")
            if self.language in entries:
                return entries[self.language][0], join_path(path, self.language)
            return self.reject(node, path, f"no {self.language} text; add one ({self.language}: ...): this "
                                           f"routine speaks {', '.join(self.languages)}")
        default = self.languages[0]
        if required and self.language != default and isinstance(node, yaml.ScalarNode) \
                and isinstance(node.value, str) and has_words(node.value):
            return self.reject(node, path, f"no {self.language} text: the text is in {default} only; write it "
                                           f"per language ({{{default}: ..., {self.language}: ...}}): this "
                                           f"routine speaks {', '.join(self.languages)}")
        return node, path

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


LANGUAGE_CODE = re.compile(r"[a-z]{2}")
"""A language as routines name it: its two-letter ISO 639-1 code (``en``, ``de``, ``ja``)."""


def is_translations(node: yaml.Node) -> bool:
    """Whether ``node`` is a text per language: a mapping whose keys are all language codes."""
    return isinstance(node, yaml.MappingNode) and bool(node.value) and all(
        isinstance(key, yaml.ScalarNode) and LANGUAGE_CODE.fullmatch(str(key.value)) for key, _ in node.value)


_NOT_WORDS = re.compile(r"\{[^{}]*\}|\[[^\[\]]*\]|[\W\d_]")


def has_words(text: str) -> bool:
    """Whether ``text`` has words of its own, besides names, pauses, digits and punctuation
    (``{remaining}`` has none, and needs no translation)."""
    return bool(_NOT_WORDS.sub("", text))


def translated_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a translated value: ``schema``, or a mapping of language codes to it."""
    return {"oneOf": [schema, {"type": "object", "minProperties": 1, "additionalProperties": False,
                               "patternProperties": {f"^{LANGUAGE_CODE.pattern}$": schema}}]}


DEFS: dict[str, Callable[[], Kind]] = {}
"""The kinds that ``Ref`` names, for the schemas' ``$defs`` (each module of the format adds its own)."""


@dataclass(frozen=True)
class Ref(Kind):
    """A kind defined elsewhere (later, for recursive formats, or used in many places), named
    ``name`` in the schema's ``$defs``."""

    name: str
    target: Callable[[], Kind]

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        return self.target().load(node, path, ctx)

    def schema(self) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{self.name}"}


class _TextPerLanguage(Kind):
    """The schema of a text a listener hears or sees: one text, or one per language."""

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        return Text(translated="required").load(node, path, ctx)

    def schema(self) -> dict[str, Any]:
        return translated_schema({"type": "string", "pattern": r"\S"})


DEFS["text"] = _TextPerLanguage


def describe(node: yaml.Node, ctx: Context) -> str:
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


def quote(text: str) -> str:
    """Text as quoted in messages, shortened to one line."""
    return "'" + textwrap.shorten(text, width=40, placeholder="...") + "'"


def did_you_mean(word: str, names: tuple[str, ...] | list[str]) -> str:
    """``"; did you mean 'x'?"`` when one of ``names`` is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def join_path(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- Scalars ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text(Kind):
    """A non-blank string, stripped; ``collapse`` also turns each run of whitespace into one
    space (for narration written as a folded or literal block)."""

    collapse: bool = False
    translated: str | None = None
    """``"required"``: a text the listener hears or sees, written per language in a routine that
    speaks several (``Context.translation``); ``"optional"``: the same, but one text may serve
    every language (a tag); ``None``: not translated (a name, a file)."""

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if self.translated is not None:
            picked = ctx.translation(node, path, required=self.translated == "required")
            if picked is INVALID:
                return INVALID
            node, path = picked
        if not isinstance(node, yaml.ScalarNode):
            return ctx.reject(node, path, f"expected text, got {describe(node, ctx)}")
        value = ctx.scalar(node)
        if isinstance(value, bool):
            word = "true" if value else "false"
            hint = "put it in quotes"
            if node.value.lower() != word:  # the YAML 1.1 trap: yes, no, on, off
                hint += f': "{node.value}" reads as {word}'
            return ctx.reject(node, path, f"expected text, got {word} ({hint})")
        if value is not None and not isinstance(value, str):
            return ctx.reject(node, path, f"expected text, got {describe(node, ctx)} (put it in quotes)")
        if value and (bad := CONTROL.search(value)):  # only a "\e"-style escape can write one
            return ctx.reject(node, path, f"the text holds a control character (U+{ord(bad.group()):04X}); "
                                          "only tabs and line breaks are allowed")
        text = " ".join((value or "").split()) if self.collapse else (value or "").strip()
        return text or ctx.reject(node, path, "must not be empty")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"\S"} if self.translated is None else {"$ref": "#/$defs/text"}


@dataclass(frozen=True)
class Respellings(Kind):
    """Words and how to say them: a mapping of a word (or a few) to its respelling, both text.
    Loads as ``((word, respelling), ...)``, on top of the inherited value (the library's defaults),
    whose entries the file's own override."""

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        if not isinstance(node, yaml.MappingNode):
            return ctx.reject(node, path, f"expected a mapping of words to how they are said, got {describe(node, ctx)}")
        inherited = ctx.inherited_value(path)
        entries = dict(() if inherited is MISSING else inherited)
        ok = True
        for key, value in node.value:
            word = Text(collapse=True).load(key, path, ctx)
            said = Text(collapse=True).load(value, join_path(path, str(key.value)), ctx)
            if word is INVALID or said is INVALID:
                ok = False
            elif not all(c.isalpha() or c in " '’-" for c in word):
                ctx.reject(key, join_path(path, word), "a word to respell has only letters, spaces, "
                           "hyphens and apostrophes")
                ok = False
            else:
                entries[word.lower()] = said
        return tuple(sorted(entries.items())) if ok else INVALID

    def schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": "string", "pattern": r"\S"}}


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
        hint = did_you_mean(name, self.names)
        return ctx.reject(node, path, f"unknown {self.noun} '{name}'; choose one of: {choices}{hint}")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.names)}


@dataclass(frozen=True)
class SoundRef(Kind):
    """A built-in sound (or bed) name, or an audio file relative to the routine file, inside the
    library.

    Files must decode, hold sound and last at most ``max_seconds`` (checked once per file version,
    ``media.check_file``); they are returned as absolute paths.
    """

    noun: str
    builtins: tuple[str, ...]
    max_seconds: float

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        name = Text().load(node, path, ctx)
        if name is INVALID or name in self.builtins:
            return name
        file = ctx.folder / name
        if file.is_file():
            real = ctx.inside(node, path, name)
            if real is INVALID:
                return real
            from voiceguide.script.media import (
                check_file,  # decoding the routine's own files is part of reading it
            )

            problem = check_file(real, self.max_seconds).problem
            return ctx.reject(node, path, f"{file}: {problem}") if problem else str(real)
        builtins = ", ".join(self.builtins)
        hint = did_you_mean(name, self.builtins)
        return ctx.reject(
            node, path,
            f"no built-in {self.noun} '{name}' and no file {file}; built-ins are {builtins}{hint}",
        )

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"\S", "examples": list(self.builtins)}


@dataclass(frozen=True)
class FileRef(Kind):
    """A file relative to the routine file, inside the library (it must exist, and pass ``check``:
    why it cannot be used, or ``""``); returned as an absolute path."""

    noun: str
    check: Callable[[Path], str] | None = None

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        name = Text().load(node, path, ctx)
        if name is INVALID:
            return name
        file = ctx.folder / name
        if not file.is_file():
            return ctx.reject(node, path, f"no {self.noun} file {file}")
        real = ctx.inside(node, path, name)
        if real is INVALID:
            return real
        problem = self.check(real) if self.check is not None else ""
        return ctx.reject(node, path, f"{file}: {problem}") if problem else str(real)

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"\S"}


def _number(node: yaml.Node, path: str, ctx: Context, expected: str) -> Any:
    """A finite YAML number (never a boolean); or ``INVALID`` with "expected {expected}, got ..."."""
    value = ctx.scalar(node) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value):
            return value
        got = node.value  # .inf or .nan, as written
    elif isinstance(value, str):
        got = f"text ({quote(value)})"
    else:
        got = describe(node, ctx)
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
    """A whole number, at least ``minimum`` and, if given, at most ``maximum`` (``10`` or
    ``10.0``; not ``2.5``)."""

    minimum: int
    maximum: int | None = None

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        value = _number(node, path, ctx, "a whole number")
        if value is INVALID:
            return value
        if not float(value).is_integer():
            return ctx.reject(node, path, f"expected a whole number, got {node.value}")
        if value < self.minimum:
            return ctx.reject(node, path, f"must be at least {self.minimum}, got {value:g}")
        if self.maximum is not None and value > self.maximum:
            return ctx.reject(node, path, f"must be at most {self.maximum}, got {value:g}")
        return int(value)

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer", "minimum": self.minimum}
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass(frozen=True)
class Flag(Kind):
    """``true`` or ``false`` (YAML's ``yes``/``no`` too)."""

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        value = ctx.scalar(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool):
            return value
        return ctx.reject(node, path, f"expected true or false, got {describe(node, ctx)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Phrase:
    """Narration as written, before names are filled in: checked text, and where it is."""

    text: str
    where: Where


@dataclass(frozen=True)
class Narration(Kind):
    """Text the voice speaks, as a ``Phrase``: whitespace collapsed, and its ``{names}`` and
    ``[pauses]`` well formed (see ``text.py``). Which names are known depends on where the text
    is used, so that is checked when names are filled in."""

    def load(self, node: yaml.Node, path: str, ctx: Context) -> Any:
        picked = ctx.translation(node, path)
        if picked is INVALID:
            return INVALID
        node, path = picked
        value = Text(collapse=True).load(node, path, ctx)
        if value is INVALID:
            return value
        if len(value) > MAX_NARRATION:
            return ctx.reject(node, path, f"the text is {len(value)} characters long; at most {MAX_NARRATION} "
                                          "are allowed in one text (split it over steps)")
        found = texts.problems(value)
        for message in found:
            ctx.reject(node, path, message)
        return INVALID if found else Phrase(value, ctx.where(node, path))

    def schema(self) -> dict[str, Any]:
        return Text(translated="required").schema()


@dataclass(frozen=True)
class Duration(Kind):
    """Seconds, as a number or text with units (see ``parse_duration``); at most 24 hours.

    It must be more than 0, or with ``at_least``, at least that (so ``at_least=0`` allows 0).
    """

    at_least: float | None = None
    at_most: float = MAX_DURATION

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
        if seconds > self.at_most:
            most = "24 hours" if self.at_most == MAX_DURATION else f"{format_seconds(self.at_most)} seconds"
            return ctx.reject(node, path, f"must be at most {most}, got {format_seconds(seconds)} seconds")
        return float(seconds)

    @staticmethod
    def _seconds(node: yaml.Node, path: str, ctx: Context) -> Any:
        if isinstance(node, yaml.ScalarNode) and isinstance(text := ctx.scalar(node), str):
            seconds = parse_duration(text)
            if seconds is None:
                return ctx.reject(node, path, f"expected {_DURATION_EXAMPLES}, got {quote(text)}")
            return seconds
        return _number(node, path, ctx, _DURATION_EXAMPLES)

    def schema(self) -> dict[str, Any]:
        number: dict[str, Any] = {"type": "number", "maximum": self.at_most}
        if self.at_least is None:
            number["exclusiveMinimum"] = 0
        else:
            number["minimum"] = self.at_least
        return {"oneOf": [number, {"type": "string", "pattern": f"^{DURATION_PATTERN}$"}]}
