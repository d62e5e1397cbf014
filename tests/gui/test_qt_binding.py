"""The Qt binding itself: a release that breaks the interpreter is kept out by pyproject.toml."""

from __future__ import annotations

import sys

from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter


def test_qt_calls_do_not_drop_references_to_none() -> None:
    """PySide6 6.12.0 dropped one reference to None per call of a void method (``setWidth``,
    ``drawImage``...): on Python 3.11 the window aborted ("deallocating None") after a few
    thousand paint calls, at once with a crowd's faces filling in."""
    rect = QRectF(0, 0, 5, 5)
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(500):
        rect.setWidth(3)
        painter.drawImage(rect, image)
    drift = sys.getrefcount(None) - before
    painter.end()
    assert abs(drift) < 100, f"each Qt call changes None's reference count ({drift} in 1000 calls)"
