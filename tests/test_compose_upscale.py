"""Background upscale: Lanczos in native dtypes, and a super-resolution model run in tiles."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from restore_core.compose import upscale_image


class NearestX2:
    """Stand-in for a x2 super-resolution model: pixel repeat. Records the tiles it saw."""

    def __init__(self) -> None:
        self.tiles: list[tuple[int, ...]] = []

    def __call__(self, tile: np.ndarray) -> np.ndarray:
        assert tile.dtype == np.float32 and tile.ndim == 3 and tile.shape[2] == 3
        assert tile.min() >= 0.0 and tile.max() <= 1.0
        self.tiles.append(tile.shape)
        return np.repeat(np.repeat(tile, 2, axis=0), 2, axis=1)


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    rng = np.random.default_rng(0)
    return cv2.GaussianBlur(rng.integers(0, 256, (150, 210, 3), dtype=np.uint8), (0, 0), 1.5)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
@pytest.mark.parametrize("channels", [None, 1, 3])
def test_lanczos_keeps_dtype_and_layout(dtype, channels, photo) -> None:
    scale = {np.uint8: 1, np.uint16: 257, np.float32: 1 / 255}[dtype]
    image = (photo.astype(np.float64) * scale).astype(dtype)
    image = image[..., 0] if channels is None else image[..., :channels]
    out = upscale_image(image, 420, 300)
    assert out.dtype == dtype
    assert out.shape == (300, 420, *image.shape[2:])
    # Close to OpenCV's own float Lanczos (the reference for the filter itself).
    expected = cv2.resize(image.astype(np.float32), (420, 300), interpolation=cv2.INTER_LANCZOS4)
    assert np.abs(out.astype(np.float32).reshape(expected.shape) - expected).max() <= max(1.0, 1e-5)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_lanczos_does_not_wrap_around_at_hard_edges(dtype) -> None:
    top = np.iinfo(dtype).max
    board = np.kron(np.indices((8, 8)).sum(axis=0) % 2, np.ones((4, 4))).astype(dtype) * top
    out = upscale_image(board[..., None], 96, 96)
    # Overshoot is clipped, never wrapped: the float result clipped to the range, to rounding.
    big = cv2.resize(board.astype(np.float32), (96, 96), interpolation=cv2.INTER_LANCZOS4)
    assert big.max() > top and big.min() < 0
    assert out.shape == (96, 96, 1) and out.min() == 0 and out.max() == top
    assert np.abs(out[..., 0].astype(np.float64) - np.clip(big, 0, top)).max() <= 1


def test_a_smaller_output_is_area_averaged(photo) -> None:
    out = upscale_image(photo, 70, 50)
    assert np.array_equal(out, cv2.resize(photo, (70, 50), interpolation=cv2.INTER_AREA))


def test_float_keeps_highlights_but_not_negative_values() -> None:
    image = np.zeros((20, 20, 3), dtype=np.float32)
    image[8:12, 8:12] = 4.0  # an HDR highlight, with Lanczos undershoot around it
    out = upscale_image(image, 50, 50)
    assert out.max() > 3.5 and out.min() == 0.0


@pytest.mark.parametrize("size", [(420, 300), (630, 450), (315, 225), (500, 357)])
def test_tiled_model_matches_one_big_tile(size, photo) -> None:
    model = NearestX2()
    tiled = upscale_image(photo, *size, model=model, tile=64, overlap=16)
    assert len(model.tiles) == 12  # 3 x 4 tiles of 64 (+ context)
    assert max(h for h, _, _ in model.tiles) <= 64 + 2 * 16
    whole = upscale_image(photo, *size, model=NearestX2(), tile=2048)
    assert tiled.shape == (size[1], size[0], 3) and tiled.dtype == np.uint8
    difference = np.abs(tiled.astype(int) - whole)
    assert difference.max() <= 2 and np.mean(difference == 0) > 0.99


def test_model_output_at_its_own_scale_is_the_model_output(photo) -> None:
    out = upscale_image(photo, 420, 300, model=NearestX2(), tile=50, overlap=8)
    assert np.array_equal(out, np.repeat(np.repeat(photo, 2, axis=0), 2, axis=1))


def test_model_upscale_of_grey_and_hdr_images(photo) -> None:
    grey = photo[..., :1].astype(np.uint16) * 257
    out = upscale_image(grey, 420, 300, model=NearestX2(), tile=64)
    assert out.shape == (300, 420, 1) and out.dtype == np.uint16
    assert np.array_equal(out[::2, ::2], grey)
    hdr = photo.astype(np.float32) / 255 * 3  # values up to 3: beyond what the model sees
    out = upscale_image(hdr, 420, 300, model=NearestX2(), tile=64)
    # The part above 1 comes back through Lanczos: highlights survive, the mean is kept.
    assert hdr.max() > 2 and out.max() > 0.97 * hdr.max()
    assert abs(float(out.mean()) - float(hdr.mean())) < 0.005


def test_model_with_a_broken_scale_is_refused(photo) -> None:
    with pytest.raises(ValueError, match="integer multiple"):
        upscale_image(photo, 420, 300, model=lambda tile: tile[:-1])
    with pytest.raises(ValueError, match="positive"):
        upscale_image(photo, 0, 300)
