"""Paths to the shared test data and small numeric helpers, importable by any test module."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACEMEND_SHARED", REPO.parent / "shared")) / "testdata"
DETECTOR_WEIGHTS = SHARED / "weights" / "retinaface_mobilenet0.25.pth"
PHOTOS = SHARED / "photos"


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB; infinite for identical arrays."""
    mse = float(np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak**2 / mse)
