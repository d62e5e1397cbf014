"""Pre-conditioning of the aligned face before the model: blur and seeded noise.

Blurring and adding noise makes a generative model lean more on its learned prior. For
models without a fidelity input (GFPGAN and most others) this is how ``creativity`` acts:
0 leaves the input as it is, 1 applies ``MAX_CREATIVE_BLUR`` and ``MAX_CREATIVE_NOISE``.
The user's own ``precondition`` settings add on top, for every model.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..params import FaceSettings

MAX_CREATIVE_BLUR = 1.6  # Gaussian sigma in aligned (512 px) face pixels at creativity 1
MAX_CREATIVE_NOISE = 0.04  # noise sigma in 0..1 units at creativity 1


@dataclass(frozen=True)
class Preconditioning:
    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    noise_seed: int = 1

    @property
    def is_identity(self) -> bool:
        return self.blur_sigma <= 0 and self.noise_sigma <= 0

    def key(self) -> tuple[float, float, int]:
        """Cache key: rounded so that float noise in slider values does not defeat the cache."""
        if self.is_identity:
            return (0.0, 0.0, 0)
        return (round(self.blur_sigma, 4), round(self.noise_sigma, 5), self.noise_seed if self.noise_sigma > 0 else 0)

    def apply(self, faces: np.ndarray) -> np.ndarray:
        """``faces``: N x H x W x 3 float32 in 0..1; returns a new array (input untouched)."""
        if self.is_identity:
            return faces
        out = np.empty_like(faces)
        for i, face in enumerate(faces):
            out[i] = cv2.GaussianBlur(face, (0, 0), self.blur_sigma) if self.blur_sigma > 0 else face
        if self.noise_sigma > 0:
            # One generator per call, seeded: the same face and settings give the same pixels.
            rng = np.random.default_rng(self.noise_seed)
            out += rng.standard_normal(out.shape[1:], dtype=np.float32) * np.float32(self.noise_sigma)
        return np.clip(out, 0.0, 1.0, out=out)


def preconditioning_for(face: FaceSettings, creativity_by_preconditioning: bool) -> Preconditioning:
    """What to apply before a model, from the user's settings and the model's kind
    (``FaceRestorer.creativity_by_preconditioning``)."""
    blur = face.blur_sigma if face.precondition else 0.0
    noise = face.noise_sigma if face.precondition else 0.0
    if creativity_by_preconditioning:
        blur += MAX_CREATIVE_BLUR * face.creativity
        noise += MAX_CREATIVE_NOISE * face.creativity
    return Preconditioning(blur, noise, face.noise_seed)
