"""The jobs of one server: their records, folders, events and every change of status.

``JobBoard`` is the one place a job changes: the API modules add jobs and cancel them, the
worker starts, advances and finishes them, the sweeper expires them. Each change of status is
written to the job table at once, so a restart finds every job as it last was; a job that was
still pending or running then is reported failed (never lost), and its folder is removed.

Job ids are random UUIDs; an id is looked up only in its canonical form, and a job's folder
is ``jobs/<id>`` inside the server's private data folder, so no request names a path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import statistics
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..engine import ProgressEvent
from ..faces import DetectedFace
from ..params import Settings
from .config import ServerConfig
from .feed import Event, JobFeed
from .progress import QUEUED_STAGE, step_for
from .records import FaceFacts, ImageFacts, JobRecord, JobStatus
from .store import JobStore

log = logging.getLogger(__name__)

INTERRUPTED = "the server stopped before this job finished; nothing was kept: submit it again"
#: rows of expired jobs are kept this long, so a late status request still learns what happened
FORGET_AFTER_S = 7 * 24 * 3600.0
#: a job's expected duration before any has finished on this server
FIRST_GUESS_S = 5.0


@dataclass(frozen=True)
class JobRequest:
    """What the worker needs to run a job; held in memory only."""

    input: Path
    settings: Settings
    output_name: str  # the result's file name in the job folder, and its download name
    external_faces: tuple[DetectedFace, ...] | None = None  # boxes given with the request: no detection
    preview: bool = False  # also write preview.webp


@dataclass(frozen=True)
class Outcome:
    """What a finished run hands back to the board."""

    output: ImageFacts
    files: dict[str, str]
    faces: tuple[FaceFacts, ...]
    notes: tuple[str, ...]


@dataclass(eq=False)
class Job:
    record: JobRecord
    folder: Path
    #: None for a job of an earlier run (only its record is left)
    request: JobRequest | None = None
    feed: JobFeed | None = None
    cancel: threading.Event = field(default_factory=threading.Event)


class JobBoard:
    def __init__(self, config: ServerConfig, store: JobStore, loop: asyncio.AbstractEventLoop) -> None:
        self.config = config
        self.store = store
        self.loop = loop
        self.jobs_dir = config.data_dir / "jobs"
        make_private_folder(self.jobs_dir)
        self._lock = threading.Lock()
        self._live: dict[str, Job] = {}
        self._durations: deque[float] = deque(maxlen=20)

    # ----- creating and finding ---------------------------------------------------------
    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its empty private folder (the upload is written into it)."""
        job_id = str(uuid.uuid4())
        folder = self.jobs_dir / job_id
        folder.mkdir(mode=0o700)
        return job_id, folder

    def add(self, record: JobRecord, folder: Path, request: JobRequest, *, queued_ahead: int) -> Job:
        record = record.replace(
            updated=record.created,
            eta=record.created + (queued_ahead + 1) * self.expected_duration(),
            stage=QUEUED_STAGE,
        )
        job = Job(record, folder, request, JobFeed(self.loop))
        with self._lock:
            self._live[record.id] = job
        self.store.save(record)
        return job

    def withdraw(self, job: Job) -> None:
        """Forget a job that could not be queued (the client gets no id for it)."""
        with self._lock:
            self._live.pop(job.record.id, None)
        self.store.delete(job.record.id)

    def get(self, job_id: str) -> Job | None:
        """The job with this id (canonical UUID form only), live or from the job table."""
        if not is_job_id(job_id):
            return None
        with self._lock:
            job = self._live.get(job_id)
        if job is not None:
            return job
        record = self.store.get(job_id)
        return None if record is None else Job(record, self.jobs_dir / job_id)

    def record(self, job: Job) -> JobRecord:
        """The job's record as it is now (records are immutable; changes replace them)."""
        with self._lock:
            return job.record

    def discard_folder(self, folder: Path) -> None:
        """Remove the folder of a request refused before it became a job."""
        shutil.rmtree(folder, ignore_errors=True)

    def expected_duration(self) -> float:
        """Seconds a job takes here: the median of the last ones, a guess before the first."""
        with self._lock:
            return self._expected_duration()

    # ----- the worker's side ------------------------------------------------------------
    def start(self, job: Job) -> bool:
        """Mark ``job`` processing; False when it was cancelled while it waited."""
        with self._lock:
            if job.cancel.is_set() or job.record.status is not JobStatus.PENDING:
                return False
            now = time.time()
            job.record = job.record.replace(
                status=JobStatus.PROCESSING, updated=now, eta=now + self._expected_duration()
            )
            record = job.record
        self.store.save(record)
        return True

    def progress(self, job: Job, event: ProgressEvent) -> None:
        with self._lock:
            step = step_for(event, job.record.percent)
            job.record = job.record.replace(percent=step.percent, stage=step.stage, updated=time.time())
        if job.feed is not None:
            job.feed.publish(Event("progress", {"percent": step.percent, "stage": step.stage, "message": step.message}))

    def complete(self, job: Job, outcome: Outcome) -> None:
        self._finish(
            job,
            status=JobStatus.COMPLETED,
            percent=100,
            output=outcome.output,
            files=outcome.files,
            faces=outcome.faces,
            notes=outcome.notes,
        )

    def fail(self, job: Job, message: str) -> None:
        self._finish(job, status=JobStatus.FAILED, error=message)

    def cancelled(self, job: Job) -> None:
        self._finish(job, status=JobStatus.CANCELLED, error="cancelled")

    # ----- requests on a job ------------------------------------------------------------
    def cancel(self, job: Job) -> bool:
        """Ask ``job`` to stop; False when it had finished already. A waiting job is cancelled
        at once, a running one at its next step (the worker reports it)."""
        with self._lock:
            if job.record.status.finished or job.request is None:
                return False
            job.cancel.set()
            waiting = job.record.status is JobStatus.PENDING
        if waiting:
            self.cancelled(job)
        return True

    def pending(self) -> int:
        with self._lock:
            return sum(job.record.status is JobStatus.PENDING for job in self._live.values())

    # ----- start-up, shut-down and expiry -----------------------------------------------
    def recover(self) -> None:
        """After a stop: jobs left pending or processing are failed, folders without a job removed."""
        for record in self.store.unfinished():
            log.warning("job %s was interrupted by a server stop; reported failed", record.id)
            now = time.time()
            self.store.save(record.replace(status=JobStatus.FAILED, error=INTERRUPTED, finished=now, updated=now))
            self.discard_folder(self.jobs_dir / record.id)
        known = self.store.ids()
        for entry in self._entries():
            if entry.name not in known:
                self.discard_folder(entry)

    def fail_waiting(self, message: str) -> None:
        """On shut-down: jobs still waiting will not run."""
        with self._lock:
            waiting = [job for job in self._live.values() if job.record.status is JobStatus.PENDING]
        for job in waiting:
            self.fail(job, message)

    def sweep(self, now: float | None = None) -> int:
        """Delete the files of jobs finished more than ``keep_results_s`` ago; returns how many."""
        now = time.time() if now is None else now
        expired = self.store.finished_before(now - self.config.keep_results_s)
        for record in expired:
            self.discard_folder(self.jobs_dir / record.id)
            gone = record.replace(expired=True, files={})
            self.store.save(gone)
            with self._lock:
                self._live.pop(record.id, None)
        self.store.forget_before(now - max(FORGET_AFTER_S, self.config.keep_results_s))
        return len(expired)

    # ----- internals --------------------------------------------------------------------
    def _finish(self, job: Job, *, status: JobStatus, **changes: object) -> None:
        with self._lock:
            if job.record.status.finished:
                return
            now = time.time()
            if job.record.status is JobStatus.PROCESSING and status is JobStatus.COMPLETED:
                self._durations.append(now - job.record.updated)
            job.record = job.record.replace(status=status, finished=now, updated=now, eta=now, **changes)
            record = job.record
        if status is not JobStatus.COMPLETED:
            self.discard_folder(job.folder)  # a job that did not complete keeps nothing, its upload included
        self.store.save(record)
        if job.feed is not None:
            job.feed.publish(Event("finished", {}), last=True)

    def _expected_duration(self) -> float:
        return statistics.median(self._durations) if self._durations else FIRST_GUESS_S

    def _entries(self) -> Iterable[Path]:
        with contextlib.suppress(OSError):
            yield from (Path(entry.path) for entry in os.scandir(self.jobs_dir) if entry.is_dir())


def is_job_id(text: str) -> bool:
    """Whether ``text`` is a job id as the server writes them (a canonical, lower-case UUID)."""
    try:
        return str(uuid.UUID(text)) == text
    except (ValueError, AttributeError, TypeError):
        return False


def make_private_folder(path: Path) -> Path:
    """Create ``path`` readable by this user only (uploads are other people's photos)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):  # a folder the user made themselves keeps its rights on Windows
        path.chmod(0o700)
    return path
