"""Space held shows the original photo wherever the keyboard focus is in the window (a slider,
the face list, a button), except where Space is typed (text and number fields)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

_TYPING = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


class SpaceHoldsOriginal(QObject):
    """An application event filter for ``window``: Space down calls ``hold(True)``, Space up
    ``hold(False)``; leaving the window lets go (its key release would go elsewhere)."""

    def __init__(self, window: QWidget, hold: Callable[[bool], None]) -> None:
        super().__init__(window)
        self._window, self._hold = window, hold
        app = QApplication.instance()
        assert app is not None
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        kind = event.type()
        if kind == QEvent.Type.WindowDeactivate and watched is self._window:
            self._hold(False)
            return False
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) or not isinstance(event, QKeyEvent):
            return False
        if event.key() != Qt.Key.Key_Space or event.modifiers() != Qt.KeyboardModifier.NoModifier:
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self._window or isinstance(watched, _TYPING):
            return False
        if not event.isAutoRepeat():
            self._hold(kind == QEvent.Type.KeyPress)
        return True  # not a click of the focused button or check box
