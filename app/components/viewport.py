"""The canvas's view math and hit testing, without Qt: zoom, pan, fit, the view modes' layout,
which part of the photo a render needs, and which face box or divider is under a point.

Points are (x, y) tuples. Widget points are logical pixels; ``zoom`` is image pixels to
*device* pixels, so at 100 % one image pixel is one screen pixel on high-DPI screens too.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

from restore_core.faces import DetectedFace
from restore_core.params import Settings

from .photo import RenderView

ZOOM_STEP = 1.25
MIN_ZOOM, MAX_ZOOM = 0.02, 32.0
SIDE_GAP = 16  # image pixels between the two halves in side-by-side mode
DIVIDER_GRAB = 8  # logical pixels either side of the divider that start a drag
FIT_MARGIN = 12  # logical pixels around a fitted photo
#: The rendered region reaches a quarter of the view past each edge and snaps out to this grid
#: (image pixels), so small pans show restored pixels at once and ask for no new render.
VIEW_PAD = 0.25
VIEW_GRID = 256

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


class ViewMode(enum.Enum):
    SPLIT = "split"
    SIDE_BY_SIDE = "side_by_side"
    BEFORE = "before"
    AFTER = "after"


#: a drawn face box narrower or lower than this (photo pixels) was a click, not a face
MIN_DRAWN_SIDE = 8


@dataclass(frozen=True)
class FaceBox:
    index: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    score: float
    selected: bool
    drawn: bool = False  # drawn by hand (the score is the user's word, not the detector's)


def face_boxes(faces: Sequence[DetectedFace], settings: Settings) -> tuple[FaceBox, ...]:
    """What the canvas shows of each face in ``settings``."""
    drew = settings.detection.drew
    return tuple(FaceBox(i, f.box, f.score, settings.is_selected(i), drew(f.box)) for i, f in enumerate(faces))


def _clamp_zoom(zoom: float) -> float:
    return min(MAX_ZOOM, max(MIN_ZOOM, zoom))


class Viewport:
    """Where the photo lies in a widget of ``size`` (logical pixels, ``pixel_ratio`` device
    pixels each): the owner keeps ``size``, ``pixel_ratio`` and ``image_size`` current."""

    def __init__(self) -> None:
        self.size: Point = (0.0, 0.0)
        self.pixel_ratio = 1.0
        self.image_size: tuple[int, int] | None = None
        self.mode = ViewMode.SPLIT
        self.zoom = 1.0
        self.fit = True  # refit on resize until the user zooms or pans
        self.offset: Point = (0.0, 0.0)  # widget position of the image origin
        #: the split divider's place as a fraction of the widget's width: it stays where it is on
        #: screen while the view zooms and pans (as comparison tools keep it), so it never leaves
        self.screen_split = 0.5

    @property
    def scale(self) -> float:
        """Logical widget pixels per image pixel."""
        return self.zoom / self.pixel_ratio

    # ---------------------------------------------------------------- coordinates
    def widget_to_image(self, point: Point) -> Point:
        s = self.scale
        return (point[0] - self.offset[0]) / s, (point[1] - self.offset[1]) / s

    def image_to_widget(self, point: Point) -> Point:
        s = self.scale
        return self.offset[0] + point[0] * s, self.offset[1] + point[1] * s

    def snap(self, point: Point) -> Point:
        """The image origin on a whole device pixel: at 100 % every image pixel is one screen pixel."""
        r = self.pixel_ratio
        return round(point[0] * r) / r, round(point[1] * r) / r

    @property
    def stacked(self) -> bool:
        """Side by side with the after image below the before one: a portrait photo (taller than
        wide) uses the screen's width better that way."""
        return (
            self.mode is ViewMode.SIDE_BY_SIDE
            and self.image_size is not None
            and self.image_size[1] > self.image_size[0]
        )

    def after_origin(self) -> Point:
        """Where the after image starts, in image coordinates (right of the before image in
        side-by-side, or below it for a portrait photo)."""
        if self.mode is ViewMode.SIDE_BY_SIDE and self.image_size is not None:
            w, h = self.image_size
            return (0.0, h + SIDE_GAP) if self.stacked else (w + SIDE_GAP, 0.0)
        return 0.0, 0.0

    def _image_span(self) -> tuple[float, float]:
        """The widget x range the photo covers on screen (within the widget)."""
        assert self.image_size is not None
        left = self.image_to_widget((0.0, 0.0))[0]
        right = self.image_to_widget((float(self.image_size[0]), 0.0))[0]
        return max(left, 0.0), min(right, self.size[0])

    def divider_x(self) -> float:
        """The divider's x in widget coordinates (split mode): where the user put it on screen,
        moved onto the photo when the photo does not reach there."""
        left, right = self._image_span()
        return min(max(self.screen_split * self.size[0], left), max(left, right))

    @property
    def split(self) -> float:
        """The divider's place as a fraction of the photo's width (what a comparison export cuts at)."""
        assert self.image_size is not None
        return min(1.0, max(0.0, self.widget_to_image((self.divider_x(), 0.0))[0] / self.image_size[0]))

    def sides_shown(self) -> tuple[bool, bool]:
        """Whether any of the before (left of the divider) and the after side is on screen."""
        left, right = self._image_span()
        x = self.divider_x()
        return x > left + 0.5, x < right - 0.5

    def visible(self) -> Rect:
        """The image coordinates the widget shows."""
        x0, y0 = self.widget_to_image((0.0, 0.0))
        x1, y1 = self.widget_to_image(self.size)
        return x0, y0, x1, y1

    # ---------------------------------------------------------------- moving the view
    def _content_size(self) -> Point:
        assert self.image_size is not None
        w, h = self.image_size
        if self.mode is not ViewMode.SIDE_BY_SIDE:
            return w, h
        return (w, 2 * h + SIDE_GAP) if self.stacked else (2 * w + SIDE_GAP, h)

    def refit(self) -> bool:
        """The whole content centred in the widget; False when there is nothing to fit."""
        width, height = self.size
        if self.image_size is None or width <= 0 or height <= 0:
            return False
        cw, ch = self._content_size()
        scale = max(min((width - 2 * FIT_MARGIN) / cw, (height - 2 * FIT_MARGIN) / ch), 1e-3)
        self.zoom = _clamp_zoom(scale * self.pixel_ratio)
        s = self.scale
        self.offset = self.snap(((width - cw * s) / 2, (height - ch * s) / 2))
        return True

    def zoom_to(self, zoom: float, anchor: Point | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (default: the centre) in place."""
        anchor = anchor if anchor is not None else (self.size[0] / 2, self.size[1] / 2)
        ix, iy = self.widget_to_image(anchor)
        self.zoom = _clamp_zoom(zoom)
        self.fit = False
        s = self.scale
        self.offset = self.snap((anchor[0] - ix * s, anchor[1] - iy * s))

    def pan(self, dx: float, dy: float) -> None:
        self.offset = self.snap((self.offset[0] + dx, self.offset[1] + dy))
        self.fit = False

    def set_split(self, fraction: float) -> None:
        """Put the divider at ``fraction`` of the photo's width, as the photo is on screen now."""
        fraction = min(1.0, max(0.0, fraction))
        if self.image_size is None or self.size[0] <= 0:
            self.screen_split = fraction
            return
        self.screen_split = self.image_to_widget((fraction * self.image_size[0], 0.0))[0] / self.size[0]

    def render_view(self) -> RenderView | None:
        """The part of the photo the restored view needs now, at screen resolution."""
        if self.image_size is None:
            return None
        w, h = self.image_size
        ox, oy = self.after_origin()
        left, top, right, bottom = self.visible()
        left, right, top, bottom = left - ox, right - ox, top - oy, bottom - oy
        pad_x, pad_y = VIEW_PAD * (right - left), VIEW_PAD * (bottom - top)
        x0 = max(0, math.floor((left - pad_x) / VIEW_GRID) * VIEW_GRID)
        y0 = max(0, math.floor((top - pad_y) / VIEW_GRID) * VIEW_GRID)
        x1 = min(w, math.ceil((right + pad_x) / VIEW_GRID) * VIEW_GRID)
        y1 = min(h, math.ceil((bottom + pad_y) / VIEW_GRID) * VIEW_GRID)
        if x1 <= x0 or y1 <= y0:  # panned off the photo: keep the faces' thumbnails current
            x0, y0, x1, y1 = 0, 0, w, h
        return RenderView((x0, y0, x1, y1), min(1.0, self.zoom))

    # ---------------------------------------------------------------- hit testing
    def photo_point(self, point: Point) -> Point:
        """The photo pixel under the widget point, on either half in side-by-side."""
        x, y = self.widget_to_image(point)
        if self.image_size is None or self.mode is not ViewMode.SIDE_BY_SIDE:
            return x, y
        ox, oy = self.after_origin()
        return (x - ox, y - oy) if (y > self.image_size[1] if self.stacked else x > self.image_size[0]) else (x, y)

    def drawn_box(self, start: Point, end: Point) -> tuple[float, float, float, float]:
        """The box dragged from photo point ``start`` to ``end``, either way round, inside the photo."""
        width, height = self.image_size or (0, 0)
        xs = sorted(min(float(width), max(0.0, v)) for v in (start[0], end[0]))
        ys = sorted(min(float(height), max(0.0, v)) for v in (start[1], end[1]))
        return (round(xs[0], 1), round(ys[0], 1), round(xs[1], 1), round(ys[1], 1))

    def face_at(self, faces: tuple[FaceBox, ...], point: Point) -> int | None:
        """Index of the smallest face box under the widget point (either half in side-by-side)."""
        if self.image_size is None:
            return None
        x, y = self.photo_point(point)
        hits = [f for f in faces if f.box[0] <= x <= f.box[2] and f.box[1] <= y <= f.box[3]]
        if not hits:
            return None
        return min(hits, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1])).index

    def near_divider(self, point: Point, showing_after: bool) -> bool:
        """Whether a press at the widget point grabs the split divider."""
        return (
            self.image_size is not None
            and self.mode is ViewMode.SPLIT
            and showing_after
            and abs(point[0] - self.divider_x()) <= DIVIDER_GRAB
        )
