"""The live preview: a settings change or a view change asks the render worker for what the
canvas shows (throttled), and only the answer to the latest request reaches the canvas."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QImage
from superqt.utils import QSignalThrottler

from .canvas import ImageCanvas
from .components import ImageRef, PhotoSession, RenderView
from .qimage import mask_to_qimage, rgb8_to_qimage

if TYPE_CHECKING:
    import numpy as np

    from restore_core.engine import FaceDone, RenderResult

    from .worker import RenderService

RENDER_THROTTLE_MS = 40


class Preview(QObject):
    def __init__(
        self,
        session: PhotoSession,
        service: RenderService,
        canvas: ImageCanvas,
        show_busy: Callable[[bool], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._session, self._service, self._canvas, self._show_busy = session, service, canvas, show_busy
        self.shown_ticket = 0  # the request ``session.last_result`` answers
        self.render_error: str | None = None  # why the latest request failed, if it did
        self._rendering_view: RenderView | None = None  # the view of the latest render request
        self._canvas_image_id: int | None = None  # the photo the canvas shows
        self._before_view: tuple[object, QImage | None] = (None, None)  # (image, region, scale), view
        # Leading and trailing: the first change renders at once, a drag at most every 40 ms,
        # and the last position always
        self._throttle = QSignalThrottler(QSignalThrottler.EmissionPolicy.Leading, self)
        self._throttle.setTimeout(RENDER_THROTTLE_MS)
        self._throttle.triggered.connect(self.request)
        self._waiting = False  # a change waits for the throttle
        self._masks_shown = False
        canvas.view_changed.connect(self._on_view_changed)
        service.signals.masks.connect(self._show_masks)

    @property
    def pending(self) -> bool:
        """A change waits for the render throttle (it asks the worker within 40 ms)."""
        return self._waiting

    def schedule(self) -> None:
        self._waiting = True
        self._throttle.throttle()

    def request(self) -> None:
        """Ask for a render of the current settings now (unthrottled)."""
        self._waiting = False
        if (image := self._session.image) is not None:
            self.render_error = None
            # Until the canvas shows this photo, its view belongs to the previous one: ask for
            # the whole photo; showing it changes the view and asks again, cancelling this render.
            showing = self._canvas_image_id == image.id
            self._rendering_view = self._canvas.render_view() if showing else None
            self._service.render(image, self._session.settings, self._rendering_view, masks=self._masks_shown)
            self._show_busy(True)

    def _on_view_changed(self) -> None:
        """Zoom or pan: render again only when the view needs pixels the last request lacks."""
        if self._session.image is not None and self._canvas.render_view() != self._rendering_view:
            self.schedule()

    def show_photo(self, image: ImageRef, original_rgb8: np.ndarray) -> None:
        """A photo decoded: the canvas shows it (fitted), without a restored view yet."""
        self._canvas_image_id = image.id
        self._canvas.set_images(rgb8_to_qimage(original_rgb8))

    def show_result(self, ticket: int, result: RenderResult) -> bool:
        """A render arrived: shown unless a newer request is on its way (then False)."""
        if ticket < self._service.latest_render_ticket:
            return False
        self._session.last_result = result
        self.shown_ticket = ticket
        # The original view changes with the region and scale only: a slider move reuses it.
        image = self._session.image
        view_key = (image.id if image else None, result.region, result.scale)
        if view_key != self._before_view[0] and result.original_rgb8 is not None:
            self._before_view = (view_key, rgb8_to_qimage(result.original_rgb8))
        self._canvas.set_after(rgb8_to_qimage(result.rgb8), result.region, self._before_view[1])
        return True

    def set_masks_shown(self, shown: bool) -> None:
        """The blend masks over the restored side (View > Show Blend Masks): asked for with every
        render while shown; hiding them needs no render."""
        self._masks_shown = shown
        if not shown:
            self._canvas.set_mask_overlay(None)
        elif self._session.image is not None:
            self.request()

    def _show_masks(self, ticket: int, weight: np.ndarray) -> None:
        if self._masks_shown and ticket == self.shown_ticket:
            self._canvas.set_mask_overlay(mask_to_qimage(weight))

    def show_face(self, ticket: int, done: FaceDone) -> None:
        """A face of the latest render finished: its pixels fill in on the canvas at once."""
        if ticket < self._service.latest_render_ticket or done.patch is None or done.region is None:
            return
        # The patch is in the pixels of the view asked for, clipped to the photo as the engine clips it.
        width, height = self._canvas.image_size()
        view = self._rendering_view
        x0, y0 = (0, 0) if view is None else (min(max(view.region[0], 0), width), min(max(view.region[1], 0), height))
        scale = 1.0 if view is None else view.scale
        px0, py0, px1, py1 = done.region
        rect = QRectF(x0 + px0 / scale, y0 + py0 / scale, (px1 - px0) / scale, (py1 - py0) / scale)
        self._canvas.add_patch(rgb8_to_qimage(done.patch), rect)

    def clear_result(self) -> None:
        """The latest render failed: the after view would show other settings than the
        controls, so the photo shows alone."""
        self._session.last_result = None
        self._canvas.set_after(None)
