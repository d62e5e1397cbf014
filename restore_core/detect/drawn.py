"""The user's corrections to a detection: faces drawn by hand where the detector found none,
and detected faces removed because they are not faces (``DetectionSettings.added/removed``).

A drawn box says where the face is, not where its eyes are; alignment needs landmarks. So the
detector looks again inside the box, closely (the crop enlarged to ``LOOK_SIZE`` pixels) and at
any confidence; its landmarks are used when it finds the face there, and the average face's
(``landmarks_from_box``) when it does not. The box stays the user's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import cv2
import numpy as np

from ..faces import Box, DetectedFace, box_iou, landmarks_from_box, same_face
from ..params import DetectionSettings
from .select import sort_faces

#: a drawn face is looked at again at about this many pixels across (RetinaFace's sweet spot)
LOOK_SIZE = 192
#: context around the box, as a fraction of its side on each edge: the detector needs a little
LOOK_MARGIN = 0.3
#: every candidate, however unsure: the user says a face is there
LOOK_CLOSELY = DetectionSettings(sensitivity=1.0)
#: the found face must sit on the drawn box at least this much to lend its landmarks
MIN_OVERLAP = 0.3
#: a drawn face's detection score: the user's word, not the network's confidence
DRAWN_SCORE = 1.0


class Detector(Protocol):
    def detect(self, rgb8: np.ndarray, settings: DetectionSettings) -> list[DetectedFace]: ...


def corrected_faces(
    found: Sequence[DetectedFace], detection: DetectionSettings, drawn: Callable[[Box], DetectedFace]
) -> list[DetectedFace]:
    """``found`` (the detector's faces for ``detection.for_detector``) with the corrections:
    faces on a removed box go, faces on a drawn box give way to it (the user drew it, perhaps
    before a more sensitive detection found it too), and ``drawn(box)`` joins for each drawn box.
    Sorted as every face list is (``sort_faces``), so indices keep their usual meaning."""
    corrected = (*detection.removed, *detection.added)
    kept = [f for f in found if not any(same_face(f.box, box) for box in corrected)]
    return sort_faces([*kept, *(drawn(box) for box in detection.added)])


def drawn_face(box: Box, rgb8: np.ndarray, detector: Detector) -> DetectedFace:
    """The face the user drew at ``box`` in ``rgb8`` (the photo the detector sees)."""
    landmarks = _landmarks_found(box, rgb8, detector)
    return DetectedFace(box=box, score=DRAWN_SCORE, landmarks=landmarks or landmarks_from_box(box))


def _landmarks_found(box: Box, rgb8: np.ndarray, detector: Detector) -> tuple[tuple[float, float], ...] | None:
    height, width = rgb8.shape[:2]
    x1, y1, x2, y2 = box
    margin = LOOK_MARGIN * max(x2 - x1, y2 - y1)
    left, top = max(0, int(x1 - margin)), max(0, int(y1 - margin))
    right, bottom = min(width, int(np.ceil(x2 + margin))), min(height, int(np.ceil(y2 + margin)))
    if right - left < 2 or bottom - top < 2:
        return None  # the box lies outside the photo
    scale = LOOK_SIZE / max(right - left, bottom - top)
    crop = np.ascontiguousarray(rgb8[top:bottom, left:right])
    size = (max(1, round((right - left) * scale)), max(1, round((bottom - top) * scale)))
    looked = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    sx, sy = size[0] / (right - left), size[1] / (bottom - top)

    def to_photo(x: float, y: float) -> tuple[float, float]:
        return left + x / sx, top + y / sy

    best, best_overlap = None, MIN_OVERLAP
    for face in detector.detect(looked, LOOK_CLOSELY):
        fx1, fy1 = to_photo(face.box[0], face.box[1])
        fx2, fy2 = to_photo(face.box[2], face.box[3])
        overlap = box_iou((fx1, fy1, fx2, fy2), box)
        if overlap >= best_overlap:
            best, best_overlap = face, overlap
    return None if best is None else tuple(to_photo(x, y) for x, y in best.landmarks)
