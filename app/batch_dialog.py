"""The batch dialog: a queue of photos restored with the current settings by the render worker.

Every face of every photo is restored (face choices and per-face settings belong to one
photo). A folder brings its sub-folders too, and their tree is mirrored in the output folder.
A file that fails is marked with its reason and the batch goes on. The batch is the command
line's (``restore_core.batch``): a manifest in the output folder records each photo, so running
it again skips the photos done with the same settings ("Done earlier", whichever of the app or
the command line did them), and redoes those whose settings, photo or output changed, or that
a cancel left undone. Nothing is overwritten unless asked: a photo whose output exists (and is
not the batch's own) is skipped, and at the end the user can have the skipped ones overwritten
or saved under new names. Progress: the current file and the queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QDesktopServices
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

from .files import folder_photos, local_files, photo_filter
from .settings_store import SettingsStore
from .widgets import fill_combo
from .worker import BatchItem, RenderService

if TYPE_CHECKING:
    from restore_core.pipeline import ProgressEvent

FORMATS = [("", "Same as the photo"), (".jpg", "JPEG"), (".png", "PNG"), (".tif", "TIFF"), (".webp", "WebP")]
FAILED = QColor(192, 57, 43)
DONE = QColor(39, 140, 80)
SKIPPED = QColor(120, 120, 120)
SKIPPED_TEXT = "Skipped (exists)"
RESUMED_TEXT = "Done earlier"


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
        self._roots: dict[Path, Path] = {}  # a photo found in an added folder -> that folder
        self._ticket: int | None = None
        self._items: tuple[BatchItem, ...] = ()
        self._rows: list[int] = []  # the queue row of each item of the running batch
        self._skipped: list[int] = []  # rows whose output existed
        self._resumed = 0  # rows done by an earlier run
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
        self.recursive = QCheckBox("Include sub-folders (their tree is mirrored in the output folder)")
        self.recursive.setChecked(True)
        options = QFormLayout()
        options.addRow("Output folder", out_row)
        options.addRow("Name ending", self.suffix)
        options.addRow("Format", self.format)
        options.addRow(self.overwrite)
        options.addRow(self.recursive)
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
        # After a run that skipped photos whose output exists: what to do with them.
        self.overwrite_skipped = QPushButton("Overwrite them")
        self.rename_skipped = QPushButton("Save with new names")
        self.overwrite_skipped.clicked.connect(lambda: self._start(self._skipped, overwrite=True))
        self.rename_skipped.clicked.connect(lambda: self._start(self._skipped, rename=True))
        self.open_folder = QPushButton("Open folder")
        self.open_folder.clicked.connect(self._open_output_folder)
        run_buttons = QHBoxLayout()
        run_buttons.addWidget(self.summary, 1)
        run_buttons.addWidget(self.overwrite_skipped)
        run_buttons.addWidget(self.rename_skipped)
        run_buttons.addWidget(self.open_folder)
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
        signals.batch_file_skipped.connect(self._file_skipped)
        signals.batch_file_resumed.connect(self._file_resumed)
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
        self._settings = settings.for_another_photo()
        f = settings.face
        self.settings_note.setText(
            f"Uses the current settings: model {f.model}, strength {f.strength:.2f}, creativity {f.creativity:.2f}"
            f"{', film grain' if settings.grain.enabled else ''}, output {settings.output.scale:g}x. "
            "Every face of every photo is restored."
        )

    def add_paths(self, paths: Iterable[Path]) -> None:
        """Photos as given; a folder as its photos (with its sub-folders' when asked)."""
        found: list[Path] = []
        for path in paths:
            if path.is_dir():
                photos = folder_photos(path, recursive=self.recursive.isChecked())
                self._roots.update(dict.fromkeys(photos, path))
                found.extend(photos)
            else:
                found.append(path)
        self.set_files(self._files + [p for p in dict.fromkeys(found) if p not in self._files])

    def set_files(self, files: list[Path]) -> None:
        if self.running:
            return
        self._files = list(files)
        self._skipped, self._finished = [], 0  # rows of an earlier run no longer mean the same
        self.table.setRowCount(len(self._files))
        for row, path in enumerate(self._files):
            root = self._roots.get(path)
            item = QTableWidgetItem(path.relative_to(root).as_posix() if root is not None else path.name)
            item.setToolTip(str(path))
            self.table.setItem(row, 0, item)
            self.table.setItem(row, 1, QTableWidgetItem("Waiting"))
        self.summary.setText(f"{len(self._files)} photo{'s' if len(self._files) != 1 else ''}")
        self._update_buttons()

    def _choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add photos", self._input_folder(), photo_filter())
        if paths:
            self._store.set_folder("batch_input", Path(paths[0]).parent)
        self.add_paths(Path(p) for p in paths)

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder of photos", self._input_folder())
        if folder:
            self._store.set_folder("batch_input", Path(folder))
            self.add_paths([Path(folder)])

    def _input_folder(self) -> str:
        """Where "Add photos" and "Add folder" start: where photos were last added from (at
        first, where the window last opened a photo)."""
        return self._store.folder("batch_input") or self._store.folder("open")

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
        """Where ``source`` goes, named as the command line's batches name it (so either one
        knows the other's work): below a folder it was added with, by its path there, in the
        output folder (or that folder itself); a photo added alone by its path, in the output
        folder (or its own folder)."""
        root = self._roots.get(source)
        if root is None:
            out = Path(self.out_dir.text()) if self.out_dir.text().strip() else source.parent
            return BatchItem(source, out, str(source), PurePosixPath())
        relative = PurePosixPath(source.relative_to(root).as_posix())
        out = Path(self.out_dir.text()) if self.out_dir.text().strip() else root
        return BatchItem(source, out, relative.as_posix(), relative.parent)

    def _free_ending(self, rows: list[int]) -> str:
        """The name ending plus ``_2``, ``_3``... that no output of these rows has taken yet."""
        ending, suffix = self.suffix.text(), self.format.currentData()
        names = [(self.item_for(self._files[row]).output_folder, self._files[row].stem) for row in rows]

        def taken(folder: Path, name: str) -> bool:
            return (folder / f"{name}{suffix}").exists() if suffix else any(folder.glob(f"{name}.*"))

        def free(candidate: str) -> bool:
            return not any(taken(folder, f"{stem}{candidate}") for folder, stem in names)

        return next(f"{ending}_{n}" for n in range(2, 10_000) if free(f"{ending}_{n}"))

    def start(self) -> None:
        self._start(list(range(len(self._files))), overwrite=self.overwrite.isChecked())

    def _start(self, rows: list[int], *, overwrite: bool = False, rename: bool = False) -> None:
        if self.running or not rows:
            return
        if self.out_dir.text().strip():
            self._store.set_folder("batch", Path(self.out_dir.text()))
        self._rows = list(rows)
        self._items = tuple(self.item_for(self._files[row]) for row in self._rows)
        ending = self._free_ending(self._rows) if rename else self.suffix.text()
        self._skipped = []
        self._resumed = 0
        self._failures = 0
        self._finished = 0
        for row in self._rows:
            self._set_status(row, "Waiting", None)
        self.overall_progress.setRange(0, len(self._items))
        self.overall_progress.setValue(0)
        self.file_progress.setValue(0)
        self._ticket = self._service.batch(
            self._items,
            self._settings,
            overwrite=overwrite,
            name_ending=ending,
            output_suffix=self.format.currentData(),
        )
        self._update_buttons()

    def cancel(self) -> None:
        if self.running:
            self._service.cancel_batch()
            self.summary.setText("Cancelling after the current step…")

    def _file_started(self, ticket: int, index: int) -> None:
        if ticket == self._ticket:
            self._set_status(self._rows[index], "Working…", None)
            self.table.scrollToItem(self._item(self._rows[index], 0))
            self.file_progress.setRange(0, 0)

    def _file_progress(self, ticket: int, index: int, event: ProgressEvent) -> None:
        if ticket != self._ticket:
            return
        if event.total:
            self.file_progress.setRange(0, event.total)
            self.file_progress.setValue(event.done)
        self._set_status(self._rows[index], event.message or "Working…", None)

    def _file_done(self, ticket: int, index: int, saved: str, error: str) -> None:
        if ticket != self._ticket:
            return
        if error:
            self._failures += 1
            self._set_status(self._rows[index], f"Failed: {error}", FAILED)
        else:
            self._set_status(self._rows[index], f"Saved {saved}", DONE)
        self._count_finished()

    def _file_skipped(self, ticket: int, index: int, existing: str) -> None:
        if ticket != self._ticket:
            return
        self._skipped.append(self._rows[index])
        self._set_status(self._rows[index], SKIPPED_TEXT, SKIPPED, tooltip=f"{existing} is already there")
        self._count_finished()

    def _file_resumed(self, ticket: int, index: int, output: str) -> None:
        if ticket != self._ticket:
            return
        self._resumed += 1
        self._set_status(
            self._rows[index], RESUMED_TEXT, DONE, tooltip=f"{output}: restored with these settings by an earlier run"
        )
        self._count_finished()

    def _count_finished(self) -> None:
        self._finished += 1
        self.file_progress.setRange(0, 1)
        self.file_progress.setValue(1)
        self.overall_progress.setValue(self._finished)

    def _batch_finished(self, ticket: int, cancelled: bool) -> None:
        if ticket != self._ticket:
            return
        self._ticket = None
        ok = self._finished - self._failures - len(self._skipped) - self._resumed
        text = f"{ok} restored, {self._failures} failed"
        if self._resumed:
            text += f", {self._resumed} done earlier"
        if self._skipped:
            text += f", {len(self._skipped)} skipped because their output exists"
        if cancelled:
            text += f", {len(self._items) - self._finished} not done (cancelled)"
        self.summary.setText(text)
        self._update_buttons()

    def _item(self, row: int, column: int) -> QTableWidgetItem:
        """A cell of the queue table (every row is built with all its cells)."""
        item = self.table.item(row, column)
        assert item is not None, (row, column)
        return item

    def _set_status(self, row: int, text: str, color: QColor | None, *, tooltip: str = "") -> None:
        item = self._item(row, 1)
        item.setText(text)
        item.setToolTip(tooltip or text)
        if color is not None:
            item.setForeground(color)
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)

    def _update_buttons(self) -> None:
        self.start_button.setEnabled(not self.running and bool(self._files))
        self.cancel_button.setEnabled(self.running)
        self.remove_button.setEnabled(not self.running)
        for button in (self.overwrite_skipped, self.rename_skipped):
            button.setVisible(not self.running and bool(self._skipped))
        self.open_folder.setVisible(not self.running and self._finished > 0)

    def _open_output_folder(self) -> None:
        """The output folder, or (outputs next to each photo) the first photo's folder."""
        folder = self.out_dir.text().strip() or (str(self._files[0].parent) if self._files else "")
        if folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(folder))

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
