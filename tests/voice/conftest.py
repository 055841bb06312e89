"""The starter routines rendered with the Piper voice, once a test session, for the listeners."""

from __future__ import annotations

import functools

import pytest

from voiceguide import render as lib
from voiceguide.voice.cache import NarrationCache

ENGINE, VOICE = "piper", "en_US-joe-medium"
"""Named, not the default: the default engine may change, the listeners hear this voice."""


@pytest.fixture(scope="session")
def piper_rendered(tmp_path_factory):
    """``piper_rendered(name)``: the starter routine ``name`` rendered with the Piper voice (a
    ``RenderResult``: the MP3's path and its plan), once a session; all share one narration cache."""
    cache = NarrationCache(tmp_path_factory.mktemp("piper-cache"))
    out = tmp_path_factory.mktemp("piper-out")

    @functools.cache
    def rendered(name: str):
        return lib.render(lib.load(name, engine=ENGINE, voice=VOICE), out, cache=cache)

    return rendered
