"""Masks in aligned-face space (size x size float32, 0..1), built once per size and cached.

Coordinates follow the FFHQ template of ``restore_core.align`` scaled to ``size``: eyes at
about (193, 240) and (319, 240), mouth at y = 371 on a 512 crop.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..align import ALIGNED_SIZE, FFHQ_TEMPLATE_512

#: Blend mask: a squircle (|u|^4 + |v|^4 = r^4 in crop-centred units, r = 1 touching the crop's
#: sides) at full weight inside ``r <= _BLEND_INNER`` and zero beyond ``_BLEND_OUTER``. The
#: squircle covers the face, hairline and jaw like a square would, without a square's
#: corners; zero before the crop edge means no seam where the warped crop ends.
_BLEND_POWER = 4.0
_BLEND_INNER = 0.70
_BLEND_OUTER = 0.95

#: Skin mask, in 512-template pixels: an ellipse over the face (cheeks, nose, lower
#: forehead, chin) minus the eyes and the mouth, whose colours are not skin.
_SKIN_CENTER = (256.0, 300.0)
_SKIN_AXES = (108.0, 140.0)
_EYE_AXES = (42.0, 26.0)
_MOUTH_AXES = (64.0, 30.0)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in 512-template units, so shapes scale with ``size``."""
    c = (np.arange(size, dtype=np.float64) + 0.5) * (ALIGNED_SIZE / size)
    return c[None, :], c[:, None]


def _soft_ellipse(x: np.ndarray, y: np.ndarray, center: tuple[float, float], axes: tuple[float, float]) -> np.ndarray:
    """1 inside the ellipse, fading to 0 over the outer fifth of its radius."""
    r = np.hypot((x - center[0]) / axes[0], (y - center[1]) / axes[1])
    return _smoothstep((1.0 - r) / 0.2)


def _frozen(mask: np.ndarray) -> np.ndarray:
    out = np.ascontiguousarray(mask, dtype=np.float32)
    out.setflags(write=False)  # cached and shared: nobody may change it
    return out


@lru_cache(maxsize=16)
def face_blend_mask(size: int = ALIGNED_SIZE) -> np.ndarray:
    """Feathered paste-back weight: 1 over the face, 0 at and near the crop's border."""
    x, y = _grid(size)
    u = (x - ALIGNED_SIZE / 2) / (ALIGNED_SIZE / 2)
    v = (y - ALIGNED_SIZE / 2) / (ALIGNED_SIZE / 2)
    r = (np.abs(u) ** _BLEND_POWER + np.abs(v) ** _BLEND_POWER) ** (1.0 / _BLEND_POWER)
    return _frozen(_smoothstep((_BLEND_OUTER - r) / (_BLEND_OUTER - _BLEND_INNER)))


@lru_cache(maxsize=16)
def skin_mask(size: int = ALIGNED_SIZE) -> np.ndarray:
    """Weight of each aligned pixel in skin colour statistics (face centre, no eyes, no mouth)."""
    x, y = _grid(size)
    left_eye, right_eye, _, mouth_left, mouth_right = FFHQ_TEMPLATE_512
    mouth = (float(mouth_left[0] + mouth_right[0]) / 2, float(mouth_left[1] + mouth_right[1]) / 2)
    skin = _soft_ellipse(x, y, _SKIN_CENTER, _SKIN_AXES)
    for center, axes in (
        ((float(left_eye[0]), float(left_eye[1])), _EYE_AXES),
        ((float(right_eye[0]), float(right_eye[1])), _EYE_AXES),
        (mouth, _MOUTH_AXES),
    ):
        skin = skin * (1.0 - _soft_ellipse(x, y, center, axes))
    return _frozen(skin)
