"""The library's web page: one self-contained ``index.html`` for phones.

The page works opened straight from the library folder (``file://``) or served by
``voiceguide serve``: the CSS, the script and the data are all inline, with no fonts, frameworks
or network. The routine list is plain HTML; the script reads the routines from an inline JSON
block and drives one shared audio player: tap a routine to play it, tap a step to seek to it,
and the step playing and the line being spoken are shown in step with the audio.
"""

from __future__ import annotations

import json
from html import escape


def render_index(library_title: str, entries: list[dict]) -> str:
    """The complete ``index.html`` text for a library.

    Each entry has ``id``, ``title``, ``description``, ``duration_ms``, ``file`` (the MP3's path
    relative to the page), ``chapters`` (``title``, ``start_ms``, ``end_ms``) and ``lines``
    (``start_ms``, ``end_ms``, ``text``), chapters and lines in time order; ``captions`` (caption
    files beside the MP3), where given, become the player's captions track when the page is served.
    """
    items = "\n".join(_routine_item(index, entry) for index, entry in enumerate(entries))
    data = {"title": library_title, "routines": entries}
    return _PAGE.format(
        title=escape(library_title),
        summary=f"{len(entries)} routine{'' if len(entries) == 1 else 's'}",
        routines=items or '<li class="empty">No routines yet.</li>',
        css=_CSS,
        data=script_json(data),
        js=_JS,
    )


def format_duration(ms: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour), to the nearest second, halves up like the page's own
    ``clock()`` in JavaScript."""
    total = int(ms / 1000 + 0.5)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def script_json(value) -> str:
    """JSON safe to put inside a ``<script>`` element.

    Every ``<`` is written as ``\\u003c``: no text can then close the element (``</script>``) or
    start the parser's comment-like state inside it (``<!--``), and ``JSON.parse`` reads the very
    same strings back. NaN and infinities are refused, since ``JSON.parse`` would reject them.
    """
    return json.dumps(value, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")


def _routine_item(index: int, entry: dict) -> str:
    """One routine in the list: a button (title and duration) and its description."""
    about_id = f"routine-{index}-about"
    description = entry["description"].strip()
    described, about = "", ""
    if description:
        described = f' aria-describedby="{about_id}"'
        about = f'<p class="routine-about" id="{about_id}">{escape(description)}</p>'
    return (
        f'<li class="routine"><button type="button" data-routine="{index}"{described}>'
        f'<span class="routine-title">{escape(entry["title"])}</span>'
        f'<span class="routine-duration">{format_duration(entry["duration_ms"])}</span>'
        f"</button>{about}</li>"
    )


# The page. Placeholders are filled by render_index; the CSS and the script come in as values,
# so their braces need no escaping.
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<meta name="theme-color" content="#f4f2ec" media="(prefers-color-scheme: light)">
<meta name="theme-color" content="#131917" media="(prefers-color-scheme: dark)">
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%234d7b6d'/%3E%3C/svg%3E">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<div class="page">
<header>
<h1>{title}</h1>
<p class="summary">{summary}</p>
</header>
<main>
<section class="player" id="player" aria-labelledby="playing-title" hidden>
<p class="label">Now playing</p>
<h2 id="playing-title" tabindex="-1"></h2>
<audio id="audio" controls preload="metadata"></audio>
<div class="now" id="now" aria-live="polite">
<p class="now-step" id="now-step"></p>
<p class="now-line" id="now-line"></p>
</div>
<h3 class="label" id="steps-label">Steps</h3>
<ol class="chapters" id="chapters" aria-labelledby="steps-label"></ol>
</section>
<section aria-labelledby="routines-label">
<h2 class="label" id="routines-label">Routines</h2>
<ul class="routines">
{routines}
</ul>
</section>
</main>
</div>
<script type="application/json" id="library-data">{data}</script>
<script>{js}</script>
</body>
</html>
"""

_CSS = """
:root {
  color-scheme: light dark;
  --bg: #f4f2ec;
  --surface: #fffdf8;
  --text: #25302c;
  --muted: #5d6a65;
  --accent: #4d7b6d;
  --accent-soft: #e2ebe5;
  --border: #e3ded3;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #131917;
    --surface: #1b2321;
    --text: #e3e9e6;
    --muted: #9cada7;
    --accent: #8ec2b1;
    --accent-soft: #243430;
    --border: #2b3733;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
@media (prefers-reduced-motion: no-preference) {
  html { scroll-behavior: smooth; }
}
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 1.0625rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
.page {
  max-width: 40rem;
  margin: 0 auto;
  padding: max(1.75rem, env(safe-area-inset-top)) 1.25rem max(3rem, env(safe-area-inset-bottom));
}
h1 { font-size: 1.75rem; font-weight: 600; line-height: 1.25; margin: 0; }
.summary { color: var(--muted); margin: 0.25rem 0 0; }
.label {
  color: var(--muted);
  font-size: 0.8125rem;
  font-weight: 600;
  letter-spacing: 0.08em;
  text-transform: uppercase;
  margin: 2rem 0 0.75rem;
}
ul, ol { list-style: none; margin: 0; padding: 0; }
button { font: inherit; color: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }

/* Routines: a card per routine; its button's ::after stretches over the whole card, so a tap
   anywhere on it counts while the button's name stays just the title and duration. */
.routine {
  position: relative;
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: 1rem;
  padding: 1rem 1.125rem;
  margin-bottom: 0.75rem;
}
.routine button {
  display: flex;
  align-items: baseline;
  justify-content: space-between;
  gap: 1rem;
  width: 100%;
  padding: 0;
  border: 0;
  background: none;
  text-align: left;
}
.routine button::after { content: ""; position: absolute; inset: 0; border-radius: 1rem; }
.routine button:focus-visible { outline: none; }
.routine button:focus-visible::after { outline: 3px solid var(--accent); outline-offset: 2px; }
.routine:has(button[aria-current="true"]) {
  border-color: var(--accent);
  background: var(--accent-soft);
}
.routine-title { font-size: 1.125rem; font-weight: 600; line-height: 1.35; }
.routine-duration { color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
.routine-about { color: var(--muted); font-size: 0.9375rem; margin: 0.375rem 0 0; }
.empty { color: var(--muted); }

/* The player */
.player {
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: 1.25rem;
  padding: 0.25rem 1.25rem 1rem;
  margin-top: 1.5rem;
  scroll-margin-top: 1rem;
}
.player .label { margin-top: 1.25rem; }
.player h2 { font-size: 1.375rem; font-weight: 600; line-height: 1.3; margin: 0 0 1rem; }
.player h2:focus { outline: none; }
audio { display: block; width: 100%; }
.now { min-height: 9rem; padding: 1.5rem 0 0.5rem; }
.now-step { color: var(--accent); font-weight: 600; margin: 0; min-height: 1.55em; }
.now-line {
  font-family: ui-serif, Georgia, "Times New Roman", serif;
  font-size: 1.5rem;
  line-height: 1.4;
  margin: 0.5rem 0 0;
}
.chapters button {
  display: flex;
  gap: 1rem;
  width: 100%;
  min-height: 3rem;
  align-items: center;
  padding: 0.625rem 0.75rem;
  border: 0;
  border-radius: 0.75rem;
  background: none;
  text-align: left;
}
.chapter-time { color: var(--muted); font-variant-numeric: tabular-nums; min-width: 3.25em; }
.chapters button[aria-current="step"] { background: var(--accent-soft); font-weight: 600; }
.chapters button[aria-current="step"] .chapter-time { color: var(--accent); }
@media (hover: hover) {
  .routine:hover { border-color: var(--accent); }
  .chapters button:hover { background: var(--accent-soft); }
}
@media (prefers-reduced-motion: no-preference) {
  .routine, .chapters button { transition: background-color 0.3s, border-color 0.3s; }
}
"""

_JS = """
"use strict";
(() => {
  // Positions are compared with this much slack (ms), so a seek to a step's exact start lands
  // in that step even when the seconds-to-ms conversion comes out a hair early.
  const SLACK_MS = 1;

  const library = JSON.parse(document.getElementById("library-data").textContent);
  const audio = document.getElementById("audio");
  const player = document.getElementById("player");
  const playingTitle = document.getElementById("playing-title");
  const stepsLabel = document.getElementById("steps-label");
  const chapterList = document.getElementById("chapters");
  const nowStep = document.getElementById("now-step");
  const nowLine = document.getElementById("now-line");
  const routineButtons = Array.from(document.querySelectorAll("[data-routine]"));

  let current = null;      // the routine in the player
  let chapterButtons = []; // its chapter buttons, in order

  // "m:ss" ("h:mm:ss" from an hour), to the nearest second, as page.format_duration in Python.
  function clock(ms) {
    const total = Math.round(ms / 1000);
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor(total / 60) % 60;
    const two = (n) => String(n).padStart(2, "0");
    return hours ? `${hours}:${two(minutes)}:${two(total % 60)}` : `${minutes}:${two(total % 60)}`;
  }

  // Index of the last item (items in time order) that has started by `ms`, or -1.
  function lastStarted(items, ms) {
    let found = -1;
    items.forEach((item, i) => { if (item.start_ms <= ms + SLACK_MS) found = i; });
    return found;
  }

  // What to show at `ms`: the step playing, and the line being spoken or, between lines, the
  // last one spoken in this step (its instruction stays up while you follow it).
  function momentAt(routine, ms) {
    const chapter = lastStarted(routine.chapters, ms);
    const stepStart = chapter >= 0 ? routine.chapters[chapter].start_ms : -Infinity;
    const i = lastStarted(routine.lines, ms);
    const line = i >= 0 && routine.lines[i].start_ms >= stepStart ? routine.lines[i] : null;
    return { chapter, line };
  }

  // Replace text only when it changes, so the aria-live area announces each line once.
  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  // Bring the step highlight and the "now" area in line with the audio's position.
  function sync() {
    if (!current) return;
    if (audio.error) {
      // The file is missing or unreadable (a failed build, say): say so rather than sit silent.
      setText(nowStep, "");
      setText(nowLine, "This routine's audio could not be played.");
      return;
    }
    const { chapter, line } = momentAt(current, audio.currentTime * 1000);
    chapterButtons.forEach((button, i) => {
      if (i === chapter) button.setAttribute("aria-current", "step");
      else button.removeAttribute("aria-current");
    });
    setText(nowStep, chapter >= 0 ? current.chapters[chapter].title : "");
    setText(nowLine, line ? line.text : "");
  }

  function play() {
    // A tap allows play(); it still rejects when a newer load interrupts it, and then the
    // controls are there for another try.
    audio.play().catch(() => {});
  }

  function span(className, text) {
    const node = document.createElement("span");
    node.className = className;
    node.textContent = text;
    return node;
  }

  function showChapters(routine) {
    chapterButtons = routine.chapters.map((chapter) => {
      const button = document.createElement("button");
      button.type = "button";
      button.append(span("chapter-time", clock(chapter.start_ms)),
                    span("chapter-title", chapter.title));
      button.addEventListener("click", () => {
        audio.currentTime = chapter.start_ms / 1000;
        play();
      });
      return button;
    });
    chapterList.replaceChildren(...chapterButtons.map((button) => {
      const item = document.createElement("li");
      item.append(button);
      return item;
    }));
    stepsLabel.hidden = chapterButtons.length === 0;
  }

  // `file` is a path relative to the page: encode each part, so that a space, "#" or "?" in a
  // name stays part of the name rather than being read as URL syntax.
  function urlOf(path) {
    return path.split("/").map(encodeURIComponent).join("/");
  }

  function open(index) {
    const routine = library.routines[index];
    if (routine !== current) {
      current = routine;
      routineButtons.forEach((button, i) => {
        if (i === index) button.setAttribute("aria-current", "true");
        else button.removeAttribute("aria-current");
      });
      playingTitle.textContent = routine.title;
      showChapters(routine);
      player.hidden = false;
      audio.src = urlOf(routine.file);
      audio.replaceChildren(...captionsTracks(routine));
      sync();
      if ("mediaSession" in navigator && "MediaMetadata" in window) {
        navigator.mediaSession.metadata =
          new MediaMetadata({ title: routine.title, album: library.title });
      }
    }
    play();
    player.scrollIntoView({ block: "start" });
    playingTitle.focus({ preventScroll: true });
  }

  // The routine's WebVTT captions as the player's captions track: served only (a page opened from
  // the folder may not load them), and never needed, since the "now" area shows the words anyway.
  function captionsTracks(routine) {
    const vtt = (routine.captions || []).find((name) => name.endsWith(".vtt"));
    if (!vtt || location.protocol === "file:") return [];
    const track = document.createElement("track");
    Object.assign(track, { kind: "captions", srclang: "en", label: "Captions", src: urlOf(vtt), default: true });
    return [track];
  }

  routineButtons.forEach((button) => {
    button.addEventListener("click", () => open(Number(button.dataset.routine)));
  });
  for (const type of ["loadedmetadata", "timeupdate", "seeking", "seeked", "error"]) {
    audio.addEventListener(type, sync);
  }
})();
"""
