"""Read a routine file (see ``docs/format.md``) into a validated ``model.Routine``.

The format itself is declared in ``format.py`` as a tree of kinds of value (``kinds.py``); this
module reads files with it, and ``json_schema`` describes it from the same definitions. Turning text
into YAML nodes (and YAML mistakes into plain words) is ``yaml_text.py``; turning the loaded items
into steps is ``unroll.py``; this module holds the stages together, with the library's defaults
file and the snippets that ``include`` reads.

Loading runs in stages, and each stage reports every problem it finds before the file is given up:
the library's defaults file (``_defaults.yaml`` beside the routine), then the routine: bytes to text
(UTF-8), text to YAML nodes (``yaml.compose``, which keeps line and column marks), one walk over all
nodes (alias bombs, tags), the routine's fields (names, types, ranges; each ``include`` reads its
snippet from ``_snippets/`` the same way, reporting at the snippet's own lines), and last the
unrolling of repeats and sides into steps, with names filled into texts and the checks that need
several fields at once (do the strokes fit after ``timing.lead_in``?). Only a file with no problems
becomes a ``Routine``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from voiceguide.core.errors import Problem, ScriptError, UsageError, Where
from voiceguide.script.format import (
    DEFAULTS,
    DEFS,
    LANGUAGES_FIELD,
    MIN_STROKE_INTERVAL,
    ROUTINE,
    SNIPPET,
)
from voiceguide.script.kinds import INVALID, MAX_DURATION, Context, did_you_mean
from voiceguide.script.model import SCHEMA_KINDS, Routine, Timing, Voice
from voiceguide.script.text import format_seconds, parse_duration
from voiceguide.script.unroll import (
    MAX_EVENTS,
    MAX_SESSION_HOURS,
    MAX_STEPS,
    Unroller,
    routine_sounds,
)
from voiceguide.script.yaml_text import MAX_NODES, check_nodes, compose, read_bytes

__all__ = [
    "DEFAULTS_FILE",
    "MAX_DURATION",
    "MAX_EVENTS",
    "MAX_NODES",
    "MAX_SESSION_HOURS",
    "MAX_STEPS",
    "MIN_STROKE_INTERVAL",
    "SCHEMAS",
    "SNIPPETS_DIR",
    "format_seconds",
    "json_schema",
    "load_routine",
    "new_routine",
    "parse_duration",
    "starter_routine",
]

SNIPPETS_DIR = "_snippets"
"""The folder, in the library (the routine's folder), that ``include`` reads snippets from."""
DEFAULTS_FILE = "_defaults.yaml"
"""The file, in the library, whose settings every routine there inherits."""
_SNIPPET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_ .-]*(?:/[A-Za-z0-9_][A-Za-z0-9_ .-]*)*")
"""A snippet's name: its path below ``_snippets/``, in parts that never start with a dot."""


# --- The public API ---------------------------------------------------------------------------


def locate(path: str | Path, keys: tuple[str, ...]) -> Where | None:
    """Where the value at ``keys`` (``("voice", "voice")``) is written: in the routine at ``path``,
    else in its library's defaults file; ``None`` when neither writes it.

    For problems found after loading, such as a voice the engine does not have."""
    source = Path(path)
    for file, shown in ((source, str(path)), (source.parent / DEFAULTS_FILE, str(source.parent / DEFAULTS_FILE))):
        try:
            node = yaml.compose(file.read_bytes(), Loader=yaml.SafeLoader)
        except (OSError, yaml.YAMLError):
            continue
        for key in keys:
            if not isinstance(node, yaml.MappingNode):
                node = None
                break
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)
        if node is not None:
            return Where(shown, node.start_mark.line + 1, node.start_mark.column + 1, ".".join(keys))
    return None


def load_routine(path: str | Path, language: str | None = None) -> Routine:
    """Read and validate the routine file at ``path``, in ``language`` (one of its ``languages``;
    default: the first).

    Returns the ``Routine`` (its ``id`` is the file's stem, its ``source`` is ``str(path)``), with
    the library's defaults inherited, defaults filled in, repeats and sides unrolled, names in texts
    filled in, durations in seconds and sound files as absolute paths.

    Raises ``UsageError`` when there is no such file or the routine does not speak ``language``,
    and ``ScriptError`` carrying every problem
    in the file and the files it uses, sorted by file (the routine's first) and by line and
    column, when it is not a valid routine.
    """
    file = str(path)
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"{file}: no such routine file")
    if source.suffix.lower() not in (".yaml", ".yml"):  # never read (and quote) some other file as one
        raise UsageError(f"{file}: not a routine file (a routine is a .yaml or .yml file)")
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise UsageError(f"{file}: cannot read the routine file: {exc.strerror}") from exc
    library = source.parent
    problems: list[Problem] = []
    ctx = Context(file=file, folder=library, problems=problems, routine_file=True)
    root = compose(data, ctx, "the file is empty; a routine needs title, description and steps")
    languages = _written_languages(root, library) or _written_languages(_defaults_root(library), library) or ("en",)
    if language is not None and language not in languages:
        raise UsageError(f"{file}: {source.stem} does not speak '{language}'; its languages are "
                         f"{', '.join(languages)} (languages: in the routine or in {DEFAULTS_FILE})")
    spoken = {"languages": languages, "language": language or languages[0]}
    inherited = _load_defaults(library, problems, spoken)
    spoken["words_overrides"] = inherited.get("words", {})
    ctx.languages, ctx.language, ctx.words_overrides, ctx.inherited = (*spoken.values(), inherited)
    ctx.include = _includer(library, ((source.stem, source.resolve()),), problems, spoken)
    routine = _read(root, source.stem, ctx)
    if routine is None or problems:
        raise ScriptError(_sorted(problems, first=file))
    return routine


SCHEMAS = {
    "routine": (ROUTINE, "voiceguide routine",
                "A guided routine that voiceguide turns into an MP3; see docs/format.md."),
    "defaults": (DEFAULTS, "voiceguide library defaults",
                 "_defaults.yaml: settings every routine in its folder inherits; see docs/format.md."),
    "snippet": (SNIPPET, "voiceguide snippet",
                "A file in _snippets/: a step, or a list of steps, that routines include by name; "
                "see docs/format.md."),
}
"""The files voiceguide reads, each as (kind, schema title, schema description)."""
assert tuple(SCHEMAS) == SCHEMA_KINDS, "model.SCHEMA_KINDS must name the kinds of SCHEMAS"


def json_schema(of: str = "routine") -> dict[str, Any]:
    """The format of a routine (or of the ``defaults`` file, or a ``snippet``) as a JSON Schema
    (draft 2020-12), made from the loader's own definitions.

    It checks what JSON Schema can express (fields, types, ranges, number durations); the loader
    also checks what it cannot (duration text ranges, sound files, snippets, whether strokes fit).
    """
    kind, title, description = SCHEMAS[of]
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "description": description,
        **kind.schema(),
    }
    defs: dict[str, Any] = {}
    while wanted := [name for name in DEFS if f'"#/$defs/{name}"' in json.dumps([schema, defs]) and name not in defs]:
        defs.update((name, DEFS[name]().schema()) for name in wanted)  # those named, and those they name
    if defs:
        schema["$defs"] = {name: defs[name] for name in DEFS if name in defs}
    return schema


def starter_routine(title: str, schema: str | None = None) -> str:
    """The text of a new routine called ``title``: commented, and valid as it is.

    ``schema`` is where editors find the routine JSON Schema (a path relative to the new file, or
    a URL), for the ``yaml-language-server`` comment on the first line.
    """
    head = f"# yaml-language-server: $schema={schema}\n" if schema else ""
    return head + _STARTER.replace("TITLE", title)


_ROUTINE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def new_routine(name: str, folder: str | Path, title: str | None = None) -> Path:
    """Write ``folder/NAME.yaml``, a starting routine (``starter_routine``), and return its path.

    Its first line points editors at ``docs/routine.schema.json`` when a folder above ``folder``
    holds one. Raises ``UsageError`` for a name that is not a plain file name or a routine that
    already exists.
    """
    if not _ROUTINE_NAME.fullmatch(name):
        raise UsageError(f"a routine name is letters, digits, '-' and '_', starting with a letter or "
                         f"digit; got '{name}'")
    folder = Path(folder)
    path = folder / f"{name}.yaml"
    for existing in (path, path.with_suffix(".yml")):
        if existing.exists():
            raise UsageError(f"{existing} already exists")
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(starter_routine(title or name.replace("-", " ").replace("_", " ").capitalize(),
                                    _schema_reference(folder)), encoding="utf-8")
    return path


def _schema_reference(folder: Path) -> str | None:
    """``docs/routine.schema.json`` in ``folder`` or a folder above it, relative to ``folder``."""
    here = folder.resolve()
    for parent in (here, *here.parents):
        schema = parent / "docs" / "routine.schema.json"
        if schema.is_file():
            return Path(os.path.relpath(schema, here)).as_posix()
    return None


_STARTER = """\
# A new routine. `voiceguide check` tells you whether it fits (and what each step does);
# `voiceguide render` makes the MP3. Every field is described in docs/format.md.
# Settings left out here come from _defaults.yaml in this folder, if there is one.

title: TITLE
description: >
  What this routine is for, in a sentence or two. Not medical advice: skip it, or ask a doctor
  first, with a skin infection or inflamed skin, a recent facial procedure or fillers, unexplained
  swelling or swollen glands, or a lymphatic, thyroid, heart or cancer condition. Stop if anything
  hurts.

# voice: {rate: 145}                # words per minute; calm guidance sits around 140 to 160
# background: {bed: noise, level: -26}
timing:
  overflow: extend                  # narration longer than its step makes the step longer

intro: >
  Welcome. Sit comfortably, with clean hands. This is not medical advice; if anything hurts,
  stop. Each time you hear the ticking sound, make one slow stroke.

steps:
  - title: Slow breaths
    say: Breathe in as the tone rises [1s] and out as it falls.
    breath: {inhale: 4, exhale: 6, cycles: 3}

  - title: Cheeks
    say: >
      Place your fingertips beside your nose, on the {side} side, and sweep slowly out toward
      your ear.
    sides: [left, right]            # each side is its own timed part, with a switch cue between
    duration: 30s                   # for each side
    strokes: 8
    halfway: true                   # a soft bell halfway through each side

  - pause: 3s

outro: Let your hands rest, and notice how your face feels.
"""


# --- Reading files ----------------------------------------------------------------------------


def declared_languages(data: bytes, library: Path) -> tuple[str, ...]:
    """The languages a routine (its file's ``data``) speaks: its ``languages``, else its library
    defaults' (``_defaults.yaml``), else English alone. A mistake in either is reported when the
    file itself is loaded; until then the field counts as not written."""
    root = compose(data, Context(file="", folder=library), None)
    return _written_languages(root, library) or _written_languages(_defaults_root(library), library) or ("en",)


def _defaults_root(library: Path) -> yaml.Node | None:
    file = library / DEFAULTS_FILE
    try:
        data = file.read_bytes() if file.is_file() else None
    except OSError:
        return None
    return compose(data, Context(file=str(file), folder=library), None)


def _written_languages(root: yaml.Node | None, library: Path) -> tuple[str, ...] | None:
    """The ``languages`` a file's YAML ``root`` writes, when they are valid."""
    if not isinstance(root, yaml.MappingNode):
        return None
    node = next((v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "languages"), None)
    if node is None:
        return None
    scratch = Context(file="", folder=library)
    found = LANGUAGES_FIELD.kind.load(node, "languages", scratch)
    return tuple(found) if found is not INVALID and not scratch.problems else None


def _read(root: yaml.Node | None, routine_id: str, ctx: Context) -> Routine | None:
    """The routine whose YAML nodes are ``root``, or ``None`` when ``ctx`` holds problems."""
    if root is None or not check_nodes(root, ctx):
        return None
    doc = ROUTINE.load(root, "", ctx)
    if doc is INVALID:
        return None
    steps = Unroller(ctx, doc.values.get("timing", Timing()), doc.values.get("title", "")).routine(doc)
    if ctx.problems:
        return None
    settings = {name: value for name, value in doc.values.items() if name not in ("intro", "steps", "outro")}
    settings["sounds"] = routine_sounds(doc.values.get("sounds", {}), steps)
    settings.update((name, tuple(settings[name])) for name in ("lengths", "variants") if name in settings)
    settings["voice"] = settings.get("voice", Voice()).speaking(ctx.language)
    settings.update(language=ctx.language, languages=ctx.languages, words=ctx.words)
    return Routine(id=routine_id, source=ctx.file, steps=tuple(steps), **settings)


def _load_defaults(library: Path, problems: list[Problem], spoken: dict[str, Any]) -> dict[str, Any]:
    """The settings of the library's defaults file, by field path (``voice``, ``voice.rate``, ...),
    its texts in the language being loaded (``spoken``: ``Context``'s languages and language); its
    problems go to ``problems``."""
    file = library / DEFAULTS_FILE
    if not file.is_file():
        return {}
    ctx = Context(file=str(file), folder=library, problems=problems, **spoken)
    root = compose(read_bytes(file, ctx), ctx, None)
    if root is None or not check_nodes(root, ctx):
        return {}
    loaded = DEFAULTS.load(root, "", ctx)
    if loaded is INVALID:
        return {}
    inherited: dict[str, Any] = {}
    for name, value in loaded.values.items():
        inherited[name] = value
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                inherited[f"{name}.{f.name}"] = getattr(value, f.name)
        elif isinstance(value, dict):
            inherited.update((f"{name}.{key}", item) for key, item in value.items())
    return inherited


def _includer(library: Path, stack: tuple[tuple[str, Path], ...],
              problems: list[Problem], spoken: dict[str, Any]) -> Callable[[str, Where], Any]:
    """``Context.include`` for a file in ``library``, itself included through ``stack`` (each
    file's name and real path, the routine first), read in the routine's language (``spoken``:
    ``Context``'s languages, language and words)."""

    def include(name: str, where: Where) -> Any:
        return _include(name, where, library, stack, problems, spoken)

    return include


def _include(name: str, where: Where, library: Path, stack: tuple[tuple[str, Path], ...],
             problems: list[Problem], spoken: dict[str, Any]) -> Any:
    """The step items of snippet ``name``, read like a routine; or ``INVALID`` after reporting why."""
    snippets = library / SNIPPETS_DIR

    def report(message: str) -> Any:
        problems.append(Problem(where, message))
        return INVALID

    if not _SNIPPET_NAME.fullmatch(name) or ".." in name.split("/"):
        return report(f"cannot include '{name}': a snippet is named by its path in {snippets}/, "
                      "which cannot leave the library folder")
    file = snippets / name
    if file.suffix not in (".yaml", ".yml"):
        file = snippets / f"{name}.yaml"
        if not file.is_file() and (snippets / f"{name}.yml").is_file():
            file = snippets / f"{name}.yml"
    if not file.is_file():
        known = _snippet_names(snippets)
        hint = did_you_mean(name, known)
        return report(f"no snippet '{name}' in {snippets}/ (snippets there: {', '.join(known) or 'none'}){hint}")
    real = file.resolve()
    if not real.is_relative_to(library.resolve()):
        return report(f"cannot include '{name}': {file} leads outside the library folder {library}/")
    names = [n for n, path in stack]
    paths = [path for n, path in stack]
    if real in paths:
        cycle = " -> ".join([*names[paths.index(real):], name])
        return report(f"include cycle: {cycle}")
    ctx = Context(file=str(file), folder=file.parent, problems=problems, library=library, **spoken,
                  include=_includer(library, (*stack, (name, real)), problems, spoken))
    root = compose(read_bytes(file, ctx), ctx, "the file is empty; a snippet holds a step or a list of steps")
    if root is None or not check_nodes(root, ctx):
        return INVALID
    items = SNIPPET.load(root, "", ctx)
    if items is INVALID:
        return INVALID
    return items if isinstance(items, list) else [items]


def _snippet_names(snippets: Path) -> list[str]:
    """The names of the snippets in ``snippets``, for messages."""
    if not snippets.is_dir():
        return []
    files = (p for p in snippets.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return sorted(p.relative_to(snippets).with_suffix("").as_posix() for p in files)


def _sorted(problems: list[Problem], first: str) -> list[Problem]:
    """Each problem once, by file (``first``, then the others in the order found), line and column."""
    unique = list(dict.fromkeys(problems))  # a repeated or aliased step can repeat a problem
    order = {file: i for i, file in enumerate(dict.fromkeys([first, *(p.where.file for p in unique)]))}
    return sorted(unique, key=lambda p: (order[p.where.file], p.where.line, p.where.col))
