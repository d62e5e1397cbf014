"""Which face a restored face's colour is matched to: its paired reference's, else its own original's."""

from __future__ import annotations

import numpy as np

from .. import compose
from .faces import ReferenceFace


def match_face_color(
    restored: np.ndarray,
    original: np.ndarray,
    reference: ReferenceFace | None = None,
    *,
    skin: np.ndarray | None = None,
    reference_skin: np.ndarray | None = None,
) -> np.ndarray:
    """``restored`` with its skin's low-frequency Lab mean and spread moved to the target face's.

    Without a reference the target is ``original``, the face as it is in the photo. With one,
    the colour (a*, b*) comes from ``reference``'s aligned face (a sharper photo of the person
    shows their real skin colour) and the lightness (L*) still from ``original``: the
    reference was lit differently, and the face must sit in this photo's light.
    ``restored`` and ``original`` are aligned 512 x 512 x 3 float32 0..1.

    ``skin`` weights the statistics of ``restored`` and ``original`` (the parsed skin of the
    photo's face), ``reference_skin`` those of the reference's face; each defaults to the
    template's ``compose.skin_mask``.
    """
    template = compose.skin_mask(restored.shape[0])
    mask = template if skin is None else skin
    if reference is None:
        return compose.match_color(restored, original, mask)
    return compose.match_color(
        restored,
        reference.rgb,
        mask,
        lightness_reference=original,
        reference_mask=template if reference_skin is None else reference_skin,
    )
