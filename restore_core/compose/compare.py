"""Before/after comparison images for export (CLI and app)."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

ComparisonMode = Literal["side_by_side", "split"]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE = (255, 255, 255)
_BLACK = (0, 0, 0)


def _check_rgb8(name: str, image: np.ndarray) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{name} must be H x W x 3 uint8 RGB, got {image.shape} {image.dtype}")


def _label(image: np.ndarray, text: str, x: int, *, align_right: bool = False) -> None:
    """White text with a black outline (legible on any background), near the top at ``x``."""
    height, width = image.shape[:2]
    scale = max(0.5, min(width, height) / 500)
    thickness = max(1, round(scale * 2))
    (text_w, text_h), _ = cv2.getTextSize(text, _FONT, scale, thickness)
    margin = max(4, round(text_h * 0.6))
    left = x - text_w - margin if align_right else x + margin
    origin = (max(0, left), margin + text_h)
    cv2.putText(image, text, origin, _FONT, scale, _BLACK, thickness + max(2, thickness), cv2.LINE_AA)
    cv2.putText(image, text, origin, _FONT, scale, _WHITE, thickness, cv2.LINE_AA)


def comparison_image(
    before_rgb8: np.ndarray,
    after_rgb8: np.ndarray,
    *,
    mode: ComparisonMode = "side_by_side",
    labels: bool = True,
    split: float = 0.5,
) -> np.ndarray:
    """One RGB8 image comparing ``before`` with ``after``.

    ``before`` is resized to ``after``'s size when they differ (an upscaled output).
    side_by_side: before on the left, after on the right. split: the left ``split`` fraction
    from before, the rest from after, with a divider line.
    """
    _check_rgb8("before", before_rgb8)
    _check_rgb8("after", after_rgb8)
    if mode not in ("side_by_side", "split"):
        raise ValueError(f"mode must be side_by_side or split, got {mode!r}")
    height, width = after_rgb8.shape[:2]
    if before_rgb8.shape[:2] != (height, width):
        before_rgb8 = cv2.resize(before_rgb8, (width, height), interpolation=cv2.INTER_LANCZOS4)
    if mode == "side_by_side":
        out = np.concatenate([before_rgb8, after_rgb8], axis=1)
        if labels:
            _label(out, "Before", 0)
            _label(out, "After", width)
        return out
    cut = round(np.clip(split, 0.0, 1.0) * width)
    out = after_rgb8.copy()
    out[:, :cut] = before_rgb8[:, :cut]
    line = max(2, width // 300)
    cv2.line(out, (cut, 0), (cut, height - 1), _BLACK, line + 2)
    cv2.line(out, (cut, 0), (cut, height - 1), _WHITE, line)
    if labels:
        _label(out, "Before", 0)
        _label(out, "After", width, align_right=True)
    return out
