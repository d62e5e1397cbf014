"""The image canvas: one paintEvent draws the photo, the restored photo and the face boxes.

Everything is drawn in image coordinates through one transform (zoom and pan), so the
before and after images, the divider and the boxes stay aligned at every zoom. ``zoom`` is
image pixels to *device* pixels: at 100 % one image pixel is one screen pixel on high-DPI
screens too. View modes: a split with a draggable divider, side by side, before only,
after only; holding Space shows the original in any mode.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.02, 32.0
SIDE_GAP = 16  # image pixels between the two halves in side-by-side mode
DIVIDER_GRAB = 8  # logical pixels either side of the divider that start a drag
#: The rendered region reaches a quarter of the view past each edge and snaps out to this grid
#: (image pixels), so small pans show restored pixels at once and ask for no new render.
VIEW_PAD = 0.25
VIEW_GRID = 256

BACKGROUND = QColor(38, 38, 40)
SELECTED = QColor(72, 200, 120)
EXCLUDED = QColor(200, 200, 200)
DIVIDER = QColor(255, 255, 255)
DROP_TARGET = QColor(80, 190, 255)
PLACEHOLDER = "Drop a photo here, or press Ctrl+O to open one"


class ViewMode(enum.Enum):
    SPLIT = "split"
    SIDE_BY_SIDE = "side_by_side"
    BEFORE = "before"
    AFTER = "after"


@dataclass(frozen=True)
class FaceBox:
    index: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    score: float
    selected: bool


@dataclass(frozen=True)
class RenderView:
    """What the preview renders: ``region`` (x0, y0, x1, y1 in image pixels) at ``scale``
    (rendered pixels per image pixel: the zoom, at most 1)."""

    region: tuple[int, int, int, int]
    scale: float


def local_files(urls: list) -> list[Path]:
    return [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]


class ImageCanvas(QWidget):
    face_clicked = Signal(int)
    files_dropped = Signal(list)  # list[Path]
    reference_dropped = Signal(int, Path)  # face index, photo
    zoom_changed = Signal(float)
    view_changed = Signal()  # zoom, pan, size or view mode: ``render_view`` may differ

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)
        self._before: QImage | None = None
        self._after: QImage | None = None
        #: the original resampled exactly as ``_after`` (same region and scale), so the two
        #: sides of the divider differ by the restoration only, never by the resampling
        self._before_view: QImage | None = None
        self._after_region = QRectF()  # image pixels the two views cover
        self._faces: tuple[FaceBox, ...] = ()
        self._mode = ViewMode.SPLIT
        self._split = 0.5  # divider position as a fraction of the image width
        self._holding_original = False
        self._zoom = 1.0
        self._fit = True  # refit on resize until the user zooms or pans
        self._offset = QPointF(0, 0)  # widget position of the image origin (logical pixels)
        self._drag: str | None = None  # "divider" or "pan"
        self._drag_last = QPointF()
        self._show_boxes = True
        self._drop_face: int | None = None  # face under a photo being dragged in

    # ---------------------------------------------------------------- content
    def set_images(self, before: QImage | None) -> None:
        """A new photo: resets the view to fit; no restored view until ``set_after``."""
        self._before = before
        self._after = None
        self._before_view = None
        self._faces = ()
        self._fit = True
        self._refit()
        self._view_moved()

    def set_after(
        self,
        after: QImage | None,
        region: tuple[int, int, int, int] | None = None,
        before_view: QImage | None = None,
    ) -> None:
        """The restored view: ``after`` covers ``region`` of the photo (default all of it) at
        any scale, ``before_view`` (optional) the original there at the same scale; outside
        the region the original shows until the next render arrives."""
        self._after = after
        self._before_view = before_view if after is not None else None
        if after is not None:
            if region is None:
                assert self._before is not None
                region = (0, 0, self._before.width(), self._before.height())
            x0, y0, x1, y1 = region
            self._after_region = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.update()

    def set_faces(self, faces: tuple[FaceBox, ...]) -> None:
        self._faces = faces
        self.update()

    def set_show_boxes(self, show: bool) -> None:
        self._show_boxes = show
        self.update()

    # ---------------------------------------------------------------- view state
    @property
    def mode(self) -> ViewMode:
        return self._mode

    def set_mode(self, mode: ViewMode) -> None:
        self._mode = mode
        if self._fit:
            self._refit()
        self._view_moved()

    @property
    def split(self) -> float:
        return self._split

    def set_split(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, fraction))
        self.update()

    def set_holding_original(self, holding: bool) -> None:
        if holding != self._holding_original:
            self._holding_original = holding
            self.update()

    @property
    def zoom(self) -> float:
        return self._zoom

    def zoom_to_fit(self) -> None:
        self._fit = True
        self._refit()
        self._view_moved()

    def zoom_actual(self) -> None:
        self.set_zoom(1.0)

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (default: the centre) in place."""
        if self._before is None:
            return
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        image_point = self.widget_to_image(anchor)
        self._zoom = zoom
        self._fit = False
        self._offset = self._snap(anchor - image_point * self._scale)
        self.zoom_changed.emit(self._zoom)
        self._view_moved()

    def _snap(self, point: QPointF) -> QPointF:
        """The image origin on a whole device pixel: at 100 % every image pixel is one screen pixel."""
        dpr = self.devicePixelRatioF()
        return QPointF(round(point.x() * dpr) / dpr, round(point.y() * dpr) / dpr)

    @property
    def _scale(self) -> float:
        """Logical widget pixels per image pixel."""
        return self._zoom / self.devicePixelRatioF()

    def _content_size(self) -> tuple[float, float]:
        assert self._before is not None
        w, h = self._before.width(), self._before.height()
        if self._mode is ViewMode.SIDE_BY_SIDE:
            return 2 * w + SIDE_GAP, h
        return w, h

    def _refit(self) -> None:
        if self._before is None or self.width() <= 0 or self.height() <= 0:
            return
        cw, ch = self._content_size()
        margin = 12
        scale = min((self.width() - 2 * margin) / cw, (self.height() - 2 * margin) / ch)
        scale = max(scale, 1e-3)
        self._zoom = min(MAX_ZOOM, max(MIN_ZOOM, scale * self.devicePixelRatioF()))
        s = self._scale
        self._offset = self._snap(QPointF((self.width() - cw * s) / 2, (self.height() - ch * s) / 2))
        self.zoom_changed.emit(self._zoom)

    def _view_moved(self) -> None:
        self.view_changed.emit()
        self.update()

    def render_view(self) -> RenderView | None:
        """The part of the photo the restored view needs now, at screen resolution."""
        if self._before is None:
            return None
        w, h = self._before.width(), self._before.height()
        origin = self._after_origin()
        top_left = self.widget_to_image(QPointF(0, 0)) - origin
        bottom_right = self.widget_to_image(QPointF(self.width(), self.height())) - origin
        pad_x = VIEW_PAD * (bottom_right.x() - top_left.x())
        pad_y = VIEW_PAD * (bottom_right.y() - top_left.y())
        x0 = max(0, math.floor((top_left.x() - pad_x) / VIEW_GRID) * VIEW_GRID)
        y0 = max(0, math.floor((top_left.y() - pad_y) / VIEW_GRID) * VIEW_GRID)
        x1 = min(w, math.ceil((bottom_right.x() + pad_x) / VIEW_GRID) * VIEW_GRID)
        y1 = min(h, math.ceil((bottom_right.y() + pad_y) / VIEW_GRID) * VIEW_GRID)
        if x1 <= x0 or y1 <= y0:  # panned off the photo: keep the faces' thumbnails current
            x0, y0, x1, y1 = 0, 0, w, h
        return RenderView((x0, y0, x1, y1), min(1.0, self._zoom))

    # ---------------------------------------------------------------- coordinates
    def widget_to_image(self, point: QPointF) -> QPointF:
        return (point - self._offset) / self._scale

    def image_to_widget(self, point: QPointF) -> QPointF:
        return self._offset + point * self._scale

    def divider_x(self) -> float:
        """The divider's x in widget coordinates (split mode)."""
        assert self._before is not None
        return self.image_to_widget(QPointF(self._split * self._before.width(), 0)).x()

    def _after_origin(self) -> QPointF:
        """Where the after image starts, in image coordinates (right half in side-by-side)."""
        assert self._before is not None
        if self._mode is ViewMode.SIDE_BY_SIDE:
            return QPointF(self._before.width() + SIDE_GAP, 0)
        return QPointF(0, 0)

    def face_at(self, widget_point: QPointF) -> int | None:
        """Index of the smallest face box under the point (either half in side-by-side)."""
        if self._before is None:
            return None
        p = self.widget_to_image(widget_point)
        if self._mode is ViewMode.SIDE_BY_SIDE and p.x() > self._before.width():
            p -= self._after_origin()
        hits = [f for f in self._faces if f.box[0] <= p.x() <= f.box[2] and f.box[1] <= p.y() <= f.box[3]]
        if not hits:
            return None
        return min(hits, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1])).index

    def _near_divider(self, widget_point: QPointF) -> bool:
        return (
            self._before is not None
            and self._mode is ViewMode.SPLIT
            and self._after is not None
            and abs(widget_point.x() - self.divider_x()) <= DIVIDER_GRAB
        )

    # ---------------------------------------------------------------- painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._before is None:
            self._paint_placeholder(painter)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._zoom < 1.0)
        painter.save()
        painter.translate(self._offset)
        painter.scale(self._scale, self._scale)
        self._paint_images(painter)
        painter.restore()
        if self._show_boxes:
            self._paint_faces(painter)
        if self._drop_face is not None:
            self._paint_drop_target(painter, self._drop_face)
        self._paint_labels(painter)
        if self._mode is ViewMode.SPLIT and self._after is not None and not self._holding_original:
            self._paint_divider(painter)

    def _paint_images(self, painter: QPainter) -> None:
        """Draws in image coordinates (the painter already carries the view transform)."""
        assert self._before is not None
        w, h = self._before.width(), self._before.height()
        whole, mode = QRectF(0, 0, w, h), self._mode
        before, after = self._before_view, self._after
        if self._holding_original or after is None or mode is ViewMode.BEFORE:
            self._paint_view(painter, before, QPointF(0, 0), whole)
            if mode is ViewMode.SIDE_BY_SIDE:
                self._paint_view(painter, before, self._after_origin(), whole)
            return
        if mode is ViewMode.AFTER:
            self._paint_view(painter, after, QPointF(0, 0), whole)
        elif mode is ViewMode.SIDE_BY_SIDE:
            self._paint_view(painter, before, QPointF(0, 0), whole)
            self._paint_view(painter, after, self._after_origin(), whole)
        else:  # split: before left of the divider, after right of it, on the same pixel grid
            cut = round(self._split * w)
            self._paint_view(painter, before, QPointF(0, 0), QRectF(0, 0, cut, h))
            self._paint_view(painter, after, QPointF(0, 0), QRectF(cut, 0, w - cut, h))

    def _paint_view(self, painter: QPainter, view: QImage | None, origin: QPointF, part: QRectF) -> None:
        """``part`` of the photo (image pixels) from a rendered ``view``, placed at ``origin``;
        where the view does not reach (none yet, just panned or zoomed out), the original."""
        assert self._before is not None
        visible = QRectF(
            self.widget_to_image(QPointF(0, 0)), self.widget_to_image(QPointF(self.width(), self.height()))
        )
        needed = part.intersected(visible.translated(-origin))
        painter.save()
        painter.setClipRect(part.translated(origin))
        if view is None or not self._after_region.contains(needed):
            painter.drawImage(origin, self._before)
        if view is not None:
            painter.drawImage(self._after_region.translated(origin), view, QRectF(view.rect()))
        painter.restore()

    def _paint_faces(self, painter: QPainter) -> None:
        origins = [QPointF(0, 0)]
        if self._mode is ViewMode.SIDE_BY_SIDE:
            origins.append(self._after_origin())
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        for origin in origins:
            for face in self._faces:
                color = SELECTED if face.selected else EXCLUDED
                top_left = self.image_to_widget(origin + QPointF(face.box[0], face.box[1]))
                bottom_right = self.image_to_widget(origin + QPointF(face.box[2], face.box[3]))
                rect = QRectF(top_left, bottom_right)
                pen = QPen(color, 2 if face.selected else 1.5)
                pen.setStyle(Qt.PenStyle.SolidLine if face.selected else Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect)
                # index and score when the box is wide enough on screen, the index alone when it
                # is small, nothing on tiny boxes (a crowd would be buried under labels)
                label = f"{face.index + 1}  {face.score:.2f}"
                if metrics.horizontalAdvance(label) + 8 > rect.width() * 1.5:
                    label = f"{face.index + 1}"
                    if metrics.horizontalAdvance(label) + 8 > rect.width() * 1.5:
                        continue
                text_w = metrics.horizontalAdvance(label) + 8
                text_h = metrics.height() + 2
                tag = QRectF(rect.left() - 1, rect.top() - text_h, text_w, text_h)
                if tag.top() < 0:
                    tag.moveTop(rect.top())
                painter.fillRect(tag, color)
                painter.setPen(QColor(20, 20, 20))
                painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_drop_target(self, painter: QPainter, index: int) -> None:
        face = next((f for f in self._faces if f.index == index), None)
        if face is None:
            return
        rect = QRectF(
            self.image_to_widget(QPointF(face.box[0], face.box[1])),
            self.image_to_widget(QPointF(face.box[2], face.box[3])),
        )
        painter.setPen(QPen(DROP_TARGET, 4))
        painter.setBrush(QColor(DROP_TARGET.red(), DROP_TARGET.green(), DROP_TARGET.blue(), 50))
        painter.drawRect(rect)
        text = f"Reference photo for face {index + 1}"
        metrics = painter.fontMetrics()
        tag = QRectF(rect.left(), rect.bottom() + 2, metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
        painter.fillRect(tag, DROP_TARGET)
        painter.setPen(QColor(10, 10, 10))
        painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_labels(self, painter: QPainter) -> None:
        """ "Before" / "After" tags: in the top corners (split), over each half (side by side)."""
        if self._after is None or self._before is None:
            return
        if self._holding_original:
            tags = [("Original (Space)", QPointF(8, 8), False)]
        elif self._mode is ViewMode.SPLIT:
            tags = [("Before", QPointF(8, 8), False), ("After", QPointF(self.width() - 8, 8), True)]
        elif self._mode is ViewMode.SIDE_BY_SIDE:

            def corner(image_x: float) -> QPointF:
                p = self.image_to_widget(QPointF(image_x, 0))
                return QPointF(max(8.0, p.x() + 8), max(8.0, p.y() + 8))

            tags = [("Before", corner(0), False), ("After", corner(self._after_origin().x()), False)]
        else:
            tags = [(self._mode.value.capitalize(), QPointF(8, 8), False)]
        painter.setFont(self.font())
        metrics = painter.fontMetrics()
        for text, at, right_aligned in tags:
            w, h = metrics.horizontalAdvance(text) + 12, metrics.height() + 6
            box = QRectF(at.x() - w if right_aligned else at.x(), at.y(), w, h)
            painter.fillRect(box, QColor(0, 0, 0, 150))
            painter.setPen(QColor(240, 240, 240))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_divider(self, painter: QPainter) -> None:
        x = self.divider_x()
        painter.setPen(QPen(DIVIDER, 2))
        painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        handle = QRectF(x - 9, self.height() / 2 - 18, 18, 36)
        painter.setBrush(DIVIDER)
        painter.setPen(QPen(QColor(60, 60, 60), 1))
        painter.drawRoundedRect(handle, 5, 5)
        painter.drawLine(QPointF(x - 3, handle.top() + 10), QPointF(x - 3, handle.bottom() - 10))
        painter.drawLine(QPointF(x + 3, handle.top() + 10), QPointF(x + 3, handle.bottom() - 10))

    def _paint_placeholder(self, painter: QPainter) -> None:
        painter.setPen(QPen(QColor(110, 110, 115), 2, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(24, 24, -24, -24), 12, 12)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        painter.setFont(font)
        painter.setPen(QColor(200, 200, 205))
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, PLACEHOLDER)

    # ---------------------------------------------------------------- mouse and keys
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        if self._fit:
            self._refit()
        super().resizeEvent(event)
        self.view_changed.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps and self._before is not None:
            self.set_zoom(self._zoom * ZOOM_STEP**steps, anchor=event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self._near_divider(pos):
            self._drag = "divider"
        elif event.button() == Qt.MouseButton.LeftButton and (index := self.face_at(pos)) is not None:
            self.face_clicked.emit(index)
            return
        elif event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton) and self._before is not None:
            self._drag = "pan"
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        self._drag_last = pos

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drag == "divider" and self._before is not None:
            self.set_split(self.widget_to_image(pos).x() / self._before.width())
        elif self._drag == "pan":
            self._offset = self._snap(self._offset + pos - self._drag_last)
            self._fit = False
            self._view_moved()
        else:
            self._update_cursor(pos)
        self._drag_last = pos

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._drag = None
        self._update_cursor(event.position())

    def _update_cursor(self, pos: QPointF) -> None:
        if self._near_divider(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif self.face_at(pos) is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._before is not None else Qt.CursorShape.ArrowCursor)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.set_holding_original(True)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self.set_holding_original(False)
            event.accept()
            return
        super().keyReleaseEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self.set_holding_original(False)  # the release would go elsewhere
        super().focusOutEvent(event)

    # ---------------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if local_files(event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        files = local_files(event.mimeData().urls())
        if files:
            event.acceptProposedAction()
            # one photo over a face box becomes that face's reference: show which face
            target = self.face_at(event.position()) if len(files) == 1 else None
            if target != self._drop_face:
                self._drop_face = target
                self.update()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802
        self._drop_face = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        self._drop_face = None
        self.update()
        files = local_files(event.mimeData().urls())
        if not files:
            return
        event.acceptProposedAction()
        face = self.face_at(event.position())
        if face is not None and len(files) == 1 and files[0].is_file():
            self.reference_dropped.emit(face, files[0])
        else:
            self.files_dropped.emit(files)
