"""Captions: each render writes NAME.vtt and NAME.srt beside the MP3, one cue per planned phrase at
its planned times, read back with real parsers (webvtt-py, srt); the feed links both as
``podcast:transcript``, as podcastparser (gPodder's parser) reads it."""

from __future__ import annotations

import html
import io
import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import podcastparser
import srt
import webvtt
from click.testing import CliRunner

from voiceguide import render as lib
from voiceguide.cli import main
from voiceguide.core.audio import RATE
from voiceguide.library import build as library
from voiceguide.voice.cache import NarrationCache

PODCAST = "https://podcastindex.org/namespace/1.0"
NASTY = "Slow & <b>gentle</b> circles --> now, 1 < 2."
ROUTINE = f"""\
title: Captioned
description: Words with times. Not medical advice.
voice: {{engine: fake}}
intro: Sit tall and let your shoulders drop.
steps:
  - title: Cheeks
    say: "Circle the cheeks [2s] and now the other way."
    duration: 12s
    strokes: 4
  - title: Markup
    say: "{NASTY}"
    duration: 8s
outro: Let your hands rest.
"""


def planned(plan) -> list[tuple[timedelta, timedelta, str]]:
    """The plan's phrases at their exact times, rounded to the millisecond both formats hold."""
    def at(samples: int) -> timedelta:
        return timedelta(milliseconds=round(samples * 1000 / RATE))

    return [(at(e.start), at(e.end), e.text) for e in plan.speech()]


def clock(text: str) -> timedelta:
    hours, minutes, seconds = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def test_a_render_writes_captions_that_parse_and_match_the_plan(write_routine, tmp_path):
    routine = lib.load(write_routine(ROUTINE, "captioned"))
    rendered = lib.render(routine, tmp_path / "out", cache=NarrationCache())
    want = planned(rendered.plan)
    assert len(want) == 5 and NASTY in [text for *_, text in want]  # the pause splits one phrase in two

    vtt = rendered.path.with_suffix(".vtt")
    cues = webvtt.from_buffer(io.StringIO(vtt.read_text(encoding="utf-8")))
    assert [(clock(c.start), clock(c.end), html.unescape(c.text)) for c in cues] == want

    subtitles = list(srt.parse(rendered.path.with_suffix(".srt").read_text(encoding="utf-8")))
    assert [s.index for s in subtitles] == list(range(1, 6))
    assert [(s.start, s.end, s.content) for s in subtitles] == want

    shown = json.loads(CliRunner().invoke(main, ["inspect", "--json", str(rendered.path)]).output)
    assert shown["captions"] == f"{vtt}, {rendered.path.with_suffix('.srt')}"


def test_a_library_feed_links_both_transcripts(tmp_path):
    scripts = tmp_path / "scripts_yaml"
    scripts.mkdir()
    (scripts / "captioned.yaml").write_text(ROUTINE)
    settings = library.BuildSettings(scripts_dir=scripts, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                                     base_url="https://example.org/lib/")
    assert library.build(settings=settings, jobs=1).failed == []
    text = (settings.out_dir / library.FEED).read_text(encoding="utf-8")
    links = ET.fromstring(text).findall(f"channel/item/{{{PODCAST}}}transcript")
    version = json.loads((settings.out_dir / library.MANIFEST).read_text())["routines"]["captioned"]["version"]
    base = f"https://example.org/lib/{library.VERSIONS}/{version}/captioned"
    assert [(t.get("url"), t.get("type")) for t in links] == [
        (f"{base}.vtt", "text/vtt"), (f"{base}.srt", "application/x-subrip")]
    for link in links:
        assert (settings.out_dir / link.get("url").removeprefix("https://example.org/lib/")).is_file()
    parsed = podcastparser.parse("https://example.org/lib/feed.xml", io.BytesIO(text.encode("utf-8")))
    (episode,) = parsed["episodes"]
    assert episode["enclosures"][0]["url"] == f"{base}.mp3"
    # podcastparser 0.6 knows the namespace only by its old GitHub address, not the official
    # https://podcastindex.org/namespace/1.0 the feed declares: under that name it reads the tag.
    legacy = text.replace(PODCAST, "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md")
    (episode,) = podcastparser.parse("https://example.org/lib/feed.xml", io.BytesIO(legacy.encode()))["episodes"]
    assert episode["transcript_url"] in {t.get("url") for t in links}
