"""The app's runtime files (icons): one lookup for every way Facemend is run.

In a source checkout and in the frozen bundle they sit in ``resources/`` beside ``app/``
(build.spec copies them there); a wheel installs them under ``<prefix>/share/facemend``
(``data-files`` in pyproject.toml).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

_PLACES = (Path(__file__).resolve().parents[1] / "resources", Path(sys.prefix) / "share" / "facemend")


def resource_dir() -> Path | None:
    """The first place that holds the app's icons, or None (a broken install: no icon, no crash)."""
    return next((place for place in _PLACES if (place / "icons").is_dir()), None)


def app_icon() -> QIcon:
    """Facemend's icon at every size it is drawn at (window title bars, task switchers, docks)."""
    icon = QIcon()
    folder = resource_dir()
    if folder is not None:
        for path in sorted((folder / "icons").glob("facemend-*.png")):  # one per size (devtools/make_icons.py)
            icon.addFile(str(path))
    return icon
