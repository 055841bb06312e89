"""What a person checks on the library page, in a real headless Chromium (marked ``browser``) at a
phone's size (390 x 844) and a desktop's: every card has its cover, the safety note is said once,
the starter routines come in the library's order, a step's picture shows while it plays, the lock
screen (the Media Session) shows the step and its buttons move between steps, and a reload offers
to resume where you stopped, opened from the folder and served.

Each test saves screenshots of what it checked under pytest's temporary folder
(``.../screenshots0/*.png``, printed with ``-s``), never in the repository: look at them when the
page changes. The starter library here is the real one's routines, planned with the fake engine
(so their lengths are not the real ones), their covers drawn as a render draws them, and a silent
MP3 of each one's length.
"""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_page import ENTRIES, browser, library, wait_until  # noqa: F401 - browser and library are fixtures

from voiceguide import render as lib
from voiceguide.core.audio import ffmpeg_path
from voiceguide.export.pictures import practice_of, step_picture
from voiceguide.export.tags import default_cover
from voiceguide.library import build, serve
from voiceguide.library.page import page_safety, render_index, summary_of
from voiceguide.script.model import Routine
from voiceguide.voice.cache import NarrationCache

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844, True), "desktop": (1280, 900, False)}
"""Viewport width, height and whether it is a phone, by name."""

# Until steps name their zone (issue 14, point 1), the screenshots give the starter routines' steps
# a picture by a word of their title, so that the player shows step pictures as it will.
PICTURE_WORDS = {"collarbone": ("collarbones", "press"), "neck": ("neck_sides", "down"),
                 "chin": ("under_chin", "outward"), "jaw": ("jawline", "outward"),
                 "cheek": ("cheeks", "outward"), "eye": ("under_eyes", "outward"),
                 "brow": ("brows", "outward"), "forehead": ("forehead", "outward"),
                 "temple": ("temples", "circles")}


def _picture_of(title: str) -> tuple[str, str] | None:
    return next((found for word, found in PICTURE_WORDS.items() if word in title.lower()), None)


def _silent_mp3(path: Path, seconds: float) -> None:
    subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    f"anullsrc=r=8000:cl=mono:d={seconds}", "-c:a", "libmp3lame", "-b:a", "8k",
                    str(path)], check=True)


def _starter_entry(routine: Routine, folder: Path, cache: NarrationCache) -> dict:
    plan, _ = lib.plan_routine(routine, cache)
    version = hashlib.sha256(routine.id.encode()).hexdigest()[:12]
    entry = build.page_entry(routine, plan, f"v/{version}/{routine.id}.mp3")
    entry["image"], entry["version"] = f"v/{version}/{routine.id}.cover.png", version
    (folder / "v" / version).mkdir(parents=True)
    _silent_mp3(folder / entry["file"], entry["duration_ms"] / 1000)
    (folder / entry["image"]).write_bytes(
        default_cover(routine.title, routine.album,  # as a render draws it
                      practice=practice_of(routine.title) or routine.timing.pace).data)
    for n, chapter in enumerate(entry["chapters"]):
        if found := _picture_of(chapter["title"]):
            chapter["img"] = f"v/{version}/{routine.id}.step{n}.png"
            (folder / chapter["img"]).write_bytes(step_picture(*found))
    return entry


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> tuple[Path, list[dict]]:
    """The starter library's page, its routines in the library's order."""
    folder = tmp_path_factory.mktemp("starter")
    cache = NarrationCache(tmp_path_factory.mktemp("narration"))
    routines = {path.stem: lib.load(path, engine="fake") for path in lib.routine_files(lib.SCRIPTS_DIR)}
    entries = [_starter_entry(routines[rid], folder, cache) for rid in build.library_order(routines)]
    (folder / "index.html").write_text(render_index("voiceguide starter library", entries), encoding="utf-8")
    return folder, entries


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {folder}")
    return folder


@pytest.fixture
def sized(browser):
    """The browser, with ``sized.to(name)`` to take a phone's or a desktop's viewport; back to its
    own size afterwards."""

    class Sized:
        def to(self, name: str) -> None:
            width, height, mobile = SIZES[name]
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile})

    yield Sized()
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def fresh(browser, page: Path | str) -> None:
    """Open ``page`` (a file, or an address) with nothing remembered from an earlier test, its
    images loaded."""
    address = page.as_uri() if isinstance(page, Path) else page
    browser.get(address)
    browser.execute_script("localStorage.clear()")
    browser.get(address)
    images_loaded(browser)


@contextlib.contextmanager
def opened(folder: Path, where: str) -> Iterator[Path | str]:
    """The page of ``folder``, from the folder itself (``file://``) or served by ``voiceguide serve``."""
    if where == "folder":
        yield folder / "index.html"
        return
    server = serve.make_server(folder, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield serve.address(server) + "index.html"
    finally:
        server.shutdown()
        server.server_close()


def covers_loaded(browser) -> list[int]:
    return browser.execute_script(
        "return [...document.querySelectorAll('.routine-cover')].map((i) => i.naturalWidth)")


def images_loaded(browser) -> None:
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return [...document.images].every((i) => !i.src || i.complete)"))


def play(browser, index: int) -> None:
    from selenium.webdriver.common.by import By

    browser.find_elements(By.CSS_SELECTOR, "[data-routine]")[index].click()
    wait_until(browser, lambda s: not s["paused"] and s["t"] > 0.1, f"routine {index} plays")


def seek_to(browser, ms: float) -> None:
    browser.execute_script('document.getElementById("audio").currentTime = arguments[0]', ms / 1000)
    wait_until(browser, lambda s: abs(s["t"] * 1000 - ms) < 400, f"the audio is at {ms} ms")


SHOWN = """
const picture = document.getElementById("picture");
const meta = navigator.mediaSession.metadata;
return {picture: picture.getAttribute("src"), loaded: picture.complete && picture.naturalWidth > 0,
        step: document.getElementById("now-step").textContent,
        meta: meta && {title: meta.title, artist: meta.artist, album: meta.album,
                       artwork: meta.artwork.map((a) => a.src)}};
"""


def shown(browser) -> dict:
    return browser.execute_script(SHOWN)


def url(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


@pytest.mark.parametrize("size", SIZES)
def test_the_starter_page_shows_every_cover_the_safety_note_once_and_the_step_picture(
        browser, sized, starter, shots, size):
    from selenium.webdriver.common.by import By

    folder, entries = starter
    sized.to(size)
    fresh(browser, folder / "index.html")

    # The library's order (lymphatic first), each card with its cover loaded and its summary.
    titles = [e.text for e in browser.find_elements(By.CLASS_NAME, "routine-title")]
    assert titles == [e["title"] for e in entries] and titles[0] == "Lymphatic drainage facial massage"
    covers = browser.execute_script(
        "return [...document.querySelectorAll('.routine-cover')].map((i) => [i.naturalWidth, i.getAttribute('src')])")
    assert [src for _, src in covers] == [url(e["image"]) for e in entries]
    assert all(width > 0 for width, _ in covers), covers
    assert [e.text for e in browser.find_elements(By.CLASS_NAME, "routine-about")] == [
        summary_of(e["description"]) for e in entries]
    # The safety text is said once, not on every card.
    text = browser.execute_script("return document.body.innerText")
    assert text.count("not medical advice") == 1 and page_safety(entries).removeprefix("Safety: ") in text
    browser.save_screenshot(str(shots / f"{size}-list.png"))

    # Playing: the step's own picture, else the cover.
    play(browser, 0)
    first = entries[0]
    with_picture = next(c for c in first["chapters"] if c.get("img"))
    without = next(c for c in first["chapters"] if not c.get("img"))
    seek_to(browser, without["start_ms"] + 500)
    wait_until(browser, lambda s: s["step"] == without["title"], "a step without a picture shows")
    assert shown(browser)["picture"] == url(first["image"])
    said = next(ln for ln in first["lines"] if ln["start_ms"] >= with_picture["start_ms"])
    seek_to(browser, said["start_ms"] + 300)  # its words on screen too
    browser.execute_script('document.getElementById("audio").pause()')
    wait_until(browser, lambda s: s["step"] == with_picture["title"], "a step with a picture shows")
    images_loaded(browser)
    now = shown(browser)
    assert now["picture"] == url(with_picture["img"]) and now["loaded"]
    # The player's full description: the routine's own safety text, in full.
    assert browser.find_element(By.ID, "playing-about").text == first["description"].strip()
    browser.save_screenshot(str(shots / f"{size}-playing.png"))


CAPTURE_ACTIONS = """
window.mediaActions = {};
if (navigator.mediaSession) {
  const set = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
  navigator.mediaSession.setActionHandler = (action, handler) => {
    window.mediaActions[action] = handler;
    return set(action, handler);
  };
}
"""


def test_the_lock_screen_shows_the_step_and_moves_between_steps(browser, library):
    """The Media Session: the step as title, the routine as artist, the step's picture (the cover
    where it has none); previous and next step, and seeking, as a lock screen's buttons do them."""
    from selenium.webdriver.common.by import By

    script = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE_ACTIONS})
    try:
        fresh(browser, library / "index.html")
        assert browser.execute_script("return Object.keys(window.mediaActions).sort()") == [
            "nexttrack", "pause", "play", "previoustrack", "seekbackward", "seekforward", "seekto"]
    finally:
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]})
    entry = ENTRIES[0]
    settle, cheeks, rest = entry["chapters"]
    play(browser, 0)
    browser.execute_script('document.getElementById("audio").pause()')
    seek_to(browser, 1000)

    def lock_screen(step, picture):
        meta = {"title": step["title"], "artist": entry["title"], "album": "Facial massage",
                "artwork": [(library / picture).as_uri()]}
        wait_until(browser, lambda s: shown(browser)["meta"] == meta, f"the lock screen shows {step['title']}")

    lock_screen(settle, entry["image"])
    browser.execute_script("window.mediaActions.nexttrack()")
    state = wait_until(browser, lambda s: s["step"] == cheeks["title"], "next step")
    assert state["t"] * 1000 == pytest.approx(cheeks["start_ms"], abs=1)
    lock_screen(cheeks, cheeks["img"])
    browser.execute_script("window.mediaActions.nexttrack()")
    state = wait_until(browser, lambda s: s["step"] == rest["title"], "next step again")
    assert state["t"] * 1000 == pytest.approx(rest["start_ms"], abs=1)
    browser.execute_script("window.mediaActions.nexttrack()")  # after the last step: stays
    assert browser.execute_script(STATE_T) * 1000 == pytest.approx(rest["start_ms"], abs=1)
    browser.execute_script("window.mediaActions.previoustrack()")  # at a step's start: the one before
    wait_until(browser, lambda s: s["step"] == cheeks["title"], "previous step")
    browser.execute_script("window.mediaActions.seekto({seekTime: 6.5})")  # 2.5 s into the step
    wait_until(browser, lambda s: abs(s["t"] - 6.5) < 0.05, "the seek lands")
    browser.execute_script("window.mediaActions.seekbackward({})")
    wait_until(browser, lambda s: s["t"] == 0 or s["step"] == settle["title"], "ten seconds back")

    # The page's own buttons do the same; "previous" a while into a step goes to its start.
    browser.find_element(By.ID, "next-step").click()
    wait_until(browser, lambda s: abs(s["t"] * 1000 - cheeks["start_ms"]) < 1, "the next-step button")
    browser.execute_script('document.getElementById("audio").currentTime = 7.5')  # 3.5 s in
    wait_until(browser, lambda s: abs(s["t"] - 7.5) < 0.05, "the audio is 3.5 s into the step")
    browser.find_element(By.ID, "previous-step").click()
    wait_until(browser, lambda s: abs(s["t"] * 1000 - cheeks["start_ms"]) < 1, "back to the step's start")


STATE_T = 'return document.getElementById("audio").currentTime'


@pytest.mark.parametrize("where", ["folder", "served"])
def test_a_reload_offers_to_resume_where_you_stopped(browser, sized, starter, shots, where):
    from selenium.webdriver.common.by import By

    folder, entries = starter
    sized.to("phone")
    with opened(folder, where) as page:
        fresh(browser, page)
        assert len(covers_loaded(browser)) == len(entries) and all(covers_loaded(browser))
        resume_after_reload(browser, entries, shots / f"phone-resume-{where}.png")


def resume_after_reload(browser, entries: list[dict], shot: Path) -> None:
    from selenium.webdriver.common.by import By

    assert not browser.find_element(By.ID, "resume").is_displayed()  # nothing to resume yet
    play(browser, 1)
    seek_to(browser, 100_000)
    browser.execute_script('document.getElementById("audio").pause()')
    wait_until(browser, lambda s: s["paused"], "paused")

    browser.refresh()
    from selenium.webdriver.support.wait import WebDriverWait

    offered = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "resume-text").text)  # once the script ran
    assert offered == f"Resume “{entries[1]['title']}” at 1:40?"
    offer = browser.find_element(By.ID, "resume")
    assert offer.is_displayed()
    browser.save_screenshot(str(shot))
    browser.find_element(By.ID, "resume-play").click()
    state = wait_until(browser, lambda s: not s["paused"] and s["t"] >= 100, "it plays on from 1:40")
    assert state["title"] == entries[1]["title"] and state["t"] < 102
    assert not offer.is_displayed()

    # "Not now" hides the offer; a new version of the audio (another key) is not offered.
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "resume").is_displayed())
    browser.find_element(By.ID, "resume-dismiss").click()
    assert not browser.find_element(By.ID, "resume").is_displayed()
    browser.execute_script("""
        const key = Object.keys(localStorage).find((k) => k.startsWith("voiceguide:stopped:"));
        localStorage.setItem(key.replace(/:[^:]*$/, ":another"), localStorage.getItem(key));
        localStorage.removeItem(key);""")
    browser.refresh()
    assert not browser.find_element(By.ID, "resume").is_displayed()
