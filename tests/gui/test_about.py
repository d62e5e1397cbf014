"""The About box: version, licences (app and installed models), the models folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

import restore_core
from app.about import AboutDialog

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_licence_is_the_one_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"]["text"] == restore_core.__licence__


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
