"""``voiceguide serve``: the library folder over HTTP, for a phone on the same network.

Files are served as they are, except ``feed.xml``, which is made for each request with the address
the client used, so a podcast app gets absolute links that work from where it stands.
"""

from __future__ import annotations

import functools
import io
import socket
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from . import library


class _Handler(SimpleHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        if self.path.split("?", 1)[0] == "/" + library.FEED:
            host = self.headers.get("Host") or f"{self.server.server_address[0]}:{self.server.server_address[1]}"
            body = library.feed_text(Path(self.directory), f"http://{host}/").encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the terminal shows the address to type, not a line per request


_Handler.extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".m3u8": "audio/x-mpegurl",
                           ".mp3": "audio/mpeg", ".lrc": "text/plain; charset=utf-8"}


def make_server(folder: Path, host: str = "0.0.0.0", port: int = 8000) -> ThreadingHTTPServer:
    """A server for ``folder`` (not yet serving: call ``serve_forever``)."""
    handler = functools.partial(_Handler, directory=str(folder))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def address(server: ThreadingHTTPServer) -> str:
    """The URL to type on a phone: this machine's network address when listening on all of them."""
    host, port = server.server_address[:2]
    if host in ("0.0.0.0", ""):
        host = _lan_address()
    return f"http://{host}:{port}/"


def _lan_address() -> str:
    """This machine's first non-loopback IPv4 address (looked up locally; nothing is sent)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        infos = []
    for info in infos:
        ip = info[4][0]
        if not ip.startswith("127."):
            return ip
    return "127.0.0.1"


def terminal_qr(url: str) -> str:
    """A QR code of ``url`` drawn with block characters, or "" when segno is not installed."""
    try:
        import segno
    except ImportError:
        return ""
    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True)
    return out.getvalue()
