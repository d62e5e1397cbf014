"""View > Show Blend Masks: where each restored face is pasted, tinted over the restored view."""

from __future__ import annotations

from pathlib import Path

from gui_helpers import WAIT_MS, drop_files, wait_for_render
from PySide6.QtCore import QPointF

from app.components.viewport import ViewMode
from app.face_panel import MASK_NAMES
from app.main_window import MainWindow
from app.qimage import qimage_to_rgb8
from restore_core.params import MASKS


def test_the_mask_overlay_tints_the_faces_and_nothing_else(qtbot, window: MainWindow, photos_dir: Path) -> None:
    win = window
    assert drop_files(win.canvas, [photos_dir / "family_three_print.png"])
    wait_for_render(qtbot, win)
    win.set_view_mode(ViewMode.AFTER)
    win.canvas.zoom_to_fit()
    wait_for_render(qtbot, win)

    def pixel(x: float, y: float) -> tuple[int, ...]:
        at = win.canvas.image_to_widget(QPointF(x, y)).toPoint()
        return tuple(int(v) for v in qimage_to_rgb8(win.canvas.grab().toImage())[at.y(), at.x()])

    face = win.faces[0]
    centre = ((face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2)
    corner = (3.0, 3.0)
    plain = pixel(*centre), pixel(*corner)
    with qtbot.waitSignal(win.service.signals.masks, timeout=WAIT_MS):
        win.commands.masks.setChecked(True)
    qtbot.waitUntil(lambda: win.canvas.shows_mask_overlay, timeout=WAIT_MS)
    tinted = pixel(*centre)
    assert tinted != plain[0] and tinted[0] > tinted[1] and tinted[2] > tinted[1]  # magenta over the face
    assert pixel(*corner) == plain[1]  # the photo's own pixels stay as they are
    win.commands.masks.setChecked(False)
    assert not win.canvas.shows_mask_overlay and pixel(*centre) == plain[0]
    assert "box blend" in win.face_panel.list.item(0).text()  # no ParseNet here: the box


def test_every_mask_has_its_words_in_the_face_list() -> None:
    assert set(MASK_NAMES) == set(MASKS)
