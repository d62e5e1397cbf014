"""Exporting from the window: the save dialog proposes a name and the matching type, opens in
the last folder, writes a faces report only when asked, and offers to open the folder after."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import WAIT_MS
from PySide6.QtWidgets import QFileDialog

from app.export import IMAGE_FILTERS, filter_for
from app.main_window import MainWindow

PHOTO = "family_three_print.png"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a_restored.png", "PNG (*.png)"),
        ("b.JPEG", "JPEG (*.jpg *.jpeg)"),
        ("c.tif", "TIFF (*.tif *.tiff)"),
        ("d", "JPEG (*.jpg *.jpeg)"),
    ],
)
def test_the_filter_is_the_one_of_the_proposed_name(name: str, expected: str) -> None:
    assert filter_for(name, IMAGE_FILTERS) == expected


def test_the_save_dialog_follows_the_name_and_the_last_folder_and_writes_no_report_unless_asked(
    qtbot, loaded: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = loaded
    asked: list[tuple[str, str]] = []
    chosen = tmp_path / "prints" / "family.png"
    chosen.parent.mkdir()

    def save_dialog(parent, title, start, filters, selected, options):
        asked.append((start, selected))
        return str(chosen), selected

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog)
    with qtbot.waitSignal(win.service.signals.exported, timeout=WAIT_MS):
        assert win.exporter.choose_export() is not None
    assert Path(asked[0][0]).name == "family_three_print_restored.png" and asked[0][1] == "PNG (*.png)"
    assert sorted(p.name for p in chosen.parent.iterdir()) == ["family.png"]  # no _faces.json by default

    # The bar offers the folder; the next dialog opens in it.
    opened: list[str] = []
    monkeypatch.setattr("app.export.QDesktopServices.openUrl", lambda url: opened.append(url.toLocalFile()))
    buttons = [b for b in win.message_bar._buttons if b.text() == "Open Folder"]
    assert buttons and "family.png" in win.message_bar.label.text()
    buttons[0].click()
    assert opened == [str(chosen.parent)]

    win.exporter.faces_json_option.setChecked(True)  # asked for: the report goes beside the photo
    chosen = tmp_path / "prints" / "again.png"
    with qtbot.waitSignal(win.service.signals.exported, timeout=WAIT_MS):
        win.exporter.choose_export()
    assert Path(asked[1][0]).parent == tmp_path / "prints"
    assert (tmp_path / "prints" / "again_faces.json").is_file()
    assert win.store.flag("export_faces_json")  # and the choice is remembered


def test_saving_over_the_original_is_refused_in_words_for_people(
    loaded: MainWindow, photos_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = loaded
    said: list[tuple[str, str]] = []
    monkeypatch.setattr(win.exporter, "_show_error", lambda title, message: said.append((title, message)))
    before = (photos_dir / PHOTO).read_bytes()
    assert win.exporter.export_image(photos_dir / PHOTO) is None
    assert said == [
        (
            "Cannot save there",
            f"Facemend cannot save {PHOTO}: it is the input {PHOTO}; the original is never overwritten. "
            "Choose another name or folder.",
        )
    ]
    assert (photos_dir / PHOTO).read_bytes() == before
