"""Files handed to the application by the operating system (macOS: dropped on the Dock icon,
"Open With"); they arrive as ``QFileOpenEvent``s on the application object."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFileOpenEvent


class FileOpenFilter(QObject):
    def __init__(self, open_paths: Callable[[list[Path]], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_paths = open_paths

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent) and event.file():
            self._open_paths([Path(event.file())])
            return True
        return False
