"""Exporting: the export actions and options, save dialogs that remember their folder, and
asking before anything existing is replaced. The writing itself happens in the render worker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from restore_core.errors import OutputError
from restore_core.io import check_output_path
from restore_core.params import Settings
from restore_core.pipeline import Comparison, Exports

from .actions import make_action
from .components.people_text import for_people
from .settings_store import SettingsStore

if TYPE_CHECKING:
    from .components import PhotoSession
    from .worker import RenderService

IMAGE_FILTERS = ";;".join(
    ("JPEG (*.jpg *.jpeg)", "PNG (*.png)", "TIFF (*.tif *.tiff)", "WebP (*.webp)", "HEIC (*.heic)", "All files (*)")
)
JSON_FILTER = "JSON (*.json)"
_FILTER_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WebP": ".webp", "HEIC": ".heic", "JSON": ".json"}


def filter_for(file_name: str, filters: str) -> str:
    """The entry of ``filters`` whose patterns hold ``file_name``'s extension (the dialog opens
    on it, so the type shown is the type of the name proposed); the first entry otherwise."""
    entries = filters.split(";;")
    suffix = Path(file_name).suffix.lower()

    def patterns(entry: str) -> list[str]:
        return entry[entry.find("(") + 1 : entry.rfind(")")].lower().split()

    return next((entry for entry in entries if suffix and f"*{suffix}" in patterns(entry)), entries[0])


def faces_json_beside(image_path: Path) -> Path:
    """Where the faces report of an exported image goes: ``<name>_faces.json`` beside it."""
    return image_path.with_name(f"{image_path.stem}_faces.json")


def ask_save_path(
    parent: QWidget, store: SettingsStore, title: str, file_name: str, filters: str = IMAGE_FILTERS
) -> Path | None:
    """A save dialog opening in the last export folder; the folder chosen is remembered.

    The dialog's own overwrite question is off: ``confirm_overwrite`` asks about every file an
    export writes (image and report) in one question.
    """
    folder = store.folder("export")
    start = str(Path(folder) / file_name) if folder else file_name
    chosen, selected_filter = QFileDialog.getSaveFileName(
        parent, title, start, filters, filter_for(file_name, filters), QFileDialog.Option.DontConfirmOverwrite
    )
    if not chosen:
        return None
    path = Path(chosen)
    if not path.suffix:
        path = path.with_suffix(_FILTER_SUFFIX.get(selected_filter.split(" ")[0], ".png"))
    store.set_folder("export", path.parent)
    return path


def confirm_overwrite(parent: QWidget, paths: list[Path]) -> bool | None:
    """None when nothing exists; else whether the user agreed to replace the existing files."""
    existing = [p for p in paths if p.exists()]
    if not existing:
        return None
    names = "\n".join(str(p) for p in existing)
    answer = QMessageBox.question(
        parent,
        "Replace existing files?",
        f"These files already exist:\n{names}\n\nReplace them?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class Exporter(QObject):
    """File > Export…, Export Comparison…, Export Faces JSON… and their options (remembered)."""

    #: an export finished: its ticket, and the Settings of the restored photo it wrote (None
    #: when it wrote no restored photo, only a comparison or a report)
    succeeded = Signal(int, object)
    #: an export failed (the error was shown): its ticket
    failed = Signal(int)

    def __init__(
        self,
        parent: QWidget,
        *,
        session: PhotoSession,
        service: RenderService,
        store: SettingsStore,
        split: Callable[[], float],
        status: Callable[[str, int], None],
        notify: Callable[[str, list[tuple[str, Callable[[], object]]]], None],
        show_error: Callable[[str, str], None],
        show_busy: Callable[[bool], None],
    ) -> None:
        """``parent`` owns the actions and dialogs; ``split`` is the divider's position for a
        split comparison; ``status`` shows a message for some milliseconds (0: until replaced);
        ``notify(text, actions)`` shows a message with buttons (Open folder after an export)."""
        super().__init__(parent)
        self._parent = parent
        self._session, self._service, self._store = session, service, store
        self._split, self._status, self._show_error, self._show_busy = split, status, show_error, show_busy
        self._notify = notify
        self._tickets: dict[int, Settings | None] = {}  # ticket -> the Settings of the photo it writes
        self.export_action = make_action("export", parent, self.choose_export)
        self.comparison_action = make_action("export_comparison", parent, self.choose_comparison)
        self.faces_action = make_action("export_faces", parent, self.choose_faces)
        # Off unless asked: most people want the photo, not a report beside every export.
        self.faces_json_option = self._option("Write Faces JSON With Exports", "export_faces_json", False)
        self.split_option = self._option("Comparison Split at the Divider", "comparison_split", False)
        self.labels_option = self._option("Label the Comparison (Before, After)", "comparison_labels", True)
        service.signals.exported.connect(self._exported)
        service.signals.failed.connect(self._failed)

    def _option(self, text: str, flag: str, default: bool) -> QAction:
        action = QAction(text, self._parent, checkable=True)
        action.setChecked(self._store.flag(flag, default))
        action.toggled.connect(lambda on: self._store.set_flag(flag, on))
        return action

    def owns(self, ticket: int) -> bool:
        return ticket in self._tickets

    # ---------------------------------------------------------------- asking where
    def _source(self) -> Path | None:
        image = self._session.image
        if image is None or self._session.last_result is None:
            self._status("Open a photo first", 5000)
            return None
        return image.path

    def choose_export(self) -> int | None:
        """Ask where, then export the restored photo; the ticket, or None when nothing was queued."""
        if (source := self._source()) is not None:
            name = f"{source.stem}_restored{self._session.export_suffix}"
            if (path := ask_save_path(self._parent, self._store, "Export restored photo", name)) is not None:
                return self.export_image(path)
        return None

    def choose_comparison(self) -> None:
        if (source := self._source()) is not None:
            name = f"{source.stem}_comparison.jpg"
            if (path := ask_save_path(self._parent, self._store, "Export before/after comparison", name)) is not None:
                self.export_comparison(path)

    def choose_faces(self) -> None:
        if (source := self._source()) is not None:
            name = f"{source.stem}_faces.json"
            if (path := ask_save_path(self._parent, self._store, "Export faces JSON", name, JSON_FILTER)) is not None:
                self.export_faces(path)

    # ---------------------------------------------------------------- exporting
    def export_image(self, path: Path) -> int | None:
        """The restored photo at output size (and the faces JSON beside it when that option is on)."""
        report = faces_json_beside(path) if self.faces_json_option.isChecked() else None
        return self._export(Exports(image=path, report=report))

    def export_comparison(self, path: Path) -> int | None:
        style = Comparison(
            mode="split" if self.split_option.isChecked() else "side_by_side",
            split=self._split(),
            labels=self.labels_option.isChecked(),
        )
        return self._export(Exports(comparison=path, comparison_style=style))

    def export_faces(self, path: Path) -> int | None:
        return self._export(Exports(report=path))

    def _export(self, exports: Exports) -> int | None:
        """Refuse the original, ask before replacing, then queue; returns the ticket, or None."""
        image, settings = self._session.image, self._session.settings
        if image is None:
            return None
        targets = exports.paths
        try:  # the core's one never-overwrite rule (symlinks and hard links included); replacing is asked below
            for target in targets:
                check_output_path(image.path, target, overwrite=True)
        except OutputError as exc:
            reason = exc.reason.replace(str(image.path), image.path.name)
            message = for_people(f"Facemend cannot save {exc.path.name}: it {reason}", "Choose another name or folder.")
            self._show_error("Cannot save there", message)
            return None
        answer = confirm_overwrite(self._parent, targets)
        if answer is False:
            self._status("Export cancelled: nothing was replaced", 5000)
            return None
        ticket = self._service.export(image, settings, exports, overwrite=bool(answer))
        self._tickets[ticket] = settings if exports.image is not None else None
        self._status(f"Exporting {', '.join(t.name for t in targets)}…", 0)
        self._show_busy(True)
        return ticket

    def _exported(self, ticket: int, paths: list[Path]) -> None:
        if ticket in self._tickets:
            settings = self._tickets.pop(ticket)
            self._status("Saved " + ", ".join(str(p) for p in paths), 10000)
            if paths:
                folder = paths[0].parent
                self._notify(
                    f"Saved {', '.join(p.name for p in paths)} in {folder}",
                    [("Open Folder", lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))))],
                )
            self.succeeded.emit(ticket, settings)

    def _failed(self, ticket: int, stage: str, message: str) -> None:
        if ticket in self._tickets:
            del self._tickets[ticket]
            self._show_error("Export failed", message)
            self.failed.emit(ticket)
