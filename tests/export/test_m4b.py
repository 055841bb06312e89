"""Issue 13, point 6: ``--m4b`` writes NAME.m4b beside the MP3, from the same mastered samples:
chapters at the planned times, titled; tags and cover; the MP3's loudness; the plan's length; whole
or not at all; an output of the library build like the others."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from mutagen.mp4 import MP4

from voiceguide import render as lib
from voiceguide.cli import main
from voiceguide.core.audio import RATE, decode_file, ffmpeg_path
from voiceguide.export import m4b
from voiceguide.export.probe import measure_file
from voiceguide.export.tags import chapters, read_tags
from voiceguide.library import build as library

AAC_FRAME = 1024
ROUTINE = """\
title: Audiobook; a = b
description: Chapters in a book. Not medical advice.
author: Ana
album: Ana's routines
voice: {engine: fake}
intro: Sit tall and let your shoulders drop.
steps:
  - title: Introduction to the jaw
    say: Circle the jaw slowly.
    duration: 9s
    strokes: 4
  - pause: 2s
  - title: Cheeks
    say: Sweep the cheeks outward.
    duration: 7s
outro: Let your hands rest.
"""


def ffmetadata_chapters(path) -> list[tuple[str, float, float]]:
    """The chapters as ffmpeg reads them back (title, start and end in ms)."""
    text = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
                          capture_output=True, text=True, check=True).stdout
    found = []
    for block in text.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in block.strip().splitlines() if "=" in line)
        num, den = map(int, fields["TIMEBASE"].split("/"))
        found.append((fields["title"].replace("\\", ""), int(fields["START"]) * 1000 * num / den,
                      int(fields["END"]) * 1000 * num / den))
    return found


@pytest.fixture
def rendered(write_routine, tmp_path):
    path = write_routine(ROUTINE, "book")
    result = CliRunner().invoke(main, ["render", str(path), "--out", str(tmp_path / "out"), "--m4b"])
    assert result.exit_code == 0, result.output
    mp3, book = result.stdout.split()
    assert book == str(tmp_path / "out" / "book.m4b")
    timeline, _ = lib.plan_routine(lib.load(path))
    return tmp_path / "out" / "book.mp3", tmp_path / "out" / "book.m4b", timeline


def test_its_chapters_read_back_at_the_planned_times(rendered):
    mp3, book, timeline = rendered
    planned = [(c.title, c.start_ms, c.end_ms) for c in chapters(timeline)]
    assert [c[0] for c in planned] == ["Introduction", "Introduction to the jaw", "Cheeks", "Closing"]
    for (title, start, end), (read_title, read_start, read_end) in zip(planned, ffmetadata_chapters(book), strict=True):
        assert read_title == title and abs(read_start - start) <= 2 and abs(read_end - end) <= 2
    nero = MP4(book).chapters  # the other table players read (mutagen)
    assert [(c.title, round(c.start * 1000)) for c in nero] == [(t, s) for t, s, _ in planned]


def test_its_tags_and_cover_are_the_mp3s(rendered):
    mp3, book, _ = rendered
    tags, mp4 = read_tags(mp3), MP4(book).tags
    assert mp4["©nam"] == ["Audiobook; a = b"] and mp4["©ART"] == ["Ana"] and mp4["©alb"] == ["Ana's routines"]
    assert mp4["©gen"] == [tags.genre] and mp4["©cmt"] == [tags.description]
    assert mp4["©lyr"] == [tags.narration]
    (cover,) = mp4["covr"]
    assert bytes(cover) == tags.cover.data and cover.imageformat == cover.FORMAT_PNG


def test_its_loudness_and_length_are_the_mp3s(rendered):
    mp3, book, timeline = rendered
    assert abs(measure_file(book).integrated - measure_file(mp3).integrated) <= 0.5
    ebur128 = subprocess.run([ffmpeg_path(), "-nostats", "-i", str(book), "-af", "ebur128", "-f", "null", "-"],
                             capture_output=True, text=True).stderr
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", ebur128)[-1])
    assert abs(integrated - -16.0) <= 0.5  # the routine's target, by ffmpeg's own meter
    samples = len(decode_file(book))
    assert abs(samples - timeline.length) <= AAC_FRAME, (samples, timeline.length)
    assert MP4(book).info.channels == 2 and MP4(book).info.sample_rate == RATE


def test_a_failed_encode_leaves_the_old_file_and_no_partial_one(tmp_path, rendered):
    mp3, book, _ = rendered
    old = book.read_bytes()

    def chunks():
        yield np.zeros((RATE, 2), np.float32)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        with m4b.Audiobook(book, read_tags(mp3)) as writing:
            for _ in writing.tee(chunks()):
                pass
    assert book.read_bytes() == old
    assert sorted(p.name for p in book.parent.iterdir() if p.name.startswith(".")) == []


def test_the_library_builds_audiobooks_as_outputs(tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "book.yaml").write_text(ROUTINE, encoding="utf-8")
    plain = library.BuildSettings(scripts_dir=scripts, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    with_books = library.BuildSettings(**{**plain.__dict__, "m4b": True})
    assert library.build(settings=plain, jobs=1).outcomes[0].status == "built"
    assert not (tmp_path / "out" / "book.m4b").exists()
    assert library.build(settings=with_books, jobs=1).outcomes[0].status == "built"  # a setting of the render
    assert MP4(tmp_path / "out" / "book.m4b").chapters
    assert library.build(settings=with_books, jobs=1).outcomes[0].status == "unchanged"
    (tmp_path / "out" / "book.m4b").unlink()
    assert library.build(settings=with_books, jobs=1).outcomes[0].status == "built"  # missing: made again
    assert (tmp_path / "out" / "book.m4b").is_file()
    assert library.build(settings=plain, jobs=1).outcomes[0].status == "built"
    assert not (tmp_path / "out" / "book.m4b").exists()  # not left behind, out of date
