"""Which face a restored face's colour is matched to: its paired reference's, else its own original's."""

from __future__ import annotations

import numpy as np

from .. import compose
from .faces import ReferenceFace


def match_face_color(restored: np.ndarray, original: np.ndarray, reference: ReferenceFace | None = None) -> np.ndarray:
    """``restored`` with its skin's low-frequency Lab mean and spread moved to the target face's.

    The target is ``reference``'s aligned face when the face is paired with one (a sharper
    photo of the person shows their real skin colour and tone), else ``original``, the face as
    it is in the photo. ``restored`` and ``original`` are aligned 512 x 512 x 3 float32 0..1.
    """
    target = original if reference is None else reference.rgb
    return compose.match_color(restored, target, compose.skin_mask(restored.shape[0]))
