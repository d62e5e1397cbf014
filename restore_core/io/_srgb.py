"""The sRGB transfer function (IEC 61966-2-1), in float32."""

from __future__ import annotations

import numpy as np


def decode(v: np.ndarray) -> np.ndarray:
    """Encoded sRGB in 0..1 -> linear light."""
    v = np.asarray(v, dtype=np.float32)
    return np.where(
        v <= 0.04045,
        v / np.float32(12.92),
        ((np.maximum(v, 0.04045) + np.float32(0.055)) / np.float32(1.055)) ** np.float32(2.4),
    )


def encode(linear: np.ndarray) -> np.ndarray:
    """Linear light in 0..1 -> encoded sRGB."""
    x = np.asarray(linear, dtype=np.float32)
    return np.where(
        x <= 0.0031308,
        x * np.float32(12.92),
        np.float32(1.055) * np.maximum(x, 0.0031308) ** np.float32(1 / 2.4) - np.float32(0.055),
    )
