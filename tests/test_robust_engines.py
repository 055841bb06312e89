"""Issue 8: engine faults. An engine that crashes or returns nothing is retried, then reported per
routine (exit 1, a message, no traceback); the rest of a build goes on."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from voiceguide import engines
from voiceguide.cli import main

ROUTINE = """\
title: Engine test
description: A short routine.
voice: {{engine: {engine}}}
steps:
  - title: Neck
    say: Stroke down the neck.
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
    monkeypatch.setattr("voiceguide.model.ENGINE_NAMES", (*engines.ENGINE_NAMES, "crashing", "silent"), raising=False)
    Crashing.calls = 0


@pytest.mark.parametrize("engine, why", [("crashing", "ValueError: the voice library fell over"),
                                         ("silent", "the engine produced no audio")])
def test_a_faulty_engine_is_retried_then_reported(tmp_path, faulty, engine, why):
    (tmp_path / "r.yaml").write_text(ROUTINE.format(engine="fake"))
    result = CliRunner().invoke(main, ["render", str(tmp_path / "r.yaml"), "--engine", engine,
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    assert why in result.stderr and f"({engines.ATTEMPTS} attempts)" in result.stderr
    if engine == "crashing":
        assert Crashing.calls == engines.ATTEMPTS
    assert not (tmp_path / "out").exists()
