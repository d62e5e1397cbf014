"""Helpers shared by the GUI tests (a module of its own: conftest files are not imported by name)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from app.main_window import MainWindow
from restore_core.params import DetectionSettings, FaceSettings, Settings

#: What GUI tests restore with: the real mobile0.25 detector and the identity stand-in model.
TEST_SETTINGS = Settings(
    detection=DetectionSettings(detector="retinaface_mobile0.25"),
    face=FaceSettings(model="passthrough"),
)
WAIT_MS = 120_000  # generous: the first render imports torch and loads the detector


def drop_files(target: QWidget, paths: list[Path], pos: QPointF | None = None) -> bool:
    """Drag files over ``target`` and drop them, as a file manager would; True if accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    point = pos if pos is not None else QPointF(target.width() / 2, target.height() / 2)
    # Qt's drag events take whole pixels (QPoint), the drop event a QPointF.
    enter = QDragEnterEvent(
        point.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    move = QDragMoveEvent(
        point.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target, move)
    drop = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def wait_for_render(qtbot, win: MainWindow) -> None:
    """Until the window shows the exact (not preview) render of the latest request; a render
    failure ends the wait at once with its message."""

    def done() -> bool:
        if win.preview.render_error is not None:
            raise AssertionError(f"render failed: {win.preview.render_error}")
        result = win.last_result
        return (
            not win.preview.pending
            and win.preview.shown_ticket == win.service.latest_render_ticket
            and result is not None
            and not result.preview
        )

    qtbot.waitUntil(done, timeout=WAIT_MS)
