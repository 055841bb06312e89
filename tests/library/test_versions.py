"""Issue 13, point 3: every edit reaches subscribers. The feed, playlist and page link each routine's
files under ``v/<audio version>/``; the guid and enclosure change when the audio does, and only
then, as podcastparser (gPodder's parser) reads the feed; old versions go once nothing links them.
Point 5: the track number from the library's order, as ``inspect`` shows it."""

from __future__ import annotations

import io
import json
import os
import re
import time

import podcastparser
import pytest
from click.testing import CliRunner

from voiceguide.cli import main
from voiceguide.export.tags import read_tags
from voiceguide.library import build as library

BASE = "https://example.org/lib/"
ROUTINE = """\
title: {title}
description: {description}
voice: {{engine: fake}}
intro: Welcome.
steps:
  - title: Strokes
    say: {say}
    duration: 6s
    strokes: 3
outro: Thank you.
"""


def write(scripts, rid, title=None, description="A test routine. Not medical advice.", say=None):
    say = say or f"Stroke gently outward, {rid}."  # each its own audio
    (scripts / f"{rid}.yaml").write_text(ROUTINE.format(title=title or rid.title(), description=description, say=say),
                                         encoding="utf-8")


@pytest.fixture
def scripts(tmp_path):
    folder = tmp_path / "scripts"
    folder.mkdir()
    for rid in ("alpha", "beta", "gamma"):
        write(folder, rid)
    return folder


@pytest.fixture
def settings(scripts, tmp_path):
    return library.BuildSettings(scripts_dir=scripts, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                                 base_url=BASE)


def episodes(out) -> dict[str, dict]:
    """The feed's episodes as podcastparser reads them, by title."""
    parsed = podcastparser.parse(BASE + "feed.xml", io.BytesIO((out / library.FEED).read_bytes()))
    return {e["title"]: e for e in parsed["episodes"]}


def linked_files(out) -> set[str]:
    """Every file the feed, the playlist and the page link, relative to the folder."""
    feed = (out / library.FEED).read_text(encoding="utf-8")
    names = {u.removeprefix(BASE) for u in re.findall(r'(?:url|href)="([^"]+)"', feed) if u.startswith(BASE)}
    names |= {line for line in (out / library.PLAYLIST).read_text(encoding="utf-8").splitlines()
              if line and not line.startswith("#")}
    page = (out / library.PAGE).read_text(encoding="utf-8")
    names |= set(re.findall(r'"((?:v/[^"]+)\.(?:mp3|vtt|srt))"', page))
    return names - {"feed.xml"}


def test_an_edited_routine_is_a_new_episode_and_the_others_stay_as_they_were(settings, scripts):
    library.build(settings=settings, jobs=1)
    before = episodes(settings.out_dir)
    old_files = linked_files(settings.out_dir)
    assert len(before) == 3 and len({e["guid"] for e in before.values()}) == 3
    time.sleep(1.1)  # pubDate has whole seconds
    write(scripts, "beta", say="Stroke slowly upward, then rest.")
    started = int(time.time())
    assert {o.id: o.status for o in library.build(settings=settings, jobs=1).outcomes} == {
        "alpha": "unchanged", "beta": "built", "gamma": "unchanged"}
    after = episodes(settings.out_dir)
    for title in ("Alpha", "Gamma"):
        assert after[title]["guid"] == before[title]["guid"]
        assert after[title]["enclosures"] == before[title]["enclosures"]
        assert after[title]["published"] == before[title]["published"]
    assert after["Beta"]["guid"] != before["Beta"]["guid"]
    new_url, old_url = after["Beta"]["enclosures"][0]["url"], before["Beta"]["enclosures"][0]["url"]
    assert new_url != old_url and new_url.endswith("/beta.mp3")
    assert after["Beta"]["published"] >= started > before["Beta"]["published"]
    assert after["Beta"]["enclosures"][0]["file_size"] == (settings.out_dir / "beta.mp3").stat().st_size

    # The playlist and page follow; every file linked now is there, what only the old index linked is gone.
    now_files = linked_files(settings.out_dir)
    assert new_url.removeprefix(BASE) in now_files and old_url.removeprefix(BASE) not in now_files
    assert all((settings.out_dir / name).is_file() for name in now_files), now_files
    gone = old_files - now_files
    assert gone and all("/beta." in name for name in gone)
    assert not any((settings.out_dir / name).exists() for name in gone)
    assert not (settings.out_dir / os.path.dirname(old_url.removeprefix(BASE))).exists()


def test_a_change_to_the_tags_alone_updates_the_episode_in_place(settings, scripts):
    library.build(settings=settings, jobs=1)
    before = episodes(settings.out_dir)["Gamma"]
    write(scripts, "gamma", title="Gamma", description="Now with a better description.")
    assert {o.id: o.status for o in library.build(settings=settings, jobs=1).outcomes}["gamma"] == "built"
    after = episodes(settings.out_dir)["Gamma"]
    assert (after["guid"], after["enclosures"][0]["url"], after["published"]) == (
        before["guid"], before["enclosures"][0]["url"], before["published"])
    assert after["description"] == "Now with a better description."
    served = settings.out_dir / after["enclosures"][0]["url"].removeprefix(BASE)
    assert read_tags(served).description == "Now with a better description."
    assert after["enclosures"][0]["file_size"] == served.stat().st_size


def test_versioned_names_are_hard_links_and_a_missing_one_is_restored(settings):
    library.build(settings=settings, jobs=1)
    entry = json.loads((settings.out_dir / library.MANIFEST).read_text())["routines"]["alpha"]
    versioned = settings.out_dir / entry["entry"]["file"]
    assert versioned.parent.parent.name == library.VERSIONS
    assert os.path.samefile(versioned, settings.out_dir / "alpha.mp3")  # no second copy on disk
    assert (settings.out_dir / library.VERSIONS / ".nomedia").is_file()
    versioned.with_suffix(".lrc").unlink()
    assert {o.id: o.status for o in library.build(settings=settings, jobs=1).outcomes}["alpha"] == "built"
    assert versioned.with_suffix(".lrc").read_bytes() == (settings.out_dir / "alpha.lrc").read_bytes()


def test_cleanup_never_removes_what_an_index_has_not_linked_yet(settings, scripts):
    """A concurrent build's new version, rendered but not yet in the index, is left alone; so is
    anything the current index links; a killed build's leftovers go once a day old."""
    library.build(settings=settings, jobs=1)
    fresh = settings.out_dir / library.VERSIONS / "0123456789ab" / "delta.mp3"
    fresh.parent.mkdir()
    fresh.write_bytes(b"another build's render")
    old = settings.out_dir / library.VERSIONS / "ba9876543210" / "delta.mp3"
    old.parent.mkdir()
    old.write_bytes(b"a killed build's render")
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    write(scripts, "beta", say="Stroke slowly upward, then rest.")
    library.build(settings=settings, jobs=1)
    assert fresh.is_file() and not old.exists() and not old.parent.exists()
    assert all((settings.out_dir / name).is_file() for name in linked_files(settings.out_dir))


def test_the_track_number_is_the_library_order_and_inspect_shows_it(settings, scripts):
    library.build(settings=settings, jobs=1)
    for n, rid in enumerate(("alpha", "beta", "gamma"), 1):
        assert read_tags(settings.out_dir / f"{rid}.mp3").track == str(n)
    shown = CliRunner().invoke(main, ["inspect", str(settings.out_dir / "beta.mp3")])
    assert shown.exit_code == 0 and re.search(r"^track\s+2$", shown.output, re.M), shown.output
    before = episodes(settings.out_dir)["Beta"]
    write(scripts, "aardvark")  # now first: the others move down one, their audio as it was
    library.build(settings=settings, jobs=1)
    assert [read_tags(settings.out_dir / f"{rid}.mp3").track for rid in ("aardvark", "alpha", "beta", "gamma")] == [
        "1", "2", "3", "4"]
    assert episodes(settings.out_dir)["Beta"]["guid"] == before["guid"]
    library.build(["beta"], settings=settings, jobs=1)  # one routine built alone keeps its place
    assert read_tags(settings.out_dir / "beta.mp3").track == "3"


def test_two_builds_at_once_leave_every_linked_file_in_place(settings, scripts, tmp_path):
    """Each build removes only what an index it replaced linked: one build's cleanup never takes
    the other's new versions, whichever indexes first."""
    import subprocess
    import sys

    library.build(settings=settings, jobs=1)
    write(scripts, "alpha", say="Alpha, edited.")
    write(scripts, "beta", say="Beta, edited.")
    runs = [subprocess.Popen([sys.executable, "-m", "voiceguide", "build", rid, "--scripts", str(scripts),
                              "--out", str(settings.out_dir), "--jobs", "1", "--base-url", BASE,
                              "--cache-dir", str(tmp_path / f"cache-{rid}")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for rid in ("alpha", "beta")]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    files = linked_files(settings.out_dir)
    assert len([f for f in files if f.endswith(".mp3")]) == 3
    assert all((settings.out_dir / name).is_file() for name in files), files
    on_disk = {p.relative_to(settings.out_dir).as_posix() for p in (settings.out_dir / library.VERSIONS).rglob("*.mp3")}
    assert on_disk == {f for f in files if f.endswith(".mp3")}  # and the two old versions are gone
