"""Paste-back: ROI only, bit-identical elsewhere, strength blend, grain under the mask."""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from restore_core.align import FaceWarp, estimate_warp
from restore_core.compose import face_blend_mask, paste_face
from restore_core.faces import landmarks_from_box
from restore_core.io.image import LoadedImage
from restore_core.params import GrainSettings

DTYPES = [np.uint8, np.uint16, np.float32]


def random_canvas(rng: np.random.Generator, height: int, width: int, channels: int, dtype: type) -> np.ndarray:
    if dtype == np.float32:
        return rng.random((height, width, channels), dtype=np.float32)
    return rng.integers(0, np.iinfo(dtype).max, (height, width, channels), dtype=dtype, endpoint=True)


def face_warp(cx: float, cy: float, size: float, angle_deg: float = 0.0) -> FaceWarp:
    """The warp of an upright template face of ``size`` px at (cx, cy), rotated by ``angle_deg``."""
    box = (cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2)
    points = np.array(landmarks_from_box(box)) - (cx, cy)
    a = np.deg2rad(angle_deg)
    rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return estimate_warp(points @ rotation.T + (cx, cy))


def paste(
    canvas: np.ndarray,
    face: np.ndarray,
    warp: FaceWarp,
    source: np.ndarray,
    original: np.ndarray,
    strength: float = 1.0,
    **options: object,
) -> tuple[int, int, int, int]:
    """paste_face with the original image's own ``to_native``."""
    to_native = LoadedImage(original).to_native
    return paste_face(
        canvas, face, warp, source_face=source, original=original, strength=strength, to_native=to_native, **options
    )


def full_weight(warp: FaceWarp, shape: tuple[int, ...], margin: int = 3) -> np.ndarray:
    """Canvas pixels where the blend mask is 1, shrunk by ``margin`` px (filtering moves the edge)."""
    height, width = shape[:2]
    weight = warp.to_region(face_blend_mask(), (0, 0, width, height))
    return cv2.erode((weight >= 0.999).astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) > 0


def zero_weight(warp: FaceWarp, shape: tuple[int, ...], margin: int = 3) -> np.ndarray:
    """Canvas pixels at least ``margin`` px away from any blend weight above 0."""
    height, width = shape[:2]
    weight = warp.to_region(face_blend_mask(), (0, 0, width, height))
    return cv2.dilate((weight > 0).astype(np.uint8), np.ones((2 * margin + 1,) * 2, np.uint8)) == 0


def region_mask(shape: tuple[int, ...], regions: list[tuple[int, int, int, int]]) -> np.ndarray:
    inside = np.zeros(shape[:2], dtype=bool)
    for x0, y0, x1, y1 in regions:
        inside[y0:y1, x0:x1] = True
    return inside


@pytest.fixture(scope="module")
def faces() -> tuple[np.ndarray, np.ndarray]:
    """A source face (what the model got) and a different 'restored' face, 512 x 512 x 3."""
    rng = np.random.default_rng(5)
    source = cv2.GaussianBlur(rng.random((512, 512, 3), dtype=np.float32), (0, 0), 3)
    restored = np.clip(source[::-1] * 0.7 + 0.2, 0, 1).astype(np.float32)
    return source, restored


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_strength_zero_and_outside_the_region_are_bit_identical(dtype, channels, faces) -> None:
    source, restored = faces
    canvas = random_canvas(np.random.default_rng(11), 300, 400, channels, dtype)
    warp = face_warp(180, 140, 120, angle_deg=20)

    untouched = canvas.copy()
    paste(untouched, restored, warp, source, canvas, strength=0.0)
    assert np.array_equal(untouched, canvas)

    pasted = canvas.copy()
    region = paste(pasted, restored, warp, source, canvas)
    x0, y0, x1, y1 = region
    assert 0 < x1 - x0 < 400 and 0 < y1 - y0 < 300
    assert pasted.dtype == canvas.dtype
    outside = ~region_mask(canvas.shape, [region])
    assert np.array_equal(pasted[outside], canvas[outside])
    # Inside the region, pixels far from any blend weight are untouched too; the face changed.
    far = zero_weight(warp, canvas.shape)
    assert (far & ~outside).any()
    assert np.array_equal(pasted[far], canvas[far])
    face = full_weight(warp, canvas.shape)
    assert np.all(np.any(pasted[face] != canvas[face], axis=1).mean() > 0.9)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unchanged_face_comes_back_bit_for_bit(dtype, faces) -> None:
    source, _ = faces
    canvas = random_canvas(np.random.default_rng(2), 256, 256, 3, dtype)
    pasted = canvas.copy()
    paste(pasted, source, face_warp(128, 128, 100), source, canvas)
    assert np.array_equal(pasted, canvas)


def test_passthrough_round_trip_on_real_photos(photos_dir: Path, expected_faces: dict) -> None:
    """Crop each face, hand it back unchanged: the photo stays identical; a change shows only there."""
    for name, boxes in expected_faces.items():
        image = LoadedImage(np.ascontiguousarray(cv2.imread(str(photos_dir / name))[..., ::-1]))
        working = image.working_rgb8().astype(np.float32) / 255
        canvas = image.pixels.copy()
        for box in boxes:
            warp = estimate_warp(np.array(landmarks_from_box(box)))
            face = warp.crop(working)
            paste(canvas, face, warp, face, image.pixels)
            assert np.array_equal(canvas, image.pixels), name
        # The last face made darker by 0.2 of white: the change lands in its region only.
        region = paste(canvas, np.clip(face - 0.2, 0, 1), warp, face, image.pixels)
        changed = np.any(canvas != image.pixels, axis=2)
        assert changed.any()
        assert not (changed & ~region_mask(canvas.shape, [region])).any()
        gain = canvas.astype(int) - image.pixels
        # Under full weight, away from dark pixels (clipped at black), everything went down by 51.
        bright = cv2.erode(image.pixels.min(axis=2), np.ones((5, 5), np.uint8)) > 64
        inside = full_weight(warp, canvas.shape) & bright
        assert inside.sum() > 1000
        assert np.abs(gain[inside] + 51).max() <= 1, name


@pytest.mark.parametrize("dtype", DTYPES)
def test_difference_grows_with_strength(dtype, faces) -> None:
    source, restored = faces
    canvas = random_canvas(np.random.default_rng(4), 240, 240, 3, dtype)
    warp = face_warp(120, 120, 110)
    differences = []
    for strength in (0.0, 0.25, 0.5, 0.75, 1.0):
        pasted = canvas.copy()
        paste(pasted, restored, warp, source, canvas, strength)
        differences.append(float(np.abs(pasted.astype(np.float64) - canvas).mean()))
    assert differences[0] == 0.0
    assert all(a < b for a, b in itertools.pairwise(differences)), differences


def test_grey_canvas_stays_single_channel(faces) -> None:
    source, restored = faces
    canvas = random_canvas(np.random.default_rng(8), 200, 200, 1, np.uint16)
    pasted = canvas.copy()
    paste(pasted, restored, face_warp(100, 100, 90), source, canvas)
    assert pasted.shape == (200, 200, 1) and pasted.dtype == np.uint16
    assert not np.array_equal(pasted, canvas)


def test_overlapping_faces_paste_in_order() -> None:
    """Where the second face has full weight its change replaces the first's; elsewhere the first stays."""
    original = np.full((200, 260, 3), 128, dtype=np.uint8)
    canvas = original.copy()
    grey = np.full((512, 512, 3), 0.5, dtype=np.float32)
    first, second = face_warp(100, 100, 60), face_warp(140, 100, 60)
    paste(canvas, grey - 0.2, first, grey, original)
    paste(canvas, grey + 0.2, second, grey, original)
    only_first = full_weight(first, canvas.shape) & zero_weight(second, canvas.shape)
    in_second = full_weight(second, canvas.shape)
    assert only_first.any() and (in_second & full_weight(first, canvas.shape)).any()
    assert np.all(canvas[only_first] == 77)  # 128 - 0.2 * 255
    assert np.all(canvas[in_second] == 179)  # 128 + 0.2 * 255, not 128 - 51 + 51


def test_three_hundred_small_faces_touch_only_their_regions() -> None:
    rng = np.random.default_rng(300)
    original = random_canvas(rng, 1500, 2400, 3, np.uint8)
    canvas = original.copy()
    source = rng.random((512, 512, 3), dtype=np.float32)
    face = np.clip(source + 0.3, 0, 1)
    regions = []
    for _ in range(300):
        warp = face_warp(rng.uniform(0, 2400), rng.uniform(0, 1500), rng.uniform(12, 40), rng.uniform(-30, 30))
        regions.append(paste(canvas, face, warp, source, original))
    inside = region_mask(canvas.shape, regions)
    assert inside.mean() < 0.25
    assert np.array_equal(canvas[~inside], original[~inside])
    changed = np.any(canvas != original, axis=2)
    assert changed[inside].mean() > 0.2
    for x0, y0, x1, y1 in regions:  # every face on the canvas left a mark in its region
        if x1 - x0 > 8 and y1 - y0 > 8:
            assert changed[y0:y1, x0:x1].any()


GRAIN = GrainSettings(enabled=True, model="silver", strength=1.0, density=0.8, size=2.0, seed=7)


def test_face_grain_follows_the_blend_mask(faces) -> None:
    source, restored = faces
    canvas = np.full((300, 300, 3), 120, dtype=np.uint8)
    warp = face_warp(150, 150, 120)
    plain, grainy = canvas.copy(), canvas.copy()
    paste(plain, restored, warp, source, canvas, 0.6)
    region = paste(grainy, restored, warp, source, canvas, 0.6, grain=GRAIN)
    outside = ~region_mask(canvas.shape, [region])
    assert np.array_equal(grainy[outside], canvas[outside])
    added = grainy.astype(int) - plain
    assert np.all(added[zero_weight(warp, canvas.shape)] == 0)
    assert added[full_weight(warp, canvas.shape)].std() > 2
    # Disabled grain, or grain meant for the whole image, adds nothing here.
    for settings in (GrainSettings(enabled=False), GrainSettings(enabled=True, scope="image")):
        again = canvas.copy()
        paste(again, restored, warp, source, canvas, 0.6, grain=settings)
        assert np.array_equal(again, plain)


def test_viewport_paste_matches_the_full_render(faces) -> None:
    """A crop of the canvas with a shifted warp and grain_origin gives the full render's pixels."""
    source, restored = faces
    canvas = random_canvas(np.random.default_rng(3), 400, 500, 3, np.uint16)
    warp = face_warp(260, 210, 160, angle_deg=10)
    full = canvas.copy()
    paste(full, restored, warp, source, canvas, 0.8, grain=GRAIN)

    vx, vy = 200, 150
    crop = (slice(vy, vy + 200), slice(vx, vx + 250))
    viewport = canvas[crop].copy()
    matrix = warp.matrix.copy()
    matrix[:, 2] += matrix[:, :2] @ (vx, vy)
    paste(viewport, restored, FaceWarp(matrix), source, canvas[crop].copy(), 0.8, grain=GRAIN, grain_origin=(vx, vy))
    difference = np.abs(viewport.astype(np.int64) - full[crop])
    # Grain is exact; the face warp may differ by OpenCV's fixed-point rounding of the offset.
    assert difference.max() <= 2 * 257
    assert np.mean(difference == 0) > 0.95


def test_rejects_mismatched_inputs(faces) -> None:
    source, restored = faces
    canvas = np.zeros((50, 50, 3), np.uint8)
    warp = face_warp(25, 25, 30)
    with pytest.raises(ValueError, match="shape"):
        paste(canvas, restored[:256], warp, source, canvas)
    with pytest.raises(ValueError, match="original"):
        paste(canvas, restored, warp, source, canvas.astype(np.uint16))
    with pytest.raises(ValueError, match="canvas"):
        grey = canvas[..., 0]
        paste_face(grey, restored, warp, source_face=source, original=grey, strength=1.0, to_native=lambda rgb: rgb)


@pytest.mark.parametrize("size", [24.0, 60.0, 200.0, 600.0])
def test_the_change_lands_where_the_warp_maps_it(size) -> None:
    """A blob drawn at an aligned position appears at that position's image coordinates.

    Small faces are pre-shrunk before the warp; a half-pixel slip there would show here.
    """
    u, v = 300.0, 280.0
    yy, xx = np.mgrid[0:512, 0:512].astype(np.float32)
    blob = np.exp(-((xx - u) ** 2 + (yy - v) ** 2) / (2 * 24.0**2))[..., None].repeat(3, axis=2)
    source = np.full((512, 512, 3), 0.2, dtype=np.float32)
    side = int(size * 2.5)
    original = np.full((side, side, 3), 0.2, dtype=np.float32)
    canvas = original.copy()
    warp = face_warp(side / 2 + 0.3, side / 2 - 0.2, size, angle_deg=15)
    paste(canvas, source + 0.5 * blob, warp, source, original)
    change = canvas[..., 0] - original[..., 0]
    ys, xs = np.mgrid[0:side, 0:side]
    centre = np.array([(change * xs).sum(), (change * ys).sum()]) / change.sum()
    expected = warp.inverse @ (u, v, 1.0)
    assert np.abs(centre - expected).max() < 0.02, (centre, expected)
