"""The batch dialog: a queue of photos restored with the current settings by the render worker.

Every face of every photo is restored (face choices and per-face settings belong to one
photo). A file that fails is marked with its reason and the batch goes on; nothing is
overwritten unless asked. Progress: the stage of the current file and the whole queue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from restore_core.params import Settings

from .files import expand_paths, local_files, photo_filter
from .settings_store import SettingsStore
from .widgets import fill_combo
from .worker import BatchItem, RenderService

if TYPE_CHECKING:
    from restore_core.pipeline import ProgressEvent

FORMATS = [("", "Same as the photo"), (".jpg", "JPEG"), (".png", "PNG"), (".tif", "TIFF"), (".webp", "WebP")]
FAILED = QColor(192, 57, 43)
DONE = QColor(39, 140, 80)


class BatchDialog(QDialog):
    def __init__(
        self, service: RenderService, settings: Settings, store: SettingsStore, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch restore")
        self.setAcceptDrops(True)
        self.resize(760, 520)
        self._service = service
        self._store = store
        self._settings = settings
        self._files: list[Path] = []
        self._ticket: int | None = None
        self._items: tuple[BatchItem, ...] = ()
        self._failures = 0
        self._finished = 0

        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(("Photo", "Status"))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 280)
        self.table.setWordWrap(True)

        add_files = QPushButton("Add photos…")
        add_folder = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        clear = QPushButton("Clear")
        add_files.clicked.connect(self._choose_files)
        add_folder.clicked.connect(self._choose_folder)
        self.remove_button.clicked.connect(self._remove_selected)
        clear.clicked.connect(lambda: self.set_files([]))
        queue_buttons = QHBoxLayout()
        for button in (add_files, add_folder, self.remove_button, clear):
            queue_buttons.addWidget(button)
        queue_buttons.addStretch(1)

        self.out_dir = QLineEdit(store.folder("batch"))
        self.out_dir.setPlaceholderText("Next to each photo")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_out_dir)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_dir, 1)
        out_row.addWidget(browse)
        self.suffix = QLineEdit("_restored")
        self.format = QComboBox()
        fill_combo(self.format, FORMATS)
        self.overwrite = QCheckBox("Replace existing output files")
        options = QFormLayout()
        options.addRow("Output folder", out_row)
        options.addRow("Name ending", self.suffix)
        options.addRow("Format", self.format)
        options.addRow(self.overwrite)
        self.settings_note = QLabel()
        self.settings_note.setWordWrap(True)

        self.file_progress = QProgressBar()
        self.overall_progress = QProgressBar()
        self.summary = QLabel()
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        close = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        close.clicked.connect(self.close)
        run_buttons = QHBoxLayout()
        run_buttons.addWidget(self.summary, 1)
        run_buttons.addWidget(self.start_button)
        run_buttons.addWidget(self.cancel_button)
        run_buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(queue_buttons)
        layout.addLayout(options)
        layout.addWidget(self.settings_note)
        progress_form = QFormLayout()
        progress_form.addRow("This photo", self.file_progress)
        progress_form.addRow("All photos", self.overall_progress)
        layout.addLayout(progress_form)
        layout.addLayout(run_buttons)

        signals = service.signals
        signals.batch_file_started.connect(self._file_started)
        signals.batch_progress.connect(self._file_progress)
        signals.batch_file_done.connect(self._file_done)
        signals.batch_finished.connect(self._batch_finished)
        self.set_settings(settings)
        self._update_buttons()

    # ---------------------------------------------------------------- queue
    @property
    def files(self) -> list[Path]:
        return list(self._files)

    @property
    def running(self) -> bool:
        return self._ticket is not None

    def set_settings(self, settings: Settings) -> None:
        """The window's current settings, used for the next start (every face of every photo)."""
        self._settings = dataclasses.replace(settings, faces=None, overrides=())
        f = settings.face
        self.settings_note.setText(
            f"Uses the current settings: model {f.model}, strength {f.strength:.2f}, creativity {f.creativity:.2f}"
            f"{', film grain' if settings.grain.enabled else ''}, output {settings.output.scale:g}x. "
            "Every face of every photo is restored."
        )

    def add_paths(self, paths: Iterable[Path]) -> None:
        new = [p for p in expand_paths(paths) if p not in self._files]
        self.set_files(self._files + new)

    def set_files(self, files: list[Path]) -> None:
        if self.running:
            return
        self._files = list(files)
        self.table.setRowCount(len(self._files))
        for row, path in enumerate(self._files):
            item = QTableWidgetItem(path.name)
            item.setToolTip(str(path))
            self.table.setItem(row, 0, item)
            self.table.setItem(row, 1, QTableWidgetItem("Waiting"))
        self.summary.setText(f"{len(self._files)} photo{'s' if len(self._files) != 1 else ''}")
        self._update_buttons()

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add photos", self._store.folder("open"), photo_filter())
        self.add_paths(Path(p) for p in paths)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos", self._store.folder("open"))
        if folder:
            self.add_paths([Path(folder)])

    def _choose_out_dir(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Output folder", self.out_dir.text())
        if folder:
            self.out_dir.setText(folder)

    def _remove_selected(self) -> None:
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        self.set_files([p for i, p in enumerate(self._files) if i not in rows])

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if local_files(event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        self.add_paths(local_files(event.mimeData().urls()))
        event.acceptProposedAction()

    # ---------------------------------------------------------------- running
    def item_for(self, source: Path) -> BatchItem:
        """Where ``source`` goes: the chosen format's extension, or the core's rule (as the CLI's)."""
        folder = Path(self.out_dir.text()) if self.out_dir.text().strip() else source.parent
        ending, suffix = self.suffix.text(), self.format.currentData()
        return (
            BatchItem(source, folder / f"{source.stem}{ending}{suffix}")
            if suffix
            else BatchItem(source, folder, ending)
        )

    def start(self) -> None:
        if self.running or not self._files:
            return
        if self.out_dir.text().strip():
            self._store.set_folder("batch", Path(self.out_dir.text()))
        self._items = tuple(self.item_for(p) for p in self._files)
        self._failures = 0
        self._finished = 0
        for row in range(len(self._files)):
            self._set_status(row, "Waiting", None)
        self.overall_progress.setRange(0, len(self._items))
        self.overall_progress.setValue(0)
        self.file_progress.setValue(0)
        self._ticket = self._service.batch(self._items, self._settings, overwrite=self.overwrite.isChecked())
        self._update_buttons()

    def cancel(self) -> None:
        if self.running:
            self._service.cancel_batch()
            self.summary.setText("Cancelling after the current step…")

    def _file_started(self, ticket: int, index: int) -> None:
        if ticket == self._ticket:
            self._set_status(index, "Working…", None)
            self.table.scrollToItem(self._item(index, 0))
            self.file_progress.setRange(0, 0)

    def _file_progress(self, ticket: int, index: int, event: ProgressEvent) -> None:
        if ticket != self._ticket:
            return
        if event.total:
            self.file_progress.setRange(0, event.total)
            self.file_progress.setValue(event.done)
        self._set_status(index, event.message or "Working…", None)

    def _file_done(self, ticket: int, index: int, saved: str, error: str) -> None:
        if ticket != self._ticket:
            return
        self._finished += 1
        if error:
            self._failures += 1
            self._set_status(index, f"Failed: {error}", FAILED)
        else:
            self._set_status(index, f"Saved {saved}", DONE)
        self.file_progress.setRange(0, 1)
        self.file_progress.setValue(1)
        self.overall_progress.setValue(self._finished)

    def _batch_finished(self, ticket: int, cancelled: bool) -> None:
        if ticket != self._ticket:
            return
        self._ticket = None
        ok = self._finished - self._failures
        text = f"{ok} restored, {self._failures} failed"
        if cancelled:
            text += f", {len(self._items) - self._finished} not done (cancelled)"
        self.summary.setText(text)
        self._update_buttons()

    def _item(self, row: int, column: int) -> QTableWidgetItem:
        """A cell of the queue table (every row is built with all its cells)."""
        item = self.table.item(row, column)
        assert item is not None, (row, column)
        return item

    def _set_status(self, row: int, text: str, color: QColor | None) -> None:
        item = self._item(row, 1)
        item.setText(text)
        item.setToolTip(text)
        if color is not None:
            item.setForeground(color)
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)

    def _update_buttons(self) -> None:
        self.start_button.setEnabled(not self.running and bool(self._files))
        self.cancel_button.setEnabled(self.running)
        self.remove_button.setEnabled(not self.running)

    def failures(self) -> list[tuple[Path, str]]:
        """(photo, reason) of each file that failed in the last run."""
        out = []
        for row, path in enumerate(self._files):
            text = self._item(row, 1).text()
            if text.startswith("Failed: "):
                out.append((path, text.removeprefix("Failed: ")))
        return out

    def closeEvent(self, event) -> None:  # noqa: N802
        self.cancel()
        super().closeEvent(event)
