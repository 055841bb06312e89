"""Breath tones, the chime before the words, and the bed at the end: rendered with the fake voice,
decoded from the MP3 and measured against the plan, as a listener with eyes closed would hear them."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import numpy as np
import pytest
from locations import ROOT

from voiceguide import render as lib
from voiceguide.core.audio import RATE, decode_file
from voiceguide.core.loudness import integrated
from voiceguide.voice.cache import NarrationCache

ROUTINE = """\
title: Cues
description: Breath tones, chimes and the bed's end, for the tests.
voice: {{engine: fake, rate: 160}}
background: {{bed: {bed}, level: -24, duck: 10, fade_in: 2s, fade_out: 4s}}
sounds: {sounds}
intro: Sit comfortably and let your shoulders drop.
steps:
  - title: Slow breaths
    say: Breathe in as the tone rises, and out as it falls.
    breath: {{inhale: 4, hold: 2, exhale: 6, hold_out: 1, cycles: 2{hold_tone}}}
  - title: Quick breaths
    say: Now a little quicker.
    breath: {{inhale: 2, exhale: 3, cycles: 2}}
  - title: Jaw
    say: Sweep along the jaw.
    duration: 12s
    strokes: 4
    sides: [left, right]
outro: Rest your hands. Well done.
"""

TONES = ("inhale", "exhale")
BAND = (300.0, 470.0)
"""Hz: where the breath tones move (a fourth, 330 to 440 Hz), with a little room."""
WINDOW = RATE // 10
"""Samples per short-term measurement: 100 ms."""
BED_HZ = 5000.0
"""The tone bed's pitch: far above everything else, so its level can be read under the voice."""


def write_tone(path, seconds=5.0, amp=0.3):
    t = np.arange(int(seconds * RATE)) / RATE
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.rint(amp * np.sin(2 * np.pi * BED_HZ * t) * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("cues")
    write_tone(root / "tone.wav")
    return root


@pytest.fixture(scope="module")
def render(folder):
    """Render the routine with these settings (each once), decoded: ``(result, samples)``."""
    made = {}

    def render(bed="noise", tones=True, hold_tone=None):
        key = (bed, tones, hold_tone)
        if key not in made:
            name = "-".join(str(k) for k in key)
            sounds = "{}" if tones else "{inhale: none, exhale: none}"
            tone = f", hold_tone: {hold_tone}" if hold_tone else ""
            path = folder / f"{name}.yaml"
            path.write_text(ROUTINE.format(bed=bed, sounds=sounds, hold_tone=tone), encoding="utf-8")
            result = lib.render(lib.load(path), folder / name, cache=NarrationCache(folder / "cache"))
            made[key] = result, decode_file(result.path)
        return made[key]

    return render


def phases(plan, *kinds):
    return [e for e in plan.events() if e.kind in kinds]


def band_energy(audio, start, end, band=BAND):
    """Energy in ``band`` of each 100 ms window of ``audio[start:end]`` (Hann windowed)."""
    mono = audio[start:end].mean(axis=1).astype(np.float64)
    frames = mono[: len(mono) // WINDOW * WINDOW].reshape(-1, WINDOW) * np.hanning(WINDOW)
    spectrum = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    f = np.fft.rfftfreq(WINDOW, 1.0 / RATE)
    return spectrum[:, (f >= band[0]) & (f <= band[1])].sum(axis=1)


def peak_hz(audio, start, end):
    """The strongest pitch in the tones' band of each 100 ms window (zero-padded for resolution)."""
    mono = audio[start:end].mean(axis=1).astype(np.float64)
    frames = mono[: len(mono) // WINDOW * WINDOW].reshape(-1, WINDOW) * np.hanning(WINDOW)
    size = 8 * WINDOW
    spectrum = np.abs(np.fft.rfft(frames, size, axis=1))
    f = np.fft.rfftfreq(size, 1.0 / RATE)
    inside = (f >= 250.0) & (f <= 500.0)
    return f[inside][np.argmax(spectrum[:, inside], axis=1)]


def voice_loudness(result, audio):
    return float(np.mean([integrated(audio[e.start:e.end]) for e in result.plan.speech()]))


def lock_in(audio, start, end, hz=BED_HZ):
    """The amplitude of a sine at ``hz`` in ``audio[start:end]``."""
    x = audio[start:end].mean(axis=1).astype(np.float64)
    t = np.arange(start, end) / RATE
    return 2 * abs(np.mean(x * np.exp(-2j * np.pi * hz * t)))


# --- breath tones --------------------------------------------------------------------------------


@pytest.mark.parametrize("bed", ["noise", "drone"])
def test_breath_tones_are_heard_above_the_bed_through_each_inhale_and_exhale(render, bed):
    with_tones, heard = render(bed)
    without, bed_alone = render(bed, tones=False)
    assert with_tones.plan.to_json()["steps"] == without.plan.to_json()["steps"]
    scale = 10.0 ** ((with_tones.report.gain_db - without.report.gain_db) / 10.0)  # the same bed, mastered
    for phase in phases(with_tones.plan, *TONES):
        both = band_energy(heard, phase.start, phase.end)
        under = band_energy(bed_alone, phase.start, phase.end) * scale
        tone = both - under
        audible = np.mean(tone >= 2.0 * under)  # the tone at least 3 dB above the bed in its band
        assert audible >= 0.8, (bed, phase.kind, phase.start / RATE, audible)


def test_the_inhale_tone_rises_and_the_exhale_tone_falls_through_the_whole_phase(render):
    result, audio = render("none")
    for phase in phases(result.plan, *TONES):
        pitch = peak_hz(audio, phase.start, phase.end)
        quarters = [np.median(q) for q in np.array_split(pitch[1:-1], 4)]
        steps = np.diff(quarters)
        assert np.all(steps > 0) if phase.kind == "inhale" else np.all(steps < 0), (phase.kind, quarters)
        assert abs(quarters[-1] - quarters[0]) >= 40.0  # most of a fourth, not a wobble


def test_holds_are_silent_by_default_and_steady_when_asked(render):
    silent, quiet = render("none")
    steady, held = render("none", hold_tone="steady")
    for (hold, audio, on) in [(h, quiet, False) for h in phases(silent.plan, "hold")] + \
                             [(h, held, True) for h in phases(steady.plan, "hold")]:
        before = band_energy(audio, hold.start - RATE, hold.start).mean()  # the tone before the hold
        inside = band_energy(audio, hold.start + WINDOW * 3, hold.end - WINDOW * 3)
        if on:
            assert np.all(inside >= 0.5 * before), hold.start / RATE  # sounding all through it
            pitch = peak_hz(audio, hold.start + WINDOW, hold.end - WINDOW)
            assert pitch.max() - pitch.min() <= 4.0  # still
        else:
            assert np.all(inside <= 1e-4 * before), hold.start / RATE  # 40 dB down: gone


def test_breath_tones_join_without_a_click_or_a_dip(render):
    """Across inhale -> exhale (no hold) and inhale -> steady hold -> exhale, the tone goes on: its
    level in 10 ms windows moves smoothly and no sample jumps more than the tone itself moves."""
    result, audio = render("none", hold_tone="steady")
    mono = audio.mean(axis=1).astype(np.float64)
    breaths = phases(result.plan, "inhale", "hold", "exhale")
    joins = [b.start for a, b in zip(breaths, breaths[1:]) if a.end == b.start]
    assert len(joins) >= 8
    short = RATE // 100
    for at in joins:
        around = mono[at - 5 * short: at + 5 * short]
        rms = np.sqrt((around.reshape(10, short) ** 2).mean(axis=1))
        assert rms.min() >= 0.8 * rms.max(), at / RATE  # no dip, no bump (within 2 dB)
        amplitude = np.sqrt(2.0) * rms.max()
        fastest = amplitude * 2.0 * np.pi * 480.0 / RATE * 1.3  # a sine near 440 Hz, and its octave
        assert np.abs(np.diff(around)).max() <= fastest, at / RATE


# --- the chime before the words ------------------------------------------------------------------


def test_words_start_when_the_chime_or_switch_bell_has_faded_25_lu_under_the_voice(render):
    result, audio = render("none")
    voice = voice_loudness(result, audio)
    checked = 0
    for step in result.plan.steps:
        opening = [e for e in step.events if e.kind in ("chime", "switch")]
        words = [e for e in step.events if e.kind == "speech"]
        if not opening or not words:
            continue
        first = words[0].start
        window = audio[first - int(0.4 * RATE): first]
        assert voice - integrated(window) >= 25.0, (step.title, voice - integrated(window))
        checked += 1
    assert checked == 5  # the two breath steps, both sides of the jaw (a chime, then the switch bell), the outro


# --- the bed at the end --------------------------------------------------------------------------


def test_the_bed_fades_out_from_its_level_under_the_last_words_and_never_swells(render):
    result, audio = render("tone.wav")
    last = result.plan.speech()[-1]
    under = lock_in(audio, last.start + RATE // 10, last.end - RATE // 10)
    after = [lock_in(audio, t, t + WINDOW) for t in range(last.end, result.plan.length - WINDOW, WINDOW // 2)]
    assert max(after) <= under * 10.0 ** (0.2 / 20.0)  # never above it (0.2 dB for the codec)
    assert after[-1] <= 0.1 * under  # and faded out


# --- the starter library -------------------------------------------------------------------------

SCRIPTS = ROOT / "scripts_yaml"
STARTERS = [p.stem for p in lib.routine_files(SCRIPTS)]


@pytest.mark.parametrize("name", STARTERS)
def test_starter_routines_breath_tones_over_the_bed_and_quiet_before_the_words(name, tmp_path):
    """Each starter routine twice, with the fake voice: as it is, and without its breath tones and
    step chimes. The difference is those sounds alone (the voice and the bed cancel), measured in
    the phases and lead-ins, against the second render's bed and the first's voice."""
    routine = lib.load(SCRIPTS / f"{name}.yaml", engine="fake")
    quiet = {kind: dataclasses.replace(sound, sound="none") for kind, sound in routine.sounds.items()
             if kind in ("inhale", "exhale", "chime", "switch")}
    cache = NarrationCache(tmp_path / "cache")
    full = lib.render(routine, tmp_path / "full", cache=cache)
    rest = lib.render(dataclasses.replace(routine, sounds={**routine.sounds, **quiet}), tmp_path / "rest", cache=cache)
    heard, others = decode_file(full.path), decode_file(rest.path) * np.float32(
        10.0 ** ((full.report.gain_db - rest.report.gain_db) / 20.0))
    speech = full.plan.speech()
    measured = phases(full.plan, *TONES)
    checked = 0
    for phase in measured:
        starts = np.arange(phase.start, phase.end - WINDOW + 1, WINDOW)
        free = np.array([not any(e.start < t + WINDOW and t < e.end for e in speech) for t in starts])
        if free.mean() < 0.5:  # mostly under words (a spoken halfway cue): too little to measure
            continue
        checked += 1
        under = band_energy(others, phase.start, phase.end)[free]
        tone = band_energy(heard, phase.start, phase.end)[free] - under
        assert np.mean(tone >= 2.0 * under) >= 0.8, (phase.kind, phase.start / RATE)
    assert checked >= 0.8 * len(measured)
    voice = voice_loudness(full, heard)
    sounds_alone = heard - others
    opened = [s for s in full.plan.steps if any(e.kind in ("chime", "switch") for e in s.events)
              and any(e.kind == "speech" for e in s.events)]
    assert opened
    for step in opened:
        first = next(e for e in step.events if e.kind == "speech").start
        assert voice - integrated(sounds_alone[first - int(0.4 * RATE): first]) >= 25.0, step.title
