"""The one place where numpy arrays and QImages meet.

Every conversion copies: a QImage returned here owns its pixels (the array may be freed or
changed afterwards) and an array returned here owns its memory (the QImage may go away).
Row padding (QImage rows are 4-byte aligned) and arbitrary numpy strides are handled.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage


def rgb8_to_qimage(rgb: np.ndarray) -> QImage:
    """H x W x 3 (or H x W grey) uint8 -> a QImage (RGB888) that owns a copy of the pixels."""
    if rgb.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {rgb.dtype}")
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected H x W x 3 pixels, got shape {rgb.shape}")
    height, width = rgb.shape[:2]
    image = QImage(width, height, QImage.Format.Format_RGB888)
    if width and height:
        _rows(image)[:, : width * 3] = rgb.reshape(height, width * 3)
    return image


def qimage_to_rgb8(image: QImage) -> np.ndarray:
    """Any QImage -> a new H x W x 3 uint8 array (alpha, if any, composited on black by Qt)."""
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = rgb.width(), rgb.height()
    return _rows(rgb)[:, : width * 3].reshape(height, width, 3).copy()


def _rows(image: QImage) -> np.ndarray:
    """A writable H x bytesPerLine view of the image's own buffer (padding included)."""
    buffer = np.frombuffer(image.bits(), dtype=np.uint8, count=image.sizeInBytes())
    return buffer.reshape(image.height(), image.bytesPerLine())
