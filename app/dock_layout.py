"""The side panels in a narrow window: below ``NARROW_WIDTH`` the two share one tabbed column,
so the canvas keeps most of the window (half a laptop screen); wider, they go back to their
sides. Only the arrangement it made is undone: panels the user moved, floated or closed stay."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

#: window width (logical pixels) below which the panels share a column
NARROW_WIDTH = 1100


class NarrowDocks(QObject):
    def __init__(self, window: QMainWindow, first: QDockWidget, second: QDockWidget, widths: tuple[int, int]) -> None:
        super().__init__(window)
        self._window, self._first, self._second, self._widths = window, first, second, list(widths)
        self._second_area = window.dockWidgetArea(second)
        self._tabbed_here = False  # the shared column is ours to undo
        window.installEventFilter(self)

    @property
    def tabbed(self) -> bool:
        return self._second in self._window.tabifiedDockWidgets(self._first)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self._window and event.type() == QEvent.Type.Resize:
            self.fit(self._window.width())
        return False

    def fit(self, width: int) -> None:
        if width < NARROW_WIDTH and not self.tabbed and self._on_their_sides():
            self._window.tabifyDockWidget(self._first, self._second)
            self._second.raise_()  # the sliders: what a user moves most
            self._tabbed_here = True
        elif width >= NARROW_WIDTH and self._tabbed_here:
            self._tabbed_here = False
            if self.tabbed:
                self._window.addDockWidget(self._second_area, self._second)
                self._window.resizeDocks([self._first, self._second], self._widths, Qt.Orientation.Horizontal)

    def _on_their_sides(self) -> bool:
        docks = (self._first, self._second)
        return (
            all(d.isVisible() and not d.isFloating() for d in docks)
            and self._window.dockWidgetArea(self._second) == self._second_area
        )
