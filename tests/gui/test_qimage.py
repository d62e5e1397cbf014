"""numpy <-> QImage: copies owned, strides and row padding handled."""

from __future__ import annotations

import numpy as np
import pytest

from app.qimage import qimage_to_rgb8, rgb8_to_qimage


def test_round_trip_with_padding_and_strides() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)  # 15 bytes a row: Qt pads rows to 16
    image = rgb8_to_qimage(rgb[:, ::-1])  # a negative-stride view
    assert image.bytesPerLine() == 16
    assert np.array_equal(qimage_to_rgb8(image), rgb[:, ::-1])
    assert image.pixelColor(0, 0).getRgb()[:3] == tuple(int(v) for v in rgb[0, -1])


def test_copies_are_owned() -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    image = rgb8_to_qimage(rgb)
    rgb[:] = 255
    assert image.pixelColor(1, 1).getRgb()[:3] == (0, 0, 0)
    back = qimage_to_rgb8(image)
    back[:] = 9
    assert image.pixelColor(1, 1).getRgb()[:3] == (0, 0, 0)


def test_grey_is_spread_to_three_channels_and_wrong_types_refused() -> None:
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(qimage_to_rgb8(rgb8_to_qimage(grey))[..., 2], grey)
    with pytest.raises(ValueError):
        rgb8_to_qimage(np.zeros((2, 2, 3), np.uint16))
