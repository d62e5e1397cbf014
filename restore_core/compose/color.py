"""Colour match of a restored face to a reference face, in its low frequencies only.

Face models drift in colour (greyer, redder, brighter). The restored face's Lab mean and
spread within the skin area are moved to the reference's (the original face, or a paired
reference photo's face). The correction is computed on a small, blurred copy and added back
as a smooth offset, so the detail the model drew is kept. When the restored face equals the
reference the offset is exactly zero, and the face comes back bit for bit.
"""

from __future__ import annotations

import cv2
import numpy as np

from .mask import skin_mask

#: Statistics and the correction are computed at this resolution (fast on every render).
_WORK_SIZE = 64
#: Low-pass of the correction, in work-size pixels (12 px on a 512 face).
_LOWPASS_SIGMA = 1.5
#: Spread ratios above this are capped: a flat restored face must not have noise amplified.
_MAX_SPREAD_RATIO = 2.0
#: Added to both spreads (Lab units) so near-flat channels give a ratio near 1, exactly 1
#: when the spreads are equal.
_SPREAD_EPS = 0.5


def _weighted_stats(lab: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation per Lab channel, weighted; float64 for stable sums."""
    w = weight.astype(np.float64)[..., None]
    total = w.sum()
    mean = (lab * w).sum(axis=(0, 1)) / total
    var = (((lab - mean) ** 2) * w).sum(axis=(0, 1)) / total
    return mean, np.sqrt(var)


def match_color(
    restored: np.ndarray,
    reference: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    lightness_reference: np.ndarray | None = None,
    reference_mask: np.ndarray | None = None,
) -> np.ndarray:
    """``restored`` with its low-frequency Lab mean and spread (in ``mask``) matched to ``reference``.

    All faces are aligned, h x w x 3 float32 sRGB in 0..1; ``mask`` (h x w, default
    ``skin_mask``) weights the statistics. With ``lightness_reference``, L* is matched to that
    face instead and only a*, b* to ``reference``. ``reference_mask`` weights the reference's
    statistics when its skin lies elsewhere (another photo of the person); default ``mask``.
    Returns a new array; ``restored`` is not changed.
    """
    for other in (reference, lightness_reference):
        if other is not None and (restored.shape != other.shape or restored.ndim != 3 or restored.shape[2] != 3):
            raise ValueError(f"faces must be h x w x 3 of one shape, got {restored.shape} and {other.shape}")
    height, width = restored.shape[:2]
    if mask is None:
        mask = skin_mask(width)
    work = (_WORK_SIZE, _WORK_SIZE)
    weight = cv2.resize(mask, work, interpolation=cv2.INTER_AREA)
    weight_ref = weight if reference_mask is None else cv2.resize(reference_mask, work, interpolation=cv2.INTER_AREA)
    if float(weight.sum()) <= 0 or float(weight_ref.sum()) <= 0:
        return restored.copy()
    small = cv2.resize(restored, work, interpolation=cv2.INTER_AREA)
    small_ref = cv2.resize(reference, work, interpolation=cv2.INTER_AREA)
    mean, spread = _weighted_stats(cv2.cvtColor(small, cv2.COLOR_RGB2Lab), weight)
    mean_ref, spread_ref = _weighted_stats(cv2.cvtColor(small_ref, cv2.COLOR_RGB2Lab), weight_ref)
    if lightness_reference is not None:
        small_light = cv2.resize(lightness_reference, work, interpolation=cv2.INTER_AREA)
        mean_light, spread_light = _weighted_stats(cv2.cvtColor(small_light, cv2.COLOR_RGB2Lab), weight)
        mean_ref[0], spread_ref[0] = mean_light[0], spread_light[0]
    ratio = np.minimum((spread_ref + _SPREAD_EPS) / (spread + _SPREAD_EPS), _MAX_SPREAD_RATIO)

    low_lab = cv2.cvtColor(cv2.GaussianBlur(small, (0, 0), _LOWPASS_SIGMA), cv2.COLOR_RGB2Lab)
    # Written so equal statistics give a shift of exactly 0 (ratio - 1 == 0, mean - mean == 0).
    shift = ((low_lab - mean) * (ratio - 1.0) + (mean_ref - mean)).astype(np.float32)
    # Both sides go through the same conversion, so a zero shift gives a zero offset.
    offset = cv2.cvtColor(low_lab + shift, cv2.COLOR_Lab2RGB) - cv2.cvtColor(low_lab, cv2.COLOR_Lab2RGB)
    # The upsampled offset becomes the result: one full-size array, no temporaries.
    out = cv2.resize(offset, (width, height), interpolation=cv2.INTER_LINEAR)
    np.add(out, restored, out=out)
    return np.clip(out, 0.0, 1.0, out=out)
