"""The Models dialog: what is installed, downloads with progress and cancel, imports.

Hashing, downloading and importing run in a ``BackgroundTask`` thread; the dialog stays
responsive and can be closed while nothing runs. Licences with a notice (CodeFormer) are
shown and must be accepted before the first download or use.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from restore_core.models import (
    MODELS,
    ImportedModel,
    ModelSpec,
    ModelStatus,
    accept_licence,
    download,
    download_url,
    installed,
    licence_accepted,
    models_dir,
    statuses,
)

from .components.people_text import for_people
from .components.transfer_rate import TransferRate
from .model_files import choose_model_file, imported_text, start_import
from .settings_store import SettingsStore
from .tasks import TaskSlot

KIND_NAMES = {
    "face": "Face restoration",
    "detector": "Face detection",
    "parsing": "Face parsing",
    "identity": "Reference identity",
    "upscaler": "Background upscaling",
}
STATUS_TEXT = {
    ModelStatus.INSTALLED: "Installed",
    ModelStatus.UNVERIFIED: "Installed, unverified (not the published file)",
    ModelStatus.MISSING: "Not installed",
}


def human_size(spec: ModelSpec) -> str:
    size = spec.display_size
    text = f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
    return text if spec.size else f"about {text}"


def recommended_downloads() -> list[ModelSpec]:
    """What a first start needs: a face model and a face detector, when neither is present."""
    wanted = []
    if not installed("face"):
        wanted.append(MODELS["gfpgan"])
    if not installed("detector"):
        wanted.append(MODELS["retinaface_resnet50"])
    return wanted


def first_start_text(wanted: list[ModelSpec]) -> str:
    total = sum(m.display_size for m in wanted) / 1e6
    items = ", ".join(f"{m.title} ({human_size(m)})" for m in wanted)
    return (
        f"Facemend needs model weights before it can restore faces: {items}, {total:.0f} MB in all, "
        f"downloaded once from their authors' GitHub releases into {models_dir()}."
    )


def open_models_folder() -> None:
    """Show the models folder in the file manager (made first, so there is one to show)."""
    folder = models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def ask_licence(parent: QWidget | None, spec: ModelSpec, store: SettingsStore) -> bool:
    """Show the model's licence notice once; True when there is none or the user accepts it.

    The answer is recorded in the core too (``accept_licence``), which the engine checks."""
    if not spec.licence_notice:
        return True
    if store.flag(f"licence/{spec.name}") or licence_accepted(spec.name):
        if not licence_accepted(spec.name):
            accept_licence(spec.name)  # accepted in an earlier version, before the core kept the answer
        return True
    answer = QMessageBox.question(
        parent,
        f"{spec.title} licence",
        f"{spec.licence_notice}\n\nLicence: {spec.licence}. Do you accept these terms?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    accepted = answer == QMessageBox.StandardButton.Yes
    if accepted:
        store.set_flag(f"licence/{spec.name}", True)
        accept_licence(spec.name)
    return accepted


class ModelsDialog(QDialog):
    models_changed = Signal()  # a file was downloaded or imported

    COLUMNS = ("Model", "Used for", "Size", "Licence", "Status")

    def __init__(self, store: SettingsStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(860, 460)
        self._store = store
        self._names = list(MODELS)
        self._tasks = TaskSlot(self)
        self._tasks.ended.connect(self._task_finished)
        self._queue: list[str] = []
        self._active: str | None = None  # model being downloaded
        self._refresh_pending = False  # statuses to re-read once the running task ends
        self._statuses: dict[str, ModelStatus] = {}
        self._rate = TransferRate()

        self.folder_label = QLabel(f"Models are stored in {models_dir()}")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(len(self._names), len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(self.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        for row, name in enumerate(self._names):
            spec = MODELS[name]
            cells = (spec.title, KIND_NAMES.get(spec.kind, spec.kind), human_size(spec), spec.licence, "Checking…")
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        self.table.itemSelectionChanged.connect(self._show_details)

        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.download_button = QPushButton("Download")
        self.recommended_button = QPushButton("Download recommended")
        self.cancel_button = QPushButton("Cancel download")
        self.import_button = QPushButton("Import file…")
        self.folder_button = QPushButton("Open folder")
        close_button = QPushButton("Close")
        self.download_button.clicked.connect(self._download_selected)
        self.recommended_button.clicked.connect(lambda: self.download([m.name for m in recommended_downloads()]))
        self.cancel_button.clicked.connect(self.cancel_download)
        self.import_button.clicked.connect(self._choose_import)
        self.folder_button.clicked.connect(open_models_folder)
        close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (
            self.download_button,
            self.recommended_button,
            self.cancel_button,
            self.import_button,
            self.folder_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.table.selectRow(0)
        self._update_buttons()
        self.refresh()

    # ---------------------------------------------------------------- status
    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self._names[rows[0].row()] if rows else None

    def _download_selected(self) -> None:
        if (name := self.selected_name()) is not None:
            self.download([name])

    def select(self, name: str) -> None:
        self.table.selectRow(self._names.index(name))

    def status_text(self, name: str) -> str:
        return self._status_item(self._names.index(name)).text()

    def _status_item(self, row: int) -> QTableWidgetItem:
        item = self.table.item(row, len(self.COLUMNS) - 1)  # every row is built with all its cells
        assert item is not None, row
        return item

    def refresh(self) -> None:
        """Re-read every model's status (hashing new files) in the background."""
        if self._busy:
            return
        self._tasks.start(lambda progress, cancel: statuses(), self._show_statuses, self._status_failed)
        self._update_buttons()

    def _show_statuses(self, found: dict[str, ModelStatus]) -> None:
        self._statuses = found
        for row, name in enumerate(self._names):
            self._status_item(row).setText(STATUS_TEXT[found[name]])
        wanted = recommended_downloads()
        self.recommended_button.setEnabled(bool(wanted))
        if wanted and not self.message.text():
            self.message.setText(first_start_text(wanted))

    def _show_details(self) -> None:
        name = self.selected_name()
        if name is None:
            self.details.clear()
            return
        spec = MODELS[name]
        lines = [f"<b>{spec.title}</b>: {spec.filename}, {human_size(spec)}, licence {spec.licence}."]
        if spec.licence_notice:
            lines.append(spec.licence_notice)
        lines.append(f"Source: {spec.url}")
        self.details.setText("<br>".join(lines))
        self._update_buttons()

    @property
    def _busy(self) -> bool:
        return self._tasks.busy

    def _update_buttons(self) -> None:
        busy = self._busy
        name = self.selected_name()
        self.download_button.setEnabled(
            not busy and name is not None and self._statuses.get(name) is not ModelStatus.INSTALLED
        )
        self.recommended_button.setEnabled(not busy and bool(recommended_downloads()))
        self.import_button.setEnabled(not busy)
        self.cancel_button.setEnabled(self._active is not None)

    # ---------------------------------------------------------------- download and import
    def download(self, names: list[str]) -> None:
        """Download these models one after the other (licences asked first)."""
        if self._busy:
            return
        self._queue = [n for n in names if ask_licence(self, MODELS[n], self._store)]
        if self._queue:
            self._next_download()

    def _next_download(self) -> None:
        if not self._queue:
            self._active = None
            self.refresh()
            return
        name = self._queue.pop(0)
        self._active = name
        spec = MODELS[name]
        self.message.setText(f"Downloading {spec.title} ({human_size(spec)})…")
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._rate = TransferRate()
        self._tasks.start(
            lambda progress, cancel: download(name, progress=progress, cancel=cancel, accept_licence=True),
            self._downloaded,
            lambda message: self._download_failed(message, spec),
            self._task_cancelled,
            self._show_progress,
        )
        self._update_buttons()

    def cancel_download(self) -> None:
        if self._active is not None:
            self._queue = []
            self._tasks.cancel()

    def _show_progress(self, done: int, total: int) -> None:
        text = self._rate.update(done, total)  # "2.0 of 10.0 MB · 2.0 MB/s · 4 s left"
        if total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(done * 1000 // total)
            self.progress.setFormat(f"{text} (%p%)")
        else:
            self.progress.setRange(0, 0)  # size unknown: busy indicator
            self.progress.setFormat(text)

    def _downloaded(self, path: Path) -> None:
        self.message.setText(f"Downloaded and verified {path.name}.")
        self.progress.setVisible(False)
        self.models_changed.emit()

    def _choose_import(self) -> None:
        if (path := choose_model_file(self, self._store, "Import a model file")) is not None:
            self.import_model(path)

    def import_model(self, path: Path) -> None:
        """Install a file under any name: as the model its name or hash says, else as the
        selected model (then the recommended ones) if it loads as that kind."""
        if self._busy:
            return
        selected = [MODELS[name]] if (name := self.selected_name()) is not None else []
        wanted = selected + [m for m in recommended_downloads() if m not in selected]

        def installed(imported: ImportedModel) -> None:
            self.message.setText(imported_text(imported, path))
            self.models_changed.emit()
            self._refresh_pending = True

        start_import(
            self._tasks,
            self,
            path,
            wanted,
            installed=installed,
            say=self.message.setText,
            next_step="Nothing was installed. Select the model in the list, download the file from the "
            "source shown below it, then use Import file… again",
        )
        self._update_buttons()

    # ---------------------------------------------------------------- task plumbing
    def _task_finished(self) -> None:
        """The next step starts only here, once the thread has really ended."""
        if self._active is not None:
            self._next_download()  # the next in the queue, or a status refresh when it is empty
        elif self._refresh_pending:
            self._refresh_pending = False
            self.refresh()
        self._update_buttons()

    def _download_failed(self, message: str, spec: ModelSpec) -> None:
        self._show_failure(
            for_people(
                message,
                f"Try again (a download resumes where it stopped), or download {spec.filename} from "
                f"{download_url(spec)} in a browser and use Import file…",
            )
        )

    def _status_failed(self, message: str) -> None:
        self._show_failure(for_people(message, f"Check that {models_dir()} can be read, then open Models… again"))

    def _show_failure(self, text: str) -> None:
        self.progress.setVisible(False)
        self.message.setText(f"<span style='color:#c0392b'>{html.escape(text)}</span>")
        self._queue = []

    def _task_cancelled(self) -> None:
        self.progress.setVisible(False)
        name = self._active
        self.message.setText(
            f"Download of {MODELS[name].title} cancelled; it resumes where it stopped next time."
            if name
            else "Cancelled."
        )
        self._queue = []

    def closeEvent(self, event) -> None:  # noqa: N802
        self._tasks.stop()
        super().closeEvent(event)
