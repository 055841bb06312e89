"""What a phone shows about a session: ID3v2.3 tags, chapters, lyrics and cover art.

Everything here comes from the routine and its plan, so it describes the audio exactly: a chapter
per step (a pause folds into the chapter before it), a timed lyric line per narration, and the
cover from the routine's image or a generated one showing its title. Nothing depends on the clock
or the machine: the same routine gives the same bytes (the year is written only when asked).

ID3v2.3 rather than 2.4, because more players read it (mutagen stores UTF-16 text there). Chapters
follow the ID3v2 Chapter Frame Addendum: ``CHAP`` frames and one top-level, ordered ``CTOC``, which
some players need before they list chapters at all (past 255 chapters, the most one table holds, it
lists tables of up to 255 each). Frames are stored in the order they are made, chapters in time
order, for players that list ``CHAP`` frames as stored. ``SYLT`` times are in milliseconds.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from pathlib import Path

from voiceguide.core.audio import samples_to_ms
from voiceguide.core.errors import AudioError
from voiceguide.export.pictures import practice_of, routine_cover
from voiceguide.plan.timeline import Plan
from voiceguide.script.model import Routine

TOC_ID = "toc"
TOC_ENTRIES = 255
"""The most entries one table of contents holds (its count is one byte)."""
LANGUAGE = "eng"


@dataclass(frozen=True)
class Chapter:
    """One chapter: a title and its span in milliseconds from the session's start."""

    title: str
    start_ms: int
    end_ms: int
    image: Cover | None = None
    """The step's picture (``pictures.step_picture``), written as an ``APIC`` inside its ``CHAP``."""


@dataclass(frozen=True)
class Lyric:
    """One timed line of narration."""

    time_ms: int
    text: str


@dataclass(frozen=True)
class Cover:
    """Cover art: the image file's bytes and its MIME type (``image/png`` or ``image/jpeg``)."""

    data: bytes = field(repr=False)
    mime: str


@dataclass(frozen=True)
class Tags:
    """Everything written into the file besides the audio."""

    title: str
    artist: str
    album: str
    genre: str
    description: str
    year: int | None = None
    """Written only when given, so that renders stay byte-identical."""
    track: str | None = None
    """``"3"`` or ``"3/12"``."""
    chapters: tuple[Chapter, ...] = ()
    lyrics: tuple[Lyric, ...] = ()
    cover: Cover | None = None
    voice: str = ""
    """The engine and voice that spoke it, ``"piper en_US-joe-medium"`` (a ``TXXX`` frame)."""
    language: str = LANGUAGE
    """The language spoken, as ISO 639-2 (``eng``, ``deu``): the ``TLAN`` frame, and the language
    of the description and lyrics frames."""

    @property
    def narration(self) -> str:
        """The full narration (the ``USLT`` text): one line per narration, in playing order."""
        return "\n".join(line.text for line in self.lyrics)


VOICE_TAG = "voiceguide voice"
"""The description of the ``TXXX`` frame naming the engine and voice."""


def session_tags(routine: Routine, plan: Plan, *, cover: str | Path | None = None, year: int | None = None,
                 track: str | None = None) -> Tags:
    """The tags of the session ``plan`` makes of ``routine``; ``cover`` is an image file (PNG, JPEG,
    or anything ffmpeg reads), else a cover is drawn with the routine's title."""
    practice = practice_of(routine.id) or practice_of(routine.title) or routine.timing.pace  # the id: in any language
    art = load_cover(cover) if cover is not None else default_cover(routine.title, routine.album, practice=practice)
    return Tags(
        title=routine.title, artist=routine.author, album=routine.album, genre=routine.genre,
        description=routine.description, year=year, track=track,
        chapters=chapters(plan, practice, thumbnail(art)), lyrics=lyrics(plan), cover=art,
        voice=" ".join(filter(None, (plan.engine, plan.voice))), language=routine.words.iso639_2,
    )


def chapters(plan: Plan, practice: str | None = None, otherwise: Cover | None = None) -> tuple[Chapter, ...]:
    """A chapter per step; a pause belongs to the chapter before it (or, first, to the one after).

    The chapters cover the session without gaps: each ends where the next begins. A step with a
    ``zone`` gets its picture (``pictures.step_picture``, on its side, in ``practice``'s colour), one
    with an ``image`` that image, any other ``otherwise`` (the cover, small: a phone shows a
    chapter's picture on its lock screen, and the intro's is the routine's own).
    """
    spans: list[list] = []
    lead = None  # where a pause at the very start began
    for step in plan.steps:
        if step.kind == "pause":
            if spans:
                spans[-1][2] = step.end
            elif lead is None:
                lead = step.start
            continue
        spans.append([step.title, step.start if lead is None else lead, step.end,
                      step_image(step, practice) or otherwise])
        lead = None
    if lead is not None and spans:
        spans[-1][2] = plan.length
    return tuple(Chapter(title, _ms(a), _ms(b), image) for title, a, b, image in spans)


CHAPTER_SIZE = 400
"""Pixels square of the cover as a chapter's picture (small: a long routine has hundreds of chapters)."""


def thumbnail(cover: Cover, size: int = CHAPTER_SIZE) -> Cover:
    """``cover`` at ``size`` pixels square at most, as a compact PNG: every chapter without a picture
    of its own carries it."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(cover.data)) as image:
        image = image.convert("RGB")
        image.thumbnail((size, size), Image.LANCZOS)
        out = io.BytesIO()
        image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, "PNG")
    return Cover(out.getvalue(), "image/png")


def step_image(step, practice: str | None = None) -> Cover | None:
    """The picture of a planned step's chapter: its own ``image``, else its ``zone`` drawn (on its
    side, where the side is ``left`` or ``right``), else none."""
    if step.image is not None:  # the author's picture, at a step picture's size at most
        from voiceguide.export.pictures import STEP_SIZE

        return thumbnail(load_cover(step.image), STEP_SIZE)
    if step.zone is None:
        return None
    from voiceguide.export.pictures import PRACTICES, SIDES, step_picture

    side = step.side if step.side in SIDES else None
    return Cover(step_picture(step.zone, step.stroke, side, practice=practice if practice in PRACTICES else None),
                 "image/png")


def lyrics(plan: Plan) -> tuple[Lyric, ...]:
    """A line per narration, at the moment it starts, its whitespace folded to single spaces."""
    return tuple(Lyric(_ms(e.start), " ".join(e.text.split())) for e in plan.speech())


def _ms(samples: int) -> int:
    return int(round(samples_to_ms(samples)))


# --- ID3 -----------------------------------------------------------------------------------------


def id3_tag(tags: Tags) -> bytes:
    """``tags`` as an ID3v2.3 tag, the bytes that open an MP3 file (no padding)."""
    from mutagen.id3 import (
        APIC,
        CHAP,
        COMM,
        CTOC,
        SYLT,
        TALB,
        TCON,
        TIT2,
        TLAN,
        TPE1,
        TRCK,
        TXXX,
        TYER,
        USLT,
        CTOCFlags,
    )

    id3 = _in_order()()
    id3.add(TIT2(encoding=3, text=tags.title))
    id3.add(TPE1(encoding=3, text=tags.artist))
    if tags.track:
        id3.add(TRCK(encoding=3, text=tags.track))
    id3.add(TALB(encoding=3, text=tags.album))
    id3.add(TCON(encoding=3, text=tags.genre))
    id3.add(TLAN(encoding=3, text=tags.language))
    id3.add(COMM(encoding=3, lang=tags.language, desc="", text=tags.description))
    if tags.voice:
        id3.add(TXXX(encoding=3, desc=VOICE_TAG, text=tags.voice))
    if tags.year is not None:
        id3.add(TYER(encoding=3, text=str(tags.year)))
    ids = [f"ch{i}" for i in range(len(tags.chapters))]
    for element_id, chapter in zip(ids, tags.chapters):
        picture = [APIC(encoding=3, mime=chapter.image.mime, type=0, desc="", data=chapter.image.data)
                   ] if chapter.image is not None else []
        id3.add(CHAP(element_id=element_id, start_time=chapter.start_ms, end_time=chapter.end_ms,
                     start_offset=0xFFFFFFFF, end_offset=0xFFFFFFFF,
                     sub_frames=[TIT2(encoding=3, text=chapter.title), *picture]))
    if len(ids) > TOC_ENTRIES:  # a table holds 255 entries: more chapters go in tables under the top one
        parts = [ids[i: i + TOC_ENTRIES] for i in range(0, len(ids), TOC_ENTRIES)]
        for n, part in enumerate(parts, 1):
            id3.add(CTOC(element_id=f"{TOC_ID}{n}", flags=CTOCFlags.ORDERED, child_element_ids=part,
                         sub_frames=[TIT2(encoding=3, text=f"{tags.title} ({n} of {len(parts)})")]))
        ids = [f"{TOC_ID}{n}" for n in range(1, len(parts) + 1)]
    if ids:
        id3.add(CTOC(element_id=TOC_ID, flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                     child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=tags.title)]))
    if tags.lyrics:
        id3.add(USLT(encoding=3, lang=tags.language, desc="", text=tags.narration))
        id3.add(SYLT(encoding=3, lang=tags.language, format=2, type=1, desc="",
                     text=[(line.text, line.time_ms) for line in tags.lyrics]))
    if tags.cover is not None:
        id3.add(APIC(encoding=3, mime=tags.cover.mime, type=3, desc="Cover", data=tags.cover.data))
    out = io.BytesIO()
    id3.save(out, v2_version=3, padding=lambda info: 0)
    return out.getvalue()


@functools.cache
def _in_order() -> type:
    """An ``ID3`` class that saves frames in the order they were added. mutagen sorts them by a few
    frame kinds, then by size, so chapters were stored shortest first ("Cheeks" before
    "Introduction"), and players that list ``CHAP`` frames as stored rather than by the table of
    contents showed them out of time order."""
    from mutagen.id3 import ID3
    from mutagen.id3._tags import (
        save_frame,  # mutagen's own frame writer (no public name)
    )

    class InOrder(ID3):
        def _write(self, config):
            return bytearray().join(save_frame(frame, config=config) for frame in self.values())

    return InOrder


def read_tags(path: str | Path) -> Tags:
    """The tags of an MP3 as ``id3_tag`` makes them (and as far as another tagger's go).

    Raises ``AudioError`` when the file has no ID3 tag.
    """
    from mutagen.id3 import ID3, ID3NoHeaderError

    try:
        id3 = ID3(path)
    except (ID3NoHeaderError, OSError) as exc:
        raise AudioError(f"{path}: no ID3 tag ({exc})") from exc

    def text(frame_id: str) -> str:
        frame = id3.get(frame_id)
        return str(frame.text[0]) if frame is not None and frame.text else ""

    comments = id3.getall("COMM")
    year = text("TDRC")  # mutagen reads v2.3's TYER as TDRC
    chaps = {f.element_id: f for f in id3.getall("CHAP")}
    tables = {f.element_id: f for f in id3.getall("CTOC")}
    tops = [f for f in tables.values() if f.flags & 2] or list(tables.values())  # CTOCFlags.TOP_LEVEL

    def chapters_in(table, seen: frozenset) -> list[str]:  # tables may hold tables (never themselves)
        found = []
        for i in table.child_element_ids:
            if i in chaps:
                found.append(i)
            elif i in tables and i not in seen:
                found += chapters_in(tables[i], seen | {i})
        return found

    order = chapters_in(tops[0], frozenset({tops[0].element_id})) if tops else sorted(
        chaps, key=lambda i: chaps[i].start_time)
    synced = id3.getall("SYLT")
    pictures = id3.getall("APIC")
    return Tags(
        title=text("TIT2"), artist=text("TPE1"), album=text("TALB"), genre=text("TCON"),
        description=str(comments[0].text[0]) if comments and comments[0].text else "",
        year=int(year[:4]) if year[:4].isdigit() else None, track=text("TRCK") or None,
        chapters=tuple(Chapter(_sub_title(chaps[i]), chaps[i].start_time, chaps[i].end_time,
                               _sub_picture(chaps[i])) for i in order),
        lyrics=tuple(Lyric(t, s) for s, t in synced[0].text) if synced else (),
        cover=Cover(pictures[0].data, pictures[0].mime) if pictures else None,
        voice=text(f"TXXX:{VOICE_TAG}"), language=text("TLAN") or LANGUAGE,
    )


def _sub_title(frame) -> str:
    title = frame.sub_frames.get("TIT2")
    return str(title.text[0]) if title is not None and title.text else frame.element_id


def _sub_picture(frame) -> Cover | None:
    pictures = frame.sub_frames.getall("APIC")
    return Cover(pictures[0].data, pictures[0].mime) if pictures else None


# --- LRC -----------------------------------------------------------------------------------------


def lrc(tags: Tags) -> str:
    """The lyrics as an LRC file: ``[ti:]``, ``[ar:]``, ``[al:]`` headers, then ``[mm:ss.xx]text`` lines."""
    header = [f"[ti:{_lrc_text(tags.title)}]", f"[ar:{_lrc_text(tags.artist)}]", f"[al:{_lrc_text(tags.album)}]"]
    lines = [f"[{lrc_time(line.time_ms)}]{_lrc_text(line.text)}" for line in tags.lyrics]
    return "\n".join(header + lines) + "\n"


def lrc_time(ms: int) -> str:
    """Milliseconds as LRC's ``mm:ss.xx`` (to the nearest hundredth)."""
    centis = (ms + 5) // 10
    return f"{centis // 6000:02d}:{centis // 100 % 60:02d}.{centis % 100:02d}"


def _lrc_text(text: str) -> str:
    return " ".join(text.split())


# --- cover art -------------------------------------------------------------------------------------


def load_cover(path: str | Path) -> Cover:
    """The image at ``path`` as cover art: PNG and JPEG as they are, anything else ffmpeg reads
    converted to PNG. Raises ``AudioError`` naming the path when it is missing or not an image."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AudioError(f"{path}: cannot read the cover image ({exc.strerror or exc})") from exc
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return Cover(data, "image/png")
    if data.startswith(b"\xff\xd8\xff"):
        return Cover(data, "image/jpeg")
    return Cover(_to_png(path), "image/png")


def _to_png(path: Path) -> bytes:
    import subprocess

    from voiceguide.core.audio import ffmpeg_path

    proc = subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-i", str(path), "-frames:v", "1",
                           "-f", "image2pipe", "-c:v", "png", "pipe:1"], capture_output=True)
    if proc.returncode != 0 or not proc.stdout.startswith(b"\x89PNG"):
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(f"{path}: not an image ffmpeg can read ({lines[-1] if lines else 'no picture'})")
    return proc.stdout


def default_cover(title: str, caption: str = "", *, practice: str | tuple[int, int, int] | None = None,
                  zone: str | None = None) -> Cover:
    """A square PNG (``pictures.COVER_SIZE``, 1400 pixels) drawn for a routine without an image: the
    practice's colour and the drawing of its main ``zone``, ``title`` large and ``caption`` small.

    ``practice`` is a name in ``pictures.PRACTICES`` or an RGB colour; by default, the practice the
    title names (``pictures.practice_of``: "morning", "evening", "lymph", "glow", "tension", ...),
    else a deep teal. The same arguments give the same bytes (``pictures.routine_cover``)."""
    return Cover(routine_cover(title, practice or practice_of(title), zone, caption or None), "image/png")
