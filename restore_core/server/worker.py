"""The one thread that owns the device: jobs wait in a bounded queue and run one at a time.

The event loop never runs model code: it only queues jobs here. The worker makes the
``RenderEngine`` in its own thread on the first job (models and the detector load once and
stay loaded), runs each job through the ``Pipeline``, the same code the CLI runs, and reports
every progress event to the ``JobBoard``. Cancelling a job sets its event; ``drive`` stops
the job at its next step and the ``WriteSet`` of the pipeline leaves no file behind.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

import cv2

from ..engine import ProgressEvent, RenderEngine, Steps, drive
from ..errors import CancelledError, FacemendError
from ..io import LoadedImage, save_image
from ..pipeline import Pipeline
from .config import PREVIEW_SIDE, ServerConfig
from .jobs import Job, JobBoard, Outcome
from .records import FaceFacts, ImageFacts

log = logging.getLogger(__name__)

PREVIEW_NAME = "preview.webp"
PREVIEW_QUALITY = 85
STOPPED_RUNNING = "the server was stopped while this job ran; nothing was kept: submit it again"
STOPPED_WAITING = "the server was stopped before this job ran: submit it again"


class QueueFullError(Exception):
    """The queue holds ``max_queue`` waiting jobs already."""


class DeviceWorker:
    def __init__(
        self, board: JobBoard, config: ServerConfig, engine_factory: Callable[[], RenderEngine] | None = None
    ) -> None:
        self.board = board
        self.max_queue = config.max_queue
        self._make_engine = engine_factory or (
            lambda: RenderEngine(device=config.device, allow_download=config.allow_download)
        )
        self._waiting: deque[Job] = deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._current: Job | None = None
        self._thread = threading.Thread(target=self._run, name="facemend-device-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, job: Job) -> None:
        """Queue ``job``; raises ``QueueFullError`` when ``max_queue`` jobs are waiting already."""
        with self._wake:
            self._drop_cancelled()
            if len(self._waiting) >= self.max_queue:
                raise QueueFullError()
            self._waiting.append(job)
            self._wake.notify()

    def ahead(self) -> int:
        """Jobs that would run before one submitted now (the running one included)."""
        with self._wake:
            self._drop_cancelled()
            return len(self._waiting) + (self._current is not None)

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the running job's current step; waiting jobs are reported failed."""
        with self._wake:
            self._stopping = True
            if self._current is not None:
                self._current.cancel.set()
            self._wake.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.board.fail_waiting(STOPPED_WAITING)

    # ----- the worker thread ------------------------------------------------------------
    def _run(self) -> None:
        engine: RenderEngine | None = None
        while True:
            with self._wake:
                while not self._waiting and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                job = self._waiting.popleft()
                if not self.board.start(job):
                    continue  # cancelled while it waited
                self._current = job
            try:
                engine = engine or self._make_engine()
                self._process(engine, job)
            finally:
                with self._wake:
                    self._current = None

    def _process(self, engine: RenderEngine, job: Job) -> None:
        try:
            outcome = run_job(engine, job, lambda event: self.board.progress(job, event))
        except CancelledError:
            if self._stopping:
                self.board.fail(job, STOPPED_RUNNING)
            else:
                self.board.cancelled(job)
        except FacemendError as exc:
            self.board.fail(job, user_message(exc, job))
        except Exception as exc:  # one bad job must not stop the server; the traceback goes to the log
            log.exception("job %s failed unexpectedly", job.record.id)
            self.board.fail(job, f"{job.record.filename}: unexpected {type(exc).__name__}: {user_message(exc, job)}")
        else:
            self.board.complete(job, outcome)

    def _drop_cancelled(self) -> None:
        if any(job.cancel.is_set() for job in self._waiting):
            self._waiting = deque(job for job in self._waiting if not job.cancel.is_set())


def run_job(engine: RenderEngine, job: Job, progress: Callable[[ProgressEvent], None]) -> Outcome:
    """Restore the job's upload into its folder, as the CLI would with the same settings."""
    request = job.request
    assert request is not None, "only live jobs run"
    target = job.folder / request.output_name
    pipeline = Pipeline(request.settings, engine=engine)
    result = drive(pipeline.run(request.input, target, external_faces=request.external_faces), progress, job.cancel)
    assert result.image is not None
    files = {request.output_name: request.output_name}
    if request.preview:
        drive(preview_steps(result.image, job.folder / PREVIEW_NAME), progress, job.cancel)
        files[PREVIEW_NAME] = PREVIEW_NAME
    planned = job.record.output
    output = ImageFacts(
        format=planned.format if planned is not None else target.suffix.lstrip(".").lower(),
        width=result.image.width,
        height=result.image.height,
        bytes=target.stat().st_size,
    )
    faces = tuple(
        FaceFacts(
            box=report.face.box,
            score=report.face.score,
            restored=report.selected,
            model=report.model,
            mask=report.mask,
        )
        for report in result.faces
    )
    return Outcome(output, files, faces, result.notes)


def preview_steps(image: LoadedImage, path: Path) -> Steps[Path]:
    """An 8-bit sRGB WebP of ``image``, at most ``PREVIEW_SIDE`` pixels on its long side."""
    yield ProgressEvent("encode", 0, 1, f"writing {path.name}")
    rgb8 = image.working_rgb8()
    scale = PREVIEW_SIDE / max(image.width, image.height)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        rgb8 = cv2.resize(rgb8, size, interpolation=cv2.INTER_AREA)
    save_image(LoadedImage(rgb8), path, quality=PREVIEW_QUALITY)
    yield ProgressEvent("encode", 1, 1, f"wrote {path.name}")
    return path


def user_message(exc: BaseException, job: Job) -> str:
    """``exc``'s message with the server's own paths replaced by the names the client knows."""
    message = str(exc)
    if job.request is not None:
        message = message.replace(str(job.request.input), job.record.filename)
    return message.replace(str(job.folder) + os.sep, "")
