"""Mixer and export, checked as a listener would: decode and measure."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from voiceguide.audio import RATE, ffmpeg_path, level_db
from voiceguide.errors import Where
from voiceguide.export import Mp3Settings, Tags, write_mp3
from voiceguide.mix import REFERENCE_DB, BedGain, Placed, mix, place_events
from voiceguide.model import Background, Sound
from voiceguide.plan import Event, Plan, PlannedStep
from voiceguide.sounds import make_bed

TAGS = Tags("A title", "An artist", "An album", "Meditation", "A description.")


def decode(path) -> np.ndarray:
    raw = subprocess.run([ffmpeg_path(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "2",
                          "-ar", str(RATE), "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, "<f4").reshape(-1, 2)


def one_step_plan(length, events):
    return Plan("t", "T", length, (PlannedStep("S", "step", 0, length, tuple(events), Where("t", 1, 1)),))


def tone(seconds, freq=220.0, amp=0.3):
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)[:, None]


def test_mix_places_clips_exactly_across_chunk_boundaries():
    length = 3 * RATE
    clip = np.ones((1000, 1), np.float32)
    placed = [Placed(RATE - 500, clip, 0.5), Placed(2 * RATE, clip, 0.25)]
    out = np.concatenate(list(mix(one_step_plan(length, []), placed, None, None, chunk=RATE)))
    assert out.shape == (length, 2)
    assert np.flatnonzero(out[:, 0]).tolist() == list(range(RATE - 500, RATE + 500)) + list(
        range(2 * RATE, 2 * RATE + 1000))
    assert out[RATE - 500, 0] == 0.5 and out[2 * RATE, 1] == 0.25


def test_voice_and_sounds_are_leveled_relative_to_the_voice():
    speech = tone(1.0, amp=0.05)
    tick = tone(0.2, 1500, amp=0.9)
    plan = one_step_plan(3 * RATE, [Event("speech", 0, RATE, "x"), Event("tick", 2 * RATE, 3 * RATE)])
    placed = place_events(plan, {"x": speech}, {"tick": (tick, Sound("tick", -16.0))})
    out = np.concatenate(list(mix(plan, placed, None, None)))
    assert level_db(out[:RATE]) == pytest.approx(REFERENCE_DB, abs=0.2)
    assert level_db(out[2 * RATE:]) == pytest.approx(REFERENCE_DB - 16, abs=0.2)


def test_bed_ducks_under_speech_and_fades_in_and_out():
    length = 30 * RATE
    speech = [Event("speech", 10 * RATE, 14 * RATE, "x")]
    plan = one_step_plan(length, speech)
    background = Background(level=-20, duck=12, fade_in=2, fade_out=5)
    bed = make_bed("noise")
    gain = BedGain(plan, background, level_db(bed.loop))
    out = np.concatenate(list(mix(plan, [], bed, gain)))
    free = level_db(out[5 * RATE:9 * RATE])
    ducked = level_db(out[int(10.2 * RATE):int(13.8 * RATE)])
    assert free == pytest.approx(REFERENCE_DB - 20, abs=1.0)
    assert free - ducked == pytest.approx(12, abs=1.0)
    assert np.abs(out[:100]).max() < 1e-3  # fades in from silence
    assert np.abs(out[-100:]).max() < 1e-3  # and out to silence
    assert level_db(out[int(10.5 * RATE) - int(0.15 * RATE) - 2000:int(10.5 * RATE)]) < free


def test_mp3_has_exact_length_info_header_and_tags(tmp_path):
    samples = np.repeat(tone(2.5), 2, axis=1)
    path = write_mp3(iter([samples[:RATE], samples[RATE:]]), tmp_path / "x.mp3", TAGS)
    decoded = decode(path)
    assert abs(len(decoded) - len(samples)) <= int(0.02 * RATE)
    head = path.read_bytes()
    assert head[:3] == b"ID3" and b"Info" in head[:4000]
    from mutagen.id3 import ID3

    tags = ID3(path)
    assert tags.version[:2] == (2, 3)
    assert tags["TIT2"].text == ["A title"] and tags["TPE1"].text == ["An artist"]
    assert tags["TALB"].text == ["An album"] and tags["TCON"].text == ["Meditation"]
    assert tags.getall("COMM")[0].text == ["A description."]


def test_mono_output(tmp_path):
    path = write_mp3(iter([np.repeat(tone(1.0), 2, axis=1)]), tmp_path / "m.mp3", TAGS, Mp3Settings(channels=1))
    probe = subprocess.run([ffmpeg_path(), "-i", str(path)], capture_output=True, text=True).stderr
    assert "mono" in probe


def test_a_failed_export_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "x.mp3"
    target.write_bytes(b"the old session")

    def chunks():
        yield np.zeros((RATE, 2), np.float32)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_mp3(chunks(), target, TAGS)
    assert target.read_bytes() == b"the old session"
    assert [p.name for p in tmp_path.iterdir()] == ["x.mp3"]


def test_the_finished_file_gets_the_usual_permissions(tmp_path):
    import os

    path = write_mp3(iter([np.zeros((RATE, 2), np.float32)]), tmp_path / "p.mp3", TAGS)
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
