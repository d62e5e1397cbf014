"""``--smoke-test IMAGE``: the whole application once, end to end, for packaging checks.

Opens the real window, loads IMAGE, detects with the best installed detector, restores with
the best installed face model (passthrough when there is none), never downloads, optionally
saves a screenshot of the window, and exits 0. Any failure exits 1 with the reason on
stderr. Settings go to a temporary file: a smoke test leaves the user's settings alone.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QSettings, QTimer

from restore_core.params import DetectionSettings, FaceSettings, Settings

from .main_window import MainWindow, default_engine_factory
from .settings_store import SettingsStore


def best_face_model() -> str:
    """``auto`` (which picks among the installed models per face) when one is installed."""
    from restore_core.models import installed

    return "auto" if installed("face") else "passthrough"


class _Outcome:
    """What the smoke test waits for: the exact render of the photo, or the first failure."""

    def __init__(self, window: MainWindow, loop: QEventLoop) -> None:
        self.window = window
        self.loop = loop
        self.error: str | None = None
        self.result: Any = None
        signals = window.service.signals
        signals.rendered.connect(self._rendered)
        signals.failed.connect(lambda _ticket, stage, message: self._fail(f"{stage} failed: {message}"))
        signals.start_failed.connect(self._fail)

    def _rendered(self, ticket: int, result: Any) -> None:
        if ticket == self.window.service.latest_render_ticket and not result.preview:
            self.result = result
            QTimer.singleShot(0, self.loop.quit)  # let the window show the result first

    def _fail(self, message: str) -> None:
        if self.error is None:
            self.error = message
        self.loop.quit()


def run_smoke_test(image: Path, screenshot: Path | None, timeout_s: float) -> int:
    if not image.is_file():
        print(f"smoke test failed: {image}: no such file", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="facemend-smoke-") as scratch:
        store = SettingsStore(QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(default_engine_factory, store, check_models=False)
        model = best_face_model()
        window.history.reset(Settings(detection=DetectionSettings(detector="auto"), face=FaceSettings(model=model)))
        loop = QEventLoop()
        outcome = _Outcome(window, loop)
        timer = QTimer(singleShot=True, interval=round(timeout_s * 1000))
        timer.timeout.connect(lambda: outcome._fail(f"no result within {timeout_s:g} s"))
        window.show()
        window.open_image(image)
        timer.start()
        loop.exec()
        timer.stop()
        try:
            if outcome.error is not None:
                print(f"smoke test failed: {image}: {outcome.error}", file=sys.stderr)
                return 1
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                if not window.grab().save(str(screenshot)):
                    print(f"smoke test failed: cannot write the screenshot {screenshot}", file=sys.stderr)
                    return 1
            result = outcome.result
            models = sorted({f.model for f in result.faces if f.model})
            backends = sorted({f.backend for f in result.faces if f.backend not in (None, "none")})
            print(
                f"smoke test passed: {image.name}: {len(result.faces)} faces, model {model}"
                f" ({', '.join(models) or 'none run'}) on {', '.join(backends) or 'no backend'},"
                f" device {window.device_description}" + (f", screenshot {screenshot}" if screenshot else "")
            )
            return 0
        finally:
            window.close()
