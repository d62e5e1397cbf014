"""What the user does to one face, as undoable edits: include or exclude it, give it its own
settings, pair it with a reference photo (dropped, chosen or cleared)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from restore_core.params import Settings

from .components import PhotoSession
from .components.selection import set_selected
from .files import photo_filter
from .settings_store import SettingsStore

#: (new settings, the control's key for merging steps, the undo text)
Edit = Callable[[Settings, str, str], None]


class FaceEdits:
    def __init__(
        self,
        parent: QWidget,
        *,
        session: PhotoSession,
        store: SettingsStore,
        edit: Edit,
        show_error: Callable[[str, str], None],
    ) -> None:
        self._parent, self._session, self._store = parent, session, store
        self._edit, self._show_error = edit, show_error

    def select(self, index: int, selected: bool) -> None:
        text = f"{'Include' if selected else 'Exclude'} face {index + 1}"
        self._edit(set_selected(self._session.settings, index, selected, len(self._session.faces)), "", text)

    def toggle(self, index: int) -> None:
        self.select(index, not self._session.settings.is_selected(index))

    def override(self, index: int, changes: dict, key: str, text: str) -> None:
        """The face panel's own settings for face ``index`` (strength, creativity, model)."""
        self._edit(self._session.settings.with_override(index, **changes), f"{key}:{index}", text)

    def set_reference(self, index: int, path: Path) -> None:
        if not path.is_file():
            self._show_error("Cannot use that reference", f"{path} is not a file. Choose a photo of the same person.")
            return
        self._store.set_folder("reference", path.parent)
        settings = self._session.settings.with_override(index, reference=str(path), reference_face=None)
        self._edit(settings, "", f"Reference photo (face {index + 1})")

    def choose_reference(self, index: int) -> None:
        if index < 0:
            return
        path, _ = QFileDialog.getOpenFileName(
            self._parent, f"Reference photo for face {index + 1}", self._store.folder("reference"), photo_filter()
        )
        if path:
            self.set_reference(index, Path(path))

    def clear_reference(self, index: int) -> None:
        settings = self._session.settings.with_override(index, reference=None, reference_face=None)
        self._edit(settings, "", f"Clear reference (face {index + 1})")
