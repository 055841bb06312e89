"""Mixer and export, checked as a listener would: decode and measure."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from voiceguide.core.audio import RATE, ffmpeg_path
from voiceguide.core.errors import Where
from voiceguide.core.loudness import integrated, measure, sounding_level
from voiceguide.export.mp3 import Mp3Settings, Tags, codec_gain, lrc_path, write_mp3
from voiceguide.export.probe import SAMPLES_PER_FRAME, read_header
from voiceguide.export.tags import Lyric
from voiceguide.plan.timeline import Event, Plan, PlannedStep
from voiceguide.script.model import Background, Sound
from voiceguide.sound.mix import (
    SPEECH_CLEARANCE,
    VOICE_LOUDNESS,
    BedGain,
    Placed,
    mix,
    place_events,
)
from voiceguide.sound.sounds import make_bed

TAGS = Tags("A title", "An artist", "An album", "Meditation", "A description.")


def decode(path, channels=2) -> np.ndarray:
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", str(channels),
                          "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, channels)


def one_step_plan(length, events):
    return Plan("t", "T", length, (PlannedStep("S", "step", 0, length, tuple(events), Where("t", 1, 1)),))


def tone(seconds, freq=220.0, amp=0.3):
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)[:, None]


def gated_level(x, start_s, end_s):
    return sounding_level(x[int(start_s * RATE):int(end_s * RATE)])


# --- the mixer -----------------------------------------------------------------------------------


def test_mix_places_clips_exactly_across_chunk_boundaries():
    length = 3 * RATE
    clip = np.ones((1000, 1), np.float32)
    placed = [Placed(start, len(clip), gain, np.zeros(1, np.float32), lambda gain=gain: clip * np.float32(gain))
              for start, gain in ((RATE - 500, 0.5), (2 * RATE, 0.25))]
    out = np.concatenate(list(mix(one_step_plan(length, []), placed, None, None, chunk=RATE)))
    assert out.shape == (length, 2)
    assert np.flatnonzero(out[:, 0]).tolist() == list(range(RATE - 500, RATE + 500)) + list(
        range(2 * RATE, 2 * RATE + 1000))
    assert out[RATE - 500, 0] == 0.5 and out[2 * RATE, 1] == 0.25


def test_every_narration_is_leveled_to_one_loudness():
    quiet, loud = tone(2.0, 180, amp=0.02), tone(3.0, 140, amp=0.6)
    plan = one_step_plan(6 * RATE, [Event("speech", 0, 2 * RATE, "a"), Event("speech", 3 * RATE, 6 * RATE, "b")])
    out = np.concatenate(list(mix(plan, place_events(plan, {"a": quiet, "b": loud}, {}), None, None)))
    assert integrated(out[: 2 * RATE]) == pytest.approx(VOICE_LOUDNESS, abs=0.1)
    assert integrated(out[3 * RATE:]) == pytest.approx(VOICE_LOUDNESS, abs=0.1)


def speechlike(seconds: float) -> np.ndarray:
    """Syllables (0.2 s bursts of a buzzy 150 Hz tone) and a few short plosives far above them."""
    t = np.arange(int(seconds * RATE)) / RATE
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    syllables = (np.sin(2 * np.pi * 2.5 * t) > 0).astype(float)
    plosives = 1 + 7 * ((t % 0.8) < 0.004)
    return (0.05 * buzz * syllables * plosives).astype(np.float32)[:, None]


def test_narration_peaks_are_held_under_the_limit_mastering_leaves():
    plan = one_step_plan(4 * RATE, [Event("speech", 0, 4 * RATE, "x")])
    clip = speechlike(4.0)
    raw = measure(np.repeat(clip, 2, axis=1))
    assert raw.true_peak - raw.integrated > 18  # the limit below really has something to do
    voice = place_events(plan, {"x": clip}, {}, voice_peak=VOICE_LOUDNESS + 14)[0].make()
    found = measure(np.repeat(voice, 2, axis=1))
    assert found.true_peak <= VOICE_LOUDNESS + 14 + 0.05
    assert found.integrated == pytest.approx(VOICE_LOUDNESS, abs=0.01)


def test_narration_clips_start_and_end_without_a_click():
    plan = one_step_plan(RATE, [Event("speech", 0, RATE // 2, "x")])
    clip = place_events(plan, {"x": np.full((RATE // 2, 1), 0.1, np.float32)}, {})[0].make()
    assert clip[0, 0] == 0.0 and clip[-1, 0] == 0.0
    assert np.max(np.abs(np.diff(clip[:, 0]))) < 0.01 * np.max(clip)  # 5 ms of fade


def test_sounds_sit_at_their_level_below_the_voice():
    speech = tone(1.0, amp=0.05)
    tick = np.repeat(tone(0.2, 1500, amp=0.9), 2, axis=1)
    plan = one_step_plan(3 * RATE, [Event("speech", 0, RATE, "x"), Event("tick", 2 * RATE, 3 * RATE)])
    placed = place_events(plan, {"x": speech}, {"tick": (tick, Sound("tick", -16.0))})
    out = np.concatenate(list(mix(plan, placed, None, None)))
    assert gated_level(out, 0, 1) == pytest.approx(VOICE_LOUDNESS, abs=0.3)
    assert gated_level(out, 2, 3) == pytest.approx(VOICE_LOUDNESS - 16, abs=0.3)


def test_bed_ducks_under_speech_and_fades_in_and_out():
    length = 30 * RATE
    plan = one_step_plan(length, [Event("speech", 10 * RATE, 14 * RATE, "x"), Event("speech", 20 * RATE, 21 * RATE, "y")])
    bed = make_bed("noise")

    def bed_mix(duck):
        background = Background(level=-24, duck=duck, fade_in=2, fade_out=5)
        return np.concatenate(list(mix(plan, [], bed, BedGain(plan, background, bed.level))))

    out, unducked = bed_mix(12), bed_mix(0)

    def depth(a, b):
        return gated_level(unducked, a, b) - gated_level(out, a, b)

    assert gated_level(out, 5, 9) == pytest.approx(VOICE_LOUDNESS - 24, abs=1.0)  # the noise swells a little
    assert depth(10, 14) == pytest.approx(12, abs=0.05)  # down all through the words
    assert depth(9.0, 9.8) == pytest.approx(0, abs=0.05)  # up until 150 ms before them
    assert 1 < depth(9.85, 10) < 11  # on the way down
    assert 1 < depth(14, 14.5) < 11  # on the way back up
    assert depth(14.5, 16) == pytest.approx(0, abs=0.05)  # up again 500 ms after
    assert depth(21, 25) == pytest.approx(12, abs=0.05)  # after the last words it stays down, until the fade
    assert np.abs(out[:100]).max() < 1e-4  # fades in from silence
    assert np.abs(out[-100:]).max() < 1e-4  # and out to silence


def test_after_the_last_words_the_bed_only_goes_down():
    plan = one_step_plan(20 * RATE, [Event("speech", 2 * RATE, 5 * RATE, "a"), Event("speech", 9 * RATE, 10 * RATE, "b")])
    gain = BedGain(plan, Background(level=-24, duck=10, fade_in=0, fade_out=4), -30.0)
    under = gain(int(9.5 * RATE), 1)[0, 0]
    after = gain(10 * RATE, 10 * RATE)[:, 0]
    assert after[0] == pytest.approx(under)
    assert np.all(np.diff(after) <= 0) and after[-1] < 1e-3 * under
    assert gain(int(15.9 * RATE), 1)[0, 0] == pytest.approx(under)  # held until the fade-out's last 4 s


def test_bed_stays_down_through_short_gaps_and_rises_in_long_ones():
    plan = one_step_plan(30 * RATE, [Event("speech", 5 * RATE, 8 * RATE, "a"),
                                     Event("speech", int(8.8 * RATE), 12 * RATE, "b"),
                                     Event("speech", 16 * RATE, 18 * RATE, "c")])
    gain = BedGain(plan, Background(level=-24, duck=10, fade_in=0, fade_out=0), -30.0)
    short_gap, long_gap, under = gain(int(8.4 * RATE), 1)[0, 0], gain(14 * RATE, 1)[0, 0], gain(6 * RATE, 1)[0, 0]
    assert short_gap == pytest.approx(under)
    assert 20 * np.log10(long_gap / under) == pytest.approx(10, abs=0.01)


def test_bed_is_always_at_least_20_db_under_speech():
    plan = one_step_plan(10 * RATE, [Event("speech", 2 * RATE, 6 * RATE, "x")])
    loud_bed = Background(level=-8, duck=3, fade_in=0, fade_out=0)
    gain = BedGain(plan, loud_bed, -30.0)
    free, under = gain(RATE, 1)[0, 0], gain(4 * RATE, 1)[0, 0]
    assert 20 * np.log10(under / free) == pytest.approx(-(SPEECH_CLEARANCE - 8), abs=0.01)


def test_bed_gain_is_smooth_and_matches_the_exact_curve():
    plan = one_step_plan(20 * RATE, [Event("speech", 5 * RATE, 8 * RATE, "x")])
    gain = BedGain(plan, Background(fade_in=2, fade_out=3), -30.0)
    coarse = gain(0, 20 * RATE)[:, 0]
    exact = gain.at(np.arange(20 * RATE, dtype=np.float64))
    assert np.max(np.abs(coarse - exact)) < 1e-3 * exact.max()
    assert np.max(np.abs(np.diff(coarse))) < 1e-3 * exact.max()


def test_the_session_starts_and_ends_at_silence():
    plan = one_step_plan(RATE, [Event("tick", 0, RATE)])
    ones = np.ones((RATE, 2), np.float32)
    placed = [Placed(0, RATE, 1.0, np.zeros(1, np.float32), lambda: ones)]
    out = np.concatenate(list(mix(plan, placed, None, None, chunk=RATE // 3)))
    assert out[0, 0] == 0.0 and out[-1, 0] == 0.0
    assert np.max(np.abs(np.diff(out[:, 0]))) < 0.01


def test_mono_mix_is_the_downmix():
    plan = one_step_plan(RATE, [])
    pair = np.array([[0.2, 0.6]] * 50, np.float32)
    placed = [Placed(100, 50, 1.0, np.zeros(1, np.float32), lambda: pair)]
    stereo = np.concatenate(list(mix(plan, placed, None, None)))
    mono = np.concatenate(list(mix(plan, placed, None, None, channels=1)))
    assert mono.shape == (RATE, 1)
    assert np.allclose(mono[:, 0], stereo.mean(axis=1))


# --- the MP3 -------------------------------------------------------------------------------------


def test_mp3_has_an_exact_info_header_and_exact_length(tmp_path):
    samples = np.repeat(tone(2.5), 2, axis=1)
    path = write_mp3(iter([samples[:RATE], samples[RATE:]]), tmp_path / "x.mp3", TAGS)
    header = read_header(path)
    assert header.tag == "Info" and header.sample_rate == RATE and header.channels == 2 and header.bitrate == 128
    assert header.delay == 576  # LAME's encoder delay
    assert 0 <= header.padding < SAMPLES_PER_FRAME
    assert header.samples == len(samples)
    assert header.frames == count_audio_frames(path)
    assert len(decode(path)) == len(samples)  # a gapless decoder returns exactly what went in


def count_audio_frames(path) -> int:
    """Walk the MPEG frames after the Info frame (128 kbit/s CBR at 44.1 kHz)."""
    from voiceguide.export.probe import _after_id3, _first_frame

    data = path.read_bytes()
    pos = _first_frame(data, _after_id3(data))
    frames = -1  # the Info frame is not an audio frame
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        bitrate = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)[data[pos + 2] >> 4]
        pos += 144_000 * bitrate // RATE + ((data[pos + 2] >> 1) & 1)
        frames += 1
    return frames


def test_the_decoded_level_is_what_went_in(tmp_path):
    samples = np.repeat(tone(3.0, 440, amp=0.2), 2, axis=1)
    gain = np.float32(10 ** (-codec_gain() / 20))
    path = write_mp3(iter([samples * gain]), tmp_path / "x.mp3", TAGS)
    assert integrated(decode(path)) == pytest.approx(integrated(samples), abs=0.05)


def test_codec_gain_is_lames_own_scaling():
    assert codec_gain(Mp3Settings(bitrate=128)) == pytest.approx(-0.446, abs=0.05)
    assert codec_gain(Mp3Settings(bitrate=320)) == pytest.approx(0.0, abs=0.05)


def test_mono_output(tmp_path):
    path = write_mp3(iter([np.repeat(tone(1.0), 2, axis=1)]), tmp_path / "m.mp3", TAGS, Mp3Settings(channels=1))
    assert read_header(path).channels == 1


def test_lyrics_go_into_a_sidecar_lrc(tmp_path):
    tags = Tags("T", "A", "B", "G", "D", lyrics=(Lyric(1500, "Breathe in."), Lyric(61_234, "And out.")))
    path = write_mp3(iter([np.zeros((RATE, 2), np.float32)]), tmp_path / "s.mp3", tags)
    assert lrc_path(path).read_text(encoding="utf-8").splitlines()[-2:] == ["[00:01.50]Breathe in.",
                                                                          "[01:01.23]And out."]
    write_mp3(iter([np.zeros((RATE, 2), np.float32)]), path, TAGS)  # no lyrics now: no stale sidecar
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.mp3"]


def test_a_failed_export_leaves_the_old_files_and_no_partial(tmp_path):
    target = tmp_path / "x.mp3"
    target.write_bytes(b"the old session")
    lrc_path(target).write_text("old lyrics")

    def chunks():
        yield np.zeros((RATE, 2), np.float32)
        raise KeyboardInterrupt

    tags = Tags("T", "A", "B", "G", "D", lyrics=(Lyric(0, "Hello."),))
    with pytest.raises(KeyboardInterrupt):
        write_mp3(chunks(), target, tags)
    assert target.read_bytes() == b"the old session"
    assert lrc_path(target).read_text() == "old lyrics"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.lrc", "x.mp3"]


def test_an_encoder_failure_is_reported_with_ffmpegs_message(tmp_path, monkeypatch):
    from voiceguide.core.errors import AudioError
    from voiceguide.export import mp3 as export

    monkeypatch.setattr(export, "ffmpeg_path", lambda: "false")
    with pytest.raises(AudioError, match="could not encode"):
        write_mp3(iter([np.zeros((RATE, 2), np.float32)] * 3), tmp_path / "x.mp3", TAGS)
    assert list(tmp_path.iterdir()) == []


def test_the_finished_files_get_the_usual_permissions(tmp_path):
    tags = Tags("T", "A", "B", "G", "D", lyrics=(Lyric(0, "Hello."),))
    path = write_mp3(iter([np.zeros((RATE, 2), np.float32)]), tmp_path / "p.mp3", tags)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert lrc_path(path).stat().st_mode & 0o777 == 0o666 & ~mask
