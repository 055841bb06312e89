"""The library page (index.html): its inline data and escaping as plain functions, and the page
itself in a real headless Chromium (marked ``browser``): it lists the routines, plays, seeks on a
step tap and shows the step and line at the audio's position. What a person sees and keeps (covers,
pictures, the lock screen, resume, screenshots) is in ``test_page_look.py``."""

from __future__ import annotations

import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from voiceguide import render as lib
from voiceguide.core.audio import ffmpeg_path
from voiceguide.export.pictures import routine_cover, step_picture
from voiceguide.library import build, index
from voiceguide.library.page import (
    format_duration,
    page_safety,
    render_index,
    split_description,
    summary_of,
)
from voiceguide.script.words import LANGUAGES, words_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NASTY = 'Jaw </script><b>release</b> & "calm" <!--<script>'


def chapter(title, start, end):
    return {"title": title, "start_ms": start, "end_ms": end}


def line(start, end, text):
    return {"start_ms": start, "end_ms": end, "text": text}


# Two routines, as build passes them; the first has markup in its texts.
ENTRIES = [
    {
        "id": "lymphatic",
        "title": "Lymphatic </script><b>drainage</b> & more",
        "description": "Gentle strokes outwards <!--<script>. Safety: this is not medical advice.",
        "duration_ms": 12000.0,
        "file": "lymphatic.mp3",
        "image": "v/0123456789ab/lymphatic.cover.png",
        "version": "0123456789ab",
        "chapters": [chapter("Settle", 0.0, 4000.0),
                     {**chapter("Cheeks <i>", 4000.0, 8000.0), "img": "pictures/cheeks circles.png"},
                     chapter("Rest", 8000.0, 12000.0)],
        "lines": [line(500.0, 2500.0, "Sit tall and let your shoulders drop."),
                  line(4600.0, 6000.0, "Circle the cheeks, </script>slowly."),
                  line(6200.0, 7600.0, "Now the other way."),
                  line(8500.0, 10500.0, "Let your hands rest.")],
    },
    {
        "id": "jaw",
        "title": "Quick jaw release",
        "description": "Slow circles over the jaw muscles. Safety: this is not medical advice.",
        "duration_ms": 8000.0,
        "file": "jaw release #2.mp3",
        "image": "v/ba9876543210/jaw #2.cover.png",
        "version": "ba9876543210",
        "chapters": [chapter("Jaw circles", 0.0, 5000.0), chapter("Let go", 5000.0, 8000.0)],
        "lines": [line(300.0, 2000.0, "Fingertips on the jaw muscles."),
                  line(5400.0, 7000.0, "Let your jaw hang loose.")],
    },
]


class ParsedPage(HTMLParser):
    """A page as an HTML parser reads it: every start tag, the text of each script, and the text
    of each element, keyed by its class, else its id, else its tag name."""

    VOID = {"meta", "link", "br", "img", "input", "hr"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.texts: dict[str, list[str]] = {}
        self._open: list[tuple[str, dict, list[str]]] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self._open.append((tag, dict(attrs), []))

    def handle_endtag(self, tag):
        open_tag, attrs, parts = self._open.pop()
        assert open_tag == tag, f"</{tag}> closes <{open_tag}>"
        text = "".join(parts)
        if tag == "script":
            self.scripts.append((attrs, text))
        key = attrs.get("class") or attrs.get("id") or tag
        self.texts.setdefault(key, []).append(text)

    def handle_data(self, data):
        for _, _, parts in self._open:
            parts.append(data)


def library_data(page: ParsedPage):
    [data] = [text for attrs, text in page.scripts if attrs.get("id") == "library-data"]
    return data


# What the page's script says, in English, beside the library's title and routines.
ENGLISH_SCRIPT_WORDS = {"lang": "en", "words": {"audio_error": "This routine's audio could not be played.",
                                                "resume_at": "Resume “{title}” at {time}?", "captions": "Captions"}}


# --- the page as text ---


def test_the_inline_data_round_trips():
    page = ParsedPage(render_index("Facial massage", ENTRIES))
    assert json.loads(library_data(page)) == {"title": "Facial massage", "routines": ENTRIES, **ENGLISH_SCRIPT_WORDS}


def test_markup_in_titles_and_text_stays_text():
    page = ParsedPage(render_index(NASTY, ENTRIES))

    assert [attrs.get("type") for attrs, _ in page.scripts] == ["application/json", None]
    assert "<" not in library_data(page)  # so neither "</script>" nor "<!--" can occur in it
    assert json.loads(library_data(page)) == {"title": NASTY, "routines": ENTRIES, **ENGLISH_SCRIPT_WORDS}
    assert page.texts["title"] == page.texts["h1"] == [NASTY]
    assert page.texts["routine-title"] == [entry["title"] for entry in ENTRIES]
    assert page.texts["routine-about"] == [summary_of(entry["description"]) for entry in ENTRIES]
    assert not [tag for tag, _ in page.tags if tag in ("b", "i")]


@pytest.mark.parametrize(
    "ms, text",
    [(0, "0:00"), (12000, "0:12"), (59_499, "0:59"), (59_999, "0:59"), (60_000, "1:00"), (754_000, "12:34"),
     (3_599_000, "59:59"), (3_600_000, "1:00:00"), (3_723_400, "1:02:03")],
)
def test_durations_read_as_a_clock(ms, text):
    assert format_duration(ms) == text


def test_the_list_shows_each_routine_duration():
    page = ParsedPage(render_index("Library", ENTRIES))
    assert page.texts["routine-duration"] == ["0:12", "0:08"]


def test_the_page_is_self_contained():
    """No fonts, scripts or styles from anywhere: the only links are the inline icon and the
    library's own covers, relative to the page (each part URL-encoded)."""
    page = ParsedPage(render_index("Library", ENTRIES))
    urls = [value for _, attrs in page.tags for name, value in attrs.items()
            if name in ("src", "href")]
    assert [url for url in urls if not url.startswith("data:")] == [
        "v/0123456789ab/lymphatic.cover.png", "v/ba9876543210/jaw%20%232.cover.png"]
    assert not [attrs for tag, attrs in page.tags if tag == "script" and "src" in attrs]
    assert not [attrs for tag, attrs in page.tags if tag == "link" and attrs.get("rel") != "icon"]
    assert "viewport" in [attrs.get("name") for tag, attrs in page.tags if tag == "meta"]


def test_cards_say_the_summary_and_the_page_says_the_safety_text_once():
    """The starter routines' descriptions end with a safety text: a card shows the first sentence
    up to its list, the page the safety text most routines share, once (each routine's own is in
    its description, shown in full when it is opened)."""
    routines = [lib.load(path, engine="fake") for path in lib.routine_files(lib.SCRIPTS_DIR)]
    entries = [{**ENTRIES[1], "title": r.title, "description": r.description} for r in routines]
    page = ParsedPage(render_index("Library", entries))
    summaries = dict(zip((r.id for r in routines), page.texts["routine-about"]))
    assert summaries["lymphatic"] == "A gentle, de-puffing facial massage that moves fluid toward the lymph nodes"
    assert summaries["morning"] == "A short, feather-light lymphatic massage for a puffy morning face"
    assert not [text for text in page.texts["routine-about"] if "Safety" in text]
    [safety] = page.texts["safety"]
    assert safety == page_safety(entries) and safety.startswith("Safety: this is not medical advice.")
    assert split_description("Calm. Safety:  stop  if it hurts.") == ("Calm.", "Safety: stop if it hurts.")
    assert summary_of("Slow circles. Then rest.") == "Slow circles" and summary_of("") == ""
    assert "safety" not in ParsedPage(render_index("Library", [{**ENTRIES[1], "description": "Calm."}])).texts


def test_the_library_lists_lymphatic_first_then_the_rest_by_id():
    ids = [path.stem for path in lib.routine_files(lib.SCRIPTS_DIR)]
    assert build.library_order(ids) == ["lymphatic", *sorted(set(ids) - {"lymphatic"})]
    assert build.library_order(["b", "a"]) == ["a", "b"]
    assert build.library_order(["b", "a", "c"], first=["c", "x", "c"]) == ["c", "a", "b"]
    manifest = {"lymphatic-5m": {"entry": {"of": "lymphatic"}}, "alpha": {"entry": {"of": "alpha"}},
                "lymphatic": {"entry": {"of": "lymphatic"}}, "older": {"entry": {}}}
    assert index._listed(manifest) == ["lymphatic", "lymphatic-5m", "alpha", "older"]  # variants after theirs


def test_an_empty_library_says_so():
    page = ParsedPage(render_index("Library", []))
    assert page.texts["empty"] == ["No routines yet."]
    assert page.texts["summary"] == ["0 routines"]


# --- the page in the library's language ---

GERMAN = [
    {**ENTRIES[1], "id": "kiefer", "of": "kiefer", "variant": "", "title": "Kiefer lösen",
     "description": "Langsame Kreise über den Kiefermuskeln. Sicherheitshinweis: kein ärztlicher Rat.",
     "chapters": [chapter("Kiefer kreisen", 0.0, 5000.0), chapter("Loslassen", 5000.0, 8000.0)],
     "lines": [line(300.0, 2000.0, "Fingerspitzen auf die Kiefermuskeln."),
               line(5400.0, 7000.0, "Lass den Kiefer locker.")]},
    {**ENTRIES[1], "id": "kiefer-5m", "of": "kiefer", "variant": "5 Minuten", "title": "Kiefer lösen (5 Minuten)",
     "description": "Langsame Kreise über den Kiefermuskeln. Sicherheitshinweis: kein ärztlicher Rat.",
     "duration_ms": 5000.0, "file": "kiefer-5m.mp3", "chapters": [], "lines": []},
    {**ENTRIES[1], "id": "wangen", "title": "Wangen", "file": "wangen.mp3",
     "description": "Sanft über die Wangen streichen. Sicherheitshinweis: kein ärztlicher Rat.",
     "chapters": [chapter("Wangen (links)", 0.0, 4000.0), chapter("Wangen (rechts)", 4000.0, 8000.0)],
     "lines": [line(300.0, 2000.0, "Jetzt die linke Seite.")]},
]


class UiText(HTMLParser):
    """What a page shows or reads out: its text outside scripts and styles, and the attributes
    a person sees or hears (aria-label, title, alt, label, placeholder, lang)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self._hidden += tag in ("script", "style")
        self.parts += [value for name, value in attrs
                       if name in ("aria-label", "title", "alt", "label", "placeholder", "lang") and value]

    def handle_endtag(self, tag):
        self._hidden -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def english_left(text: str, language: str) -> list[str]:
    """The page words of English (but those ``language`` shares) found in ``text`` as words of
    their own: each text between its ``{names}``, of three letters or more."""
    english, own = words_for("en").page, words_for(language).page
    pieces = [piece.strip(" “”?.,") for key, said in english.items() if own[key] != said
              for piece in re.split(r"\{[^{}]*\}", said)]
    return [piece for piece in pieces if len(re.sub(r"\W", "", piece)) >= 3
            and re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text)]


def test_a_german_page_speaks_german_in_its_html_and_its_script():
    page_text = render_index("Gesichtsmassage", GERMAN, "de")
    page = ParsedPage(page_text)
    assert [attrs.get("lang") for tag, attrs in page.tags if tag == "html"] == ["de"]
    texts = page.texts
    assert texts["summary"] == ["2 Routinen"]
    assert texts["primary"] == ["Fortsetzen"]  # the buttons, by class
    assert texts["quiet"] == ["Jetzt nicht", "‹ Vorheriger Schritt", "Nächster Schritt ›"]
    assert texts["label"] == ["Jetzt läuft", "Schritte", "Über diese Routine", "Routinen"]
    assert texts["option"] == ["Vollständig, 0:08", "5 Minuten, 0:05"]
    assert texts["routine-version"] == ["Fassung Vollständig, 0:085 Minuten, 0:05"]
    assert [attrs["aria-label"] for tag, attrs in page.tags if "data-routine" in attrs] == [
        "Kiefer lösen abspielen", "Wangen abspielen"]
    assert [attrs["aria-label"] for tag, attrs in page.tags if attrs.get("class") == "safety"] == [
        "Sicherheitshinweis"]
    assert texts["safety"] == ["Sicherheitshinweis: kein ärztlicher Rat."]
    assert texts["strong"] == ["Sicherheitshinweis:"]
    assert texts["routine-about"] == ["Langsame Kreise über den Kiefermuskeln", "Sanft über die Wangen streichen"]
    data = json.loads(library_data(page))
    assert data == {"title": "Gesichtsmassage", "routines": GERMAN, "lang": "de", "words": {
        "audio_error": "Die Audiodatei dieser Routine konnte nicht abgespielt werden.",
        "resume_at": "„{title}“ bei {time} fortsetzen?", "captions": "Untertitel"}}
    shown = "\n".join(UiText(page_text).parts + list(data["words"].values()))
    assert english_left(shown, "de") == []
    assert ParsedPage(render_index("Bibliothek", [], "de")).texts["empty"] == ["Noch keine Routinen."]


def test_the_check_for_english_left_can_fail():
    shown = "\n".join(UiText(render_index("Library", ENTRIES)).parts)
    assert english_left(shown, "de") == ["routine", "routines", "Routines", "Safety", "Play", "Resume", "Not now",
                                         "Resume", "Now playing", "Previous step", "Next step", "Steps",
                                         "About this routine"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_its_page(language):
    words = words_for(language)
    page_text = render_index("Library", [{**entry, "description": "Calm."} for entry in VERSIONS], language)
    page = ParsedPage(page_text)
    assert [attrs.get("lang") for tag, attrs in page.tags if tag == "html"] == [language]
    assert page.texts["summary"] == [words.routine_count(2)]
    assert page.texts["primary"] == [words.page["resume"]]
    assert page.texts["option"][0] == f"{words.page['full']}, 0:08"
    data = json.loads(library_data(page))
    assert data["lang"] == language and data["words"] == {key: words.page[key] for key in
                                                         ("audio_error", "resume_at", "captions")}
    shown = UiText(page_text).parts
    assert not [text for text in shown if "{" in text or "}" in text]
    if language != "en":
        assert english_left("\n".join(shown + list(data["words"].values())), language) == []


def test_a_safety_text_in_the_library_language_is_found():
    assert split_description("Sanft. Sicherheitshinweis: kein Rat.", "de") == ("Sanft.", "Sicherheitshinweis: kein Rat.")
    assert split_description("Sanft. Safety: no advice.", "de") == ("Sanft.", "Safety: no advice.")
    assert split_description("Sanft. Sicherheitshinweis: kein Rat.") == ("Sanft. Sicherheitshinweis: kein Rat.", "")
    french = "Des gestes doux. Précautions\u00a0: arrêtez en cas de douleur."
    assert split_description(french, "fr") == ("Des gestes doux.", "Précautions : arrêtez en cas de douleur.")
    japanese = {**ENTRIES[1], "description": "優しいマッサージです。安全上の注意：痛みがあれば中止してください。"}
    page = ParsedPage(render_index("ライブラリ", [japanese], "ja"))
    assert page.texts["routine-about"] == ["優しいマッサージです"]
    assert page.texts["safety"] == ["安全上の注意：痛みがあれば中止してください。"]
    assert page.texts["strong"] == ["安全上の注意："]
    assert page_safety([japanese], "ja") == "安全上の注意：痛みがあれば中止してください。"
    assert summary_of("Langsam. Dann ruhen.", "de") == "Langsam"


# --- the page in a real browser ---


def browser_problem() -> str:
    """Why the headless browser cannot run here, or "" when it can."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return ""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium through chromedriver, offline, allowed to play audio without a gesture,
    with reduced motion (so the page scrolls at once, and an element is where a click lands).
    Skipped where Chromium, chromedriver or selenium is missing, except in CI, where it fails."""
    problem = browser_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"browser: {problem}")
        pytest.skip(f"browser: {problem}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--autoplay-policy=no-user-gesture-required",
                 "--force-prefers-reduced-motion",
                 "--window-size=400,860", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def write_library(folder: Path, entries: list[dict], title: str = "Facial massage", language: str = "en") -> Path:
    """A library folder: a short real MP3 per routine, its cover, its steps' pictures, and the
    page."""
    for entry in entries:
        seconds = entry["duration_ms"] / 1000
        subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-f", "lavfi",
                        "-i", f"sine=frequency=440:duration={seconds}", "-c:a", "libmp3lame",
                        "-b:a", "32k", str(folder / entry["file"])], check=True)
        pictures = {entry["image"]: routine_cover(entry["title"])} if entry.get("image") else {}
        pictures.update({c["img"]: step_picture("cheeks", "circles") for c in entry["chapters"] if c.get("img")})
        for name, data in pictures.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
    (folder / "index.html").write_text(render_index(title, entries, language), encoding="utf-8")
    return folder


@pytest.fixture
def library(tmp_path):
    return write_library(tmp_path, ENTRIES)


def expected_now(entry: dict, ms: float) -> tuple[str, str]:
    """The step title and line text the page should show at ``ms``: the step started last, and
    the line started last provided it started in that step (1 ms slack, as the page)."""
    started = [c for c in entry["chapters"] if c["start_ms"] <= ms + 1]
    step = started[-1] if started else None
    spoken = [ln for ln in entry["lines"] if ln["start_ms"] <= ms + 1]
    said = spoken[-1] if spoken and step and spoken[-1]["start_ms"] >= step["start_ms"] else None
    return (step["title"] if step else "", said["text"] if said else "")


# The player's state, read in one go.
STATE = """
const audio = document.getElementById("audio");
return {src: audio.currentSrc, paused: audio.paused, t: audio.currentTime, duration: audio.duration,
        step: document.getElementById("now-step").textContent,
        line: document.getElementById("now-line").textContent,
        title: document.getElementById("playing-title").textContent,
        current: [...document.querySelectorAll("#chapters button")]
                   .findIndex((b) => b.getAttribute("aria-current") === "step")};
"""


def wait_until(driver, check, what: str, timeout: float = 10) -> dict:
    """Poll the player's state until ``check(state)`` holds and return that state; fail with
    ``what`` and the last state seen when it does not within ``timeout`` seconds."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.wait import WebDriverWait

    last = {}

    def holds(_):
        last.update(driver.execute_script(STATE))
        return check(last)

    try:
        WebDriverWait(driver, timeout, poll_frequency=0.05).until(holds)
    except TimeoutException:
        pytest.fail(f"timed out waiting until {what}; last state: {last}")
    return dict(last)


def shows_moment(entry: dict, state: dict) -> bool:
    return (state["step"], state["line"]) == expected_now(entry, state["t"] * 1000)


def set_position(driver, seconds: float) -> None:
    """Seek as the player's own control does."""
    driver.execute_script('document.getElementById("audio").currentTime = arguments[0]', seconds)


@pytest.mark.browser
def test_the_page_plays_seeks_and_follows_the_audio(browser, library):
    from selenium.webdriver.common.by import By

    browser.get_log("browser")  # drop messages from any earlier page
    browser.get((library / "index.html").as_uri())
    first, second = ENTRIES

    # Every routine is listed, with its duration, markup in titles shown as text.
    assert [e.text for e in browser.find_elements(By.CLASS_NAME, "routine-title")] == [
        entry["title"] for entry in ENTRIES]
    assert [e.text for e in browser.find_elements(By.CLASS_NAME, "routine-duration")] == [
        format_duration(entry["duration_ms"]) for entry in ENTRIES]
    assert not browser.find_elements(By.CSS_SELECTOR, "b, i")
    routines = browser.find_elements(By.CSS_SELECTOR, "[data-routine]")

    # A tap on a routine's play button loads its file and plays it.
    routines[0].click()
    state = wait_until(browser, lambda s: not s["paused"] and s["t"] > 0.2,
                       "the first routine plays")
    assert state["src"].endswith("/" + first["file"]) and state["title"] == first["title"]
    assert state["duration"] == pytest.approx(first["duration_ms"] / 1000, abs=0.2)
    wait_until(browser, lambda s: s["t"] > state["t"] + 0.3, "the playback position advances")
    chapters = browser.find_elements(By.CSS_SELECTOR, "#chapters button")
    assert [c.text.split("\n") for c in chapters] == [
        [format_duration(c["start_ms"]), c["title"]] for c in first["chapters"]]

    # A tap on a step seeks to its start and plays on from there.
    step = first["chapters"][1]
    browser.execute_script("""
        const audio = document.getElementById("audio");
        window.seekedAt = [];
        audio.addEventListener("seeked", () => window.seekedAt.push(audio.currentTime));""")
    chapters[1].click()
    wait_until(browser, lambda s: browser.execute_script("return window.seekedAt.length"),
               "the audio seeks")
    assert browser.execute_script("return window.seekedAt[0]") == pytest.approx(
        step["start_ms"] / 1000, abs=0.3)
    state = browser.execute_script(STATE)
    assert not state["paused"] and state["current"] == 1 and state["step"] == step["title"]

    # While it plays, the "now" area follows: the step's first line comes up on time...
    line = first["lines"][1]
    state = wait_until(browser, lambda s: s["line"] == line["text"], "the step's first line shows")
    assert line["start_ms"] - 300 <= state["t"] * 1000 <= line["end_ms"] + 300
    # ...and, paused, it shows exactly what belongs at the position.
    browser.execute_script('document.getElementById("audio").pause()')
    wait_until(browser, lambda s: s["paused"] and shows_moment(first, s),
               "the paused position's step and line show")

    # Seeking with the player's own control moves it too: mid-line; just into a step, before
    # that step's first line, where the last step's line must not linger; back to the start.
    for ms, shown in [(9300.0, ("Rest", "Let your hands rest.")), (8200.0, ("Rest", "")),
                      (1000.0, ("Settle", "Sit tall and let your shoulders drop."))]:
        set_position(browser, ms / 1000)
        state = wait_until(browser, lambda s, ms=ms: abs(s["t"] * 1000 - ms) < 50,
                           f"the audio is at {ms} ms")
        wait_until(browser, lambda s, shown=shown: (s["step"], s["line"]) == shown,
                   f"the page shows {shown} at {ms} ms")
        assert expected_now(first, ms) == shown

    # Another routine replaces the first in the same player (its file name has URL syntax in it).
    routines[1].click()
    state = wait_until(browser, lambda s: s["title"] == second["title"] and not s["paused"]
                       and s["t"] > 0.2, "the second routine plays")
    assert state["src"].endswith("/jaw%20release%20%232.mp3")
    assert len(browser.find_elements(By.TAG_NAME, "audio")) == 1
    chapters = browser.find_elements(By.CSS_SELECTOR, "#chapters button")
    assert [c.text.split("\n")[1] for c in chapters] == [c["title"] for c in second["chapters"]]

    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


@pytest.mark.browser
def test_a_missing_audio_file_is_reported_on_the_page(browser, tmp_path):
    from selenium.webdriver.common.by import By

    (tmp_path / "index.html").write_text(render_index("Library", ENTRIES[:1]), encoding="utf-8")
    browser.get((tmp_path / "index.html").as_uri())
    browser.find_element(By.CSS_SELECTOR, "[data-routine]").click()
    wait_until(browser, lambda s: s["line"] == "This routine's audio could not be played.",
               "the page says the audio could not be played")


# --- a routine's versions (issue 15): one card, a choice of length and version ---

VERSIONS = [
    {**ENTRIES[1], "of": "jaw", "variant": ""},
    {**ENTRIES[1], "id": "jaw-5m", "of": "jaw", "variant": "5 minutes", "duration_ms": 5000.0,
     "file": "jaw-5m.mp3", "title": "Quick jaw release (5 minutes)"},
    {**ENTRIES[1], "id": "jaw-cues", "of": "jaw", "variant": "cues only", "duration_ms": 7000.0,
     "file": "jaw-cues.mp3", "title": "Quick jaw release (cues only)"},
    {**ENTRIES[0], "of": "lymphatic", "variant": ""},
]


def test_a_routine_and_its_versions_share_one_card_with_a_choice():
    page = ParsedPage(render_index("Library", VERSIONS))
    assert page.texts["routine-title"] == ["Quick jaw release", ENTRIES[0]["title"]]
    assert page.texts["summary"] == ["2 routines"]  # routines, not files
    options = [attrs["value"] for tag, attrs in page.tags if tag == "option"]
    assert options == ["0", "1", "2"]  # the jaw card offers its three versions; lymphatic has one
    assert page.texts["option"] == ["Full, 0:08", "5 minutes, 0:05", "cues only, 0:07"]
    assert [attrs["data-routine"] for tag, attrs in page.tags if "data-routine" in attrs] == ["0", "3"]
    assert json.loads(library_data(page))["routines"] == json.loads(json.dumps(VERSIONS))


@pytest.mark.browser
def test_choosing_a_version_plays_that_file(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    write_library(tmp_path, VERSIONS)
    browser.get((tmp_path / "index.html").as_uri())
    card = browser.find_elements(By.CLASS_NAME, "routine")[0]
    Select(card.find_element(By.TAG_NAME, "select")).select_by_visible_text("5 minutes, 0:05")
    assert card.find_element(By.CLASS_NAME, "routine-duration").text == "0:05"
    assert browser.execute_script('return document.getElementById("audio").paused')  # choosing is not playing
    card.find_element(By.CSS_SELECTOR, "[data-routine]").click()
    state = wait_until(browser, lambda s: not s["paused"] and s["t"] > 0.1, "the chosen version plays")
    assert state["src"].endswith("/jaw-5m.mp3") and state["title"] == VERSIONS[1]["title"]


@pytest.mark.browser
def test_a_german_page_says_its_script_texts_in_german(browser, tmp_path):
    """What the script writes itself (the place offered back, a missing audio file) is German on a
    German page."""
    from selenium.webdriver.common.by import By

    entry = GERMAN[2]
    (tmp_path / "index.html").write_text(render_index("Bibliothek", [entry], "de"), encoding="utf-8")
    browser.get((tmp_path / "index.html").as_uri())
    browser.execute_script("localStorage.clear(); localStorage.setItem(arguments[0], arguments[1])",
                           f"voiceguide:stopped:{entry['id']}:{entry['version']}",
                           json.dumps({"ms": 100_000, "at": 1}))
    browser.refresh()
    from selenium.webdriver.support.wait import WebDriverWait

    offered = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "resume-text").text)  # once the script ran
    assert offered == "„Wangen“ bei 1:40 fortsetzen?"
    assert browser.find_element(By.ID, "resume-play").text == "Fortsetzen"
    browser.find_element(By.ID, "resume-dismiss").click()
    browser.find_element(By.CSS_SELECTOR, "[data-routine]").click()  # wangen.mp3 is not there
    wait_until(browser, lambda s: s["line"] == "Die Audiodatei dieser Routine konnte nicht abgespielt werden.",
               "the page says, in German, that the audio could not be played")
    browser.execute_script("localStorage.clear()")
