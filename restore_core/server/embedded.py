"""A server running in a thread of this process, on a free port: for the benchmark and tests,
or any program that wants Facemend's API beside its own work."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_S = 30.0


class BackgroundServer:
    """uvicorn serving ``app`` on ``host`` (port 0: a free one) until ``stop``."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="facemend-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not start on {host}:{port}")
            time.sleep(0.01)
        bound_host, bound_port = self._server.servers[0].sockets[0].getsockname()[:2]
        self.url = f"http://{bound_host}:{bound_port}"

    def stop(self, timeout: float = 60.0) -> None:
        """Stop serving; the app's lifespan ends (the running job stops at its next step)."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("the server did not stop")
