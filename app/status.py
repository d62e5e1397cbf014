"""The status bar's permanent widgets: progress with a Cancel button while the worker works for
the window, the photo's size and the zoom."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton

if TYPE_CHECKING:
    from restore_core.pipeline import ProgressEvent


def time_left_text(seconds: float) -> str:
    """``seconds`` to go, as people say it: rounded, never falsely precise."""
    if seconds < 5:
        return "a few seconds left"
    if seconds < 90:
        return f"about {round(seconds / 5) * 5:.0f} s left"
    return f"about {round(seconds / 60):.0f} min left"


class WorkStatus:
    def __init__(self, bar: QStatusBar, cancel: Callable[[], object]) -> None:
        self._bar = bar
        self.size_label = QLabel()
        self.zoom_label = QLabel()
        self.size_label.setContentsMargins(12, 0, 6, 0)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setMaximumHeight(16)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop the work in progress")
        self.cancel_button.clicked.connect(cancel)
        self.cancel_button.hide()
        for widget in (self.progress, self.cancel_button, self.size_label, self.zoom_label):
            bar.addPermanentWidget(widget)
        self._faces: tuple[int, int] | None = None  # faces done, of how many, in the job under way
        self._time_left = ""  # as the last face finished said it, until the next one does

    def show_busy(self, busy: bool) -> None:
        """Work asked for (True: a new job, its face count not known yet) or ended (False)."""
        if busy:
            self._faces, self._time_left = None, ""
        self._set_busy(busy)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy and self.progress.maximum() == self.progress.value():
            self.progress.setRange(0, 0)

    def show_progress(self, event: ProgressEvent) -> None:
        self._set_busy(True)
        if event.total:
            self.progress.setRange(0, event.total)
            self.progress.setValue(event.done)
        else:
            self.progress.setRange(0, 0)
        if event.stage == "restore":
            self._faces = (event.done, event.total)
        if event.message:
            text = event.message[:1].upper() + event.message[1:]
            if event.face is not None:
                self._time_left = time_left_text(event.face.seconds_left) if event.done < event.total else ""
            if event.stage == "restore" and self._time_left:
                text += f", {self._time_left}"
            self._bar.showMessage(text + ("…" if event.done < event.total else ""))

    def show_cancelled(self) -> None:
        """The job stopped: say how many faces it finished (the engine keeps them)."""
        faces, self._faces = self._faces, None
        self._set_busy(False)
        if faces is not None and 0 < faces[0] < faces[1]:
            done, total = faces
            kept = f"the {done} finished face{'s are' if done != 1 else ' is'} kept"
            self._bar.showMessage(f"Cancelled with {done} of {total} faces restored; {kept}", 8000)
        else:
            self._bar.showMessage("Cancelled", 5000)

    def show_photo_size(self, width: int, height: int) -> None:
        self.size_label.setText(f"{width} × {height}")

    def show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%")
