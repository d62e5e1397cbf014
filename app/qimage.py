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


#: the mask overlay's tint and its opacity where a face is blended in fully
MASK_TINT = (255, 40, 200)
MASK_OPACITY = 0.55


def mask_to_qimage(weight: np.ndarray) -> QImage:
    """A float 0..1 H x W blend weight -> a tinted, translucent overlay (RGBA8888 that owns its pixels)."""
    height, width = weight.shape
    rgba = np.empty((height, width, 4), np.uint8)
    rgba[..., :3] = MASK_TINT
    rgba[..., 3] = np.clip(weight * (MASK_OPACITY * 255) + 0.5, 0, 255).astype(np.uint8)
    image = QImage(width, height, QImage.Format.Format_RGBA8888)
    if width and height:
        _rows(image)[:, : width * 4] = rgba.reshape(height, width * 4)
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
