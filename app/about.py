"""The About box: version, the app's licence, each installed model's licence, where models are."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

from restore_core import __licence__, __version__
from restore_core.models import MODELS, find, models_dir

from .models_dialog import KIND_NAMES, open_models_folder


def about_html(engine: str) -> str:
    """The About text; models are listed from the registry, only those whose file is present."""
    rows = [
        f"<li>{html.escape(m.title)} ({KIND_NAMES.get(m.kind, m.kind)}): licence {html.escape(m.licence)}</li>"
        for name, m in MODELS.items()
        if find(name) is not None
    ]
    models = (
        f"<p>Installed models:</p><ul>{''.join(rows)}</ul>"
        if rows
        else "<p>No models are installed yet. Open Models… in the File menu to download them.</p>"
    )
    return (
        f"<h3>Facemend {__version__}</h3>"
        "<p>Restores faces in photographs with GFPGAN and CodeFormer, on this computer.</p>"
        f"<p>Facemend's licence: {__licence__}.<br>Engine: {html.escape(engine or 'starting')}.</p>"
        f"{models}<p>Models are stored in {html.escape(str(models_dir()))}</p>"
    )


class AboutDialog(QDialog):
    def __init__(self, engine: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Facemend")
        self.text = QLabel(about_html(engine))
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.folder_button = QPushButton("Open models folder")
        buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.folder_button.clicked.connect(open_models_folder)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)
