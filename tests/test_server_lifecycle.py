"""Jobs over the server's life: many at once, a full queue, expiry, restarts (clean and killed)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import httpx
import numpy as np
from server_support import GatedEngine, events, wait_for

from restore_core.server.jobs import INTERRUPTED
from restore_core.server.worker import STOPPED_RUNNING, STOPPED_WAITING

ENHANCE = "/api/v1/tools/enhance-faces"
PASSTHROUGH = '{"model": "passthrough", "strength": 0}'


def _post(client: httpx.Client, name: str, data: bytes, settings: str = PASSTHROUGH) -> httpx.Response:
    return client.post(ENHANCE, files={"file": (name, data)}, data={"settings": settings})


def _status(client: httpx.Client, job: str) -> dict:
    return wait_for(client, f"/api/v1/jobs/{job}", lambda s: s["status"] not in ("pending", "processing"))


def _variants(photos_dir: Path, count: int) -> list[bytes]:
    """``count`` different small PNGs of a photo with faces: each has its own size and a marker."""
    base = cv2.imread(str(photos_dir / "collage_two_faces.jpg"))
    out = []
    for i in range(count):
        width = 360 + 8 * i
        image = cv2.resize(base, (width, round(base.shape[0] * width / base.shape[1])), interpolation=cv2.INTER_AREA)
        image[:6, :6] = (i * 12, 255 - i * 12, i * 5)
        out.append(cv2.imencode(".png", image)[1].tobytes())
    return out


def test_twenty_concurrent_submissions_all_finish_with_their_own_results(
    models_dir: Path, photos_dir: Path, serve
) -> None:
    server = serve()
    photos = _variants(photos_dir, 20)
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda i: _post(server.client, f"photo{i}.png", photos[i]), range(20)))
    assert [a.status_code for a in answers] == [202] * 20
    jobs = [a.json()["jobId"] for a in answers]
    assert len(set(jobs)) == 20
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda job: _status(server.client, job), jobs))
    assert [s["status"] for s in statuses] == ["completed"] * 20
    for i, status in enumerate(statuses):
        result = status["result"]
        assert result["downloadUrl"].endswith(f"/photo{i}_enhanced.png")
        assert result["originalSize"] == len(photos[i]) and result["facesDetected"] >= 1
        png = server.client.get(result["downloadUrl"]).content
        np.testing.assert_array_equal(
            cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED),
            cv2.imdecode(np.frombuffer(photos[i], np.uint8), cv2.IMREAD_UNCHANGED),
        )


def test_a_full_queue_answers_429_and_the_queued_jobs_still_run(models_dir: Path, photos_dir: Path, serve) -> None:
    engine = GatedEngine()
    server = serve(engine_factory=lambda: engine, max_queue=1)
    photo = _variants(photos_dir, 1)[0]
    running = _post(server.client, "a.png", photo).json()["jobId"]
    assert engine.opening.wait(30)
    waiting = _post(server.client, "b.png", photo).json()["jobId"]
    full = _post(server.client, "c.png", photo)
    assert full.status_code == 429 and "queue is full" in full.json()["error"]
    assert full.headers["Retry-After"]
    assert len(list(server.jobs_dir.iterdir())) == 2  # the refused upload is not kept
    engine.gate.set()
    assert [_status(server.client, job)["status"] for job in (running, waiting)] == ["completed", "completed"]
    assert _post(server.client, "d.png", photo).status_code == 202


def test_results_expire_and_their_files_are_deleted(models_dir: Path, photos_dir: Path, serve) -> None:
    server = serve(keep_results_s=0.5)
    job = _post(server.client, "a.png", _variants(photos_dir, 1)[0]).json()["jobId"]
    result = _status(server.client, job)["result"]
    assert server.client.get(result["downloadUrl"]).status_code in (200, 410)  # may expire already
    deadline = time.monotonic() + 30
    while (server.jobs_dir / job).exists():
        assert time.monotonic() < deadline, "the result was never deleted"
        time.sleep(0.05)
    gone = server.client.get(result["downloadUrl"])
    assert gone.status_code == 410 and "expired" in gone.json()["error"]
    assert "expired" in server.client.get(f"/api/v1/jobs/{job}").json()["error"]
    assert server.client.get(f"/image/v1/status/{job}").json()["expired"] is True


def test_a_restart_knows_every_earlier_job(models_dir: Path, photos_dir: Path, tmp_path: Path, serve) -> None:
    engine = GatedEngine()
    data = tmp_path / "data"
    first = serve(engine_factory=lambda: engine, data_dir=data)
    photo = _variants(photos_dir, 1)[0]
    engine.gate.set()
    done = _post(first.client, "done.png", photo).json()["jobId"]
    assert _status(first.client, done)["status"] == "completed"
    engine.gate.clear()
    engine.opening.clear()
    running = _post(first.client, "running.png", photo).json()["jobId"]
    assert engine.opening.wait(30)
    waiting = _post(first.client, "waiting.png", photo).json()["jobId"]
    threading.Timer(0.5, engine.gate.set).start()  # the running job reaches its next step during the stop
    first.stop()

    second = serve(data_dir=data)
    finished = _status(second.client, done)
    assert finished["status"] == "completed"
    assert second.client.get(finished["result"]["downloadUrl"]).content
    assert events(second.client, f"/api/v1/jobs/{done}/progress")[-1][0] == "complete"
    assert _status(second.client, running)["error"] == STOPPED_RUNNING
    assert _status(second.client, waiting)["error"] == STOPPED_WAITING
    assert sorted(p.name for p in second.jobs_dir.iterdir()) == [done]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(data: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "restore_core.server", "--port", str(port), "--data-dir", str(data)]
    process = subprocess.Popen([*command, "--no-download", "--log-level", "warning"], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return process
        except httpx.TransportError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.1)


def test_a_killed_server_reports_its_job_failed_after_a_restart(
    models_dir: Path, photos_dir: Path, tmp_path: Path
) -> None:
    data, port = tmp_path / "data", _free_port()
    process = _start(data, port)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        crowd = (photos_dir / "crowd_selfie.jpg").read_bytes()
        job = _post(client, "crowd.jpg", crowd, '{"model": "passthrough"}').json()["jobId"]
        with client.stream("GET", f"/api/v1/jobs/{job}/progress") as stream:
            for line in stream.iter_lines():
                if '"phase": "processing"' in line:
                    break
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        assert (data / "jobs" / job).is_dir()  # the kill left the job's folder
    finally:
        process.kill()
    process = _start(data, port)
    try:
        status = client.get(f"/api/v1/jobs/{job}").json()
        assert status["status"] == "failed" and status["error"] == INTERRUPTED
        assert client.get(f"/image/v1/status/{job}").json()["status"] == "Failed"
        name, final = events(client, f"/api/v1/jobs/{job}/progress")[-1]
        assert name == "failed" and final["error"] == INTERRUPTED
        assert not (data / "jobs" / job).exists()
        assert [p for p in data.rglob("*") if p.is_file() and "facemend-tmp" in p.name] == []
        assert client.get("/health").json()["status"] == "ok"
    finally:
        process.terminate()
        process.wait(30)


def test_the_server_starts_without_loading_torch(tmp_path: Path) -> None:
    """Start-up (and /health) stay quick: torch and the models load with the first job, in the worker."""
    code = (
        "import sys; from pathlib import Path; from restore_core.server.app import create_app;"
        "from restore_core.server.config import ServerConfig;"
        f"create_app(ServerConfig(data_dir=Path({str(tmp_path)!r})));"
        "print(','.join(m for m in ('torch', 'facexlib', 'spandrel', 'PySide6') if m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == ""
