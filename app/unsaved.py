"""Asking before unexported edits are thrown away (opening another photo, quitting)."""

from __future__ import annotations

import enum

from PySide6.QtWidgets import QMessageBox, QWidget


class UnsavedChoice(enum.Enum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


_BUTTONS = {
    QMessageBox.StandardButton.Save: UnsavedChoice.SAVE,
    QMessageBox.StandardButton.Discard: UnsavedChoice.DISCARD,
    QMessageBox.StandardButton.Cancel: UnsavedChoice.CANCEL,
}


def ask_unsaved(parent: QWidget, photo_name: str) -> UnsavedChoice:
    """Save / Don't Save / Cancel, as photo editors ask; Escape cancels."""
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Unsaved changes",
        f"Export the restored {photo_name} before closing it?",
        QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setInformativeText("Your changes to this photo are lost if you don't export them.")
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    return _BUTTONS.get(QMessageBox.StandardButton(box.exec()), UnsavedChoice.CANCEL)
