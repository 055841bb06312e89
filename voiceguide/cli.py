"""The command line: a thin face over ``voiceguide.render``.

Exit codes: 0 success, 1 a render failed, 2 invalid input or usage, 130 interrupted. Anything a user
can cause ends in a message, never a traceback.

Each command imports what it needs when it runs, where Ctrl-C ends it at once
(``processes.ctrl_c_ends_at_once``): importing this module loads click and the standard library
only, so ``inspect``, ``list`` or ``--help`` do not pay for numpy, the engines or the mixer
(``voiceguide/__main__.py`` sets its Ctrl-C handler before this import).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
import sys
import textwrap
from pathlib import Path

import click

from voiceguide import terminal
from voiceguide.core import processes
from voiceguide.core.errors import ScriptError, VoiceguideError
from voiceguide.core.files import OUTPUT_DIR, SCRIPTS_DIR
from voiceguide.script.model import ENGINE_NAMES, SCHEMA_KINDS

WPM = click.FloatRange(60, 400)


def handle_errors(command):
    """Turn the library's errors into messages and exit codes; end quietly on Ctrl-C or a closed pipe."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ScriptError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            sys.exit(exc.exit_code)
        except VoiceguideError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except BrokenPipeError:
            sys.stderr.close()
            sys.exit(0)
        except OSError as exc:  # an unwritable folder, a full disk: what was there stays
            from voiceguide.core.files import os_error_message

            click.echo(f"Error: {os_error_message(exc)}", err=True)
            sys.exit(1)

    return wrapper


def voice_options(command):
    """--engine, --voice, --rate and --volume: override the routine's voice for this run."""
    for option in reversed([
        click.option("--engine", metavar="NAME", help="Text-to-speech engine (see `voiceguide voices`)."),
        click.option("--voice", metavar="ID", help="Voice id or name (see `voiceguide voices`)."),
        click.option("--rate", type=WPM, metavar="WPM", help="Speaking rate in words per minute."),
        click.option("--volume", type=click.FloatRange(0, 1), help="Engine volume, 0 to 1."),
    ]):
        command = option(command)
    return command


class _Length(click.ParamType):
    name = "LENGTH"

    def convert(self, value, param, ctx):
        from voiceguide.script.text import parse_duration

        seconds = value if isinstance(value, float) else parse_duration(str(value))
        if seconds is None or seconds <= 0:
            self.fail(f"expected a length such as 5m, 90s or 1m30s, got {value!r}", param, ctx)
        return seconds


def variant_options(command):
    """--length and --cues-only: a version of the routine (docs/format.md, Variants)."""
    command = click.option("--cues-only", is_flag=True,
                           help="Each step's cue (default: its title) in place of its narration, same timing.")(command)
    return click.option("--length", type=_Length(),
                        help="Fit the routine to this length (5m, 90s): strokes, breaths and holds scaled.")(command)


def _variant(routine, length, cues_only, cache):
    from voiceguide import render as lib
    from voiceguide.plan.variants import Variant

    return lib.variant(routine, Variant(length, cues_only), cache)


language_option = click.option(
    "--language", metavar="LANG", help="One of the routine's languages (languages:, default its first): en, de, ...")
scripts_option = click.option("--scripts", "scripts_dir", type=click.Path(file_okay=False, path_type=Path),
                              default=SCRIPTS_DIR, show_default=True,
                              help="Folder of routine files that ROUTINE names refer to.")
m4b_option = click.option("--m4b", is_flag=True,
                          help="Also write NAME.m4b, an audiobook (AAC, chapters, cover) for Apple Books or BookPlayer.")
cache_option = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                            envvar="VOICEGUIDE_CACHE", help="Narration cache folder (default: the user cache).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="voiceguide")
def main():
    """Voice-guided routine audio from YAML scripts: narration, pacing tones and a background bed,
    mixed on one clock and exported as phone-ready MP3s."""


@main.command()
@click.argument("routine")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=OUTPUT_DIR,
              show_default=True, help="Folder to write ROUTINE_ID.mp3 into.")
@voice_options
@click.option("--bitrate", type=click.IntRange(32, 320), default=128, show_default=True, help="MP3 kbit/s.")
@click.option("--mono", is_flag=True, help="Write a mono MP3 (default stereo).")
@click.option("--loudness", type=click.FloatRange(-40, -5), metavar="LUFS",
              help="Integrated loudness of the file (default: the routine's, else -16 stereo, -19 mono).")
@click.option("--true-peak", type=click.FloatRange(-12, 0), metavar="DBTP",
              help="Highest true peak of the file (default: the routine's, else -1).")
@click.option("--cover", type=click.Path(dir_okay=False, exists=True, path_type=Path), metavar="IMAGE",
              callback=lambda ctx, param, value: _regular_file(value),
              help="Cover art (default: the routine's image, else one drawn with its title).")
@click.option("--year", type=click.IntRange(1000, 9999), help="Year tag (none unless given).")
@variant_options
@language_option
@m4b_option
@scripts_option
@cache_option
@handle_errors
def render(routine, out_dir, engine, voice, rate, volume, bitrate, mono, loudness, true_peak, cover, year,
           length, cues_only, language, m4b, scripts_dir, cache_dir):
    """Render ROUTINE (a name in scripts_yaml/ or a YAML file) to an MP3 (with its .lrc lyrics and
    .vtt and .srt captions beside it, and with --m4b an audiobook) and print its path. A language
    other than the library's own is written in its folder under --out, as build does (output/de/)."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide import render as lib
        from voiceguide.export.mp3 import Mp3Settings
        from voiceguide.voice.cache import NarrationCache

    from voiceguide.library.build import language_folder

    loaded = lib.load(routine, scripts_dir, engine=engine, voice=voice, rate=rate, volume=volume, note=_note,
                      language=language)
    out_dir = language_folder(out_dir, loaded.language, Path(loaded.source).parent)
    loaded, _ = _variant(loaded, length, cues_only, NarrationCache(cache_dir))
    targets = {k: v for k, v in (("loudness", loudness), ("true_peak", true_peak)) if v is not None}
    mastering = dataclasses.replace(lib.routine_mastering(loaded), **targets)
    with terminal.Progress(loaded.id) as progress:
        result = lib.render(loaded, out_dir, cache=NarrationCache(cache_dir),
                            mp3=Mp3Settings(bitrate=bitrate, channels=1 if mono else 2), mastering=mastering,
                            cover=cover, year=year, progress=progress, m4b=m4b)
    voice = " ".join(filter(None, (result.plan.engine, result.plan.voice)))
    click.echo(f"{loaded.id}: {terminal.clock(result.plan.length)}, {len(result.plan.steps)} steps, voice {voice}",
               err=True)
    click.echo(str(result.path))
    if result.audiobook is not None:
        click.echo(str(result.audiobook))


def _regular_file(path: Path | None) -> Path | None:
    """``path`` if it is a regular file: reading a named pipe or a device would wait for ever."""
    if path is not None and not path.is_file():
        raise click.BadParameter(f"'{path}' is not a regular file (a named pipe, device or socket cannot be read "
                                 "as an image)")
    return path


@main.command()
@click.argument("routine")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
@voice_options
@variant_options
@language_option
@scripts_option
@cache_option
@handle_errors
def plan(routine, as_json, engine, voice, rate, volume, length, cues_only, language, scripts_dir, cache_dir):
    """Show ROUTINE's timeline: every step and event, on the clock of the rendered file."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide import render as lib
        from voiceguide.core.audio import RATE
        from voiceguide.voice.cache import NarrationCache

    loaded = lib.load(routine, scripts_dir, engine=engine, voice=voice, rate=rate, volume=volume, note=_note,
                      language=language)
    loaded, _ = _variant(loaded, length, cues_only, NarrationCache(cache_dir))
    with terminal.Progress(loaded.id) as progress:
        timeline, _ = lib.plan_routine(loaded, NarrationCache(cache_dir), progress)
    if as_json:
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{timeline.title} ({loaded.id}): {terminal.clock(timeline.length)}, {len(timeline.steps)} steps, "
               f"voice {loaded.voice.engine}" + (f"/{loaded.voice.voice}" if loaded.voice.voice else ""))
    for step in timeline.steps:
        click.echo(f"\n{terminal.clock(step.start)}-{terminal.clock(step.end)}  {step.title}")
        if step.fit is not None and step.fit.extended:
            click.echo(f"  extended by {step.fit.extended / RATE:.1f} s to fit its narration")
        if step.fit is not None and step.fit.speed > 1:
            click.echo(f"  narration spoken {step.fit.speed:.2f}x as fast to fit")
        for line in terminal.event_lines(step.events):
            click.echo(f"  {line}")


_noted: set[str] = set()


def _note(message: str) -> None:
    """A one-line note on stderr, once per run (``check`` of many routines says it once)."""
    if message not in _noted:
        _noted.add(message)
        click.echo(f"Note: {message}", err=True)


@main.command()
@click.argument("routines", nargs=-1, required=True)
@click.option("--report", "show_report", is_flag=True,
              help="Also print every step: its length, its narration and the room it had, what its overflow "
                   "policy did, its strokes and their pace, and its warnings.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole check as one JSON object instead.")
@voice_options
@variant_options
@language_option
@scripts_option
@cache_option
@handle_errors
def check(routines, show_report, as_json, engine, voice, rate, volume, length, cues_only, language, scripts_dir,
          cache_dir):
    """Check ROUTINES: validate them and plan them (speaking their narration, which render then
    reuses), so you know before rendering that everything fits, in every language they speak (or
    in --language). Problems go to stderr as FILE:LINE:COL: field: message (exit 2; exit 1 if the
    voice failed); warnings a practitioner would want, too."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide import render as lib
        from voiceguide.core.audio import samples_to_ms
        from voiceguide.plan import report
        from voiceguide.voice.cache import NarrationCache

    cache = NarrationCache(cache_dir)
    results, code = [], 0
    for name, spoken in _in_languages(routines, scripts_dir, language):
        result = {"routine": name, "ok": False, "problems": [], "steps": []}
        if spoken is not None:
            result["language"] = spoken
        results.append(result)
        try:
            loaded = lib.load(name, scripts_dir, engine=engine, voice=voice, rate=rate, volume=volume, note=_note,
                              language=spoken)
            if length is None:  # every length the routine asks build for must be in reach
                for wanted in loaded.lengths:
                    _variant(loaded, wanted, False, cache)
            loaded, fitted = _variant(loaded, length, cues_only, cache)
            with terminal.Progress(loaded.id) as progress:
                timeline, _ = lib.plan_routine(loaded, cache, progress)
        except VoiceguideError as exc:
            code = max(code, exc.exit_code)  # 2 for an invalid routine, 1 for an engine that failed
            lines = [str(p) for p in exc.problems] if isinstance(exc, ScriptError) else [f"Error: {exc}"]
            result["problems"] = lines
            if not as_json:
                click.echo("\n".join(lines), err=True)
            continue
        rows = report.report(loaded, timeline)
        result.update(ok=True, id=loaded.id, title=loaded.title, file=loaded.source,
                      duration_ms=samples_to_ms(timeline.length), steps=[row.to_json() for row in rows])
        if fitted is not None:
            result["fit"] = [row.to_json() for row in fitted.scaled]
        if show_report:
            click.echo("\n".join(report.format_report(loaded, timeline, rows)))
            if fitted is not None:
                from voiceguide.plan.fit import format_fit

                click.echo("\n".join(format_fit(fitted)))
        elif not as_json:
            for row in rows:
                for warning in row.warnings:
                    click.echo(f"{row.where}: warning: {warning}", err=True)
    if as_json:
        click.echo(json.dumps({"ok": not code, "routines": results}, indent=2, ensure_ascii=False))
    elif not code:
        languages = {r.get("language") for r in results} - {None}
        click.echo(f"{len(routines)} routine{'s' * (len(routines) != 1)} OK" +
                   (f" in {', '.join(sorted(languages))}" if len(languages) > 1 else ""))
    if code:
        sys.exit(code)


def _in_languages(routines, scripts_dir: Path, language: str | None):
    """``(routine, language)`` for each routine in each language it speaks (``None`` for one that
    speaks only its first, or is not readable: its load reports why), or in ``language`` alone."""
    from voiceguide import render as lib
    from voiceguide.script.load import declared_languages

    for name in routines:
        if language is not None:
            yield name, language
            continue
        try:
            path = lib.routine_path(name, scripts_dir)
            languages = declared_languages(Path(path).read_bytes(), Path(path).parent)
        except (VoiceguideError, OSError):
            languages = ("",)
        if len(languages) == 1:
            yield name, None
        else:
            yield from ((name, spoken) for spoken in languages)


@main.command()
@click.argument("kind", type=click.Choice(SCHEMA_KINDS), default="routine")
def schema(kind):
    """Print the JSON Schema of a routine (or of the library's _defaults.yaml, or a snippet), made
    from the validator's own definitions; docs/ holds a copy for editors."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide.script import load as script

    click.echo(json.dumps(script.json_schema(kind), indent=2, ensure_ascii=False))


@main.command()
@click.argument("name")
@click.option("--title", help="The routine's title (default: made from NAME).")
@scripts_option
@handle_errors
def new(name, title, scripts_dir):
    """Write NAME.yaml, a commented starting routine that passes check, and print its path."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide.script import load as script

    click.echo(str(script.new_routine(name, scripts_dir, title)))


@main.command(name="list")
@scripts_option
@cache_option
@handle_errors
def list_routines(scripts_dir, cache_dir):
    """List the routines in the scripts folder with title, step count and length (and the languages
    of those that speak more than one, the first in its own). Nothing is spoken:
    a length is the plan's, from the narration cache, or marked ~ where narration not spoken yet
    is estimated from its words (check or render speaks it)."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide import render as lib
        from voiceguide.core.errors import PlanError
        from voiceguide.voice.cache import NarrationCache

    files = lib.routine_files(scripts_dir)
    if not files:
        click.echo(f"No routines in {scripts_dir}/")
        return
    cache = NarrationCache(cache_dir)
    estimated = False
    for path in files:
        try:
            routine = lib.load(path, note=_note)
            timeline, exact = lib.plan_without_speaking(routine, cache)
        except ScriptError as exc:  # a PlanError: its narration (perhaps as estimated) does not fit
            why = "does not fit" if isinstance(exc, PlanError) else "invalid"
            click.echo(f"{path.stem:<24} {why}: {len(exc.problems)} problem(s); see: voiceguide check {path.stem}")
            continue
        estimated |= not exact
        languages = f"  {' '.join(routine.languages)}" if len(routine.languages) > 1 else ""
        click.echo(f"{path.stem:<24} {routine.title:<44} {len(routine.steps):>3} steps  "
                   f"{'~' * (not exact) + terminal.clock(timeline.length):>8}{languages}")
    if estimated:
        click.echo("~ estimated: narration not spoken yet is counted from its words "
                   "(voiceguide check speaks it and gives the exact length)")


@main.command()
@click.option("--engine", metavar="NAME", help=f"Only this engine's voices (auto: the one it speaks with): "
                                                f"{', '.join(ENGINE_NAMES)}.")
@click.option("--language", metavar="CODE", help="Only the voices that speak this language (en, de, fr-FR, ja, ...), "
                                                 "in the order auto prefers them; * marks the one auto speaks with.")
@handle_errors
def voices(engine, language):
    """List the voices each engine offers: engine, id, languages, quality."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide.voice import engines

    if language:
        _voices_for(engines, engine, language)
        return
    if engine == engines.AUTO:
        engine = engines.resolve_engine(engine, note=_note)
        _note(f"auto speaks with {engine} here")
    names = [engine] if engine else [n for n in engines.ENGINES if n != "fake"]
    for name in names:
        found = engines.get_engine(name).voices() if engines.get_engine(name).available() else []
        if not found:
            how = engines.get_engine(name).install_hint or "none found"
            how = f"{how} and a voice" if name == "piper" else how
            click.echo(f"{name:<8} (no voices: {how})")
        for v in found:
            click.echo(f"{name:<8} {v.id:<28} {', '.join(v.languages):<12} {v.quality or ''}".rstrip())


def _voices_for(engines, engine: str | None, language: str) -> None:
    """``voices --language``: every voice for ``language`` in auto's order, its pick marked ``*``
    (with ``--engine``, that engine's, its default for the language marked)."""
    from voiceguide.core.errors import UsageError

    if engine in (None, engines.AUTO):
        found = engines.voices_for(language)
        who = "auto speaks"
    else:
        chosen = engines.get_engine(engine)
        found = [(engine, v) for v in chosen.voices_for(language)] if chosen.available() else []
        who = f"{engine} speaks"
    if not found:
        raise UsageError(f"no voice speaks '{language}' here"
                         + (f" with {engine}" if engine not in (None, engines.AUTO) else "")
                         + ": add a Piper voice for it (see: voiceguide voices --engine piper)")
    for i, (name, v) in enumerate(found):
        click.echo(f"{'*' if i == 0 else ' '} {name:<8} {v.id:<28} {', '.join(v.languages):<12} "
                   f"{v.quality or ''}".rstrip())
    _note(f"* marks the voice {who} '{language}' with when none is named")


@main.command()
@click.argument("routines", nargs=-1)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=OUTPUT_DIR,
              show_default=True, help="The library folder to build into.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), help="Routines rendered at once (default: one per core).")
@click.option("--title", help="The library's title in the feed and page (default: the routines' album).")
@click.option("--base-url", default="", help="Where the folder will be served from, for the feed's links.")
@click.option("--bitrate", type=click.IntRange(32, 320), default=128, show_default=True, help="MP3 kbit/s.")
@click.option("--mono", is_flag=True, help="Write mono MP3s (default stereo).")
@click.option("--scheduler", metavar="ADDRESS", help="Render on a dask.distributed cluster (tcp://host:8786).")
@m4b_option
@scripts_option
@cache_option
@handle_errors
def build(routines, out_dir, jobs, title, base_url, bitrate, mono, scheduler, m4b, scripts_dir, cache_dir):
    """Build the library: render every routine in the scripts folder (or ROUTINES) that changed,
    in parallel, then write library.m3u8, feed.xml and index.html."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide.export.mp3 import Mp3Settings
        from voiceguide.library import build as library

    settings = library.BuildSettings(scripts_dir=scripts_dir, out_dir=out_dir, cache_dir=cache_dir, title=title,
                                     base_url=base_url, mp3=Mp3Settings(bitrate=bitrate, channels=1 if mono else 2),
                                     m4b=m4b)
    display = terminal.BuildDisplay()
    executor = library.cluster_executor(scheduler) if scheduler else None
    report = library.build(routines, settings, jobs=jobs, executor=executor, on_event=display)
    display.close()
    click.echo(terminal.summary(report))
    for outcome in report.failed:
        click.echo(f"\nFailed: {outcome.id}\n{outcome.message}", err=True)
    if report.error:
        click.echo(f"\nError: {report.error}", err=True)
    if report.failed or report.error:
        sys.exit(1)


@main.group()
def cache():
    """Inspect or empty the cache: narration clips, what mastering derives from them, generated beds.

    It holds at most VOICEGUIDE_CACHE_SIZE (default 1GB; e.g. 500MB, 2GiB, none), the clips used
    least recently going first."""


@cache.command(name="info")
@cache_option
@handle_errors
def cache_info(cache_dir):
    """Where the cache is, what it holds and its size limit."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide.voice.cache import SIZE_ENV, NarrationCache

    store = NarrationCache(cache_dir)
    contents = store.contents()
    lines = [str(store.root), "{} clips, {}".format(contents["clip"][0], _mb(contents["clip"][1]))]
    for what, label in (("derived", "derived from them"), ("bed", "beds"), ("measured", "loudness of inspected files"),
                        ("old", "left by older versions")):
        files, size = contents[what]
        if files:
            lines.append(f"{label}: {files} file{'s' * (files != 1)}, {_mb(size)}")
    total = sum(size for _, size in contents.values())
    limit = "no limit" if store.limit is None else f"limit {_mb(store.limit)}"
    lines.append(f"total {_mb(total)} ({limit}; {SIZE_ENV} sets it)")
    click.echo("\n".join(lines))


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


@cache.command(name="clear")
@cache_option
@handle_errors
def cache_clear(cache_dir):
    """Delete everything the cache keeps (narration is spoken again when needed)."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide.voice.cache import NarrationCache

    store = NarrationCache(cache_dir)
    count, size = store.clear()
    click.echo(f"Removed {count} clips and what was kept with them ({_mb(size)}) from {store.root}")


@main.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path),
              default=OUTPUT_DIR, show_default=True, help="The library folder to serve.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port (0: any free one).")
@click.option("--host", default="0.0.0.0", show_default=True,
              help="Address to listen on: 0.0.0.0 for every network, 127.0.0.1 for this computer only.")
@handle_errors
def serve(folder, port, host):
    """Serve the library folder over HTTP, so a phone on the same network can open the page or
    subscribe to the feed. Ctrl-C stops it."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide.library import serve as web

    server = web.make_server(folder, host, port)
    url = web.address(server)
    click.echo(f"Serving {folder}/ at {url}\n  page: {url}index.html\n  feed: {url}feed.xml")
    if web.is_loopback(server.server_address[0]):
        click.echo("Only this computer can open it (--host 0.0.0.0 opens it to the network).")
    else:
        click.echo("Anyone on this network can fetch the library from this address. Ctrl-C stops it.")
        code = web.terminal_qr(url)  # for a phone's camera
        if shutil.get_terminal_size().lines > code.count("\n") + 6:
            click.echo(code)
    try:
        server.serve_forever()
    finally:
        server.server_close()


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@cache_option
@handle_errors
def inspect(file, as_json, cache_dir):
    """Show an MP3's tags, chapters, lyrics, duration, loudness and true peak, as a player (and a
    loudness meter) would see them; the cache keeps a file's loudness, so it is metered once."""
    with processes.ctrl_c_ends_at_once():
        from voiceguide.export import probe
        from voiceguide.voice.cache import NarrationCache

    found = probe.inspect(file, NarrationCache(cache_dir))
    report = probe.summary(found)
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
        return
    width = max(len(k) for k in report if not isinstance(report[k], (list, dict)))
    for key, value in report.items():
        if key == "chapters":
            click.echo(f"chapters ({len(value)})")
            for c in value:
                click.echo(f"  {probe.clock_ms(c['start_ms'])}-{probe.clock_ms(c['end_ms'])}  {c['title']}")
        elif not isinstance(value, (list, dict)):
            text = str(value) if value not in (None, "") else "-"
            click.echo(textwrap.fill(f"{key:<{width}}  {text}", width=100, subsequent_indent=" " * (width + 2)))


if __name__ == "__main__":
    main()
