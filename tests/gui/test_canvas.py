"""The canvas on its own: zoom about a point, both halves aligned, divider drag, face clicks."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.canvas import ImageCanvas
from app.canvas.painters import CURRENT, DROP_TARGET, EXCLUDED, SELECTED
from app.components import RenderView
from app.components.viewport import SIDE_GAP, VIEW_GRID, FaceBox, ViewMode
from app.qimage import qimage_to_rgb8, rgb8_to_qimage


@pytest.fixture()
def canvas(qtbot) -> ImageCanvas:
    widget = ImageCanvas()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    before = np.zeros((300, 400, 3), np.uint8)
    before[..., 0] = 200
    after = np.zeros((300, 400, 3), np.uint8)
    after[..., 2] = 200
    widget.set_images(rgb8_to_qimage(before))
    widget.set_after(rgb8_to_qimage(after))
    widget.set_faces((FaceBox(0, (50, 50, 150, 150), 0.98, True), FaceBox(1, (250, 60, 330, 140), 0.9, False)))
    return widget


def test_fit_then_zoom_keeps_the_point_under_the_cursor(canvas: ImageCanvas) -> None:
    assert canvas.zoom == pytest.approx(min((640 - 24) / 400, (480 - 24) / 300), rel=1e-3)
    anchor = QPointF(200, 150)
    under = canvas.widget_to_image(anchor)
    canvas.set_zoom(3.0, anchor)
    after = canvas.widget_to_image(anchor)
    assert after.x() == pytest.approx(under.x(), abs=1 / 3) and after.y() == pytest.approx(under.y(), abs=1 / 3)
    canvas.zoom_actual()
    assert canvas.zoom == 1.0
    origin = canvas.image_to_widget(QPointF(0, 0))
    assert origin.x() == round(origin.x()) and origin.y() == round(origin.y())  # whole pixels at 100 %


def test_split_shows_before_left_after_right(canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.SPLIT)
    canvas.zoom_actual()
    canvas.set_split(0.25)
    shot = qimage_to_rgb8(canvas.grab().toImage())
    o = canvas.image_to_widget(QPointF(0, 0)).toPoint()
    y = o.y() + 280  # below the face boxes
    assert tuple(shot[y, o.x() + 50]) == (200, 0, 0)
    assert tuple(shot[y, o.x() + 300]) == (0, 0, 200)


def test_side_by_side_halves_share_one_transform(canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.SIDE_BY_SIDE)
    for zoom in (0.5, 1.0, 2.0):
        canvas.set_zoom(zoom, QPointF(10, 10))
        left = canvas.image_to_widget(QPointF(100, 100))
        right = canvas.image_to_widget(QPointF(100 + 400 + SIDE_GAP, 100))
        assert right.y() == left.y()
        assert right.x() - left.x() == pytest.approx((400 + SIDE_GAP) * zoom)
        # a face box is hit in either half
        assert canvas.face_at(canvas.image_to_widget(QPointF(100, 100))) == 0
        assert canvas.face_at(canvas.image_to_widget(QPointF(100 + 400 + SIDE_GAP, 100))) == 0


def test_dragging_the_divider_moves_it_and_clicks_toggle_faces(qtbot, canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.SPLIT)
    canvas.zoom_to_fit()
    start = QPoint(round(canvas.divider_x()), canvas.height() // 2)
    target = canvas.image_to_widget(QPointF(300, 150)).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, QPoint(target.x(), start.y()))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=QPoint(target.x(), start.y()))
    assert canvas.split == pytest.approx(0.75, abs=0.01)
    with qtbot.waitSignal(canvas.face_clicked) as clicked:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=canvas.image_to_widget(QPointF(290, 100)).toPoint())
    assert clicked.args == [1]


def test_holding_the_original_shows_it(qtbot, canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.AFTER)
    canvas.zoom_actual()
    o = canvas.image_to_widget(QPointF(0, 0)).toPoint()
    pixel = lambda: tuple(qimage_to_rgb8(canvas.grab().toImage())[o.y() + 280, o.x() + 200])  # noqa: E731
    assert pixel() == (0, 0, 200)
    canvas.set_holding_original(True)  # Space held, anywhere in the window (tests/gui/test_layout.py)
    assert pixel() == (200, 0, 0)
    canvas.set_holding_original(False)
    assert pixel() == (0, 0, 200)


def test_a_photo_dragged_over_a_face_box_marks_it_as_the_reference_target(qtbot, canvas: ImageCanvas, tmp_path) -> None:
    photo = tmp_path / "reference.jpg"
    photo.write_bytes(b"")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    over = canvas.image_to_widget(QPointF(100, 100))
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, QDragEnterEvent(over.toPoint(), *args))
    QApplication.sendEvent(canvas, QDragMoveEvent(over.toPoint(), *args))
    shot = qimage_to_rgb8(canvas.grab().toImage())
    edge = canvas.image_to_widget(QPointF(50, 100)).toPoint()  # the box's left edge
    assert tuple(shot[edge.y(), edge.x()]) == (DROP_TARGET.red(), DROP_TARGET.green(), DROP_TARGET.blue())
    with qtbot.waitSignal(canvas.reference_dropped) as dropped:
        QApplication.sendEvent(canvas, QDropEvent(over, *args))
    assert dropped.args == [0, photo]
    shot = qimage_to_rgb8(canvas.grab().toImage())
    assert tuple(shot[edge.y(), edge.x()]) != (DROP_TARGET.red(), DROP_TARGET.green(), DROP_TARGET.blue())


def test_render_view_follows_zoom_and_pan_on_a_large_photo(qtbot) -> None:
    canvas = ImageCanvas()
    qtbot.addWidget(canvas)
    canvas.resize(640, 480)
    canvas.show()
    canvas.set_images(rgb8_to_qimage(np.zeros((3000, 4000, 3), np.uint8)))
    fit = canvas.render_view()
    assert fit == RenderView((0, 0, 4000, 3000), canvas.zoom) and fit.scale < 0.2  # all of it, small

    with qtbot.waitSignal(canvas.view_changed):
        canvas.set_zoom(1.0, QPointF(320, 240))  # the centre at 100 %
    view = canvas.render_view()
    x0, y0, x1, y1 = view.region
    assert view.scale == 1.0
    assert all(v % VIEW_GRID == 0 for v in view.region)
    assert x0 <= 2000 - 320 and x1 >= 2000 + 320 and y0 <= 1500 - 240 and y1 >= 1500 + 240  # covers the screen
    assert (x1 - x0) * (y1 - y0) < 4000 * 3000 / 8  # but far from all of the photo

    canvas.set_zoom(3.0, QPointF(320, 240))  # beyond 100 %: rendered at 100 % and magnified
    assert canvas.render_view().scale == 1.0
    canvas.set_zoom(1.0, QPointF(320, 240))
    qtbot.mousePress(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(320, 240))
    qtbot.mouseMove(canvas, QPoint(330, 240))  # a small pan stays inside the padded region
    assert canvas.render_view() == view
    qtbot.mouseMove(canvas, QPoint(320 + 600, 240))
    qtbot.mouseRelease(canvas, Qt.MouseButton.MiddleButton, pos=QPoint(320 + 600, 240))
    assert canvas.render_view().region[0] < x0  # the photo moved right: pixels further left are needed


def test_a_partial_restored_view_is_drawn_over_the_original(canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.AFTER)
    canvas.zoom_actual()
    blue_half_size = np.zeros((50, 100, 3), np.uint8)
    blue_half_size[..., 2] = 200
    canvas.set_after(rgb8_to_qimage(blue_half_size), (100, 100, 300, 200))  # 200 x 100 px at scale 0.5
    shot = qimage_to_rgb8(canvas.grab().toImage())
    o = canvas.image_to_widget(QPointF(0, 0)).toPoint()
    assert tuple(shot[o.y() + 150, o.x() + 200]) == (0, 0, 200)  # inside the view: restored
    assert tuple(shot[o.y() + 150, o.x() + 298]) == (0, 0, 200)
    assert tuple(shot[o.y() + 150, o.x() + 302]) == (200, 0, 0)  # outside: the original
    assert tuple(shot[o.y() + 250, o.x() + 200]) == (200, 0, 0)


def test_the_before_side_shows_the_original_resampled_as_the_after_side(canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.SPLIT)
    canvas.set_split(0.5)
    canvas.zoom_actual()
    green = np.zeros((150, 200, 3), np.uint8)
    green[..., 1] = 200  # stands for the engine's resampled original: distinct from the full one
    blue = np.zeros((150, 200, 3), np.uint8)
    blue[..., 2] = 200
    canvas.set_after(rgb8_to_qimage(blue), (0, 0, 400, 300), rgb8_to_qimage(green))  # both at scale 0.5
    shot = qimage_to_rgb8(canvas.grab().toImage())
    o = canvas.image_to_widget(QPointF(0, 0)).toPoint()
    assert tuple(shot[o.y() + 280, o.x() + 100]) == (0, 200, 0)  # before: the view of the original
    assert tuple(shot[o.y() + 280, o.x() + 300]) == (0, 0, 200)  # after: the rendered view
    canvas.set_holding_original(True)
    held = qimage_to_rgb8(canvas.grab().toImage())
    assert tuple(held[o.y() + 280, o.x() + 300]) == (0, 200, 0)


def test_faces_finished_in_a_render_under_way_fill_in_the_restored_side(canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.SPLIT)
    canvas.zoom_actual()
    canvas.set_split(0.25)
    green = np.zeros((40, 40, 3), np.uint8)
    green[..., 1] = 200
    for x in (10, 300):  # one patch left of the divider, one right of it
        canvas.add_patch(rgb8_to_qimage(green), QRectF(x, 200, 40, 40))
    o = canvas.image_to_widget(QPointF(0, 0)).toPoint()
    shot = qimage_to_rgb8(canvas.grab().toImage())
    assert tuple(shot[o.y() + 220, o.x() + 30]) == (200, 0, 0)  # the before side stays the photo
    assert tuple(shot[o.y() + 220, o.x() + 320]) == (0, 200, 0)  # the restored side shows the face
    canvas.set_holding_original(True)
    assert tuple(qimage_to_rgb8(canvas.grab().toImage())[o.y() + 220, o.x() + 320]) == (200, 0, 0)
    canvas.set_holding_original(False)
    canvas.set_after(rgb8_to_qimage(np.zeros((300, 400, 3), np.uint8)))  # the render's result
    assert canvas.patch_count == 0
    assert tuple(qimage_to_rgb8(canvas.grab().toImage())[o.y() + 220, o.x() + 320]) == (0, 0, 0)


def test_before_the_first_result_finished_faces_fill_in_the_photo(qtbot) -> None:
    widget = ImageCanvas()
    qtbot.addWidget(widget)
    widget.resize(640, 480)
    widget.show()
    widget.set_images(rgb8_to_qimage(np.full((300, 400, 3), 90, np.uint8)))
    widget.zoom_actual()
    widget.add_patch(rgb8_to_qimage(np.full((40, 40, 3), 250, np.uint8)), QRectF(10, 10, 40, 40))
    o = widget.image_to_widget(QPointF(0, 0)).toPoint()
    shot = qimage_to_rgb8(widget.grab().toImage())
    assert tuple(shot[o.y() + 30, o.x() + 30]) == (250, 250, 250)
    assert tuple(shot[o.y() + 100, o.x() + 100]) == (90, 90, 90)


@pytest.mark.parametrize("zoom", [0.3, 2.0, 6.0])
@pytest.mark.parametrize("anchor", [(5.0, 5.0), (320.0, 240.0), (630.0, 470.0)])
def test_the_divider_stays_on_screen_where_it_was_while_zooming(
    canvas: ImageCanvas, zoom: float, anchor: tuple[float, float]
) -> None:
    canvas.set_mode(ViewMode.SPLIT)
    canvas.zoom_to_fit()
    canvas.set_split(0.5)
    x = canvas.divider_x()
    canvas.set_zoom(zoom, QPointF(*anchor))
    o, end = canvas.image_to_widget(QPointF(0, 0)), canvas.image_to_widget(QPointF(400, 300))
    shown = (max(o.x(), 0), min(end.x(), canvas.width()))
    assert shown[0] <= canvas.divider_x() <= shown[1]  # on screen, on the photo
    if shown[0] <= x <= shown[1]:
        assert canvas.divider_x() == pytest.approx(x)  # where the user left it
    shot = qimage_to_rgb8(canvas.grab().toImage())
    y = min(max(round(canvas.image_to_widget(QPointF(0, 290)).y()), 0), canvas.height() - 1)
    d = round(canvas.divider_x())
    if d - 4 > shown[0]:
        assert tuple(shot[y, d - 4]) == (200, 0, 0)  # before, left of it
    if d + 4 < shown[1]:
        assert tuple(shot[y, d + 4]) == (0, 0, 200)  # after, right of it
    assert 0 <= canvas.split <= 1


def test_a_side_panned_off_screen_loses_its_label(canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.SPLIT)
    canvas.zoom_to_fit()
    canvas.set_split(0.5)
    assert canvas._view.sides_shown() == (True, True)
    canvas.set_zoom(4.0, QPointF(600, 240))  # the photo's right end fills the screen
    canvas._view.pan(-canvas.width(), 0)  # further: its right edge is left of the divider's place
    assert canvas._view.sides_shown() == (True, False)
    canvas._view.pan(canvas.width() / 2, 0)  # back: the after side shows again
    assert canvas._view.sides_shown() == (True, True)


def test_a_face_box_says_its_score_on_hover_not_on_the_photo(canvas: ImageCanvas) -> None:
    inside = canvas.image_to_widget(QPointF(100, 100))
    assert (
        canvas.face_tooltip(inside)
        == "Face 1: detection score 0.98, 100 px. Click to exclude it, right-click for more."
    )
    excluded = canvas.image_to_widget(QPointF(290, 100))
    assert canvas.face_tooltip(excluded).endswith("Click to restore it, right-click for more.")
    assert canvas.face_tooltip(canvas.image_to_widget(QPointF(200, 250))) == ""


def test_the_edited_face_stands_out_and_boxes_fade_over_the_restored_side(canvas: ImageCanvas) -> None:
    canvas.set_mode(ViewMode.SPLIT)
    canvas.zoom_actual()
    canvas.set_split(0.5)  # face 0 (50..150) left of the divider, face 1 (250..330) right of it

    def edge(x: float, y: float) -> tuple[int, ...]:
        at = canvas.image_to_widget(QPointF(x, y)).toPoint()
        return tuple(int(v) for v in qimage_to_rgb8(canvas.grab().toImage())[at.y(), at.x()])

    left_edge = edge(50, 120)  # face 0's left side, over the original
    assert left_edge == (SELECTED.red(), SELECTED.green(), SELECTED.blue())
    canvas.set_current_face(0)
    assert edge(50, 120) == (CURRENT.red(), CURRENT.green(), CURRENT.blue())
    # face 1's (dashed) box lies over the restored side: drawn faint, mixed with the after pixels
    canvas.set_current_face(None)
    excluded = (EXCLUDED.red(), EXCLUDED.green(), EXCLUDED.blue())
    faint = {edge(250, y) for y in range(60, 141, 2)} - {(0, 0, 200)}
    assert faint and excluded not in faint
    canvas.set_split(1.0)  # all of the photo shows the original: the box at full strength
    assert excluded in {edge(250, y) for y in range(60, 141, 2)}
