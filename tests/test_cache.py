"""The narration cache: keyed by content, written atomically, damage detected, levels kept with clips."""

from __future__ import annotations

import numpy as np
import pytest

from voiceguide.cache import NarrationCache
from voiceguide.errors import AudioError
from voiceguide.loudness import Levels


def clip_of(n: int = 30000) -> np.ndarray:
    t = np.arange(n) / 44100.0
    return (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None]


def test_round_trip_and_keys_separate_every_input(tmp_path):
    cache = NarrationCache(tmp_path)
    clip = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)[:, None]
    key = cache.key(engine="fake", version="1", voice=None, rate=150, volume=1.0, text="Hello.")
    assert cache.get(key) is None
    cache.put(key, clip)
    speech = cache.get(key)
    assert speech.length == 1000 and np.array_equal(speech.samples(), clip)
    other = cache.key(engine="fake", version="1", voice=None, rate=151, volume=1.0, text="Hello.")
    assert other != key and cache.get(other) is None
    assert not list(tmp_path.rglob(".*.part"))


def test_levels_are_stored_with_the_clip_and_match_a_fresh_measurement(tmp_path):
    cache = NarrationCache(tmp_path)
    clip = clip_of()
    key = cache.key(text="tone")
    put = cache.put(key, clip)
    got = cache.get(key)
    fresh = Levels.of(clip)
    for levels in (put.levels, got.levels):
        assert levels.loudness == pytest.approx(fresh.loudness, abs=1e-4)
        assert levels.true_peak == pytest.approx(fresh.true_peak, abs=1e-4)
        assert np.allclose(levels.energy, fresh.energy)
    assert len(got.levels.energy) * 63 == Levels.covering(len(clip))


def test_missing_or_stale_levels_are_measured_again(tmp_path):
    cache = NarrationCache(tmp_path)
    key = cache.key(text="tone")
    cache.put(key, clip_of())
    levels = next(tmp_path.rglob("*.levels"))
    levels.unlink()
    assert cache.get(key).levels.loudness == pytest.approx(Levels.of(clip_of()).loudness, abs=1e-4)
    assert levels.exists()  # written again
    # levels of another clip (a re-spoken phrase a few samples longer) are not trusted
    np.save(levels.open("wb"), Levels.of(clip_of(40000)).to_array())
    assert cache.get(key).levels.length == Levels.covering(30000)


def test_a_damaged_entry_reads_as_missing_and_is_removed(tmp_path):
    cache = NarrationCache(tmp_path)
    key = cache.key(text="x")
    cache.put(key, np.zeros((10, 1), np.float32))
    path = next(tmp_path.rglob("*.npy"))
    path.write_bytes(path.read_bytes()[:60])  # truncated, as by a killed writer
    assert cache.get(key) is None
    assert not path.exists()


def test_a_clip_that_vanishes_before_the_mix_reads_it_is_a_clear_error(tmp_path):
    cache = NarrationCache(tmp_path)
    key = cache.key(text="x")
    speech = cache.put(key, clip_of())
    cache.clear()
    with pytest.raises(AudioError, match="went missing or was damaged"):
        speech.samples()


def test_usage_and_clear_count_clips_and_their_levels(tmp_path):
    cache = NarrationCache(tmp_path)
    for text in "abc":
        cache.put(cache.key(text=text), clip_of())
    count, size = cache.usage()
    assert count == 3 and size == sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert cache.clear() == (count, size)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_what_mastering_derives_from_a_clip_is_made_once_and_kept_beside_it(tmp_path):
    cache = NarrationCache(tmp_path)
    speech = cache.put(cache.key(text="tone"), clip_of())
    made = []

    def halve(x):
        made.append(1)
        return x * 0.5

    first = speech.derived("half", halve)
    again = cache.get(cache.key(text="tone")).derived("half", halve)
    assert len(made) == 1 and np.array_equal(first, again) and np.array_equal(first, clip_of() * 0.5)
    kept = next(tmp_path.rglob("*.half.npy"))
    assert cache.entries() == [speech.path]  # derived files are not clips
    kept.write_bytes(kept.read_bytes()[:70])  # damaged: made again
    assert np.array_equal(speech.derived("half", halve), first) and len(made) == 2
    assert speech_of_memory_is_not_kept(tmp_path)
    cache.clear()
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def speech_of_memory_is_not_kept(folder) -> bool:
    from voiceguide.cache import Speech

    before = sorted(folder.rglob("*"))
    assert np.array_equal(Speech.of(clip_of()).derived("x", lambda x: x * 2), clip_of() * 2)
    return sorted(folder.rglob("*")) == before
