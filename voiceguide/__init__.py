"""voiceguide: voice-guided routine audio from YAML scripts.

The library runs one way: ``script`` (YAML -> validated routine) -> ``plan`` (routine + speech
lengths -> timeline) -> ``voice`` (text -> speech) -> ``sound`` (timeline + audio -> samples) ->
``export`` (samples -> tagged MP3) -> ``library`` (many routines). ``render`` ties them together;
``cli`` is a thin face over it. docs/architecture.md has the whole picture.

From Python: ``load`` a routine, ``plan_routine`` it, ``render_routine`` it to an MP3, ``build`` a
whole library (README, "From Python", shows them at work).

The names exported are looked up when first used (PEP 562), so ``import voiceguide`` stays light:
``python -m voiceguide`` imports this module before ``__main__`` sets its early Ctrl-C handler,
and nothing here imports numpy. ``plan_routine`` and ``render_routine`` are not called ``plan``
and ``render``: those names are the ``voiceguide.plan`` package and the ``voiceguide.render`` module.
"""

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "load": ("voiceguide.render", "load"),
    "plan_routine": ("voiceguide.render", "plan_routine"),
    "render_routine": ("voiceguide.render", "render"),
    "variant": ("voiceguide.render", "variant"),
    "Variant": ("voiceguide.plan.variants", "Variant"),
    "build": ("voiceguide.library.build", "build"),
    "BuildSettings": ("voiceguide.library.build", "BuildSettings"),
    "BuildReport": ("voiceguide.library.build", "BuildReport"),
    "Mp3Settings": ("voiceguide.export.mp3", "Mp3Settings"),
    "NarrationCache": ("voiceguide.voice.cache", "NarrationCache"),
    "Plan": ("voiceguide.plan.model", "Plan"),
    "Rendered": ("voiceguide.render", "Rendered"),
    "Routine": ("voiceguide.script.model", "Routine"),
    "VoiceguideError": ("voiceguide.core.errors", "VoiceguideError"),
}
"""Each name the package exports: the module that defines it, and its name there."""

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'voiceguide' has no attribute '{name}'") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # found here from now on, without this lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
