"""Which detected faces are kept (size limits, centre face) and in what order."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..faces import DetectedFace
from ..params import DetectionSettings


def sort_faces(faces: Iterable[DetectedFace]) -> list[DetectedFace]:
    """Left to right by box centre x, ties top to bottom: the order face indices refer to."""
    return sorted(faces, key=lambda f: (f.center[0], f.center[1]))


def prominence(face: DetectedFace, image_size: tuple[int, int]) -> float:
    """Face size weighted by closeness to the image centre: size x (1 - d), where d is the
    distance of the face centre from the image centre over half the image diagonal."""
    width, height = image_size
    cx, cy = face.center
    distance = math.hypot(cx - width / 2, cy - height / 2) / (math.hypot(width, height) / 2)
    return face.size * max(0.0, 1.0 - distance)


def select_faces(
    faces: Iterable[DetectedFace], settings: DetectionSettings, image_size: tuple[int, int]
) -> list[DetectedFace]:
    """The faces ``settings`` keep, sorted by ``sort_faces``.

    ``min_face`` / ``max_face`` (0 = no limit) bound ``DetectedFace.size`` (the larger box
    side, in pixels); ``only_center_face`` then keeps only the face of highest ``prominence``.
    ``image_size`` is (width, height).
    """
    kept = [f for f in faces if f.size >= settings.min_face and (settings.max_face == 0 or f.size <= settings.max_face)]
    if settings.only_center_face and kept:
        kept = [max(kept, key=lambda f: prominence(f, image_size))]
    return sort_faces(kept)
