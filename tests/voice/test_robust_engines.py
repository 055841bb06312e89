"""Issue 8: engine faults. An engine that crashes, hangs or returns nothing is retried (a hang
bounded by a timeout), then reported per routine (exit 1, a message, no traceback); the rest of a
build goes on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from locations import TESTS

from voiceguide.cli import main
from voiceguide.core.errors import EngineError
from voiceguide.script.model import Voice
from voiceguide.voice import engines
from voiceguide.voice.worker import Worker

ROUTINE = """\
title: Engine test
description: A short routine.
voice: {{engine: {engine}}}
steps:
  - title: Neck
    say: {say}
    duration: 8s
    strokes: 3
"""


class Crashing(engines.FakeEngine):
    name = "crashing"
    calls = 0

    def synthesize(self, text, voice):
        type(self).calls += 1
        raise ValueError("the voice library fell over")


class Silent(engines.FakeEngine):
    name = "silent"

    def synthesize(self, text, voice):
        return np.zeros((0, 1), np.float32)


@pytest.fixture
def faulty(monkeypatch):
    for cls in (Crashing, Silent):
        monkeypatch.setitem(engines.ENGINES, cls.name, cls)
    monkeypatch.setattr(engines, "_instances", {})
    monkeypatch.setattr("voiceguide.script.model.ENGINE_NAMES", (*engines.ENGINE_NAMES, "crashing", "silent"), raising=False)
    Crashing.calls = 0


@pytest.mark.parametrize("engine, why", [("crashing", "ValueError: the voice library fell over"),
                                         ("silent", "the engine produced no audio")])
def test_a_faulty_engine_is_retried_then_reported(tmp_path, faulty, engine, why):
    (tmp_path / "r.yaml").write_text(ROUTINE.format(engine="fake", say="Stroke down the neck."))
    result = CliRunner().invoke(main, ["render", str(tmp_path / "r.yaml"), "--engine", engine,
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    assert why in result.stderr and f"({engines.ATTEMPTS} attempts)" in result.stderr
    if engine == "crashing":
        assert Crashing.calls == engines.ATTEMPTS
    assert not (tmp_path / "out").exists()


class Scripted(engines.FakeEngine):
    """The fake voice, spoken once a worker process (``tests/scripted_worker.py``, through the
    engines' own worker class) has answered; that worker hangs on "hang" and exits on "crash"."""

    name = "scripted"
    TIMEOUT = 0.5

    def __init__(self, log: Path | None = None):
        self.log = log
        """Where the workers write their process ids."""
        self.worker = Worker(self.name, "scripted_worker", {"log": str(log) if log else None},
                             start_timeout=10.0)

    def synthesize(self, text, voice):
        self.worker.ask({"text": text}, self.TIMEOUT)
        return super().synthesize(text, voice)

    def close(self):
        self.worker.close()


@pytest.fixture
def worker_path(monkeypatch):
    """Let ``python -m scripted_worker`` find the test worker."""
    path = [str(TESTS), os.environ.get("PYTHONPATH")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in path if p))


@pytest.fixture
def scripted(worker_path, tmp_path):
    engine = Scripted(tmp_path / "pids")
    yield engine
    engine.close()


def started(engine: Scripted) -> list[int]:
    """The process ids of the workers the engine started, in order."""
    return [int(pid) for pid in engine.log.read_text().split()]


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_engine_that_hangs_is_stopped_at_its_timeout_retried_then_reported(scripted):
    start = time.monotonic()
    with pytest.raises(EngineError, match=r"^scripted could not speak 'Now hang on.' \(3 attempts\): "
                                          r"EngineError: scripted did not answer within 0.5 s$"):
        engines.speak(scripted, "Now hang on.", Voice(engine="fake"))
    assert time.monotonic() - start < engines.ATTEMPTS * (Scripted.TIMEOUT + 1.5)  # the worker sleeps 60 s
    hung = started(scripted)
    assert len(set(hung)) == engines.ATTEMPTS and not any(running(pid) for pid in hung)
    assert len(engines.speak(scripted, "Breathe out.", Voice(engine="fake"))) > 0
    assert len(started(scripted)) == engines.ATTEMPTS + 1


def test_a_worker_that_crashes_is_reported_and_the_next_phrase_gets_a_fresh_one(scripted):
    engines.speak(scripted, "Breathe in.", Voice(engine="fake"))
    with pytest.raises(EngineError, match=r"\(3 attempts\): EngineError: the scripted process stopped "
                                          r"\(exit code 3\): scripted worker: crashing as asked$"):
        engines.speak(scripted, "Now crash.", Voice(engine="fake"))
    engines.speak(scripted, "Breathe out.", Voice(engine="fake"))
    engines.speak(scripted, "And rest.", Voice(engine="fake"))
    # The first worker spoke and then crashed; each retry started another; the last speaks on.
    assert len(set(started(scripted))) == engines.ATTEMPTS + 1


def test_a_build_reports_the_routine_whose_engine_hangs_and_builds_the_others(worker_path, tmp_path, monkeypatch):
    monkeypatch.setitem(engines.ENGINES, "fake", Scripted)
    instances = {}
    monkeypatch.setattr(engines, "_instances", instances)
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "calm.yaml").write_text(ROUTINE.format(engine="fake", say="Stroke down the neck."))
    (scripts / "stuck.yaml").write_text(ROUTINE.format(engine="fake", say="Now hang on."))
    try:
        result = CliRunner().invoke(main, ["build", "--scripts", str(scripts), "--out", str(tmp_path / "out"),
                                           "--jobs", "1"])
    finally:
        for pool in instances.values():
            for engine in pool:
                engine.close()
    assert result.exit_code == 1, result.output
    assert "1 built, 0 unchanged, 1 failed" in result.output
    assert "Failed: stuck\nscripted could not speak 'Now hang on.' (3 attempts): EngineError: scripted did not " \
           "answer within 0.5 s\n" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.mp3")) == ["calm.mp3"]
