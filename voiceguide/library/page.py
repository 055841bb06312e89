"""The library's web page: one self-contained ``index.html`` for phones.

The page works opened straight from the library folder (``file://``) or served by
``voiceguide serve``: the CSS, the script and the data are all inline, with no fonts, frameworks
or network. The routine list is plain HTML; the script reads the routines from an inline JSON
block and drives one shared audio player: tap a routine to play it, tap a step to seek to it,
and the step playing and the line being spoken are shown in step with the audio.

The page's HTML template, CSS and script are real web files beside this module, in ``web/``
(package data, read with ``importlib.resources``); each written page carries them inline.
"""

from __future__ import annotations

import json
from functools import cache
from html import escape
from importlib.resources import files


def render_index(library_title: str, entries: list[dict]) -> str:
    """The complete ``index.html`` text for a library.

    Each entry has ``id``, ``title``, ``description``, ``duration_ms``, ``file`` (the MP3's path
    relative to the page), ``chapters`` (``title``, ``start_ms``, ``end_ms``) and ``lines``
    (``start_ms``, ``end_ms``, ``text``), chapters and lines in time order; ``captions`` (caption
    files beside the MP3), where given, become the player's captions track when the page is served.
    """
    items = "\n".join(_routine_item(index, entry) for index, entry in enumerate(entries))
    data = {"title": library_title, "routines": entries}
    return _web_file("index.html").format(
        title=escape(library_title),
        summary=f"{len(entries)} routine{'' if len(entries) == 1 else 's'}",
        routines=items or '<li class="empty">No routines yet.</li>',
        css=_web_file("page.css"),
        data=script_json(data),
        js=_web_file("page.js"),
    )


def format_duration(ms: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour), to the nearest second, halves up like the page's own
    ``clock()`` in JavaScript."""
    total = int(ms / 1000 + 0.5)
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


def _routine_item(index: int, entry: dict) -> str:
    """One routine in the list: a button (title and duration) and its description."""
    about_id = f"routine-{index}-about"
    description = entry["description"].strip()
    described, about = "", ""
    if description:
        described = f' aria-describedby="{about_id}"'
        about = f'<p class="routine-about" id="{about_id}">{escape(description)}</p>'
    return (
        f'<li class="routine"><button type="button" data-routine="{index}"{described}>'
        f'<span class="routine-title">{escape(entry["title"])}</span>'
        f'<span class="routine-duration">{format_duration(entry["duration_ms"])}</span>'
        f"</button>{about}</li>"
    )


@cache
def _web_file(name: str) -> str:
    """One of the page's files in ``web/``: the ``index.html`` template (its ``{placeholders}`` are
    filled by ``render_index``, so a literal brace there is written ``{{``), ``page.css`` and
    ``page.js`` (inlined whole, braces and all)."""
    return files(__package__).joinpath("web", name).read_text(encoding="utf-8")
