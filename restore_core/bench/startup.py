"""App start to main window shown, measured from outside: process start to the first event-loop
turn after ``MainWindow.show()``.

The child does what ``app.main`` does for a plain start (QApplication, MainWindow, show), with
settings in a temporary file and the offscreen platform, prints a line once the shown window
has had its first event-loop turn, and quits. The parent's clock runs from just before it
starts the process (interpreter start-up and every import included) to that line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from .workspace import REPO

_CHILD = """
import shutil, sys, tempfile
from pathlib import Path
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
from app.main_window import MainWindow
from app.settings_store import SettingsStore
scratch = tempfile.mkdtemp(prefix="facemend-bench-")
store = SettingsStore(QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat))
window = MainWindow(store=store)
window.show()
def shown():
    print("shown", flush=True)
    app.exit(0)
QTimer.singleShot(0, shown)
app.exec()
shutil.rmtree(scratch, ignore_errors=True)
"""


def time_to_window(timeout: float = 120.0) -> float:
    """Seconds from starting a Python process to its main window being shown (offscreen)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, "-c", _CHILD], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=errors, text=True
        ) as child:
            assert child.stdout is not None
            for line in child.stdout:
                if line.strip() == "shown":
                    elapsed = time.perf_counter() - start
                    break
            else:
                child.wait(timeout)
                errors.seek(0)
                raise RuntimeError(f"the app did not show its window:\n{errors.read()[-2000:]}")
            child.wait(timeout)
    return elapsed


def app_available() -> bool:
    return (REPO / "app" / "main_window.py").is_file()
