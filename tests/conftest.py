"""Shared fixtures: every test gets its own narration cache, so nothing leaks between tests or
into the user's cache."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("VOICEGUIDE_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def write_routine(tmp_path):
    """Write a routine file from dedented YAML text; returns its path."""

    def write(text: str, name: str = "routine") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


def _pyttsx3_problem() -> str:
    """Why the real pyttsx3 engine cannot speak here, or "" when it can."""
    from voiceguide import engines
    from voiceguide.errors import VoiceguideError
    from voiceguide.model import Voice

    try:
        engines.speak(engines.get_engine("pyttsx3"), "Hello there.", Voice())
    except VoiceguideError as exc:
        return str(exc)
    return ""


def pytest_collection_modifyitems(config, items):
    """Tests marked ``engine`` need pyttsx3 with a working voice: skip them, with the reason, where
    there is none (CI installs it, so there they run)."""
    marked = [item for item in items if item.get_closest_marker("engine")]
    if not marked:
        return
    problem = _pyttsx3_problem()
    if problem and not os.environ.get("CI"):  # in CI the engine must work: let those tests fail
        skip = pytest.mark.skip(reason=f"pyttsx3 cannot speak here: {problem}")
        for item in marked:
            item.add_marker(skip)
