"""App start to main window shown, measured from outside: process start to the first event-loop
turn after ``MainWindow.show()``.

The child is ``python -m devtools.startup_probe`` (offscreen), which prints a line once the shown
window has had its first event-loop turn. The parent's clock runs from just before it starts
the process (interpreter start-up and every import included) to that line; the core itself
never imports Qt.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time

from .workspace import REPO


def time_to_window(timeout: float = 120.0) -> float:
    """Seconds from starting a Python process to its main window being shown (offscreen)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryFile("w+") as errors:
        start = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, "-m", "devtools.startup_probe"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
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
    return importlib.util.find_spec("PySide6") is not None
