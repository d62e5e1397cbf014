"""The first-run offer: the recommended models, one Download button, speed and time left.

Shown when no face model or no detector is installed. Downloads resume where they stopped
(the core keeps ``.part`` files); on an offline machine, or when a download fails, the
dialog says which file to fetch, from where and where it goes, and "Choose file…" imports
a file picked by hand (any file name; checked as ``import_file`` checks).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLayout,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from restore_core.models import ImportedModel, ModelSpec, download, download_url, find, models_dir

from .components.people_text import for_people
from .components.transfer_rate import TransferRate
from .model_files import choose_model_file, imported_text, start_import
from .models_dialog import KIND_NAMES, ask_licence, human_size, recommended_downloads
from .settings_store import SettingsStore
from .tasks import TaskSlot


class FirstRunDialog(QDialog):
    models_changed = Signal()  # every recommended model is now installed

    def __init__(self, store: SettingsStore, wanted: list[ModelSpec], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Facemend")
        self._store = store
        self._wanted = wanted
        self._tasks = TaskSlot(self)
        self._tasks.ended.connect(self._finished)
        self._rate = TransferRate()
        self._complete = False
        # quitting with the main window (this dialog's parent) must not destroy a running thread
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)

        total = sum(m.display_size for m in wanted) / 1e6
        intro = QLabel(
            f"To restore faces Facemend needs these model files ({total:.0f} MB in all). They are "
            f"downloaded once, from their authors' releases, into {models_dir()}."
        )
        intro.setWordWrap(True)
        self.model_list = QListWidget()
        for model in wanted:
            kind = KIND_NAMES.get(model.kind, model.kind)
            self.model_list.addItem(f"{model.title} ({kind}): {human_size(model)}, licence {model.licence}")
        self.model_list.setMaximumHeight(22 * len(wanted) + 12)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setVisible(False)
        self.rate_label = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.download_button = QPushButton("Download")
        self.download_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setToolTip("Install a model file you downloaded yourself (any file name)")
        self.later_button = QPushButton("Later")
        self.download_button.clicked.connect(self.download)
        self.cancel_button.clicked.connect(self.cancel)
        self.choose_button.clicked.connect(self.choose_file)
        self.later_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.choose_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.later_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.model_list)
        layout.addWidget(self.progress)
        layout.addWidget(self.rate_label)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)  # as tall as its text, no gaps
        intro.setFixedWidth(580)
        self.message.setFixedWidth(580)

    @property
    def busy(self) -> bool:
        return self._tasks.busy

    def missing(self) -> list[ModelSpec]:
        return [m for m in self._wanted if find(m.name) is None]

    # ---------------------------------------------------------------- download
    def download(self) -> None:
        if self.busy:
            return
        models = [m for m in self.missing() if ask_licence(self, m, self._store)]
        if not models:
            return
        sizes = [m.display_size for m in models]
        total = sum(sizes)

        def job(progress: Callable[[int, int], None], cancel: threading.Event) -> None:
            before = 0  # bytes of the files already downloaded: one bar for them all

            def report(done: int, _file_total: int) -> None:
                progress(before + done, total)

            for model, size in zip(models, sizes, strict=True):
                download(model, progress=report, cancel=cancel, accept_licence=True)
                before += size

        self._rate = TransferRate()
        self._say(f"Downloading {', '.join(m.title for m in models)}…")
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.rate_label.clear()
        self.rate_label.setVisible(True)
        names = ", ".join(m.filename for m in models)
        self._tasks.start(
            job,
            lambda _result: self._installed(f"Downloaded and verified {names}."),
            self._failed,
            self._cancelled,
            self._show_progress,
        )
        self._update_buttons()

    def cancel(self) -> None:
        self._tasks.cancel()

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setValue(min(1000, done * 1000 // total) if total else 0)
        self.rate_label.setText(self._rate.update(done, total))

    # ---------------------------------------------------------------- import by hand
    def choose_file(self) -> None:
        if (path := choose_model_file(self, self._store, "Choose a downloaded model file")) is not None:
            self.import_model(path)

    def import_model(self, path: Path) -> None:
        """Install a file picked by hand, under any name: as the model its name or hash says,
        else as the first missing model it loads as."""
        if self.busy:
            return

        def installed(imported: ImportedModel) -> None:
            self._installed(imported_text(imported, path))

        start_import(
            self._tasks,
            self,
            path,
            self.missing(),
            installed=installed,
            say=self._say,
            next_step=f"Nothing was installed. {self.by_hand_text()}",
        )
        self._update_buttons()

    # ---------------------------------------------------------------- outcomes
    def by_hand_text(self) -> str:
        """Plain instructions for an offline machine: which files, from where, to where."""
        files = "; ".join(f"{m.filename} from {download_url(m)}" for m in self.missing())
        return (
            f"To install by hand, download {files} (in a browser, on any computer), then click "
            f"Choose file… to pick it, or copy it into {models_dir()}."
        )

    def _installed(self, text: str) -> None:
        self.progress.setVisible(False)
        left = self.missing()
        if left:
            self._say(f"{text} Still needed: {', '.join(m.title for m in left)}.")
            return
        self._say(f"{text} Facemend is ready to restore faces.")
        self._complete = True  # closed once the thread has ended
        self.models_changed.emit()

    def _failed(self, message: str) -> None:
        self.progress.setVisible(False)
        self.rate_label.setVisible(False)
        self._say(for_people(message, self.by_hand_text()))

    def _cancelled(self) -> None:
        self.progress.setVisible(False)
        self.rate_label.setVisible(False)
        self._say("Download cancelled. Click Download to resume where it stopped.")

    def _say(self, text: str) -> None:
        """Show ``text`` under the bar; the dialog grows to show all of it (it is the way forward)."""
        self.message.setText(text)

    # ---------------------------------------------------------------- task plumbing
    def _finished(self) -> None:
        self._update_buttons()
        if self._complete:
            self.accept()

    def _update_buttons(self) -> None:
        busy = self.busy
        self.download_button.setEnabled(not busy)
        self.choose_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def stop(self) -> None:
        """Cancel and wait for the running task (its ``.part`` is kept for the next Download)."""
        self._tasks.stop()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.stop()
        super().closeEvent(event)


def offer_first_run(parent: QWidget, store: SettingsStore) -> FirstRunDialog | None:
    """When a face model or the detector is missing, open the offer beside the main window
    (window-modal, never a blocking exec); None when nothing is missing."""
    wanted = recommended_downloads()
    if not wanted:
        return None
    dialog = FirstRunDialog(store, wanted, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
