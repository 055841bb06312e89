"""Issue 18, part 8: the benchmark shows why a step failed (it once crashed and hid it)."""

from __future__ import annotations

import pytest

from voiceguide import bench
from voiceguide.library import build as library


def test_a_failing_child_stops_the_benchmark_with_its_own_error():
    with pytest.raises(SystemExit) as stopped:
        bench.child("import sys\nprint('working', file=sys.stderr)\nraise ValueError('the mix broke')", "ten.yaml")
    message = str(stopped.value.code)
    assert message.startswith("benchmark step failed (exit 1): ten.yaml\n")
    assert "working" in message and message.endswith("ValueError: the mix broke")


def test_a_failing_library_build_stops_the_benchmark_with_each_routines_reason(tmp_path):
    scripts = tmp_path / "library"
    scripts.mkdir()
    (scripts / "r0.yaml").write_text(bench.routine_yaml(0.5, engine="fake"))
    (scripts / "r1.yaml").write_text(bench.routine_yaml(0.5, engine="espeak"))
    settings = library.BuildSettings(scripts_dir=scripts, out_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    with pytest.raises(SystemExit) as stopped:
        bench.build_library(settings, jobs=1)
    message = str(stopped.value.code)
    assert message.startswith("benchmark step failed: a library build failed\nr1: ")
    assert "engine" in message and "espeak" in message


def test_an_encoder_failure_shows_ffmpegs_message(tmp_path):
    not_audio = tmp_path / "ten.mp3"
    not_audio.write_bytes(b"not an mp3 at all")
    with pytest.raises(SystemExit) as stopped:
        bench.encode_floor(not_audio, tmp_path)
    message = str(stopped.value.code)
    assert message.startswith(f"benchmark step failed: ffmpeg could not decode {not_audio} (exit ")
    assert len(message.splitlines()) > 1  # ffmpeg's own words follow


@pytest.mark.parametrize("workers, threads", [(None, None), (1, None), (1, 1)])
def test_synthesis_alone_speaks_every_phrase_into_the_cache(tmp_path, workers, threads):
    routine = tmp_path / "r.yaml"
    routine.write_text(bench.routine_yaml(0.5, engine="fake"))
    seconds = bench.synthesis_seconds(routine, tmp_path / "cache", workers=workers, threads=threads)
    assert seconds > 0
    from voiceguide import render as lib
    from voiceguide.voice.cache import NarrationCache

    loaded, cache = lib.load(routine), NarrationCache(tmp_path / "cache")
    key = lib.speech_keys(loaded.voice)
    assert all(cache.get(key(text, loaded.voice)) is not None for text in loaded.texts())
