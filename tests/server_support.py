"""Real Facemend servers for tests: uvicorn on a free 127.0.0.1 port in a thread, stopped by the fixture.

``serve(**config)`` starts one (``ServerConfig`` fields as keywords; data in a fresh temp
folder unless ``data_dir`` is given) and returns a ``LiveServer`` with an httpx client on it.
``events(client, url)`` reads a server-sent-event stream to its end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from restore_core.engine import RenderEngine
from restore_core.server.app import create_app
from restore_core.server.config import ServerConfig
from restore_core.server.embedded import BackgroundServer

#: no test waits longer than this for a job
JOB_TIMEOUT_S = 120.0


class LiveServer:
    def __init__(self, config: ServerConfig, engine_factory: Callable[[], RenderEngine] | None = None) -> None:
        self.config = config
        self._server = BackgroundServer(create_app(config, engine_factory))
        self.url = self._server.url
        headers = {"X-API-Key": config.api_key} if config.api_key else {}
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=JOB_TIMEOUT_S)

    @property
    def jobs_dir(self) -> Path:
        return self.config.data_dir / "jobs"

    def stop(self) -> None:
        self.client.close()
        self._server.stop()


def events(client: httpx.Client, url: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event of an SSE stream as (event name, JSON data), in order, until the server closes it."""
    found: list[tuple[str, dict[str, Any]]] = []
    name, data = "message", []
    with client.stream("GET", url) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(":"):
                continue
            if not line:
                if data:
                    found.append((name, json.loads("\n".join(data))))
                name, data = "message", []
            elif line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:"):
                data.append(line[len("data:") :].strip())
    return found


def wait_for(client: httpx.Client, url: str, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Poll ``url`` (JSON) until ``done`` says so."""
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        body = client.get(url).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, f"gave up waiting: {body}"
        time.sleep(0.05)


@pytest.fixture()
def serve(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def start(engine_factory: Callable[[], RenderEngine] | None = None, **options: Any) -> LiveServer:
        options.setdefault("data_dir", tmp_path / f"server-data-{len(started)}")
        options.setdefault("allow_download", False)
        server = LiveServer(ServerConfig(**options), engine_factory)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class GatedEngine(RenderEngine):
    """A render engine that opens each photo only once ``gate`` is set: a job stays running
    (or waiting behind one) for as long as a test needs."""

    def __init__(self) -> None:
        super().__init__(allow_download=False)
        self.gate = threading.Event()
        self.opening = threading.Event()  # set when a job has reached open()

    def open(self, path: str | Path, limits: Any = None) -> Any:
        self.opening.set()
        assert self.gate.wait(JOB_TIMEOUT_S), "the test never opened the gate"
        return super().open(path, limits)
