"""A background thread for model-file work (download, import, hashing): never the render worker.

Network and disk work on model files does not touch the device, so it runs beside the
render worker. ``progress`` is throttled to whole per-mille steps so a 350 MB download sends
about a thousand signals, not one per 256 KB chunk.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from restore_core.errors import CancelledError, FacemendError

from .components.people_text import os_error_text

#: ``job(progress(done, total), cancel)`` -> result
Job = Callable[[Callable[[int, int], None], threading.Event], Any]


class BackgroundTask(QThread):
    progress = Signal(object, object)  # bytes done, bytes total (0 while unknown)
    succeeded = Signal(object)  # the job's result
    failed = Signal(str)  # a message for the user
    cancelled = Signal()

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = job
        self._cancel = threading.Event()
        self._last_step = -1

    def cancel(self) -> None:
        self._cancel.set()

    def _report(self, done: int, total: int) -> None:
        step = done * 1000 // total if total else done >> 20  # per mille, or per MB when the size is unknown
        if step != self._last_step:
            self._last_step = step
            self.progress.emit(done, total)

    def run(self) -> None:
        try:
            result = self._job(self._report, self._cancel)
        except CancelledError:
            self.cancelled.emit()
        except FacemendError as exc:
            self.failed.emit(str(exc))
        except OSError as exc:  # a full disk, a folder not writable: said without its errno
            self.failed.emit(os_error_text(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the user; the app keeps running
            traceback.print_exc()
            self.failed.emit(f"unexpected error: {exc!r}")
        else:
            self.succeeded.emit(result)


class TaskSlot(QObject):
    """A dialog's one background task at a time: started with its outcomes, cancelled, waited
    for; ``ended`` (and each step given to ``then``) comes only once the thread has ended, so
    the next task never overlaps the last."""

    ended = Signal()  # a task's thread ended (buttons follow)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task: BackgroundTask | None = None
        self._then: list[Callable[[], object]] = []

    @property
    def busy(self) -> bool:
        return self.task is not None

    def start(
        self,
        job: Job,
        succeeded: Callable[[Any], object],
        failed: Callable[[str], object],
        cancelled: Callable[[], object] | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> BackgroundTask:
        task = BackgroundTask(job, self)
        task.succeeded.connect(succeeded)
        task.failed.connect(failed)
        if cancelled is not None:
            task.cancelled.connect(cancelled)
        if progress is not None:
            task.progress.connect(progress)
        task.finished.connect(lambda: self._finished(task))
        self.task = task
        task.start()
        return task

    def then(self, step: Callable[[], object]) -> None:
        """Run ``step`` once the running task has ended (at once when none runs)."""
        if self.task is None:
            step()
        else:
            self._then.append(step)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def stop(self) -> None:
        """Cancel the running task and wait for its thread (a download keeps its ``.part``)."""
        if self.task is not None:
            self.task.cancel()
            self.task.wait()

    def _finished(self, task: BackgroundTask) -> None:
        if self.task is task:
            self.task = None
        task.deleteLater()
        steps, self._then = self._then, []
        self.ended.emit()
        for step in steps:
            step()
