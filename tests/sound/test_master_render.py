"""A rendered session, decoded and measured as a listener (and a loudness meter) would: loudness and
true peak, an independent check by ffmpeg's ebur128, ducking depth and timing, levels, event times,
the Info header, chapters, lyrics, cover, and byte-identical renders. The fake voice keeps it fast."""

from __future__ import annotations

import json
import re
import subprocess
import wave

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide import render as lib
from voiceguide.cli import main
from voiceguide.core.audio import RATE, decode_file, ffmpeg_path
from voiceguide.core.loudness import integrated, measure
from voiceguide.export.mp3 import Mp3Settings, lrc_path
from voiceguide.export.probe import measure_file, read_header
from voiceguide.export.tags import chapters, lyrics, read_tags
from voiceguide.sound.master import Mastering
from voiceguide.sound.sounds import load_sound
from voiceguide.voice.cache import NarrationCache

BED_HZ = 5000.0
"""The test bed is a pure tone far above the fake voice's hum, so its level can be read under speech."""

ROUTINE = """\
title: Test session
description: A short session for the tests.
author: Tester
album: Test library
voice: {engine: fake, rate: 160}
background: {bed: tone.wav, level: -24, duck: 10, fade_in: 2s, fade_out: 3s}
intro: Sit comfortably and let your shoulders drop.
steps:
  - title: Circles
    say: Make slow circles on your cheeks, gently.
    duration: 20s
    strokes: 6
  - pause: 2s
  - title: Breathe
    say: Breathe in as the tone rises, and out as it falls.
    breath: {inhale: 3, exhale: 4, cycles: 2}
outro: Rest your hands. Well done.
"""


def write_tone(path, seconds=5.0, freq=BED_HZ, amp=0.3):
    t = np.arange(int(seconds * RATE)) / RATE
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.rint(amp * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("session")
    write_tone(root / "tone.wav")
    (root / "session.yaml").write_text(ROUTINE, encoding="utf-8")
    return root


def render_into(folder, out, **options):
    routine = lib.load(folder / "session.yaml")
    return lib.render(routine, folder / out, cache=NarrationCache(folder / "cache"), **options)


@pytest.fixture(scope="module")
def session(folder):
    result = render_into(folder, "out")
    return result, decode_file(result.path)


def mono(audio):
    return audio.mean(axis=1)


def lag_of(signal, template, planned, search):
    """Where ``template`` best matches ``signal`` near ``planned``, as an offset in samples."""
    lo = max(0, planned - search)
    window = signal[lo: planned + search + len(template)]
    size = 1 << int(np.ceil(np.log2(len(window) + len(template))))
    corr = np.fft.irfft(np.fft.rfft(window, size) * np.conj(np.fft.rfft(template, size)), size)
    return int(np.argmax(corr[: len(window) - len(template) + 1])) + lo - planned


def bed_amplitude(audio, start, end):
    """The amplitude of the bed's tone in ``audio[start:end]`` (a lock-in at its frequency)."""
    x = mono(audio[start:end]).astype(np.float64)
    t = np.arange(start, end) / RATE
    return 2 * abs(np.mean(x * np.exp(-2j * np.pi * BED_HZ * t)))


def seconds(s):
    return int(round(s * RATE))


# --- sound ---------------------------------------------------------------------------------------


def test_loudness_is_on_target_and_true_peak_under_the_ceiling(session):
    result, _ = session
    found = measure_file(result.path)
    assert found.integrated == pytest.approx(-16.0, abs=0.2)
    assert found.true_peak <= -1.0
    assert result.report.output.integrated + result.report.codec_gain_db == pytest.approx(-16.0, abs=0.05)


def test_ffmpeg_ebur128_agrees_with_our_meter(session):
    result, _ = session
    proc = subprocess.run([ffmpeg_path(), "-nostats", "-i", str(result.path), "-af", "ebur128=peak=true",
                           "-f", "null", "-"], capture_output=True, text=True)
    summary = proc.stderr[proc.stderr.rfind("Summary"):]
    theirs = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    their_peak = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    ours = measure_file(result.path)
    assert abs(ours.integrated - theirs) <= 0.5
    assert abs(ours.integrated - theirs) <= 0.15  # in fact much closer
    assert their_peak <= -1.0 and abs(ours.true_peak - their_peak) <= 0.5


def test_every_narration_plays_at_one_loudness(session):
    result, audio = session
    levels = [integrated(audio[e.start:e.end]) for e in result.plan.speech()]
    assert max(levels) - min(levels) <= 1.0, levels


def test_the_bed_ducks_20_db_under_the_voice_on_time(session):
    result, audio = session
    speech = result.plan.speech()
    first = speech[1]  # "Circles": bed up before, down during
    up = bed_amplitude(audio, first.start - seconds(1.0), first.start - seconds(0.25))
    down = bed_amplitude(audio, first.start + seconds(0.1), first.end - seconds(0.1))
    assert 20 * np.log10(up / down) == pytest.approx(10.0, abs=0.5)  # the routine's duck
    # down ~150 ms before the words, back up ~500 ms after them
    assert bed_amplitude(audio, first.start - seconds(0.02), first.start + seconds(0.02)) < 0.5 * up
    assert bed_amplitude(audio, first.start - seconds(0.25), first.start - seconds(0.17)) > 0.9 * up
    assert bed_amplitude(audio, first.end + seconds(0.6), first.end + seconds(0.9)) == pytest.approx(up, rel=0.06)
    # WCAG 1.4.7: the bed under the words at least 20 dB below them
    t = np.arange(RATE) / RATE
    bed_under = measure(np.repeat((down * np.sin(2 * np.pi * BED_HZ * t))[:, None], 2, axis=1)).integrated
    assert integrated(audio[first.start:first.end]) - bed_under >= 20.0


def test_ticks_and_chimes_sit_clearly_below_the_voice(session):
    result, audio = session
    voice = np.mean([integrated(audio[e.start:e.end]) for e in result.plan.speech()])
    events = list(result.plan.events())
    for kind, below in (("tick", 12.0), ("chime", 4.0)):  # momentary, at the strike
        for e in (e for e in events if e.kind == kind):
            window = audio[e.start: e.start + seconds(0.4)]
            assert voice - integrated(window) >= below, (kind, e.start)


def test_event_times_in_the_file_match_the_plan_within_5_ms(session, folder):
    result, audio = session
    signal = mono(audio)
    clips = lib.narrate(result.routine, NarrationCache(folder / "cache"))
    for event in result.plan.speech():
        opening = clips[event.text].samples()[: 3 * RATE, 0]  # words and the gaps between them: one best match
        assert abs(lag_of(signal, opening, event.start, RATE // 10)) <= seconds(0.005), event.text
    tick = load_sound("tick").mean(axis=1)[: seconds(0.1)]
    ticks = [e for e in result.plan.events() if e.kind == "tick"]
    assert len(ticks) == 6
    for e in ticks:
        assert abs(lag_of(signal, tick, e.start, seconds(0.05))) <= seconds(0.005)


def test_no_clicks_anywhere(session):
    _, audio = session
    jumps = np.abs(np.diff(mono(audio)))
    assert jumps.max() < 0.1  # nothing in this session moves faster; a click would
    assert np.abs(audio[: seconds(0.01)]).max() < 1e-3 and np.abs(audio[-seconds(0.01):]).max() < 1e-3


# --- the file ------------------------------------------------------------------------------------


def test_the_info_header_holds_the_exact_length(session):
    result, audio = session
    header = read_header(result.path)
    assert header.tag == "Info" and header.delay == 576
    assert header.samples == result.plan.length == len(audio)


def test_chapters_are_the_steps_and_start_where_their_chimes_ring(session):
    result, audio = session
    tags = read_tags(result.path)
    assert [c.title for c in tags.chapters] == ["Introduction", "Circles", "Breathe", "Closing"]
    assert [(c.title, c.start_ms, c.end_ms) for c in tags.chapters] == [
        (c.title, c.start_ms, c.end_ms) for c in chapters(result.plan)]
    cover = tags.chapters[0].image
    assert cover is not None and all(c.image == cover for c in tags.chapters)  # no zones: each the cover
    assert tags.chapters[0].start_ms == 0 and tags.chapters[-1].end_ms == round(result.plan.length * 1000 / RATE)
    assert all(a.end_ms == b.start_ms for a, b in zip(tags.chapters, tags.chapters[1:]))
    chime = load_sound("chime").mean(axis=1)[: seconds(0.2)]
    for chapter in tags.chapters[1:]:
        planned = seconds(chapter.start_ms / 1000)
        assert abs(lag_of(mono(audio), chime, planned, seconds(0.05))) <= seconds(0.005), chapter.title


def test_lyrics_are_timed_to_the_narration(session):
    result, _ = session
    tags = read_tags(result.path)
    assert tags.lyrics == lyrics(result.plan)
    assert [line.time_ms for line in tags.lyrics] == [round(e.start * 1000 / RATE) for e in result.plan.speech()]
    from mutagen.id3 import ID3

    assert ID3(result.path).getall("USLT")[0].text == "\n".join(e.text for e in result.plan.speech())
    lines = lrc_path(result.path).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[ti:Test session]"
    timed = [re.fullmatch(r"\[(\d\d):(\d\d\.\d\d)\](.*)", line) for line in lines[3:]]
    assert [m.group(3) for m in timed] == [e.text for e in result.plan.speech()]
    for m, e in zip(timed, result.plan.speech()):
        assert abs(int(m.group(1)) * 60 + float(m.group(2)) - e.start / RATE) <= 0.006


def test_tags_and_the_default_cover(session):
    result, _ = session
    tags = read_tags(result.path)
    assert (tags.title, tags.artist, tags.album) == ("Test session", "Tester", "Test library")
    assert tags.genre == "Meditation"
    assert tags.description == "A short session for the tests." and tags.year is None
    assert tags.cover.mime == "image/png"


def test_the_same_routine_renders_to_the_same_bytes(session, folder):
    first, _ = session
    again = render_into(folder, "again")
    assert again.path.read_bytes() == first.path.read_bytes()
    assert lrc_path(again.path).read_bytes() == lrc_path(first.path).read_bytes()


def test_mono_sessions_are_mastered_to_minus_19(folder):
    result = render_into(folder, "mono", mp3=Mp3Settings(channels=1))
    found = measure_file(result.path)
    assert read_header(result.path).channels == 1
    assert found.integrated == pytest.approx(-19.0, abs=0.2)
    assert found.true_peak <= -1.0


def test_targets_cover_and_year_can_be_chosen(folder, tmp_path):
    from PIL import Image

    image = tmp_path / "cover.jpg"
    Image.new("RGB", (300, 300), (40, 90, 80)).save(image)
    result = render_into(folder, "custom", mastering=Mastering(loudness=-19.0, true_peak=-2.0), cover=image,
                         year=2026)
    found = measure_file(result.path)
    assert found.integrated == pytest.approx(-19.0, abs=0.2)
    assert found.true_peak <= -2.0
    tags = read_tags(result.path)
    assert tags.cover.data == image.read_bytes() and tags.year == 2026


def test_inspect_prints_what_a_player_and_a_meter_see(session):
    result, _ = session
    out = CliRunner().invoke(main, ["inspect", str(result.path)])
    assert out.exit_code == 0, out.output
    assert "Test session" in out.output and "LUFS integrated" in out.output and "dBTP" in out.output
    assert "chapters (4)" in out.output and "Circles" in out.output
    data = json.loads(CliRunner().invoke(main, ["inspect", "--json", str(result.path)]).output)
    assert data["title"] == "Test session" and len(data["chapters"]) == 4
    assert float(data["loudness"].split()[0]) == pytest.approx(-16.0, abs=0.2)


def test_inspect_of_something_that_is_not_an_mp3(tmp_path):
    path = tmp_path / "x.mp3"
    path.write_bytes(b"not audio at all" * 100)
    out = CliRunner().invoke(main, ["inspect", str(path)])
    assert out.exit_code == 1
    assert out.stderr.startswith("Error: ") and "x.mp3" in out.stderr


def test_the_render_command_takes_loudness_peak_cover_and_year(folder, tmp_path):
    from PIL import Image

    image = tmp_path / "cover.png"
    Image.new("RGB", (200, 200), (40, 90, 80)).save(image)
    out = CliRunner().invoke(main, ["render", str(folder / "session.yaml"), "--out", str(tmp_path / "cli"),
                                    "--loudness", "-18", "--true-peak", "-3", "--cover", str(image),
                                    "--year", "2030", "--cache-dir", str(folder / "cache")])
    assert out.exit_code == 0, out.output
    path = tmp_path / "cli" / "session.mp3"
    assert out.stdout.strip() == str(path)
    found = measure_file(path)
    assert found.integrated == pytest.approx(-18.0, abs=0.2) and found.true_peak <= -3.0
    tags = read_tags(path)
    assert tags.year == 2030 and tags.cover.data == image.read_bytes()
