"""``auto`` model choice per face, from its size and sharpness.

Codebook priors (CodeFormer, RestoreFormer) cope best with tiny or very blurred faces; detail
priors (GFPGAN) keep more of the person's own detail when there is detail to keep. Each face
model's prior is in the registry (``ModelSpec.prior``); among equals the registry order decides.
"""

from __future__ import annotations

from collections.abc import Collection

import cv2
import numpy as np

from ..models.registry import DEFAULT_FACE_MODEL, MODELS, face_models

SMALL_FACE_PX = 96  # face box side below which a face counts as small
BLURRY_VARIANCE = 60.0  # Laplacian variance of the aligned face below which it counts as blurred


def sharpness(aligned_rgb8: np.ndarray) -> float:
    """Variance of the Laplacian of the aligned face's grey image, on the central face area."""
    grey = cv2.cvtColor(aligned_rgb8, cv2.COLOR_RGB2GRAY)
    centre = grey[128:384, 128:384]
    return float(cv2.Laplacian(centre, cv2.CV_32F).var())


def choose_model(face_size: float, aligned_rgb8: np.ndarray, installed: Collection[str]) -> str:
    """The first of the ``installed`` (usable) face models whose prior suits the face, else the
    first installed one; ``DEFAULT_FACE_MODEL`` when none is."""
    degraded = face_size < SMALL_FACE_PX or sharpness(aligned_rgb8) < BLURRY_VARIANCE
    wanted = "codebook" if degraded else "detail"
    candidates = [name for name in face_models() if name in installed]
    # sorted() is stable: within each group the registry order stays.
    ranked = sorted(candidates, key=lambda name: MODELS[name].prior != wanted)
    return ranked[0] if ranked else DEFAULT_FACE_MODEL
