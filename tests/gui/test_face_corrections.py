"""Correcting the detector in the app: draw a box around a face it missed, remove a face that is
not one; both are undoable steps and reach the render."""

from __future__ import annotations

import dataclasses

from gui_helpers import wait_for_render
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from restore_core.faces import box_iou

PHOTO = "two_children_film.jpg"


def _miss_the_small_face(qtbot, win: MainWindow) -> tuple[float, float, float, float]:
    """Make the detector miss the smaller face (a size limit), as it misses a blurred one; its box."""
    small = min(win.faces, key=lambda f: f.size)
    detection = dataclasses.replace(win.settings.detection, min_face=int(small.size) + 1)
    win.edit(dataclasses.replace(win.settings, detection=detection), "", "Smallest face")
    qtbot.waitUntil(lambda: len(win.faces) == 1)
    wait_for_render(qtbot, win)
    return small.box


def _drag(qtbot, win: MainWindow, box: tuple[float, float, float, float]) -> None:
    canvas = win.canvas
    start = canvas.image_to_widget(QPointF(box[0], box[1])).toPoint()
    end = canvas.image_to_widget(QPointF(box[2], box[3])).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, (start + end) / 2)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)


def test_a_face_drawn_where_the_detector_missed_it_is_restored_and_undoable(qtbot, loaded: MainWindow) -> None:
    win = loaded
    missed = _miss_the_small_face(qtbot, win)
    win.edit(dataclasses.replace(win.settings, faces=(0,)), "", "Only face 1")  # a partial choice
    win.commands.draw_face.trigger()
    assert win.canvas.drawing and win.canvas.cursor().shape() == Qt.CursorShape.CrossCursor
    with qtbot.waitSignal(win.canvas.face_drawn) as drawn:
        _drag(qtbot, win, missed)
    assert not win.canvas.drawing and not win.commands.draw_face.isChecked()  # one box per use
    box = drawn.args[0]
    assert box_iou(box, missed) > 0.9
    assert win.settings.detection.added == (box,)
    assert win.history.undo_text == "Add a face"
    qtbot.waitUntil(lambda: len(win.faces) == 2)
    wait_for_render(qtbot, win)
    index = next(i for i, f in enumerate(win.faces) if f.box == box)
    assert win.settings.is_selected(index)  # a drawn face is one the user wants restored
    result = win.last_result
    assert result is not None
    assert result.faces[index].model == "passthrough" and result.faces[index].restored_thumb is not None
    assert "by hand," in win.face_panel.list.item(index).text()
    centre = win.canvas.image_to_widget(QPointF((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
    assert win.canvas.face_tooltip(centre).startswith(f"Face {index + 1}: drawn by hand")

    win.commands.undo.trigger()
    qtbot.waitUntil(lambda: len(win.faces) == 1)
    assert win.settings.detection.added == ()
    win.commands.redo.trigger()
    qtbot.waitUntil(lambda: len(win.faces) == 2)


def test_escape_or_a_click_draws_nothing(qtbot, loaded: MainWindow) -> None:
    win = loaded
    canvas = win.canvas
    win.commands.draw_face.trigger()
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert not canvas.drawing and not win.commands.draw_face.isChecked()
    win.commands.draw_face.trigger()
    before = win.settings
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(canvas.width() // 2, canvas.height() // 2))
    assert win.settings == before and canvas.drawing  # a click is no box; still drawing


def test_a_face_that_is_not_one_is_removed_from_the_list_the_canvas_and_the_render(qtbot, loaded: MainWindow) -> None:
    win = loaded
    assert len(win.faces) == 2
    gone, kept = win.faces
    win.face_panel.list.setCurrentRow(0)
    win.face_panel.list.setFocus()
    qtbot.keyClick(win.face_panel.list, Qt.Key.Key_Delete)
    assert win.history.undo_text == "Remove face 1"
    qtbot.waitUntil(lambda: len(win.faces) == 1)
    wait_for_render(qtbot, win)
    assert win.faces == (kept,)
    assert win.face_panel.list.count() == 1
    result = win.last_result
    assert result is not None and [f.face for f in result.faces] == [kept]
    assert win.canvas.face_at(win.canvas.image_to_widget(QPointF(*gone.center))) is None

    win.commands.undo.trigger()
    qtbot.waitUntil(lambda: len(win.faces) == 2)
    assert win.faces == (gone, kept)


def test_a_face_boxs_menu_removes_it(qtbot, loaded: MainWindow) -> None:
    win = loaded
    menu = win.face_edits.face_menu(1)
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == ["Exclude Face 2", "Reference Photo for Face 2…", "Remove Face 2 (Not a Face)"]
    at = win.canvas.image_to_widget(QPointF(*win.faces[1].center)).toPoint()
    with qtbot.waitSignal(win.canvas.face_menu_requested) as asked:
        click = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, at, win.canvas.mapToGlobal(at))
        QApplication.sendEvent(win.canvas, click)
    assert asked.args[0] == 1
    menu.actions()[-1].trigger()
    qtbot.waitUntil(lambda: len(win.faces) == 1)
    assert win.settings.detection.removed and win.history.undo_text == "Remove face 2"
