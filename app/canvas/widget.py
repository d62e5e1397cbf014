"""The image canvas widget: it holds the photo, the restored view and the face boxes, keeps the
``Viewport`` (view math and hit testing, no Qt) in step with its size, turns mouse, wheel, key
and drop events into view changes and signals, and paints a ``Scene`` with the painters.

View modes: a split with a draggable divider, side by side, before only, after only; holding
Space shows the original in any mode. While drawing (``set_drawing``), a drag draws the box of a
face the detector missed, and Esc stops.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QHelpEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ..components import RenderView
from ..components.viewport import MIN_DRAWN_SIDE, ZOOM_STEP, FaceBox, ViewMode, Viewport
from ..files import local_files
from .painters import BACKGROUND, PAINTERS, Scene, paint_placeholder


class ImageCanvas(QWidget):
    face_clicked = Signal(int)
    face_drawn = Signal(tuple)  # (x1, y1, x2, y2) in image pixels, inside the photo
    drawing_changed = Signal(bool)
    face_menu_requested = Signal(int, QPoint)  # face index, global position of the right click
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
        self.setMinimumSize(300, 240)
        self._viewport = Viewport()
        self._before: QImage | None = None
        self._after: QImage | None = None
        self._before_view: QImage | None = None  # the original resampled exactly as ``_after``
        self._after_region = QRectF()  # image pixels the two views cover
        #: faces that finished in the render under way (image rect, pixels), until its result shows
        self._patches: list[tuple[QRectF, QImage]] = []
        self._mask: QImage | None = None  # the blend masks over the after view (same region)
        self._faces: tuple[FaceBox, ...] = ()
        self._current_face: int | None = None
        self._holding_original = False
        self._drag: str | None = None  # "divider", "pan" or "draw"
        self._drag_last = QPointF()
        self._drawing = False  # a drag draws a face box
        self._draw_start: tuple[float, float] | None = None  # photo point where the box being drawn started
        self._drawn_box: tuple[float, float, float, float] | None = None  # the box being drawn, image pixels
        self._show_boxes = True
        self._drop_face: int | None = None  # face under a photo being dragged in

    @property
    def _view(self) -> Viewport:
        """The viewport, told the widget's current size and pixel ratio (they change under it)."""
        self._viewport.size = (float(self.width()), float(self.height()))
        self._viewport.pixel_ratio = self.devicePixelRatioF()
        return self._viewport

    # ---------------------------------------------------------------- content
    def set_images(self, before: QImage | None) -> None:
        """A new photo: resets the view to fit; no restored view until ``set_after``."""
        self._before = before
        self._viewport.image_size = None if before is None else (before.width(), before.height())
        self._after = None
        self._before_view = None
        self._patches = []
        self._mask = None
        self._faces = ()
        self._viewport.fit = True
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
        self._patches = []
        self._mask = None  # a new view's masks follow it
        if after is not None:
            if region is None:
                assert self._before is not None
                region = (0, 0, self._before.width(), self._before.height())
            x0, y0, x1, y1 = region
            self._after_region = QRectF(x0, y0, x1 - x0, y1 - y0)
        self.update()

    def add_patch(self, patch: QImage, rect: QRectF) -> None:
        """A face finished in the render under way: ``patch`` covers ``rect`` (image pixels) of
        the restored side until that render's result (or the next) replaces the restored view."""
        self._patches.append((rect, patch))
        self.update()

    def set_mask_overlay(self, mask: QImage | None) -> None:
        """The blend masks over the current after view (``None`` hides them)."""
        self._mask = mask if self._after is not None else None
        self.update()

    @property
    def shows_mask_overlay(self) -> bool:
        return self._mask is not None

    def image_size(self) -> tuple[int, int]:
        """The photo's width and height (image pixels); (0, 0) before one is shown."""
        return (0, 0) if self._before is None else (self._before.width(), self._before.height())

    @property
    def patch_count(self) -> int:
        return len(self._patches)

    def set_faces(self, faces: tuple[FaceBox, ...]) -> None:
        self._faces = faces
        self.update()

    def set_current_face(self, index: int | None) -> None:
        """The face the face panel edits: its box stands out."""
        self._current_face = index if index is not None and index >= 0 else None
        self.update()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.face_tooltip(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def face_tooltip(self, widget_point: QPointF) -> str:
        """What hovering a face box says: its number, detection score and size, what a click does."""
        index = self.face_at(widget_point)
        face = next((f for f in self._faces if f.index == index), None)
        if face is None:
            return ""
        size = max(face.box[2] - face.box[0], face.box[3] - face.box[1])
        action = "exclude it" if face.selected else "restore it"
        found = "drawn by hand" if face.drawn else f"detection score {face.score:.2f}"
        return f"Face {face.index + 1}: {found}, {size:.0f} px. Click to {action}, right-click for more."

    @property
    def drawing(self) -> bool:
        return self._drawing

    def set_drawing(self, drawing: bool) -> None:
        """Draw a face box with the next drag (Esc, or ``set_drawing(False)``, stops)."""
        drawing = drawing and self._before is not None
        self._draw_start = self._drawn_box = None
        if drawing != self._drawing:
            self._drawing = drawing
            self.setCursor(Qt.CursorShape.CrossCursor if drawing else Qt.CursorShape.ArrowCursor)
            self.drawing_changed.emit(drawing)
            self.update()

    def set_show_boxes(self, show: bool) -> None:
        self._show_boxes = show
        self.update()

    # ---------------------------------------------------------------- view state
    @property
    def mode(self) -> ViewMode:
        return self._viewport.mode

    def set_mode(self, mode: ViewMode) -> None:
        self._viewport.mode = mode
        if self._viewport.fit:
            self._refit()
        self._view_moved()

    @property
    def split(self) -> float:
        """The divider's place as a fraction of the photo's width (0.5 before a photo is shown)."""
        return self._view.split if self._before is not None else 0.5

    def set_split(self, fraction: float) -> None:
        self._view.set_split(fraction)
        self.update()

    def set_holding_original(self, holding: bool) -> None:
        if holding != self._holding_original:
            self._holding_original = holding
            self.update()

    @property
    def zoom(self) -> float:
        return self._viewport.zoom

    def zoom_to_fit(self) -> None:
        self._viewport.fit = True
        self._refit()
        self._view_moved()

    def zoom_actual(self) -> None:
        self.set_zoom(1.0)

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / ZOOM_STEP)

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (default: the centre) in place."""
        if self._before is None:
            return
        self._view.zoom_to(zoom, None if anchor is None else (anchor.x(), anchor.y()))
        self.zoom_changed.emit(self.zoom)
        self._view_moved()

    def _refit(self) -> None:
        if self._view.refit():
            self.zoom_changed.emit(self.zoom)

    def _view_moved(self) -> None:
        self.view_changed.emit()
        self.update()

    def render_view(self) -> RenderView | None:
        """The part of the photo the restored view needs now, at screen resolution."""
        return self._view.render_view()

    # ---------------------------------------------------------------- coordinates and hits
    def widget_to_image(self, point: QPointF) -> QPointF:
        return QPointF(*self._view.widget_to_image((point.x(), point.y())))

    def image_to_widget(self, point: QPointF) -> QPointF:
        return QPointF(*self._view.image_to_widget((point.x(), point.y())))

    def divider_x(self) -> float:
        """The divider's x in widget coordinates (split mode)."""
        return self._view.divider_x()

    def face_at(self, widget_point: QPointF) -> int | None:
        """Index of the smallest face box under the point (either half in side-by-side)."""
        return self._view.face_at(self._faces, (widget_point.x(), widget_point.y()))

    def _near_divider(self, widget_point: QPointF) -> bool:
        return self._view.near_divider((widget_point.x(), widget_point.y()), self._after is not None)

    # ---------------------------------------------------------------- painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._before is None:
            paint_placeholder(painter, QRectF(self.rect()), self.font())
            return
        view = self._view
        scene = Scene(
            view=view,
            before=self._before,
            after=self._after,
            before_view=self._before_view,
            after_region=self._after_region,
            patches=tuple(self._patches),
            mask=self._mask,
            faces=self._faces,
            current_face=self._current_face,
            show_boxes=self._show_boxes,
            drop_face=self._drop_face,
            drawn_box=self._drawn_box,
            holding_original=self._holding_original,
            font=self.font(),
            size=view.size,
        )
        for paint in PAINTERS:
            paint(painter, scene)

    # ---------------------------------------------------------------- mouse and keys
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        if self._viewport.fit:
            self._refit()
        super().resizeEvent(event)
        self.view_changed.emit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps and self._before is not None:
            self.set_zoom(self.zoom * ZOOM_STEP**steps, anchor=event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = event.position()
        if self._drawing:
            if event.button() == Qt.MouseButton.LeftButton:
                self._drag = "draw"
                self._draw_start = self._view.photo_point((pos.x(), pos.y()))
            return
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
        if self._drag == "draw" and self._draw_start is not None:
            self._drawn_box = self._view.drawn_box(self._draw_start, self._view.photo_point((pos.x(), pos.y())))
            self.update()
        elif self._drag == "divider" and self._before is not None:
            self.set_split(self.widget_to_image(pos).x() / self._before.width())
        elif self._drag == "pan":
            delta = pos - self._drag_last
            self._view.pan(delta.x(), delta.y())
            self._view_moved()
        else:
            self._update_cursor(pos)
        self._drag_last = pos

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        drawn = self._drawn_box if self._drag == "draw" else None
        self._drag = None
        if drawn is not None and min(drawn[2] - drawn[0], drawn[3] - drawn[1]) >= MIN_DRAWN_SIDE:
            self.set_drawing(False)
            self.face_drawn.emit(drawn)
            return
        self._draw_start = self._drawn_box = None  # a click, or a box too small for a face
        self.update()
        self._update_cursor(event.position())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape and self._drawing:
            self.set_drawing(False)
            return
        super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        index = self.face_at(QPointF(event.pos()))
        if index is not None and not self._drawing:
            self.face_menu_requested.emit(index, event.globalPos())

    def _update_cursor(self, pos: QPointF) -> None:
        if self._drawing:
            self.setCursor(Qt.CursorShape.CrossCursor)
        elif self._near_divider(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif self.face_at(pos) is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.setCursor(Qt.CursorShape.OpenHandCursor if self._before is not None else Qt.CursorShape.ArrowCursor)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
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
