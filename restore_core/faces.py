"""Detected faces as they cross module boundaries (detection -> selection -> reports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Landmark order used everywhere: left eye, right eye, nose tip, left mouth corner,
#: right mouth corner ("left" = image left), as RetinaFace and the FFHQ template use it.
LANDMARK_NAMES = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")


@dataclass(frozen=True)
class DetectedFace:
    """One face in upright original-image pixel coordinates."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2
    score: float
    landmarks: tuple[tuple[float, float], ...]  # five (x, y) points, LANDMARK_NAMES order

    def __post_init__(self) -> None:
        if len(self.box) != 4:
            raise ValueError(f"a face box has 4 numbers (x1, y1, x2, y2), got {len(self.box)}")
        if len(self.landmarks) != 5 or any(len(p) != 2 for p in self.landmarks):
            raise ValueError("a face has exactly five (x, y) landmarks")

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def size(self) -> float:
        """Side of the face box: the larger of width and height, in pixels."""
        return max(self.width, self.height)

    @property
    def center(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    def landmarks_array(self) -> np.ndarray:
        return np.asarray(self.landmarks, dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        return {
            "box": [round(float(v), 2) for v in self.box],
            "score": round(float(self.score), 4),
            "landmarks": [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DetectedFace:
        box = tuple(float(v) for v in data["box"])
        landmarks = data.get("landmarks")
        if landmarks is None:
            landmarks = landmarks_from_box(box)
        return cls(
            box=box,  # type: ignore[arg-type]
            score=float(data.get("score", 1.0)),
            landmarks=tuple((float(x), float(y)) for x, y in landmarks),
        )


def landmarks_from_box(box: tuple[float, ...]) -> tuple[tuple[float, float], ...]:
    """Five landmarks placed where they sit on an average frontal face inside ``box``.

    External boxes often come without landmarks; these proportions are the FFHQ
    template's, measured against RetinaFace boxes, so the alignment stays upright.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    w, h = x2 - x1, y2 - y1
    rel = ((0.31, 0.42), (0.69, 0.42), (0.50, 0.60), (0.35, 0.78), (0.65, 0.78))
    return tuple((x1 + fx * w, y1 + fy * h) for fx, fy in rel)


Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in photo pixels

#: Boxes overlapping at least this much (intersection over union) are taken as the same face.
SAME_FACE_IOU = 0.5


def box_iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def same_face(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return box_iou(a, b) >= SAME_FACE_IOU
