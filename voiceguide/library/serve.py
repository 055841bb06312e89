"""``voiceguide serve``: the library folder over HTTP, for a phone on the same network.

The HTTP is aiohttp's: its ``FileResponse`` answers ``Range`` (206, suffix ranges, 416),
``HEAD``, ``ETag``/``Last-Modified`` and conditional requests (304), and sends files with
``sendfile``; its server takes many clients at once and ends aborted downloads quietly. This module
only decides which file a path names: regular files inside the folder, never a hidden (dot) file,
never through a symlink that leads out of it. ``feed.xml`` is made for each request with the
address the client used, so a podcast app gets absolute links that work from where it stands.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import io
import logging
import socket
import sys
import threading
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from voiceguide.core.errors import UsageError
from voiceguide.library import build as library

#: Pending connections the kernel queues before the server accepts them (Python's default is 5).
BACKLOG = 1024

#: Content types by suffix: the same on every machine (the system's mime.types is not consulted).
TYPES = {
    ".mp3": "audio/mpeg", ".m4b": "audio/mp4", ".m4a": "audio/mp4", ".json": "application/json",
    ".vtt": "text/vtt; charset=utf-8", ".srt": "application/x-subrip; charset=utf-8",
    ".m3u8": "audio/mpegurl", ".m3u": "audio/mpegurl", ".lrc": "text/plain; charset=utf-8",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
    ".gif": "image/gif", ".svg": "image/svg+xml", ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8", ".xml": "application/xml",
}
FEED_TYPE = "application/rss+xml; charset=utf-8"


def app(folder: Path) -> web.Application:
    """The web application serving ``folder``."""
    root = Path(folder).resolve()

    async def feed(request: web.Request) -> web.StreamResponse:
        body = library.feed_text(root, f"{request.scheme}://{request.host}/").encode("utf-8")
        etag = hashlib.sha256(body).hexdigest()[:32]
        headers = {"Cache-Control": "no-cache", "Content-Type": FEED_TYPE}
        if any(tag.value == etag or tag.value == "*" for tag in request.if_none_match or ()):
            response = web.Response(status=304, headers=headers)
        else:
            response = web.Response(body=body, headers=headers)
        response.etag = etag
        return response

    async def file(request: web.Request) -> web.StreamResponse:
        path = resolve(root, request.match_info["path"] or library.PAGE)
        if path is None:
            raise web.HTTPNotFound()
        headers = {"Cache-Control": "no-cache", "Content-Type": TYPES.get(path.suffix.lower(), "application/octet-stream")}
        return web.FileResponse(path, headers=headers)

    application = web.Application()
    application.router.add_get("/" + library.FEED, feed)
    application.router.add_get("/{path:.*}", file)
    return application


def resolve(root: Path, name: str) -> Path | None:
    """The regular file that the URL path ``name`` (already percent-decoded) names inside ``root``
    (an absolute, resolved folder), or None: for ``..``, a hidden (dot) name or a symlink with one,
    a NUL, backslash or colon (a drive on Windows; no library file has one), a symlink whose target
    is outside ``root`` or hidden, a folder or anything that is not there."""
    parts = name.split("/")
    if any(not p or p.startswith(".") or "\0" in p or "\\" in p or ":" in p for p in parts):
        return None
    try:
        path = root.joinpath(*parts).resolve()
        inside = path.relative_to(root)
        regular = path.is_file()
    except (OSError, ValueError, RuntimeError):  # outside the folder, a symlink loop, a name too long
        return None
    if not regular or any(p.startswith(".") for p in inside.parts):
        return None
    return path


class _OneLine(logging.Handler):
    """The server's error log: nothing for a malformed request (aiohttp answers it with 400), one
    line on stderr, never a traceback, for anything else that failed while answering."""

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if not isinstance(error, HttpProcessingError):
            sys.stderr.write(f"serve: {record.getMessage()}" + (f": {error!r}" if error else "") + "\n")


_log = logging.getLogger("voiceguide.library.serve")
_log.propagate = False
_log.addHandler(_OneLine())


class Server:
    """The library's server, bound when made (so a port in use is known before anything is
    printed); the interface of ``socketserver``: ``serve_forever``, ``shutdown`` (from another
    thread), ``server_close`` and ``server_address``."""

    def __init__(self, folder: Path, host: str = "0.0.0.0", port: int = 8000):
        self._loop = asyncio.new_event_loop()
        self._stopped = threading.Event()
        self._stopped.set()
        self._runner = web.AppRunner(app(folder), access_log=None, handle_signals=False, logger=_log)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, host, port, backlog=BACKLOG)
        try:
            self._loop.run_until_complete(site.start())
        except OSError as exc:
            self.server_close()
            raise UsageError(_bind_message(exc, host, port)) from None
        self.server_address = self._runner.addresses[0][:2]

    def serve_forever(self) -> None:
        self._stopped.clear()
        try:
            self._loop.run_forever()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (running in another thread) and wait until it has returned."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._stopped.wait()

    def server_close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._runner.cleanup())
            self._loop.close()


def make_server(folder: Path, host: str = "0.0.0.0", port: int = 8000) -> Server:
    """A server for ``folder``, listening (call ``serve_forever`` to answer)."""
    return Server(folder, host, port)


def _bind_message(exc: OSError, host: str, port: int) -> str:
    if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)):  # Windows: 10048
        return f"port {port} is in use (another server?): choose another with --port, e.g. --port {port + 1 if port < 65535 else 8000}"
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port}: choose one above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
        return f"cannot listen on {host}: not an address of this computer (--host)"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def address(server: Server) -> str:
    """The URL to type on a phone: this machine's network address when listening on all of them."""
    host, port = server.server_address[:2]
    if host in ("0.0.0.0", "", "::"):
        host = lan_address()
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def lan_address() -> str:
    """This machine's address on the network of its default route, or 127.0.0.1 without one.

    Connecting a UDP socket sends nothing: the kernel only picks the route, and with it the local
    address, it would use for that destination (a documentation address, TEST-NET-2)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))
            return probe.getsockname()[0]
        except OSError:  # no route: not on a network
            return "127.0.0.1"


def is_loopback(host: str) -> bool:
    return host == "localhost" or host.startswith("127.") or host == "::1"


def terminal_qr(url: str) -> str:
    """A QR code of ``url`` drawn with block characters."""
    import segno

    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True)
    return out.getvalue()
