"""The About box: version, licences (app and installed models), the models folder."""

from __future__ import annotations

from importlib.metadata import metadata
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

import restore_core


def test_the_app_licence_is_the_one_in_pyproject() -> None:
    assert metadata("facemend")["License"] == restore_core.__licence__  # pyproject's license, as installed


def test_about_lists_version_licences_of_installed_models_and_their_folder(
    qtbot, window, models_dir: Path, monkeypatch
) -> None:
    dialog = window.commands._show_about()
    qtbot.waitUntil(dialog.isVisible)
    text = dialog.text.text()
    assert f"Facemend {restore_core.__version__}" in text and "Facemend's licence: Apache-2.0." in text
    # the test folder holds only the mobile0.25 detector (MIT); GFPGAN is not installed
    assert "RetinaFace MobileNet-0.25" in text and "licence MIT" in text and "GFPGAN" not in text.split("ul>")[1]
    assert f"Models are stored in {models_dir}" in text
    assert "Engine: " in text and "Engine: starting" not in text  # the window's engine is ready
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    dialog.folder_button.click()
    assert [u.toLocalFile() for u in opened] == [str(models_dir)]
    dialog.close()
