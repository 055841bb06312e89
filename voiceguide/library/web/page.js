"use strict";
(() => {
  // Positions are compared with this much slack (ms), so a seek to a step's exact start lands
  // in that step even when the seconds-to-ms conversion comes out a hair early.
  const SLACK_MS = 1;
  // "Previous step" this far (ms) into a step goes back to its start, as players do with tracks.
  const RESTART_MS = 3000;
  // Where you stopped is kept once you are this far (ms) in, and forgotten this near the end.
  const KEEP_AFTER_MS = 5000;
  const FORGET_BEFORE_END_MS = 10000;
  const STORE_PREFIX = "voiceguide:stopped:";

  const library = JSON.parse(document.getElementById("library-data").textContent);
  const byId = (id) => document.getElementById(id);
  const audio = byId("audio");
  const player = byId("player");
  const picture = byId("picture");
  const playingTitle = byId("playing-title");
  const playingAbout = byId("playing-about");
  const stepsLabel = byId("steps-label");
  const chapterList = byId("chapters");
  const nowStep = byId("now-step");
  const nowLine = byId("now-line");
  const resume = byId("resume");
  const stepButtons = byId("step-buttons");
  const routineButtons = Array.from(document.querySelectorAll("[data-routine]"));
  const session = "mediaSession" in navigator ? navigator.mediaSession : null;

  let current = null;      // the routine in the player
  let chapterButtons = []; // its chapter buttons, in order
  let shownChapter = null; // the step the picture and lock screen show
  let offered = null;      // the place offered back: {index, ms}

  // "m:ss" ("h:mm:ss" from an hour), in whole seconds cut down, as players show a length and
  // as page.format_duration in Python.
  function clock(ms) {
    const total = Math.floor(ms / 1000);
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

  // One of the page's texts in the library's language (library.words, from the words file),
  // its {names} filled in from `values` ({{ and }} are braces), as words.py fills them in Python.
  function say(key, values = {}) {
    return library.words[key].replace(/\{\{|\}\}|\{([^{}]*)\}/g,
                                      (all, name) => (name === undefined ? all[0] : String(values[name.trim()])));
  }

  // Replace text only when it changes, so the aria-live area announces each line once.
  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }

  // `path` is relative to the page: encode each part, so that a space, "#" or "?" in a name
  // stays part of the name rather than being read as URL syntax (as page.url_of in Python).
  function urlOf(path) {
    return path.split("/").map(encodeURIComponent).join("/");
  }

  // The picture of a step: its own where it has one, else the routine's cover.
  function pictureOf(routine, chapter) {
    const own = chapter >= 0 ? routine.chapters[chapter].img : null;
    return own || routine.image || null;
  }

  // The picture and the lock screen follow the step: its title, the routine, its picture.
  function showStep(chapter) {
    if (chapter === shownChapter) return;
    shownChapter = chapter;
    const image = pictureOf(current, chapter);
    if (image) picture.src = urlOf(image);
    else picture.removeAttribute("src");
    if (!session || !("MediaMetadata" in window)) return;
    const step = chapter >= 0 ? current.chapters[chapter].title : "";
    session.metadata = new MediaMetadata({
      title: step || current.title,
      artist: current.title,
      album: library.title,
      artwork: image ? [{ src: new URL(urlOf(image), document.baseURI).href }] : [],
    });
  }

  // Bring the step highlight, the picture and the "now" area in line with the audio's position.
  function sync() {
    if (!current) return;
    if (audio.error) {
      // The file is missing or unreadable (a failed build, say): say so rather than sit silent.
      setText(nowStep, "");
      setText(nowLine, say("audio_error"));
      return;
    }
    const ms = audio.currentTime * 1000;
    const { chapter, line } = momentAt(current, ms);
    chapterButtons.forEach((button, i) => {
      if (i === chapter) button.setAttribute("aria-current", "step");
      else button.removeAttribute("aria-current");
    });
    setText(nowStep, chapter >= 0 ? current.chapters[chapter].title : "");
    setText(nowLine, line ? line.text : "");
    showStep(chapter);
    remember(ms);
    if (session && session.setPositionState && Number.isFinite(audio.duration)) {
      try {
        session.setPositionState({ duration: audio.duration, position: Math.min(audio.currentTime, audio.duration),
                                   playbackRate: audio.playbackRate });
      } catch (e) { /* a position the browser will not take: the lock screen shows none */ }
    }
  }

  function play() {
    // A tap allows play(); it still rejects when a newer load interrupts it, and then the
    // controls are there for another try.
    audio.play().catch(() => {});
  }

  function seek(ms) {
    audio.currentTime = Math.max(0, ms) / 1000;
  }

  // Previous and next step, for the page's buttons and the lock screen's.
  function stepBy(delta) {
    if (!current || !current.chapters.length) return;
    const ms = audio.currentTime * 1000;
    const chapter = lastStarted(current.chapters, ms);
    let target = chapter + delta;
    if (delta < 0 && chapter >= 0 && ms - current.chapters[chapter].start_ms > RESTART_MS) target = chapter;
    if (target >= current.chapters.length) return;
    seek(target >= 0 ? current.chapters[target].start_ms : 0);
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
        seek(chapter.start_ms);
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
    stepButtons.hidden = chapterButtons.length < 2;
  }

  // Where you stopped, per routine and version (a new audio starts afresh), in localStorage,
  // which a page opened from the folder has too. Storage may be refused: then nothing is kept.
  function storeKey(routine) {
    return STORE_PREFIX + routine.id + ":" + (routine.version || "");
  }

  function stored(routine) {
    try {
      const value = JSON.parse(localStorage.getItem(storeKey(routine)) || "null");
      return value && Number.isFinite(value.ms) ? value : null;
    } catch (e) {
      return null;
    }
  }

  function store(routine, value) {
    try {
      if (value) localStorage.setItem(storeKey(routine), JSON.stringify(value));
      else localStorage.removeItem(storeKey(routine));
    } catch (e) { /* private mode or full: nothing is kept */ }
  }

  let lastKept = -1;
  function remember(ms) {
    if (!audio.currentSrc || !Number.isFinite(audio.duration) || audio.seeking) return;
    const second = Math.floor(ms / 1000);
    if (second === lastKept) return;
    lastKept = second;
    const near = ms < KEEP_AFTER_MS || audio.ended || audio.duration * 1000 - ms < FORGET_BEFORE_END_MS;
    store(current, near ? null : { ms, at: Date.now() });
  }

  // After a reload: offer the routine stopped most recently, at the place it stopped.
  function offerResume() {
    let best = null;
    library.routines.forEach((routine, index) => {
      const value = stored(routine);
      if (value && (!best || value.at > best.at)) best = { index, ms: value.ms, at: value.at };
    });
    if (!best) return;
    offered = best;
    byId("resume-text").textContent =
      say("resume_at", { title: library.routines[best.index].title, time: clock(best.ms) });
    resume.hidden = false;
  }

  function open(index, startMs) {
    const routine = library.routines[index];
    resume.hidden = true;
    if (routine !== current) {
      current = routine;
      shownChapter = null;
      lastKept = -1;
      routineButtons.forEach((button) => {
        if (Number(button.dataset.routine) === index) button.setAttribute("aria-current", "true");
        else button.removeAttribute("aria-current");
      });
      playingTitle.textContent = routine.title;
      playingAbout.textContent = routine.description;
      showChapters(routine);
      player.hidden = false;
      audio.src = urlOf(routine.file);
      audio.replaceChildren(...captionsTracks(routine));
      sync();
    }
    if (startMs !== undefined) {
      if (audio.readyState >= 1) seek(startMs);
      else audio.addEventListener("loadedmetadata", () => seek(startMs), { once: true });
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
    Object.assign(track, { kind: "captions", srclang: library.lang, label: say("captions"), src: urlOf(vtt),
                           default: true });
    return [track];
  }

  // The lock screen's buttons: play and pause, previous and next step, and seeking.
  function mediaActions() {
    const skip = (details, sign) => seek(audio.currentTime * 1000 + sign * (details.seekOffset || 10) * 1000);
    const actions = {
      play: () => play(),
      pause: () => audio.pause(),
      previoustrack: () => stepBy(-1),
      nexttrack: () => stepBy(1),
      seekbackward: (details) => skip(details, -1),
      seekforward: (details) => skip(details, 1),
      seekto: (details) => {
        if (details.fastSeek && "fastSeek" in audio) audio.fastSeek(details.seekTime);
        else audio.currentTime = details.seekTime;
      },
    };
    for (const [action, handler] of Object.entries(actions)) {
      try {
        session.setActionHandler(action, handler);
      } catch (e) { /* an action this browser does not know */ }
    }
  }

  routineButtons.forEach((button) => {
    button.addEventListener("click", () => open(Number(button.dataset.routine)));
  });
  // A routine's versions (lengths, cues only): the card's play button plays the one chosen.
  document.querySelectorAll("select[data-versions]").forEach((select) => {
    select.addEventListener("change", () => {
      const card = select.closest(".routine");
      const chosen = library.routines[Number(select.value)];
      card.querySelector("[data-routine]").dataset.routine = select.value;
      card.querySelector(".routine-duration").textContent = clock(chosen.duration_ms);
    });
  });
  byId("previous-step").addEventListener("click", () => stepBy(-1));
  byId("next-step").addEventListener("click", () => stepBy(1));
  byId("resume-play").addEventListener("click", () => { if (offered) open(offered.index, offered.ms); });
  byId("resume-dismiss").addEventListener("click", () => { resume.hidden = true; });
  for (const type of ["loadedmetadata", "timeupdate", "seeking", "seeked", "pause", "ended", "error"]) {
    audio.addEventListener(type, sync);
  }
  if (session) mediaActions();
  offerResume();
})();
