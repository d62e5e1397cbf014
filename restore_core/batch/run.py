"""Running a batch: which files still need doing, handing them to an executor, and recording
each outcome in the manifest before its outputs are moved into place.

The driver (this module, in the process the user started) is the only writer of the manifest
and the only one that renames outputs into place, whichever executor restores the files:
``LocalExecutor`` in this process, or ``RayExecutor`` on a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from typing_extensions import Self

from ..engine import RenderEngine, Steps, drive
from ..errors import FacemendError
from ..io import WriteSet, check_output_path, make_folder
from ..pipeline import Result, comparison_name, write_json
from .manifest import FileRecord, Manifest, OutputFile
from .plan import BatchItem, Plan
from .worker import FileJob, FileOutcome, Worker, WorkerSpec


class Executor(Protocol):
    """Restores jobs somewhere and yields their outcomes as they finish (in any order)."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None: ...

    def run(self, jobs: Iterable[FileJob]) -> Iterator[FileOutcome]: ...


class LocalExecutor:
    """The files one after another in this process, with one set of models.

    ``drive_steps(job, steps)`` runs each file's progress events (the CLI shows a bar; the app
    reports them to its window and stops at a cancel). ``engine``: restore with this engine
    (the app's, whose thread owns the device) rather than loading models of its own.
    """

    def __init__(
        self,
        spec: WorkerSpec,
        drive_steps: Callable[[FileJob, Steps[Result]], Result] | None = None,
        *,
        engine: RenderEngine | None = None,
    ):
        self.spec = spec
        self.drive_steps = drive_steps
        self.engine = engine
        self.worker: Worker | None = None

    def __enter__(self) -> Self:
        self.worker = Worker(self.spec, self.engine)
        return self

    def __exit__(self, *exc: object) -> None:
        self.worker = None

    def run(self, jobs: Iterable[FileJob]) -> Iterator[FileOutcome]:
        if self.worker is None:
            raise RuntimeError("LocalExecutor is used inside a with block")
        for job in jobs:
            yield self.worker.run(job, partial(self.drive_steps, job) if self.drive_steps else drive)


@dataclass(frozen=True)
class BatchSummary:
    """The batch as the manifest tells it (every file's latest record) and what this run did."""

    plan: Plan
    fingerprint: str
    records: tuple[FileRecord, ...]  # in plan order; files never tried have none
    photo_seconds: tuple[float, ...]  # restoration time of each photo restored by this run
    resumed: int  # already done by an earlier run, skipped
    seconds: float  # wall time of this run
    manifest: Path
    spec: WorkerSpec

    @property
    def restored_now(self) -> int:
        return len(self.photo_seconds)

    @property
    def done(self) -> list[FileRecord]:
        return [r for r in self.records if r.status == "done"]

    @property
    def failed(self) -> list[FileRecord]:
        return [r for r in self.records if r.status == "failed"]

    @property
    def seconds_per_photo(self) -> float | None:
        """Mean restoration time of the photos this run restored (their own timing, not wall time)."""
        return sum(self.photo_seconds) / len(self.photo_seconds) if self.photo_seconds else None

    @property
    def photos_per_minute(self) -> float | None:
        return 60.0 * self.restored_now / self.seconds if self.restored_now and self.seconds > 0 else None

    def totals(self) -> dict[str, Any]:
        return {
            "files": len(self.plan.items),
            "done": len(self.done),
            "failed": len(self.failed),
            "not_images": len(self.plan.not_images),
            "excluded": self.plan.excluded,
            "faces": sum(r.faces for r in self.done),
            "restored_faces": sum(r.restored for r in self.done),
            "this_run": {
                "restored": self.restored_now,
                "already_done": self.resumed,
                "failed": len(self.failed),
                "seconds": round(self.seconds, 3),
                "seconds_per_photo": _round(self.seconds_per_photo),
                "photos_per_minute": _round(self.photos_per_minute),
            },
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "input": str(self.plan.input) if self.plan.input else None,
            "output": str(self.plan.output),
            "manifest": str(self.manifest),
            "settings": self.spec.settings.to_json(),
            "settings_hash": self.fingerprint,
            "totals": self.totals(),
            "files": [r.to_json() for r in self.done],
            "failures": [r.to_json() for r in self.failed],
            "not_images": list(self.plan.not_images),
        }

    def lines(self) -> list[str]:
        """The summary printed at the end of a batch."""
        parts = [f"{self.restored_now} restored"]
        if self.resumed:
            parts.append(f"{self.resumed} already done")
        parts.append(f"{len(self.failed)} failed")
        left_out = []
        if self.plan.not_images:
            count = len(self.plan.not_images)
            left_out.append(f"{count} not an image" if count == 1 else f"{count} not images")
        if self.plan.excluded:
            left_out.append(f"{self.plan.excluded} excluded")
        count = len(self.plan.items)
        skipped = f"; skipped: {', '.join(left_out)}" if left_out else ""
        lines = [f"{count} photo{'s' * (count != 1)}: {', '.join(parts)}{skipped}"]
        faces = sum(r.faces for r in self.done)
        speed = []
        if self.seconds_per_photo is not None:
            speed.append(f"{self.seconds_per_photo:.2f} s per photo")
        if self.photos_per_minute is not None:
            speed.append(f"{self.photos_per_minute:.1f} photos per minute")
        lines.append(
            f"faces: {faces} found, {sum(r.restored for r in self.done)} restored" + "".join(f"; {s}" for s in speed)
        )
        # errors name their file; one that does not (a missing model) gets the file's name
        lines += [f"failed: {r.error if r.input in (r.error or '') else f'{r.input}: {r.error}'}" for r in self.failed]
        return lines


class Batch:
    """A planned batch with its settings: ``run`` it on an executor, again and again; each run
    does only what the manifest does not show as done (all of it with ``redo``)."""

    def __init__(
        self,
        plan: Plan,
        spec: WorkerSpec,
        *,
        comparisons: Path | None = None,
        redo: bool = False,
        overwrite: bool = False,
        report: Path | None = None,
    ) -> None:
        self.plan = plan
        self.spec = spec
        self.comparisons = comparisons  # the folder of before/after images, mirrored like the outputs
        self.redo = redo
        self.overwrite = overwrite
        self.report = report
        self.fingerprint = spec.fingerprint(comparisons=comparisons is not None)
        self._on_record: Callable[[FileRecord, int, int], None] | None = None
        self._progress = [0, 0]  # files finished, files to do in this run

    def comparison_path(self, item: BatchItem) -> Path | None:
        if self.comparisons is None:
            return None
        return item.output_folder(self.comparisons) / comparison_name(item.source)

    def run(
        self,
        executor: Executor,
        on_record: Callable[[FileRecord, int, int], None] | None = None,
        on_start: Callable[[int, int], None] | None = None,
        on_resumed: Callable[[FileRecord], None] | None = None,
    ) -> BatchSummary:
        """Do what is left of the batch. ``on_resumed(record)`` is called for each file an
        earlier run did (skipped now) and ``on_start(to_do, already_done)`` once the manifest is
        read; ``on_record(record, finished, to_do)`` after each file.

        A ``CancelledError`` from the executor ends the run: the files finished are recorded,
        the one in progress left no output, and the next run goes on from there."""
        started = time.perf_counter()
        make_folder(self.plan.output)
        self._on_record = on_record
        with Manifest(self.plan.output) as manifest:
            report_replaceable = self._check_report(manifest)
            todo, resumed = self._todo(manifest, on_resumed)
            self._progress = [0, len(todo)]
            if on_start is not None:
                on_start(len(todo), resumed)
            in_flight: dict[str, tuple[FileJob, int, int]] = {}
            photo_seconds: list[float] = []
            if todo:  # nothing to do starts no workers (no models, no Ray)
                with executor:
                    for outcome in executor.run(self._jobs(todo, manifest, in_flight)):
                        job, size, mtime_ns = in_flight.pop(outcome.key)
                        record = self._settle(manifest, job, outcome, size, mtime_ns)
                        if record.status == "done":
                            photo_seconds.append(record.timings.get("total", 0.0))
                        self._tell(record)
            records = tuple(r for r in map(manifest.get, (item.key for item in self.plan.items)) if r is not None)
            summary = BatchSummary(
                self.plan,
                self.fingerprint,
                records,
                tuple(photo_seconds),
                resumed,
                time.perf_counter() - started,
                manifest.path,
                self.spec,
            )
            if self.report is not None:
                self._write_report(manifest, summary, report_replaceable)
        return summary

    def _tell(self, record: FileRecord) -> None:
        self._progress[0] += 1
        if self._on_record is not None:
            self._on_record(record, *self._progress)

    def _todo(
        self, manifest: Manifest, on_resumed: Callable[[FileRecord], None] | None = None
    ) -> tuple[list[int], int]:
        """Indices of the items to do now, and how many are done already."""
        todo, resumed = [], 0
        for index, item in enumerate(self.plan.items):
            record = None if self.redo else manifest.get(item.key)
            if record is not None and self._current(record, item):
                resumed += 1
                if on_resumed is not None:
                    on_resumed(record)
            else:
                todo.append(index)
        return todo, resumed

    def _current(self, record: FileRecord, item: BatchItem) -> bool:
        try:
            stat = item.source.stat()
        except OSError:
            return False
        comparison = self.comparison_path(item)
        return record.current(
            stat.st_size,
            stat.st_mtime_ns,
            self.fingerprint,
            self.plan.output,
            self._name(comparison) if comparison is not None else None,
        )

    def _jobs(
        self, todo: list[int], manifest: Manifest, in_flight: dict[str, tuple[FileJob, int, int]]
    ) -> Iterator[FileJob]:
        """The jobs, made as the executor asks for them (a million-file batch holds no list of jobs)."""
        for index in todo:
            item = self.plan.items[index]
            comparison = self.comparison_path(item)
            job = FileJob(
                item.key,
                item.source,
                item.output_folder(self.plan.output),
                comparison,
                overwrite=self.overwrite,
                replaceable=self._own_outputs(manifest.last_done(item.key)),
            )
            try:
                stat = item.source.stat()
                size, mtime_ns = stat.st_size, stat.st_mtime_ns
            except OSError:  # gone since it was listed: the worker says so in its own words
                size, mtime_ns = 0, 0
            try:
                for folder in (job.output_folder, comparison.parent if comparison is not None else None):
                    if folder is not None:
                        make_folder(folder)
            except FacemendError as exc:
                record = FileRecord(item.key, size, mtime_ns, self.fingerprint, "failed", error=str(exc))
                manifest.append(record)
                self._tell(record)
                continue
            in_flight[item.key] = (job, size, mtime_ns)
            yield job

    def _own_outputs(self, record: FileRecord | None) -> frozenset[Path]:
        """The outputs of an earlier run of this file, still as it wrote them: redoing the file
        may replace these (anything else needs ``overwrite``)."""
        if record is None or record.status != "done":
            return frozenset()
        files = (record.output, record.comparison)
        return frozenset(self.plan.output / f.path for f in files if f is not None and f.matches(self.plan.output))

    def _settle(self, manifest: Manifest, job: FileJob, outcome: FileOutcome, size: int, mtime_ns: int) -> FileRecord:
        """Record ``outcome``, then move its files into place; a failed move is recorded as failed."""
        record = FileRecord(
            input=job.key,
            size=size,
            mtime_ns=mtime_ns,
            settings=self.fingerprint,
            status=outcome.status,
            output=self._relative(outcome.output),
            comparison=self._relative(outcome.comparison),
            faces=outcome.faces,
            restored=outcome.restored,
            timings=outcome.timings,
            notes=outcome.notes,
            error=outcome.error,
            worker=outcome.worker,
        )
        manifest.append(record)
        if outcome.status == "done":
            try:
                WriteSet.adopt(outcome.staged, overwrite=job.overwrite, replaceable=job.replaceable).commit()
            except FacemendError as exc:
                record = FileRecord(
                    job.key, size, mtime_ns, self.fingerprint, "failed", error=str(exc), worker=outcome.worker
                )
                manifest.append(record)
        return record

    def _relative(self, file: OutputFile | None) -> OutputFile | None:
        """``file`` named relative to the output folder (so the tree can move), or absolute outside it."""
        if file is None:
            return None
        return OutputFile(self._name(Path(file.path)), file.sha256, file.size, file.mtime_ns)

    def _name(self, path: Path) -> str:
        try:
            return path.relative_to(self.plan.output).as_posix()
        except ValueError:
            return str(path.absolute())

    def _check_report(self, manifest: Manifest) -> frozenset[Path]:
        """Refuse, before any work, a report path that is an input or someone else's file; the
        batch's own earlier report (as the manifest recorded it) may be replaced."""
        if self.report is None:
            return frozenset()
        earlier = manifest.reports.get(self._name(self.report))
        own = frozenset({self.report}) if earlier is not None and earlier.matches(self.plan.output) else frozenset()
        check_output_path(self.plan.sources, self.report, overwrite=self.overwrite or bool(own))
        return own

    def _write_report(self, manifest: Manifest, summary: BatchSummary, replaceable: frozenset[Path]) -> None:
        assert self.report is not None
        with WriteSet(overwrite=self.overwrite, replaceable=replaceable) as writes:
            write_json(self.report, summary.to_json(), writes=writes)
            (temp,) = (temp for temp, _ in writes.staged)
            manifest.append_report(OutputFile.of(temp, self._name(self.report)))


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None
