"""The narration cache: keyed by content, written atomically, damage detected."""

from __future__ import annotations

import numpy as np

from voiceguide.cache import NarrationCache


def test_round_trip_and_keys_separate_every_input(tmp_path):
    cache = NarrationCache(tmp_path)
    clip = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)[:, None]
    key = cache.key(engine="fake", version="1", voice=None, rate=150, volume=1.0, text="Hello.")
    assert cache.get(key) is None
    cache.put(key, clip)
    assert np.array_equal(cache.get(key), clip)
    other = cache.key(engine="fake", version="1", voice=None, rate=151, volume=1.0, text="Hello.")
    assert other != key and cache.get(other) is None
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_damaged_entry_reads_as_missing_and_is_removed(tmp_path):
    cache = NarrationCache(tmp_path)
    key = cache.key(text="x")
    cache.put(key, np.zeros((10, 1), np.float32))
    path = next(tmp_path.rglob("*.npy"))
    path.write_bytes(path.read_bytes()[:60])  # truncated, as by a killed writer
    assert cache.get(key) is None
    assert not path.exists()
