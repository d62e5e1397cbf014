"""A leading-and-trailing throttle on the Qt event loop (the superqt idea in a few lines).

The first call runs at once; calls during the next ``interval_ms`` collapse into one that
runs when the interval ends. A slider drag therefore asks for a render at most every
interval, and the last position is always rendered.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class Throttle(QObject):
    def __init__(self, interval_ms: int, callback: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._callback = callback
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_timeout)

    def __call__(self) -> None:
        if self._timer.isActive():
            self._pending = True
            return
        self._callback()
        self._timer.start()

    @property
    def pending(self) -> bool:
        """A call is waiting for the interval to end."""
        return self._pending

    def flush(self) -> None:
        """Run a pending call now (before work that must see the latest settings)."""
        if self._pending:
            self._timer.stop()
            self._on_timeout()

    def _on_timeout(self) -> None:
        if self._pending:
            self._pending = False
            self._callback()
            self._timer.start()
