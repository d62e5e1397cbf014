"""The window's layout: the canvas gets most of it, it can be half a screen wide, and the side
panels keep their width whatever they show."""

from __future__ import annotations

import shutil
from pathlib import Path

from gui_helpers import drop_files, wait_for_render

from app.main_window import MainWindow


def test_the_canvas_gets_most_of_the_window_which_can_be_800_px_wide(qtbot, window: MainWindow) -> None:
    win = window
    win.resize(1400, 900)
    qtbot.waitUntil(lambda: win.width() == 1400)
    panels = win.faces_dock.width() + win.settings_dock.width()
    assert win.canvas.width() > panels and win.canvas.width() > 0.55 * win.width()
    assert win.minimumSizeHint().width() <= 800
    win.resize(800, 700)
    qtbot.waitUntil(lambda: win.width() == 800)
    assert win.canvas.width() >= 300 and win.faces_dock.isVisible() and win.settings_dock.isVisible()


def test_pairing_a_reference_with_a_long_name_keeps_the_panels_width(
    qtbot, window: MainWindow, photos_dir: Path, tmp_path: Path
) -> None:
    win = window
    assert drop_files(win.canvas, [photos_dir / "two_children_film.jpg"])
    wait_for_render(qtbot, win)
    widths = (win.faces_dock.width(), win.settings_dock.width(), win.canvas.width())
    reference = tmp_path / ("a_sharper_photo_of_the_same_person_taken_at_the_seaside_in_1987_" * 2 + ".jpg")
    shutil.copy(photos_dir / "collage_two_faces.jpg", reference)
    win.face_panel.list.setCurrentRow(0)
    win.set_reference(0, reference)
    wait_for_render(qtbot, win)
    assert win.face_panel.reference.caption.toolTip() == str(reference)
    qtbot.wait(50)  # layouts settle
    assert (win.faces_dock.width(), win.settings_dock.width(), win.canvas.width()) == widths
