"""Captions: the plan's speech as WebVTT and SubRip files beside the MP3.

One cue per spoken phrase, from its planned start to its planned end (the times the MP3 plays
them: its Info header removes the encoder's delay), to the millisecond both formats hold.
Podcast apps read them through the feed's ``<podcast:transcript>`` (``feed.TRANSCRIPT_TYPES``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.core.audio import RATE
from voiceguide.core.files import atomic_write_text

if TYPE_CHECKING:
    from voiceguide.plan.timeline import Plan


def cues(plan: Plan) -> list[tuple[int, int, str]]:
    """``(start_ms, end_ms, text)`` for each spoken phrase, in time order; text on one line."""
    found = []
    for event in plan.speech():
        text = " ".join(event.text.split())
        if text:
            found.append((_ms(event.start), _ms(event.end), text))
    return sorted(found)


def vtt(plan: Plan) -> str:
    """A WebVTT file: cue text escaped (``&``, ``<``, ``>``), so markup in a script stays text."""
    blocks = ["WEBVTT"]
    for start, end, text in cues(plan):
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{_clock(start, '.')} --> {_clock(end, '.')}\n{text}")
    return "\n\n".join(blocks) + "\n"


def srt(plan: Plan) -> str:
    """A SubRip file: numbered cues, plain text."""
    blocks = [f"{n}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}"
              for n, (start, end, text) in enumerate(cues(plan), 1)]
    return "\n\n".join(blocks) + "\n" if blocks else ""


def write_captions(mp3: str | Path, plan: Plan) -> list[Path]:
    """``NAME.vtt`` and ``NAME.srt`` beside ``NAME.mp3``, each written whole or not at all."""
    written = []
    for suffix, make in ((".vtt", vtt), (".srt", srt)):
        written.append(atomic_write_text(Path(mp3).with_suffix(suffix), make(plan)))
    return written


def _ms(samples: int) -> int:
    return (samples * 1000 + RATE // 2) // RATE


def _clock(ms: int, decimal: str) -> str:
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{decimal}{ms % 1000:03d}"
