"""A small local HTTP file server for download tests: Range support, wrong bytes, cut connections.

It listens on 127.0.0.1 only, answers at most ``MAX_REQUESTS`` requests within ``LIFETIME_S``
seconds and then stops by itself (the fixture also stops it at the end of each test).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

MAX_REQUESTS = 50
LIFETIME_S = 120.0


@dataclass
class ServedFile:
    body: bytes
    honour_range: bool = True
    #: send only this many bytes of the next response, then drop the connection (once)
    cut_after: int | None = None


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    range: str | None


class FileServer:
    def __init__(self) -> None:
        self.files: dict[str, ServedFile] = {}
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.timeout = 0.1
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._serve, name="test-file-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve(self, path: str, body: bytes, *, honour_range: bool = True, cut_after: int | None = None) -> None:
        self.files[path] = ServedFile(body, honour_range, cut_after)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._httpd.server_close()

    def _serve(self) -> None:
        deadline = time.monotonic() + LIFETIME_S
        while not self._stop.is_set() and time.monotonic() < deadline and len(self.requests) < MAX_REQUESTS:
            self._httpd.handle_request()

    def _respond(self, handler: BaseHTTPRequestHandler) -> None:
        range_header = handler.headers.get("Range")
        with self._lock:
            self.requests.append(LoggedRequest(handler.path, range_header))
            served = self.files.get(handler.path)
            cut_after = served.cut_after if served else None
            if served is not None:
                served.cut_after = None
        if served is None:
            handler.send_error(404, "not found")
            return
        body = served.body
        match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        if match and served.honour_range:
            start = int(match.group(1))
            if start >= len(body):
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{len(body)}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            body = body[start:]
        else:
            handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.send_header("Accept-Ranges", "bytes" if served.honour_range else "none")
        handler.end_headers()
        handler.wfile.write(body if cut_after is None else body[:cut_after])
        handler.wfile.flush()
        handler.close_connection = True


def _handler_for(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's naming
            server._respond(self)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler


@pytest.fixture()
def file_server() -> Iterator[FileServer]:
    server = FileServer()
    try:
        yield server
    finally:
        server.stop()


class HeldServer(ThreadingHTTPServer):
    """Serves ``body`` to every GET in ``chunk``-byte writes ``pause_s`` apart (a download that
    takes time); while ``hold`` is set, a response stops at half way until ``release`` is set."""

    daemon_threads = True

    def __init__(self, body: bytes, chunk: int, pause_s: float) -> None:
        super().__init__(("127.0.0.1", 0), _HeldHandler)
        self.body, self.chunk, self.pause_s = body, chunk, pause_s
        self.hold = threading.Event()
        self.release = threading.Event()


class _HeldHandler(BaseHTTPRequestHandler):
    server: HeldServer

    def do_GET(self) -> None:  # http.server's naming
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for start in range(0, len(body), self.server.chunk):
            if start >= len(body) // 2 and self.server.hold.is_set():
                self.server.release.wait(30)
            try:
                self.wfile.write(body[start : start + self.server.chunk])
                self.wfile.flush()
            except OSError:
                return  # the client went away (cancelled)
            time.sleep(self.server.pause_s)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def held_mirror(
    body: bytes, monkeypatch: pytest.MonkeyPatch, *, chunk: int, pause_s: float = 0.0
) -> Iterator[HeldServer]:
    """A ``HeldServer`` standing in for GitHub releases (``FACEMEND_DOWNLOAD_MIRROR``)."""
    httpd = HeldServer(body, chunk, pause_s)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("FACEMEND_DOWNLOAD_MIRROR", f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        yield httpd
    finally:
        httpd.release.set()
        httpd.shutdown()
        httpd.server_close()
