"""Issue 14, point 2: each chapter's picture reaches the feed's chapters and the page. A build writes
the pictures in the MP3's chapter frames beside it (``NAME.ch01.png``, ...), links them with its other
files under the versioned name, and names each in the chapters JSON (``img``) and the page's entry;
pictures a routine no longer has go."""

from __future__ import annotations

import json

from voiceguide.export.tags import read_tags
from voiceguide.library import build as library

ROUTINE = """\
title: Pictured
description: A test routine. Not medical advice.
voice: {engine: fake}
intro: Welcome.
steps:
  - title: Cheeks
    say: Sweep out toward your ears.
    duration: 14s
    strokes: 3
    zone: cheeks
  - pause: 2s
  - title: Jaw
    say: Circles on the {side} jaw muscle.
    sides: [left, right]
    duration: 14s
    strokes: 3
    zone: jaw_muscle
outro: Thank you.
"""


def build(tmp_path, text=ROUTINE):
    scripts = tmp_path / "scripts"
    scripts.mkdir(exist_ok=True)
    (scripts / "pictured.yaml").write_text(text, encoding="utf-8")
    settings = library.BuildSettings(scripts_dir=scripts, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    report = library.build(settings=settings, jobs=1)
    assert not report.failed, report.failed
    return settings.out_dir


def test_every_chapter_picture_is_a_file_the_chapters_json_and_the_page_entry_name(tmp_path):
    out = build(tmp_path)
    frames = read_tags(out / "pictured.mp3").chapters
    entry = json.loads((out / library.MANIFEST).read_text())["routines"]["pictured"]["entry"]
    folder = entry["file"].rsplit("/", 1)[0]
    for where in (out, out / folder):  # the plain names and the versioned ones the feed links
        chapters = json.loads((where / "pictured.chapters.json").read_text())["chapters"]
        assert [c["title"] for c in chapters] == ["Introduction", "Cheeks", "Jaw (left)", "Jaw (right)", "Closing"]
        for chapter, frame in zip(chapters, frames, strict=True):
            assert (where / chapter["img"]).read_bytes() == frame.image.data, chapter
    assert [c["img"] for c in entry["chapters"]] == [f"{folder}/pictured.ch{n:02d}.png" for n in range(1, 6)]
    left, right = ((out / f"pictured.ch0{n}.png").read_bytes() for n in (3, 4))
    assert left != right  # each side its own drawing


def test_pictures_a_routine_no_longer_has_are_removed(tmp_path):
    out = build(tmp_path)
    assert (out / "pictured.ch05.png").is_file()
    shorter = ROUTINE.replace("    sides: [left, right]\n", "").replace("the {side} jaw", "the jaw")
    build(tmp_path, shorter)
    assert sorted(p.name for p in out.glob("pictured.ch*.png")) == [f"pictured.ch0{n}.png" for n in range(1, 5)]
    (tmp_path / "scripts" / "pictured.yaml").unlink()
    (tmp_path / "scripts" / "other.yaml").write_text(ROUTINE.replace("Pictured", "Other"), encoding="utf-8")
    library.build(settings=library.BuildSettings(scripts_dir=tmp_path / "scripts", out_dir=out,
                                                 cache_dir=tmp_path / "cache"), jobs=1)
    assert not list(out.glob("pictured.*"))


def test_a_steps_own_image_is_its_chapter_picture_at_a_step_pictures_size(tmp_path):
    import io

    from PIL import Image

    from voiceguide import render as lib

    (tmp_path / "scripts").mkdir()
    Image.new("RGB", (3000, 2000), (200, 100, 50)).save(tmp_path / "scripts" / "mine.png")
    script = tmp_path / "scripts" / "own.yaml"
    script.write_text(ROUTINE.replace("    zone: cheeks\n", "    image: mine.png\n"), encoding="utf-8")
    result = lib.render(lib.load(script), tmp_path / "out")
    [cheeks] = [c for c in read_tags(result.path).chapters if c.title == "Cheeks"]
    picture = Image.open(io.BytesIO(cheeks.image.data))
    assert picture.size == (600, 400) and picture.convert("RGB").getpixel((300, 200)) == (200, 100, 50)
