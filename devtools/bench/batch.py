"""Scenario 10: folder batches, plain and on Ray, in photos per minute, and what each file costs
the driver: the numbers behind the README's scaling argument.

Throughput is the steady state: from the file after each worker's first (which pays for
loading the models) to the last, by the times the driver recorded them; the contenders run
in turn, round after round, and the medians are reported.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

from typing_extensions import Self

from restore_core.batch import (
    Batch,
    Executor,
    FileJob,
    FileOutcome,
    FileRecord,
    LocalExecutor,
    OutputFile,
    WorkerSpec,
    plan_files,
    plan_folder,
)
from restore_core.io import WriteSet
from restore_core.params import BatchSettings, DetectionSettings, FaceSettings, Settings

from .report import Row
from .workspace import TWO_FACES

if TYPE_CHECKING:
    from .scenarios import Bench

SCENARIO = "10 folder batch, 2-face photos"
#: files for the per-file overhead rows: enough that start-up is a small part
OVERHEAD_FILES = 200


class _Clock:
    """When each record arrived (the driver's clock)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def __call__(self, record: FileRecord, finished: int, todo: int) -> None:
        self.times.append(time.perf_counter())

    def per_minute(self, warm_up: int) -> float:
        """Files per minute after the first ``warm_up`` files."""
        done = self.times[warm_up - 1 :]
        return 60.0 * (len(done) - 1) / (done[-1] - done[0])


class _StagingExecutor:
    """Stands in for the workers: stages a small file per job at once, as a worker would, so
    what is left of a batch's time is the driver's (manifest line, rename into place)."""

    def __init__(self) -> None:
        self.seconds = 0.0  # spent here, not in the driver

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, jobs: Iterable[FileJob]) -> Iterator[FileOutcome]:
        for job in jobs:
            start = time.perf_counter()
            target = job.output_folder / f"{job.source.stem}.png"
            writes = WriteSet()
            writes.add(target, lambda f: f.write(bytes(4096)))
            ((temp, _),) = writes.staged
            outcome = FileOutcome(job.key, "done", writes.staged, OutputFile.of(temp, str(target)))
            self.seconds += time.perf_counter() - start
            yield outcome


class _Batches:
    """Copies of the 2-face photo in a small tree, restored with GFPGAN by one executor or another."""

    def __init__(self, bench: Bench) -> None:
        self.root = bench.workspace.root / "batch"
        shutil.rmtree(self.root, ignore_errors=True)
        self.count = 4 if bench.config.quick else 6
        self.tree = self.root / "in"
        for i in range(self.count):
            folder = self.tree / f"roll{i % 2}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(bench.workspace.photo(TWO_FACES), folder / f"scan{i}.jpg")
        bench.workspace.face_model("gfpgan")
        detection = DetectionSettings(detector="retinaface_mobile0.25")
        settings = Settings(detection=detection, face=FaceSettings(model="gfpgan"), device=bench.device.type)
        self.spec = WorkerSpec(settings, allow_download=False)

    def photos_per_minute(self, name: str, executor: Executor, workers: int) -> float:
        plan = plan_folder(self.tree, self.root / name, BatchSettings(recursive=True))
        clock = _Clock()
        summary = Batch(plan, self.spec).run(executor, on_record=clock)
        if summary.failed:
            raise RuntimeError(f"bench batch {name}: {summary.failed[0].error}")
        return clock.per_minute(workers)

    def plain(self, name: str) -> float:
        return self.photos_per_minute(name, LocalExecutor(self.spec), 1)

    def on_ray(self, name: str, actors: int) -> float:
        from restore_core.batch.ray_pool import RayExecutor

        options = BatchSettings(ray="auto", actors=actors, cpus_per_actor=1)
        return self.photos_per_minute(name, RayExecutor(self.spec, options), actors)

    def missing_files(self, name: str) -> Batch:
        """A batch of files that do not exist: each fails at once, so what it costs is overhead."""
        names = [self.root / "missing" / f"f{i}.jpg" for i in range(OVERHEAD_FILES)]
        return Batch(plan_files(names, self.root / name), self.spec)


def folder_batch(bench: Bench) -> list[Row]:
    batches = _Batches(bench)
    contenders: dict[str, Callable[[str], float]] = {"plain": batches.plain}
    ray = _ray()
    if ray is not None:
        from restore_core.batch.ray_pool import connect

        connect("auto")
        contenders.update({f"ray{actors}": partial(batches.on_ray, actors=actors) for actors in (1, 2)})
    try:
        rates: dict[str, list[float]] = {name: [] for name in contenders}
        for round_ in range(bench.config.rounds):  # in turn, so a change of load hits all alike
            for name, run in contenders.items():
                rates[name].append(run(f"{name}-{round_}"))
        rows = _throughput_rows(batches, {name: statistics.median(r) for name, r in rates.items()})
        if ray is not None:
            rows.append(_ray_round_trip(batches))
    finally:
        if ray is not None:
            ray.shutdown()
    rows.append(_driver_overhead(batches))
    return rows


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        return None
    return ray


def _throughput_rows(batches: _Batches, rate: dict[str, float]) -> list[Row]:
    plain = rate["plain"]
    rows = [Row(SCENARIO, f"plain batch, this process, {batches.count} photos, GFPGAN", plain, None, "photos/min")]
    if "ray1" not in rate:
        return [
            *rows,
            Row(SCENARIO, "Ray", None, None, "photos/min", note="not installed: pip install 'facemend[cluster]'"),
        ]
    for actors in (1, 2):
        value = rate[f"ray{actors}"]
        scaling = f"; {value / (actors * rate['ray1']):.0%} of {actors} x one actor" if actors > 1 else ""
        rows.append(
            Row(
                SCENARIO,
                f"Ray, {actors} actor{'s' * (actors > 1)} of 1 CPU, {batches.count} photos",
                value,
                None,
                "photos/min",
                note=f"{value / plain:.2f}x the plain batch{scaling}",
            )
        )
    return rows


def _ray_round_trip(batches: _Batches) -> Row:
    from restore_core.batch.ray_pool import RayExecutor

    clock = _Clock()
    batches.missing_files("ray-overhead").run(
        RayExecutor(batches.spec, BatchSettings(ray="auto", actors=2)), on_record=clock
    )
    return Row(
        SCENARIO,
        f"Ray round trip per file (a file that fails at once), 2 actors, {OVERHEAD_FILES} files",
        60_000 / clock.per_minute(2),
        None,
        "ms",
        note="submit, worker, result, manifest line; the actors in parallel",
    )


def _driver_overhead(batches: _Batches) -> Row:
    staging = _StagingExecutor()
    batch = batches.missing_files("driver")
    started = time.perf_counter()
    batch.run(staging)
    driver_ms = 1000 * (time.perf_counter() - started - staging.seconds) / OVERHEAD_FILES
    return Row(
        SCENARIO,
        f"driver per file: manifest line and rename, {OVERHEAD_FILES} files",
        driver_ms,
        None,
        "ms",
        note=f"one driver keeps up with {60_000 / driver_ms:,.0f} photos/min",
    )
