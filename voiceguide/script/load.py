"""Read a routine file (see ``docs/format.md``) into a validated ``model.Routine``.

The format itself is declared in ``format.py`` as a tree of kinds of value (``kinds.py``); this
module reads files with it, and ``json_schema`` describes it from the same definitions.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.resolver import Resolver

from voiceguide.core.errors import Problem, ScriptError, UsageError, Where
from voiceguide.plan.timeline import LONG_HOLD
from voiceguide.script import text as texts
from voiceguide.script.format import (
    DEFAULT_AGAIN,
    DEFAULT_SWITCH,
    DEFAULT_TIME_LEFT,
    DEFAULTS,
    DEFS,
    MIN_STROKE_INTERVAL,
    ROUTINE,
    SNIPPET,
    BreathSpec,
    CountdownSpec,
    Include,
    Repeat,
    SwitchSpec,
    TimeLeftSpec,
)
from voiceguide.script.kinds import (
    INVALID,
    MAX_DURATION,
    Context,
    Loaded,
    Phrase,
    did_you_mean,
    join_path,
)
from voiceguide.script.model import (
    CORE_SOUNDS,
    DEFAULT_SOUND_LEVELS,
    DEFAULT_SOUNDS,
    BreathWords,
    Callout,
    Countdown,
    Routine,
    Sound,
    Step,
    Switch,
    Timing,
)
from voiceguide.script.text import format_seconds, parse_duration, spoken_duration

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

MAX_NODES = 100_000
"""The most YAML nodes a routine may hold, counting each use of an alias again."""
MAX_STEPS = 1000
"""The most steps a routine may unroll to (every round and side counts)."""
MAX_SESSION_HOURS = 12
"""The longest a session may last, in hours (its steps' durations added up, and its plan)."""
MAX_EVENTS = 200_000
"""The most paced events (strokes, breath phases) a routine may hold."""
SNIPPETS_DIR = "_snippets"
"""The folder, in the library (the routine's folder), that ``include`` reads snippets from."""
DEFAULTS_FILE = "_defaults.yaml"
"""The file, in the library, whose settings every routine there inherits."""
_TOLERANCE = 1e-9
"""Slack for float sums in the "does it fit" checks (10 strokes of 0.4 s fit in exactly 4 s)."""
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


def load_routine(path: str | Path) -> Routine:
    """Read and validate the routine file at ``path``.

    Returns the ``Routine`` (its ``id`` is the file's stem, its ``source`` is ``str(path)``), with
    the library's defaults inherited, defaults filled in, repeats and sides unrolled, names in texts
    filled in, durations in seconds and sound files as absolute paths.

    Raises ``UsageError`` when there is no such file, and ``ScriptError`` carrying every problem
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
    inherited = _load_defaults(library, problems)
    ctx = Context(file=file, folder=library, problems=problems, inherited=inherited,
                  include=_includer(library, ((source.stem, source.resolve()),), problems))
    routine = _read(data, source.stem, ctx)
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
    if '"#/$defs/' in json.dumps(schema):
        schema["$defs"] = {name: target().schema() for name, target in DEFS.items()}
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


def _read(data: bytes, routine_id: str, ctx: Context) -> Routine | None:
    """The routine in ``data``, or ``None`` when ``ctx`` holds problems."""
    root = _compose(data, ctx, "the file is empty; a routine needs title, description and steps")
    if root is None or not _check_nodes(root, ctx):
        return None
    doc = ROUTINE.load(root, "", ctx)
    if doc is INVALID:
        return None
    steps = _Unroller(ctx, doc.values.get("timing", Timing()), doc.values.get("title", "")).routine(doc)
    if ctx.problems:
        return None
    settings = {name: value for name, value in doc.values.items() if name not in ("intro", "steps", "outro")}
    settings["sounds"] = _routine_sounds(doc.values.get("sounds", {}), steps)
    settings.update((name, tuple(settings[name])) for name in ("lengths", "variants") if name in settings)
    return Routine(id=routine_id, source=ctx.file, steps=tuple(steps), **settings)


def _load_defaults(library: Path, problems: list[Problem]) -> dict[str, Any]:
    """The settings of the library's defaults file, by field path (``voice``, ``voice.rate``, ...);
    its problems go to ``problems``."""
    file = library / DEFAULTS_FILE
    if not file.is_file():
        return {}
    ctx = Context(file=str(file), folder=library, problems=problems)
    root = _compose(_read_bytes(file, ctx), ctx, None)
    if root is None or not _check_nodes(root, ctx):
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
              problems: list[Problem]) -> Callable[[str, Where], Any]:
    """``Context.include`` for a file in ``library``, itself included through ``stack`` (each
    file's name and real path, the routine first)."""

    def include(name: str, where: Where) -> Any:
        return _include(name, where, library, stack, problems)

    return include


def _include(name: str, where: Where, library: Path, stack: tuple[tuple[str, Path], ...],
             problems: list[Problem]) -> Any:
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
    ctx = Context(file=str(file), folder=file.parent, problems=problems, library=library,
                  include=_includer(library, (*stack, (name, real)), problems))
    root = _compose(_read_bytes(file, ctx), ctx, "the file is empty; a snippet holds a step or a list of steps")
    if root is None or not _check_nodes(root, ctx):
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


def _read_bytes(file: Path, ctx: Context) -> bytes | None:
    try:
        return file.read_bytes()
    except OSError as exc:
        ctx.report(Where(ctx.file, 1, 1), f"cannot read the file: {exc.strerror}")
        return None


def _sorted(problems: list[Problem], first: str) -> list[Problem]:
    """Each problem once, by file (``first``, then the others in the order found), line and column."""
    unique = list(dict.fromkeys(problems))  # a repeated or aliased step can repeat a problem
    order = {file: i for i, file in enumerate(dict.fromkeys([first, *(p.where.file for p in unique)]))}
    return sorted(unique, key=lambda p: (order[p.where.file], p.where.line, p.where.col))


def _compose(data: bytes | None, ctx: Context, empty: str | None) -> yaml.Node | None:
    """The file's YAML nodes, or ``None`` after reporting why there are none (for an empty file,
    the problem ``empty``, if given; ``data`` is ``None`` for a file that could not be read)."""
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _end_of(data[: exc.start].decode("utf-8", errors="replace"))
        ctx.report(Where(ctx.file, line, col), "the file is not valid UTF-8 text")
        return None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        ctx.report(_mark_where(exc, ctx), f"YAML syntax error: {_yaml_problem(exc)}")
        return None
    except yaml.reader.ReaderError as exc:  # a control character; it has a position, not a mark
        line, col = _end_of(text[: exc.position])
        ctx.report(Where(ctx.file, line, col), f"YAML syntax error: {str(exc).splitlines()[0]}")
        return None
    except RecursionError:
        ctx.report(Where(ctx.file, 1, 1), "the document is nested too deeply")
        return None
    if root is None and empty is not None:
        ctx.report(Where(ctx.file, 1, 1), empty)
    return root


def _end_of(prefix: str) -> tuple[int, int]:
    """The 1-based line and column just after ``prefix``, the text before some place."""
    return prefix.count("\n") + 1, len(prefix) - (prefix.rfind("\n") + 1) + 1


def _mark_where(exc: yaml.MarkedYAMLError, ctx: Context) -> Where:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Where(ctx.file, 1, 1)
    return Where(ctx.file, mark.line + 1, mark.column + 1)


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem text; with its context when the problem alone is half a sentence
    ("but found another document")."""
    problem = exc.problem or exc.context or "unreadable YAML"
    if exc.context and problem.startswith("but "):
        return f"{exc.context} {problem}"
    return problem


def _check_nodes(root: yaml.Node, ctx: Context) -> bool:
    """Walk every node as ``yaml.safe_load`` would build it, aliases expanded, before reading any.

    Stops past ``MAX_NODES`` nodes (alias bombs, alias cycles), and reports explicit tags that
    would change a value (``!!python/...``, ``!!float 1``, ``!foo``); ``!!str`` is fine. After
    this walk every scalar converts without error. Returns whether nothing was wrong.
    """
    resolver = Resolver()
    pending = [root]
    visited = 0
    ok = True
    while pending:
        node = pending.pop()
        visited += 1
        if visited > MAX_NODES:
            ctx.reject(root, "", "the document is too large (or expands too many aliases)")
            return False
        if not _plain_tag(node, resolver):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            ctx.reject(node, "", f"YAML tag '{tag}' is not allowed here; only plain YAML is read")
            ok = False
        if isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pending.extend(child for pair in node.value for child in pair)
    return ok


def _plain_tag(node: yaml.Node, resolver: Resolver) -> bool:
    """Whether the node's tag is the one plain YAML gives it (or ``!!str`` on a scalar)."""
    if isinstance(node, yaml.ScalarNode):
        implicit = resolver.resolve(yaml.ScalarNode, node.value, (True, False))
        return node.tag in ("tag:yaml.org,2002:str", implicit)
    if isinstance(node, yaml.SequenceNode):
        return node.tag == "tag:yaml.org,2002:seq"
    return node.tag == "tag:yaml.org,2002:map"


# --- From loaded items to steps ---------------------------------------------------------------


@dataclass(frozen=True)
class _Round:
    """Where a step sits in a repeat: round ``number`` of ``count`` (the innermost repeat's)."""

    number: int | None = None
    count: int | None = None


@dataclass(frozen=True)
class _Unknown:
    """A name that a text may not use where it is: why, for the message."""

    reason: str


_PACING_FIELDS = ("strokes", "stroke_every", "breath")


class _Unroller:
    """Turns the loaded intro, steps and outro into the routine's ``Step``s: repeats and includes
    unrolled, each side its own step, names filled into texts, and the checks that need several
    fields at once made (once per written step, reported at its fields)."""

    def __init__(self, ctx: Context, timing: Timing, routine_title: str):
        self.ctx = ctx
        self.timing = timing
        self.routine_title = routine_title

    def routine(self, doc: Loaded) -> list[Step]:
        planned = sum(_unrolled(doc.values[name]) for name in ("intro", "outro") if name in doc.values)
        planned += sum(_unrolled(item) for item in doc.values.get("steps", []))
        if planned > MAX_STEPS:  # counted before unrolling: nested repeats could make millions
            self.ctx.report(doc.places["steps"], f"the steps unroll to {planned} steps (every round and "
                                                 f"side counts); at most {MAX_STEPS} are allowed")
            return []
        steps: list[Step] = []
        if "intro" in doc.values:
            steps += self.step(doc.values["intro"], _Round())
        steps += self.items(doc.values.get("steps", []), _Round())
        if "outro" in doc.values:
            steps += self.step(doc.values["outro"], _Round())
        if len(steps) > MAX_STEPS:
            self.ctx.report(doc.places["steps"], f"the steps unroll to {len(steps)} steps (every round and "
                                                 f"side counts); at most {MAX_STEPS} are allowed")
        else:
            self.check_size(steps)
        return steps

    def check_size(self, steps: list[Step]) -> None:
        """The session's length and paced events stay within ``MAX_SESSION_HOURS`` and ``MAX_EVENTS``
        (counted before planning, which would make them all); reported at the step that passes one."""
        seconds = events = 0.0
        for step in steps:
            breath = step.breath
            cycles = breath and (breath.cycles or (step.duration or 0.0) // breath.period)
            seconds += step.duration or (self.timing.lead_in + cycles * breath.period if breath else 0.0)
            if step.strokes is not None:
                events += step.strokes
            elif step.stroke_every is not None:
                events += (step.duration or 0.0) / step.stroke_every
            elif breath is not None:
                events += 4 * cycles
            if seconds > MAX_SESSION_HOURS * 3600:
                self.ctx.report(step.where, f"the session lasts more than {MAX_SESSION_HOURS} hours by the end of "
                                            f"this step; a session may last at most {MAX_SESSION_HOURS} hours")
                return
            if events > MAX_EVENTS:
                self.ctx.report(step.where, f"the session has more than {MAX_EVENTS:,} strokes and breaths by the "
                                            f"end of this step; at most {MAX_EVENTS:,} are allowed")
                return

    def items(self, items: Iterable[Any], round_: _Round) -> list[Step]:
        steps: list[Step] = []
        for item in items:
            if isinstance(item, Step):  # a pause
                steps.append(dataclasses.replace(item, round=round_.number, rounds=round_.count))
            elif isinstance(item, Repeat):
                for number in range(1, item.count + 1):
                    steps += self.items(item.items, _Round(number, item.count))
            elif isinstance(item, Include):
                steps += self.include(item, round_)
            else:
                steps += self.step(item, round_)
        return steps

    def include(self, item: Include, round_: _Round) -> list[Step]:
        """A snippet's steps; with step fields beside ``include``, its one step with those in place."""
        overrides = item.overrides
        if not overrides.places:
            return self.items(item.items, round_)
        if len(item.items) != 1 or not isinstance(item.items[0], Loaded):
            first = next(iter(overrides.places.values()))
            held = "a pause or a repeat" if len(item.items) == 1 else f"{len(item.items)} steps"
            self.ctx.report(first, f"only a snippet of one step takes step fields beside include; "
                                   f"'{item.name}' holds {held}")
            return self.items(item.items, round_)
        base = item.items[0]
        kept = {name: value for name, value in base.values.items()
                if not (name in _PACING_FIELDS and any(p in overrides.places for p in _PACING_FIELDS))}
        places = {name: where for name, where in base.places.items() if name in kept}
        merged = Loaded(item.where, {**kept, **overrides.values}, {**places, **overrides.places})
        if "duration" not in merged.places and "breath" not in merged.places:
            where = dataclasses.replace(item.where, path=join_path(item.where.path, "duration"))
            self.ctx.report(where, "required field is missing (only breath steps may leave it out)")
        return self.step(merged, round_)

    # --- One step -----------------------------------------------------------------------------

    def step(self, loaded: Loaded, round_: _Round) -> list[Step]:
        """The step ``loaded`` as one ``Step`` per side (one, without sides)."""
        self.check(loaded)
        values = loaded.values
        if "title" not in values:
            return []  # missing or invalid, and reported
        breath_spec: BreathSpec | None = values.get("breath")
        steps = []
        for index, side in enumerate(values.get("sides") or [None]):
            names = self.names(values, side, round_)
            breath = None
            if breath_spec is not None:
                breath = dataclasses.replace(breath_spec.breath, words=self.words(breath_spec, names))
            steps.append(Step(
                title=values["title"],
                where=loaded.where,
                say=self.say(values, loaded.where, names, round_) if index == 0 else None,
                duration=values.get("duration"),
                strokes=values.get("strokes"),
                stroke_every=values.get("stroke_every"),
                breath=breath,
                side=side,
                switch=self.switch(values.get("switch"), loaded.where, names) if index > 0 else None,
                round=round_.number,
                rounds=round_.count,
                overflow=values.get("overflow", self.timing.overflow),
                countdown=self.countdown(values.get("countdown"), names),
                halfway=self.halfway(values.get("halfway", False), names),
                callouts=self.callouts(values.get("time_left"), loaded.where, names),
                closing=self.fill(values.get("closing"), names),
                pace=values.get("pace", self.timing.pace),
                cue=self.fill(values.get("cue"), names),
                fixed=values.get("fixed", False),
                min_strokes=values.get("min_strokes"),
                max_strokes=values.get("max_strokes"),
                optional=values.get("optional", False),
            ))
        return steps

    def names(self, values: dict[str, Any], side: str | None, round_: _Round) -> dict[str, str | _Unknown]:
        """What each name stands for in this step's texts (or why it may not be used here)."""
        breath = values["breath"].breath if values.get("breath") else None

        def known(value: Any, reason: str, form: Callable[[Any], str] = str) -> str | _Unknown:
            return _Unknown(reason) if value is None else form(value)

        in_breath = "is only known in a breath step"
        return {
            "title": values["title"],
            "routine": self.routine_title,
            "side": known(side, "is only known in a step with sides"),
            "round": known(round_.number, "is only known inside a repeat"),
            "rounds": known(round_.count, "is only known inside a repeat"),
            "strokes": known(values.get("strokes"), "is only known in a step with strokes"),
            "duration": known(values.get("duration"), "is only known in a step with a duration", spoken_duration),
            "cycles": known(breath and breath.cycles, "is only known in a breath step with cycles"),
            "inhale": known(breath and breath.inhale, in_breath, spoken_duration),
            "exhale": known(breath and breath.exhale, in_breath, spoken_duration),
            "hold": known(breath and breath.hold, in_breath, spoken_duration),
            "remaining": _Unknown("is only known in countdown and time-left texts"),
        }

    def fill(self, phrase: Phrase | None, names: dict[str, str | _Unknown]) -> str | None:
        """The phrase with its names filled in; ``None`` for no phrase, or after reporting a name
        that this step does not know."""
        if phrase is None:
            return None
        for name in texts.names_in(phrase.text):
            value = names[name]
            if isinstance(value, _Unknown):
                self.ctx.report(phrase.where, f"'{{{name}}}' {value.reason}")
                return None
        return texts.fill(phrase.text, names)  # type: ignore[arg-type]  # every name used is known

    def say(self, values: dict[str, Any], where: Where, names: dict[str, str | _Unknown],
            round_: _Round) -> str | None:
        """What the step says as it starts: its ``say``; in a repeat's later rounds its ``again``
        (by default, for a step with ``say``, its title and the round). In a repeat both are filled
        in every round, so a mistake in either is found on any round."""
        say = self.fill(values.get("say"), names)
        if round_.number is None:
            return say
        again = values.get("again") or (Phrase(DEFAULT_AGAIN, where) if "say" in values else None)
        again = self.fill(again, names)
        return say if round_.number == 1 else again

    def words(self, spec: BreathSpec, names: dict[str, str | _Unknown]) -> BreathWords | None:
        """The breath words, for the phases the breath has (a hold of 0 s has none)."""
        if spec.words is None:
            return None
        filled = {phase: self.fill(phrase, names) for phase, phrase in spec.words.phrases.items()
                  if getattr(spec.breath, phase) > 0}
        return BreathWords(**filled, cycles=spec.words.cycles)

    def switch(self, spec: SwitchSpec | None, where: Where, names: dict[str, str | _Unknown]) -> Switch:
        say = spec.say if spec is not None else None
        pause = spec.pause if spec is not None and spec.pause is not None else self.timing.switch
        if say is False:
            return Switch(None, pause)
        phrase = say if isinstance(say, Phrase) else Phrase(DEFAULT_SWITCH, where)
        return Switch(self.fill(phrase, names), pause)

    def countdown(self, spec: CountdownSpec | None, names: dict[str, str | _Unknown]) -> Countdown | None:
        if spec is None:
            return None
        words: tuple[str, ...] = ()
        if spec.say is not None:
            filled = [self.fill(spec.say, {**names, "remaining": str(n)}) for n in range(spec.count, 0, -1)]
            words = tuple(word or "" for word in filled)
        return Countdown(spec.count, spec.unit, words)

    def halfway(self, value: bool | Phrase, names: dict[str, str | _Unknown]) -> str | bool:
        if isinstance(value, Phrase):
            return self.fill(value, names) or False
        return value

    def callouts(self, spec: TimeLeftSpec | None, where: Where,
                 names: dict[str, str | _Unknown]) -> tuple[Callout, ...]:
        if spec is None:
            return ()
        phrase = spec.say or Phrase(DEFAULT_TIME_LEFT, where)
        return tuple(
            Callout(at, self.fill(phrase, {**names, "remaining": spoken_duration(at)}) or "")
            for at in sorted(spec.at, reverse=True)
        )

    # --- Checks between fields ----------------------------------------------------------------

    def check(self, step: Loaded) -> None:
        """The checks that need several fields of one step, or the routine's timing."""
        self.check_strokes(step)
        self.check_breath(step)
        self.check_countdown(step)
        self.check_time_left(step)
        self.check_limits(step)

    def check_limits(self, step: Loaded) -> None:
        """``min_strokes`` and ``max_strokes`` (fitting to a length) need pacing, least first."""
        values, places = step.values, step.places
        low, high = values.get("min_strokes"), values.get("max_strokes")
        paced = any(name in values for name in _PACING_FIELDS)
        for name in ("min_strokes", "max_strokes"):
            if name in values and not paced:
                self.ctx.report(places[name], "only a step with strokes, stroke_every or breath has strokes to limit")
        if low is not None and high is not None and low > high:
            self.ctx.report(places["min_strokes"], f"must be at most max_strokes ({high}), got {low}")

    def check_strokes(self, step: Loaded) -> None:
        """Strokes must be at least ``timing.min_stroke`` apart after the lead-in."""
        least = self.timing.min_stroke
        every = step.values.get("stroke_every")
        if every is not None and every < least - _TOLERANCE:
            self.ctx.report(step.places["stroke_every"],
                            f"must be at least timing.min_stroke ({format_seconds(least)} s), "
                            f"got {format_seconds(every)}")
        strokes, duration = step.values.get("strokes"), step.values.get("duration")
        if strokes is None or duration is None:
            return
        if strokes * least > duration - self.timing.lead_in + _TOLERANCE:
            do = "does" if strokes == 1 else "do"
            self.ctx.report(
                step.places["strokes"],
                f"{_count(strokes, 'stroke')} {do} not fit in {format_seconds(duration)} s after the "
                f"{format_seconds(self.timing.lead_in)} s lead-in "
                f"(each needs at least {format_seconds(least)} s)",
            )

    def check_breath(self, step: Loaded) -> None:
        """A breath step needs cycles or a duration; with a duration, its cycles (at least one) fit."""
        spec, duration = step.values.get("breath"), step.values.get("duration")
        if spec is None:
            return
        breath = spec.breath
        if spec.words is not None and spec.words.cycles is not None and breath.cycles is not None \
                and spec.words.cycles > breath.cycles:
            self.ctx.report(step.places["breath"],
                            f"the words are for {_count(spec.words.cycles, 'cycle')}, but the step has "
                            f"{_count(breath.cycles, 'breath cycle')}")
        if duration is None:
            if breath.cycles is None and "duration" not in step.places:
                self.ctx.report(step.places["breath"], "give cycles, or a duration for the step")
            return
        cycles = breath.cycles or 1
        if self.timing.lead_in + cycles * breath.period > duration + _TOLERANCE:
            do = "does" if cycles == 1 else "do"
            self.ctx.report(
                step.places["breath"],
                f"{_count(cycles, 'breath cycle')} of {format_seconds(breath.period)} s {do} not fit "
                f"in a {format_seconds(duration)} s step",
            )

    def check_countdown(self, step: Loaded) -> None:
        spec: CountdownSpec | None = step.values.get("countdown")
        if spec is None:
            return
        strokes, duration = step.values.get("strokes"), step.values.get("duration")
        if spec.unit == "strokes":
            if strokes is None and "stroke_every" not in step.values:
                self.ctx.report(spec.where, "a countdown over strokes needs strokes or stroke_every in the step")
            elif strokes is not None and spec.count > strokes:
                self.ctx.report(spec.where, f"counts down over {_count(spec.count, 'stroke')}, "
                                            f"but the step has {_count(strokes, 'stroke')}")
        elif duration is not None and spec.count >= duration:
            self.ctx.report(spec.where, f"counts down over {spec.count} s, but the step lasts "
                                        f"{format_seconds(duration)} s")

    def check_time_left(self, step: Loaded) -> None:
        spec: TimeLeftSpec | None = step.values.get("time_left")
        duration = step.values.get("duration")
        if spec is None or duration is None:
            return
        for at in spec.at:
            if at >= duration:
                self.ctx.report(spec.where, f"a callout {format_seconds(at)} s before the end does not fit "
                                            f"in a {format_seconds(duration)} s step")


def _unrolled(item: Any) -> int:
    """How many steps a loaded step item unrolls to (each round and side counts), without unrolling."""
    if isinstance(item, Step):
        return 1
    if isinstance(item, Repeat):
        return item.count * sum(_unrolled(i) for i in item.items)
    if isinstance(item, Include):
        sides = item.overrides.values.get("sides") if item.overrides.places else None
        if sides and len(item.items) == 1:
            return len(sides)
        return sum(_unrolled(i) for i in item.items)
    if isinstance(item, Loaded):
        return len(item.values.get("sides") or ()) or 1
    return 1


def _routine_sounds(given: dict[str, Sound], steps: list[Step]) -> dict[str, Sound]:
    """The sound of every kind of event the routine plays: the core ones, those its steps use, and
    those it (or the library's defaults) names; each the routine's own, or the default."""
    used = set(CORE_SOUNDS) | set(given)
    if any(s.switch for s in steps):
        used.add("switch")
    if any(s.countdown and not s.countdown.words for s in steps):
        used.add("countdown")
    if any(s.halfway is True for s in steps):
        used.add("halfway")
    if any(s.kind == "step" and s.duration is not None and s.duration > LONG_HOLD
           and not (s.strokes or s.stroke_every or s.breath) for s in steps):
        used.add("pulse")  # a step that may hold still long enough for pulses
    return {
        event: given.get(event) or Sound(DEFAULT_SOUNDS[event], DEFAULT_SOUND_LEVELS[event])
        for event in DEFAULT_SOUNDS
        if event in used
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
