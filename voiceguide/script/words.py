"""The words voiceguide says and shows itself, in each language it has a words file for.

A routine's own texts are its author's; what voiceguide adds to them is here: the switch cue of a
later side ("Now the {side} side."), a later round's title ("{title}, round {round} of {rounds}."),
time-left callouts, the cues-only version's cues, breath words, chapter titles with a side or a
round ("Cheeks (left)"), durations as spoken ("2 minutes 30 seconds"), and every string of the
library page. Each language is one YAML file in ``words/`` beside this module (``words/de.yaml``),
for a translator to edit; ``words/en.yaml`` is the model every other file follows: the same keys,
and in every text the same ``{names}``.

``words_for("de")`` is the ``Words`` of a language (``de-DE``, ``de_DE`` and ``pt-BR`` fall back to
their base language), with a library's own changes laid over it entry by entry (``overrides``, from
``words: {de: {...}}`` in ``_defaults.yaml``). English says exactly what voiceguide said before it
had other languages.

Numbers stay digits (the text-to-speech engines read cardinal digits in their own language), with
the language's decimal separator; "1" is spelled as a word only where grammar wants it ("eine
Minute", "une seconde"): each unit's ``exactly_1`` form.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any


from voiceguide.core.errors import UsageError

PLURAL_RULES = {
    "exactly_1": "the one form for exactly 1 only (English, German, Dutch, Italian, Spanish)",
    "below_2": "the one form from 0 up to, not including, 2 (French, Portuguese: 0 minute, 1,5 seconde)",
    "never": "no plural forms: the other form always (Japanese)",
}
"""The plural rules a words file may name (``plural``), after CLDR's cardinal rules for ``one``."""

_NAME = re.compile(r"\{([^{}]*)\}")


def _names(text: str) -> list[str]:
    """The ``{names}`` in ``text``, sorted (``{{`` and ``}}`` are braces, not names)."""
    plain = text.replace("{{", "").replace("}}", "")
    return sorted(match.group(1).strip() for match in _NAME.finditer(plain))


def _fill(text: str, **values: Any) -> str:
    """``text`` with each ``{name}`` replaced by its value and ``{{``/``}}`` by braces."""
    pieces = re.split(r"(\{\{|\}\}|\{[^{}]*\})", text)
    out = []
    for piece in pieces:
        if piece in ("{{", "}}"):
            out.append(piece[0])
        elif piece.startswith("{") and piece.endswith("}") and len(piece) > 1:
            out.append(str(values[piece[1:-1].strip()]))
        else:
            out.append(piece)
    return "".join(out)


@dataclass(frozen=True)
class Words:
    """One language's words (see the module's docstring and ``words/en.yaml`` for each entry)."""

    language: str
    """The language's code, as its file is named: ``de``."""
    name: str
    native: str
    iso639_2: str
    """The ID3 ``TLAN`` code: ``deu``."""
    espeak: str
    """The espeak-ng voice for the language: ``de``, ``pt-br``."""
    switch: str
    again: str
    time_left: str
    last: str
    cue_round: str
    breath: Mapping[str, str]
    page: Mapping[str, str]
    sides: Mapping[str, str]
    """``{side}`` in ``switch``: ``left`` -> ``linke`` (``Jetzt die linke Seite.``)."""
    title_sides: Mapping[str, str]
    """``{side}`` in chapter titles and cues: ``left`` -> ``links`` (``Wangen (links)``)."""
    title_forms: Mapping[str, str]
    """The file's ``side_title``, ``round_title`` and ``side_round_title``: how a chapter title
    names its side and round (``{title} ({side})``)."""
    cue_join: str
    cues_only: str
    titles: Mapping[str, str]
    """The titles voiceguide gives: ``intro``, ``outro`` (when a routine names none) and ``pause``."""
    plural: str
    decimal: str
    minute: Mapping[str, str]
    second: Mapping[str, str]
    minutes_seconds: str

    def side(self, side: str) -> str:
        """A side as ``{side}`` says it in ``switch`` (``left`` -> ``linke``); a side this
        language has no word for is returned as it is."""
        return self.sides.get(side, side)

    def title_side(self, side: str) -> str:
        """A side as a chapter title or a cue says it (``left`` -> ``links``), else as it is."""
        return self.title_sides.get(side, side)

    def side_title(self, title: str, side: str) -> str:
        """A chapter title with its side: ``Wangen (links)``."""
        return _fill(self.title_forms["side_title"], title=title, side=self.title_side(side))

    def chapter_title(self, title: str, side: str | None = None, round: int | None = None,
                      rounds: int | None = None) -> str:
        """A step's chapter title with its side and round, as the plan names steps:
        ``Cheeks (left, round 2 of 3)``, ``Cheeks (left)``, ``Cheeks (round 2 of 3)``."""
        if round is None:
            return self.side_title(title, side) if side else title
        key = "side_round_title" if side else "round_title"
        return _fill(self.title_forms[key], title=title, side=self.title_side(side or ""),
                     round=self.number(round), rounds=self.number(rounds if rounds is not None else round))

    def cue(self, title: str, side: str | None = None, round: int | None = None) -> str:
        """A step's cue in the cues-only version: its title, its side and, after the first round,
        its round: ``Cheeks, left, round 2``."""
        parts = [title, *([self.title_side(side)] if side else []),
                 *([_fill(self.cue_round, round=self.number(round))] if round is not None and round > 1 else [])]
        return self.cue_join.join(parts)

    def variant_note(self, length: float | None = None, cues: bool = False) -> str:
        """What a version of a routine adds to its title, in brackets: ``5 minutes, cues only``."""
        parts = [self.duration(length)] if length is not None else []
        return self.cue_join.join([*parts, *([self.cues_only] if cues else [])])

    def plural_form(self, n: float) -> str:
        """``one`` or ``other``: the plural form this language uses for ``n`` (``plural``)."""
        if self.plural == "never":
            return "other"
        if self.plural == "below_2":
            return "one" if 0 <= n < 2 else "other"
        return "one" if n == 1 else "other"

    def number(self, n: float) -> str:
        """``n`` in digits, to the millisecond, with the language's decimal separator:
        ``3``, ``1,5``, ``0,25``."""
        text = f"{n:.3f}".rstrip("0").rstrip(".")
        return ("0" if text == "-0" else text).replace(".", self.decimal)

    def count(self, n: float, unit: Mapping[str, str]) -> str:
        """``n`` of a unit (a mapping with ``one``, ``other`` and ``exactly_1`` forms)."""
        if n == 1:
            return unit["exactly_1"]
        return _fill(unit[self.plural_form(n)], n=self.number(n))

    def duration(self, seconds: float) -> str:
        """Seconds as a voice says them: ``30 Sekunden``, ``eine Minute``, ``1,5 Sekunden``,
        ``2 Minuten 30 Sekunden`` (in English exactly ``text.spoken_duration``)."""
        minutes, rest = divmod(round(seconds, 3), 60)
        said_minutes = self.count(int(minutes), self.minute) if minutes else None
        if said_minutes is not None and not rest:
            return said_minutes
        said_seconds = self.count(round(rest, 3), self.second)
        if said_minutes is None:
            return said_seconds
        return _fill(self.minutes_seconds, minutes=said_minutes, seconds=said_seconds)

    def routine_count(self, n: int) -> str:
        """The page's count of routines: ``2 routines``, ``1 Routine``."""
        return _fill(self.page[f"routines_{self.plural_form(n)}"], count=n)

    def page_text(self, key: str, **values: Any) -> str:
        """One of the page's strings with its ``{names}`` filled in: ``page_text("play", title=...)``."""
        return _fill(self.page[key], **values)


# --- Loading ------------------------------------------------------------------------------------


class WordsError(ValueError):
    """A words file, or a library's ``words:`` overrides, with a mistake; ``key`` is where, as the
    keys from the top (``("de", "breath", "inhale")``), for the loader to find its line."""

    def __init__(self, key: tuple[str, ...], message: str):
        self.key = key
        super().__init__(f"words.{'.'.join(key)}: {message}")


def _folder():
    return files(__package__).joinpath("words")


@cache
def _languages() -> tuple[str, ...]:
    found = sorted(entry.name[: -len(".yaml")] for entry in _folder().iterdir()
                   if entry.name.endswith(".yaml") and not entry.name.startswith(("_", ".")))
    return ("en", *(lang for lang in found if lang != "en"))


LANGUAGES: tuple[str, ...] = _languages()
"""The languages with a words file, English first, then by code."""


@cache
def _data(language: str) -> Mapping[str, Any]:
    """A language's words file as read and checked against the English one (read-only)."""
    text = _folder().joinpath(f"{language}.yaml").read_text(encoding="utf-8")
    import yaml  # here, not at import: the command line's --help loads no YAML parser

    data = yaml.safe_load(text)
    if language == "en":
        _check_shape(data, (language,))
    else:
        _check_like(data, _data("en"), (language,), complete=True)
    _check_values(data, (language,))
    return _frozen(data)


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    return value


def _check_shape(data: Any, where: tuple[str, ...]) -> None:
    """The English file: a mapping of texts and mappings of texts."""
    if not isinstance(data, Mapping):
        raise WordsError(where, f"must be a mapping, got {_kind(data)}")
    for key, value in data.items():
        if isinstance(value, Mapping):
            _check_shape(value, (*where, str(key)))
        elif not isinstance(value, str):
            raise WordsError((*where, str(key)), f"must be text, got {_kind(value)}")


def _check_like(data: Any, model: Mapping[str, Any], where: tuple[str, ...], *, complete: bool) -> None:
    """``data`` has only the keys of ``model`` (the English file's; all of them if ``complete``),
    each a mapping where the model's is, else text with the same ``{names}``."""
    if not isinstance(data, Mapping):
        raise WordsError(where, f"must be a mapping of {', '.join(model)}, got {_kind(data)}")
    for key, value in data.items():
        if key not in model:
            close = difflib.get_close_matches(str(key), list(model), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise WordsError((*where, str(key)), f"unknown entry; the entries here are {', '.join(model)}{hint}")
        expected = model[key]
        if isinstance(expected, Mapping):
            _check_like(value, expected, (*where, key), complete=complete)
        elif not isinstance(value, str):
            raise WordsError((*where, key), f"must be text, got {_kind(value)}")
        elif _names(value) != _names(expected):
            raise WordsError((*where, key), _names_message(value, expected))
    missing = [key for key in model if key not in data] if complete else []
    if missing:
        raise WordsError(where, f"missing {', '.join(missing)}")


def _names_message(value: str, expected: str) -> str:
    wanted, got = _names(expected), _names(value)
    dropped = [n for n in dict.fromkeys(wanted) if wanted.count(n) > got.count(n)]
    added = [n for n in dict.fromkeys(got) if got.count(n) > wanted.count(n)]
    said = [*(f"drops {{{n}}}" for n in dropped), *(f"adds {{{n}}}" for n in added)]
    keep = ", ".join(f"{{{n}}}" for n in dict.fromkeys(wanted)) or "no {names}"
    return f"{' and '.join(said)}: the text must keep exactly the names of the English one ({keep}), got {value!r}"


def _check_values(data: Mapping[str, Any], where: tuple[str, ...]) -> None:
    """The entries that are not free text: the plural rule, the decimal separator, the ISO code."""
    if "plural" in data and data["plural"] not in PLURAL_RULES:
        raise WordsError((*where, "plural"), f"must be one of {', '.join(PLURAL_RULES)}, got {data['plural']!r}")
    if "decimal" in data and len(data["decimal"]) != 1:
        raise WordsError((*where, "decimal"), f"must be one character (. or ,), got {data['decimal']!r}")
    if "iso639_2" in data and not re.fullmatch(r"[a-z]{3}", data["iso639_2"]):
        raise WordsError((*where, "iso639_2"), f"must be three lowercase letters (deu), got {data['iso639_2']!r}")


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"


def _merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _merged(base[key], value) if isinstance(base[key], Mapping) else value
    return merged


def _base_language(language: str) -> str | None:
    """The words file for a language tag (``de``, ``de-DE``, ``de_DE``, ``pt-BR``), or ``None``."""
    tag = str(language).strip().replace("_", "-").lower()
    for code in (tag, tag.split("-")[0]):
        if code in LANGUAGES:
            return code
    return None


def _unknown(language: str) -> UsageError:
    names: dict[str, str] = {}
    for code in LANGUAGES:
        data = _data(code)
        for name in (code, data["iso639_2"], data["name"], data["native"]):
            names.setdefault(name.lower(), code)
    close = difflib.get_close_matches(str(language).strip().lower(), list(names), n=1, cutoff=0.6)
    hint = f"; did you mean '{names[close[0]]}'?" if close else ""
    known = ", ".join(f"{code} ({_data(code)['name']})" for code in LANGUAGES)
    return UsageError(f"no words for the language '{language}'; the languages are: {known}{hint}")


def words_for(language: str, overrides: Mapping[str, Any] | None = None) -> Words:
    """The words of ``language`` (a code such as ``de``, or a tag such as ``de-DE``, ``pt_BR``:
    the base language's words), with ``overrides`` laid over them entry by entry (``breath``,
    ``sides``, ``page`` and the other mappings key by key).

    An unknown language is a ``UsageError`` naming the known ones; an override with an unknown
    key, a mapping where text belongs (or text where a mapping does), or a text that drops or adds
    a ``{name}`` compared with English, is a ``WordsError`` (a ``ValueError``) naming its key, from
    ``language`` as given (``("de-DE", "breath", "inhale")``)."""
    code = _base_language(language)
    if code is None:
        raise _unknown(language)
    if not overrides:
        return _words(code)
    where = (str(language),)  # as the library's words: names it
    _check_like(overrides, _data("en"), where, complete=False)
    _check_values(overrides, where)
    return _build(code, _merged(_data(code), overrides))


@cache
def _words(code: str) -> Words:
    return _build(code, _data(code))


TITLE_FORMS = ("side_title", "round_title", "side_round_title")
"""The file's entries that ``Words.title_forms`` holds."""


def _build(code: str, data: Mapping[str, Any]) -> Words:
    values = {name: data[name] for name in Words.__dataclass_fields__ if name not in ("language", "title_forms")}
    values["title_forms"] = {name: data[name] for name in TITLE_FORMS}
    for name, value in values.items():
        if isinstance(value, Mapping):
            values[name] = MappingProxyType(dict(value))
    return Words(language=code, **values)
