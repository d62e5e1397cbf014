"""What the canvas draws, one painter per layer, in z-order (as labelme's canvas): the photo
views, the face boxes, the reference drop target, the Before/After tags, the divider.

A painter draws one ``Scene``, a snapshot of the canvas at paint time; the view math comes
from its ``Viewport``. Images are drawn in image coordinates (the painter carries the view
transform), everything else in widget coordinates, so boxes and text keep their screen size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

from ..actions import shortcut_text
from ..components.viewport import FaceBox, ViewMode, Viewport

BACKGROUND = QColor(38, 38, 40)
SELECTED = QColor(72, 200, 120)
EXCLUDED = QColor(200, 200, 200)
DIVIDER = QColor(255, 255, 255)
DROP_TARGET = QColor(80, 190, 255)
CURRENT = QColor(255, 200, 40)  # the face being edited in the face panel
RESTORED_BOX_OPACITY = 0.35


@dataclass(frozen=True)
class Scene:
    view: Viewport
    before: QImage  # the original photo
    #: the restored view and the original resampled exactly as it (same region and scale), so
    #: the two sides of the divider differ by the restoration only, never by the resampling
    after: QImage | None
    before_view: QImage | None
    after_region: QRectF  # image pixels the two views cover
    #: faces finished in the render under way: (image rect, pixels) over the restored side
    patches: tuple[tuple[QRectF, QImage], ...]
    #: View > Show Blend Masks: each restored face's paste-back weight over the after view, tinted
    mask: QImage | None
    faces: tuple[FaceBox, ...]
    current_face: int | None  # the face the face panel edits
    show_boxes: bool
    drop_face: int | None  # face under a photo being dragged in
    drawn_box: tuple[float, float, float, float] | None  # the face box being drawn, image pixels
    holding_original: bool
    font: QFont
    size: tuple[float, float]  # the widget's, logical pixels

    @property
    def shows_after(self) -> bool:
        return self.after is not None and not self.holding_original


def _point(p: tuple[float, float]) -> QPointF:
    return QPointF(p[0], p[1])


def _widget_rect(scene: Scene, box: tuple[float, float, float, float], origin: QPointF) -> QRectF:
    top_left = scene.view.image_to_widget((origin.x() + box[0], origin.y() + box[1]))
    bottom_right = scene.view.image_to_widget((origin.x() + box[2], origin.y() + box[3]))
    return QRectF(_point(top_left), _point(bottom_right))


def paint_images(painter: QPainter, scene: Scene) -> None:
    view = scene.view
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, view.zoom < 1.0)
    painter.save()
    painter.translate(_point(view.offset))
    painter.scale(view.scale, view.scale)
    w, h = scene.before.width(), scene.before.height()
    whole, mode, zero, after_origin = QRectF(0, 0, w, h), view.mode, QPointF(0, 0), _point(view.after_origin())
    before, after = scene.before_view, scene.after
    patches = () if scene.holding_original else scene.patches
    if not scene.shows_after or after is None or mode is ViewMode.BEFORE:
        # No restored view yet: the faces finishing in the first render fill in the photo itself.
        live = patches if after is None and mode is not ViewMode.BEFORE else ()
        side_by_side = mode is ViewMode.SIDE_BY_SIDE
        _paint_view(painter, scene, before, zero, whole, () if side_by_side else live)
        if side_by_side:
            _paint_view(painter, scene, before, after_origin, whole, live)
    elif mode is ViewMode.AFTER:
        _paint_view(painter, scene, after, zero, whole, patches, scene.mask)
    elif mode is ViewMode.SIDE_BY_SIDE:
        _paint_view(painter, scene, before, zero, whole)
        _paint_view(painter, scene, after, after_origin, whole, patches, scene.mask)
    else:  # split: before left of the divider, after right of it, on the same pixel grid
        cut = round(view.split * w)
        _paint_view(painter, scene, before, zero, QRectF(0, 0, cut, h))
        _paint_view(painter, scene, after, zero, QRectF(cut, 0, w - cut, h), patches, scene.mask)
    painter.restore()


def _paint_view(
    painter: QPainter,
    scene: Scene,
    view: QImage | None,
    origin: QPointF,
    part: QRectF,
    patches: tuple[tuple[QRectF, QImage], ...] = (),
    mask: QImage | None = None,
) -> None:
    """``part`` of the photo (image pixels) from a rendered ``view``, placed at ``origin``;
    where the view does not reach (none yet, just panned or zoomed out), the original. Then the
    ``patches`` of faces finished since that view was rendered, and the view's blend ``mask``."""
    x0, y0, x1, y1 = scene.view.visible()
    needed = part.intersected(QRectF(QPointF(x0, y0), QPointF(x1, y1)).translated(-origin))
    painter.save()
    painter.setClipRect(part.translated(origin))
    if view is None or not scene.after_region.contains(needed):
        painter.drawImage(origin, scene.before)
    if view is not None:
        painter.drawImage(scene.after_region.translated(origin), view, QRectF(view.rect()))
    for rect, patch in patches:
        painter.drawImage(rect.translated(origin), patch, QRectF(patch.rect()))
    if mask is not None:
        painter.drawImage(scene.after_region.translated(origin), mask, QRectF(mask.rect()))
    painter.restore()


def paint_faces(painter: QPainter, scene: Scene) -> None:
    """The face boxes: the face being edited stands out, boxes over the restored side are
    faint (they would hide what the user is judging), and a score shows on hover, not here."""
    if not scene.show_boxes:
        return
    view, width, height = scene.view, scene.size[0], scene.size[1]
    passes: list[tuple[QPointF, QRectF, float]] = [(QPointF(0, 0), QRectF(0, 0, width, height), 1.0)]
    if view.mode is ViewMode.SIDE_BY_SIDE:
        passes.append((_point(view.after_origin()), QRectF(0, 0, width, height), RESTORED_BOX_OPACITY))
    elif scene.shows_after and view.mode is ViewMode.AFTER:
        passes = [(QPointF(0, 0), QRectF(0, 0, width, height), RESTORED_BOX_OPACITY)]
    elif scene.shows_after and view.mode is ViewMode.SPLIT:
        cut = view.divider_x()
        passes = [
            (QPointF(0, 0), QRectF(0, 0, cut, height), 1.0),
            (QPointF(0, 0), QRectF(cut, 0, width - cut, height), RESTORED_BOX_OPACITY),
        ]
    font = QFont(scene.font)
    font.setBold(True)
    painter.setFont(font)
    for origin, clip, opacity in passes:
        painter.save()
        painter.setClipRect(clip)
        painter.setOpacity(opacity)
        for face in scene.faces:
            _paint_face(painter, scene, face, origin)
        painter.restore()


def _paint_face(painter: QPainter, scene: Scene, face: FaceBox, origin: QPointF) -> None:
    color = SELECTED if face.selected else EXCLUDED
    current = face.index == scene.current_face
    rect = _widget_rect(scene, face.box, origin)
    pen = QPen(CURRENT if current else color, 3.5 if current else 2 if face.selected else 1.5)
    pen.setStyle(Qt.PenStyle.SolidLine if face.selected or current else Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(rect)
    # the face's number when the box is wide enough on screen; nothing on tiny boxes (a crowd
    # would be buried under labels)
    label = f"{face.index + 1}"
    metrics = painter.fontMetrics()
    if metrics.horizontalAdvance(label) + 8 > rect.width() * 1.5:
        return
    text_w = metrics.horizontalAdvance(label) + 8
    text_h = metrics.height() + 2
    tag = QRectF(rect.left() - 1, rect.top() - text_h, text_w, text_h)
    if tag.top() < 0:
        tag.moveTop(rect.top())
    painter.fillRect(tag, CURRENT if current else color)
    painter.setPen(QColor(20, 20, 20))
    painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)


def paint_drop_target(painter: QPainter, scene: Scene) -> None:
    face = next((f for f in scene.faces if f.index == scene.drop_face), None)
    if face is None:
        return
    rect = _widget_rect(scene, face.box, QPointF(0, 0))
    painter.setPen(QPen(DROP_TARGET, 4))
    painter.setBrush(QColor(DROP_TARGET.red(), DROP_TARGET.green(), DROP_TARGET.blue(), 50))
    painter.drawRect(rect)
    text = f"Reference photo for face {face.index + 1}"
    metrics = painter.fontMetrics()
    tag = QRectF(rect.left(), rect.bottom() + 2, metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
    painter.fillRect(tag, DROP_TARGET)
    painter.setPen(QColor(10, 10, 10))
    painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)


def paint_drawn_box(painter: QPainter, scene: Scene) -> None:
    """The box of a face being drawn by hand (on the original's side)."""
    if scene.drawn_box is None:
        return
    rect = _widget_rect(scene, scene.drawn_box, QPointF(0, 0))
    painter.setPen(QPen(DROP_TARGET, 2, Qt.PenStyle.DashLine))
    painter.setBrush(QColor(DROP_TARGET.red(), DROP_TARGET.green(), DROP_TARGET.blue(), 40))
    painter.drawRect(rect)


def paint_labels(painter: QPainter, scene: Scene) -> None:
    """ "Before" / "After" tags: in the top corners (split), over each half (side by side)."""
    if scene.after is None:
        return
    mode, width = scene.view.mode, scene.size[0]
    if scene.holding_original:
        tags = [("Original (Space)", QPointF(8, 8), False)]
    elif mode is ViewMode.SPLIT:  # a side panned or dragged off screen loses its tag
        before_shown, after_shown = scene.view.sides_shown()
        tags = [("Before", QPointF(8, 8), False)] if before_shown else []
        tags += [("After", QPointF(width - 8, 8), True)] if after_shown else []
    elif mode is ViewMode.SIDE_BY_SIDE:

        def corner(image_x: float, image_y: float) -> QPointF:
            x, y = scene.view.image_to_widget((image_x, image_y))
            return QPointF(max(8.0, x + 8), max(8.0, y + 8))

        tags = [("Before", corner(0.0, 0.0), False), ("After", corner(*scene.view.after_origin()), False)]
    else:
        tags = [(mode.value.capitalize(), QPointF(8, 8), False)]
    painter.setFont(scene.font)
    metrics = painter.fontMetrics()
    for text, at, right_aligned in tags:
        w, h = metrics.horizontalAdvance(text) + 12, metrics.height() + 6
        box = QRectF(at.x() - w if right_aligned else at.x(), at.y(), w, h)
        painter.fillRect(box, QColor(0, 0, 0, 150))
        painter.setPen(QColor(240, 240, 240))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def paint_divider(painter: QPainter, scene: Scene) -> None:
    if scene.view.mode is not ViewMode.SPLIT or not scene.shows_after:
        return
    x, height = scene.view.divider_x(), scene.size[1]
    painter.setPen(QPen(DIVIDER, 2))
    painter.drawLine(QPointF(x, 0), QPointF(x, height))
    handle = QRectF(x - 9, height / 2 - 18, 18, 36)
    painter.setBrush(DIVIDER)
    painter.setPen(QPen(QColor(60, 60, 60), 1))
    painter.drawRoundedRect(handle, 5, 5)
    painter.drawLine(QPointF(x - 3, handle.top() + 10), QPointF(x - 3, handle.bottom() - 10))
    painter.drawLine(QPointF(x + 3, handle.top() + 10), QPointF(x + 3, handle.bottom() - 10))


#: bottom to top
PAINTERS: tuple[Callable[[QPainter, Scene], None], ...] = (
    paint_images,
    paint_faces,
    paint_drop_target,
    paint_drawn_box,
    paint_labels,
    paint_divider,
)


def paint_placeholder(painter: QPainter, rect: QRectF, font: QFont) -> None:
    """No photo yet: a drop zone saying what to do."""
    painter.setPen(QPen(QColor(110, 110, 115), 2, Qt.PenStyle.DashLine))
    painter.drawRoundedRect(rect.adjusted(24, 24, -24, -24), 12, 12)
    big = QFont(font)
    big.setPointSizeF(big.pointSizeF() * 1.3)
    painter.setFont(big)
    painter.setPen(QColor(200, 200, 205))
    text = f"Drop a photo here, or press {shortcut_text('open')} to open one"
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
