"""The canvas's view math and hit testing, without Qt: fit, zoom about a point, pan, what a
render needs, which face or divider is under the pointer."""

from __future__ import annotations

import pytest

from app.components.viewport import (
    DIVIDER_GRAB,
    MAX_ZOOM,
    SIDE_GAP,
    VIEW_GRID,
    FaceBox,
    ViewMode,
    Viewport,
)


def _viewport(image: tuple[int, int] = (1000, 500), size=(800.0, 600.0), ratio: float = 1.0) -> Viewport:
    view = Viewport()
    view.size, view.pixel_ratio, view.image_size = size, ratio, image
    assert view.refit()
    return view


def test_a_portrait_photo_side_by_side_stacks_the_after_image_below() -> None:
    view = _viewport(image=(400, 1000), size=(800.0, 600.0))
    view.mode = ViewMode.SIDE_BY_SIDE
    view.refit()
    assert view.stacked and view.after_origin() == (0, 1000 + SIDE_GAP)
    assert view.zoom == pytest.approx((600 - 24) / (2000 + SIDE_GAP))
    face = FaceBox(0, (100, 100, 200, 200), 0.9, True)
    below = view.image_to_widget((150, 1000 + SIDE_GAP + 150))
    assert view.face_at((face,), below) == 0  # the face's box is hit in the lower half too
    assert view.face_at((face,), view.image_to_widget((150, 150))) == 0
    x0, y0, x1, y1 = view.render_view().region
    assert (x0, y0) == (0, 0) and x1 == 400 and y1 <= 1000  # the after image's own pixels
    # a landscape photo stays left and right
    wide = _viewport(image=(1000, 400))
    wide.mode = ViewMode.SIDE_BY_SIDE
    assert not wide.stacked and wide.after_origin() == (1000 + SIDE_GAP, 0)


def test_fit_centres_the_photo_inside_the_margin() -> None:
    view = _viewport()
    assert view.zoom == pytest.approx((800 - 24) / 1000)
    x0, y0 = view.image_to_widget((0, 0))
    x1, y1 = view.image_to_widget((1000, 500))
    assert (x0, x1) == (pytest.approx(12, abs=0.5), pytest.approx(788, abs=0.5))
    assert (y0 + y1) / 2 == pytest.approx(300, abs=0.5)
    # side by side fits both halves and the gap
    view.mode = ViewMode.SIDE_BY_SIDE
    view.refit()
    assert view.zoom == pytest.approx((800 - 24) / (2000 + SIDE_GAP))
    assert view.after_origin() == (1000 + SIDE_GAP, 0)
    # nothing to fit: no photo, or a widget of no size
    empty = Viewport()
    assert not empty.refit() and empty.render_view() is None and empty.face_at((), (1, 1)) is None


def test_zoom_keeps_the_point_under_the_anchor_and_lands_on_device_pixels() -> None:
    view = _viewport(ratio=2.0)
    anchor = (123.0, 321.0)
    before = view.widget_to_image(anchor)
    view.zoom_to(3.0, anchor)
    assert not view.fit and view.zoom == 3.0 and view.scale == 1.5
    assert view.widget_to_image(anchor) == pytest.approx(before, abs=0.5 / view.scale)
    assert all((c * 2).is_integer() for c in view.offset)  # whole device pixels
    view.zoom_to(1000.0)
    assert view.zoom == MAX_ZOOM
    view.pan(10.25, -3.0)
    assert all((c * 2).is_integer() for c in view.offset)


def test_the_render_view_covers_the_visible_part_padded_to_the_grid() -> None:
    view = _viewport(image=(4000, 3000))
    assert view.render_view().region == (0, 0, 4000, 3000) and view.render_view().scale == view.zoom
    view.zoom_to(1.0)  # 800 x 600 image pixels around the centre
    region = view.render_view().region
    assert all(c % VIEW_GRID == 0 for c in region)
    x0, y0, x1, y1 = view.visible()
    assert region[0] <= x0 - 0.25 * 800 and region[2] >= x1 + 0.25 * 800
    assert region[1] <= y0 - 0.25 * 600 and region[3] >= y1 + 0.25 * 600
    assert view.render_view().scale == 1.0
    view.zoom_to(4.0)
    assert view.render_view().scale == 1.0  # never more pixels than the photo has
    view.pan(100_000, 0)  # off the photo: all of it, for the faces' thumbnails
    assert view.render_view().region == (0, 0, 4000, 3000)


def test_the_smallest_face_under_the_pointer_is_hit_in_either_half() -> None:
    view = _viewport(image=(1000, 500), size=(2016.0 + 24, 500.0 + 24))
    faces = (FaceBox(0, (100, 100, 400, 400), 0.9, True), FaceBox(1, (200, 200, 300, 300), 0.8, False))
    view.zoom_to(1.0)
    view.offset = (0.0, 0.0)

    def at(x: float, y: float) -> tuple[float, float]:
        return view.image_to_widget((x, y))

    assert view.face_at(faces, at(150, 150)) == 0
    assert view.face_at(faces, at(250, 250)) == 1  # inside both: the smaller one
    assert view.face_at(faces, at(600, 250)) is None
    assert view.face_at(faces, at(1000 + SIDE_GAP + 250, 250)) is None  # no second half in split
    view.mode = ViewMode.SIDE_BY_SIDE
    assert view.face_at(faces, at(1000 + SIDE_GAP + 250, 250)) == 1


def test_the_divider_keeps_its_screen_place_through_zoom_and_pan() -> None:
    view = _viewport()
    view.set_split(0.5)
    x = view.divider_x()
    assert x == pytest.approx(400, abs=1)  # the photo's middle at fit, the widget's middle
    view.zoom_to(4.0, (100.0, 300.0))
    assert view.divider_x() == pytest.approx(x) and 0 < view.split < 1
    view.pan(-5000, 0)  # the photo's right edge is left of the divider's place: it follows the photo
    right = view.image_to_widget((1000, 0))[0]
    assert view.divider_x() == pytest.approx(max(right, 0))
    assert view.split == pytest.approx(1.0) and view.sides_shown() == (right > 0.5, False)


def test_the_divider_is_grabbed_only_near_it_in_split_mode_with_a_restored_view() -> None:
    view = _viewport()
    view.set_split(1.7)
    assert view.split == 1.0
    view.set_split(0.25)
    x = view.divider_x()
    assert x == pytest.approx(view.image_to_widget((250, 0))[0])
    assert view.near_divider((x + DIVIDER_GRAB, 10), showing_after=True)
    assert not view.near_divider((x + DIVIDER_GRAB + 1, 10), showing_after=True)
    assert not view.near_divider((x, 10), showing_after=False)
    view.mode = ViewMode.AFTER
    assert not view.near_divider((x, 10), showing_after=True)
