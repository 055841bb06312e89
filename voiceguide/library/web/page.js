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
