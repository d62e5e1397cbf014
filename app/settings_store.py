"""Persistent application state (QSettings): window layout, last values, recent files.

Stored as an INI file under the user's configuration folder ("Facemend/Facemend.ini").
Tests point QSettings at a temporary folder with ``QSettings.setPath`` before creating
the store, so they never touch the user's file.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from restore_core.errors import SettingsError
from restore_core.params import Settings

ORGANIZATION = "Facemend"
APPLICATION = "Facemend"
MAX_RECENT = 10


class SettingsStore:
    def __init__(self, settings: QSettings | None = None) -> None:
        self._qs = settings or QSettings(
            QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION
        )

    # -- restoration settings (the per-image parts: faces, overrides, faces drawn or removed, are not kept) --
    def last_settings(self) -> Settings:
        text = self._str("settings/last")
        if not text:
            return Settings()
        try:
            return Settings.from_json(json.loads(text))
        except (ValueError, SettingsError):
            return Settings()  # written by another version: start from the defaults

    def set_last_settings(self, settings: Settings) -> None:
        general = Settings(
            detection=settings.detection.for_detector,  # drawn and removed faces belong to one photo
            face=settings.face,
            grain=settings.grain,
            output=settings.output,
            device=settings.device,
            backend=settings.backend,
        )
        self._qs.setValue("settings/last", json.dumps(general.to_json()))

    # -- window layout --
    def geometry(self) -> QByteArray | None:
        return self._bytes("window/geometry")

    def window_state(self) -> QByteArray | None:
        return self._bytes("window/state")

    def set_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self._qs.setValue("window/geometry", geometry)
        self._qs.setValue("window/state", state)

    def _str(self, key: str, default: str = "") -> str:
        value = self._qs.value(key, default, str)
        return value if isinstance(value, str) else default  # a hand-edited file may hold anything

    def _bytes(self, key: str) -> QByteArray | None:
        value = self._qs.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    # -- files and folders --
    def recent_files(self) -> list[Path]:
        items = self._qs.value("files/recent", [], list)
        return [Path(p) for p in items if isinstance(p, str) and p] if isinstance(items, list) else []

    def add_recent_file(self, path: Path) -> list[Path]:
        path = path.resolve()
        recent = [path] + [p for p in self.recent_files() if p != path]
        recent = recent[:MAX_RECENT]
        self._qs.setValue("files/recent", [str(p) for p in recent])
        return recent

    def clear_recent_files(self) -> None:
        self._qs.setValue("files/recent", [])

    def folder(self, purpose: str) -> str:
        """Last folder used for ``purpose`` ("open", "export", "batch", "batch_input",
        "reference", "import")."""
        return self._str(f"folders/{purpose}")

    def set_folder(self, purpose: str, folder: Path) -> None:
        self._qs.setValue(f"folders/{purpose}", str(folder))

    # -- simple flags and values --
    def flag(self, name: str, default: bool = False) -> bool:
        value = self._qs.value(f"flags/{name}", default, bool)
        return value if isinstance(value, bool) else default

    def set_flag(self, name: str, value: bool) -> None:
        self._qs.setValue(f"flags/{name}", value)

    def text(self, name: str, default: str = "") -> str:
        return self._str(f"values/{name}", default)

    def set_text(self, name: str, value: str) -> None:
        self._qs.setValue(f"values/{name}", value)

    def sync(self) -> None:
        self._qs.sync()
