"""Start-up probe for the benchmark: ``python -m devtools.startup_probe``.

Does what ``app.main`` does for a plain start (QApplication, MainWindow, show), with settings in
a temporary file, prints ``shown`` once the shown window has had its first event-loop turn, and
quits. ``devtools.bench`` times it from outside, so the core never imports Qt itself.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication


def main() -> int:
    app = QApplication([sys.argv[0]])
    from app.main_window import MainWindow
    from app.settings_store import SettingsStore

    scratch = tempfile.mkdtemp(prefix="facemend-bench-")
    try:
        store = SettingsStore(QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(store=store)
        window.show()

        def shown() -> None:
            print("shown", flush=True)
            window.close()  # stops the render thread, as quitting the app does
            app.exit(0)

        QTimer.singleShot(0, shown)
        return app.exec()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
