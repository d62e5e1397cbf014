"""A model file picked by hand, for the first-run offer and the Models dialog: the file
dialog (in the last folder used), the import in a background task, and the question before a
different installed file is replaced (the old one is kept as ``<name>.previous``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from restore_core.models import ImportedModel, ModelSpec, ModelStatus

from .components.model_import import ReplaceNeeded, import_picked
from .components.people_text import about_file, for_people
from .settings_store import SettingsStore
from .tasks import TaskSlot

MODEL_FILES = "Model weights (*.pth *.safetensors *.ckpt);;All files (*)"


def choose_model_file(parent: QWidget, store: SettingsStore, title: str) -> Path | None:
    """An open dialog in the folder of the last model file picked (remembered)."""
    path, _ = QFileDialog.getOpenFileName(parent, title, store.folder("import"), MODEL_FILES)
    if not path:
        return None
    store.set_folder("import", Path(path).parent)
    return Path(path)


def ask_replace(parent: QWidget, needed: ReplaceNeeded) -> bool:
    answer = QMessageBox.question(
        parent,
        "Replace the installed file?",
        f"{needed.source.name} is a {needed.title} file, but a different {needed.title} file is "
        f"installed already ({needed.target.name}). Replace it? The old file is kept as "
        f"{needed.target.name}.previous.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def imported_text(imported: ImportedModel, source: Path) -> str:
    """What an import did, saying so when the file is not the published one."""
    unverified = imported.status is not ModelStatus.INSTALLED
    note = " It differs from the published file (unverified) but will be used." if unverified else ""
    return f"Imported {source.name} as {imported.spec.title}.{note}"


def start_import(
    tasks: TaskSlot,
    parent: QWidget,
    path: Path,
    wanted: Sequence[ModelSpec],
    *,
    installed: Callable[[ImportedModel], object],
    say: Callable[[str], object],
    next_step: str,
    replace: bool = False,
) -> None:
    """Install ``path`` in ``tasks`` (as its name or hash says, else as the first of ``wanted``
    it loads as); ``installed`` gets the result, ``say`` every other outcome in words, a
    failure followed by ``next_step``."""

    def done(result: ImportedModel | ReplaceNeeded) -> None:
        if isinstance(result, ImportedModel):
            installed(result)
        elif ask_replace(parent, result):
            tasks.then(
                lambda: start_import(
                    tasks, parent, path, wanted, installed=installed, say=say, next_step=next_step, replace=True
                )
            )
        else:
            say(f"Nothing was replaced: the installed {result.title} file stays.")

    def failed(message: str) -> None:
        say(for_people(f"Facemend could not use {path.name}: {about_file(message, path)}", next_step))

    say(f"Checking {path.name}…")
    tasks.start(lambda _progress, _cancel: import_picked(path, wanted, replace=replace), done, failed)
