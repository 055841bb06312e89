"""Tags, chapters, lyrics and cover art: made from the plan, written as ID3v2.3, read back."""

from __future__ import annotations

import io

import numpy as np
import pytest

from voiceguide.core.audio import RATE
from voiceguide.core.errors import AudioError, Where
from voiceguide.export.mp3 import write_mp3
from voiceguide.export.pictures import DEFAULT_COLOUR, PRACTICES
from voiceguide.export.probe import image_size
from voiceguide.export.tags import (
    Chapter,
    Cover,
    Lyric,
    Tags,
    chapters,
    default_cover,
    load_cover,
    lrc,
    lrc_time,
    lyrics,
    read_tags,
)
from voiceguide.plan.timeline import Event, Plan, PlannedStep

WHERE = Where("t.yaml", 1, 1)


def step(title, kind, start_s, end_s, events=()):
    return PlannedStep(title, kind, int(start_s * RATE), int(end_s * RATE), tuple(events), WHERE)


def speech(start_s, end_s, text):
    return Event("speech", int(start_s * RATE), int(end_s * RATE), text)


def a_plan(*steps):
    return Plan("t", "T", steps[-1].end, tuple(steps))


def test_a_chapter_per_step_and_pauses_fold_into_the_one_before():
    plan = a_plan(step("Introduction", "step", 0, 10), step("Jaw", "step", 10, 40), step("Pause", "pause", 40, 45),
                  step("Brow", "step", 45, 70.5))
    assert chapters(plan) == (Chapter("Introduction", 0, 10_000), Chapter("Jaw", 10_000, 45_000),
                              Chapter("Brow", 45_000, 70_500))


def test_a_pause_at_the_start_belongs_to_the_first_chapter():
    plan = a_plan(step("Pause", "pause", 0, 3), step("Jaw", "step", 3, 20), step("Pause", "pause", 20, 25))
    assert chapters(plan) == (Chapter("Jaw", 0, 25_000),)


def test_chapter_times_are_milliseconds_on_the_sample_clock():
    plan = Plan("t", "T", 100_000, (PlannedStep("A", "step", 0, 44_123, (), WHERE),
                                   PlannedStep("B", "step", 44_123, 100_000, (), WHERE)))
    assert [(c.start_ms, c.end_ms) for c in chapters(plan)] == [(0, 1001), (1001, 2268)]


def test_a_lyric_line_per_narration_with_its_whitespace_folded():
    plan = a_plan(step("A", "step", 0, 10, [speech(1.5, 4, "Sit  tall,\nand breathe.")]),
                  step("B", "step", 10, 20, [Event("tick", 11 * RATE, 12 * RATE), speech(11.5, 14, "Circles.")]))
    assert lyrics(plan) == (Lyric(1500, "Sit tall, and breathe."), Lyric(11_500, "Circles."))


def test_lrc_lines_and_times():
    tags = Tags("A title", "Me", "My library", "Meditation", "", lyrics=(Lyric(0, "One."), Lyric(61_235, "Two.")))
    assert lrc(tags) == "[ti:A title]\n[ar:Me]\n[al:My library]\n[00:00.00]One.\n[01:01.24]Two.\n"
    assert lrc_time(3_599_995) == "60:00.00" and lrc_time(4) == "00:00.00" and lrc_time(5) == "00:00.01"


def make_tags(**changes) -> Tags:
    fields = dict(title="Jaw release", artist="Ana", album="Ana's routines", genre="Meditation",
                  description="Slow circles.\nNot medical advice.", year=None, track=None,
                  chapters=(Chapter("Introduction", 0, 5000), Chapter("Circles", 5000, 12_345)),
                  lyrics=(Lyric(1500, "Sit tall."), Lyric(6500, "Make slow circles.")),
                  cover=default_cover("Jaw release"))
    fields.update(changes)
    return Tags(**fields)


@pytest.fixture
def silent_mp3(tmp_path):
    def write(tags):
        return write_mp3(iter([np.zeros((13 * RATE, 2), np.float32)]), tmp_path / "t.mp3", tags)

    return write


def test_tags_round_trip_through_the_file(silent_mp3):
    tags = make_tags(year=2025, track="3/12")
    assert read_tags(silent_mp3(tags)) == tags


def test_the_tag_is_id3v2_3_with_a_top_level_ordered_toc(silent_mp3):
    from mutagen.id3 import ID3, CTOCFlags

    id3 = ID3(silent_mp3(make_tags()))
    assert id3.version[:2] == (2, 3)
    (toc,) = id3.getall("CTOC")
    assert toc.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED
    assert toc.child_element_ids == ["ch0", "ch1"]
    assert [(c.start_time, c.end_time, c.sub_frames["TIT2"].text[0]) for c in
            sorted(id3.getall("CHAP"), key=lambda c: c.start_time)] == [(0, 5000, "Introduction"),
                                                                       (5000, 12_345, "Circles")]
    (synced,) = id3.getall("SYLT")
    assert synced.format == 2 and synced.type == 1  # milliseconds; lyrics
    assert id3.getall("USLT")[0].text == "Sit tall.\nMake slow circles."
    (picture,) = id3.getall("APIC")
    assert picture.type == 3 and picture.mime == "image/png"
    assert id3.getall("COMM")[0].text == ["Slow circles.\nNot medical advice."]


def test_more_chapters_than_one_table_holds_go_in_tables_under_the_top_one(silent_mp3):
    from mutagen.id3 import ID3, CTOCFlags

    many = tuple(Chapter(f"Step {i}", i * 10, (i + 1) * 10) for i in range(600))  # a 1,000-step routine's worth
    path = silent_mp3(make_tags(chapters=many))
    assert read_tags(path).chapters == many
    tables = {t.element_id: t for t in ID3(path).getall("CTOC")}
    top = tables.pop("toc")
    assert top.flags == CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED and top.child_element_ids == ["toc1", "toc2", "toc3"]
    assert [len(tables[i].child_element_ids) for i in top.child_element_ids] == [255, 255, 90]


def test_year_and_track_are_written_only_when_given(silent_mp3):
    from mutagen.id3 import ID3

    path = silent_mp3(make_tags())
    id3 = ID3(path, translate=False)
    assert "TYER" not in id3 and "TDRC" not in id3 and "TRCK" not in id3
    id3 = ID3(silent_mp3(make_tags(year=2024, track="2")), translate=False)
    assert id3["TYER"].text == ["2024"] and id3["TRCK"].text == ["2"]


def test_read_tags_of_a_file_without_a_tag(tmp_path):
    path = tmp_path / "bare.mp3"
    path.write_bytes(b"\xff\xfb\x90\x00" + bytes(400))
    with pytest.raises(AudioError, match="no ID3 tag"):
        read_tags(path)


def test_the_default_cover_is_a_clean_square_png_that_never_changes():
    cover = default_cover("Lymphatic drainage facial massage", "voiceguide starter library")
    assert cover.mime == "image/png" and cover.data.startswith(b"\x89PNG")
    assert image_size(cover.data) == (1400, 1400)
    assert len(cover.data) < 512_000
    assert default_cover("Lymphatic drainage facial massage", "voiceguide starter library") == cover
    assert default_cover("Jaw release").data != cover.data


def test_the_default_cover_shows_the_title_inside_its_margins():
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(default_cover("A much longer title than most " * 3).data)))
    below = image[int(0.68 * 1400):]  # under the round window with the drawing
    white = np.argwhere(np.all(below > 250, axis=2))  # the title's pixels
    assert len(white) > 2000
    assert 0.05 * 1400 < white[:, 1].min() and white[:, 1].max() < 0.95 * 1400
    assert white[:, 0].max() < 0.30 * 1400  # above the bottom edge


def test_the_default_cover_takes_the_colour_of_the_practice_the_title_names():
    from PIL import Image

    def corner(cover):
        return Image.open(io.BytesIO(cover.data)).convert("RGB").getpixel((5, 5))

    assert corner(default_cover("Quick morning de-puff")) == PRACTICES["morning"].colour
    assert corner(default_cover("Jaw release", practice="evening")) == PRACTICES["evening"].colour
    assert corner(default_cover("Jaw release", practice=(10, 20, 30))) == (10, 20, 30)
    assert corner(default_cover("Untitled")) == DEFAULT_COLOUR


def test_a_png_or_jpeg_cover_is_used_as_it_is(tmp_path):
    from PIL import Image

    for fmt, mime in (("PNG", "image/png"), ("JPEG", "image/jpeg")):
        path = tmp_path / f"c.{fmt.lower()}"
        Image.new("RGB", (64, 48), (10, 120, 90)).save(path, format=fmt)
        assert load_cover(path) == Cover(path.read_bytes(), mime)


def test_other_images_are_converted_to_png(tmp_path):
    from PIL import Image

    path = tmp_path / "c.bmp"
    Image.new("RGB", (32, 20), (200, 10, 10)).save(path, format="BMP")
    cover = load_cover(path)
    assert cover.mime == "image/png" and image_size(cover.data) == (32, 20)


def test_a_cover_that_is_not_an_image(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(AudioError, match="notes.txt"):
        load_cover(tmp_path / "notes.txt")
    with pytest.raises(AudioError, match="gone.png"):
        load_cover(tmp_path / "gone.png")


def test_chapter_frames_are_stored_in_time_order(silent_mp3):
    """mutagen sorts frames by size unless told otherwise: "Cheeks" (short) came before
    "Introduction". eyed3 lists CHAP frames as the file stores them."""
    import eyed3

    titles = ("Introduction to the routine", "Cheeks", "A very long step title for the forehead", "Jaw", "Closing")
    many = tuple(Chapter(title, i * 2000, (i + 1) * 2000) for i, title in enumerate(titles))
    path = silent_mp3(make_tags(chapters=many, track="2"))
    tag = eyed3.load(str(path)).tag
    stored = [(c.title, c.times.start, c.times.end) for c in tag.chapters]
    assert stored == [(c.title, c.start_ms, c.end_ms) for c in many]
    assert [int(c.element_id.decode().removeprefix("ch")) for c in tag.chapters] == list(range(len(many)))
    assert tag.track_num[0] == 2
