"""Start-up: ``facemend [IMAGE...]``, ``python -m app``, and ``--smoke-test``.

The window must appear quickly, so nothing heavy is imported here: torch, the detector and
the face models load in the render worker after the window is shown, with a status message.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _import_torch_before_qt() -> None:
    """On Windows, torch (>= 2.9) must load its DLLs before Qt's, or c10.dll fails to initialise.

    Trade-off: on Windows the window therefore appears only after ``import torch`` (about a
    second from a warm disk, several from a cold one), instead of at once with torch loading
    in the worker as on Linux and macOS. A crash at the first render would be far worse.
    """
    if sys.platform == "win32":
        import torch  # noqa: F401


def _use_offscreen_without_display() -> None:
    """A smoke test on a headless Linux box (CI) renders offscreen instead of failing to connect."""
    if (
        sys.platform.startswith("linux")
        and "QT_QPA_PLATFORM" not in os.environ
        and not os.environ.get("DISPLAY")
        and not os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="facemend", description="Restore faces in photographs.")
    parser.add_argument("images", nargs="*", type=Path, help="photos to open (several, or a folder: batch queue)")
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the window, load IMAGE, detect and restore with the installed models (never downloads), "
        "then exit: 0 on success, non-zero with the reason on stderr",
    )
    parser.add_argument("--screenshot", type=Path, help="with --smoke-test: save a screenshot of the window here")
    parser.add_argument("--timeout", type=float, default=600.0, help="with --smoke-test: seconds before giving up")
    # macOS Finder adds -psn_* and Qt takes its own options (-platform, -style): pass those on.
    args, rest = parser.parse_known_args(argv)
    if args.smoke_test and len(args.images) != 1:
        parser.error("--smoke-test needs exactly one IMAGE")
    if args.screenshot and not args.smoke_test:
        parser.error("--screenshot is for --smoke-test")
    return args, rest


def main(argv: list[str] | None = None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    _import_torch_before_qt()
    if args.smoke_test:
        _use_offscreen_without_display()

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from .resources import app_icon
    from .settings_store import APPLICATION, ORGANIZATION

    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    QGuiApplication.setApplicationDisplayName("Facemend")
    QApplication.setWindowIcon(app_icon())

    if args.smoke_test:
        from .smoke import run_smoke_test

        return run_smoke_test(args.images[0], args.screenshot, args.timeout)

    from .main_window import MainWindow
    from .open_events import FileOpenFilter

    window = MainWindow()
    app.installEventFilter(FileOpenFilter(window.open_paths, window))
    window.show()
    if args.images:
        window.open_paths(args.images)
    return app.exec()
