"""The pictures voiceguide draws: a step's zone and stroke on a face, and each routine's cover."""

from __future__ import annotations

import io
from itertools import combinations, product

import numpy as np
import pytest
import yaml
from locations import ROOT

from voiceguide.core.audio import RATE
from voiceguide.core.errors import UsageError
from voiceguide.export.mp3 import write_mp3
from voiceguide.export.pictures import (
    COVER_SIZE,
    DEFAULT_STROKE,
    PRACTICES,
    SIDES,
    STEP_SIZE,
    STROKES,
    ZONES,
    practice_of,
    routine_cover,
    step_picture,
)
from voiceguide.export.probe import image_size
from voiceguide.export.tags import Chapter, Cover, Tags, read_tags

STARTERS = ("lymphatic", "circulation", "tension", "morning", "evening")


def pixels(data: bytes, mode: str = "RGB") -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert(mode), dtype=np.int16)


def highlight(data: bytes) -> np.ndarray:
    """Where the zone's tint is, as (row, column) pairs: skin pulled toward the default teal, its red
    well below its green (the lines and the pale background are greyer, the marks darker)."""
    r, g, _ = pixels(data).transpose(2, 0, 1)
    return np.argwhere((r > 120) & (r < 215) & (g - r > 15))


@pytest.mark.parametrize("zone", ZONES)
def test_every_zone_stroke_and_side_draws(zone):
    for stroke, side in product(STROKES, (None, *SIDES)):
        data = step_picture(zone, stroke, side, size=240)
        assert data.startswith(b"\x89PNG") and image_size(data) == (240, 240), (stroke, side)


@pytest.mark.parametrize("zone", ZONES)
def test_a_step_picture_is_small_enough_for_every_chapter_frame(zone):
    for stroke in STROKES:  # both sides: the most marks, the largest file
        data = step_picture(zone, stroke)
        assert image_size(data) == (STEP_SIZE, STEP_SIZE) and len(data) < 60_000, (stroke, len(data))


@pytest.mark.parametrize("zone", ZONES)
def test_left_and_right_are_mirror_images(zone):
    for stroke in ("outward", "circles", "tap"):
        left = pixels(step_picture(zone, stroke, "left", size=300))
        right = pixels(step_picture(zone, stroke, "right", size=300))
        difference = np.abs(left[:, ::-1] - right)
        assert difference.mean() < 0.5 and np.mean(difference > 8) < 0.002, stroke
        assert np.abs(left - right).mean() > 0.5  # and not the same picture


@pytest.mark.parametrize("zone, rows", [
    ("forehead", (0, 1 / 3)), ("brows", (0.25, 0.4)), ("under_eyes", (0.35, 0.5)), ("cheeks", (0.38, 0.55)),
    ("jaw_muscle", (0.45, 0.6)), ("under_chin", (0.55, 0.7)), ("neck_sides", (0.6, 0.85)),
    ("collarbones", (0.8, 0.95)), ("temples", (0.28, 0.4)),
])
def test_the_highlight_is_on_its_zone(zone, rows):
    size = 300
    both = highlight(step_picture(zone, "press", size=size))  # (a few outline pixels share its colour)
    assert len(both) > 150
    assert rows[0] * size < np.median(both[:, 0]) < rows[1] * size
    assert abs(both[:, 1].mean() - size / 2) < 0.04 * size  # both sides: about the centre line
    left = highlight(step_picture(zone, "press", "left", size=size))
    assert np.quantile(left[:, 1], 0.97) < size * 0.54 and left[:, 1].mean() < size * 0.45  # left only
    right = highlight(step_picture(zone, "press", "right", size=size))
    assert np.quantile(right[:, 1], 0.03) > size * 0.46


def test_the_same_arguments_give_the_same_bytes():
    assert step_picture("cheeks", "outward", "left") == step_picture("cheeks", "outward", "left")
    assert routine_cover("Evening wind-down", "evening") == routine_cover("Evening wind-down", "evening")
    assert step_picture("cheeks", "outward", "left") != step_picture("cheeks", "inward", "left")


def test_another_process_draws_the_same_bytes():
    """Nothing kept from one picture to the next (the figure is reused) changes what is drawn."""
    import hashlib
    import subprocess
    import sys

    code = ("import hashlib; from voiceguide.export.pictures import step_picture as p; "
            "print(hashlib.sha256(p('jawline', 'circles', 'right', size=300)).hexdigest())")
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    step_picture("cheeks", "tap", size=300)  # a figure of that size already drawn here
    assert fresh == hashlib.sha256(step_picture("jawline", "circles", "right", size=300)).hexdigest()


def test_unknown_words_are_refused_with_the_words_that_are_known():
    with pytest.raises(UsageError, match="unknown zone 'chin'; one of: collarbones, neck_sides"):
        step_picture("chin", "up")
    with pytest.raises(UsageError, match="unknown stroke 'sideways'"):
        step_picture("cheeks", "sideways")
    with pytest.raises(UsageError, match="unknown side 'both'"):
        step_picture("cheeks", "up", "both")
    with pytest.raises(UsageError, match="unknown practice 'yoga'; one of: morning, evening"):
        routine_cover("Yoga", "yoga")


def test_every_zone_has_a_usual_stroke_and_every_practice_a_zone():
    assert set(DEFAULT_STROKE) == set(ZONES) and set(DEFAULT_STROKE.values()) <= set(STROKES)
    assert all(p.zone in ZONES and p.stroke in STROKES for p in PRACTICES.values())
    assert set(STARTERS) == set(PRACTICES)


def starter_title(name: str) -> str:
    title = yaml.safe_load((ROOT / "scripts_yaml" / f"{name}.yaml").read_text(encoding="utf-8"))["title"]
    return title["en"] if isinstance(title, dict) else title  # a routine in several languages


def test_each_starter_title_names_its_practice():
    assert {name: practice_of(starter_title(name)) for name in STARTERS} == {name: name for name in STARTERS}
    assert practice_of("Face yoga") is None


@pytest.fixture(scope="module")
def starter_covers():
    return {name: routine_cover(starter_title(name), practice_of(starter_title(name)),
                                subtitle="voiceguide starter library") for name in STARTERS}


def test_covers_are_podcast_sized(starter_covers):
    for name, data in starter_covers.items():
        assert data.startswith(b"\x89PNG") and image_size(data) == (COVER_SIZE, COVER_SIZE) == (1400, 1400)
        assert len(data) < 512_000, name


def test_no_two_starter_covers_are_alike(starter_covers):
    from PIL import Image

    small = {name: np.asarray(Image.open(io.BytesIO(data)).convert("RGB").resize((64, 64), Image.Resampling.BOX),
                              dtype=np.int16) for name, data in starter_covers.items()}
    for a, b in combinations(STARTERS, 2):
        assert np.abs(small[a] - small[b]).mean() > 20, (a, b)


def test_a_chapter_carries_its_picture_in_its_frame(tmp_path):
    from mutagen.id3 import ID3

    picture = Cover(step_picture("cheeks", "outward"), "image/png")
    chapters = (Chapter("Breathe", 0, 1000), Chapter("Cheeks", 1000, 2000, picture))
    tags = Tags("Cheeks", "Me", "Mine", "Meditation", "", chapters=chapters)
    path = write_mp3(iter([np.zeros((2 * RATE, 2), np.float32)]), tmp_path / "c.mp3", tags)
    assert read_tags(path).chapters == chapters
    frames = {c.element_id: c for c in ID3(path).getall("CHAP")}
    (apic,) = frames["ch1"].sub_frames.getall("APIC")
    assert apic.mime == "image/png" and apic.data == picture.data and apic.type == 0
    assert not frames["ch0"].sub_frames.getall("APIC")
    assert not ID3(path).getall("APIC")  # a chapter's picture is not the file's cover


def test_eyed3_sees_the_picture_in_the_chapter_frame(tmp_path):
    eyed3 = pytest.importorskip("eyed3", reason="eyed3 (the test extra installs it)")
    picture = Cover(step_picture("forehead", "outward", "left"), "image/png")
    tags = Tags("Forehead", "Me", "Mine", "Meditation", "", chapters=(Chapter("Forehead", 0, 2000, picture),))
    path = write_mp3(iter([np.zeros((2 * RATE, 2), np.float32)]), tmp_path / "e.mp3", tags)
    (chapter,) = eyed3.load(str(path)).tag.chapters
    (image,) = chapter.sub_frames[b"APIC"]
    assert image.image_data == picture.data and image.mime_type == "image/png"
