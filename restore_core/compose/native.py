"""Native pixel units: full white per dtype, and float results back to the image's dtype."""

from __future__ import annotations

import numpy as np


def native_max_of(dtype: np.dtype) -> float:
    """Full white in an image dtype's units: 255, 65535, or 1.0 for float."""
    dtype = np.dtype(dtype)
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def to_dtype(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float values in native units -> ``dtype``, rounded and clipped for integer types."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        values = np.rint(values)
        np.clip(values, info.min, info.max, out=values)
    return values.astype(dtype)
