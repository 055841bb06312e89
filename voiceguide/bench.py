"""``python -m voiceguide.bench``: voiceguide's speed and memory, as ratios measured side by side.

Each target compares two things measured in the same run on the same machine, so a busy or slow
machine moves both sides: only ratios are judged, never seconds. The benchmark makes its own
routines (10 and 60 minutes among them) in a temporary folder and prints a table of ratios with the
figures behind them.

    python -m voiceguide.bench            # all six targets
    python -m voiceguide.bench --quick    # shorter routines, for a smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

STEP_WORDS = ("Place your fingertips {where}. Stroke gently outward with the lightest touch, "
              "one slow stroke for each tick, breathing slowly.")
PLACES = ("just above your collarbones", "on the sides of your neck", "under your chin", "along your jaw",
          "beside your nose", "under your eyes", "along your brows", "in the middle of your forehead")


PACES = (10, 40)
"""Strokes per 40 s step, taken in turn: the lymphatic pace (one every 4 s) and the circulation
pace (about one a second), as in the starter routines."""


def routine_yaml(minutes: float, engine: str = "pyttsx3", tag: str = "") -> str:
    """A routine of about ``minutes`` with a distinct narration per step (``tag`` varies the text),
    its steps alternating slow and brisk strokes (``PACES``)."""
    steps = []
    for i in range(max(1, int(minutes * 60 // 40))):
        words = STEP_WORDS.format(where=PLACES[i % len(PLACES)]) + f" Step {i + 1}{tag}."
        strokes = PACES[i % len(PACES)]
        steps.append(f"  - title: Step {i + 1}\n    say: {words}\n    duration: 40s\n    strokes: {strokes}\n")
    return textwrap.dedent(f"""\
        title: Benchmark {minutes:g} minutes
        description: A generated routine for the benchmark. Not medical advice.
        voice: {{engine: {engine}}}
        background: {{bed: noise}}
        steps:
        """) + "".join(steps)


@dataclass
class Row:
    target: str
    ratio: float
    limit: str
    ok: bool
    detail: str


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh Python (so peak memory is its own); it prints one JSON object. A
    child that fails stops the benchmark with its own error output."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"benchmark step failed (exit {out.returncode}): {' '.join(args)}\n{out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


RENDER_IN_CHILD = """
import json, sys, time
from voiceguide import render as lib
from voiceguide.bench import peak_rss_mb
from voiceguide.voice.cache import NarrationCache
routine = lib.load(sys.argv[1], engine=sys.argv[4] if len(sys.argv) > 4 else None)
workers = int(sys.argv[5]) if len(sys.argv) > 5 else None
start = time.perf_counter()
result = lib.render(routine, sys.argv[2], cache=NarrationCache(sys.argv[3]), workers=workers)
print(json.dumps({"seconds": time.perf_counter() - start, "samples": result.plan.length,
                  "max_rss_mb": peak_rss_mb()}))
"""


def peak_rss_mb() -> float:
    """This process's peak resident memory, MB. On Linux the kernel's high-water mark of this
    program (``VmHWM``): ``ru_maxrss`` would also count the parent's memory at the fork before exec,
    so a child of a big process would seem big."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def encode_floor(mp3: Path, work: Path, at_once: int = 1) -> float:
    """Seconds to encode the rendered file's own samples with the same encoder and settings
    (``at_once`` encodes of them side by side: seconds until the last is done)."""
    from voiceguide.core.audio import ffmpeg_path
    from voiceguide.export.mp3 import Mp3Settings

    pcm = work / "floor.pcm"
    decoded = subprocess.run([ffmpeg_path(), "-v", "error", "-y", "-i", str(mp3), "-f", "s16le", "-ac", "2",
                              "-ar", "44100", str(pcm)], capture_output=True, text=True)
    if decoded.returncode:
        raise SystemExit(f"benchmark step failed: ffmpeg could not decode {mp3} (exit {decoded.returncode})\n"
                         f"{decoded.stderr.strip()}")
    settings = Mp3Settings()

    def cmd(i: int) -> list[str]:
        return [ffmpeg_path(), "-nostdin", "-v", "error", "-y", "-f", "s16le", "-ar", "44100", "-ac", "2",
                "-i", str(pcm), "-c:a", "libmp3lame", "-b:a", f"{settings.bitrate}k",
                "-compression_level", str(settings.quality), "-f", "mp3", str(work / f"floor{i}.mp3")]

    start = time.perf_counter()
    procs = [subprocess.Popen(cmd(i), stderr=subprocess.PIPE, text=True) for i in range(at_once)]
    errors = [proc.communicate()[1].strip() for proc in procs]
    if any(proc.returncode for proc in procs):
        raise SystemExit("benchmark step failed: ffmpeg could not encode the benchmark's samples\n"
                         + "\n".join(e for e in errors if e))
    seconds = time.perf_counter() - start
    pcm.unlink()
    return seconds


SYNTH_IN_CHILD = """
import json, sys, time
from voiceguide.voice import engines
from voiceguide import render as lib
from voiceguide.voice.cache import NarrationCache
routine = lib.load(sys.argv[1], engine=sys.argv[3] or None)
workers = int(sys.argv[4]) or None if len(sys.argv) > 4 else None
pool = engines.engine_pool(routine.voice.engine, workers or engines.cpu_count())  # as a render starts them
if len(sys.argv) > 5:  # each worker's CPU threads, in place of the pool's choice
    for engine in pool:
        engine.threads = int(sys.argv[5])
start = time.perf_counter()
lib.narrate(routine, NarrationCache(sys.argv[2]), workers=workers)
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def synthesis_seconds(routine_file: Path, cache_dir: Path, engine: str | None = None,
                      workers: int | None = None, threads: int | None = None) -> float:
    """Seconds to speak every narration of a routine into an empty cache, nothing else (in a fresh
    process, as a render's: its engine workers start and load their voices as a render's do), with
    ``workers`` synthesis workers (default: one per CPU) of ``threads`` CPU threads each (default:
    as a render gives them)."""
    args = [str(routine_file), str(cache_dir), engine or ""]
    if workers is not None or threads is not None:
        args.append(str(workers or 0))
    if threads is not None:
        args.append(str(threads))
    return child(SYNTH_IN_CHILD, *args)["seconds"]


def pydub_way(routine_file: Path, cache_dir: Path, out: Path) -> tuple[float, int]:
    """The straightforward pydub render of the same timeline: a silent segment of full length, one
    overlay per event, export (with the same encoder settings). Narration comes from the warm cache,
    as voiceguide's does. Returns the seconds it took and how many events it overlaid."""
    from voiceguide import render as lib
    from voiceguide.core.audio import pydub_segment_class, to_segment
    from voiceguide.export.mp3 import Mp3Settings
    from voiceguide.sound import sounds
    from voiceguide.voice.cache import NarrationCache

    routine = lib.load(routine_file)
    plan, clips = lib.plan_routine(routine, NarrationCache(cache_dir))
    AudioSegment = pydub_segment_class()
    start = time.perf_counter()
    speech = {text: to_segment(clip.samples().repeat(2, axis=1) * 0.3) for text, clip in clips.items()}
    effects = {kind: to_segment(sounds.load_sound(s.sound) * 0.2) for kind, s in routine.sounds.items()}
    session = AudioSegment.silent(duration=plan.length * 1000 / 44100, frame_rate=44100).set_channels(2)
    events = 0
    for event in plan.events():
        clip = speech.get(event.text) if event.kind == "speech" else effects.get(event.kind)
        if clip is not None and len(clip):
            session = session.overlay(clip, position=event.start * 1000 / 44100)
            events += 1
    settings = Mp3Settings()
    session.export(out, format="mp3", bitrate=f"{settings.bitrate}k",
                   parameters=["-compression_level", str(settings.quality)])
    return time.perf_counter() - start, events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Shorter routines (a smoke run, not the targets).")
    options = parser.parse_args(argv)
    short, long_ = (2, 6) if options.quick else (10, 60)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-") as tmp:
        work = Path(tmp)
        scripts, out, cache = work / "scripts_yaml", work / "out", work / "cache"
        scripts.mkdir()
        (scripts / "ten.yaml").write_text(routine_yaml(short))
        (scripts / "sixty.yaml").write_text(routine_yaml(long_, tag=" of the long one"))

        # 2. first render (nothing cached) / (synthesis alone + encoding floor)
        synth = synthesis_seconds(scripts / "ten.yaml", work / "synth-cache")
        first = child(RENDER_IN_CHILD, str(scripts / "ten.yaml"), str(out), str(cache))
        floor = encode_floor(out / "ten.mp3", work)
        # 1. cached render / encoding floor
        cached = child(RENDER_IN_CHILD, str(scripts / "ten.yaml"), str(out), str(cache))
        rows.append(Row(f"1 render {short} min, narration cached / encoding floor", cached["seconds"] / floor,
                        "<= 1.25", cached["seconds"] / floor <= 1.25,
                        f"{cached['seconds']:.2f} s / {floor:.2f} s"))
        ratio = first["seconds"] / (synth + floor)
        rows.append(Row(f"2 first render {short} min / (synthesis + floor)", ratio, "<= 1.25", ratio <= 1.25,
                        f"{first['seconds']:.2f} s / ({synth:.2f} + {floor:.2f}) s"))
        # 3. the pydub way / voiceguide
        naive, events = pydub_way(scripts / "ten.yaml", cache, work / "naive.mp3")
        rows.append(Row(f"3 pydub overlay render {short} min / voiceguide", naive / cached["seconds"], ">= 8",
                        naive / cached["seconds"] >= 8,
                        f"{naive:.2f} s / {cached['seconds']:.2f} s ({events} events)"))
        # 4. memory: long / short, and the long one's peak
        child(RENDER_IN_CHILD, str(scripts / "sixty.yaml"), str(out), str(cache))  # speak it once
        big = child(RENDER_IN_CHILD, str(scripts / "sixty.yaml"), str(out), str(cache))
        ratio = big["max_rss_mb"] / cached["max_rss_mb"]
        rows.append(Row(f"4 peak memory {long_} min / {short} min render", ratio, "<= 1.2 and < 250 MB",
                        ratio <= 1.2 and big["max_rss_mb"] < 250,
                        f"{big['max_rss_mb']:.0f} MB / {cached['max_rss_mb']:.0f} MB"))
        rows += library_rows(work, cache, short)
        rows += piper_rows(work, "morning" if options.quick else "lymphatic")
    print_table(rows)
    return 0 if all(r.ok for r in rows) else 1


LIBRARY_SIZE = 6


def build_library(settings, jobs: int):
    """``library.build``, stopping the benchmark with each failed routine's own message (a build
    reports its routines' failures; it does not raise them)."""
    from voiceguide.library import build as library

    report = library.build(settings=settings, jobs=jobs)
    failed = [f"{o.id}: {o.message}" for o in report.failed] + ([report.error] if report.error else [])
    if failed:
        raise SystemExit("benchmark step failed: a library build failed\n" + "\n".join(failed))
    return report


def library_rows(work: Path, cache: Path, minutes: float) -> list[Row]:
    """5. build throughput with 2 jobs / 1 job; 6. rebuild with nothing changed, and after one edit."""
    from voiceguide import render as lib
    from voiceguide.library import build as library
    from voiceguide.voice.cache import NarrationCache

    scripts = work / "library"
    scripts.mkdir()
    for i in range(LIBRARY_SIZE):
        (scripts / f"r{i}.yaml").write_text(routine_yaml(minutes / 2, tag=f" of routine {i}"))
    settings = library.BuildSettings(scripts_dir=scripts, out_dir=work / "lib-warm", cache_dir=cache)
    build_library(settings, jobs=2)  # speak everything once: both timed builds start warm
    one, _ = timed(build_library, library.BuildSettings(**{**settings.__dict__, "out_dir": work / "lib1"}), jobs=1)
    two, _ = timed(build_library, library.BuildSettings(**{**settings.__dict__, "out_dir": work / "lib2"}), jobs=2)
    rows = [Row("5 library build throughput, 2 jobs / 1 job", one / two, ">= 1.8", one / two >= 1.8,
                f"{LIBRARY_SIZE} routines: {one:.2f} s / {two:.2f} s on {os.cpu_count()} cores")]
    # what the machine allows: the encoder alone, two encodes at once against one (2 x one / both)
    sample = work / "lib1" / "r0.mp3"
    alone, both = encode_floor(sample, work), encode_floor(sample, work, at_once=2)
    rows.append(Row("5' (reference) the encoder alone, 2 at once / 1", 2 * alone / both, "(the ceiling)", True,
                    f"2 x {alone:.2f} s / {both:.2f} s"))
    settings = library.BuildSettings(**{**settings.__dict__, "out_dir": work / "lib2"})
    nothing, _ = timed(build_library, settings, jobs=2)
    edited = scripts / "r0.yaml"
    edited.write_text(edited.read_text().replace("duration: 40s", "duration: 41s", 1))
    after_edit, report = timed(build_library, settings, jobs=2)
    assert [o.id for o in report.outcomes if o.status == "built"] == ["r0"]
    single, _ = timed(lib.render, lib.load(edited), work / "single", cache=NarrationCache(cache))
    rows.append(Row("6a rebuild, nothing changed (seconds)", nothing, "< 1 s", nothing < 1.0, f"{nothing:.2f} s"))
    rows.append(Row("6b rebuild after one edit / one render", after_edit / single, "<= 1.2",
                    after_edit / single <= 1.2, f"{after_edit:.2f} s / {single:.2f} s"))
    return rows


STARTER = Path(__file__).resolve().parent.parent / "scripts_yaml"
"""The starter library, where voiceguide runs from its repository."""


def piper_rows(work: Path, name: str) -> list[Row]:
    """With the Piper voice, on a starter routine: 2p. a first render / (synthesis + floor); 7. a
    first render speaking on every CPU / one speaking with a single synthesis worker; 7' and 7''
    (references) the synthesis alone, on every CPU / one worker with onnxruntime's own threads, and
    / one worker on one thread."""
    from voiceguide.voice import engines

    if not (STARTER / f"{name}.yaml").is_file() or not engines.PiperEngine.available():
        print(f"(Piper rows skipped: no {STARTER / name}.yaml or no Piper)", file=sys.stderr)
        return []
    routine, out = STARTER / f"{name}.yaml", work / "piper-out"
    synth = synthesis_seconds(routine, work / "piper-synth", "piper")
    first = child(RENDER_IN_CHILD, str(routine), str(out), str(work / "piper-all"), "piper")
    single = child(RENDER_IN_CHILD, str(routine), str(out), str(work / "piper-one"), "piper", "1")
    floor = encode_floor(out / f"{name}.mp3", work)
    one = synthesis_seconds(routine, work / "piper-synth-one", "piper", workers=1)
    one_thread = synthesis_seconds(routine, work / "piper-synth-thread", "piper", workers=1, threads=1)
    ratio = first["seconds"] / (synth + floor)
    cpus = engines.cpu_count()
    return [Row(f"2p first render {name}, Piper / (synthesis + floor)", ratio, "<= 1.25", ratio <= 1.25,
                f"{first['seconds']:.2f} s / ({synth:.2f} + {floor:.2f}) s"),
            Row(f"7 first render {name}, Piper: {cpus} synthesis workers / 1", first["seconds"] / single["seconds"],
                "<= 0.65", first["seconds"] / single["seconds"] <= 0.65,
                f"{first['seconds']:.2f} s / {single['seconds']:.2f} s"),
            Row(f"7' (reference) synthesis alone, {cpus} workers / 1", synth / one, "(onnxruntime's threads)",
                True, f"{synth:.2f} s / {one:.2f} s"),
            Row(f"7'' (reference) synthesis alone, {cpus} workers / 1 on one thread", synth / one_thread,
                "(one core)", True, f"{synth:.2f} s / {one_thread:.2f} s")]


def print_table(rows: list[Row]) -> None:
    print(f"voiceguide benchmark on {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    width = max(len(r.target) for r in rows)
    print(f"{'target':<{width}}  {'ratio':>7}  {'limit':<20}  {'':4}  figures")
    for r in rows:
        print(f"{r.target:<{width}}  {r.ratio:7.2f}  {r.limit:<20}  {'ok' if r.ok else 'MISS':4}  {r.detail}")


if __name__ == "__main__":
    sys.exit(main())
