"""The measuring helpers of ``listening.py``, on synthetic signals whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
from listening import (
    DECODER_DELAY,
    MARGIN,
    Word,
    align,
    band_level,
    band_levels,
    decode_aligned,
    judge,
    momentary_loudness,
    onset,
    recall,
    speech_windows,
    spelled,
    voiced_span,
    whisper_model,
    words,
    words_per_minute,
)

from voiceguide.core.audio import RATE
from voiceguide.export.mp3 import Mp3Settings, Tags, write_mp3
from voiceguide.export.probe import SAMPLES_PER_FRAME, Header, read_header
from voiceguide.plan.timeline import Event


def seconds(s: float) -> int:
    return round(s * RATE)


def tone(hz: float, length: int, amplitude: float = 1.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(length) / RATE)


def speechlike(length: int, level: float = 0.3) -> np.ndarray:
    """Noise in the speech band, with syllables (4 a second), starting within 10 ms; the same noise
    for the same length."""
    spectrum = np.fft.rfft(np.random.default_rng(length).standard_normal(length))
    freqs = np.fft.rfftfreq(length, 1 / RATE)
    spectrum[(freqs < 300) | (freqs > 3400)] = 0
    noise = np.fft.irfft(spectrum, length)
    t = np.arange(length) / RATE
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    attack = np.minimum(1.0, np.arange(length) / (0.01 * RATE))
    return level * noise / noise.std() * syllables * attack


def drone(length: int, amplitude: float) -> np.ndarray:
    """A bed like the starter routines': low tones."""
    return tone(110, length, amplitude) + tone(165, length, amplitude / 2)


def chime(length: int, amplitude: float) -> np.ndarray:
    """A bell: partials in the speech band (two of them beating), decaying over seconds."""
    t = np.arange(length) / RATE
    partials = tone(880, length) + 0.8 * tone(883, length) + 0.6 * tone(1320, length) + 0.3 * tone(2640, length)
    return amplitude * np.exp(-1.2 * t) * partials


def place(total: int, *parts: tuple[int, np.ndarray]) -> np.ndarray:
    out = np.zeros(total)
    for at, part in parts:
        out[at: at + len(part)] += part[: total - at]
    return out


# --- decoding on the plan's clock ---------------------------------------------------------------


def header(frames: int = 40, delay: int = 576, padding: int = 1000) -> Header:
    return Header(RATE, 1, 128, "Info", frames, "LAME3.100", delay, padding)


def test_a_decode_that_kept_the_encoder_delay_is_trimmed_by_the_info_header():
    h = header()
    decoded = np.zeros(h.frames * SAMPLES_PER_FRAME)
    decoded[h.delay + DECODER_DELAY] = 1.0  # the session's first sample
    aligned = align(decoded, h)
    assert len(aligned) == h.samples
    assert aligned[0] == 1.0 and aligned[1:].max() == 0.0


def test_a_trimmed_decode_is_left_as_it_is_at_any_rate():
    h = header()
    assert len(align(np.zeros(h.samples), h)) == h.samples
    at_16k = round(h.samples * 16_000 / RATE)
    assert len(align(np.zeros(at_16k), h, 16_000)) == at_16k


def test_a_decode_the_header_does_not_describe_is_refused():
    with pytest.raises(AssertionError, match="Info header"):
        align(np.zeros(header().samples + 300), header())


def test_a_click_comes_back_at_its_own_sample_from_an_encoded_mp3(tmp_path):
    session = np.zeros((seconds(3.0), 1), np.float32)
    clicks = [seconds(0.5), seconds(1.7543)]
    session[clicks] = 0.9
    path = write_mp3([session], tmp_path / "clicks.mp3", Tags("T", "A", "B", "G", "D"),
                     Mp3Settings(channels=1))
    assert read_header(path).delay > 0  # there is a delay to account for
    decoded = decode_aligned(path)
    assert len(decoded) == len(session)
    for click in clicks:
        near = decoded[click - 100: click + 100]
        assert int(np.argmax(np.abs(near))) - 100 in (-1, 0, 1)


# --- levels ---------------------------------------------------------------------------------------


def test_band_level_reads_a_sine_in_its_band_as_its_rms_and_ignores_what_is_outside():
    x = tone(1000, RATE, 0.5) + tone(100, RATE, 0.5)
    assert band_level(x, 0, RATE, 500, 2000) == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.05)
    assert band_level(x, 0, RATE, 3000, 8000) < -60
    assert band_level(np.zeros(RATE), 0, RATE, 500, 2000) == float("-inf")


def test_band_levels_follow_a_tone_frame_by_frame():
    x = place(RATE, (RATE // 2, tone(2000, RATE // 2, 0.1)))
    levels = band_levels(x, 0, RATE, 1500, 2500, frame=RATE // 10)
    assert len(levels) == 10
    assert all(level < -60 for level in levels[:4])  # the frame before the tone starts too
    assert levels[6:] == pytest.approx([20 * np.log10(0.1 / np.sqrt(2))] * 4, abs=0.1)


def test_momentary_loudness_of_a_full_scale_1khz_sine_is_minus_3_lufs_and_only_looks_back_400_ms():
    x = place(seconds(2.0), (seconds(1.0), tone(997, seconds(1.0))))
    assert momentary_loudness(x, seconds(2.0)) == pytest.approx(-3.01, abs=0.05)
    assert momentary_loudness(x, seconds(1.4) + 50) == pytest.approx(-3.01, abs=0.1)
    assert momentary_loudness(x, seconds(1.0)) < -100  # the 400 ms before the tone
    assert momentary_loudness(x, seconds(1.2)) == pytest.approx(-3.01 - 3.01, abs=0.2)  # half of it
    stereo = np.stack([x, x], axis=1)  # two channels, each counted: 3 dB louder
    assert momentary_loudness(stereo, seconds(2.0)) == pytest.approx(0.0, abs=0.05)


# --- speech ---------------------------------------------------------------------------------------


def test_the_voiced_span_is_where_the_speech_is_over_a_bed():
    total, start, end = seconds(6), seconds(1.5), seconds(4.25)
    x = place(total, (0, drone(total, 0.03)), (start, speechlike(end - start)))
    first, last = voiced_span(x, seconds(1.0), seconds(5.0))
    assert abs(first - start) <= seconds(0.01)
    assert abs(last - end) <= seconds(0.02)
    assert voiced_span(np.zeros(RATE), 0, RATE) == (0, 0)


def test_words_per_minute_counts_the_words_over_the_voiced_span_only():
    text = "Place your fingertips above your collarbones and breathe out slowly"  # 10 words
    total = seconds(6)
    x = place(total, (0, drone(total, 0.03)), (seconds(2.0), speechlike(seconds(3.0))))
    assert words_per_minute(text, x, seconds(1.0), seconds(5.5)) == pytest.approx(200, rel=0.01)


def test_words_are_normalised_for_comparison():
    assert words("Round 2 of 3. In-breath, 4-7-8!") == "round two of three in breath four seven eight".split()
    assert words("That’s it, you're ready.") == "that is it you are ready".split()
    assert words("Two strokes for each side") == words("to strokes four each side")  # the same sounds
    assert [spelled(n) for n in (0, 15, 40, 47, 100, 310, 2026)] == [
        "zero", "fifteen", "forty", "forty seven", "one hundred", "three hundred ten",
        "two thousand twenty six"]


def test_recall_counts_planned_words_heard_in_order_and_forgives_word_breaks():
    text = "Sweep your fingertips to your collarbones"
    assert recall(text, words("sweep your finger tips to your collar bones")) == 1.0
    assert recall(text, words("tweet your fingertips to your collarbones")) == pytest.approx(5 / 6)
    assert recall(text, words("collarbones your to fingertips your sweep")) == pytest.approx(3 / 6)  # your to your
    assert recall(text, []) == 0.0


def test_speech_windows_reach_a_margin_beyond_the_plan_but_never_into_other_speech():
    speech = [Event("speech", seconds(2), seconds(5), "a"), Event("speech", seconds(5.2), seconds(7), "b"),
              Event("speech", seconds(10), seconds(11), "c")]
    pad = seconds(MARGIN)
    assert speech_windows(speech) == [(seconds(2) - pad, seconds(5.2)), (seconds(5), seconds(7) + pad),
                                      (seconds(10) - pad, seconds(11) + pad)]


# --- judging a window: what the Whisper test checks, on synthetic sessions --------------------------

TEXT = "Rest your fingers on your chin and glide outward along the jawline"
OTHER = "Place your ring fingers at the inner ends of your eyebrows and press"


def session(clip_at: float, chime_at: float | None = 2.0, length: float = 3.0) -> np.ndarray:
    """8 s: a bed, a step chime still ringing 10 to 20 dB under the words, and one clip of speech
    ``length`` s long at ``clip_at``."""
    total = seconds(8)
    parts = [(0, drone(total, 0.02))] + ([(seconds(clip_at), speechlike(seconds(length)))] if length else [])
    if chime_at is not None:
        parts.append((seconds(chime_at), chime(seconds(3), 0.15)))
    return place(total, *parts)


def heard_as(text: str, start: float, length: float) -> list[Word]:
    """Words as Whisper reports them: evenly spread, the first one put at the window's start."""
    spoken = text.split()
    step = length / len(spoken)
    return [Word(w, start + i * step if i else start - 0.5, start + (i + 1) * step) for i, w in enumerate(spoken)]


def verdict(audio: np.ndarray, heard: list[Word], planned: float = 3.5, length: float = 3.0) -> str:
    event = Event("speech", seconds(planned), seconds(planned + length), TEXT)
    (window,) = speech_windows([event])
    return judge(event, heard, audio, window, RATE).problem(0.9, 0.150)


def test_a_clip_in_its_place_passes_even_under_a_ringing_chime():
    assert verdict(session(3.5), heard_as(TEXT, 3.5, 3.0)) == ""


@pytest.mark.parametrize("shift", [-0.3, 0.25, 0.6])
def test_a_shifted_clip_fails_though_every_word_is_heard(shift):
    audio = session(3.5 + shift)
    heard = [w for w in heard_as(TEXT, 3.5 + shift, 3.0) if w.start >= 3.0]  # what the window holds
    assert "off the plan" in verdict(audio, heard)


def test_swapped_clips_fail():
    assert "heard 0.33" in verdict(session(3.5), heard_as(OTHER, 3.5, 3.0))


def test_a_cut_clip_fails():
    cut = TEXT.split()[:9]
    assert "heard 0.75" in verdict(session(3.5, length=2.0), heard_as(" ".join(cut), 3.5, 2.0))


def test_silence_where_speech_is_planned_fails():
    assert "heard 0.00" in verdict(session(3.5, length=0.0), [])


def test_the_onset_is_found_after_a_chime_and_over_a_bed():
    audio = session(3.5)
    at = onset(audio, (seconds(3.0), seconds(7.0)), until=seconds(3.8))
    assert 0 <= at - seconds(3.5) <= seconds(0.02)


@pytest.mark.piper
def test_whisper_loads_from_the_installed_wheel_with_no_hub(monkeypatch):
    import huggingface_hub

    def no_hub(*args, **kwargs):
        raise AssertionError("the Whisper listener reached for the hub")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_hub)
    model = whisper_model()
    segments, info = model.transcribe(np.zeros(16_000, np.float32), language="en")
    assert info.duration == pytest.approx(1.0)
    assert " ".join(s.text for s in segments).strip() == ""
