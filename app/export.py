"""Choosing where exports go: save dialogs that remember their folder, and asking before
anything existing is replaced. The writing itself happens in the render worker."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from .settings_store import SettingsStore

IMAGE_FILTERS = ";;".join(
    (
        "JPEG (*.jpg *.jpeg)",
        "PNG (*.png)",
        "TIFF (*.tif *.tiff)",
        "WebP (*.webp)",
        "HEIC (*.heic)",
        "All files (*)",
    )
)
JSON_FILTER = "JSON (*.json)"
_FILTER_SUFFIX = {"JPEG": ".jpg", "PNG": ".png", "TIFF": ".tif", "WebP": ".webp", "HEIC": ".heic", "JSON": ".json"}


def restored_name(source: Path, suffix: str) -> str:
    return f"{source.stem}_restored{suffix}"


def comparison_name(source: Path) -> str:
    return f"{source.stem}_comparison.jpg"


def faces_json_beside(image_path: Path) -> Path:
    """Where the faces report of an exported image goes: ``<name>_faces.json`` beside it."""
    return image_path.with_name(f"{image_path.stem}_faces.json")


def ask_save_path(
    parent: QWidget, store: SettingsStore, title: str, file_name: str, filters: str = IMAGE_FILTERS
) -> Path | None:
    """A save dialog opening in the last export folder; the folder chosen is remembered.

    The dialog's own overwrite question is off: ``confirm_overwrite`` asks about every file an
    export writes (image, comparison, report) in one question.
    """
    folder = store.folder("export")
    start = str(Path(folder) / file_name) if folder else file_name
    chosen, selected_filter = QFileDialog.getSaveFileName(
        parent, title, start, filters, options=QFileDialog.Option.DontConfirmOverwrite
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
