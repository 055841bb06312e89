"""``voiceguide serve`` driven as a phone or a hostile client would: raw HTTP over 127.0.0.1 to the
real command (run as a subprocess, stopped with Ctrl-C), whose stderr must stay free of tracebacks
whatever the clients did."""

from __future__ import annotations

import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_page import browser, set_position, wait_until  # noqa: F401 - browser is a fixture

from voiceguide.cli import main
from voiceguide.library import serve

SECRET = b"top secret, outside the library"
BIG = 24_000_000  # more than any socket buffers hold, so a reader that stops leaves the server waiting


def raw(port: int, request: str, host: str = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` (the request line and headers, without the final blank line) and read the
    whole answer: status, headers (lower-case names) and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall((request + f"\r\nHost: {host}\r\nConnection: close\r\n\r\n").encode("latin-1"))
        data = b""
        while chunk := sock.recv(1 << 16):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A library folder with an MP3 (random bytes), one file of each type served, a hidden
    manifest, symlinks out of the folder and one within it; a secret file beside the folder."""
    base = tmp_path_factory.mktemp("served")
    (base / "secret.txt").write_bytes(SECRET)
    lib = base / "library"
    lib.mkdir()
    (lib / "alpha.mp3").write_bytes(random.Random(13).randbytes(300_000))
    (lib / "big.mp3").write_bytes(bytes(BIG))
    for name in ("alpha.m4b", "alpha.chapters.json", "alpha.vtt", "alpha.srt", "library.m3u8",
                 "alpha.cover.png", "alpha.cover.jpg", "index.html"):
        (lib / name).write_text(f"contents of {name}\n")
    (lib / ".voiceguide-build.json").write_bytes(SECRET)
    (lib / "sub").mkdir()
    (lib / "sub" / "inner.lrc").write_text("[00:01.00]hello\n")
    (lib / "escape.mp3").symlink_to(base / "secret.txt")
    (lib / "outside").symlink_to(base)
    (lib / "manifest.json").symlink_to(lib / ".voiceguide-build.json")
    (lib / "same.mp3").symlink_to(lib / "alpha.mp3")
    (lib / ".hidden.mp3").symlink_to(lib / "alpha.mp3")
    return lib


@pytest.fixture(scope="module")
def server(folder):
    """The real ``voiceguide serve`` on a free port of 127.0.0.1: yields (port, process)."""
    process = subprocess.Popen([sys.executable, "-m", "voiceguide", "serve", "--dir", str(folder),
                                "--host", "127.0.0.1", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = process.stdout.readline()  # printed once the server listens
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", banner)
    assert match, banner + process.stderr.read()
    while "Only this computer" not in banner and banner.count("\n") < 10:
        banner += process.stdout.readline()  # read here: communicate() would miss what is buffered
    yield int(match.group(1)), process, banner
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


@pytest.fixture
def port(server):
    return server[0]


def test_ranges_as_safari_asks_for_them(port, folder):
    data = (folder / "alpha.mp3").read_bytes()
    size = len(data)
    status, headers, body = raw(port, "GET /alpha.mp3 HTTP/1.1\r\nRange: bytes=0-1")
    assert (status, headers["content-range"], body) == (206, f"bytes 0-1/{size}", data[:2])
    assert headers["accept-ranges"] == "bytes" and headers["content-type"] == "audio/mpeg"
    for spec, want in [("100-199", data[100:200]), ("-500", data[-500:]), ("299000-", data[299000:]),
                       (f"5-{size + 999}", data[5:])]:
        status, headers, body = raw(port, f"GET /alpha.mp3 HTTP/1.1\r\nRange: bytes={spec}")
        assert status == 206 and body == want, spec
        assert headers["content-length"] == str(len(want))


@pytest.mark.parametrize("spec", [f"{300_000}-", "400000-400100", "50-10"])
def test_an_unsatisfiable_range_is_416_with_the_size(port, spec):
    status, headers, body = raw(port, f"GET /alpha.mp3 HTTP/1.1\r\nRange: bytes={spec}")
    assert status == 416 and headers["content-range"] == "bytes */300000"


def test_head_and_conditional_requests(port, folder):
    status, headers, body = raw(port, "HEAD /alpha.mp3 HTTP/1.1")
    assert (status, headers["content-length"], body) == (200, "300000", b"")
    assert headers["accept-ranges"] == "bytes" and headers["etag"] and headers["last-modified"]
    status, again, body = raw(port, f"GET /alpha.mp3 HTTP/1.1\r\nIf-None-Match: {headers['etag']}")
    assert (status, body, again["etag"]) == (304, b"", headers["etag"])
    status, _, body = raw(port, f"GET /alpha.mp3 HTTP/1.1\r\nIf-Modified-Since: {headers['last-modified']}")
    assert (status, body) == (304, b"")
    status, _, body = raw(port, 'GET /alpha.mp3 HTTP/1.1\r\nIf-None-Match: "something-else"')
    assert status == 200 and len(body) == 300_000


def test_content_types(port):
    want = {"alpha.mp3": "audio/mpeg", "alpha.m4b": "audio/mp4", "alpha.chapters.json": "application/json",
            "alpha.vtt": "text/vtt", "alpha.srt": "application/x-subrip", "library.m3u8": "audio/mpegurl",
            "alpha.cover.png": "image/png", "alpha.cover.jpg": "image/jpeg", "index.html": "text/html",
            "feed.xml": "application/rss+xml", "": "text/html", "sub/inner.lrc": "text/plain"}
    for name, kind in want.items():
        status, headers, _ = raw(port, f"HEAD /{name} HTTP/1.1")
        assert status == 200 and headers["content-type"].split(";")[0] == kind, name


def test_the_feed_carries_the_address_the_client_used_and_revalidates(port):
    status, headers, body = raw(port, "GET /feed.xml HTTP/1.1", host="phone.test:8000")
    link = ET.fromstring(body).find("channel/{http://www.w3.org/2005/Atom}link")
    assert link.get("href") == "http://phone.test:8000/feed.xml"
    status, _, body = raw(port, f"GET /feed.xml HTTP/1.1\r\nIf-None-Match: {headers['etag']}", host="phone.test:8000")
    assert (status, body) == (304, b"")
    status, _, body = raw(port, f"GET /feed.xml HTTP/1.1\r\nIf-None-Match: {headers['etag']}", host="10.1.2.3:8000")
    assert status == 200 and b"http://10.1.2.3:8000/feed.xml" in body  # another address, another feed


@pytest.mark.parametrize("path", [
    "/.voiceguide-build.json", "/%2evoiceguide-build.json", "/.hidden.mp3", "/C:/secret.txt", "/manifest.json", "/escape.mp3",
    "/outside/secret.txt", "/outside/", "/../secret.txt", "/%2e%2e/secret.txt", "/%2e%2e%2fsecret.txt",
    "/sub/..%2f..%2fsecret.txt", "/sub/%2E%2E/%2E%2E/secret.txt", "/..%5csecret.txt",
    "/alpha.mp3%00.html", "/%00", "/sub", "/sub/", "/missing.mp3", "//etc/passwd", "/%2fetc%2fpasswd",
])
def test_nothing_outside_the_folder_nor_hidden_is_served(port, path):
    status, _, body = raw(port, f"GET {path} HTTP/1.1")
    assert status in (400, 404) and SECRET not in body and b"root:" not in body


@pytest.mark.parametrize("request_line", [
    "GET /alpha.mp3 HTTP/1.1\r\n", "GARBAGE\r\n", "GET /%ff%fe HTTP/1.1\r\nHost: x\r\n",
    f"GET /{'a' * 5000}.mp3 HTTP/1.1\r\nHost: x\r\n", f"GET /{'a' * 20000} HTTP/1.1\r\nHost: x\r\n",
    "GET /alpha.mp3 HTTP/1.1\r\nHost: x\r\nRange: bytes=abc\r\n",
])
def test_malformed_requests_are_refused_cleanly(port, request_line):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall((request_line + "Connection: close\r\n\r\n").encode())
        answer = b"".join(iter(lambda: sock.recv(1 << 16), b""))
    assert re.match(rb"HTTP/1\.[01] (400|404|414|416|431) ", answer), answer[:80]


def test_symlinks_within_the_folder_and_subfolders_are_served(port, folder):
    assert raw(port, "GET /same.mp3 HTTP/1.1")[2] == (folder / "alpha.mp3").read_bytes()
    assert raw(port, "GET /sub/inner.lrc HTTP/1.1")[2] == b"[00:01.00]hello\n"


def test_two_hundred_clients_at_once_are_all_answered(port, folder):
    data = (folder / "alpha.mp3").read_bytes()
    start = threading.Barrier(200, timeout=60)

    def one(i: int) -> bool:
        start.wait()
        status, _, body = raw(port, f"GET /alpha.mp3 HTTP/1.1\r\nRange: bytes={i * 1000}-{i * 1000 + 999}")
        return status == 206 and body == data[i * 1000:i * 1000 + 1000]

    with ThreadPoolExecutor(200) as pool:
        assert all(pool.map(one, range(200)))


def test_clients_that_stop_reading_or_abort_do_not_stop_the_server(port):
    stalled = socket.create_connection(("127.0.0.1", port), timeout=30)
    stalled.sendall(b"GET /big.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
    stalled.recv(1 << 16)  # then reads no more: the server's send waits on this client alone
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET /big.mp3 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(1 << 16).startswith(b"HTTP/1.1 200")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    assert raw(port, "HEAD /alpha.mp3 HTTP/1.1")[0] == 200
    stalled.close()
    assert raw(port, "GET /alpha.mp3 HTTP/1.1\r\nRange: bytes=0-1")[0] == 206


def test_ctrl_c_ends_the_server_without_a_traceback(server):
    # Last in this module: what every test above did to the server shows on its stderr now.
    port, process, banner = server
    assert raw(port, "HEAD / HTTP/1.1")[0] == 200
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Traceback" not in err and err.strip() == "Interrupted.", err
    assert "Only this computer can open it" in banner + out


def test_a_port_in_use_says_so_and_suggests_another(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--dir", str(tmp_path), "--host", "127.0.0.1",
                                           "--port", str(busy)])
    assert result.exit_code == 2
    assert result.output == f"Error: port {busy} is in use (another server?): choose another with --port, " \
                            f"e.g. --port {busy + 1}\n"


def test_a_host_not_of_this_computer_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["serve", "--dir", str(tmp_path), "--host", "192.0.2.254", "--port", "0"])
    assert result.exit_code == 2 and "not an address of this computer (--host)" in result.output


def test_the_lan_address_is_one_of_this_computers_on_the_default_route():
    found = serve.lan_address()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((found, 0))  # fails unless the address is this computer's
    routes = Path("/proc/net/route")
    if routes.exists() and any(line.split()[1] == "00000000" for line in routes.read_text().splitlines()[1:]):
        assert not found.startswith("127.")

    class ListeningEverywhere:
        server_address = ("0.0.0.0", 8000)

    assert serve.address(ListeningEverywhere()) == f"http://{found}:8000/"


@pytest.fixture(scope="module")
def long_library(tmp_path_factory) -> Path:
    """A library folder with a six-minute MP3 and the page."""
    from voiceguide.core.audio import ffmpeg_path
    from voiceguide.library.page import render_index

    folder = tmp_path_factory.mktemp("long")
    subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=360",
                    "-c:a", "libmp3lame", "-b:a", "64k", str(folder / "long.mp3")], check=True)
    entry = {"id": "long", "title": "Long routine", "description": "Six minutes.", "duration_ms": 360_000.0,
             "file": "long.mp3", "lines": [], "captions": ["long.vtt", "long.srt"],
             "chapters": [{"title": "First", "start_ms": 0.0, "end_ms": 300_000.0},
                          {"title": "Last minute", "start_ms": 300_000.0, "end_ms": 360_000.0}]}
    (folder / "long.vtt").write_text("WEBVTT\n\n00:04:59.500 --> 00:05:03.000\nFive minutes in.\n")
    (folder / "index.html").write_text(render_index("Served", [entry]), encoding="utf-8")
    return folder


@pytest.mark.browser
def test_chromium_plays_the_served_page_and_seeks_to_five_minutes(browser, long_library):
    from selenium.webdriver.common.by import By

    server = serve.make_server(long_library, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        browser.get_log("browser")
        browser.get(serve.address(server) + "index.html")
        browser.find_element(By.CSS_SELECTOR, "[data-routine]").click()
        state = wait_until(browser, lambda s: not s["paused"] and s["t"] > 0.2, "the routine plays")
        assert state["src"] == serve.address(server) + "long.mp3"
        assert state["duration"] == pytest.approx(360, abs=0.5)
        set_position(browser, 300)
        state = wait_until(browser, lambda s: not s["paused"] and 300.1 < s["t"] < 302,
                           "the audio plays on from 5:00", timeout=2)
        assert state["step"] == "Last minute"
        cues = browser.execute_script("""const track = document.getElementById("audio").textTracks[0];
            return [track.kind, track.mode, [...(track.activeCues || [])].map((cue) => cue.text)];""")
        assert cues == ["captions", "showing", ["Five minutes in."]]  # the captions track, loaded and in step
        assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
    finally:
        server.shutdown()
        server.server_close()
