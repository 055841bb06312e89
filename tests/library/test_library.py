"""The library build: parallel, incremental, failures kept local, and its indexes checked as a
podcast app and a player would read them."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.request
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from voiceguide import __version__
from voiceguide.cli import main
from voiceguide.core.audio import ffmpeg_path
from voiceguide.export.mp3 import Mp3Settings
from voiceguide.library import build as library
from voiceguide.voice import engines

ROUTINE = """\
title: {title}
description: A test routine. Not medical advice.
album: Test library
voice: {{engine: fake}}
sounds: {{tick: {tick}}}
intro: Welcome.
steps:
  - title: Strokes
    say: Stroke gently outward.
    duration: 8s
    strokes: 3
  - pause: 1s
  - title: Breathe
    breath: {{inhale: 2, exhale: 2, cycles: 1}}
outro: Thank you.
"""
NS = {"itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd", "podcast": "https://podcastindex.org/namespace/1.0"}


@pytest.fixture
def scripts(tmp_path):
    folder = tmp_path / "scripts_yaml"
    folder.mkdir()
    for name, title in (("alpha", "Alpha routine"), ("beta", "Beta routine"), ("gamma", "Gamma & more")):
        (folder / f"{name}.yaml").write_text(ROUTINE.format(title=title, tick="tick"))
    return folder


@pytest.fixture
def settings(scripts, tmp_path):
    return library.BuildSettings(scripts_dir=scripts, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache",
                                 base_url="https://example.org/lib")


def statuses(report) -> dict[str, str]:
    return {o.id: o.status for o in report.outcomes}


def linked(out, rid: str, suffix: str = ".mp3") -> str:
    """The versioned name the index links for a routine's file (``v/<version>/<id><suffix>``)."""
    version = json.loads((out / library.MANIFEST).read_text(encoding="utf-8"))["routines"][rid]["version"]
    return f"{library.VERSIONS}/{version}/{rid}{suffix}"


def seconds_of(mp3) -> float:
    probe = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(mp3), "-f", "null", "-"],
                           capture_output=True, text=True)
    assert probe.returncode == 0
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(mp3), "-f", "s16le", "-ac", "1", "-"],
                         capture_output=True, check=True).stdout
    return len(raw) / 2 / 44100


def test_build_renders_everything_in_parallel_and_indexes_it(settings):
    report = library.build(settings=settings, jobs=2)
    assert statuses(report) == {"alpha": "built", "beta": "built", "gamma": "built"}
    out = settings.out_dir
    for rid in ("alpha", "beta", "gamma"):
        assert (out / f"{rid}.mp3").stat().st_size > 10_000
        chapters = json.loads((out / f"{rid}.chapters.json").read_text())
        assert chapters["version"] == "1.2.0"
        assert [c["title"] for c in chapters["chapters"]] == ["Introduction", "Strokes", "Breathe", "Closing"]
    assert {p.name for p in out.iterdir() if p.name.startswith(".")} == {library.MANIFEST}


def test_playlist_has_real_durations_titles_and_relative_paths(settings):
    library.build(settings=settings, jobs=1)
    lines = (settings.out_dir / library.PLAYLIST).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    pairs = list(zip(lines[1::2], lines[2::2]))
    assert [p[1] for p in pairs] == [linked(settings.out_dir, rid) for rid in ("alpha", "beta", "gamma")]
    for info, file in pairs:
        seconds, title = info.removeprefix("#EXTINF:").split(",", 1)
        assert 0 <= seconds_of(settings.out_dir / file) - int(seconds) < 1.01  # whole seconds, cut down
        assert title in ("Alpha routine", "Beta routine", "Gamma & more")


def test_feed_has_what_podcast_apps_need(settings):
    library.build(settings=settings, jobs=1)
    root = ET.parse(settings.out_dir / library.FEED).getroot()
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") == "Test library"
    assert channel.find("itunes:category", NS).get("text") == "Health & Fitness"
    items = channel.findall("item")
    assert [i.findtext("title") for i in items] == ["Alpha routine", "Beta routine", "Gamma & more"]
    for item in items:
        rid, version = item.findtext("guid").removeprefix("voiceguide:").split(":")
        enclosure = item.find("enclosure")
        assert enclosure.get("url") == f"https://example.org/lib/v/{version}/{rid}.mp3"
        assert linked(settings.out_dir, rid) == f"v/{version}/{rid}.mp3"
        assert int(enclosure.get("length")) == (settings.out_dir / f"{rid}.mp3").stat().st_size
        assert enclosure.get("type") == "audio/mpeg"
        assert item.find("guid").get("isPermaLink") == "false"
        h, m, s = map(int, item.findtext("itunes:duration", namespaces=NS).split(":"))
        assert 0 <= seconds_of(settings.out_dir / f"{rid}.mp3") - (h * 3600 + m * 60 + s) < 1.01
        chapters = item.find("podcast:chapters", NS)
        assert chapters.get("url") == f"https://example.org/lib/v/{version}/{rid}.chapters.json"
        assert chapters.get("type") == "application/json+chapters"
        assert item.findtext("pubDate")
        artwork = item.find("itunes:image", NS).get("href")
        assert artwork == f"https://example.org/lib/v/{version}/{rid}.cover.png"
        assert (settings.out_dir / f"v/{version}/{rid}.cover.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert channel.find("itunes:image", NS).get("href") == "https://example.org/lib/" + linked(
        settings.out_dir, "alpha", ".cover.png")


def test_guids_and_dates_change_only_for_the_routine_whose_audio_changed(settings, scripts):
    library.build(settings=settings, jobs=1)
    first = (settings.out_dir / library.FEED).read_text()
    (scripts / "beta.yaml").write_text(ROUTINE.format(title="Beta routine", tick="wood"))
    library.build(settings=settings, jobs=1)
    again = ET.fromstring((settings.out_dir / library.FEED).read_text())
    before = ET.fromstring(first)
    for a, b in zip(before.iter("item"), again.iter("item")):
        same = a.findtext("title") != "Beta routine"
        assert (a.findtext("guid") == b.findtext("guid")) is same
        if same:
            assert a.findtext("pubDate") == b.findtext("pubDate")


def test_nothing_changed_means_nothing_rendered(settings):
    library.build(settings=settings, jobs=1)
    before = {p.name: p.stat().st_mtime_ns for p in settings.out_dir.glob("*.mp3")}
    report = library.build(settings=settings, jobs=1)
    assert set(statuses(report).values()) == {"unchanged"}
    assert {p.name: p.stat().st_mtime_ns for p in settings.out_dir.glob("*.mp3")} == before


def test_an_edited_routine_is_rendered_again_and_only_it(settings, scripts):
    library.build(settings=settings, jobs=1)
    (scripts / "beta.yaml").write_text(ROUTINE.format(title="Beta routine", tick="wood"))
    assert statuses(library.build(settings=settings, jobs=1)) == {
        "alpha": "unchanged", "beta": "built", "gamma": "unchanged"}


def test_shared_scripts_rebuild_every_routine(settings, scripts):
    library.build(settings=settings, jobs=1)
    (scripts / "_snippets").mkdir()
    (scripts / "_snippets" / "neck.yaml").write_text("title: Neck\nduration: 10s\n")
    assert set(statuses(library.build(settings=settings, jobs=1)).values()) == {"built"}


def test_a_changed_sound_file_rebuilds_the_routines_that_use_it(settings, scripts):
    sound = scripts / "knock.wav"
    subprocess.run([ffmpeg_path(), "-v", "error", "-f", "lavfi", "-i", "sine=frequency=800:duration=0.1",
                    str(sound)], check=True)
    (scripts / "gamma.yaml").write_text(ROUTINE.format(title="Gamma & more", tick="knock.wav"))
    library.build(settings=settings, jobs=1)
    subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=600:duration=0.15",
                    str(sound)], check=True)
    assert statuses(library.build(settings=settings, jobs=1)) == {
        "alpha": "unchanged", "beta": "unchanged", "gamma": "built"}


def test_engine_version_render_settings_and_voiceguide_version_each_rebuild(settings, monkeypatch):
    library.build(settings=settings, jobs=1)
    monkeypatch.setattr(engines.FakeEngine, "version", lambda self: "fake-2")
    assert set(statuses(library.build(settings=settings, jobs=1)).values()) == {"built"}
    louder = library.BuildSettings(**{**settings.__dict__, "mp3": Mp3Settings(bitrate=96)})
    assert set(statuses(library.build(settings=louder, jobs=1)).values()) == {"built"}
    monkeypatch.setattr(library, "__version__", __version__ + ".post1")
    assert set(statuses(library.build(settings=louder, jobs=1)).values()) == {"built"}


def test_a_damaged_output_is_rendered_again(settings):
    library.build(settings=settings, jobs=1)
    mp3 = settings.out_dir / "alpha.mp3"
    mp3.write_bytes(mp3.read_bytes()[:1000])
    assert statuses(library.build(settings=settings, jobs=1))["alpha"] == "built"


def test_outputs_of_removed_routines_are_removed(settings, scripts):
    library.build(settings=settings, jobs=1)
    (scripts / "gamma.yaml").unlink()
    report = library.build(settings=settings, jobs=1)
    assert set(statuses(report)) == {"alpha", "beta"}
    assert not list(settings.out_dir.glob("gamma*"))
    assert "gamma" not in (settings.out_dir / library.PLAYLIST).read_text()


def test_one_broken_routine_fails_alone(runner_env, scripts, tmp_path):
    (scripts / "broken.yaml").write_text(ROUTINE.format(title="Broken", tick="tick").replace("8s", "-8s"))
    result = runner_env.invoke(main, ["build", "--scripts", str(scripts), "--out", str(tmp_path / "o"),
                                      "--jobs", "2"])
    assert result.exit_code == 1
    assert "3 built, 0 unchanged, 1 failed" in result.output
    assert f"Failed: broken\n{scripts / 'broken.yaml'}:10:15: steps[0].duration: must be more than 0 seconds" \
        in result.stderr
    assert sorted(p.name for p in (tmp_path / "o").glob("*.mp3")) == ["alpha.mp3", "beta.mp3", "gamma.mp3"]


@pytest.fixture
def runner_env(tmp_path):
    return CliRunner(env={"VOICEGUIDE_CACHE": str(tmp_path / "cache")})


def test_two_builds_at_once_share_the_cache_and_the_folder_safely(scripts, tmp_path):
    command = [sys.executable, "-m", "voiceguide", "build", "--scripts", str(scripts), "--out",
               str(tmp_path / "o"), "--cache-dir", str(tmp_path / "shared-cache"), "--jobs", "1"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
    for rid in ("alpha", "beta", "gamma"):
        assert seconds_of(tmp_path / "o" / f"{rid}.mp3") > 10
    assert json.loads((tmp_path / "o" / library.MANIFEST).read_text())["routines"].keys() == {"alpha", "beta", "gamma"}
    assert not [p for p in (tmp_path / "o").iterdir() if p.name.endswith(".part")]
    assert not list((tmp_path / "shared-cache").rglob(".tmp-*"))


def test_cache_info_and_clear(runner_env, scripts, tmp_path):
    cache_dir = tmp_path / "c"
    runner_env.invoke(main, ["build", "--scripts", str(scripts), "--out", str(tmp_path / "o"), "--jobs", "1",
                             "--cache-dir", str(cache_dir)])
    info = runner_env.invoke(main, ["cache", "info", "--cache-dir", str(cache_dir)])
    assert info.exit_code == 0 and info.output.startswith(f"{cache_dir}\n3 clips, ")
    cleared = runner_env.invoke(main, ["cache", "clear", "--cache-dir", str(cache_dir)])
    assert cleared.output.startswith("Removed 3 clips and what was kept with them (")
    assert f"\n0 clips, 0.0 MB\ntotal 0.0 MB (" in runner_env.invoke(
        main, ["cache", "info", "--cache-dir", str(cache_dir)]).output


def test_serve_gives_a_phone_the_page_and_a_feed_with_its_own_address(settings):
    from voiceguide.library import serve

    library.build(settings=settings, jobs=1)
    server = serve.make_server(settings.out_dir, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = serve.address(server)
        with urllib.request.urlopen(base + "feed.xml", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("application/rss+xml")
            feed = ET.fromstring(response.read())
        url = feed.find("channel/item/enclosure").get("url")
        assert url == base + linked(settings.out_dir, "alpha")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.headers["Content-Type"] == "audio/mpeg" and len(response.read()) > 10_000
        with urllib.request.urlopen(base + "index.html", timeout=10) as response:
            assert b"Alpha routine" in response.read()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.dask
def test_a_build_on_a_dask_cluster_matches_a_local_one(settings, tmp_path):
    distributed = pytest.importorskip("distributed")
    local = library.build(settings=settings, jobs=1)
    remote_settings = library.BuildSettings(**{**settings.__dict__, "out_dir": tmp_path / "cluster-out"})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            report = library.build(settings=remote_settings, executor=client.get_executor(pure=False))
    assert statuses(report) == {"alpha": "built", "beta": "built", "gamma": "built"}
    for rid in ("alpha", "beta", "gamma"):
        made_here = (settings.out_dir / f"{rid}.mp3").read_bytes()
        assert (tmp_path / "cluster-out" / f"{rid}.mp3").read_bytes() == made_here
    assert {o.id: o.duration_ms for o in report.outcomes} == {o.id: o.duration_ms for o in local.outcomes}
