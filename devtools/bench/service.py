"""Scenario 10: the HTTP service under a short, bounded load, against the same jobs in-process.

A real server (uvicorn in a thread, 127.0.0.1, a free port) with the passthrough model, so the
figures are the service's own cost: upload, queue, the worker, the event stream, the files.
"""

from __future__ import annotations

import json
import shutil
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from restore_core.engine import RenderEngine
from restore_core.params import DetectionSettings, FaceSettings, Settings
from restore_core.pipeline import Pipeline, drive

from .report import Row
from .timing import alternate

SCENARIO = "10 HTTP service, passthrough"
#: a small photo with two faces, so the figures show the service's cost more than the pipeline's
PHOTO = "collage_two_faces.jpg"
CLIENTS = 4
#: the same job both ways: passthrough at full strength, the detector the bench installs
SETTINGS = {"model": "passthrough", "strength": 1.0, "detector": "retinaface_mobile0.25"}


@contextmanager
def _server(data_dir: Path, device: str) -> Iterator[str]:
    from restore_core.server.app import create_app
    from restore_core.server.config import ServerConfig
    from restore_core.server.embedded import BackgroundServer

    shutil.rmtree(data_dir, ignore_errors=True)
    config = ServerConfig(data_dir=data_dir, allow_download=False, device=device, max_queue=256)
    server = BackgroundServer(create_app(config))
    try:
        yield server.url
    finally:
        server.stop()


def _submit(client: httpx.Client, photo: bytes) -> str:
    answer = client.post(
        "/api/v1/tools/enhance-faces", files={"file": (PHOTO, photo)}, data={"settings": json.dumps(SETTINGS)}
    )
    answer.raise_for_status()
    return str(answer.json()["jobId"])


def _until(client: httpx.Client, job: str, marker: str) -> None:
    """Read the job's event stream until a line holding ``marker`` (or its end)."""
    with client.stream("GET", f"/api/v1/jobs/{job}/progress") as stream:
        for line in stream.iter_lines():
            if marker in line:
                return


def service_load(bench: object) -> list[Row]:
    from .scenarios import Bench

    assert isinstance(bench, Bench)
    source = bench.workspace.photo(PHOTO)
    photo = source.read_bytes()
    jobs = 2 if bench.config.quick else 24
    settings = Settings(
        detection=DetectionSettings(detector="retinaface_mobile0.25"), face=FaceSettings(model="passthrough")
    )
    engine = RenderEngine(device=bench.device.type)
    out = bench.output / "service"
    with (
        _server(bench.workspace.root / "server-data", bench.device.type) as url,
        httpx.Client(base_url=url, timeout=600) as client,
    ):

        def one_job(_: int) -> None:
            _until(client, _submit(client, photo), "event: complete")

        def served() -> None:
            with ThreadPoolExecutor(min(CLIENTS, jobs)) as pool:
                list(pool.map(one_job, range(jobs)))

        def in_process() -> None:
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            for i in range(jobs):
                drive(Pipeline(settings, engine=engine).run(source, out / f"{i}.png"))

        measured = alternate({"served": served, "in_process": in_process}, bench.config.rounds, warmup=1)
        first_event, accepted = [], []
        for _ in range(bench.config.light_rounds):  # one job at a time: an idle server's latency
            start = time.perf_counter()
            job = _submit(client, photo)
            accepted.append(time.perf_counter() - start)
            _until(client, job, '"phase": "processing"')
            first_event.append(time.perf_counter() - start)
            _until(client, job, "event: complete")
    served_rate = jobs / measured["served"].median
    local_rate = jobs / measured["in_process"].median
    return [
        Row(
            SCENARIO,
            f"{jobs} jobs from {min(CLIENTS, jobs)} clients: jobs per second (upload, SSE to complete)",
            served_rate,
            local_rate,
            "jobs/s",
            note=f"reference: the same jobs through Pipeline.run in-process; {source.name}, 2 faces",
        ),
        Row(
            SCENARIO,
            "idle server: request to first progress event",
            1000 * statistics.median(first_event),
            None,
            "ms",
            note=f"202 answered after {1000 * statistics.median(accepted):.1f} ms",
        ),
    ]
