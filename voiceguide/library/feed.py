"""The library's indexes: an M3U8 playlist, a podcast RSS feed, and Podcasting 2.0 chapters.

All text in, text out: the build writes the files (atomically).
"""

from __future__ import annotations

import email.utils
import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from urllib.parse import quote

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
#: Caption files a render writes beside the MP3, by suffix, with their types (``captions.py``).
TRANSCRIPT_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip"}


def whole_seconds(ms: float) -> int:
    """A length in whole seconds, cut down as players show it (9:30.6 is 9:30): the one rounding
    of lengths the playlist, the feed and the page share."""
    return int(ms // 1000)


def m3u8(entries: list[dict]) -> str:
    """An extended M3U playlist: real durations (``whole_seconds``) and titles, paths relative to
    the playlist."""
    lines = ["#EXTM3U"]
    for entry in entries:
        lines += [f"#EXTINF:{whole_seconds(entry['duration_ms'])},{_one_line(entry['title'])}", entry["file"]]
    return "\n".join(lines) + "\n"


def json_chapters(entry: dict) -> dict:
    """Podcasting 2.0 JSON chapters for one routine; a chapter's ``img`` is its picture's file name,
    a sibling of the chapters file wherever it is linked."""
    chapters = []
    for c in entry["chapters"]:
        chapter = {"startTime": round(c["start_ms"] / 1000, 3), "endTime": round(c["end_ms"] / 1000, 3),
                   "title": c["title"]}
        if c.get("img"):
            chapter["img"] = posixpath.basename(c["img"])
        chapters.append(chapter)
    return {"version": "1.2.0", "title": entry["title"], "chapters": chapters}


@dataclass(frozen=True)
class Item:
    """One episode of the feed."""

    id: str
    title: str
    description: str
    author: str
    file: str
    size: int
    duration_ms: float
    published: int
    """Seconds since the epoch: when its audio last changed (kept by rebuilds that do not change it)."""
    image: str | None = None
    """The cover art's file, beside the MP3."""
    transcripts: tuple[str, ...] = ()
    """Its caption files (``.vtt``, ``.srt``), beside the MP3."""
    version: str = ""
    """Its audio's version (``build.VERSIONS``): part of the guid, so a new audio is a new episode."""

    @classmethod
    def of(cls, entry: dict, size: int, published: int) -> Item:
        return cls(entry["id"], entry["title"], entry["description"], entry.get("author", ""), entry["file"],
                   size, entry["duration_ms"], published, entry.get("image"), tuple(entry.get("captions", ())),
                   entry.get("version", ""))

    @property
    def guid(self) -> str:
        """``voiceguide:<id>:<version>``: podcast apps key episodes on it and fetch a new one's audio."""
        return ":".join(filter(None, ("voiceguide", self.id, self.version)))


def rss(title: str, items: list[Item], base_url: str = "", language: str = "en") -> str:
    """A podcast RSS 2.0 feed (iTunes and Podcasting 2.0 namespaces) for the library folder, whose
    routines speak ``language`` (a code such as ``en``, ``de``).

    ``base_url`` is where the folder is served from (``https://example.org/massage/``); without it
    links are relative, which a browser resolves but most podcast apps do not.
    """
    for prefix, uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
        ET.register_namespace(prefix, uri)
    base = base_url if not base_url or base_url.endswith("/") else base_url + "/"
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    authors = sorted({i.author for i in items if i.author})
    _text(channel, "title", title)
    _text(channel, "link", base or "./")
    _text(channel, "description", f"{title}: voice-guided routines made with voiceguide.")
    _text(channel, "language", language)
    _text(channel, "generator", "voiceguide")
    if base:
        ET.SubElement(channel, f"{{{ATOM}}}link", {"href": base + "feed.xml", "rel": "self",
                                                   "type": "application/rss+xml"})
    _text(channel, f"{{{ITUNES}}}author", ", ".join(authors) or "voiceguide")
    _text(channel, f"{{{ITUNES}}}summary", f"{title}: voice-guided routines.")
    artwork = next((i.image for i in items if i.image), None)
    if artwork:
        ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": base + quote(artwork)})
    ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Health & Fitness"})
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    _text(channel, f"{{{ITUNES}}}type", "episodic")
    for item in items:
        node = ET.SubElement(channel, "item")
        _text(node, "title", item.title)
        _text(node, "description", item.description)
        _text(node, f"{{{ITUNES}}}summary", item.description)
        _text(node, "guid", item.guid).set("isPermaLink", "false")
        _text(node, "pubDate", email.utils.formatdate(item.published, usegmt=True))
        ET.SubElement(node, "enclosure", {"url": base + quote(item.file), "length": str(item.size),
                                          "type": "audio/mpeg"})
        _text(node, f"{{{ITUNES}}}duration", _hms(item.duration_ms))
        _text(node, f"{{{ITUNES}}}author", item.author or "voiceguide")
        if item.image:
            ET.SubElement(node, f"{{{ITUNES}}}image", {"href": base + quote(item.image)})
        _text(node, f"{{{ITUNES}}}explicit", "false")
        ET.SubElement(node, f"{{{PODCAST}}}chapters", {"url": base + quote(item.file.removesuffix(".mp3") + ".chapters.json"),
                                                      "type": "application/json+chapters"})
        for file in item.transcripts:
            kind = TRANSCRIPT_TYPES[file[file.rfind("."):]]
            ET.SubElement(node, f"{{{PODCAST}}}transcript", {"url": base + quote(file), "type": kind, "language": language})
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    node = ET.SubElement(parent, tag)
    node.text = text
    return node


def _hms(ms: float) -> str:
    seconds = whole_seconds(ms)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
