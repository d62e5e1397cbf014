"""Conversions between the stored pixels and the 8-bit sRGB working space of the models.

One ``Converter`` per image, built from its dtype, channel count and ICC profile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Converter:
    dtype: np.dtype
    channels: int
    native_max: float

    @classmethod
    def for_image(cls, dtype: np.dtype, channels: int, icc_profile: bytes | None) -> Converter:
        native_max = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(np.dtype(dtype), 1.0)
        return cls(np.dtype(dtype), channels, native_max)

    def to_working_rgb8(self, pixels: np.ndarray) -> np.ndarray:
        if pixels.dtype == np.uint8:
            rgb = pixels
        elif pixels.dtype == np.uint16:
            rgb = ((pixels.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        else:
            rgb = (np.clip(pixels, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if self.channels == 1:
            rgb = np.repeat(rgb, 3, axis=2)
        return np.ascontiguousarray(rgb)

    def to_native(self, rgb: np.ndarray) -> np.ndarray:
        out = rgb.astype(np.float32, copy=False)
        if self.channels == 1:
            out = (out @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[..., None]
        return out * np.float32(self.native_max)
