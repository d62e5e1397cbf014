"""Batches on Ray: one local runtime (2 CPUs, 2 actors) and one plain reference batch, shared
by the module's tests (Ray's start-up is slow on 2 cores).

``--ray auto`` gives the plain batch's outputs bit for bit; a worker killed mid-run loses no file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from support import DETECTOR_WEIGHTS, PHOTOS

from restore_core.batch import MANIFEST_NAME, Batch, FileRecord, WorkerSpec, plan_folder
from restore_core.batch.ray_pool import RayExecutor, connect
from restore_core.cli import main
from restore_core.params import BatchSettings, DetectionSettings, FaceSettings, Settings

FAST = ["--model", "passthrough", "--detector", "retinaface_mobile0.25"]
SETTINGS = Settings(
    detection=DetectionSettings(detector="retinaface_mobile0.25"), face=FaceSettings(model="passthrough")
)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A tree of six photo copies and its plain (in-process) batch; FACEMEND_MODELS holds the detector."""
    root = tmp_path_factory.mktemp("ray")
    (root / "models").mkdir()
    (root / "models" / "detection_mobilenet0.25_Final.pth").symlink_to(DETECTOR_WEIGHTS)
    for i in range(6):
        name = "family_three_print.png" if i % 2 else "collage_two_faces.jpg"
        folder = root / "scans" / f"roll{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(PHOTOS / name, folder / f"p{i}{Path(name).suffix}")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FACEMEND_MODELS", str(root / "models"))  # the actors get it from the driver
        assert main(["restore", str(root / "scans"), "-o", str(root / "plain"), "-r", *FAST]) == 0
        yield root / "scans", root / "plain"


@pytest.fixture(scope="module")
def ray_runtime(plain: tuple[Path, Path]) -> Iterator[dict[str, float]]:
    connect("auto")  # what --ray auto does: a runtime sized to this machine
    yield ray.cluster_resources()
    ray.shutdown()


def _outputs(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != MANIFEST_NAME
    }


def _workers(out: Path) -> list[str]:
    return [json.loads(line)["worker"] for line in (out / MANIFEST_NAME).read_text().splitlines()]


def test_ray_auto_gives_the_plain_batch_bit_for_bit(
    plain: tuple[Path, Path], ray_runtime: dict[str, float], tmp_path: Path
) -> None:
    tree, reference = plain
    assert ray_runtime["CPU"] == os.cpu_count()
    out = tmp_path / "ray"
    assert main(["restore", str(tree), "-o", str(out), "-r", "--ray", "auto", "--actors", "2", *FAST]) == 0
    assert _outputs(out) == _outputs(reference) and len(_outputs(reference)) == 6
    assert len(set(_workers(out))) == 2  # both actors restored files
    assert all(worker.endswith(f":{os.getpid()}") for worker in _workers(reference))


def test_a_killed_ray_worker_loses_no_file(
    plain: tuple[Path, Path], ray_runtime: dict[str, float], tmp_path: Path
) -> None:
    tree, reference = plain
    spec, batch = WorkerSpec(SETTINGS), BatchSettings(recursive=True, ray="auto", actors=2)
    executor = RayExecutor(spec, batch)
    killed: list[int] = []

    def kill_its_worker(record: FileRecord, finished: int, todo: int) -> None:
        if not killed:  # the worker of the first file is busy with its next one (files take ~1 s, this ~10 ms)
            (pid,) = [pid for pid in executor.worker_pids() if record.worker.endswith(f":{pid}")]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    out = tmp_path / "ray"
    summary = Batch(plan_folder(tree, out, batch), spec).run(executor, on_record=kill_its_worker)

    assert killed and executor.retried >= 1
    assert not summary.failed and sorted(r.input for r in summary.done) == sorted({r.input for r in summary.done})
    workers = _workers(out)
    assert len(workers) == 6  # one record per file
    assert workers[0].endswith(f":{killed[0]}") and not any(w.endswith(f":{killed[0]}") for w in workers[1:])
    assert _outputs(out) == _outputs(reference)
