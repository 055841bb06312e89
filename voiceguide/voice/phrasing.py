"""How a phrase is said: its words respelled for the voice, cut into sentences, and how long it
should last.

A phrase (one narration clip, see ``text.phrases``) is spoken as pieces: each sentence (and, where
the routine asks for ``voice.comma_pause``, each part between commas) is synthesized on its own and
the pieces are joined with exact silences, so the pause between sentences is the same for every
engine. ``voice.rate`` is the pace a listener hears: words a minute over the phrase from its first
word to its last, the pauses between its sentences included.

Japanese and Chinese have no spaces between words: their characters (kana and kanji, hanzi) count
``CHARACTERS_PER_WORD`` to a word, so a rate of 145 is 290 characters a minute, a calm Japanese
narration (Kokoro's voices speak about 350 at their own pace); their sentences end at 。！？ and
their commas are 、，；：.

Pure functions only: ``engines.speak`` uses them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from voiceguide.script.model import Voice

PRONOUNCE: dict[str, str] = {
    "masseter": "muh seeter",
    "effleurage": "ef ler ahzh",
    "decollete": "day coll tay",
    "sternocleidomastoid": "sterno cly doh mastoid",
}
"""Respellings of the massage words the voices say wrong: checked against the phonemes espeak-ng
gives them (Piper speaks espeak-ng's phonemes too), e.g. masseter as "MASS-eh-ter" where it is
"muh-SEE-ter". The words the routines repeat most (tick, stroke, lymph, lymphatic, collarbones, gua
sha) come out right as they are. A routine's ``voice.pronounce`` adds to these or overrides them."""

MAX_SPEEDUP = 1.3
"""Pauses never make the words themselves faster than this many times ``voice.rate``: where a
phrase's pauses leave too little time, it lasts longer than the rate says."""

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|(?<=[。！？])[」』）\"')\]]*\s*")
_COMMA = re.compile(r"(?<=[,;:])\s+|(?<=[、，；：])\s*")
_WORD = re.compile(r"[\w'’-]+")
_CJK = re.compile("[\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\u3400-\u4dbf"
                  "\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9d\u3005\u3006\u3007]")
"""The characters of Japanese and Chinese that are said: kana (with the long-vowel mark ー),
kanji or hanzi, half-width katakana, 々; not their punctuation."""
_KANA = re.compile("[\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9d]")
CHARACTERS_PER_WORD = 2.0
"""Japanese or Chinese characters counted as one word: the pace of a phrase in them is its
characters a minute over this."""
KANJI_WEIGHT = 1.8
"""How much longer a kanji takes to say than a kana, in Japanese (a kanji is read as one to three
kana; measured with Kokoro's jf_alpha over guidance sentences: 0.25 s a kanji, 0.14 s a kana)."""
KANJI_SHARE = 0.28
"""The share of kanji among the characters of Japanese guidance (the starter sentences measured)."""


def respell(text: str, table: Iterable[tuple[str, str]] | Mapping[str, str], language: str = "en") -> str:
    """``text`` with each word or phrase of ``table`` (``PRONOUNCE`` first, in English, then the
    entries given, which win) replaced by its respelling, matched whole and case-insensitively; a
    capital first letter is kept. ``PRONOUNCE`` spells English sounds, so other languages get the
    entries given alone."""
    builtin = PRONOUNCE if language.split("-")[0].split("_")[0].lower() == "en" else {}
    entries = {**builtin, **dict(table.items() if isinstance(table, Mapping) else table)}
    if not entries:
        return text
    ordered = sorted(entries, key=len, reverse=True)  # "gua sha" before "gua"
    pattern = re.compile(r"(?<![\w'’-])(" + "|".join(re.escape(w) for w in ordered) + r")(?![\w'’-])",
                         re.IGNORECASE)
    lowered = {w.lower(): say for w, say in entries.items()}

    def say(match: re.Match) -> str:
        word = match.group(0)
        out = lowered[word.lower()]
        return out[:1].upper() + out[1:] if word[:1].isupper() else out

    return pattern.sub(say, text)


def pieces(text: str, voice: Voice) -> list[tuple[str, float]]:
    """The pieces ``text`` is spoken as, each with the seconds of silence after it (none after the
    last): sentences ``voice.sentence_pause`` apart, and with ``voice.comma_pause`` set, the parts
    between commas (and semicolons and colons) that far apart."""
    out: list[tuple[str, float]] = []
    for sentence in (s for s in _SENTENCE_END.split(text.strip()) if s.strip()):
        parts = [sentence]
        if voice.comma_pause:
            parts = [p for p in _COMMA.split(sentence) if p.strip()]
        out += [(part.strip(), voice.comma_pause or 0.0) for part in parts]
        if out:
            out[-1] = (out[-1][0], voice.sentence_pause)
    if out:
        out[-1] = (out[-1][0], 0.0)
    return out


def cjk_characters(text: str) -> int:
    """How many characters of Japanese or Chinese ``text`` holds (``_CJK``)."""
    return len(_CJK.findall(text))


def word_count(text: str) -> float:
    """Words as a listener counts them: ``4-7-8`` is one, ``don't`` is one; Japanese or Chinese
    characters ``CHARACTERS_PER_WORD`` to a word (a fraction where it falls so; text without them
    counts whole words, an ``int``)."""
    cjk = cjk_characters(text)
    if not cjk:
        return len(_WORD.findall(text))
    return len(_WORD.findall(_CJK.sub(" ", text))) + cjk / CHARACTERS_PER_WORD


LETTERS_PER_WORD = 4.3
"""Letters in an average word of guidance; voices take longer over longer words."""


def word_weight(text: str) -> float:
    """How much longer than an average word the words of ``text`` take to say, judged by their
    letters (measured with Piper on the starter routines: a phrase's length goes with its letters
    a word at about the 0.8 power): a first guess at how much faster to ask a voice to speak.
    Japanese and Chinese count as words of average length, except that in Japanese (text with
    kana) a phrase with more kanji than usual takes longer (``KANJI_WEIGHT``)."""
    cjk = cjk_characters(text)
    words = _WORD.findall(_CJK.sub(" ", text) if cjk else text)
    if not words and not cjk:
        return 1.0
    letters = sum(len(w) for w in words) + cjk / CHARACTERS_PER_WORD * LETTERS_PER_WORD * _kanji_weight(text, cjk)
    return (letters / (len(words) + cjk / CHARACTERS_PER_WORD) / LETTERS_PER_WORD) ** 0.8


def _kanji_weight(text: str, cjk: int) -> float:
    """How much longer than usual the ``cjk`` Japanese characters of ``text`` take to say (1 for
    none, or for Chinese: text without kana)."""
    kana = len(_KANA.findall(text))
    if not cjk or not kana:
        return 1.0
    usual = 1 + (KANJI_WEIGHT - 1) * KANJI_SHARE
    return (kana + KANJI_WEIGHT * (cjk - kana)) / cjk / usual


def target_seconds(text: str, rate: float) -> float:
    """How long ``text`` lasts at ``rate`` words a minute, from its first word to its last."""
    return 60.0 * word_count(text) / rate


def speaking_seconds(text: str, voice: Voice, pauses: float) -> float:
    """How long the words of ``text`` themselves should take (its pauses, ``pauses`` seconds in
    all, left out), never faster than ``MAX_SPEEDUP`` times the rate."""
    return max(target_seconds(text, voice.rate) - pauses, target_seconds(text, voice.rate * MAX_SPEEDUP))


def expected_seconds(text: str, voice: Voice) -> float:
    """How long ``text`` should last as spoken by ``voice`` (said as ``pieces``), from its first
    word to its last: ``words / rate``, unless its pauses leave the words too little time."""
    said = pieces(respell(text, voice.pronounce, voice.language), voice)
    pauses = sum(pause for _, pause in said)
    return pauses + speaking_seconds(text, voice, pauses)
