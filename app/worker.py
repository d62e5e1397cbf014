"""The render worker: one thread owns the ``RenderEngine`` (and with it the device).

The window never calls the engine. It posts requests to ``RenderService``; the worker
object lives in a ``QThread`` and answers through ``WorkerSignals`` (queued to the UI thread).

- Render requests are coalesced: only the latest waits, and posting one cancels a render in
  progress (its result would be stale anyway). Every result carries the ticket of its
  request so the window can drop results older than what it last asked for.
- A render that comes back as a preview (some faces approximated at a nearby creativity) is
  followed at once by the exact render of the same request, unless a newer one is waiting.
- Exports run in the order they were asked for; a batch runs as one job that can be cancelled.
- The worker opens the image of each request itself when it is not the one loaded, so a
  batch (which opens other files on the same engine) needs no special recovery afterwards.
"""

from __future__ import annotations

import collections
import functools
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from restore_core.errors import CancelledError, FacemendError, OutputExistsError
from restore_core.params import DetectionSettings, Settings
from restore_core.pipeline import Exports

from .components.photo import Detection, ImageRef, RenderView

if TYPE_CHECKING:
    from restore_core.batch import FileJob, FileRecord, Plan
    from restore_core.engine import RenderEngine, Steps
    from restore_core.pipeline import Result

EngineFactory = Callable[[], "RenderEngine"]


@dataclass(frozen=True)
class RenderRequest:
    ticket: int
    image: ImageRef
    settings: Settings
    view: RenderView | None = None  # None: the whole photo at full size
    masks: bool = False  # also each restored face's blend mask over the view (``masks`` signal)


@dataclass(frozen=True)
class ExportRequest:
    ticket: int
    image: ImageRef
    settings: Settings
    exports: Exports
    overwrite: bool = False


@dataclass(frozen=True)
class BatchItem:
    """One photo of a batch, as the core's batches name it (``restore_core.batch``): the batch
    writing into ``root`` keeps its manifest there and records the photo under ``key``; its
    output goes into ``root/folder`` (a folder's tree is mirrored)."""

    source: Path
    root: Path
    key: str
    folder: PurePosixPath

    @property
    def output_folder(self) -> Path:
        return self.root.joinpath(*self.folder.parts)


@dataclass(frozen=True)
class BatchRequest:
    ticket: int
    items: tuple[BatchItem, ...]
    settings: Settings
    overwrite: bool = False
    name_ending: str = ""  # each output: the photo's name, this ending,
    output_suffix: str = ""  # then this extension ("": the core's rule for the photo)


@dataclass(frozen=True)
class OpenedImage:
    image: ImageRef
    original_rgb8: np.ndarray
    notes: tuple[str, ...]
    #: extension an export of it gets by default (its own when writable and able to hold it)
    default_suffix: str


class WorkerSignals(QObject):
    """Everything the worker reports. Emitted from the worker thread, received in the UI thread."""

    ready = Signal(str)  # the device models run on, described for people
    start_failed = Signal(str)
    opened = Signal(object)  # OpenedImage
    detected = Signal(object)  # Detection
    rendered = Signal(int, object)  # ticket, RenderResult
    #: ticket, float32 H x W 0..1: where each restored face of that render is blended in
    masks = Signal(int, object)
    progress = Signal(int, object)  # ticket, ProgressEvent
    exported = Signal(int, object)  # ticket, list[Path]
    #: ticket, what failed ("open", "detect", "render" or "export"), message for the user
    failed = Signal(int, str, str)
    cancelled = Signal(int)
    batch_file_started = Signal(int, int)  # ticket, item index
    batch_progress = Signal(int, int, object)  # ticket, item index, ProgressEvent
    batch_file_done = Signal(
        int, int, str, str
    )  # ticket, item index, the file written or "", the reason it failed or ""
    batch_file_skipped = Signal(int, int, str)  # ticket, item index, the output that exists
    #: ticket, item index, its output: done by an earlier run (the manifest says so), not redone
    batch_file_resumed = Signal(int, int, str)
    batch_finished = Signal(int, bool)  # ticket, cancelled
    idle = Signal()


class _Mailbox:
    """Requests waiting for the worker; shared by both threads under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.render: RenderRequest | None = None
        self.exports: collections.deque[ExportRequest] = collections.deque()
        self.batch: BatchRequest | None = None
        #: cancel event of the job running now, and whether that job is a render
        self.running_cancel: threading.Event | None = None
        self.running_render = False
        self.batch_cancel = threading.Event()


class RenderWorker(QObject):
    """Lives in the worker thread. Only this object ever touches the engine."""

    def __init__(self, engine_factory: EngineFactory, mailbox: _Mailbox, signals: WorkerSignals) -> None:
        super().__init__()
        self._engine_factory = engine_factory
        self._mailbox = mailbox
        self._signals = signals
        self._engine: RenderEngine | None = None
        self._loaded: int | None = None  # ImageRef.id of the image the engine holds
        self._detected: tuple[int, DetectionSettings] | None = None
        self._prefetch_settings: Settings | None = None  # the last render's, for idle-time work

    @Slot()
    def start_up(self) -> None:
        """Runs first in the worker thread: heavy imports and the engine, after the window shows."""
        from restore_core.models import describe_device

        try:
            self._engine = self._engine_factory()
            # Choosing the device imports torch: on Windows app.main did that before Qt (DLL
            # load order); elsewhere its cost is paid here, off the UI thread, after the window shows.
            device = describe_device(self._engine.device)
        except Exception as exc:  # noqa: BLE001 - any start-up failure is shown, not raised
            traceback.print_exc()
            self._signals.start_failed.emit(f"The restoration engine could not start: {exc}")
            return
        self._signals.ready.emit(str(device))

    @Slot()
    def drain(self) -> None:
        """Runs every waiting job, newest render last; then reports idle."""
        if self._engine is None:
            return
        ran = False
        while (job := self._next_job()) is not None:
            ran = True
            if isinstance(job, ExportRequest):
                self._run_export(job)
            elif isinstance(job, BatchRequest):
                self._run_batch(job)
            else:
                self._run_render(job)
        if ran:
            self._signals.idle.emit()
            self._prefetch()

    def _prefetch(self) -> None:
        """Idle time on a GPU: pre-render a few creativity levels of the faces shown, so the
        creativity slider answers at once with a near preview. A new render request cancels it.
        Not on the CPU, where one batch of faces takes seconds and would delay the next slider move."""
        from restore_core.engine import drive

        assert self._engine is not None
        settings, self._prefetch_settings = self._prefetch_settings, None
        if settings is None or self._engine.device.type == "cpu":
            return
        with self._mailbox.lock:
            if self._mailbox.render or self._mailbox.exports or self._mailbox.batch:
                return
            self._mailbox.running_cancel = threading.Event()
            self._mailbox.running_render = True
        try:
            drive(self._engine.prefetch_steps(settings), cancel=self._cancel)
        except FacemendError:
            pass  # cancelled, or a model problem the render has already reported
        finally:
            with self._mailbox.lock:
                self._mailbox.running_cancel = None
                self._mailbox.running_render = False

    def _next_job(self) -> ExportRequest | BatchRequest | RenderRequest | None:
        box = self._mailbox
        with box.lock:
            box.running_cancel = threading.Event()
            box.running_render = False
            if box.exports:
                return box.exports.popleft()
            if box.batch is not None:
                batch, box.batch = box.batch, None
                box.running_cancel = box.batch_cancel
                return batch
            if box.render is not None:
                render, box.render = box.render, None
                box.running_render = True
                return render
            box.running_cancel = None
            return None

    def _newer_render_waiting(self) -> bool:
        with self._mailbox.lock:
            return self._mailbox.render is not None

    @property
    def _cancel(self) -> threading.Event:
        event = self._mailbox.running_cancel
        assert event is not None, "a job is running"
        return event

    def _ensure_image(self, image: ImageRef) -> None:
        from restore_core.io import default_output_suffix

        assert self._engine is not None
        if self._loaded == image.id:
            return
        previous = self._loaded, self._detected
        self._loaded = None
        self._detected = None
        try:
            loaded = self._engine.open(image.path)
        except BaseException:
            # A file that fails to decode leaves the engine's photo, faces and caches as they were.
            self._loaded, self._detected = previous
            raise
        self._loaded = image.id
        self._signals.opened.emit(
            OpenedImage(image, self._engine.original_rgb8(), tuple(loaded.notes), default_output_suffix(loaded))
        )

    def _ensure_faces(self, image: ImageRef, detection: DetectionSettings, ticket: int) -> None:
        assert self._engine is not None
        if self._detected == (image.id, detection):
            return
        faces = self._engine.detect(detection, progress=lambda e: self._signals.progress.emit(ticket, e))
        self._detected = (image.id, detection)
        self._signals.detected.emit(Detection(image, detection, tuple(faces)))

    def _run_render(self, job: RenderRequest) -> None:
        assert self._engine is not None
        stage = "open"
        try:
            self._ensure_image(job.image)
            stage = "detect"
            self._ensure_faces(job.image, job.settings.detection, job.ticket)
            if self._newer_render_waiting():
                return  # stale already: the newer request renders instead
            stage = "render"
            result = self._render(job, allow_preview=True)
            if result.preview and not self._newer_render_waiting():
                self._render(job, allow_preview=False)
            self._prefetch_settings = job.settings
        except CancelledError:
            self._signals.cancelled.emit(job.ticket)
        except FacemendError as exc:
            self._signals.failed.emit(job.ticket, stage, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug in the core must not take the window down
            traceback.print_exc()
            self._signals.failed.emit(job.ticket, stage, f"{job.image.path.name}: unexpected error: {exc!r}")

    def _render(self, job: RenderRequest, *, allow_preview: bool) -> Any:
        assert self._engine is not None
        result = self._engine.render(
            job.settings,
            region=job.view.region if job.view else None,  # None: the whole photo at full size
            scale=job.view.scale if job.view else 1.0,
            progress=lambda e: self._signals.progress.emit(job.ticket, e),
            cancel=self._cancel,
            allow_preview=allow_preview,
        )
        self._signals.rendered.emit(job.ticket, result)
        if job.masks and not result.preview:
            self._signals.masks.emit(job.ticket, self._engine.mask_overlay(job.settings, result))
        return result

    def _run_export(self, job: ExportRequest) -> None:
        assert self._engine is not None
        name = (job.exports.paths or [job.image.path])[0].name
        try:
            self._ensure_image(job.image)
            self._ensure_faces(job.image, job.settings.detection, job.ticket)
            self._signals.exported.emit(job.ticket, self._write_exports(job))
        except CancelledError:
            self._signals.cancelled.emit(job.ticket)
        except FacemendError as exc:
            self._signals.failed.emit(job.ticket, "export", str(exc))
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            self._signals.failed.emit(job.ticket, "export", f"{name}: unexpected error: {exc!r}")

    def _write_exports(self, job: ExportRequest) -> list[Path]:
        from restore_core.engine import drive
        from restore_core.pipeline import Pipeline

        assert self._engine is not None
        steps = Pipeline(job.settings, engine=self._engine).export_steps(
            job.image.path, job.exports, overwrite=job.overwrite
        )
        return drive(steps, lambda e: self._signals.progress.emit(job.ticket, e), self._cancel)

    def _run_batch(self, job: BatchRequest) -> None:
        """The core's batch (its manifest, skip and resume rules, as the command line's) on this
        thread's engine, one output folder after another."""
        from restore_core.batch import Batch, LocalExecutor, WorkerSpec

        assert self._engine is not None
        self._loaded = None  # the batch replaces the engine's image; the next render re-opens its own
        self._detected = None
        spec = WorkerSpec(job.settings, name_ending=job.name_ending, output_suffix=job.output_suffix)
        run = _BatchRun(job.ticket, self._signals, self._cancel)
        cancelled = False
        for plan, indices in _plans(job.items):
            run.begin(plan, indices)
            try:
                Batch(plan, spec, overwrite=job.overwrite).run(
                    LocalExecutor(spec, run.drive, engine=self._engine), on_record=run.recorded, on_resumed=run.resumed
                )
            except CancelledError:
                cancelled = True
                break
            except FacemendError as exc:  # the folder cannot hold a batch (its manifest is locked or unwritable)
                run.fail_rest(str(exc))
            except Exception as exc:  # noqa: BLE001 - a bug in the core must not take the window down
                traceback.print_exc()
                run.fail_rest(
                    f"The batch into {plan.output} stopped on an unexpected error ({exc!r}). "
                    "Start it again to go on from here; if it happens again, report it with this text."
                )
        self._mailbox.batch_cancel.clear()
        self._signals.batch_finished.emit(job.ticket, cancelled)


def _plans(items: tuple[BatchItem, ...]) -> list[tuple[Plan, list[int]]]:
    """The items as one core plan per output folder (in the order first named), with the index
    of each plan item in ``items``; a key given twice for one folder is one file."""
    from restore_core.batch import BatchItem as PlanItem
    from restore_core.batch import Plan

    groups: dict[Path, dict[str, int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(item.root, {}).setdefault(item.key, index)
    return [
        (
            Plan(root, tuple(PlanItem(key, items[i].source, items[i].folder) for key, i in keys.items())),
            list(keys.values()),
        )
        for root, keys in groups.items()
    ]


class _BatchRun:
    """The core batch's callbacks, told to the window as signals about the request's items."""

    def __init__(self, ticket: int, signals: WorkerSignals, cancel: threading.Event) -> None:
        self._ticket = ticket
        self._signals = signals
        self._cancel = cancel
        self._root = Path()
        self._index: dict[str, int] = {}  # item key -> index in the request, for this output folder
        self._reported: set[str] = set()
        self._exists: dict[str, Path] = {}  # keys skipped because their output is someone else's file

    def begin(self, plan: Plan, indices: list[int]) -> None:
        self._root = plan.output
        self._index = {item.key: index for item, index in zip(plan.items, indices, strict=True)}
        self._reported.clear()
        self._exists.clear()

    def drive(self, job: FileJob, steps: Steps[Result]) -> Result:
        from restore_core.engine import drive

        if self._cancel.is_set():
            steps.close()
            raise CancelledError()
        index = self._index[job.key]
        self._signals.batch_file_started.emit(self._ticket, index)
        try:
            return drive(steps, functools.partial(self._signals.batch_progress.emit, self._ticket, index), self._cancel)
        except OutputExistsError as exc:  # the user chooses: skip, overwrite or rename (recorded as failed)
            self._exists[job.key] = exc.path
            raise

    def recorded(self, record: FileRecord, finished: int, todo: int) -> None:
        index = self._index[record.input]
        self._reported.add(record.input)
        existing = self._exists.pop(record.input, None)
        if record.status == "done" and record.output is not None:
            self._signals.batch_file_done.emit(self._ticket, index, str(self._root / record.output.path), "")
        elif existing is not None:
            self._signals.batch_file_skipped.emit(self._ticket, index, str(existing))
        else:
            self._signals.batch_file_done.emit(self._ticket, index, "", record.error or "")

    def resumed(self, record: FileRecord) -> None:
        self._reported.add(record.input)
        output = str(self._root / record.output.path) if record.output is not None else ""
        self._signals.batch_file_resumed.emit(self._ticket, self._index[record.input], output)

    def fail_rest(self, reason: str) -> None:
        """Every item of this folder not reported yet failed for ``reason``."""
        for key, index in self._index.items():
            if key not in self._reported:
                self._signals.batch_file_done.emit(self._ticket, index, "", reason)


class _Doorbell(QObject):
    """Rings the worker from the UI thread (a queued call into the worker thread)."""

    ring = Signal()


class RenderService(QObject):
    """The UI thread's handle on the worker: post requests, cancel, shut down."""

    def __init__(self, engine_factory: EngineFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.signals = WorkerSignals(self)
        self._mailbox = _Mailbox()
        self._ticket = 0
        self.latest_render_ticket = 0
        self._thread = QThread()
        self._thread.setObjectName("facemend-render")
        self._worker = RenderWorker(engine_factory, self._mailbox, self.signals)
        self._worker.moveToThread(self._thread)
        self._doorbell = _Doorbell()
        self._doorbell.ring.connect(self._worker.drain, Qt.ConnectionType.QueuedConnection)
        self._thread.started.connect(self._worker.start_up)
        self.signals.ready.connect(self._doorbell.ring)  # requests posted during start-up

    def start(self) -> None:
        self._thread.start()

    def _next_ticket(self) -> int:
        self._ticket += 1
        return self._ticket

    def render(
        self, image: ImageRef, settings: Settings, view: RenderView | None = None, *, masks: bool = False
    ) -> int:
        """Ask for the preview of ``view`` (default: the whole photo at full size), and with
        ``masks`` the faces' blend masks over it."""
        ticket = self._next_ticket()
        self.latest_render_ticket = ticket
        with self._mailbox.lock:
            self._mailbox.render = RenderRequest(ticket, image, settings, view, masks)
            if self._mailbox.running_render and self._mailbox.running_cancel is not None:
                self._mailbox.running_cancel.set()
        self._doorbell.ring.emit()
        return ticket

    def export(self, image: ImageRef, settings: Settings, exports: Exports, *, overwrite: bool = False) -> int:
        ticket = self._next_ticket()
        with self._mailbox.lock:
            self._mailbox.exports.append(ExportRequest(ticket, image, settings, exports, overwrite))
        self._doorbell.ring.emit()
        return ticket

    def batch(
        self,
        items: tuple[BatchItem, ...],
        settings: Settings,
        *,
        overwrite: bool = False,
        name_ending: str = "",
        output_suffix: str = "",
    ) -> int:
        ticket = self._next_ticket()
        with self._mailbox.lock:
            self._mailbox.batch_cancel.clear()
            self._mailbox.batch = BatchRequest(ticket, items, settings, overwrite, name_ending, output_suffix)
        self._doorbell.ring.emit()
        return ticket

    def cancel(self) -> None:
        """Cancel the render or export running now (a batch has its own cancel)."""
        with self._mailbox.lock:
            self._mailbox.render = None
            if (
                self._mailbox.running_cancel is not None
                and self._mailbox.running_cancel is not self._mailbox.batch_cancel
            ):
                self._mailbox.running_cancel.set()

    def cancel_batch(self) -> None:
        with self._mailbox.lock:
            waiting, self._mailbox.batch = self._mailbox.batch, None
            self._mailbox.batch_cancel.set()
        if waiting is not None:  # never started: nobody else will say it ended
            self._mailbox.batch_cancel.clear()
            self.signals.batch_finished.emit(waiting.ticket, True)

    def shutdown(self) -> None:
        """Cancel everything and wait for the worker to finish its current step."""
        with self._mailbox.lock:
            self._mailbox.render = None
            self._mailbox.exports.clear()
            self._mailbox.batch = None
            self._mailbox.batch_cancel.set()
            if self._mailbox.running_cancel is not None:
                self._mailbox.running_cancel.set()
        self._thread.quit()
        self._thread.wait()
