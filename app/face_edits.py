"""What the user does to one face, as undoable edits: include or exclude it, give it its own
settings, pair it with a reference photo (dropped, chosen or cleared), draw one the detector
missed, remove one that is not a face; and the face box's right-click menu offering them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from restore_core.faces import Box
from restore_core.params import Settings

from .components import PhotoSession
from .components.selection import set_selected
from .files import photo_filter
from .settings_store import SettingsStore

if TYPE_CHECKING:
    from .canvas import ImageCanvas
    from .face_panel import FacePanel

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

    def take_requests(self, canvas: ImageCanvas, panel: FacePanel) -> None:
        """Do what the canvas and the face panel ask for a face."""
        canvas.face_clicked.connect(self.toggle)
        canvas.reference_dropped.connect(self.set_reference)
        canvas.face_drawn.connect(self.add_face)
        canvas.face_menu_requested.connect(self.show_face_menu)
        panel.selection_toggled.connect(self.select)
        panel.override_edited.connect(self.override)
        panel.reference_dropped.connect(self.set_reference)
        panel.reference_browse_requested.connect(self.choose_reference)
        panel.reference_cleared.connect(self.clear_reference)
        panel.remove_requested.connect(self.remove_face)
        panel.face_menu_requested.connect(self.show_face_menu)

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

    def add_face(self, box: Box) -> None:
        """A face drawn by hand where the detector found none: restored like the others."""
        settings = self._session.settings
        detection = dataclasses.replace(settings.detection, added=(*settings.detection.added, box))
        self._edit(dataclasses.replace(settings, detection=detection), "", "Add a face")

    def remove_face(self, index: int) -> None:
        """Face ``index`` is not a face: left out of this photo (undo brings it back)."""
        if not 0 <= index < len(self._session.faces):
            return
        settings, box = self._session.settings, self._session.faces[index].box
        detection = settings.detection
        if detection.drew(box):  # a drawn face is simply not drawn any more
            detection = dataclasses.replace(detection, added=tuple(b for b in detection.added if b != box))
        else:
            detection = dataclasses.replace(detection, removed=(*detection.removed, box))
        self._edit(dataclasses.replace(settings, detection=detection), "", f"Remove face {index + 1}")

    def face_menu(self, index: int) -> QMenu:
        """What a right click on face ``index``'s box offers."""
        menu = QMenu(self._parent)
        selected = self._session.settings.is_selected(index)
        number = index + 1
        menu.addAction(f"Exclude Face {number}" if selected else f"Restore Face {number}", lambda: self.toggle(index))
        menu.addAction(f"Reference Photo for Face {number}…", lambda: self.choose_reference(index))
        menu.addSeparator()
        menu.addAction(f"Remove Face {number} (Not a Face)", lambda: self.remove_face(index))
        return menu

    def show_face_menu(self, index: int, at: QPoint) -> None:
        menu = self.face_menu(index)
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(at)
