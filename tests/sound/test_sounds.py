"""Built-in sounds, sound files and beds: shape, level, pitch and seamless loops."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from voiceguide.core.audio import RATE
from voiceguide.core.errors import AudioError
from voiceguide.script.model import BUILTIN_SOUNDS
from voiceguide.sound import sounds

#: Expected duration range of each built-in sound, in seconds.
DURATIONS = {
    "tick": (0.15, 0.3),
    "wood": (0.1, 0.2),
    "chime": (2.0, 3.0),
    "bell": (1.5, 2.5),
    "rise": (0.8, 1.0),
    "fall": (0.8, 1.0),
}


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    """Write mono float samples in [-1, 1] as a 16-bit WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.rint(samples * 32767).astype("<i2").tobytes())
    return path


def zero_crossings(mono: np.ndarray) -> int:
    return int(np.count_nonzero(np.diff(np.signbit(mono))))


def assert_seamless(loop: np.ndarray) -> None:
    """Across the wrap, the loop moves no more than it ever does from one sample to the next."""
    inner = np.max(np.abs(np.diff(loop, axis=0)))
    wrap = np.max(np.abs(loop[0] - loop[-1]))
    assert wrap <= inner


def test_every_builtin_has_a_synth():
    assert set(sounds._SYNTHS) | {"none"} == set(BUILTIN_SOUNDS)


@pytest.mark.parametrize("name", sorted(DURATIONS))
def test_builtin_sound_shape_and_level(name):
    sound = sounds.builtin_sound(name)
    assert sound.dtype == np.float32 and sound.ndim == 2 and sound.shape[1] == 2
    low, high = DURATIONS[name]
    assert low <= len(sound) / RATE <= high
    assert np.array_equal(sound[:, 0], sound[:, 1])
    assert np.all(np.abs(sound[:3]) < 1e-3) and np.all(np.abs(sound[-3:]) < 1e-3)
    assert abs(float(sound.mean())) < 1e-4
    assert 0.3 < np.max(np.abs(sound)) < 1.0


@pytest.mark.parametrize("name", sorted(DURATIONS))
def test_builtin_sound_is_deterministic_and_read_only(name):
    sound = sounds.builtin_sound(name)
    assert np.array_equal(sound, sounds._SYNTHS[name]())
    with pytest.raises(ValueError):
        sound[0, 0] = 1.0


def test_none_is_empty():
    assert sounds.builtin_sound("none").shape == (0, 2)
    assert sounds.load_sound("none").shape == (0, 2)


def test_unknown_builtin_name():
    with pytest.raises(ValueError, match="tick"):
        sounds.builtin_sound("gong")


def test_tick_is_short():
    mono = sounds.builtin_sound("tick")[:, 0].astype(np.float64)
    early = np.sum(mono[: int(0.3 * RATE)] ** 2)
    assert early / np.sum(mono**2) > 0.99


@pytest.mark.parametrize("name, rising", [("rise", True), ("fall", False)])
def test_breath_tones_glide(name, rising):
    mono = sounds.builtin_sound(name)[:, 0]
    span = int(0.2 * RATE)
    first, last = zero_crossings(mono[:span]), zero_crossings(mono[-span:])
    assert (last > first * 1.15) if rising else (first > last * 1.15)


def test_load_sound_by_name_is_the_builtin():
    assert sounds.load_sound("wood") is sounds.builtin_sound("wood")


def test_load_sound_file_trims_silence(tmp_path):
    t = np.arange(int(0.2 * RATE)) / RATE
    beep = 0.5 * np.sin(2 * np.pi * 440 * t)
    padded = np.concatenate([np.zeros(RATE // 2), beep, np.zeros(RATE)])
    path = write_wav(tmp_path / "beep.wav", padded)
    sound = sounds.load_sound(str(path))
    assert sound.dtype == np.float32 and sound.shape[1] == 2
    assert 0.2 <= len(sound) / RATE < 0.21  # the beep plus about 2 ms each side
    assert sound[0, 0] == 0.0 and sound[-1, 0] == 0.0
    onset = np.flatnonzero(np.abs(sound[:, 0]) > 1e-3)[0]
    assert onset <= int(0.003 * RATE)


def test_load_sound_missing_file(tmp_path):
    path = tmp_path / "nope.wav"
    with pytest.raises(AudioError, match="nope.wav"):
        sounds.load_sound(str(path))


def test_load_sound_corrupt_file(tmp_path):
    path = tmp_path / "broken.wav"
    path.write_bytes(np.random.default_rng(1).bytes(4000))
    with pytest.raises(AudioError, match="broken.wav"):
        sounds.load_sound(str(path))


def test_load_sound_silent_file(tmp_path):
    path = write_wav(tmp_path / "quiet.wav", np.zeros(RATE // 10))
    with pytest.raises(AudioError, match="quiet.wav"):
        sounds.load_sound(str(path))


# --- beds ----------------------------------------------------------------------------------------


def test_bed_none():
    assert sounds.make_bed("none") is None


@pytest.mark.parametrize("name", ["noise", "drone"])
def test_generated_bed(name):
    bed = sounds.make_bed(name)
    loop = bed.loop
    assert loop.dtype == np.float32 and loop.shape[1] == 2
    assert 20.0 <= len(loop) / RATE <= 60.0
    assert np.max(np.abs(loop)) < 0.5
    assert abs(float(loop.mean())) < 1e-3
    assert not loop.flags.writeable
    assert_seamless(loop)
    seconds = loop[: len(loop) // RATE * RATE].mean(axis=1).reshape(-1, RATE)
    block_db = 10 * np.log10(np.mean(seconds.astype(np.float64) ** 2, axis=1))
    assert block_db.max() - block_db.min() < 6.0  # no loud spots


@pytest.mark.parametrize("name, seed", [("noise", 1), ("drone", 0)])
def test_generated_bed_is_deterministic(name, seed):
    made_again = sounds._generated_bed.__wrapped__(name, seed, None)  # bypassing the cache
    assert np.array_equal(sounds.make_bed(name, seed=seed).loop, made_again.loop)


def test_a_generated_bed_is_kept_in_the_cache_folder_and_made_again_when_damaged(tmp_path):
    made = sounds.make_bed("noise", seed=3)
    sounds._generated_bed.cache_clear()
    assert np.array_equal(sounds.make_bed("noise", seed=3, cache_dir=tmp_path).loop, made.loop)
    (kept,) = (tmp_path / "beds").glob("noise-3-*.npy")
    sounds._generated_bed.cache_clear()
    assert np.array_equal(sounds.make_bed("noise", seed=3, cache_dir=tmp_path).loop, made.loop)  # read back
    kept.write_bytes(kept.read_bytes()[:1000])
    sounds._generated_bed.cache_clear()
    assert np.array_equal(sounds.make_bed("noise", seed=3, cache_dir=tmp_path).loop, made.loop)  # made again
    assert kept.stat().st_size > 1000 and not list(tmp_path.rglob(".*.part"))


def test_noise_seed_changes_the_noise():
    first, second = sounds.make_bed("noise", seed=0), sounds.make_bed("noise", seed=1)
    assert not np.array_equal(first.loop, second.loop)


def test_noise_is_warm():
    mono = sounds.make_bed("noise").loop.mean(axis=1).astype(np.float64)
    magnitude = np.abs(np.fft.rfft(mono))
    freqs = np.fft.rfftfreq(len(mono), 1.0 / RATE)
    centroid = np.sum(freqs * magnitude) / np.sum(magnitude)
    assert centroid < 1000.0
    assert np.sum(magnitude[freqs < 30] ** 2) < 0.02 * np.sum(magnitude**2)  # no rumble either


def test_bed_read_wraps():
    bed = sounds.make_bed("drone")
    n = len(bed)
    expected = np.concatenate([bed.loop[-100:], bed.loop[:100]])
    assert np.array_equal(bed.read(n - 100, 200), expected)
    assert np.array_equal(bed.read(7 * n - 100, 200), expected)
    assert np.array_equal(bed.read(10**12 * n + 5, 10), bed.loop[5:15])


def test_bed_read_long_spans():
    loop = np.arange(20, dtype=np.float32).reshape(10, 2)
    bed = sounds.Bed(loop)
    out = bed.read(3, 45)
    assert out.shape == (45, 2) and out.dtype == np.float32
    assert np.array_equal(out[:, 0], ((np.arange(3, 48) % 10) * 2).astype(np.float32))
    assert bed.read(5, 0).shape == (0, 2)
    out[:] = -1.0
    assert bed.loop[0, 0] == 0.0  # read() hands out copies


def test_bed_keeps_its_own_copy():
    loop = np.zeros((10, 2), dtype=np.float32)
    bed = sounds.Bed(loop)
    loop[:] = 1.0
    assert not bed.loop.any() and not bed.loop.flags.writeable
    with pytest.raises(ValueError):
        sounds.Bed(np.zeros((10, 1)))


def test_file_bed_loops_without_a_seam(tmp_path):
    t = np.arange(6 * RATE) / RATE
    amp = np.where(t < 0.5, 0.9, 0.3)  # a loud start must not leave a jump at the wrap
    path = write_wav(tmp_path / "bed.wav", amp * np.sin(2 * np.pi * 220 * t))
    bed = sounds.make_bed(str(path))
    assert 3.9 <= len(bed) / RATE <= 6.0
    assert_seamless(bed.loop)
    across = bed.read(len(bed) - RATE // 10, RATE // 5)[:, 0]
    assert np.max(np.abs(np.diff(across))) <= np.max(np.abs(np.diff(bed.loop[:, 0]))) + 1e-6


def test_short_file_bed_loops_as_is(tmp_path):
    t = np.arange(RATE) / RATE
    path = write_wav(tmp_path / "short.wav", 0.5 * np.sin(2 * np.pi * 330 * t))
    loop = sounds.make_bed(str(path)).loop
    assert abs(len(loop) - RATE) < 0.01 * RATE
    assert loop[0, 0] == 0.0 and loop[-1, 0] == 0.0


def test_file_bed_errors(tmp_path):
    with pytest.raises(AudioError, match="gone.mp3"):
        sounds.make_bed(str(tmp_path / "gone.mp3"))


def envelope_db(mono: np.ndarray, block: int = 441) -> np.ndarray:
    """RMS of each 10 ms block, in dB."""
    n = len(mono) // block * block
    return 10 * np.log10(np.mean(mono[:n].astype(np.float64).reshape(-1, block) ** 2, axis=1))


def test_a_tone_loops_without_a_dip_or_swell(tmp_path):
    t = np.arange(int(6.3037 * RATE)) / RATE  # the seam falls mid-cycle: the crossfade must line it up
    path = write_wav(tmp_path / "tone.wav", 0.4 * np.sin(2 * np.pi * 300 * t))  # 3 cycles a block
    bed = sounds.make_bed(str(path))
    across = envelope_db(bed.read(len(bed) - 3 * RATE, 6 * RATE)[:, 0])
    assert across.max() - across.min() < 0.2


def test_noise_loops_at_an_even_level(tmp_path):
    noise = np.random.default_rng(5).standard_normal(8 * RATE) * 0.1
    bed = sounds.make_bed(str(write_wav(tmp_path / "noise.wav", noise)))
    around = envelope_db(bed.read(len(bed) - 2 * RATE, 4 * RATE)[:, 0], block=RATE // 4)
    assert around.max() - around.min() < 1.5  # noise wobbles; a seam would dip by 3 dB


def test_loop_points_keep_the_loops_length_and_join_seamlessly(tmp_path):
    t = np.arange(10 * RATE) / RATE
    music = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 0.5 * t))
    path = write_wav(tmp_path / "music.wav", music)
    for start, end in ((3.0, 7.5), (0.5, 6.0), (0.0, 10.0)):  # pre-roll; post-roll; neither
        bed = sounds.make_bed(str(path), loop_start=start, loop_end=end)
        if (start, end) != (0.0, 10.0):
            assert len(bed) == int(end * RATE) - int(start * RATE)  # a musical loop stays in time
        assert_seamless(bed.loop)
    middle = sounds.make_bed(str(path), loop_start=3.0, loop_end=7.5)
    assert np.corrcoef(middle.loop[: RATE, 0], music[3 * RATE: 4 * RATE])[0, 1] > 0.9999  # starts at loop_start


def test_loop_points_outside_the_file(tmp_path):
    path = write_wav(tmp_path / "short.wav", 0.3 * np.sin(np.arange(2 * RATE) / 10))
    with pytest.raises(AudioError, match="short.wav.*does not fit"):
        sounds.make_bed(str(path), loop_start=1.0, loop_end=5.0)
    with pytest.raises(AudioError, match="short.wav"):
        sounds.make_bed(str(path), loop_start=3.0)
