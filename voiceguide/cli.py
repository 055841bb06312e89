"""The command line: a thin face over ``voiceguide.render``.

Exit codes: 0 success, 1 a render failed, 2 invalid input or usage, 130 interrupted. Anything a user
can cause ends in a message, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from . import engines, render as lib, script
from .audio import samples_to_ms
from .cache import NarrationCache
from .errors import ScriptError, VoiceguideError
from .export import Mp3Settings

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


scripts_option = click.option("--scripts", "scripts_dir", type=click.Path(file_okay=False, path_type=Path),
                              default=lib.SCRIPTS_DIR, show_default=True,
                              help="Folder of routine files that ROUTINE names refer to.")
cache_option = click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                            envvar="VOICEGUIDE_CACHE", help="Narration cache folder (default: the user cache).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="voiceguide")
def main():
    """Voice-guided routine audio from YAML scripts: narration, pacing tones and a background bed,
    mixed on one clock and exported as phone-ready MP3s."""


@main.command()
@click.argument("routine")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=lib.OUTPUT_DIR,
              show_default=True, help="Folder to write ROUTINE_ID.mp3 into.")
@voice_options
@click.option("--bitrate", type=click.IntRange(32, 320), default=128, show_default=True, help="MP3 kbit/s.")
@click.option("--mono", is_flag=True, help="Write a mono MP3 (default stereo).")
@scripts_option
@cache_option
@handle_errors
def render(routine, out_dir, engine, voice, rate, volume, bitrate, mono, scripts_dir, cache_dir):
    """Render ROUTINE (a name in scripts_yaml/ or a YAML file) to an MP3 and print its path."""
    loaded = lib.load(routine, scripts_dir, engine=engine, voice=voice, rate=rate, volume=volume)
    with _Progress(loaded.id) as progress:
        result = lib.render(loaded, out_dir, cache=NarrationCache(cache_dir),
                            mp3=Mp3Settings(bitrate=bitrate, channels=1 if mono else 2), progress=progress)
    click.echo(str(result.path))


@main.command()
@click.argument("routine")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
@voice_options
@scripts_option
@cache_option
@handle_errors
def plan(routine, as_json, engine, voice, rate, volume, scripts_dir, cache_dir):
    """Show ROUTINE's timeline: every step and event, on the clock of the rendered file."""
    loaded = lib.load(routine, scripts_dir, engine=engine, voice=voice, rate=rate, volume=volume)
    with _Progress(loaded.id) as progress:
        timeline, _ = lib.plan_routine(loaded, NarrationCache(cache_dir), progress)
    if as_json:
        click.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"{timeline.title} ({loaded.id}): {_clock(timeline.length)}, {len(timeline.steps)} steps, "
               f"voice {loaded.voice.engine}" + (f"/{loaded.voice.voice}" if loaded.voice.voice else ""))
    for step in timeline.steps:
        click.echo(f"\n{_clock(step.start)}-{_clock(step.end)}  {step.title}")
        for line in _event_lines(step.events):
            click.echo(f"  {line}")


def _event_lines(events):
    """Events as table rows, with runs of ticks or breaths folded into one line."""
    i = 0
    while i < len(events):
        e = events[i]
        if e.kind == "speech":
            text = e.text if len(e.text) <= 70 else e.text[:67] + "..."
            yield f"{_clock(e.start)}  speech {(e.end - e.start) / 44100:5.1f} s  {text}"
            i += 1
        elif e.kind == "tick":
            j = i
            while j < len(events) and events[j].kind == "tick":
                j += 1
            every = (events[j - 1].end - e.start) / (j - i) / 44100
            yield f"{_clock(e.start)}  {j - i} strokes, one every {every:.2f} s"
            i = j
        elif e.kind in ("inhale", "hold", "exhale"):
            j = i
            while j < len(events) and events[j].kind in ("inhale", "hold", "exhale"):
                j += 1
            cycles = sum(1 for x in events[i:j] if x.kind == "inhale")
            yield f"{_clock(e.start)}  {cycles} breath cycles"
            i = j
        else:
            yield f"{_clock(e.start)}  {e.kind}"
            i += 1


def _clock(samples: int) -> str:
    ms = samples_to_ms(samples)
    return f"{int(ms // 60000):02d}:{ms % 60000 / 1000:04.1f}"


@main.command()
@click.argument("routines", nargs=-1, required=True)
@scripts_option
@handle_errors
def check(routines, scripts_dir):
    """Validate ROUTINES; exit 2 with every problem on stderr if any is invalid."""
    failed = False
    for name in routines:
        try:
            lib.load(name, scripts_dir)
        except ScriptError as exc:
            failed = True
            for problem in exc.problems:
                click.echo(str(problem), err=True)
        except VoiceguideError as exc:
            failed = True
            click.echo(f"Error: {exc}", err=True)
    if failed:
        sys.exit(2)
    click.echo(f"{len(routines)} routine{'s' * (len(routines) != 1)} OK")


@main.command(name="list")
@scripts_option
@cache_option
@handle_errors
def list_routines(scripts_dir, cache_dir):
    """List the routines in the scripts folder with title, step count and length."""
    files = lib.routine_files(scripts_dir)
    if not files:
        click.echo(f"No routines in {scripts_dir}/")
        return
    cache = NarrationCache(cache_dir)
    for path in files:
        try:
            routine = script.load_routine(path)
            timeline, _ = lib.plan_routine(routine, cache)
        except ScriptError as exc:
            click.echo(f"{path.stem:<24} invalid: {len(exc.problems)} problem(s); see: voiceguide check {path.stem}")
            continue
        click.echo(f"{path.stem:<24} {routine.title:<44} {len(routine.steps):>3} steps  {_clock(timeline.length)}")


@main.command()
@click.option("--engine", metavar="NAME", help=f"Only this engine's voices: {', '.join(engines.ENGINES)}.")
@handle_errors
def voices(engine):
    """List the voices each engine offers: engine, id, languages, quality."""
    names = [engine] if engine else [n for n in engines.ENGINES if n != "fake"]
    for name in names:
        found = engines.get_engine(name).voices() if name != "piper" or engines.PiperEngine.available() else []
        if not found:
            how = "pip install 'voiceguide[piper]' and a voice" if name == "piper" else "none found"
            click.echo(f"{name:<8} (no voices: {how})")
        for v in found:
            click.echo(f"{name:<8} {v.id:<28} {', '.join(v.languages):<12} {v.quality or ''}".rstrip())


class _Progress:
    """A one-line progress display on a terminal (stderr); nothing when stderr is not a terminal."""

    def __init__(self, name: str):
        self.name = name
        self.live = sys.stderr.isatty()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.live and total:
            click.echo(f"\r{self.name}: {phase} {100 * done // total:3d}%\033[K", err=True, nl=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.live:
            click.echo("\r\033[K", err=True, nl=False)


if __name__ == "__main__":
    main()
