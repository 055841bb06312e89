"""What every text-to-speech engine is: the ``Engine`` interface, the ``VoiceInfo`` it lists its
voices as, and how a voice's languages are matched against the language a routine is spoken in.

A language is a code such as ``en``, ``de``, ``fr-FR``, ``pt_BR`` or ``ja`` (``Voice.language``):
matched case-insensitively, ``_`` read as ``-``, on its first part (``de-DE`` is German) and, where
a voice gives one, its region (``fr-FR`` prefers France's French to Belgium's). The engines live in
``engines`` (pyttsx3, Piper, the fake) and ``kokoro``; ``engines`` registers them by name.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from voiceguide.core.errors import UsageError
from voiceguide.script.model import Voice

ENGLISH = "en"

ALIASES = {"cmn": "zh", "nb": "no"}
"""Language codes some voices give (espeak-ng's Mandarin is ``cmn``) and the code routines use."""


def tag(language: str) -> str:
    """``language`` as matched: lower case, ``-`` between its parts (``de_DE`` -> ``de-de``)."""
    return language.strip().replace("_", "-").lower()


def primary(language: str) -> str:
    """The language itself, without region or script: ``de`` for ``de-DE``, ``zh`` for ``cmn``."""
    first = tag(language).split("-", 1)[0]
    return ALIASES.get(first, first)


def is_english(language: str) -> bool:
    return primary(language) == ENGLISH


def speaks(languages: Iterable[str], language: str) -> int:
    """How well a voice of ``languages`` fits ``language``: 2 for the same code (``fr-fr`` for
    ``fr-FR``, ``de`` for ``de``), 1 for the same language only (``fr-be`` for ``fr``), 0 for none."""
    wanted = tag(language)
    fits = [2 if tag(lang) == wanted else 1 if primary(lang) == primary(wanted) else 0 for lang in languages]
    return max(fits, default=0)


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers."""

    id: str
    name: str
    languages: tuple[str, ...] = ()
    gender: str | None = None
    quality: str | None = None
    """Piper's quality label (x_low, low, medium, high)."""
    path: Path | None = None
    """Where the voice's model lives, for engines that load one."""


class Engine(ABC):
    """A text-to-speech engine. Subclasses set ``name`` and implement the three methods; engines
    that know their voices' languages override ``default_voice`` to pick one for a language."""

    name: ClassVar[str]

    @abstractmethod
    def version(self) -> str:
        """A string that changes whenever the engine's output may change (it keys the cache)."""

    @abstractmethod
    def voices(self) -> list[VoiceInfo]:
        """The voices this engine offers."""

    @abstractmethod
    def synthesize(self, text: str, voice: Voice) -> np.ndarray:
        """Speak ``text``; return mono float32 ``(samples, 1)`` at ``audio.RATE`` (may raise)."""

    def synthesize_pieces(self, texts: list[str], voice: Voice) -> list[np.ndarray]:
        """Speak each of ``texts`` (the sentences of one phrase) on its own; engines that can do
        it in one go override this."""
        return [self.synthesize(text, voice) for text in texts]

    threads = 0
    """CPU threads each of the engine's workers may use (0: its own choice); ``engine_pool`` sets it."""
    rate_response = 1.0
    """How a phrase's length follows the rate asked, as an exponent: 1 when twice the rate gives
    half the length. ``speak`` starts its corrections from it."""
    pace = 1.0
    """How much faster than the rate asked the engine speaks a phrase of average words: ``speak``
    asks for its first try that much slower."""

    @staticmethod
    def available() -> bool:
        """Whether what the engine needs is installed (engines with optional packages override it)."""
        return True

    install_hint = ""
    """How to install what the engine needs, for the message when ``available()`` is false."""

    def resolve_voice(self, wanted: str | None, language: str = ENGLISH) -> str | None:
        """The id of the voice named ``wanted`` (an id, an id's last part, or a name), whatever its
        languages; with ``wanted=None``, the engine's default voice for ``language``
        (``default_voice``: ``None`` is the engine's own default, and an engine with no voice for
        the language raises ``UsageError`` saying how to add one)."""
        if wanted is None:
            return self.default_voice(language)
        voices = self.voices()
        for test in (lambda v: v.id == wanted,
                     lambda v: v.id.rsplit("/", 1)[-1].lower() == wanted.lower(),
                     lambda v: v.name.lower() == wanted.lower()):
            for v in voices:
                if test(v):
                    return v.id
        known = [v.id for v in voices] + [v.name for v in voices]
        close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise UsageError(f"unknown voice '{wanted}' for engine {self.name}{hint}{self._looked_in()} "
                         f"(see: voiceguide voices --engine {self.name})")

    def default_voice(self, language: str = ENGLISH) -> str | None:
        """The voice spoken when none is named, for ``language``: ``None`` here (the engine's own
        choice, whatever the language); engines that know their voices' languages override it."""
        return None

    def voices_for(self, language: str) -> list[VoiceInfo]:
        """The voices that speak ``language``, the one ``default_voice`` picks first, then the
        others of the same code, then those of the same language (``[]`` when none does)."""
        try:
            default = self.default_voice(language)
        except UsageError:
            return []
        fitting = [v for v in self.voices() if speaks(v.languages, language) or v.id == default]
        return sorted(fitting, key=lambda v: (v.id != default, -speaks(v.languages, language)))

    def _looked_in(self) -> str:
        """Where voices were looked for, for an unknown voice's message (engines that search)."""
        return ""

    def _no_voice_for(self, language: str, how: str) -> UsageError:
        """The error for a language none of the engine's voices speaks, saying ``how`` to add one."""
        return UsageError(f"no {self.name} voice speaks '{language}'; {how} "
                          f"(see: voiceguide voices --language {language})")


def best_voice(voices: Iterable[VoiceInfo], language: str) -> VoiceInfo | None:
    """The first of ``voices`` with the same code as ``language``, else the first of the same
    language, else ``None``."""
    voices = list(voices)
    for fit in (2, 1):
        for voice in voices:
            if speaks(voice.languages, language) == fit:
                return voice
    return None


def dist_version(dist: str) -> str:
    """The installed version of the distribution ``dist``, or ``unknown``."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"
