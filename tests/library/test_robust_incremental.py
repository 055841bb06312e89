"""Issue 18, part 4: incremental builds never go stale, names never collide, and two builds into one
folder keep a complete index."""

from __future__ import annotations

import io
import json
import math
import os
import struct
import subprocess
import sys
import wave
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from voiceguide.cli import main
from voiceguide.library import build as library

ROUTINE = """\
title: {title}
description: A test routine. Not medical advice.
voice: {{engine: fake}}
{extra}
intro: Welcome.
steps:
  - title: Strokes
    say: Stroke gently outward.
    duration: 6s
    strokes: 3
outro: Thank you.
"""


def wav(pitch: float) -> bytes:
    """Half a second of a tone: the same size for every pitch."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * pitch))) for i in range(4000)))
    return buf.getvalue()


def png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def scripts(tmp_path):
    folder = tmp_path / "scripts"
    (folder / "media").mkdir(parents=True)
    (folder / "media" / "tick.wav").write_bytes(wav(0.3))
    (folder / "media" / "cover.png").write_bytes(png((200, 30, 30)))
    (folder / "alpha.yaml").write_text(ROUTINE.format(
        title="Alpha", extra="image: media/cover.png\nsounds: {tick: media/tick.wav}"), encoding="utf-8")
    (folder / "beta.yaml").write_text(ROUTINE.format(title="Beta", extra=""), encoding="utf-8")
    return folder


@pytest.fixture
def settings(scripts, tmp_path):
    return library.BuildSettings(scripts_dir=scripts, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")


def statuses(report) -> dict[str, str]:
    return {o.id: o.status for o in report.outcomes}


def replace_keeping_mtime(path, data: bytes) -> None:
    """Write ``data`` over ``path`` (the same size) and set its modification time back."""
    before = path.stat()
    assert len(data) == before.st_size and data != path.read_bytes()
    path.write_bytes(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_a_changed_image_rebuilds_the_routine_that_uses_it(settings, scripts):
    library.build(settings=settings, jobs=1)
    replace_keeping_mtime(scripts / "media" / "cover.png", png((30, 30, 200)))
    assert statuses(library.build(settings=settings, jobs=1)) == {"alpha": "built", "beta": "unchanged"}
    assert (settings.out_dir / "alpha.cover.png").read_bytes() == (scripts / "media" / "cover.png").read_bytes()


def test_a_same_size_sound_change_with_its_mtime_kept_rebuilds(settings, scripts):
    library.build(settings=settings, jobs=1)
    replace_keeping_mtime(scripts / "media" / "tick.wav", wav(0.5))
    assert statuses(library.build(settings=settings, jobs=1)) == {"alpha": "built", "beta": "unchanged"}


def test_a_same_size_change_of_an_mp3_is_noticed_and_repaired(settings):
    library.build(settings=settings, jobs=1)
    mp3 = settings.out_dir / "beta.mp3"
    good = mp3.read_bytes()
    damaged = bytearray(good)
    damaged[len(good) // 2: len(good) // 2 + 64] = bytes(64)
    replace_keeping_mtime(mp3, bytes(damaged))
    assert statuses(library.build(settings=settings, jobs=1)) == {"alpha": "unchanged", "beta": "built"}
    assert mp3.read_bytes() == good


@pytest.mark.parametrize("suffix", [".lrc", ".chapters.json", ".cover.png", ".mp3"])
def test_a_deleted_output_is_restored(settings, suffix):
    library.build(settings=settings, jobs=1)
    lost = settings.out_dir / f"alpha{suffix}"
    kept = lost.read_bytes()
    lost.unlink()
    assert statuses(library.build(settings=settings, jobs=1)) == {"alpha": "built", "beta": "unchanged"}
    assert lost.read_bytes() == kept


def test_every_file_the_feed_links_exists(settings, scripts):
    (scripts / "glow?.yaml").write_text(ROUTINE.format(title="Glow", extra=""), encoding="utf-8")  # glow_.mp3
    library.build(settings=settings, jobs=1)
    feed = ET.parse(settings.out_dir / "feed.xml").getroot()
    links = [e.get("url") or e.get("href") for e in feed.iter() if e.get("url") or e.get("href")]
    assert links and all((settings.out_dir / link).is_file() for link in links), links


def test_a_no_op_rebuild_hashes_nothing(settings, monkeypatch):
    library.build(settings=settings, jobs=1)
    hashed = []
    from voiceguide.library import hashes

    real = hashes.file_digest
    monkeypatch.setattr(hashes, "file_digest", lambda path: hashed.append(path) or real(path))
    report = library.build(settings=settings, jobs=1)
    assert statuses(report) == {"alpha": "unchanged", "beta": "unchanged"}
    assert hashed == []


@pytest.mark.parametrize("names", [("a?.yaml", "a_.yaml"), ("x.yaml", "x.yml"), ("Morning.yaml", "morning.yaml")])
def test_routines_that_would_write_the_same_files_are_refused(tmp_path, names):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for name in names:
        (scripts / name).write_text(ROUTINE.format(title=name, extra=""), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", "--scripts", str(scripts), "--out", str(out), "--jobs", "1",
                                       "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for name in names:
        assert str(scripts / name) in result.stderr, result.stderr
    assert "rename one" in result.stderr
    assert not out.exists()


def test_two_builds_of_different_routines_into_one_folder_keep_a_complete_index(scripts, tmp_path):
    out = tmp_path / "out"
    runs = [subprocess.Popen([sys.executable, "-m", "voiceguide", "build", name, "--scripts", str(scripts),
                              "--out", str(out), "--jobs", "1", "--cache-dir", str(tmp_path / f"cache-{name}")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in ("alpha", "beta")]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    manifest = json.loads((out / library.MANIFEST).read_text(encoding="utf-8"))["routines"]
    assert set(manifest) == {"alpha", "beta"}
    playlist = (out / library.PLAYLIST).read_text(encoding="utf-8")
    assert "alpha.mp3" in playlist and "beta.mp3" in playlist
    items = ET.parse(out / library.FEED).getroot().findall("channel/item")
    assert len(items) == 2
