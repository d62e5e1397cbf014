"""Alignment: landmarks land on the template, faces survive crop -> paste-back, regions and canvases agree."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from support import psnr

from restore_core.align import ALIGNED_SIZE, FFHQ_TEMPLATE_512, FaceWarp, estimate_warp
from restore_core.faces import landmarks_from_box


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def _similarity(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = np.deg2rad(angle_deg)
    c, s = scale * np.cos(a), scale * np.sin(a)
    return np.array([[c, -s, shift[0]], [s, c, shift[1]]])


def _similar_landmarks(angle_deg: float, face_scale: float, shift: tuple[float, float]) -> np.ndarray:
    """Landmarks of a face that is exactly the template, turned, scaled (aligned px per image px) and moved."""
    return _apply(cv2.invertAffineTransform(_similarity(angle_deg, face_scale, shift)), FFHQ_TEMPLATE_512)


def _rotated(points: np.ndarray, angle_deg: float) -> np.ndarray:
    centre = points.mean(axis=0)
    return _apply(_similarity(angle_deg, 1.0, (0.0, 0.0)), points - centre) + centre


def _photo_faces(photos_dir: Path, expected_faces: dict[str, list[list[float]]]):
    """(photo name, RGB pixels, face box) for every hand-checked face."""
    for name, boxes in sorted(expected_faces.items()):
        rgb = cv2.cvtColor(cv2.imread(str(photos_dir / name)), cv2.COLOR_BGR2RGB)
        for box in boxes:
            yield name, rgb, box


def _unclipped_region(warp: FaceWarp) -> tuple[int, int, int, int]:
    s = warp.size
    corners = _apply(warp.inverse, np.array([[0, 0], [s, 0], [0, s], [s, s]], dtype=np.float64))
    (x0, y0), (x1, y1) = np.floor(corners.min(axis=0)).astype(int), np.ceil(corners.max(axis=0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


def _blob(width: int, height: int, centre: tuple[float, float], sigma: float) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.exp(-((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / (2 * sigma**2)).astype(np.float32)


def _centroid(image: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    total = image.sum()
    return np.array([(xs * image).sum() / total, (ys * image).sum() / total])


@pytest.mark.parametrize("size", [ALIGNED_SIZE, 256])
def test_warp_maps_landmarks_of_a_similar_face_exactly_onto_the_template(size: int) -> None:
    image_to_template = _similarity(-17.0, 2.7, (31.0, -12.5))
    template = FFHQ_TEMPLATE_512 * size / ALIGNED_SIZE
    landmarks = _apply(cv2.invertAffineTransform(image_to_template), template)

    warp = estimate_warp(landmarks, size)

    assert warp.size == size
    np.testing.assert_allclose(_apply(warp.matrix, landmarks), template, atol=1e-9)
    np.testing.assert_allclose(warp.matrix, image_to_template, atol=1e-9)
    assert warp.scale == pytest.approx(2.7)


def test_warp_of_real_landmarks_is_the_least_squares_similarity() -> None:
    landmarks = np.array(landmarks_from_box((100, 80, 190, 200))) + np.array(
        [[1.5, -2.0], [-1.0, 0.5], [2.5, 1.0], [-0.5, -1.5], [0.0, 2.0]]
    )
    warp = estimate_warp(landmarks)

    def residual(m: np.ndarray) -> float:
        return float(((_apply(m, landmarks) - FFHQ_TEMPLATE_512) ** 2).sum())

    best = residual(warp.matrix)
    assert best > 0  # these landmarks are not an exact similarity of the template
    rng = np.random.default_rng(0)
    for _ in range(50):  # any other similarity fits worse
        a, b = warp.matrix[0, 0] + rng.normal(0, 0.01), warp.matrix[1, 0] + rng.normal(0, 0.01)
        t = warp.matrix[:, 2] + rng.normal(0, 0.5, 2)
        assert residual(np.array([[a, -b, t[0]], [b, a, t[1]]])) > best
    # Same landmarks, same warp, bit for bit.
    assert np.array_equal(estimate_warp(landmarks).matrix, warp.matrix)


def test_degenerate_landmarks_are_refused() -> None:
    with pytest.raises(ValueError, match="degenerate"):
        estimate_warp(np.full((5, 2), 40.0))


@pytest.mark.parametrize("angle", [0.0, 25.0])
def test_face_round_trips_through_crop_and_to_region(photos_dir, expected_faces, angle: float) -> None:
    for name, rgb, box in _photo_faces(photos_dir, expected_faces):
        height, width = rgb.shape[:2]
        warp = estimate_warp(_rotated(np.array(landmarks_from_box(box)), angle))
        aligned = warp.crop(rgb)
        assert aligned.shape == (ALIGNED_SIZE, ALIGNED_SIZE, 3)
        region = warp.region(width, height)
        back = warp.to_region(aligned, region)
        x0, y0, x1, y1 = region
        assert back.shape == (y1 - y0, x1 - x0, 3)
        bx0, by0, bx1, by1 = (round(v) for v in box)
        assert x0 <= bx0 and y0 <= by0 and bx1 <= x1 and by1 <= y1
        face_back = back[by0 - y0 : by1 - y0, bx0 - x0 : bx1 - x0]
        assert psnr(face_back, rgb[by0:by1, bx0:bx1]) >= 40, (name, box, angle)


@pytest.mark.parametrize(
    ("face_scale", "shift", "size", "blob"),
    [
        (2.3, (-350.7, -260.2), (600, 450), 2.0),  # a small face, enlarged
        (0.3, (-80.3, -40.9), (2400, 2000), 12.0),  # a face 3.3x the template, shrunk first
    ],
)
def test_aligned_crop_puts_the_landmarks_on_the_template(
    face_scale: float, shift: tuple[float, float], size: tuple[int, int], blob: float
) -> None:
    # Bright dots at five landmarks of a tilted face: after the crop they sit on the template points.
    width, height = size
    landmarks = _similar_landmarks(20.0, face_scale, shift)
    assert (landmarks > 0).all() and (landmarks[:, 0] < width).all() and (landmarks[:, 1] < height).all()
    image = sum(_blob(width, height, tuple(p), blob) for p in landmarks)
    aligned = estimate_warp(landmarks).crop(image)
    for point in FFHQ_TEMPLATE_512:
        x, y = np.round(point).astype(int)
        window = aligned[y - 12 : y + 13, x - 12 : x + 13]
        found = _centroid(window) + (x - 12, y - 12)
        np.testing.assert_allclose(found, point, atol=0.15)


def test_a_large_face_is_averaged_down_without_aliasing() -> None:
    # A face 4x the template over one-pixel stripes: averaged, they are a flat mid grey; point
    # sampling would turn them into coarse false stripes of full contrast.
    landmarks = _similar_landmarks(10.0, 0.25, (-100.0, -60.0))
    stripes = np.zeros((2600, 2600), np.float32)
    stripes[:, ::2] = 1.0
    aligned = estimate_warp(landmarks).crop(stripes)
    inner = aligned[32:-32, 32:-32]
    assert abs(float(inner.mean()) - 0.5) < 0.01
    assert float(inner.std()) < 0.03  # measured 0.0000; the warp alone gave 0.29


def test_region_covers_the_aligned_square_and_is_clipped_to_the_image() -> None:
    width, height = 400, 300
    inside = estimate_warp(np.array(landmarks_from_box((150, 100, 230, 200))))
    x0, y0, x1, y1 = _unclipped_region(inside)
    assert x0 > 0 and y0 > 0 and x1 < width and y1 < height
    assert inside.region(width, height, pad=0) == (x0, y0, x1, y1)
    assert inside.region(width, height, pad=3) == (x0 - 3, y0 - 3, x1 + 3, y1 + 3)

    corner_face = estimate_warp(np.array(landmarks_from_box((-40, 250, 60, 380))))
    x0, y0, x1, y1 = _unclipped_region(corner_face)
    assert x0 < 0 and y1 > height
    assert corner_face.region(width, height, pad=0) == (0, y0, x1, height)

    outside = estimate_warp(np.array(landmarks_from_box((900, 700, 1000, 820))))
    ox0, oy0, ox1, oy1 = outside.region(width, height)
    assert ox0 == ox1 or oy0 == oy1
    empty = outside.to_region(np.ones((ALIGNED_SIZE, ALIGNED_SIZE, 3), np.float32), (ox0, oy0, ox1, oy1))
    assert empty.shape == (oy1 - oy0, ox1 - ox0, 3) and empty.size == 0


def test_to_region_places_the_face_at_its_image_position() -> None:
    landmarks = _similar_landmarks(-8.0, 3.1, (-420.4, -390.8))
    warp = estimate_warp(landmarks)
    aligned = np.zeros((ALIGNED_SIZE, ALIGNED_SIZE), np.float32)
    aligned += _blob(ALIGNED_SIZE, ALIGNED_SIZE, tuple(FFHQ_TEMPLATE_512[2]), 6.0)  # a dot on the nose
    region = warp.region(400, 300)
    back = warp.to_region(aligned, region)
    found = _centroid(back) + region[:2]
    np.testing.assert_allclose(found, landmarks[2], atol=0.1)
    # Outside the aligned square nothing is drawn.
    coverage = warp.to_region(np.ones((ALIGNED_SIZE, ALIGNED_SIZE), np.float32), region)
    assert coverage[0, 0] == 0 and coverage[-1, -1] == 0


@pytest.mark.parametrize(("origin", "scale"), [((0, 0), 4.0), ((0, 0), 2.5), ((37, 21), 3.0), ((52, 40), 0.5)])
def test_for_canvas_agrees_with_an_opencv_resized_canvas(origin: tuple[int, int], scale: float) -> None:
    # A canvas is the image from ``origin`` resized by ``scale`` (the output upscale, a preview
    # viewport): the same face must come out of the canvas through the canvas warp.
    landmarks = _similar_landmarks(12.0, 2.6, (-300.3, -320.9))
    assert (landmarks > (60, 50)).all() and (landmarks < (400, 360)).all()
    image = sum(_blob(400, 360, tuple(p), 2.0) for p in landmarks)
    warp = estimate_warp(landmarks)
    crop = image[origin[1] :, origin[0] :]
    size = (round(crop.shape[1] * scale), round(crop.shape[0] * scale))
    canvas = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)

    from_image = warp.crop(image)
    from_canvas = warp.for_canvas(origin, scale).crop(canvas)

    for point in FFHQ_TEMPLATE_512:
        x, y = np.round(point).astype(int)
        a, b = (_centroid(c[y - 20 : y + 21, x - 20 : x + 21]) for c in (from_image, from_canvas))
        np.testing.assert_allclose(b, a, atol=0.1)
    assert psnr(from_canvas * 255, from_image * 255) >= 40


def test_scaled_is_the_canvas_of_the_whole_image() -> None:
    warp = estimate_warp(np.array(landmarks_from_box((100, 80, 190, 200))))
    for factor in (1.0, 2.0, 3.7):
        assert np.array_equal(warp.scaled(factor).matrix, warp.for_canvas((0, 0), factor).matrix)
    assert np.array_equal(warp.scaled(1.0).matrix, warp.matrix)
    assert warp.scaled(4.0).scale == pytest.approx(warp.scale / 4)
    # The region grows with the canvas.
    x0, y0, x1, y1 = warp.region(10_000, 10_000, pad=0)
    sx0, sy0, sx1, sy1 = warp.scaled(4.0).region(40_000, 40_000, pad=0)
    assert abs(sx0 - 4 * x0) <= 6 and abs(sx1 - 4 * x1) <= 6 and abs(sy0 - 4 * y0) <= 6 and abs(sy1 - 4 * y1) <= 6


def test_face_warp_is_immutable() -> None:
    warp = FaceWarp(np.eye(2, 3))
    with pytest.raises(AttributeError):
        warp.size = 256  # type: ignore[misc]
