"""The library's web page: one self-contained ``index.html`` for phones.

The page works opened straight from the library folder (``file://``) or served by
``voiceguide serve``: the CSS, the script and the data are all inline, with no fonts, frameworks
or network; the only files it loads are the library's own (covers, MP3s), by relative links. The
routine list is plain HTML, a card per routine in the library's order (cover, title, length, a
one-line summary, a play button), under the safety note said once for the page. The script
reads the routines from an inline JSON block and drives one shared audio player: the step
playing, its picture and the line being spoken in step with the audio, a tap on a step to seek to
it, previous and next step (on the page and on the lock screen, through the Media Session API),
and the place you stopped, kept per routine and version in ``localStorage`` and offered back
after a reload.

The page's HTML template, CSS and script are real web files beside this module, in ``web/``
(package data, read with ``importlib.resources``); each written page carries them inline.

The page speaks the library's language: its ``lang``, and every text it shows or reads out, from the
language's words (``script.words``, their ``page`` entries); the ones the script needs go to it in
the inline JSON (``words``, and ``lang`` for the captions track).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from html import escape
from importlib.resources import files
from urllib.parse import quote

from voiceguide.library.feed import whole_seconds
from voiceguide.script.words import Words, words_for

SAFETY = re.compile(r"\bSafety:\s")
"""Where a description's safety text starts (the starter routines end theirs with one); in another
language, its ``safety`` word and a colon starts one too (``safety_pattern``)."""
SCRIPT_WORDS = ("audio_error", "resume_at", "captions")
"""The page's words that its script says (the rest are in the HTML)."""


def render_index(library_title: str, entries: list[dict], language: str | Words = "en",
                 libraries: list[tuple[str, str]] = ()) -> str:
    """The complete ``index.html`` text for a library.

    Each entry has ``id``, ``title``, ``description``, ``duration_ms``, ``file`` (the MP3's path
    relative to the page), ``chapters`` (``title``, ``start_ms``, ``end_ms``, and ``img``, a
    picture of the step, where it has one) and ``lines`` (``start_ms``, ``end_ms``, ``text``),
    chapters and lines in time order, listed in the order given (the library's). Where given,
    ``image`` (the cover, beside the MP3) is shown on its card and while a step without a picture
    plays; entries with ``of`` (the routine they are a version of) and ``variant`` (which version,
    "" for the full one) share their routine's card, which offers the versions to choose from; ``version`` keys the place you stopped (a new audio starts afresh); ``captions`` (caption
    files beside the MP3) become the player's captions track when the page is served.

    ``language`` is the library's (a code, ``de``, or its ``Words`` with the library's own
    changes): the page's ``lang`` and its texts. ``libraries`` are the library's pages in each
    language it has, as (code, link); with more than one, the page links the others by name.
    """
    words = _words(language)
    page = {key: escape(text) for key, text in words.page.items()}
    groups = _grouped(entries)
    items = "\n".join(_routine_item(versions, entries, words) for versions in groups)
    data = {"title": library_title, "routines": entries, "lang": words.language,
            "words": {key: words.page[key] for key in SCRIPT_WORDS}}
    safety = page_safety(entries, words)
    return _web_file("index.html").format(
        lang=escape(words.language),
        title=escape(library_title),
        summary=escape(words.routine_count(len(groups))),
        languages=_languages_nav(words, libraries),
        safety=(f'<aside class="safety" aria-label="{page["safety"]}"><p>{_labelled(safety, words)}</p></aside>'
                if safety else ""),
        routines=items or f'<li class="empty">{page["no_routines"]}</li>',
        resume=page["resume"], not_now=page["not_now"], now_playing=page["now_playing"],
        previous_step=page["previous_step"], next_step=page["next_step"], steps=page["steps"],
        about=page["about"], routines_label=page["routines"],
        css=_web_file("page.css"),
        data=script_json(data),
        js=_web_file("page.js"),
    )


def _languages_nav(words: Words, libraries: list[tuple[str, str]]) -> str:
    """Links to the library in its other languages, each named in itself (``Deutsch``)."""
    if len(libraries) < 2:
        return ""
    links = []
    for code, link in libraries:
        name = escape(words_for(code).native)
        links.append(f'<span aria-current="page" lang="{escape(code)}">{name}</span>' if code == words.language else
                     f'<a href="{escape(quote(link))}" hreflang="{escape(code)}" lang="{escape(code)}">{name}</a>')
    return f'<nav class="languages" aria-label="{escape(words.page["languages"])}">{" · ".join(links)}</nav>'


def _words(language: str | Words) -> Words:
    return language if isinstance(language, Words) else words_for(language)


def safety_pattern(language: str | Words = "en") -> re.Pattern[str]:
    """Where a description's safety text starts: ``Safety:``, or the language's ``safety`` word
    and a colon (``Sicherheitshinweis:``, ``Précautions :``, ``安全上の注意：``)."""
    label = _words(language).page["safety"]
    if label == "Safety":
        return SAFETY
    return re.compile(rf"(?<!\w)(?:Safety|{re.escape(label)})(?:\s?:\s|\s?：\s*)")


def format_duration(ms: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour), in whole seconds cut down (``feed.whole_seconds``), as
    players show a length and as the page's own ``clock()`` in JavaScript does."""
    total = whole_seconds(ms)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def script_json(value) -> str:
    """JSON safe to put inside a ``<script>`` element.

    Every ``<`` is written as ``\\u003c``: no text can then close the element (``</script>``) or
    start the parser's comment-like state inside it (``<!--``), and ``JSON.parse`` reads the very
    same strings back. NaN and infinities are refused, since ``JSON.parse`` would reject them.
    """
    return json.dumps(value, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")


def split_description(description: str, language: str | Words = "en") -> tuple[str, str]:
    """A description's text about the routine and its safety text (from ``Safety:`` on, or "")."""
    found = safety_pattern(language).search(description)
    cut = found.start() if found else len(description)
    return " ".join(description[:cut].split()), " ".join(description[cut:].split())


def summary_of(description: str, language: str | Words = "en") -> str:
    """The one line a card shows: the description's first sentence, up to a colon that starts a
    list ("A gentle massage ...: slow breathing, then ..."), without the full stop."""
    about, _ = split_description(description, language)
    first = re.split(r"(?<=[.!?])\s|(?<=[。！？])", about, maxsplit=1)[0]
    return first.split(": ", 1)[0].split("：", 1)[0].rstrip(".。")


def page_safety(entries: list[dict], language: str | Words = "en") -> str:
    """The safety text the page says once, above the cards: the one most routines carry (each
    routine's own, in full, is in its description, shown when it is opened)."""
    texts = [split_description(e["description"], language)[1] for e in entries]
    counts = Counter(text for text in texts if text)
    return counts.most_common(1)[0][0] if counts else ""


def _labelled(safety: str, words: Words) -> str:
    """The safety text as HTML, its ``Safety:`` label in bold."""
    found = safety_pattern(words).match(safety)
    label = found.group(0).rstrip() if found else safety.partition(" ")[0]
    gap = found.group(0)[len(label):] if found else " "
    return f"<strong>{escape(label)}</strong>{gap}{escape(safety[len(label) + len(gap):])}"


def url_of(path: str) -> str:
    """A file's path relative to the page as a URL: each part encoded, so that a space, ``#`` or
    ``?`` in a name stays part of the name (as ``urlOf`` in page.js)."""
    return quote(path, safe="/")


def _grouped(entries: list[dict]) -> list[list[int]]:
    """The entries' indexes, one list per routine (its versions: ``of``), in the order the
    routines first appear; the full version first in each."""
    groups: dict[str | int, list[int]] = {}
    for index, entry in enumerate(entries):
        groups.setdefault(entry.get("of", index), []).append(index)  # without ``of``: its own card
    return [sorted(versions, key=lambda i: bool(entries[i].get("variant"))) for versions in groups.values()]


def _versions(versions: list[int], entries: list[dict], words: Words) -> str:
    """The choice of a routine's versions (full length, fitted lengths, cues only), if it has more
    than one: each option the entry it plays."""
    if len(versions) < 2:
        return ""
    options = "".join(
        f'<option value="{i}">{escape(entries[i].get("variant") or words.page["full"])}, '
        f'{format_duration(entries[i]["duration_ms"])}</option>' for i in versions)
    return (f'<label class="routine-version">{escape(words.page["version"])} '
            f'<select data-versions="{versions[0]}">{options}</select></label>')


def _routine_item(versions: list[int], entries: list[dict], words: Words) -> str:
    """One routine's card: its cover, title, length and one-line summary, its versions to choose
    from, and a play button whose tap area (its ``::after``) is the whole card."""
    index = versions[0]
    entry = entries[index]
    title_id = f"routine-{index}-title"
    summary = summary_of(entry["description"], words)
    image = entry.get("image")
    cover = (f'<img class="routine-cover" src="{escape(url_of(image))}" alt="" width="160" height="160" '
             f'decoding="async">' if image else '<span class="routine-cover" aria-hidden="true"></span>')
    about = f'<p class="routine-about">{escape(summary)}</p>' if summary else ""
    return (
        f'<li class="routine">{cover}<div class="routine-text">'
        f'<h3 class="routine-title" id="{title_id}">{escape(entry["title"])}</h3>'
        f'<p class="routine-duration">{format_duration(entry["duration_ms"])}</p>{about}'
        f'{_versions(versions, entries, words)}</div>'
        f'<button type="button" class="routine-play" data-routine="{index}" '
        f'aria-label="{escape(words.page_text("play", title=entry["title"]))}">{PLAY_ICON}</button></li>'
    )


PLAY_ICON = ('<svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">'
             '<path d="M8 5.5v13l10.5-6.5z" fill="currentColor"/></svg>')


@cache
def _web_file(name: str) -> str:
    """One of the page's files in ``web/``: the ``index.html`` template (its ``{placeholders}`` are
    filled by ``render_index``, so a literal brace there is written ``{{``), ``page.css`` and
    ``page.js`` (inlined whole, braces and all)."""
    return files(__package__).joinpath("web", name).read_text(encoding="utf-8")
