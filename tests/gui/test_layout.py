"""The window's layout and what holds across it: the canvas gets most of the window, which can be
half a screen wide; the side panels keep their width whatever they show; Space held shows the
original wherever the focus is; every control says in words what it does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gui_helpers import drop_files, wait_for_render
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from app.components.remembered import remembered
from app.main_window import MainWindow


def test_the_canvas_gets_most_of_the_window_which_can_be_800_px_wide(qtbot, window: MainWindow) -> None:
    win = window
    win.resize(1400, 900)
    qtbot.waitUntil(lambda: win.width() == 1400)
    panels = win.faces_dock.width() + win.settings_dock.width()
    assert win.canvas.width() > panels and win.canvas.width() > 0.55 * win.width()
    assert win.minimumSizeHint().width() <= 800
    assert not win.narrow_docks.tabbed
    win.resize(800, 700)
    qtbot.waitUntil(lambda: win.width() == 800)
    # narrow: the two panels share one tabbed column, the canvas keeps most of the window
    assert win.narrow_docks.tabbed and win.tabifiedDockWidgets(win.faces_dock) == [win.settings_dock]
    qtbot.waitUntil(lambda: win.canvas.width() > 0.55 * win.width(), timeout=3000)
    assert win.settings_dock.isVisible() and not win.settings_dock.visibleRegion().isEmpty()
    win.resize(1400, 900)
    qtbot.waitUntil(lambda: win.width() == 1400)
    qtbot.waitUntil(lambda: not win.narrow_docks.tabbed)
    shown = lambda dock: not dock.visibleRegion().isEmpty()  # noqa: E731
    qtbot.waitUntil(lambda: shown(win.faces_dock) and shown(win.settings_dock), timeout=3000)
    assert win.dockWidgetArea(win.settings_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert win.canvas.width() > 0.55 * win.width()


def test_panels_the_user_arranged_are_left_as_they_are_in_a_narrow_window(qtbot, window: MainWindow) -> None:
    win = window
    win.resize(1400, 900)
    qtbot.waitUntil(lambda: win.width() == 1400)
    win.faces_dock.close()  # View > Faces off: the user wants the room
    win.resize(800, 700)
    qtbot.waitUntil(lambda: win.width() == 800)
    assert not win.narrow_docks.tabbed and not win.faces_dock.isVisible()


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
    win.face_edits.set_reference(0, reference)
    wait_for_render(qtbot, win)
    assert win.face_panel.reference.caption.toolTip() == str(reference)
    qtbot.wait(50)  # layouts settle
    assert (win.faces_dock.width(), win.settings_dock.width(), win.canvas.width()) == widths


@pytest.mark.parametrize("focus", ["canvas", "face list", "check box", "slider", "Reset button"])
def test_space_held_shows_the_original_wherever_the_focus_is(qtbot, window: MainWindow, focus: str) -> None:
    win = window
    widget = {
        "canvas": win.canvas,
        "face list": win.face_panel.list,
        "check box": win.controls.center_only,
        "slider": win.controls.strength.slider,
        "Reset button": win.controls.reset_button,
    }[focus]
    checked = win.controls.center_only.isChecked()
    qtbot.keyPress(widget, Qt.Key.Key_Space)
    assert win.canvas._holding_original
    qtbot.keyRelease(widget, Qt.Key.Key_Space)
    assert not win.canvas._holding_original
    assert win.controls.center_only.isChecked() == checked  # Space was not a click
    assert win.history.count == 0  # nor an edit (Reset was not pressed)


def test_space_is_typed_where_text_is_typed(qtbot, window: MainWindow) -> None:
    qtbot.keyPress(window.controls.min_face, Qt.Key.Key_Space)
    assert not window.canvas._holding_original


def _needs_a_tooltip(widget: QWidget) -> bool:
    from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox, QListWidget, QSlider

    return isinstance(widget, QAbstractButton | QSlider | QAbstractSpinBox | QComboBox | QListWidget)


def _tooltip(widget: QWidget | None, panel: QWidget) -> str:
    """The tooltip Qt shows over ``widget``: its own, or the nearest parent's within ``panel``."""
    while widget is not None and widget is not panel:
        if widget.toolTip():
            return widget.toolTip()
        widget = widget.parentWidget()
    return ""


def test_every_control_says_in_words_what_it_does(window: MainWindow) -> None:
    for panel in (window.controls, window.face_panel):
        controls = [w for w in panel.findChildren(QWidget) if _needs_a_tooltip(w)]
        assert len(controls) > 10
        missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()}" for w in controls if not _tooltip(w, panel)]
        assert not missing, f"controls without a tooltip: {missing}"
    assert window.controls.creativity.toolTip().startswith("0 keeps the face as it is, 1 lets the model invent")


def test_settings_kept_from_the_last_session_are_named_until_reset(window: MainWindow) -> None:
    win = window  # launched with the GUI tests' settings: the fast detector and no face model
    assert win.controls.remembered_note.isVisibleTo(win.controls)
    assert win.controls.remembered_note.text() == "Kept from your last session: detector, face model."
    win.controls.reset_button.click()
    assert not win.controls.remembered_note.isVisibleTo(win.controls)
    assert remembered(win.settings) == ()
