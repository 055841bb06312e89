"""The narration cache: one verified file per entry, written whole, first writer wins; every kind of
damage detected and spoken again; derived audio tied to its clip; compact, and capped by LRU."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import time

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide import render as lib
from voiceguide.cli import main
from voiceguide.core.errors import AudioError, UsageError
from voiceguide.core.loudness import Levels
from voiceguide.export.mp3 import Mp3Settings
from voiceguide.voice import cache as cache_module
from voiceguide.voice.cache import MAGIC, NarrationCache, Speech, parse_size


def clip_of(n: int = 30000, hz: float = 440.0, level: float = 0.2) -> np.ndarray:
    t = np.arange(n) / 44100.0
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)[:, None]


def only_file(folder) -> os.PathLike:
    (path,) = [p for p in folder.rglob("*") if p.is_file()]
    return path


# --- the entry --------------------------------------------------------------------------------------


def test_round_trip_is_exact_to_16_bits_and_keys_separate_every_input(tmp_path):
    cache = NarrationCache(tmp_path)
    clip = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)[:, None]
    key = cache.key(engine="fake", version="1", voice=None, rate=150, volume=1.0, text="Hello.")
    assert cache.get(key) is None
    put = cache.put(key, clip)
    got = cache.get(key)
    assert put.length == got.length == 1000
    assert np.array_equal(put.samples(), got.samples())  # a first render reads what a later one does
    assert np.max(np.abs(got.samples() - clip)) <= 0.5 * 0.5 / 32767 * 1.0001  # half a step at the peak
    other = cache.key(engine="fake", version="1", voice=None, rate=151, volume=1.0, text="Hello.")
    assert other != key and cache.get(other) is None
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{key}.vgc"]  # one file, nothing else


def test_an_entry_is_compact_and_what_the_mixer_reads_stays_exact(tmp_path):
    cache = NarrationCache(tmp_path)
    clip = clip_of(44100 * 5)
    clip[::7] *= 0.01  # not a pure tone: some detail well below the peak
    speech = cache.put(cache.key(text="five seconds"), clip)
    raw = clip.nbytes
    assert only_file(tmp_path).stat().st_size < 0.52 * raw  # 16-bit samples and a small envelope
    err = speech.samples() - clip
    assert 10 * np.log10(np.sum(clip.astype(float) ** 2) / np.sum(err.astype(float) ** 2)) > 80
    fresh = Levels.of(clip)
    assert speech.levels.loudness == pytest.approx(fresh.loudness, abs=1e-3)
    assert speech.levels.true_peak == pytest.approx(fresh.true_peak, abs=1e-3)
    assert np.allclose(speech.levels.energy, fresh.energy, rtol=1e-3, atol=1e-9)
    # the levels are those of the samples as kept: measured now or read back, a render is the same
    again = Levels.of(speech.samples())
    assert (again.loudness, again.true_peak) == (speech.levels.loudness, speech.levels.true_peak)


def test_the_first_writer_wins_and_a_render_keeps_the_clip_it_planned_with(tmp_path):
    """Two processes speaking one phrase at once, with a voice that varies: both get the first's."""
    cache, other_process = NarrationCache(tmp_path), NarrationCache(tmp_path)
    key = cache.key(text="same words")
    first = cache.put(key, clip_of(30000))
    second = other_process.put(key, clip_of(27000, hz=300))  # spoken again, differently, a moment later
    assert second.length == first.length == 30000
    assert np.array_equal(second.samples(), first.samples())
    assert second.levels.loudness == first.levels.loudness


def test_a_clip_replaced_or_gone_before_the_mix_reads_it_is_a_clear_error(tmp_path):
    cache = NarrationCache(tmp_path)
    key = cache.key(text="x")
    speech = cache.put(key, clip_of())
    cache.clear()
    with pytest.raises(AudioError, match="went missing or was damaged"):
        speech.samples()
    cache.put(key, clip_of(20000))  # re-spoken by someone else, another length: never mixed in
    with pytest.raises(AudioError, match="went missing or was damaged"):
        speech.samples()


def test_samples_that_are_not_numbers_are_refused(tmp_path):
    cache = NarrationCache(tmp_path)
    bad = clip_of()
    bad[100] = np.nan
    with pytest.raises(AudioError, match="not numbers"):
        cache.put(cache.key(text="nan"), bad)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_cache_that_cannot_be_written_still_gives_the_clip(tmp_path):
    (tmp_path / "narration").write_text("a file where a folder should be")
    cache = NarrationCache(tmp_path)
    speech = cache.put(cache.key(text="x"), clip_of())
    assert speech.path is None and speech.length == 30000
    assert np.max(np.abs(speech.samples() - clip_of())) < 1e-5


# --- damage -----------------------------------------------------------------------------------------


def parts(data: bytes) -> tuple[dict, int]:
    size = struct.unpack_from("<I", data, len(MAGIC))[0]
    start = len(MAGIC) + 4 + size
    return json.loads(data[len(MAGIC) + 4: start]), start


def resealed(data: bytes, header: dict | None = None, body: bytes | None = None) -> bytes:
    """An entry rewritten with a valid checksum: damage a checksum alone cannot see."""
    old, start = parts(data)
    head = json.dumps(header if header is not None else old, sort_keys=True).encode()
    whole = MAGIC + struct.pack("<I", len(head)) + head + (body if body is not None else data[start:-32])
    return whole + hashlib.sha256(whole).digest()


def zero_samples(data: bytes, key: str, other: bytes) -> bytes:
    head, start = parts(data)
    end = start + 2 * head["length"]
    return data[:start] + bytes(end - start) + data[end:]


def zero_levels(data: bytes, key: str, other: bytes) -> bytes:
    head, start = parts(data)
    at = start + 2 * head["length"]
    return data[:at] + bytes(len(data) - 32 - at) + data[-32:]


def flip_a_byte(data: bytes, key: str, other: bytes) -> bytes:
    at = len(data) // 2
    return data[:at] + bytes([data[at] ^ 0x10]) + data[at + 1:]


def truncate(data: bytes, key: str, other: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


def huge_values(data: bytes, key: str, other: bytes) -> bytes:
    head, _ = parts(data)
    return resealed(data, {**head, "scale": 1e30})


def nan_loudness(data: bytes, key: str, other: bytes) -> bytes:
    head, _ = parts(data)
    return resealed(data, {**head, "loudness": float("nan")})


def nan_envelope(data: bytes, key: str, other: bytes) -> bytes:
    head, start = parts(data)
    body = bytearray(data[start:-32])
    body[2 * head["length"]: 2 * head["length"] + 4] = np.array([np.nan], "<f4").tobytes()
    return resealed(data, body=bytes(body))


def swapped(data: bytes, key: str, other: bytes) -> bytes:
    return other  # another phrase's entry, whole and valid, under this key


def old_format(data: bytes, key: str, other: bytes) -> bytes:
    return b"\x93NUMPY" + data[6:]


DAMAGE = [zero_samples, zero_levels, flip_a_byte, truncate, huge_values, nan_loudness, nan_envelope, swapped,
          old_format]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_every_kind_of_damage_reads_as_missing_and_is_removed(tmp_path, damage):
    cache = NarrationCache(tmp_path)
    key, other = cache.key(text="one"), cache.key(text="two")
    cache.put(key, clip_of())
    cache.put(other, clip_of(20000, hz=300))
    path = cache.get(key).path
    path.write_bytes(damage(path.read_bytes(), key, cache.get(other).path.read_bytes()))
    assert cache.get(key) is None
    assert not path.exists()
    assert cache.get(other) is not None  # the others are untouched
    assert cache.put(key, clip_of()).length == 30000 and cache.get(key) is not None


ROUTINE = """\
title: Damage
description: A short routine whose cache is damaged in every way.
voice: {engine: fake, rate: 170}
intro: Welcome, and sit comfortably.
steps:
  - title: Neck
    say: Stroke down the sides of the neck, slowly.
    duration: 8s
    strokes: 3
outro: Rest your hands.
"""


@pytest.fixture(scope="module")
def clean_render(tmp_path_factory):
    """A routine, its cache, and the MP3 rendered from a clean cache."""
    folder = tmp_path_factory.mktemp("clean")
    (folder / "damage.yaml").write_text(ROUTINE, encoding="utf-8")
    routine = lib.load(folder / "damage.yaml")
    cache = NarrationCache(folder / "cache")
    mp3 = lib.render(routine, folder / "out", cache=cache, mp3=Mp3Settings(bitrate=32, channels=1)).path
    return routine, folder / "cache", mp3.read_bytes()


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__)
def test_a_damaged_cache_is_spoken_again_and_the_render_is_as_from_a_clean_one(tmp_path, clean_render, damage):
    routine, clean_cache, clean_mp3 = clean_render
    cache = NarrationCache(tmp_path / "cache")
    for path in clean_cache.rglob("*.vgc"):
        (cache.dir / path.parent.name).mkdir(parents=True, exist_ok=True)
        (cache.dir / path.parent.name / path.name).write_bytes(path.read_bytes())
    entries = sorted(cache.entries())
    assert len(entries) >= 3
    for i, path in enumerate(entries):  # every clip damaged (swapped: each gets the next one's entry)
        key = path.name.split(".")[0]
        path.write_bytes(damage(path.read_bytes(), key, entries[(i + 1) % len(entries)].read_bytes()))
    rendered = lib.render(routine, tmp_path / "out", cache=cache, mp3=Mp3Settings(bitrate=32, channels=1))
    assert rendered.path.read_bytes() == clean_mp3
    again = lib.render(routine, tmp_path / "again", cache=cache, mp3=Mp3Settings(bitrate=32, channels=1))
    assert again.path.read_bytes() == clean_mp3  # and every later render too


def test_a_render_fails_cleanly_when_its_clips_are_cleared_as_it_mixes(tmp_path, write_routine):
    routine = lib.load(write_routine(ROUTINE))
    cache = NarrationCache(tmp_path / "cache")

    def clear_while_mixing(phase, done, total):
        if phase == "mixing":
            cache.clear()

    with pytest.raises(AudioError, match="went missing or was damaged while rendering"):
        lib.render(routine, tmp_path / "out", cache=cache, progress=clear_while_mixing, chunk=4096,
                   mp3=Mp3Settings(bitrate=32, channels=1))
    assert not [p for p in (tmp_path / "out").rglob("*") if p.suffix == ".mp3" or p.name.endswith(".part")]


# --- derived audio ----------------------------------------------------------------------------------


def test_what_mastering_derives_from_a_clip_is_made_once_and_only_for_that_clip(tmp_path):
    cache = NarrationCache(tmp_path)
    key = cache.key(text="tone")
    speech = cache.put(key, clip_of())
    made = []

    def halve(x):
        made.append(len(x))
        return x * 0.5

    first = speech.derived("half", halve)
    again = cache.get(key).derived("half", halve)
    assert made == [30000] and np.array_equal(first, again)
    assert np.max(np.abs(first - clip_of() * 0.5)) < 1e-5
    assert cache.entries() == [speech.path]  # derived files are not clips
    (kept,) = [p for p in tmp_path.rglob("*.vgc") if p != speech.path]
    kept.write_bytes(flip_a_byte(kept.read_bytes(), key, b""))  # damaged: made again
    assert np.array_equal(speech.derived("half", halve), first) and made == [30000, 30000]
    # the clip re-spoken differently (after its entry was lost): what was derived from the old one is not used
    speech.path.unlink()
    respoken = cache.put(key, clip_of(25000, hz=300))
    assert respoken.derived("half", halve).shape == (25000, 1) and made[-1] == 25000
    assert len(list(tmp_path.rglob("*.vgc"))) == 2
    assert np.array_equal(Speech.of(clip_of()).derived("x", lambda x: x * 2), clip_of() * 2)  # in memory: not kept


# --- size: LRU eviction, info and clear --------------------------------------------------------------


def aged(path, hours: float) -> None:
    when = time.time() - hours * 3600
    os.utime(path, (when, when))


def test_least_recently_used_entries_go_first_with_what_was_derived_from_them(tmp_path):
    cache = NarrationCache(tmp_path, limit=None)
    speeches = {text: cache.put(cache.key(text=text), clip_of(20000)) for text in "abcd"}
    speeches["c"].derived("loud", lambda x: x * 2)
    size = speeches["a"].path.stat().st_size
    for hours, text in zip((4, 3, 2, 1), "abcd"):
        for path in tmp_path.rglob(f"{cache.key(text=text)}*"):
            aged(path, hours)
    assert cache.get(cache.key(text="b")) is not None  # used now: the last to go
    going = sum(p.stat().st_size for t in "ac" for p in tmp_path.rglob(f"{cache.key(text=t)}*"))
    assert cache.trim(limit=2 * size + size // 2) == going
    assert {text for text in "abcd" if cache.get(cache.key(text=text)) is not None} == {"b", "d"}
    assert len(list(tmp_path.rglob("*.vgc"))) == 2  # c's derived file went with it
    assert cache.usage()[1] <= 2 * size + size // 2


def test_entries_used_lately_are_never_evicted_as_a_render_may_be_about_to_read_them(tmp_path):
    cache = NarrationCache(tmp_path, limit=None)
    speeches = [cache.put(cache.key(text=t), clip_of()) for t in "abc"]
    assert cache.trim(limit=0) == 0
    assert all(s.samples().shape == (30000, 1) for s in speeches)


def test_the_cap_is_kept_as_clips_are_written(tmp_path):
    old = NarrationCache(tmp_path, limit=None)
    for text in "abcdef":
        aged(old.put(old.key(text=text), clip_of()).path, 2)
    bed = tmp_path / "beds" / "noise-0-v1.npy"
    bed.parent.mkdir()
    bed.write_bytes(bytes(100_000))
    aged(bed, 3)
    size = next(tmp_path.rglob("*.vgc")).stat().st_size
    cache = NarrationCache(tmp_path, limit=3 * size)
    new = cache.put(cache.key(text="new"), clip_of())
    assert cache.usage()[1] <= 3 * size
    assert not bed.exists()  # generated beds share the cap
    assert cache.get(cache.key(text="new")) is not None and new.samples().shape == (30000, 1)


def test_a_render_with_a_tiny_cap_works_and_the_cap_applies_once_its_clips_age(tmp_path, write_routine, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_CACHE_SIZE", "1")
    routine = lib.load(write_routine(ROUTINE))
    cache = NarrationCache(tmp_path / "cache")
    first = lib.render(routine, tmp_path / "a", cache=cache, mp3=Mp3Settings(bitrate=32, channels=1))
    assert cache.usage()[0] == len(routine.texts())  # all used just now: none evicted
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            aged(path, 1)
    cache.trim()
    assert cache.usage() == (0, 0)
    again = lib.render(routine, tmp_path / "b", cache=NarrationCache(tmp_path / "cache"),
                       mp3=Mp3Settings(bitrate=32, channels=1))
    assert again.path.read_bytes() == first.path.read_bytes()


@pytest.mark.parametrize("text, size", [("500MB", 500_000_000), ("2G", 2_000_000_000), ("1.5GiB", 1.5 * 2**30),
                                        ("123456", 123456), ("64 kb", 64_000), ("none", None)])
def test_sizes(text, size):
    assert parse_size(text) == size


def test_the_default_cap_and_a_bad_setting(monkeypatch, tmp_path):
    monkeypatch.delenv("VOICEGUIDE_CACHE_SIZE", raising=False)
    assert NarrationCache(tmp_path).limit == cache_module.DEFAULT_LIMIT == 1_000_000_000
    monkeypatch.setenv("VOICEGUIDE_CACHE_SIZE", "lots")
    with pytest.raises(UsageError, match="VOICEGUIDE_CACHE_SIZE='lots' is not a size"):
        NarrationCache(tmp_path)
    result = CliRunner().invoke(main, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith("Error: VOICEGUIDE_CACHE_SIZE='lots' is not a size")


def test_info_counts_everything_the_cache_keeps_and_clear_clears_it(tmp_path, write_routine, monkeypatch):
    monkeypatch.delenv("VOICEGUIDE_CACHE_SIZE", raising=False)
    routine = write_routine(ROUTINE.replace("title: Damage", "title: Damage\nbackground: {bed: drone}"))
    runner = CliRunner()
    cache_dir = tmp_path / "c"
    rendered = runner.invoke(main, ["render", str(routine), "--out", str(tmp_path / "o"), "--cache-dir",
                                    str(cache_dir), "--mono", "--bitrate", "32"])
    assert rendered.exit_code == 0, rendered.output
    store = NarrationCache(cache_dir)
    contents = store.contents()
    assert contents["clip"][0] == len(lib.load(routine).texts()) and contents["bed"][0] == 1
    total = sum(p.stat().st_size for p in cache_dir.rglob("*") if p.is_file())
    assert sum(size for _, size in contents.values()) == total
    info = runner.invoke(main, ["cache", "info", "--cache-dir", str(cache_dir)])
    clips = contents["clip"][0]
    assert info.exit_code == 0 and info.output.startswith(f"{cache_dir}\n{clips} clips, ")
    assert "beds: 1 file, " in info.output
    assert info.output.endswith(f"total {total / 1e6:.1f} MB (limit 1000.0 MB; VOICEGUIDE_CACHE_SIZE sets it)\n")
    cleared = runner.invoke(main, ["cache", "clear", "--cache-dir", str(cache_dir)])
    assert cleared.output == f"Removed {clips} clips and what was kept with them ({total / 1e6:.1f} MB) from {cache_dir}\n"
    assert not [p for p in cache_dir.rglob("*") if p.is_file()]
    assert runner.invoke(main, ["cache", "info", "--cache-dir", str(cache_dir)]).output == (
        f"{cache_dir}\n0 clips, 0.0 MB\ntotal 0.0 MB (limit 1000.0 MB; VOICEGUIDE_CACHE_SIZE sets it)\n")
