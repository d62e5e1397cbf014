"""``auto`` model choice per face, from its size and sharpness.

CodeFormer's codebook prior copes best with tiny or very blurred faces; GFPGAN keeps more
of the person's own detail when there is detail to keep.
"""

from __future__ import annotations

from collections.abc import Collection

import cv2
import numpy as np

SMALL_FACE_PX = 96  # face box side below which a face counts as small
BLURRY_VARIANCE = 60.0  # Laplacian variance of the aligned face below which it counts as blurred


def sharpness(aligned_rgb8: np.ndarray) -> float:
    """Variance of the Laplacian of the aligned face's grey image, on the central face area."""
    grey = cv2.cvtColor(aligned_rgb8, cv2.COLOR_RGB2GRAY)
    centre = grey[128:384, 128:384]
    return float(cv2.Laplacian(centre, cv2.CV_32F).var())


def choose_model(face_size: float, aligned_rgb8: np.ndarray, installed: Collection[str]) -> str:
    """``gfpgan`` or ``codeformer``, preferring installed ones; ``gfpgan`` when neither is."""
    degraded = face_size < SMALL_FACE_PX or sharpness(aligned_rgb8) < BLURRY_VARIANCE
    preferred, other = ("codeformer", "gfpgan") if degraded else ("gfpgan", "codeformer")
    if preferred in installed:
        return preferred
    if other in installed:
        return other
    return "gfpgan"
